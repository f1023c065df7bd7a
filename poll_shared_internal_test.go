package basiq

import (
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSharedWaitsKeepEachWaitersTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		steps := []fakeStep{{name: StepVerifyCredentials, dur: 40 * time.Second}, {name: StepRetrieveAccounts, dur: 20 * time.Second}}
		f := newJobFake(steps)
		c := f.client()
		start := time.Now()
		var wg sync.WaitGroup
		var shortErr, longErr error
		var shortAt, longAt time.Duration
		var longJob *Job
		wg.Go(func() {
			_, shortErr = c.Jobs.Wait(t.Context(), fakeJobID, &PollOptions{Timeout: 3 * time.Second})
			shortAt = time.Since(start)
		})
		wg.Go(func() {
			time.Sleep(time.Second) // joins the loop the first waiter started
			longJob, longErr = c.Jobs.Wait(t.Context(), fakeJobID, &PollOptions{Timeout: 10 * time.Minute})
			longAt = time.Since(start)
		})
		wg.Wait()
		assert.ErrorIs(t, shortErr, ErrPollTimeout)
		assert.LessOrEqual(t, shortAt, 3*time.Second)
		require.NoError(t, longErr, "the second waiter keeps its own 10 minutes")
		assert.Equal(t, JobSucceeded, longJob.Status())
		assert.GreaterOrEqual(t, longAt, time.Minute)
	})
}
