package basiq

import (
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/banklink-go/basiq/basiqtest"
)

// The overlap's IBLT lists a difference of up to about 60 (id, content)
// pairs whatever the number of pairs it holds, and says when it cannot.
func TestIBLTListsSmallDifferences(t *testing.T) {
	const trials = 200
	for _, k := range []int{1, 5, 10, 20, 30, 40, 50, 60, 80} {
		ok := 0
		for trial := range trials {
			rng := rand.New(rand.NewPCG(uint64(k), uint64(trial)))
			var tb iblt
			held := map[uint64]uint32{}
			var order []uint64 // the keys in the order made: ranging over held would not be seeded
			for range 2000 {   // the overlap as the cursor holds it
				key, val := rng.Uint64(), rng.Uint32()
				held[key] = val
				order = append(order, key)
				tb.update(key, val, 1)
			}
			wantGone, wantCome := map[uint64]uint32{}, map[uint64]uint32{}
			i := 0
			for _, key := range order { // read now: all but k/2 gone, k/2 modified or new
				val := held[key]
				switch {
				case i < k/2:
					wantGone[key] = val
				default:
					tb.update(key, val, -1)
				}
				i++
			}
			var goneKeys []uint64
			for _, g := range order {
				if _, ok := wantGone[g]; ok {
					goneKeys = append(goneKeys, g)
				}
			}
			for j := range k - k/2 {
				key, val := rng.Uint64(), rng.Uint32()
				if j%2 == 0 && j/2 < len(goneKeys) { // a modification: a gone key comes back with another value
					key = goneKeys[j/2]
				}
				wantCome[key] = val
				tb.update(key, val, -1)
			}
			gone, come, decoded := tb.decode()
			if !decoded {
				continue
			}
			if len(gone) != len(wantGone) || len(come) != len(wantCome) {
				t.Fatalf("k=%d: decoded %d gone and %d come, want %d and %d", k, len(gone), len(come), len(wantGone), len(wantCome))
			}
			for key, val := range wantGone {
				if gone[key] != val {
					t.Fatalf("k=%d: gone %x", k, key)
				}
			}
			for key, val := range wantCome {
				if come[key] != val {
					t.Fatalf("k=%d: come %x", k, key)
				}
			}
			ok++
		}
		t.Logf("difference of %2d pairs: listed in %3d of %d trials", k, ok, trials)
		if k <= 60 && ok < trials*97/100 {
			t.Errorf("difference of %d: listed in only %d of %d trials", k, ok, trials)
		}
	}
}

//	go test -run '^$' -bench 'BenchmarkTransactionsSync' -benchtime 20x .
// The sync target (DESIGN.md §14), side by side with a full re-read, for a
// user with 100,000 transactions on the fake (3 accounts of 33,334 over
// two years: about 137 posted a day), after a refresh a day later:
//
//
// The answers are recorded once from the fake (after the refresh) and
// replayed by a loopback server that only writes bytes, as for
// BenchmarkTransactionsAll, so the client is measured, not the fake's
// generator. requests/op counts GETs of accounts and transactions;
// pages/op the transaction pages; changes/op what the sync yields;
// cursor-B the next cursor's length; peak/page the live heap's peak over
// the largest page body.

