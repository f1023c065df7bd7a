package basiq_test

// Waits end at their deadline: tested on basiqtest (in memory, in virtual
// time), so outside package basiq, which basiqtest imports.

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banklink-go/basiq"
	"github.com/banklink-go/basiq/basiqtest"
)

// A wait with PollOptions.Timeout returns at its deadline, not before, and
// no later than one poll's round trip after it, with an error naming the
// real elapsed time: Jobs.WaitAll, Jobs.Wait and Poller.Wait on a job of a
// slow bank (Hooli at 20 times its pace: minutes of work), with a Timeout of
// 3 s and 300 ms a poll.
func TestWaitWithTimeoutReturnsAtItsDeadline(t *testing.T) {
	const (
		timeout   = 3 * time.Second
		roundTrip = 300 * time.Millisecond
	)
	for _, how := range []string{"Jobs.WaitAll", "Jobs.Wait", "Poller.Wait"} {
		t.Run(how, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				srv, c := fakeV21(t, basiqtest.WithTimeScale(20))
				u, err := c.Users.Create(t.Context(), basiq.UserParams{Email: "slow@example.com"})
				require.NoError(t, err)
				job, err := c.Connections.Create(t.Context(), u.ID, basiq.Credentials{InstitutionID: "AU00000", LoginID: "gavinBelson", Password: "hooli2016"})
				require.NoError(t, err)
				srv.InjectFault(basiqtest.Fault{Method: "GET", Path: "/jobs/*", Delay: roundTrip, Count: -1})
				opts := &basiq.PollOptions{InstitutionID: "AU00000", Timeout: timeout}
				start := time.Now()
				switch how {
				case "Jobs.WaitAll":
					var out []basiq.JobOutcome
					out, err = c.Jobs.WaitAll(t.Context(), []string{job.ID}, opts)
					require.NoError(t, err, "WaitAll itself does not fail for a job's timeout")
					require.Len(t, out, 1)
					err = out[0].Err
				case "Jobs.Wait":
					_, err = c.Jobs.Wait(t.Context(), job.ID, opts)
				case "Poller.Wait":
					_, err = c.Jobs.Poller(job.ID, opts).Wait(t.Context())
				}
				took := time.Since(start)
				t.Logf("returned after %v: %v", took, err)
				require.ErrorIs(t, err, basiq.ErrPollTimeout)
				assert.GreaterOrEqual(t, took, timeout, "not before its deadline: %v", err)
				assert.LessOrEqual(t, took, timeout+roundTrip, "at most one poll's round trip after it: %v", err)
				assert.Contains(t, err.Error(), "after "+took.Round(time.Millisecond).String(), "the real elapsed time")
				assert.Positive(t, srv.RequestCount("GET", "/jobs/{jobId}"), "the job was looked at")
			})
		})
	}
}
