// Package redisdedupe is a webhook.Deduper on Redis, so that a fleet
// of replicas behind one webhook URL calls back once per Basiq message, however
// Basiq's retries land on the replicas.
//
// It lives in the module github.com/banklink-go/basiq/contrib/redis, beside
// the SDK's, so that the SDK never depends on Redis:
//
//	rdb := redis.NewClient(&redis.Options{Addr: "redis.internal:6379", Password: pw})
//	h := webhook.Handler(verifier, onEvent, webhook.WithDeduper(redisdedupe.New(rdb)))
//
// # How it keeps the contract
//
// Each webhook-id is one key (prefix + id). A claim stores "claim:<token>"
// with the claim's ttl, a completion stores "done" with the dedupe window,
// both as Redis TTLs, so Redis forgets them on its own. Claim and Release are
// Lua scripts, which Redis runs atomically: two replicas claiming the same id
// at once cannot both get webhook.Claimed, and a replica whose claim lapsed
// cannot release the claim another replica took since. Complete is a plain
// SET: the message was handled, whoever holds the claim.
//
// Each id is a single key, so it works on Redis Cluster too. Redis's own
// expiry has millisecond precision; a claim or completion may outlive its
// ttl by a little, never fall short of it.
//
// The keys hold only ids and random tokens: nothing secret. A Redis error
// is returned as is (wrapped); the webhook Handler then answers 503 without
// calling back, and Basiq retries.
package redisdedupe

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/banklink-go/basiq/webhook"
)

// Defaults of a Deduper.
const (
	// DefaultPrefix starts every key.
	DefaultPrefix = "basiq:webhook:"
	// DefaultTimeout bounds each Redis call unless WithTimeout says otherwise.
	DefaultTimeout = 2 * time.Second
)

// Stored values.
const (
	doneValue   = "done"
	claimPrefix = "claim:"
)

// claimScript: KEYS[1] the id's key; ARGV[1] "claim:<token>"; ARGV[2] the
// ttl in ms. Returns 0 claimed, 1 in flight, 2 done.
const claimScript = `
local v = redis.call('GET', KEYS[1])
if not v then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 0
end
if v == 'done' then
  return 2
end
return 1
`

// releaseScript: KEYS[1] the id's key; ARGV[1] "claim:<token>". Deletes the
// key only while it still holds that claim; returns how many keys it deleted.
const releaseScript = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`

// Deduper is a webhook.Deduper on Redis, safe for concurrent use and shared
// by every replica pointed at the same Redis and prefix. Create it with New.
type Deduper struct {
	client  redis.UniversalClient
	prefix  string
	timeout time.Duration
	claim   *redis.Script
	release *redis.Script
}

var _ webhook.Deduper = (*Deduper)(nil)

// Option configures a Deduper made by New.
type Option func(*Deduper)

// WithPrefix sets the string in front of every key (default DefaultPrefix),
// to keep applications sharing one Redis apart. Replicas that should dedupe
// together must use the same prefix.
func WithPrefix(prefix string) Option {
	return func(d *Deduper) { d.prefix = prefix }
}

// WithTimeout bounds each Redis call to t (default DefaultTimeout), so that a
// Redis that hangs makes the Handler answer 503 (and Basiq retry) after t
// rather than hold the delivery. Zero or negative means no bound other than
// the caller's context and the Redis client's own timeouts (see the
// redistokencache package's WithTimeout about go-redis and deadlines).
func WithTimeout(t time.Duration) Option {
	return func(d *Deduper) { d.timeout = t }
}

// New returns a Deduper storing claims through client, which may be a
// *redis.Client, *redis.ClusterClient, *redis.Ring or failover client. The
// Deduper does not own client: close it yourself when done.
func New(client redis.UniversalClient, opts ...Option) *Deduper {
	d := &Deduper{
		client:  client,
		prefix:  DefaultPrefix,
		timeout: DefaultTimeout,
		claim:   redis.NewScript(claimScript),
		release: redis.NewScript(releaseScript),
	}
	for _, opt := range opts {
		if opt != nil {
			opt(d)
		}
	}
	return d
}

var errNotReady = errors.New("redisdedupe: nil Deduper or Redis client (use New)")

func (d *Deduper) ready() bool {
	return d != nil && d.client != nil && d.claim != nil && d.release != nil
}

// Claim implements webhook.Deduper.
func (d *Deduper) Claim(ctx context.Context, id, token string, ttl time.Duration) (webhook.ClaimStatus, error) {
	if !d.ready() {
		return 0, errNotReady
	}
	if ttl <= 0 {
		return 0, fmt.Errorf("redisdedupe: claim %q: ttl %s, want > 0", id, ttl)
	}
	ctx, cancel := d.withTimeout(ctx)
	defer cancel()
	n, err := d.claim.Run(ctx, d.client, []string{d.prefix + id}, claimPrefix+token, millis(ttl)).Int()
	if err != nil {
		return 0, fmt.Errorf("redisdedupe: claim %q: %w", id, err)
	}
	switch n {
	case 0:
		return webhook.Claimed, nil
	case 1:
		return webhook.InFlight, nil
	case 2:
		return webhook.Done, nil
	}
	return 0, fmt.Errorf("redisdedupe: claim %q: unexpected script result %d", id, n)
}

// Complete implements webhook.Deduper.
func (d *Deduper) Complete(ctx context.Context, id string, keep time.Duration) error {
	if !d.ready() {
		return errNotReady
	}
	if keep <= 0 {
		return fmt.Errorf("redisdedupe: complete %q: keep %s, want > 0", id, keep)
	}
	ctx, cancel := d.withTimeout(ctx)
	defer cancel()
	if err := d.client.Set(ctx, d.prefix+id, doneValue, time.Duration(millis(keep))*time.Millisecond).Err(); err != nil {
		return fmt.Errorf("redisdedupe: complete %q: %w", id, err)
	}
	return nil
}

// Release implements webhook.Deduper.
func (d *Deduper) Release(ctx context.Context, id, token string) error {
	if !d.ready() {
		return errNotReady
	}
	ctx, cancel := d.withTimeout(ctx)
	defer cancel()
	if err := d.release.Run(ctx, d.client, []string{d.prefix + id}, claimPrefix+token).Err(); err != nil {
		return fmt.Errorf("redisdedupe: release %q: %w", id, err)
	}
	return nil
}

// millis rounds a duration up to whole milliseconds, at least 1, so that
// Redis never keeps a key for less than asked.
func millis(d time.Duration) int64 {
	ms := int64((d + time.Millisecond - 1) / time.Millisecond)
	return max(ms, 1)
}

func (d *Deduper) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if d.timeout <= 0 {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, d.timeout)
}
