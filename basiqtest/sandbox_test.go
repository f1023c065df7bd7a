package basiqtest_test

import (
	"testing"
	"testing/synctest"

	"github.com/banklink-go/basiq"
	"github.com/banklink-go/basiq/basiqtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSDKSandboxUsers(t *testing.T) {
	cases := []struct {
		login, password string
		institution     string
		mfa             []string
		failStep        basiq.StepName
		code            string
		action          basiq.Action
	}{
		{login: "gavinBelson", password: "hooli2016", institution: "AU00000"},
		{login: "Wentworth-Smith", password: "whislter", institution: "AU00000"},
		{login: "jared", password: "django", institution: "AU00002", mfa: []string{"1234"}},
		{login: "gavinBelson", password: "hooli2016", institution: "AU00002", mfa: []string{"Hooli"}},
		{login: "bighead", password: "password", institution: "AU00000",
			failStep: basiq.StepVerifyCredentials, code: "invalid-credentials", action: basiq.ActionCheckCredentials},
		{login: "erlich", password: "aviato", institution: "AU00000",
			failStep: basiq.StepRetrieveAccounts, code: "account-not-accessible-requires-user-action", action: basiq.ActionResolveAtBank},
		{login: "jianYang", password: "nothotdog", institution: "AU00000",
			failStep: basiq.StepRetrieveTransactions, code: "service-unavailable", action: basiq.ActionRetryLater},
		{login: "gavinBelson", password: "wrong", institution: "AU00000",
			failStep: basiq.StepVerifyCredentials, code: "invalid-credentials", action: basiq.ActionCheckCredentials},
	}
	for _, tc := range cases {
		t.Run(tc.institution+"/"+tc.login+"/"+tc.password, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				srv := basiqtest.NewServer(basiqtest.InMemory())
				defer srv.Close()
				c := sdkClient(t, srv)
				user := sdkUser(t, c)
				job, err := c.Connections.Create(t.Context(), user, basiq.Credentials{
					InstitutionID: tc.institution, LoginID: tc.login, Password: tc.password})
				require.NoError(t, err)
				p := c.Jobs.Poller(job.ID, &basiq.PollOptions{Operation: basiq.OpCreate, InstitutionID: tc.institution})
				var answered bool
				var failedEvent *basiq.StepEvent
				for ev, err := range p.Steps(t.Context()) {
					require.NoError(t, err)
					if _, ok := ev.Step.MFAPrompt(); ok {
						require.NotEmpty(t, tc.mfa, "unexpected MFA prompt")
						_, err := c.Jobs.SubmitMFA(t.Context(), user, job.ID, tc.mfa)
						require.NoError(t, err)
						answered = true
					}
					if ev.Step.Status == basiq.StepFailed {
						failedEvent = &ev
					}
				}
				assert.Equal(t, len(tc.mfa) > 0, answered)
				final := p.Job()
				if tc.code == "" {
					assert.Equal(t, basiq.JobSucceeded, final.Status())
					conn, err := c.Connections.Get(t.Context(), user, final.ConnectionID())
					require.NoError(t, err)
					assert.Equal(t, basiq.ConnectionActive, conn.Status)
					assert.NotEmpty(t, conn.Accounts)
					return
				}
				require.NotNil(t, failedEvent)
				assert.Equal(t, tc.failStep, failedEvent.Step.Title)
				require.NotNil(t, failedEvent.Diagnosis)
				assert.Equal(t, tc.code, failedEvent.Diagnosis.Code)
				assert.Equal(t, tc.action, failedEvent.Diagnosis.Action)
			})
		})
	}
}