type syncBench struct {
	userID string
	added  int // transactions All lists after the refresh, not before
	// recorded GET answers by request URI, links as {{base}}: before the
	// refresh (the first syncs) and after it
	before, after map[string][]byte
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

// recorder keeps the body of every successful GET it carries.
type recorder struct {
	rt    http.RoundTripper
	base  string
	on    bool
	pages map[string][]byte
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.rt.RoundTrip(req)
	if err != nil || !r.on || req.Method != http.MethodGet || resp.StatusCode != http.StatusOK {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	r.pages[req.URL.RequestURI()] = []byte(strings.ReplaceAll(string(body), r.base, "{{base}}"))
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, nil
}

var (
	syncBenchOnce sync.Once
	syncBenchData *syncBench
)

// newSyncBench makes the user with 100,000 transactions on the fake, syncs
// it, refreshes it a day later, and records the answers of the syncs after
// the refresh (overlaps of 14 and 7 days) and of a full re-read; once per
// test binary.
func newSyncBench(b *testing.B) *syncBench {
	b.Helper()
	syncBenchOnce.Do(func() { syncBenchData = recordSyncBench(b) })
	if syncBenchData == nil {
		b.Fatal("recording failed")
	}
	return syncBenchData
}

func recordSyncBench(b *testing.B) *syncBench {
	clock := &benchClock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	srv := basiqtest.NewServer(basiqtest.InMemory(), basiqtest.WithTimeScale(0), basiqtest.WithClock(clock.now),
		basiqtest.WithTransactionsPerAccount(benchTxPerAccount), basiqtest.WithRequestLogLimit(0))
	defer srv.Close()
	rec := &recorder{rt: srv.Transport(), base: srv.URL, pages: map[string][]byte{}}
	c, err := NewClient(srv.APIKey(), WithBaseURL(srv.URL), WithHTTPClient(&http.Client{Transport: rec}))
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
	sb := &syncBench{userID: u.ID}
	before := map[string]bool{}
	for tx, err := range c.Transactions.All(ctx, u.ID, nil) {
		if err != nil {
			b.Fatal(err)
		}
		before[tx.ID] = true
	}
	rec.on = true
	cursors := map[int]string{}
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
		if cursors[days], err = s.Cursor(); err != nil {
			b.Fatal(err)
		}
	}
	sb.before, rec.pages = rec.pages, map[string][]byte{}
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
	for days, cursor := range cursors {
		s := c.Transactions.Sync(ctx, u.ID, cursor, &SyncOptions{Overlap: time.Duration(days) * 24 * time.Hour})
		for _, err := range s.Changes() {
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	sb.after = rec.pages
	return sb
}

// replay serves the recorded answers (and tokens) on loopback, those from
// before the refresh until refreshed is called, counting requests by
// path kind.
type replay struct {
	srv           *httptest.Server
	transactions  atomic.Int64
	accounts      atomic.Int64
	before, after map[string][]byte
	refreshedFlag atomic.Bool
}

func newReplay(b *testing.B, sb *syncBench) *replay {
	b.Helper()
	rp := &replay{}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"access_token":"bench-token","expires_in":3600,"token_type":"Bearer"}`)
	})
	mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) {
		pages := rp.before
		if rp.refreshedFlag.Load() {
			pages = rp.after
		}
		body, ok := pages[r.URL.RequestURI()]
		if !ok {
			http.Error(w, "no such page", http.StatusNotFound)
			return
		}
		if strings.HasSuffix(r.URL.Path, "/accounts") {
			rp.accounts.Add(1)
		} else {
			rp.transactions.Add(1)
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = w.Write(body)
	})
	rp.srv = httptest.NewServer(mux)
	b.Cleanup(rp.srv.Close)
	rebase := func(in map[string][]byte) map[string][]byte {
		out := make(map[string][]byte, len(in))
		for k, v := range in {
			out[k] = []byte(strings.ReplaceAll(string(v), "{{base}}", rp.srv.URL))
		}
		return out
	}
	rp.before, rp.after = rebase(sb.before), rebase(sb.after)
	return rp
}

func (rp *replay) client(b *testing.B) *Client {
	b.Helper()
	c, err := NewClient(coreAPIKey, WithBaseURL(rp.srv.URL), WithHTTPClient(rp.srv.Client()))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := c.Token(context.Background()); err != nil {
		b.Fatal(err)
	}
	return c
}

// cursors runs the first syncs on the answers from before the refresh, then
// serves those from after it; it returns the cursors by overlap in days.
func (rp *replay) cursors(b *testing.B, c *Client, userID string) map[int]string {
	b.Helper()
	out := map[int]string{}
	for _, days := range []int{14, 7} {
		s := c.Transactions.Sync(context.Background(), userID, "", &SyncOptions{Overlap: time.Duration(days) * 24 * time.Hour})
		for _, err := range s.Changes() {
			if err != nil {
				b.Fatal(err)
			}
		}
		next, err := s.Cursor()
		if err != nil {
			b.Fatal(err)
		}
		out[days] = next
	}
	rp.refreshedFlag.Store(true)
	return out
}

func BenchmarkTransactionsSync(b *testing.B) {
	sb := newSyncBench(b)
	rp := newReplay(b, sb)
	c := rp.client(b)
	cursors := rp.cursors(b, c, sb.userID)
	ctx := context.Background()
	pages := 0
	c.pageDecoded = func([]byte) { pages++ }
	reset := func() {
		rp.transactions.Store(0)
		rp.accounts.Store(0)
		pages = 0
	}
	report := func(b *testing.B) {
		b.ReportMetric(float64(rp.transactions.Load()+rp.accounts.Load())/float64(b.N), "requests/op")
		b.ReportMetric(float64(pages)/float64(b.N), "pages/op")
	}
	for _, days := range []int{14, 7} {
		b.Run("sync-overlap-"+strconv.Itoa(days)+"d", func(b *testing.B) {
			cursor := cursors[days]
			opts := &SyncOptions{Overlap: time.Duration(days) * 24 * time.Hour}
			reset()
			changes, size := 0, 0
			for b.Loop() {
				s := c.Transactions.Sync(ctx, sb.userID, cursor, opts)
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
			report(b)
			b.ReportMetric(float64(changes)/float64(b.N), "changes/op")
			b.ReportMetric(float64(sb.added), "added-by-refresh")
			b.ReportMetric(float64(size), "cursor-B")
		})
	}
	b.Run("full-reread", func(b *testing.B) {
		reset()
		for b.Loop() {
			n := 0
			for _, err := range c.Transactions.All(ctx, sb.userID, nil) {
				if err != nil {
					b.Fatal(err)
				}
				n++
			}
			if n < 100000 {
				b.Fatalf("%d transactions", n)
			}
		}
		report(b)
	})
}

//	go test -run '^$' -bench 'SyncPeakHeap' -benchtime 3x .

// BenchmarkTransactionsSyncPeakHeap samples the live heap during the sync
// after the refresh (default overlap), right after each page is decoded
// (its body still held) and at every 20th change, like
// BenchmarkTransactionsPeakHeap does for Transactions.All.
func BenchmarkTransactionsSyncPeakHeap(b *testing.B) {
	sb := newSyncBench(b)
	rp := newReplay(b, sb)
	c := rp.client(b)
	cursors := rp.cursors(b, c, sb.userID)
	ctx := context.Background()
	var h heapProbe
	c.pageDecoded = func(body []byte) {
		h.sample(len(body))
		runtime.KeepAlive(body)
	}
	for b.Loop() {
		h.start()
		s := c.Transactions.Sync(ctx, sb.userID, cursors[14], nil)
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
