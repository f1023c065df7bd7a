// Package redistokencache is a basiq.TokenCache on Redis, so that a
// fleet of replicas using the same Basiq API key shares one SERVER_ACCESS
// token (and the per-user CLIENT_ACCESS tokens) instead of each replica
// minting its own every hour.
//
// It lives in the module github.com/banklink-go/basiq/contrib/redis, beside
// the SDK's, so that the SDK never depends on Redis:
//
//	rdb := redis.NewClient(&redis.Options{Addr: "redis.internal:6379", Password: pw})
//	cache := redistokencache.New(rdb, redistokencache.WithPrefix("payments:"))
//	client, err := basiq.NewClient(apiKey, basiq.WithTokenCache(cache))
//
// # How replicas share a token
//
// A client consults the cache only when its own copy of a token is missing,
// expiring (by default 5 minutes before expiry) or was rejected by the API.
// Then it takes the cached token if it is still good and newer than its own
// copy, and otherwise mints one with POST /token and stores it here. So when
// replicas come and go, or refresh, the first one to mint a token stores it
// and the others pick it up: the fleet makes about one token request per
// hour. Replicas that miss the cache at the same instant (a cold start of the
// whole fleet) may each mint a token; the last one stored wins, and every
// token minted stays valid until it expires, so this is harmless.
//
// The cache is an optimisation only: the SDK logs the errors Get and Set
// return at warn level and carries on with its own copy or a fresh token, so
// an unreachable Redis never fails an API call. It does make a token refresh
// wait for Redis, so give the Redis client short dial and read timeouts (or
// ContextTimeoutEnabled), and see WithTimeout.
//
// # Security
//
// The stored values are live bearer tokens: anyone who reads one can call the
// Basiq API as your application (SERVER_ACCESS) or as one of your users
// (CLIENT_ACCESS) until it expires, up to an hour. Treat them as secrets:
//   - use a private Redis instance, reachable only by the replicas, with
//     authentication (ACL user or requirepass) and TLS when it crosses a
//     network you do not control;
//   - do not share it with tenants or services that must not call Basiq as you;
//   - never log, print or export the values (MONITOR, keyspace dumps, RDB/AOF
//     backups shipped elsewhere all contain them).
//
// The keys themselves are not secret: the SDK puts a hash of the API key in
// them, never the key.
package redistokencache

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/banklink-go/basiq"
)

// DefaultTimeout bounds each Get and Set unless WithTimeout says otherwise.
const DefaultTimeout = 2 * time.Second

// ErrCorrupt is wrapped by the error Get returns when the value stored under a
// key is not a token this package wrote. The error never quotes the value,
// which may hold a secret.
var ErrCorrupt = errors.New("stored value is not a token")

// Cache is a basiq.TokenCache on Redis. It is safe for concurrent use; share
// one between the clients of a process, and point every replica at the same
// Redis (and prefix) to share tokens across the fleet. Create it with New.
type Cache struct {
	client  redis.UniversalClient
	prefix  string
	timeout time.Duration
}

var _ basiq.TokenCache = (*Cache)(nil)

// Option configures a Cache made by New.
type Option func(*Cache)

// WithPrefix puts prefix in front of every key the SDK asks for, to keep
// applications sharing one Redis apart (for example "payments:"). Replicas
// that should share tokens must use the same prefix. The default is none: the
// SDK's keys already start with "basiq:token:".
func WithPrefix(prefix string) Option {
	return func(c *Cache) { c.prefix = prefix }
}

// WithTimeout bounds each Get and Set to d (default DefaultTimeout), so that a
// Redis that hangs delays a token refresh by at most d before the SDK falls
// back to fetching a token itself. Zero or a negative d means no bound other
// than the caller's context and the Redis client's own timeouts.
//
// go-redis applies a context's deadline to socket reads and writes only when
// the client's options set ContextTimeoutEnabled; otherwise the deadline
// bounds waiting for and dialling a connection, and reads and writes are
// bounded by the client's ReadTimeout and WriteTimeout (5 s by default in
// go-redis v9.22).
func WithTimeout(d time.Duration) Option {
	return func(c *Cache) { c.timeout = d }
}

