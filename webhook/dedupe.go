package webhook

import (
	"context"
	"time"
)

// Deduper records which webhook-ids are being handled and which were handled,
// so that Handler calls back once per message however often Basiq delivers
// it (Basiq retries until it gets a 2xx, and a 2xx it never received looks to
// it like a failure). One Deduper may be shared by every replica of a
// service (the Redis one in contrib/redis/redisdedupe is), so
// its operations must be atomic across all of them.
//
// The contract, per id:
//
//   - Claim(ctx, id, token, ttl): atomically, if id was completed and not yet
//     forgotten, return Done; else if a claim on id is live (taken less than
//     its ttl ago and neither completed nor released), return InFlight;
//     else record a claim by token that lapses after ttl, and return
//     Claimed. The caller that got Claimed, and only it, handles the
//     message and then calls Complete or Release. Tokens are unique per
//     delivery (Handler makes a random one each time).
//   - Complete(ctx, id, keep): record id as handled for keep, whoever holds
//     the claim (the message was handled, so it is done even if this
//     caller's claim had lapsed meanwhile); Claims within keep return Done.
//   - Release(ctx, id, token): if the claim on id is token's, drop it so
//     that the next delivery is handled afresh. A claim that lapsed and was
//     taken by another token, or an id already completed, is left alone.
//
// A claim's ttl bounds how long a crashed replica can hold an id: after it,
// Basiq's next retry is handled by someone else. Handler uses its callback
// timeout plus a margin, so a claim outlives any callback that respects its
// context.
//
// Errors: a Deduper returns an error when it cannot tell (its store is
// unreachable). Handler then fails closed: it answers 503 without calling
// back, and Basiq retries later (in 5 s, then 5 min, ...). Calling back
// anyway (failing open) would risk handling a message twice exactly when a
// fleet is degraded; retrying costs only latency, and Basiq retries for
// about 27 hours. An error from Complete or Release is logged only: the
// callback has run (or failed) by then, and the claim's ttl cleans up.
type Deduper interface {
	Claim(ctx context.Context, id, token string, ttl time.Duration) (ClaimStatus, error)
	Complete(ctx context.Context, id string, keep time.Duration) error
	Release(ctx context.Context, id, token string) error
}

// ClaimStatus is what Deduper.Claim found.
type ClaimStatus int

// Claim outcomes.
const (
	// Claimed: the caller holds the id and must Complete or Release it.
	Claimed ClaimStatus = iota + 1
	// InFlight: another delivery of the id holds a live claim; Handler
	// answers 409 so that Basiq retries later, when that delivery has either
	// completed (and the retry is dropped) or failed (and the retry handles it).
	InFlight
	// Done: the id was handled; Handler answers 200 without calling back.
	Done
)

// String names the status.
func (s ClaimStatus) String() string {
	switch s {
	case Claimed:
		return "claimed"
	case InFlight:
		return "in-flight"
	case Done:
		return "done"
	}
	return "unknown"
}
