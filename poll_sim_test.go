package basiq

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
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

// simulate runs one job in virtual time under a strategy: "ours" (the
// Poller's schedule, with the institution's averages) or a fixed interval.
func simulate(t *testing.T, steps []fakeStep, fixed time.Duration, seed uint64) simResult {
	var res simResult
	synctest.Test(t, func(t *testing.T) {
		f := newJobFake(steps)
		c := f.client()
		rng := rand.New(rand.NewPCG(seed, 1))
		c.Jobs.jitter = rng.Float64
		if fixed == 0 {
			_, err := c.Jobs.Poller(fakeJobID, &PollOptions{Operation: OpCreate, InstitutionID: fakeInstID}).Wait(t.Context())
			assert.NoError(t, err)
		} else {
			for {
				job, err := c.Jobs.Get(t.Context(), fakeJobID)
				assert.NoError(t, err)
				if job.Status().Terminal() {
					break
				}
				time.Sleep(fixed)
			}
		}
		res = noticeDelays(f)
	})
	return res
}

// TestPollingSimulation compares the Poller's schedule with fixed 1 s and 2 s
// polling (Basiq's sample apps) on Hooli's step durations, in virtual time,
// and prints the table. Run with -v to see it.
func TestPollingSimulation(t *testing.T) {
	scenarios := []struct {
		name  string
		steps func(seed uint64) []fakeStep
	}{
		{"Hooli averages (8.2 s, 3.8 s, 7.1 s)", func(uint64) []fakeStep { return hooliSteps() }},
		{"durations ±30% around the averages", func(seed uint64) []fakeStep {
			rng := rand.New(rand.NewPCG(seed, 2))
			s := hooliSteps()
			for i := range s {
				s[i].dur = time.Duration(float64(s[i].dur) * (0.7 + 0.6*rng.Float64()))
			}
			return s
		}},
	}
	const runs = 50
	var table strings.Builder
	fmt.Fprintf(&table, "\n%-40s %-9s %8s %12s %12s\n", "scenario", "strategy", "GETs", "mean notice", "max notice")
	for _, sc := range scenarios {
		totals := map[string]*simResult{}
		for seed := uint64(1); seed <= runs; seed++ {
			steps := sc.steps(seed)
			for _, strat := range []struct {
				name  string
				fixed time.Duration
			}{{"ours", 0}, {"fixed 1s", time.Second}, {"fixed 2s", 2 * time.Second}} {
				r := simulate(t, steps, strat.fixed, seed)
				tot := totals[strat.name]
				if tot == nil {
					tot = &simResult{}
					totals[strat.name] = tot
				}
				tot.gets += r.gets
				tot.meanDelay += r.meanDelay
				tot.maxDelay = max(tot.maxDelay, r.maxDelay)
			}
		}
		for _, name := range []string{"ours", "fixed 1s", "fixed 2s"} {
			tot := totals[name]
			fmt.Fprintf(&table, "%-40s %-9s %8.1f %12s %12s\n", sc.name, name,
				float64(tot.gets)/runs, (tot.meanDelay / runs).Round(time.Millisecond), tot.maxDelay.Round(time.Millisecond))
		}
		ours, fixed2 := totals["ours"], totals["fixed 2s"]
		ratio := float64(ours.gets) / float64(fixed2.gets)
		fmt.Fprintf(&table, "%-40s ours/fixed-2s GETs = %.0f%%\n", "", 100*ratio)
		if sc.name[0] == 'H' {
			assert.LessOrEqual(t, ratio, 0.40, "at most 40%% of fixed-2s GETs")
			assert.LessOrEqual(t, ours.meanDelay/runs, time.Second, "mean noticing delay at most 1 s")
		}
	}
	t.Log(table.String())
}
