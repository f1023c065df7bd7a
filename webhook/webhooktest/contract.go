// Package webhooktest helps test code built on package webhook: a
// conformance test for Deduper implementations and a signed-request builder.
package webhooktest

import (
	"bytes"
	"context"
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/banklink-go/basiq/webhook"
)

// NewRequest returns a POST to target carrying body and the headers Basiq
// would send with it at time at: webhook-id id, webhook-timestamp and a v1
// webhook-signature under secret. It fails the test on a bad secret.
func NewRequest(t testing.TB, secret, target, id string, at time.Time, body []byte) *http.Request {
	t.Helper()
	sig, err := webhook.Sign(secret, id, at, body)
	if err != nil {
		t.Fatalf("webhooktest: %v", err)
	}
	r := httptest.NewRequest(http.MethodPost, target, bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("webhook-id", id)
	r.Header.Set("webhook-timestamp", strconv.FormatInt(at.Unix(), 10))
	r.Header.Set("webhook-signature", sig)
	return r
}

// DeduperContract checks that the Dedupers newDeduper returns keep the
// contract documented on webhook.Deduper: claims exclude each other, release
// only their own claim, lapse after their ttl, completions are remembered for
// their keep and then forgotten, and of many concurrent claims exactly one
// wins. Each subtest gets a fresh Deduper and ids of its own.
//
// Its ttls are 200 ms and it sleeps past them, so it takes about 1 s of
// real time. An in-process Deduper on time.Now can pass InBubble to run each
// subtest in a testing/synctest bubble, where the sleeps take no time.
func DeduperContract(t *testing.T, newDeduper func(t *testing.T) webhook.Deduper, opts ...ContractOption) {
	var cfg contractConfig
	for _, opt := range opts {
		if opt != nil {
			opt(&cfg)
		}
	}
	run := func(name string, body func(t *testing.T)) {
		t.Run(name, func(t *testing.T) {
			if cfg.bubble {
				synctest.Test(t, body)
				return
			}
			body(t)
		})
	}
	const (
		long  = time.Minute
		short = 200 * time.Millisecond
	)
	ctx := context.Background()
	expect := func(t *testing.T, d webhook.Deduper, id, token string, ttl time.Duration, want webhook.ClaimStatus) {
		t.Helper()
		got, err := d.Claim(ctx, id, token, ttl)
		if err != nil {
			t.Fatalf("Claim(%s, %s) error: %v", id, token, err)
		}
		if got != want {
			t.Fatalf("Claim(%s, %s) = %s, want %s", id, token, got, want)
		}
	}
	noErr := func(t *testing.T, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}

	run("claims exclude each other", func(t *testing.T) {
		d, id := newDeduper(t), uniqueID()
		expect(t, d, id, "a", long, webhook.Claimed)
		expect(t, d, id, "b", long, webhook.InFlight)
		expect(t, d, id, "a", long, webhook.InFlight) // a token does not re-enter its own claim
		expect(t, d, uniqueID(), "b", long, webhook.Claimed)
	})
	run("release frees only its own claim", func(t *testing.T) {
		d, id := newDeduper(t), uniqueID()
		expect(t, d, id, "a", long, webhook.Claimed)
		noErr(t, d.Release(ctx, id, "b"))
		expect(t, d, id, "c", long, webhook.InFlight)
		noErr(t, d.Release(ctx, id, "a"))
		expect(t, d, id, "c", long, webhook.Claimed)
		noErr(t, d.Release(ctx, uniqueID(), "x")) // releasing nothing is fine
	})
	run("complete is remembered", func(t *testing.T) {
		d, id := newDeduper(t), uniqueID()
		expect(t, d, id, "a", long, webhook.Claimed)
		noErr(t, d.Complete(ctx, id, long))
		expect(t, d, id, "b", long, webhook.Done)
		noErr(t, d.Release(ctx, id, "a")) // a late release does not undo it
		expect(t, d, id, "c", long, webhook.Done)
		other := uniqueID()
		noErr(t, d.Complete(ctx, other, long)) // with no claim too
		expect(t, d, other, "d", long, webhook.Done)
	})
	run("a claim lapses after its ttl", func(t *testing.T) {
		d, id := newDeduper(t), uniqueID()
		expect(t, d, id, "a", short, webhook.Claimed)
		time.Sleep(2 * short)
		expect(t, d, id, "b", long, webhook.Claimed)
		noErr(t, d.Release(ctx, id, "a")) // the lapsed holder cannot free b's claim
		expect(t, d, id, "c", long, webhook.InFlight)
		noErr(t, d.Complete(ctx, id, long)) // but a's late success completes the id
		expect(t, d, id, "c", long, webhook.Done)
	})
	run("a completion is forgotten after keep", func(t *testing.T) {
		d, id := newDeduper(t), uniqueID()
		expect(t, d, id, "a", long, webhook.Claimed)
		noErr(t, d.Complete(ctx, id, short))
		expect(t, d, id, "b", long, webhook.Done)
		time.Sleep(2 * short)
		expect(t, d, id, "b", long, webhook.Claimed)
	})
	run("one of many concurrent claims wins", func(t *testing.T) {
		d, id := newDeduper(t), uniqueID()
		const n = 32
		var wg sync.WaitGroup
		results := make(chan webhook.ClaimStatus, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s, err := d.Claim(ctx, id, "t"+strconv.Itoa(i), long)
				if err != nil {
					t.Error(err)
				}
				results <- s
			}()
		}
		wg.Wait()
		close(results)
		counts := map[webhook.ClaimStatus]int{}
		for s := range results {
			counts[s]++
		}
		if counts[webhook.Claimed] != 1 || counts[webhook.InFlight] != n-1 {
			t.Fatalf("%d concurrent claims: %v, want 1 claimed and %d in-flight", n, counts, n-1)
		}
	})
}

// ContractOption configures DeduperContract.
type ContractOption func(*contractConfig)

type contractConfig struct{ bubble bool }

// InBubble runs each subtest of DeduperContract inside synctest.Test, for a
// Deduper whose clock is time.Now in the test's process.
func InBubble() ContractOption { return func(c *contractConfig) { c.bubble = true } }

// uniqueID returns a webhook-id no other test uses, even on a shared store.
func uniqueID() string {
	return "msg_contract_" + rand.Text()
}
