package basiqtest_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banklink-go/basiq/basiqtest"
)

// accountIDs lists a connection's account ids.
func (e *consentEnv) accountIDs(connID string) []string {
	e.t.Helper()
	var ids []string
	for _, a := range e.connection(connID)["accounts"].(map[string]any)["data"].([]any) {
		ids = append(ids, a.(map[string]any)["id"].(string))
	}
	return ids
}

func TestPurge(t *testing.T) {
	e := newConsentEnv(t)
	ids := jobIDs(t, e.complete(consentURL(e.client), basiqtest.WithConsentLogins(
		login("AU00000", "gavinBelson", "hooli2016"), login("AU10001", "jared", "django"), login("AU00000", "bighead", "password"))))
	web, ob, invalid := e.connOf(ids[0]), e.connOf(ids[1]), e.connOf(ids[2])
	purge := func(tok, connID string) resp {
		return e.send("POST", "/users/"+e.user+"/connections/"+connID+"/purge", tok, nil)
	}

	before := e.accountIDs(web)
	require.Len(t, before, 3)
	assert.False(t, e.srv.TransactionsPurged(web))
	r := purge(e.server, web)
	require.Equal(t, http.StatusNoContent, r.Status, "body: %s", r.Body)
	assert.Empty(t, r.Body)
	assert.Empty(t, e.accountIDs(web), "the accounts are gone")
	assert.True(t, e.srv.TransactionsPurged(web), "and so are the transactions")
	c := e.connection(web)
	assert.Equal(t, "active", c["status"], "the connection stays")
	user := e.send("GET", "/users/"+e.user, e.server, nil).JSON(t)
	assert.EqualValues(t, 3, user["accounts"].(map[string]any)["count"], "only the open-banking connection's accounts are left")
	assert.Equal(t, http.StatusNoContent, purge(e.server, web).Status, "purging again is fine")
	assert.Equal(t, http.StatusNoContent, purge(e.server, ob).Status, "open banking too")

	// A refresh brings the data back (Basiq's purge-then-refresh for new Enrich results).
	r = e.send("POST", "/users/"+e.user+"/connections/"+web+"/refresh", e.server, nil)
	require.Equal(t, http.StatusAccepted, r.Status)
	assert.Equal(t, succeeded(), e.steps(r.JSON(t)["id"].(string)))
	after := e.accountIDs(web)
	assert.Len(t, after, 3)
	assert.NotEqual(t, before, after, "new accounts")
	assert.False(t, e.srv.TransactionsPurged(web))

	// Only active connections, only SERVER_ACCESS, only 3.0.
	requireError(t, purge(e.server, invalid), http.StatusBadRequest, "parameter-not-valid",
		"Only active connections can be purged; this connection is invalid.")
	requireError(t, purge(e.client, web), http.StatusForbidden, "forbidden-access")
	requireError(t, purge(e.serverToken("2.1"), web), http.StatusNotFound, "resource-not-found", "Route not found for this API version")
	requireError(t, purge(e.server, "8cda72db-b11f-4b8e-a4ca-3c5b1de4e4b5"), http.StatusNotFound, "resource-not-found")
	requireError(t, purge(e.server, "not-an-id"), http.StatusBadRequest, "parameter-not-valid")
	requireError(t, e.send("GET", "/users/"+e.user+"/connections/"+web+"/purge", e.server, nil), http.StatusMethodNotAllowed, "method-not-allowed")
	require.Equal(t, http.StatusNoContent, e.send("DELETE", "/users/"+e.user+"/connections/"+web, e.server, nil).Status)
	requireError(t, purge(e.server, web), http.StatusNotFound, "resource-not-found", "Requested connection does not exist.")
	assert.Equal(t, 9, e.srv.RequestCount("POST", "/users/{userId}/connections/{connectionId}/purge"), "every POST above was routed as a purge")
}

// A connection whose job is still running is pending, not active.
func TestPurgePendingConnection(t *testing.T) {
	clock := newFakeClock()
	e := newConsentEnv(t, basiqtest.WithClock(clock.Now), basiqtest.WithTimeScale(1))
	ids := jobIDs(t, e.complete(consentURL(e.client), basiqtest.WithConsentLogins(login("AU00000", "gavinBelson", "hooli2016"))))
	conn := e.connOf(ids[0])
	requireError(t, e.send("POST", "/users/"+e.user+"/connections/"+conn+"/purge", e.server, nil), http.StatusBadRequest, "parameter-not-valid",
		"Only active connections can be purged; this connection is pending.")
	clock.Add(time.Minute)
	assert.Equal(t, http.StatusNoContent, e.send("POST", "/users/"+e.user+"/connections/"+conn+"/purge", e.server, nil).Status)
}
