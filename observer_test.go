package basiq_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/banklink-go/basiq"
	"github.com/banklink-go/basiq/basiqtest"
)

// missingUser is a well-formed user id that no fake knows.
const missingUser = "00000000-0000-4000-8000-000000000000"

// opRecorder is an Observer that keeps what it is told.
type opRecorder struct {
	mu  sync.Mutex
	ops []basiq.OperationInfo
}

func (r *opRecorder) ObserveOperation(_ context.Context, op basiq.OperationInfo) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ops = append(r.ops, op)
}

// take returns the operations observed since the last take.
func (r *opRecorder) take() []basiq.OperationInfo {
	r.mu.Lock()
	defer r.mu.Unlock()
	ops := r.ops
	r.ops = nil
	return ops
}

// observedClient returns a fake and a client on it that reports to rec.
func observedClient(t *testing.T, rec basiq.Observer, opts ...basiq.Option) (*basiqtest.Server, *basiq.Client) {
	t.Helper()
	srv := basiqtest.NewServer(basiqtest.InMemory())
	t.Cleanup(srv.Close)
	all := append([]basiq.Option{
		basiq.WithBaseURL(srv.URL), basiq.WithHTTPClient(srv.Client()), basiq.WithObserver(rec),
		basiq.WithRetryPolicy(basiq.RetryPolicy{MaxAttempts: 4, MinBackoff: time.Second, MaxBackoff: 8 * time.Second}),
	}, opts...)
	c, err := basiq.NewClient(srv.APIKey(), all...)
	if err != nil {
		t.Fatal(err)
	}
	return srv, c
}

// one asserts that exactly one operation was observed and returns it.
func one(t *testing.T, rec *opRecorder, call string) basiq.OperationInfo {
	t.Helper()
	ops := rec.take()
	if len(ops) != 1 {
		t.Fatalf("%s: observed %d operations, want 1: %+v", call, len(ops), ops)
	}
	return ops[0]
}

// TestObserverOncePerOperation: the observer sees each call once, after its
// retries and its token replay, with the route template, the attempts, the
// final status, the token mints it waited for and the error's category.
func TestObserverOncePerOperation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &opRecorder{}
		srv, c := observedClient(t, rec)
		ctx := t.Context()

		// The first call waits for a token to be minted.
		u, err := c.Users.Create(ctx, basiq.UserParams{Email: "observed@example.com"})
		if err != nil {
			t.Fatal(err)
		}
		op := one(t, rec, "Users.Create")
		if op.Method != http.MethodPost || op.Route != "/users" || op.Attempts != 1 || op.TokenMints != 1 ||
			op.StatusCode/100 != 2 || op.Category != basiq.CategoryNone || op.Err != nil {
			t.Errorf("Users.Create observed as %+v", op)
		}

		// Two 503s, then a 200: three attempts, one operation, no mint.
		srv.InjectFault(basiqtest.Fault{Method: http.MethodGet, Path: "/users/*", Status: http.StatusServiceUnavailable, Count: 2})
		start := time.Now()
		if _, err := c.Users.Get(ctx, u.ID); err != nil {
			t.Fatal(err)
		}
		elapsed := time.Since(start)
		op = one(t, rec, "Users.Get with retries")
		if op.Route != "/users/{userId}" || strings.Contains(op.Route, u.ID) || op.Attempts != 3 || op.Retries() != 2 ||
			op.StatusCode != http.StatusOK || op.TokenMints != 0 || op.Category != basiq.CategoryNone {
			t.Errorf("retried Users.Get observed as %+v", op)
		}
		if op.Duration <= 0 || op.Duration != elapsed {
			t.Errorf("duration %s, the call took %s (the backoff included)", op.Duration, elapsed)
		}
		if got := srv.RequestCount(http.MethodGet, "/users/{userId}"); got != 3 {
			t.Errorf("the fake saw %d requests, want 3", got)
		}

		// An expired token: 403, a new token minted, the replay answered.
		srv.ExpireTokens()
		if _, err := c.Users.Get(ctx, u.ID); err != nil {
			t.Fatal(err)
		}
		op = one(t, rec, "Users.Get after ExpireTokens")
		if op.Attempts != 2 || op.TokenMints != 1 || op.StatusCode != http.StatusOK || op.Category != basiq.CategoryNone {
			t.Errorf("replayed Users.Get observed as %+v", op)
		}

		// Errors carry their category.
		_, err = c.Users.Get(ctx, missingUser)
		op = one(t, rec, "Users.Get of a missing user")
		if op.StatusCode != http.StatusNotFound || op.Category != basiq.CategoryNotFound || !errors.Is(op.Err, basiq.ErrNotFound) || op.Err != err {
			t.Errorf("missing user observed as %+v", op)
		}
		_, err = c.Users.Get(ctx, "..")
		op = one(t, rec, "Users.Get with a bad id")
		if op.Attempts != 0 || op.StatusCode != 0 || op.Category != basiq.CategoryInvalidInput || !errors.Is(err, basiq.ErrInvalidInput) {
			t.Errorf("invalid input observed as %+v", op)
		}
		srv.InjectFault(basiqtest.Fault{Method: http.MethodGet, Path: "/users/*", Status: http.StatusServiceUnavailable, Count: 4})
		_, err = c.Users.Get(ctx, u.ID)
		op = one(t, rec, "Users.Get beyond the retries")
		if op.Attempts != 4 || op.StatusCode != http.StatusServiceUnavailable || op.Category != basiq.CategoryUnavailable || err == nil {
			t.Errorf("unavailable observed as %+v", op)
		}
		canceled, cancel := context.WithCancel(ctx)
		cancel()
		_, _ = c.Users.Get(canceled, u.ID)
		if op = one(t, rec, "Users.Get cancelled"); op.Category != basiq.CategoryCanceled {
			t.Errorf("cancelled call observed as %+v", op)
		}
	})
}

