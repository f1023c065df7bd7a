package basiqtest_test

import (
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	"github.com/banklink-go/basiq"
	"github.com/banklink-go/basiq/basiqtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCDRRefreshLimit(t *testing.T) {
	clock := newFakeClock()
	e := newConsentEnv(t, basiqtest.WithClock(clock.Now), basiqtest.WithTokenTTL(1000*time.Hour))
	ids := jobIDs(t, e.complete(consentURL(e.client), basiqtest.WithConsentLogins(
		login("AU10001", "gavinBelson", "hooli2016"), login("AU00000", "jared", "django"))))
	ob, web := e.connOf(ids[0]), e.connOf(ids[1])
	refresh := func(connID string) resp {
		return e.send("POST", "/users/"+e.user+"/connections/"+connID+"/refresh", e.server, nil)
	}

	start := clock.Now()
	for i := range 20 {
		r := refresh(ob)
		require.Equal(t, http.StatusAccepted, r.Status, "refresh %d: %s", i+1, r.Body)
		clock.Add(time.Minute)
	}
	e21 := requireError(t, refresh(ob), http.StatusTooManyRequests, "too-many-requests")
	assert.Contains(t, e21.Data[0].Detail, "20 refreshes in 24 hours")
	assert.Contains(t, e21.Data[0].Detail, start.Add(24*time.Hour).UTC().Format(time.RFC3339))
	requireError(t, refresh(ob), http.StatusTooManyRequests, "too-many-requests", e21.Data[0].Detail)

	// Web connections have no such limit; refresh-all leaves the limited one out.
	for range 25 {
		require.Equal(t, http.StatusAccepted, refresh(web).Status)
	}
	r := e.send("POST", "/users/"+e.user+"/connections/refresh", e.server, nil)
	require.Equal(t, http.StatusAccepted, r.Status)
	data := r.JSON(t)["data"].([]any)
	require.Len(t, data, 1)
	st, _ := e.srv.Job(data[0].(map[string]any)["id"].(string))
	assert.Equal(t, web, st.ConnectionID)

	// A rolling 24 hours: a second before the first refresh leaves the
	// window there is still none; then there is exactly one, and so on.
	clock.Add(start.Add(24*time.Hour - time.Second).Sub(clock.Now()))
	requireError(t, refresh(ob), http.StatusTooManyRequests, "too-many-requests")
	clock.Add(time.Second)
	assert.Equal(t, http.StatusAccepted, refresh(ob).Status)
	requireError(t, refresh(ob), http.StatusTooManyRequests, "too-many-requests")
	clock.Add(time.Minute)
	assert.Equal(t, http.StatusAccepted, refresh(ob).Status)

	// A refresh that answers with the running job starts nothing and costs nothing.
	slow := newConsentEnv(t, basiqtest.WithClock(clock.Now), basiqtest.WithTimeScale(1), basiqtest.WithTokenTTL(1000*time.Hour))
	ids = jobIDs(t, slow.complete(consentURL(slow.client), basiqtest.WithConsentLogins(login("AU10001", "gavinBelson", "hooli2016"))))
	conn := slow.connOf(ids[0])
	for range 30 {
		r := slow.send("POST", "/users/"+slow.user+"/connections/"+conn+"/refresh", slow.server, nil)
		require.Equal(t, http.StatusOK, r.Status, "the consent job is still running")
		assert.Equal(t, ids[0], r.JSON(t)["id"])
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
