package basiqtest_test

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

// These tests drive the fake with the SDK itself, as a user of both would.

func sdkClient(t *testing.T, srv *basiqtest.Server, opts ...basiq.Option) *basiq.Client {
	t.Helper()
	all := append([]basiq.Option{basiq.WithBaseURL(srv.URL), basiq.WithHTTPClient(srv.Client()),
		basiq.WithAPIVersion(basiq.V2_1)}, opts...)
	c, err := basiq.NewClient(srv.APIKey(), all...)
	require.NoError(t, err)
	return c
}

func sdkUser(t *testing.T, c *basiq.Client) string {
	t.Helper()
	u, err := c.Users.Create(t.Context(), basiq.UserParams{Email: "max@example.com"})
	require.NoError(t, err)
	return u.ID
}

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

func TestSDKRefreshWhileRunningReusesJob(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := basiqtest.NewServer(basiqtest.InMemory())
		defer srv.Close()
		c := sdkClient(t, srv)
		user := sdkUser(t, c)
		job, err := c.Connections.Create(t.Context(), user, basiq.Credentials{InstitutionID: "AU00000", LoginID: "gavinBelson", Password: "hooli2016"})
		require.NoError(t, err)
		p := c.Jobs.Poller(job.ID, nil)
		done, err := p.WaitForStep(t.Context(), basiq.StepVerifyCredentials)
		require.NoError(t, err)
		conn := done.ConnectionID()

		again, err := c.Connections.Refresh(t.Context(), user, conn)
		require.NoError(t, err)
		assert.True(t, again.Reused, "a refresh while a job runs answers 200 with that job")
		assert.Equal(t, job.ID, again.ID)

		_, err = p.Wait(t.Context())
		require.NoError(t, err)
		fresh, err := c.Connections.Refresh(t.Context(), user, conn)
		require.NoError(t, err)
		assert.False(t, fresh.Reused)
		assert.NotEqual(t, job.ID, fresh.ID)

		// RefreshIfStale sees the running job and starts nothing.
		guarded, err := c.Connections.RefreshIfStale(t.Context(), user, conn, time.Nanosecond)
		require.NoError(t, err)
		require.NotNil(t, guarded)
		assert.Equal(t, fresh.ID, guarded.ID)
		assert.Equal(t, 2, srv.RequestCount("POST", "/users/{userId}/connections/{connectionId}/refresh"))
	})
}

func TestSDKDuplicateCreateIsHeldSixMinutes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := basiqtest.NewServer(basiqtest.InMemory())
		defer srv.Close()
		c := sdkClient(t, srv)
		creds := basiq.Credentials{InstitutionID: "AU00000", LoginID: "gavinBelson", Password: "hooli2016"}
		first, err := c.Connections.Create(t.Context(), sdkUser(t, c), creds)
		require.NoError(t, err)
		second, err := c.Connections.Create(t.Context(), sdkUser(t, c), creds)
		require.NoError(t, err)
		assert.NotEqual(t, first.ID, second.ID)

		start := time.Now()
		_, err = c.Jobs.Wait(t.Context(), first.ID, nil)
		require.NoError(t, err)
		held, err := c.Jobs.Get(t.Context(), second.ID)
		require.NoError(t, err)
		assert.Equal(t, basiq.JobPending, held.Status(), "the duplicate is paused")
		_, err = c.Jobs.Wait(t.Context(), second.ID, &basiq.PollOptions{Timeout: 10 * time.Minute})
		require.NoError(t, err)
		assert.GreaterOrEqual(t, time.Since(start), 6*time.Minute)
	})
}

func TestSDKTokenExpiry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := basiqtest.NewServer(basiqtest.InMemory())
		defer srv.Close()
		c := sdkClient(t, srv)
		user := sdkUser(t, c)
		assert.Equal(t, 1, srv.TokenRequests())
		srv.ExpireTokens()
		_, err := c.Users.Get(t.Context(), user)
		require.NoError(t, err, "a 403 access-denied is answered by one new token and one replay")
		assert.Equal(t, 2, srv.TokenRequests())
		assert.Equal(t, 2, srv.RequestCount("GET", "/users/{userId}"))

		// The fake's TTL passes: the client's own refresh keeps calls working.
		time.Sleep(2 * time.Hour)
		_, err = c.Users.Get(t.Context(), user)
		require.NoError(t, err)
		assert.Equal(t, 3, srv.TokenRequests())
	})
}

