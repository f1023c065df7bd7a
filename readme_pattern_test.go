package basiq_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banklink-go/basiq"
	"github.com/banklink-go/basiq/basiqtest"
)

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
