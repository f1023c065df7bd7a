package basiq_test

// Waits end at their deadline: tested on basiqtest (in memory, in virtual
// time), so outside package basiq, which basiqtest imports.

import (
	"context"
	"errors"
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

// connectLikeTheREADME is the README's 2.1 pattern, as a user would copy it:
// wait for verify-credentials answering MFA prompts, release the user, then
// Wait. It returns how many prompts were answered.
func connectLikeTheREADME(ctx context.Context, c *basiq.Client, userID, jobID, instID string, answers []string) (*basiq.Job, int, error) {
	p := c.Jobs.Poller(jobID, &basiq.PollOptions{Operation: basiq.OpCreate, InstitutionID: instID})
	prompts := 0
	for {
		_, err := p.WaitForStep(ctx, basiq.StepVerifyCredentials)
		var mfa *basiq.MFARequiredError
		if errors.As(err, &mfa) {
			prompts++
			if _, err := c.Jobs.SubmitMFA(ctx, userID, jobID, answers); err != nil {
				return nil, prompts, err
			}
			continue
		}
		if err != nil {
			return nil, prompts, err
		}
		break
	}
	job, err := p.Wait(ctx)
	return job, prompts, err
}

// TestReadmePatternOnEverySandboxBank runs the README's pattern for every
// sandbox login on every sandbox bank, MFA banks included, on API 2.1.
func TestReadmePatternOnEverySandboxBank(t *testing.T) {
	logins := []struct {
		login, password string
		answers         []string
	}{
		{"Wentworth-Smith", "whislter", []string{"Basiq", "AU00000"}},
		{"Whistler", "ShowBox", []string{"Basiq", "AU00000"}},
		{"Gilfoyle", "PiedPiper", []string{"Hooli"}},
		{"gavinBelson", "hooli2016", []string{"Hooli"}},
		{"jared", "django", []string{"1234"}},
		{"richard", "tabsnotspaces", []string{"1234"}},
	}
	banks := []struct {
		id      string
		prompts int // on a connection's first job
	}{{"AU00000", 0}, {"AU00002", 1}, {"AU00003", 1}, {"AU00004", 0}}
	for _, bank := range banks {
		for _, l := range logins {
			t.Run(bank.id+"/"+l.login, func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					srv := basiqtest.NewServer(basiqtest.InMemory())
					defer srv.Close()
					c, err := basiq.NewClient(srv.APIKey(), basiq.WithAPIVersion(basiq.V2_1),
						basiq.WithBaseURL(srv.URL), basiq.WithHTTPClient(srv.Client()))
					require.NoError(t, err)
					ctx := t.Context()
					user, err := c.Users.Create(ctx, basiq.UserParams{Email: "readme@example.com"})
					require.NoError(t, err)
					job, err := c.Connections.Create(ctx, user.ID, basiq.Credentials{InstitutionID: bank.id, LoginID: l.login, Password: l.password})
					require.NoError(t, err)

					done, prompts, err := connectLikeTheREADME(ctx, c, user.ID, job.ID, bank.id, l.answers)
					require.NoError(t, err)
					assert.Equal(t, basiq.JobSucceeded, done.Status())
					assert.Equal(t, bank.prompts, prompts)
				})
			})
		}
	}
}

// TestRefreshAfterTheUserClearsThePopup follows ActionResolveAtBank's advice
// on 2.1: once the user has cleared the bank's popup, a refresh works; a
// connection whose credentials failed cannot be refreshed until they are
// updated.
func TestRefreshAfterTheUserClearsThePopup(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := basiqtest.NewServer(basiqtest.InMemory(), basiqtest.WithTimeScale(0))
		defer srv.Close()
		c, err := basiq.NewClient(srv.APIKey(), basiq.WithAPIVersion(basiq.V2_1), basiq.WithBaseURL(srv.URL), basiq.WithHTTPClient(srv.Client()))
		require.NoError(t, err)
		ctx := t.Context()
		user, err := c.Users.Create(ctx, basiq.UserParams{Email: "erlich@aviato.com"})
		require.NoError(t, err)
		connect := func(login, password string) (*basiq.Job, error) {
			job, err := c.Connections.Create(ctx, user.ID, basiq.Credentials{InstitutionID: "AU00000", LoginID: login, Password: password})
			require.NoError(t, err)
			return c.Jobs.Wait(ctx, job.ID, &basiq.PollOptions{Operation: basiq.OpCreate})
		}
		job, err := connect("erlich", "aviato")
		var failed *basiq.JobFailedError
		require.ErrorAs(t, err, &failed)
		require.Equal(t, basiq.ActionResolveAtBank, failed.Diagnosis.Action)

		srv.SetLoginOutcome("erlich", basiqtest.Outcome{}) // the user cleared the popup
		refresh, err := c.Connections.Refresh(ctx, user.ID, job.ConnectionID())
		require.NoError(t, err, "a refresh is what the advice says")
		done, err := c.Jobs.Wait(ctx, refresh.ID, &basiq.PollOptions{Operation: basiq.OpRefresh})
		require.NoError(t, err)
		assert.Equal(t, basiq.JobSucceeded, done.Status())

		job, err = connect("bighead", "password")
		require.ErrorAs(t, err, &failed)
		require.Equal(t, basiq.ActionCheckCredentials, failed.Diagnosis.Action)
		_, err = c.Connections.Refresh(ctx, user.ID, job.ConnectionID())
		assert.ErrorIs(t, err, basiq.ErrInvalidInput, "credentials first: Connections.Update")
	})
}

// A context whose deadline comes before the first wait on a job the client
// started still gets a look at the job, through a Poller and through the
// shared Jobs.Wait.
func TestShortContextDeadlineStillLooksAtTheJob(t *testing.T) {
	for _, d := range []time.Duration{3 * time.Second, 6 * time.Second} {
		for _, shared := range []bool{false, true} {
			name := d.String() + "/Poller.WaitForStep"
			if shared {
				name = d.String() + "/Jobs.Wait"
			}
			t.Run(name, func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					srv, c := fakeV21(t)
					u, err := c.Users.Create(t.Context(), basiq.UserParams{Email: "a@example.com"})
					require.NoError(t, err)
					job, err := c.Connections.Create(t.Context(), u.ID, basiq.Credentials{InstitutionID: "AU00000", LoginID: "gavinBelson", Password: "hooli2016"})
					require.NoError(t, err)
					ctx, cancel := context.WithTimeout(t.Context(), d)
					defer cancel()
					start := time.Now()
					opts := &basiq.PollOptions{InstitutionID: "AU00000", Operation: basiq.OpCreate}
					var got *basiq.Job
					if shared {
						got, err = c.Jobs.Wait(ctx, job.ID, opts)
					} else {
						got, err = c.Jobs.Poller(job.ID, opts).WaitForStep(ctx, basiq.StepVerifyCredentials)
					}
					assert.LessOrEqual(t, time.Since(start), d, "within the context's deadline")
					assert.Positive(t, srv.RequestCount("GET", "/jobs/{jobId}"), "the job was looked at")
					if assert.Error(t, err) {
						assert.ErrorIs(t, err, context.DeadlineExceeded)
						assert.NotNil(t, got, "the job as last seen comes with the error: %v", err)
					}
				})
			})
		}
	}
}
