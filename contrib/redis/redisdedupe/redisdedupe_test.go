package redisdedupe_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/banklink-go/basiq/contrib/redis/redisdedupe"
	"github.com/banklink-go/basiq/webhook"
	"github.com/banklink-go/basiq/webhook/webhooktest"
)

func TestMain(m *testing.M) {
	// go-redis logs every failed dial; the tests fail Redis on purpose.
	redis.SetLogger(quietLogger{})
	os.Exit(m.Run())
}

type quietLogger struct{}

func (quietLogger) Printf(context.Context, string, ...any) {}

// newRedis connects to the redis-server at $REDIS_ADDR (default
// 127.0.0.1:6379) and returns a client plus a key prefix unique to the test,
// whose keys are deleted afterwards. Without a reachable server the test is
// skipped, or fails when $REDIS_REQUIRED is set (as CI does once it has
// started one).
func newRedis(t *testing.T) (*redis.Client, string) {
	t.Helper()
	addr := os.Getenv("REDIS_ADDR")
	if addr == "" {
		addr = "127.0.0.1:6379"
	}
	rdb := redis.NewClient(&redis.Options{
		Addr:                  addr,
		DialerRetries:         1, // so that a missing server skips quickly
		MaxRetries:            -1,
		DialTimeout:           time.Second,
		ReadTimeout:           2 * time.Second,
		WriteTimeout:          2 * time.Second,
		ContextTimeoutEnabled: true,
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		rdb.Close()
		if os.Getenv("REDIS_REQUIRED") != "" {
			t.Fatalf("REDIS_REQUIRED is set but redis-server at %s does not answer PING: %v", addr, err)
		}
		t.Skipf("no redis-server answering PING at %s (set REDIS_ADDR): %v", addr, err)
	}
	prefix := "redisdedupe-test:" + randomHex(t) + ":"
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		iter := rdb.Scan(ctx, 0, prefix+"*", 100).Iterator()
		for iter.Next(ctx) {
			rdb.Del(ctx, iter.Val())
		}
		if err := iter.Err(); err != nil {
			t.Errorf("cleaning up keys %s*: %v", prefix, err)
		}
		rdb.Close()
	})
	return rdb, prefix
}

func randomHex(t *testing.T) string {
	t.Helper()
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// TestContract runs webhook's Deduper conformance test against Redis.
func TestContract(t *testing.T) {
	rdb, prefix := newRedis(t)
	webhooktest.DeduperContract(t, func(*testing.T) webhook.Deduper {
		return redisdedupe.New(rdb, redisdedupe.WithPrefix(prefix))
	})
}

// TestStoredValues: one key per id under the prefix, with the claim's ttl,
// then the dedupe window; never anything but "claim:<token>" or "done".
func TestStoredValues(t *testing.T) {
	rdb, prefix := newRedis(t)
	d := redisdedupe.New(rdb, redisdedupe.WithPrefix(prefix))
	ctx := context.Background()
	if s, err := d.Claim(ctx, "msg_1", "tok", 90*time.Second); err != nil || s != webhook.Claimed {
		t.Fatalf("Claim = %s, %v", s, err)
	}
	if v := rdb.Get(ctx, prefix+"msg_1").Val(); v != "claim:tok" {
		t.Errorf("stored claim %q", v)
	}
	if ttl := rdb.PTTL(ctx, prefix+"msg_1").Val(); ttl <= 85*time.Second || ttl > 90*time.Second {
		t.Errorf("claim TTL %s, want about 90s", ttl)
	}
	if err := d.Complete(ctx, "msg_1", 48*time.Hour); err != nil {
		t.Fatal(err)
	}
	if v := rdb.Get(ctx, prefix+"msg_1").Val(); v != "done" {
		t.Errorf("stored completion %q", v)
	}
	if ttl := rdb.PTTL(ctx, prefix+"msg_1").Val(); ttl <= 47*time.Hour || ttl > 48*time.Hour {
		t.Errorf("completion TTL %s, want about 48h", ttl)
	}
	keys, err := rdb.Keys(ctx, prefix+"*").Result()
	if err != nil || len(keys) != 1 {
		t.Errorf("keys under the prefix: %q, %v", keys, err)
	}
	// Misuse is an error, not a forever-key.
	if _, err := d.Claim(ctx, "msg_2", "tok", 0); err == nil {
		t.Error("Claim with ttl 0 succeeded")
	}
	if err := d.Complete(ctx, "msg_2", -time.Second); err == nil {
		t.Error("Complete with a negative keep succeeded")
	}
	var zero *redisdedupe.Deduper
	if _, err := zero.Claim(ctx, "msg_3", "tok", time.Minute); err == nil {
		t.Error("nil Deduper claimed")
	}
	if err := (&redisdedupe.Deduper{}).Release(ctx, "msg_3", "tok"); err == nil {
		t.Error("zero Deduper released")
	}
}

var testKey = []byte("a fleet's shared webhook secret!")

func secret() string { return "whsec_" + base64.StdEncoding.EncodeToString(testKey) }

const body = `{"eventTypeId":"transactions.updated","eventId":"ev1","links":{"event":"https://au-api.basiq.io/events/ev1",` +
	`"eventEntity":"https://au-api.basiq.io/users/u1/connections/c1"}}`

// replica is one process of a fleet: its own Verifier and Handler, sharing
// only Redis with the others.
func replica(t *testing.T, rdb redis.UniversalClient, prefix string, fn func(context.Context, webhook.Message) error, opts ...webhook.HandlerOption) http.Handler {
	t.Helper()
	v, err := webhook.NewVerifier(secret())
	if err != nil {
		t.Fatal(err)
	}
	opts = append([]webhook.HandlerOption{webhook.WithDeduper(redisdedupe.New(rdb, redisdedupe.WithPrefix(prefix)))}, opts...)
	return webhook.Handler(v, fn, opts...)
}

func deliver(t *testing.T, h http.Handler, id string) int {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, webhooktest.NewRequest(t, secret(), "/basiq", id, time.Now(), []byte(body)))
	return w.Code
}