func TestSDKWrongKey(t *testing.T) {
	srv := basiqtest.NewServer(basiqtest.InMemory())
	defer srv.Close()
	c, err := basiq.NewClient("bm90LXRoZS1rZXk=", basiq.WithBaseURL(srv.URL), basiq.WithHTTPClient(srv.Client()))
	require.NoError(t, err)
	_, err = c.Users.Get(t.Context(), "5b3532e0-23c7-48cb-b7a4-ff37f46c3eb1")
	var authErr *basiq.AuthError
	require.ErrorAs(t, err, &authErr)
	assert.Equal(t, 404, authErr.StatusCode)
	assert.Equal(t, 1, srv.TokenRequests(), "a bad key is not retried")
}

func TestSDKFaultInjection(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := basiqtest.NewServer(basiqtest.InMemory())
		defer srv.Close()
		c := sdkClient(t, srv)
		user := sdkUser(t, c)

		srv.InjectFault(basiqtest.Fault{Method: "GET", Path: "/users/*", Count: 2, Status: 503})
		_, err := c.Users.Get(t.Context(), user)
		require.NoError(t, err, "two 503s are retried away")
		assert.Equal(t, 3, srv.RequestCount("GET", "/users/{userId}"))

		srv.InjectFault(basiqtest.Fault{Method: "GET", Path: "/users/*", Count: 1, Status: 429, RetryAfter: "3"})
		start := time.Now()
		_, err = c.Users.Get(t.Context(), user)
		require.NoError(t, err)
		assert.Equal(t, 3*time.Second, time.Since(start), "Retry-After honoured")

		srv.InjectFault(basiqtest.Fault{Method: "POST", Path: "/users/*/connections", Count: 1, Reset: true})
		_, err = c.Connections.Create(t.Context(), user, basiq.Credentials{InstitutionID: "AU00000", LoginID: "gavinBelson", Password: "hooli2016"})
		require.Error(t, err, "a reset after sending is not retried")
		assert.Equal(t, 1, srv.RequestCount("POST", "/users/{userId}/connections"))

		srv.InjectFault(basiqtest.Fault{Method: "GET", Path: "/users/*", Count: 1, Truncate: true})
		_, err = c.Users.Get(t.Context(), user)
		require.NoError(t, err, "a truncated GET body is asked for again")
	})
}

func TestSDKErrorEnvelope(t *testing.T) {
	srv := basiqtest.NewServer(basiqtest.InMemory())
	defer srv.Close()
	c := sdkClient(t, srv)
	_, err := c.Users.Create(t.Context(), basiq.UserParams{Email: "not-an-email"})
	var apiErr *basiq.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 400, apiErr.StatusCode)
	assert.NotEmpty(t, apiErr.CorrelationID)
	assert.NotEmpty(t, apiErr.Code())
	assert.ErrorIs(t, err, basiq.ErrInvalidInput)

	_, err = c.Users.Get(t.Context(), "5b3532e0-23c7-48cb-b7a4-ff37f46c3eb1")
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, "resource-not-found", apiErr.Code())
	assert.ErrorIs(t, err, basiq.ErrNotFound)

	_, err = c.Institutions.Get(t.Context(), "XX99999")
	assert.ErrorIs(t, err, basiq.ErrNotFound)

	v3 := sdkClient(t, srv, basiq.WithAPIVersion(basiq.V3))
	_, err = v3.Connections.Create(context.Background(), "u", basiq.Credentials{InstitutionID: "AU00000", LoginID: "a", Password: "b"})
	assert.True(t, errors.Is(err, basiq.ErrUnsupportedVersion))
}
