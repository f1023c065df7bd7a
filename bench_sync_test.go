package basiq

import (
	"context"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/banklink-go/basiq/basiqtest"
)

// The sync target (DESIGN.md §14), side by side with a full re-read, for a
// user with 100,000 transactions on the fake (3 accounts of 33,334 over
// two years: about 137 posted a day), after a refresh a day later:
//
//	go test -run '^$' -bench 'BenchmarkTransactionsSync' -benchtime 20x .
//
// Both sides read from the in-memory fake, which renders every page it
// serves, so the times include the server's share. requests/op counts
// GETs of accounts and transactions; pages/op the transaction pages;
// changes/op what the sync yields; cursor-B the next cursor's length;
// peak/page the live heap's peak over the largest page body.

type syncBench struct {
	srv    *basiqtest.Server
	c      *Client
	clock  *benchClock
	userID string
	// cursors made before the refresh, by overlap in days
	cursors map[int]string
	added   int // transactions All lists after the refresh, not before
}

type benchClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *benchClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *benchClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newSyncBench(b *testing.B) *syncBench {
	b.Helper()
	clock := &benchClock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	srv := basiqtest.NewServer(basiqtest.InMemory(), basiqtest.WithTimeScale(0), basiqtest.WithClock(clock.now),
		basiqtest.WithTransactionsPerAccount(benchTxPerAccount), basiqtest.WithRequestLogLimit(0))
	b.Cleanup(srv.Close)
	c, err := NewClient(srv.APIKey(), WithBaseURL(srv.URL), WithHTTPClient(srv.Client()))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	u, err := c.Users.Create(ctx, UserParams{Email: "bench@example.com"})
	if err != nil {
		b.Fatal(err)
	}
	jobID, err := srv.Connect(u.ID, "AU00000", "gavinBelson", "hooli2016")
	if err != nil {
		b.Fatal(err)
	}
	clock.add(time.Second)
	if _, err := c.Jobs.Get(ctx, jobID); err != nil {
		b.Fatal(err)
	}
	st, _ := srv.Job(jobID)
	if !st.Done {
		b.Fatal("job not done")
	}
	sb := &syncBench{srv: srv, c: c, clock: clock, userID: u.ID, cursors: map[int]string{}}
	before := map[string]bool{}
	for tx, err := range c.Transactions.All(ctx, u.ID, nil) {
		if err != nil {
			b.Fatal(err)
		}
		before[tx.ID] = true
	}
	for _, days := range []int{14, 7} {
		s := c.Transactions.Sync(ctx, u.ID, "", &SyncOptions{Overlap: time.Duration(days) * 24 * time.Hour})
		n := 0
		for _, err := range s.Changes() {
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n != len(before) {
			b.Fatalf("first sync: %d changes for %d transactions", n, len(before))
		}
		if sb.cursors[days], err = s.Cursor(); err != nil {
			b.Fatal(err)
		}
	}
	clock.add(24 * time.Hour)
	j, err := c.Connections.Refresh(ctx, u.ID, st.ConnectionID)
	if err != nil {
		b.Fatal(err)
	}
	clock.add(time.Second)
	if _, err := c.Jobs.Get(ctx, j.ID); err != nil {
		b.Fatal(err)
	}
	for tx, err := range c.Transactions.All(ctx, u.ID, nil) {
		if err != nil {
			b.Fatal(err)
		}
		if !before[tx.ID] {
			sb.added++
		}
	}
	return sb
}

func BenchmarkTransactionsSync(b *testing.B) {
	sb := newSyncBench(b)
	ctx := context.Background()
	pages := 0
	sb.c.pageDecoded = func([]byte) { pages++ }
	requests := func() int {
		return sb.srv.RequestCount("GET", "/users/{userId}/transactions") + sb.srv.RequestCount("GET", "/users/{userId}/accounts")
	}
	for _, days := range []int{14, 7} {
		b.Run("sync-overlap-"+strconv.Itoa(days)+"d", func(b *testing.B) {
			cursor := sb.cursors[days]
			opts := &SyncOptions{Overlap: time.Duration(days) * 24 * time.Hour}
			sb.srv.ResetCounters()
			pages = 0
			changes, size := 0, 0
			for b.Loop() {
				s := sb.c.Transactions.Sync(ctx, sb.userID, cursor, opts)
				for _, err := range s.Changes() {
					if err != nil {
						b.Fatal(err)
					}
					changes++
				}
				next, err := s.Cursor()
				if err != nil {
					b.Fatal(err)
				}
				size = len(next)
			}
			b.ReportMetric(float64(requests())/float64(b.N), "requests/op")
			b.ReportMetric(float64(pages)/float64(b.N), "pages/op")
			b.ReportMetric(float64(changes)/float64(b.N), "changes/op")
			b.ReportMetric(float64(sb.added), "added-by-refresh")
			b.ReportMetric(float64(size), "cursor-B")
			b.ReportMetric(float64(len(cursor)), "first-cursor-B")
		})
	}
	b.Run("full-reread", func(b *testing.B) {
		sb.srv.ResetCounters()
		pages = 0
		for b.Loop() {
			n := 0
			for _, err := range sb.c.Transactions.All(ctx, sb.userID, nil) {
				if err != nil {
					b.Fatal(err)
				}
				n++
			}
			if n < 100000 {
				b.Fatalf("%d transactions", n)
			}
		}
		b.ReportMetric(float64(requests())/float64(b.N), "requests/op")
		b.ReportMetric(float64(pages)/float64(b.N), "pages/op")
	})
	sb.c.pageDecoded = nil
}

// BenchmarkTransactionsSyncPeakHeap samples the live heap during the sync
// after the refresh, right after each page is decoded (its body still
// held) and at every 20th change, like BenchmarkTransactionsPeakHeap.
//
//	go test -run '^$' -bench 'SyncPeakHeap' -benchtime 1x .
func BenchmarkTransactionsSyncPeakHeap(b *testing.B) {
	sb := newSyncBench(b)
	ctx := context.Background()
	var h heapProbe
	sb.c.pageDecoded = func(body []byte) {
		h.sample(len(body))
		runtime.KeepAlive(body)
	}
	for b.Loop() {
		h.start()
		s := sb.c.Transactions.Sync(ctx, sb.userID, sb.cursors[14], nil)
		n := 0
		for ch, err := range s.Changes() {
			if err != nil {
				b.Fatal(err)
			}
			if n++; n%20 == 0 {
				h.sample(0)
			}
			runtime.KeepAlive(ch)
		}
		if _, err := s.Cursor(); err != nil {
			b.Fatal(err)
		}
	}
	h.report(b)
}
