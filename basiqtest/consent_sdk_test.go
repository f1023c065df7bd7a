package basiqtest_test

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banklink-go/basiq"
	"github.com/banklink-go/basiq/basiqtest"
)

// The v3 path end to end with the SDK, in virtual time: a CLIENT_ACCESS
// token from the SDK, the Consent UI, the jobs from the redirect, the v3
// connection fields, and the CDR limit as the SDK sees it.
func TestSDKConsentFlow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := basiqtest.NewServer(basiqtest.InMemory())
		defer srv.Close()
		c, err := basiq.NewClient(srv.APIKey(), basiq.WithBaseURL(srv.URL), basiq.WithHTTPClient(srv.Client())) // 3.0 by default
		require.NoError(t, err)
		ctx := t.Context()
		user := sdkUser(t, c)
		tok, err := c.ClientToken(ctx, user)
		require.NoError(t, err)

		u := consentURL(tok.AccessToken, "state", "csrf-123")
		raw, err := srv.CompleteConsent(u, basiqtest.WithConsentLogins(
			login("AU00000", "gavinBelson", "hooli2016"), login("AU10001", "jared", "django"),
			basiqtest.ConsentLogin{InstitutionID: "AU10002", LoginID: "richard", Abandon: true}))
		require.NoError(t, err)
		redirect, err := url.Parse(raw)
		require.NoError(t, err)
		assert.Equal(t, "csrf-123", redirect.Query().Get("state"))
		ids := strings.Split(redirect.Query().Get("jobIds"), ",")
		require.Len(t, ids, 2)
		started := time.Now()
		for _, id := range ids {
			job, err := c.Jobs.Wait(ctx, id, nil)
			require.NoError(t, err)
			assert.Equal(t, basiq.JobSucceeded, job.Status())
			assert.Equal(t, "connection", job.JobType)
			_, hasMFA := job.Step(basiq.StepMFAChallenge)
			assert.False(t, hasMFA)
		}

		conns, err := c.Connections.List(ctx, user, nil)
		require.NoError(t, err)
		require.Len(t, conns, 3)
		byInst := map[string]basiq.Connection{}
		for _, conn := range conns {
			byInst[conn.Institution.ID] = conn
		}
		assert.Equal(t, "web", byInst["AU00000"].Method)
		assert.True(t, byInst["AU00000"].ExpiryDate.IsZero(), "web connections do not expire")
		ob := byInst["AU10001"]
		assert.Equal(t, "open-banking", ob.Method)
		assert.Equal(t, basiq.ConnectionActive, ob.Status)
		assert.WithinDuration(t, started.Add(365*24*time.Hour), ob.ExpiryDate, time.Minute)
		assert.Equal(t, basiq.ConnectionPreInit, byInst["AU10002"].Status)

		// Twenty refreshes of the open-banking connection, then the CDR limit.
		for range 20 {
			job, err := c.Connections.Refresh(ctx, user, ob.ID)
			require.NoError(t, err)
			_, err = c.Jobs.Wait(ctx, job.ID, nil)
			require.NoError(t, err)
		}
		_, err = c.Connections.Refresh(ctx, user, ob.ID)
		require.ErrorIs(t, err, basiq.ErrRateLimited)
		var apiErr *basiq.APIError
		require.True(t, errors.As(err, &apiErr))
		assert.Equal(t, "too-many-requests", apiErr.Code())
	})
}
