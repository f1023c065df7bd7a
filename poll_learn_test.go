package basiq

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPollerLearnsTheInstitutionOfAV3Job(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newJobFake(hooliSteps())
		f.v3 = true // no links.source until verify-credentials ends
		c := f.client()
		start := time.Now()
		_, err := c.Jobs.Poller(fakeJobID, &PollOptions{Operation: OpCreate}).Wait(t.Context())
		require.NoError(t, err)
		f.mu.Lock()
		assert.Equal(t, 1, f.connGets, "the job's connection looked up once, for its institution")
		assert.Equal(t, 1, f.instGets)
		gets := append([]time.Time(nil), f.jobGets...)
		f.mu.Unlock()
		// After verify-credentials the schedule follows the institution's own
		// averages: retrieve-accounts is looked at about when it ends.
		ends := f.ends(time.Now())
		var afterVerify time.Time
		for _, g := range gets {
			if g.After(ends[0]) {
				afterVerify = g
				break
			}
		}
		require.False(t, afterVerify.IsZero())
		for _, g := range gets {
			if g.After(afterVerify) {
				assert.InDelta(t, ends[1].Sub(start).Seconds(), g.Sub(start).Seconds(), 0.5, "retrieve-accounts looked at when it ends")
				break
			}
		}

		// Another poller of the client: the connection's institution is known.
		f.mu.Lock()
		f.start, f.jobGets = time.Now(), nil
		f.mu.Unlock()
		_, err = c.Jobs.Poller(fakeJobID, nil).Wait(t.Context())
		require.NoError(t, err)
		f.mu.Lock()
		assert.Equal(t, 1, f.connGets, "cached by connection id")
		f.mu.Unlock()
	})
}

func TestPollerFirstLookAtAJobItStarted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newJobFake(hooliSteps())
		c := f.client()
		c.jobs.jitter = func() float64 { return 0 }
		start := time.Now()
		job, err := c.Connections.Refresh(t.Context(), fakeUserID, fakeConnID)
		require.NoError(t, err)
		_, err = c.Jobs.Poller(job.ID, nil).Wait(t.Context()) // no InstitutionID: the refreshed connection tells it
		require.NoError(t, err)
		f.mu.Lock()
		defer f.mu.Unlock()
		require.GreaterOrEqual(t, len(f.jobGets), 3)
		verify := 8154 * time.Millisecond
		assert.Equal(t, time.Duration(earlyLookShare*float64(verify)), f.jobGets[0].Sub(start),
			"no look at a job the client has just started before an early look at its first step")
		assert.Equal(t, verify+pollSlack, f.jobGets[1].Sub(start), "then at its expected end")
		assert.Equal(t, 1, f.connGets, "the refreshed connection gave the institution")
	})
	t.Run("a job the client did not start is looked at at once", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			f := newJobFake(hooliSteps())
			c := f.client()
			start := time.Now()
			_, err := c.Jobs.Poller(fakeJobID, nil).Wait(t.Context())
			require.NoError(t, err)
			assert.Equal(t, start, f.jobGets[0])
		})
	})
}

func TestReportedZeroAveragesMeanFastSteps(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		steps := []fakeStep{{name: StepVerifyCredentials, dur: 50 * time.Millisecond}, {name: StepRetrieveAccounts, dur: 50 * time.Millisecond}}
		f := newJobFake(steps)
		for k := range f.avg {
			f.avg[k] = 0 // basiqtest at time scale 0 reports zeros
		}
		c := f.client()
		start := time.Now()
		_, err := c.Jobs.Poller(fakeJobID, &PollOptions{InstitutionID: fakeInstID}).Wait(t.Context())
		require.NoError(t, err)
		assert.Less(t, time.Since(start), 3*time.Second, "reported zeros are not replaced by the default curve")
	})
}

func TestStepLearner(t *testing.T) {
	var l stepLearner
	_, ok := l.average(StepVerifyCredentials)
	assert.False(t, ok)
	l.observe(StepVerifyCredentials, 15*time.Second, 16*time.Second) // precise: 15.5 s
	got, _ := l.average(StepVerifyCredentials)
	assert.InDelta(t, (8*time.Second + time.Duration(learnWeight*float64(7500*time.Millisecond))).Seconds(), got.Seconds(), 0.01,
		"moves from the default curve towards the observation")
	before := got
	l.observe(StepVerifyCredentials, 0, 30*time.Second) // vague: the end is somewhere in 30 s
	got, _ = l.average(StepVerifyCredentials)
	assert.InDelta(t, before.Seconds(), got.Seconds(), 0.3, "a vague observation barely counts")
	for range 30 {
		l.observe(StepVerifyCredentials, 15*time.Second, 16*time.Second)
	}
	got, _ = l.average(StepVerifyCredentials)
	assert.InDelta(t, 15.5, got.Seconds(), 0.1, "converges")
	l.observe(StepVerifyCredentials, 20*time.Minute, 21*time.Minute)
	got, _ = l.average(StepVerifyCredentials)
	assert.InDelta(t, 15.5, got.Seconds(), 0.1, "a wait for the user is not a step's duration")
}