// TestObserverConcurrentMint: concurrent first calls share one token mint,
// and each one that waited for it counts it.
func TestObserverConcurrentMint(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &opRecorder{}
		srv, c := observedClient(t, rec)
		// The token request takes a second: every call starts meanwhile.
		srv.InjectFault(basiqtest.Fault{Method: http.MethodPost, Path: "/token", Delay: time.Second})
		var wg sync.WaitGroup
		for range 3 {
			wg.Go(func() {
				if _, err := c.Users.Get(t.Context(), missingUser); !errors.Is(err, basiq.ErrNotFound) {
					t.Errorf("Users.Get: %v", err)
				}
			})
		}
		wg.Wait()
		if n := srv.TokenRequests(); n != 1 {
			t.Fatalf("%d token requests, want 1", n)
		}
		ops := rec.take()
		if len(ops) != 3 {
			t.Fatalf("observed %d operations, want 3", len(ops))
		}
		for _, op := range ops {
			if op.TokenMints != 1 {
				t.Errorf("an operation that waited for the mint observed as %+v", op)
			}
		}
	})
}

// TestObserverPanicRecovered: a panicking observer does not change the
// call's result; the panic is logged.
func TestObserverPanicRecovered(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	_, c := observedClient(t, basiq.ObserverFunc(func(context.Context, basiq.OperationInfo) { panic("observer bug") }),
		basiq.WithLogger(logger))
	u, err := c.Users.Create(t.Context(), basiq.UserParams{Email: "panic@example.com"})
	if err != nil || u.ID == "" {
		t.Fatalf("Users.Create with a panicking observer: %v", err)
	}
	if !strings.Contains(logs.String(), "observer panicked") || !strings.Contains(logs.String(), "observer bug") {
		t.Errorf("the panic was not logged: %s", logs.String())
	}
	// Without a logger the panic is still recovered.
	_, c = observedClient(t, basiq.ObserverFunc(func(context.Context, basiq.OperationInfo) { panic("observer bug") }))
	if _, err := c.Users.Create(t.Context(), basiq.UserParams{Email: "panic@example.com"}); err != nil {
		t.Fatal(err)
	}
}

func TestWithObserverMisuse(t *testing.T) {
	if _, err := basiq.NewClient("key", basiq.WithObserver(nil)); !errors.Is(err, basiq.ErrInvalidInput) {
		t.Errorf("WithObserver(nil): %v, want ErrInvalidInput", err)
	}
	// A nil ObserverFunc observes nothing and breaks nothing.
	_, c := observedClient(t, basiq.ObserverFunc(nil))
	if _, err := c.Users.Create(t.Context(), basiq.UserParams{Email: "nil@example.com"}); err != nil {
		t.Fatal(err)
	}
}

// TestObserverPerPage: a list is observed once per page it requests, each
// time with the list's route template.
func TestObserverPerPage(t *testing.T) {
	rec := &opRecorder{}
	srv := basiqtest.NewServer(basiqtest.InMemory(), basiqtest.WithTimeScale(0), basiqtest.WithTransactionsPerAccount(300))
	t.Cleanup(srv.Close)
	c, err := basiq.NewClient(srv.APIKey(), basiq.WithBaseURL(srv.URL), basiq.WithHTTPClient(srv.Client()), basiq.WithObserver(rec))
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	u, err := c.Users.Create(ctx, basiq.UserParams{Email: "pages@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	job, err := srv.Connect(u.ID, "AU00000", "gavinBelson", "hooli2016")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Jobs.Wait(ctx, job, nil); err != nil {
		t.Fatal(err)
	}
	rec.take()
	n := 0
	for _, err := range c.Transactions.All(ctx, u.ID, nil) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	pages := srv.RequestCount(http.MethodGet, "/users/{userId}/transactions")
	t.Logf("%d transactions in %d pages", n, pages)
	ops := rec.take()
	if pages < 2 || len(ops) != pages {
		t.Fatalf("%d transactions in %d pages, %d operations observed", n, pages, len(ops))
	}
	for _, op := range ops {
		if op.Route != "/users/{userId}/transactions" || op.Method != http.MethodGet || op.Attempts != 1 || op.StatusCode != http.StatusOK {
			t.Errorf("a page observed as %+v", op)
		}
	}
}
