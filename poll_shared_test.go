package basiq_test

import (
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/goleak"

	"github.com/banklink-go/basiq"
	"github.com/banklink-go/basiq/basiqtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSoak10000Waits runs 10,000 concurrent Jobs.Wait calls, each on its own
// Hooli job, on one client against the fake, in virtual time (each job takes
// Hooli's 8.2 s + 3.8 s + 7.1 s of step averages, WithTimeScale(1)), and
// reports the memory per wait (DESIGN.md §7 "Scale"). It asserts that every
// wait succeeds, that all of them share one token and one institution
// look-up, that polling stays cheap, that memory per wait is bounded, and
// that the goroutines return to the baseline afterwards.
//
// The fake computes job progress by scanning every running job on every
// request, so 10,000 running jobs on one fake cost O(n²) (about 3 minutes on
// 2 cores). The test therefore puts hardSoakShards fakes behind one routing
// RoundTripper (see hardShards): the client still has one base URL, one
// token and one poll loop per job, and sees one Basiq API.
//
// It takes about 10 s on 2 cores. Skipped with -short, and under the race
// detector (hardRaceEnabled), where 10,000 waits take about a minute;
// TestSoakWaitsRace runs 1,000 there (under 2 s).
func TestSoak10000Waits(t *testing.T) {
	if testing.Short() {
		t.Skip("soak test: skipped with -short")
	}
	if hardRaceEnabled {
		t.Skip("soak test: 10,000 waits are too slow under the race detector; TestSoakWaitsRace runs 1,000")
	}
	hardSoak(t, 10000)
}

// TestSoakWaitsRace is the soak test at a size the race detector can run.
func TestSoakWaitsRace(t *testing.T) {
	if testing.Short() {
		t.Skip("soak test: skipped with -short")
	}
	if !hardRaceEnabled {
		t.Skip("covered by TestSoak10000Waits without -race")
	}
	hardSoak(t, 1000)
}

// Bounds for the soak figures: a few times what was measured (about 55 KiB
// allocated and 8 KiB live per wait, 10 B left after), generous enough not to flake, tight
// enough to catch a leak or a busy poll per wait.
const (
	hardSoakShards             = 20
	hardSoakMaxBytesPerWait    = 256 << 10 // allocated over a whole wait, client and fakes together
	hardSoakMaxLivePerWait     = 48 << 10  // live heap per waiting call, all n waiting at once
	hardSoakMaxRetainedPerWait = 256       // live heap left per wait once everything finished
	hardSoakMaxPollsPerWait    = 6         // GET /jobs per wait (Hooli has 3 steps)
)

// hardShards routes one client's requests to several fakes sharing one API
// key: GET /jobs/{id} to the fake holding the job, everything else to the
// first. A request for another fake carries that fake's own token in place
// of the first fake's.
type hardShards struct {
	srvs   []*basiqtest.Server
	tokens []string       // each fake's SERVER_ACCESS token, for the others than the first
	jobs   map[string]int // job id → fake; read-only once the waits start
	rts    []http.RoundTripper
}

func (h *hardShards) RoundTrip(req *http.Request) (*http.Response, error) {
	k := 0
	if id, ok := strings.CutPrefix(req.URL.Path, "/jobs/"); ok && req.Method == http.MethodGet {
		k = h.jobs[id]
	}
	if k != 0 {
		req = req.Clone(req.Context())
		req.Header.Set("Authorization", "Bearer "+h.tokens[k])
	}
	return h.rts[k].RoundTrip(req)
}

func (h *hardShards) count(method, route string) int {
	n := 0
	for _, s := range h.srvs {
		n += s.RequestCount(method, route)
	}
	return n
}

func hardSoak(t *testing.T, n int) {
	var before, peak, after runtime.MemStats
	var peakGoroutines int
	ignore := goleak.IgnoreCurrent()
	// The runtime keeps the descriptor of every goroutine that ever ran (about
	// 400 bytes each) for reuse. Run as many goroutines as the soak will, so
	// that the heap left after the soak measures what the SDK keeps.
	hardWarmGoroutines(2*n + 64)
	runtime.GC()
	runtime.GC()
	baseline := runtime.NumGoroutine()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	start := time.Now()

	synctest.Test(t, func(t *testing.T) {
		ctx := t.Context()
		const key = "c29hay1rZXk6c29hay1zZWNyZXQ="
		h := &hardShards{jobs: make(map[string]int, n)}
		userIDs := make([]string, hardSoakShards)
		for k := range hardSoakShards {
			srv := basiqtest.NewServer(basiqtest.InMemory(), basiqtest.WithAPIKey(key), basiqtest.WithTimeScale(1), basiqtest.WithRequestLogLimit(0))
			defer srv.Close()
			setup, err := basiq.NewClient(key, basiq.WithBaseURL(srv.URL), basiq.WithHTTPClient(srv.Client()))
			if err != nil {
				t.Fatal(err)
			}
			tok, err := setup.Token(ctx)
			if err != nil {
				t.Fatal(err)
			}
			user, err := setup.Users.Create(ctx, basiq.UserParams{Email: fmt.Sprintf("soak%d@example.com", k)})
			if err != nil {
				t.Fatal(err)
			}
			h.srvs, h.tokens, h.rts = append(h.srvs, srv), append(h.tokens, tok.AccessToken), append(h.rts, srv.Transport())
			userIDs[k] = user.ID
		}
		// Distinct logins, so that no job is held as a duplicate connection.
		ids := make([]string, n)
		for i := range ids {
			k := i % hardSoakShards
			login := fmt.Sprintf("soak%05d", i)
			h.srvs[k].SetLoginPassword(login, "pw")
			id, err := h.srvs[k].Connect(userIDs[k], "AU00000", login, "pw")
			if err != nil {
				t.Fatal(err)
			}
			ids[i], h.jobs[id] = id, k
		}
		for _, s := range h.srvs {
			s.ResetCounters()
		}
		c, err := basiq.NewClient(key, basiq.WithBaseURL(h.srvs[0].URL), basiq.WithHTTPClient(&http.Client{Transport: h}))
		if err != nil {
			t.Fatal(err)
		}
		virtualStart := time.Now()

		runtime.GC()
		runtime.ReadMemStats(&before)
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i, id := range ids {
			wg.Go(func() {
				job, err := c.Jobs.Wait(ctx, id, &basiq.PollOptions{Operation: basiq.OpCreate, InstitutionID: "AU00000"})
				if err == nil && job.Status() != basiq.JobSucceeded {
					err = fmt.Errorf("job %s", job.Status())
				}
				errs[i] = err
			})
		}
		synctest.Wait() // every wait has polled once and sleeps: all n are in flight
		peakGoroutines = runtime.NumGoroutine()
		runtime.ReadMemStats(&peak)
		wg.Wait()
		runtime.ReadMemStats(&after)

		failed := 0
		for _, err := range errs {
			if err != nil {
				if failed == 0 {
					t.Errorf("a wait failed: %v", err)
				}
				failed++
			}
		}
		if failed > 0 {
			t.Errorf("%d of %d waits failed", failed, n)
		}
		polls := h.count(http.MethodGet, hardRouteJob)
		tokens := h.count(http.MethodPost, hardRouteToken)
		insts := h.count(http.MethodGet, "/institutions/{institutionId}")
		t.Logf("%d waits finished in %v of virtual time; %d GET /jobs (%.2f per wait), %d token request(s), %d institution look-up(s)",
			n, time.Since(virtualStart).Round(time.Millisecond), polls, float64(polls)/float64(n), tokens, insts)
		if polls > n*hardSoakMaxPollsPerWait {
			t.Errorf("%d polls for %d waits, want at most %d each", polls, n, hardSoakMaxPollsPerWait)
		}
		if tokens != 1 {
			t.Errorf("%d token requests, want 1", tokens)
		}
		if insts != 1 {
			t.Errorf("%d institution look-ups, want 1 shared by all pollers", insts)
		}
	})

	// Outside the bubble: everything it started has ended.
	runtime.GC()
	runtime.GC()
	var end runtime.MemStats
	runtime.ReadMemStats(&end)
	goleak.VerifyNone(t, ignore)
	if g := runtime.NumGoroutine(); g > baseline {
		t.Errorf("%d goroutines after the soak, baseline %d", g, baseline)
	}

	perWait := float64(after.TotalAlloc-before.TotalAlloc) / float64(n)
	livePerWait := (float64(peak.HeapAlloc) - float64(before.HeapAlloc)) / float64(n)
	stackPerWait := (float64(peak.StackInuse) - float64(before.StackInuse)) / float64(n)
	retained := (float64(end.HeapAlloc) - float64(base.HeapAlloc)) / float64(n)
	t.Logf("n=%d: allocated %.1f KiB/wait (%d allocs/wait); at full concurrency: live heap %.1f MiB (%.1f KiB/wait), "+
		"HeapInuse %.1f MiB, goroutine stacks %.1f KiB/wait, %d goroutines (baseline %d, %d after); "+
		"live heap left after: %.0f B/wait; wall time %v",
		n, perWait/1024, (after.Mallocs-before.Mallocs)/uint64(n), float64(peak.HeapAlloc)/(1<<20), livePerWait/1024,
		float64(peak.HeapInuse)/(1<<20), stackPerWait/1024, peakGoroutines, baseline, runtime.NumGoroutine(),
		retained, time.Since(start).Round(time.Millisecond))
	if perWait > hardSoakMaxBytesPerWait {
		t.Errorf("allocated %.0f bytes per wait, want at most %d", perWait, hardSoakMaxBytesPerWait)
	}
	if livePerWait > hardSoakMaxLivePerWait {
		t.Errorf("live heap %.0f bytes per waiting call, want at most %d", livePerWait, hardSoakMaxLivePerWait)
	}
	if retained > hardSoakMaxRetainedPerWait {
		t.Errorf("%.0f bytes per wait still live after the soak, want at most %d", retained, hardSoakMaxRetainedPerWait)
	}
	if peakGoroutines < n {
		t.Errorf("only %d goroutines at the peak: the %d waits did not run concurrently", peakGoroutines, n)
	}
}

// hardWarmGoroutines runs n goroutines at once and waits for them to end.
func hardWarmGoroutines(n int) {
	var wg sync.WaitGroup
	release := make(chan struct{})
	for range n {
		wg.Go(func() { <-release })
	}
	close(release)
	wg.Wait()
}

// Jobs.Wait's Timeout bounds the Diagnosis's look-ups too: an institution
// look-up that hangs does not carry the wait past it.
func TestJobsWaitTimeoutBoundsItsDiagnosis(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv, c := fakeV21(t, basiqtest.WithTimeScale(20)) // Hooli's job takes ~6.4 min
		u, err := c.Users.Create(t.Context(), basiq.UserParams{Email: "j@example.com"})
		require.NoError(t, err)
		// jianYang's job fails with a failure whose diagnosis depends on the
		// institution's status.
		job, err := c.Connections.Create(t.Context(), u.ID, basiq.Credentials{InstitutionID: "AU00000", LoginID: "jianYang", Password: "nothotdog"})
		require.NoError(t, err)
		go func() {
			time.Sleep(time.Minute) // after the durations are loaded; the status look-up comes at the end
			srv.InjectFault(basiqtest.Fault{Method: "GET", Path: "/institutions/*", Delay: time.Hour, Count: -1})
		}()
		const timeout = 8 * time.Minute
		start := time.Now()
		_, err = c.Jobs.Wait(t.Context(), job.ID, &basiq.PollOptions{InstitutionID: "AU00000", Timeout: timeout})
		took := time.Since(start)
		var failed *basiq.JobFailedError
		require.True(t, errors.As(err, &failed), "%v", err)
		assert.LessOrEqual(t, took, timeout, "Jobs.Wait with Timeout %s returned after %s", timeout, took)
		srv.ClearFaults()
	})
}
