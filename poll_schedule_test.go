package basiq

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// simResult is one polling strategy's cost and latency on one job.
type simResult struct {
	gets      int
	meanDelay time.Duration
	maxDelay  time.Duration
}

// noticeDelays measures, for each step end, how long until a GET saw it.
func noticeDelays(f *jobFake) simResult {
	f.mu.Lock()
	defer f.mu.Unlock()
	ends := f.ends(time.Now())
	var sum, worst time.Duration
	for _, end := range ends {
		for _, g := range f.jobGets {
			if !g.Before(end) {
				d := g.Sub(end)
				sum += d
				worst = max(worst, d)
				break
			}
		}
	}
	return simResult{gets: len(f.jobGets), meanDelay: sum / time.Duration(len(ends)), maxDelay: worst}
}

// swapTransport sends to the current fake, so that one client can follow
// several jobs in turn (and learn from them).
type swapTransport struct{ cur atomic.Pointer[jobFake] }

func (s *swapTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	return s.cur.Load().RoundTrip(r)
}

// simStrategy is how a simulated job is followed.
type simStrategy struct {
	name  string
	fixed time.Duration // fixed-interval polling; 0 for the Poller
	inst  bool          // the Poller is given PollOptions.InstitutionID
	mine  bool          // the client started the job (Connections.Refresh)
	v3    bool          // the job comes from the Consent UI: it names no institution and no connection until verify-credentials ends
	warm  int           // jobs of the same bank the client followed before
}

// simulate runs one job in virtual time under a strategy.
func simulate(t *testing.T, steps []fakeStep, avg map[StepName]time.Duration, st simStrategy, seed uint64) simResult {
	var res simResult
	synctest.Test(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(seed, 1))
		var tr swapTransport
		c, err := NewClient("a2V5OnNlY3JldA==", WithHTTPClient(&http.Client{Transport: &tr}), WithRetryPolicy(RetryPolicy{MaxAttempts: 1}))
		require.NoError(t, err)
		c.jobs.jitter = rng.Float64
		opts := &PollOptions{Operation: OpCreate}
		if st.inst {
			opts.InstitutionID = fakeInstID
		}
		newFake := func() *jobFake {
			f := newJobFake(steps)
			f.v3 = st.v3
			if avg != nil {
				f.avg = avg
			}
			tr.cur.Store(f)
			return f
		}
		for range st.warm {
			newFake()
			if st.mine {
				_, err := c.Connections.Refresh(t.Context(), fakeUserID, fakeConnID)
				require.NoError(t, err)
			}
			_, err := c.Jobs.Poller(fakeJobID, opts).Wait(t.Context())
			require.NoError(t, err)
			time.Sleep(time.Minute)
		}
		f := newFake()
		if st.mine {
			_, err := c.Connections.Refresh(t.Context(), fakeUserID, fakeConnID)
			require.NoError(t, err)
		}
		if st.fixed == 0 {
			_, err := c.Jobs.Poller(fakeJobID, opts).Wait(t.Context())
			assert.NoError(t, err)
		} else {
			for {
				job, err := c.Jobs.Get(t.Context(), fakeJobID)
				assert.NoError(t, err)
				if job.Status().Terminal() {
					break
				}
				time.Sleep(st.fixed)
			}
		}
		res = noticeDelays(f)
	})
	return res
}

// TestPollingSimulation compares the Poller's schedule with fixed 1 s and 2 s
// polling (Basiq's sample apps) in virtual time, with and without the
// institution (a v3 job from the Consent UI names none), and prints the
// table. Run with -v to see it.
func TestPollingSimulation(t *testing.T) {
	jitter := func(seed uint64, s []fakeStep) []fakeStep {
		rng := rand.New(rand.NewPCG(seed, 2))
		for i := range s {
			s[i].dur = time.Duration(float64(s[i].dur) * (0.7 + 0.6*rng.Float64()))
		}
		return s
	}
	slow := func() []fakeStep {
		s := hooliSteps()
		for i := range s {
			s[i].dur *= 2
		}
		return s
	}
	slowAvg := map[StepName]time.Duration{}
	for _, s := range slow() {
		slowAvg[s.name] = s.dur
	}
	scenarios := []struct {
		name  string
		steps func(seed uint64) []fakeStep
		avg   map[StepName]time.Duration // the institution's published averages (nil: Hooli's)
		// targets: at most this share of fixed-2s GETs and this mean notice,
		// for the Poller with and without the institution; 0: no target.
		share  float64
		notice time.Duration
	}{
		{"Hooli averages (8.2 s, 3.8 s, 7.1 s)", func(uint64) []fakeStep { return hooliSteps() }, nil, 0.40, time.Second},
		{"durations ±30% around the averages", func(seed uint64) []fakeStep { return jitter(seed, hooliSteps()) }, nil, 0.50, time.Second},
		{"a bank twice as slow (16.3 s, 7.6 s, 14.3 s)", func(uint64) []fakeStep { return slow() }, slowAvg, 0, 0},
	}
	strategies := []simStrategy{
		{name: "ours, institution given", inst: true, mine: true},
		{name: "ours, refreshed, no institution", mine: true},
		{name: "ours, no institution (v3)", v3: true},
		{name: "ours, v3, 5 jobs learned", v3: true, warm: 5},
		{name: "fixed 1s", fixed: time.Second},
		{name: "fixed 2s", fixed: 2 * time.Second},
	}
	const runs = 50
	var table strings.Builder
	fmt.Fprintf(&table, "\n%-44s %-32s %6s %9s %12s %11s\n", "scenario", "strategy", "GETs", "vs 2s", "mean notice", "max notice")
	for _, sc := range scenarios {
		totals := map[string]*simResult{}
		for seed := uint64(1); seed <= runs; seed++ {
			steps := sc.steps(seed)
			for _, st := range strategies {
				r := simulate(t, steps, sc.avg, st, seed)
				tot := totals[st.name]
				if tot == nil {
					tot = &simResult{}
					totals[st.name] = tot
				}
				tot.gets += r.gets
				tot.meanDelay += r.meanDelay
				tot.maxDelay = max(tot.maxDelay, r.maxDelay)
			}
		}
		fixed2 := totals["fixed 2s"]
		for _, st := range strategies {
			tot := totals[st.name]
			share := float64(tot.gets) / float64(fixed2.gets)
			mean := tot.meanDelay / runs
			fmt.Fprintf(&table, "%-44s %-32s %6.1f %8.0f%% %12s %11s\n", sc.name, st.name,
				float64(tot.gets)/runs, 100*share, mean.Round(time.Millisecond), tot.maxDelay.Round(time.Millisecond))
			// The targets: the Poller on a job the client started, with and
			// without PollOptions.InstitutionID, and, on Hooli's averages,
			// on a v3 job from the Consent UI too.
			if sc.share > 0 && st.fixed == 0 && st.warm == 0 && (st.mine || sc.name[0] == 'H') {
				assert.LessOrEqual(t, share, sc.share, "%s, %s: share of fixed-2s GETs", sc.name, st.name)
				assert.LessOrEqual(t, mean, sc.notice, "%s, %s: mean noticing delay", sc.name, st.name)
			}
		}
	}
	t.Log(table.String())
}