// TestFleetHandlesEachMessageOnce: four replicas receive the same messages
// at once (a slow first delivery and Basiq's retries landing on other
// replicas): one callback per message, the others answered 409; after it
// succeeded, every replica drops the message with a 200.
func TestFleetHandlesEachMessageOnce(t *testing.T) {
	rdb, prefix := newRedis(t)
	var calls sync.Map // id → *atomic.Int32
	gate := make(chan struct{})
	fn := func(ctx context.Context, m webhook.Message) error {
		n, _ := calls.LoadOrStore(m.ID, new(atomic.Int32))
		n.(*atomic.Int32).Add(1)
		<-gate // hold the claim until every replica has been tried
		return nil
	}
	replicas := make([]http.Handler, 4)
	for i := range replicas {
		replicas[i] = replica(t, rdb, prefix, fn)
	}
	const messages = 10
	codes := make(chan int, messages*len(replicas))
	var wg sync.WaitGroup
	for m := range messages {
		for _, h := range replicas {
			wg.Add(1)
			go func() {
				defer wg.Done()
				codes <- deliver(t, h, fmt.Sprintf("msg_%d", m))
			}()
		}
	}
	// Every delivery but one per message answers 409 without waiting for the gate.
	for range messages * (len(replicas) - 1) {
		select {
		case c := <-codes:
			if c != http.StatusConflict {
				t.Errorf("a concurrent duplicate got %d, want 409", c)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("duplicates did not answer while the first delivery ran")
		}
	}
	close(gate)
	wg.Wait()
	close(codes)
	for c := range codes {
		if c != http.StatusOK {
			t.Errorf("the delivery that called back got %d, want 200", c)
		}
	}
	for m := range messages {
		id := fmt.Sprintf("msg_%d", m)
		for i, h := range replicas { // Basiq's later retries, on any replica
			if c := deliver(t, h, id); c != http.StatusOK {
				t.Errorf("%s retried on replica %d: %d, want 200", id, i, c)
			}
		}
		n, ok := calls.Load(id)
		if !ok || n.(*atomic.Int32).Load() != 1 {
			t.Errorf("%s: %v callbacks, want 1", id, n)
		}
	}
}

// TestFleetRetriesAFailedCallback: a replica whose callback fails releases
// the claim, so Basiq's next retry, on another replica, calls back.
func TestFleetRetriesAFailedCallback(t *testing.T) {
	rdb, prefix := newRedis(t)
	var calls atomic.Int32
	fn := func(ctx context.Context, m webhook.Message) error {
		if calls.Add(1) == 1 {
			return errors.New("downstream unavailable")
		}
		return nil
	}
	a, b := replica(t, rdb, prefix, fn), replica(t, rdb, prefix, fn)
	if c := deliver(t, a, "msg_retry"); c != http.StatusInternalServerError {
		t.Fatalf("failing callback: %d, want 500", c)
	}
	if c := deliver(t, b, "msg_retry"); c != http.StatusOK {
		t.Fatalf("retry on the other replica: %d, want 200", c)
	}
	if c := deliver(t, a, "msg_retry"); c != http.StatusOK || calls.Load() != 2 {
		t.Fatalf("later retry: %d after %d callbacks, want 200 after 2", c, calls.Load())
	}
}

// TestRedisDownFailsClosed needs no redis-server: with Redis unreachable the
// Handler answers 503 without calling back, so Basiq retries later, and logs
// the failure without the secret or the body.
func TestRedisDownFailsClosed(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	rdb := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialerRetries: 1})
	defer rdb.Close()
	var logs bytes.Buffer
	var calls atomic.Int32
	h := replica(t, rdb, "x:", func(context.Context, webhook.Message) error {
		calls.Add(1)
		return nil
	}, webhook.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	start := time.Now()
	if c := deliver(t, h, "msg_down"); c != http.StatusServiceUnavailable {
		t.Errorf("Redis down: %d, want 503", c)
	}
	if calls.Load() != 0 {
		t.Error("called back without a claim")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %s with Redis down", d)
	}
	out := logs.String()
	if !strings.Contains(out, "deduper failed") || !strings.Contains(out, "status=503") {
		t.Errorf("no warning in the log:\n%s", out)
	}
	if strings.Contains(out, base64.StdEncoding.EncodeToString(testKey)) || strings.Contains(out, "users/u1") {
		t.Errorf("the log carries the secret or the body:\n%s", out)
	}
}