// New returns a Cache storing tokens through client, which may be a
// *redis.Client, *redis.ClusterClient, *redis.Ring or failover client. The
// Cache does not own client: close it yourself when done.
func New(client redis.UniversalClient, opts ...Option) *Cache {
	c := &Cache{client: client, timeout: DefaultTimeout}
	for _, opt := range opts {
		if opt != nil {
			opt(c)
		}
	}
	return c
}

// storedToken is the JSON stored in Redis: every field of basiq.Token.
type storedToken struct {
	AccessToken string    `json:"access_token"`
	TokenType   string    `json:"token_type"`
	Scope       string    `json:"scope"`
	UserID      string    `json:"user_id,omitempty"`
	Version     string    `json:"version"`
	ExpiresAt   time.Time `json:"expires_at"`
}

// Get returns the token stored under key, with ok=false when there is none
// (or it has expired, which Redis does on its own through the TTL set by Set).
// A Redis failure, or a value that is not a token, is returned as an error
// with ok=false; the SDK logs it and fetches a token instead.
func (c *Cache) Get(ctx context.Context, key string) (basiq.Token, bool, error) {
	if c == nil || c.client == nil {
		return basiq.Token{}, false, errors.New("redistokencache: nil Cache or Redis client")
	}
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	b, err := c.client.Get(ctx, c.prefix+key).Bytes()
	if errors.Is(err, redis.Nil) {
		return basiq.Token{}, false, nil
	}
	if err != nil {
		return basiq.Token{}, false, fmt.Errorf("redistokencache: get %q: %w", c.prefix+key, err)
	}
	var st storedToken
	if err := json.Unmarshal(b, &st); err != nil || st.AccessToken == "" || st.ExpiresAt.IsZero() {
		// Deliberately not wrapping the JSON error: it can quote the value.
		return basiq.Token{}, false, fmt.Errorf("redistokencache: get %q: %w", c.prefix+key, ErrCorrupt)
	}
	return basiq.Token{
		AccessToken: st.AccessToken,
		TokenType:   st.TokenType,
		Scope:       st.Scope,
		UserID:      st.UserID,
		Version:     basiq.APIVersion(st.Version),
		ExpiresAt:   st.ExpiresAt,
	}, true, nil
}

// Set stores tok under key until tok.ExpiresAt (a Redis TTL of
// time.Until(tok.ExpiresAt), to the millisecond), replacing any token stored
// there. A token that is empty or already expired (with less than a
// millisecond left) is not stored, and Set returns nil: there is nothing to
// share.
func (c *Cache) Set(ctx context.Context, key string, tok basiq.Token) error {
	if c == nil || c.client == nil {
		return errors.New("redistokencache: nil Cache or Redis client")
	}
	ttl := time.Until(tok.ExpiresAt).Truncate(time.Millisecond)
	if tok.AccessToken == "" || ttl <= 0 {
		return nil
	}
	b, err := json.Marshal(storedToken{
		AccessToken: tok.AccessToken,
		TokenType:   tok.TokenType,
		Scope:       tok.Scope,
		UserID:      tok.UserID,
		Version:     string(tok.Version),
		ExpiresAt:   tok.ExpiresAt,
	})
	if err != nil { // only for a time outside years 0-9999
		return fmt.Errorf("redistokencache: set %q: cannot encode the token's expiry", c.prefix+key)
	}
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	if err := c.client.Set(ctx, c.prefix+key, b, ttl).Err(); err != nil {
		return fmt.Errorf("redistokencache: set %q: %w", c.prefix+key, err)
	}
	return nil
}

func (c *Cache) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if c.timeout <= 0 {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, c.timeout)
}
