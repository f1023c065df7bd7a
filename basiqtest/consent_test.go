package basiqtest_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banklink-go/basiq/basiqtest"
)

func TestCompleteConsentFirstConnection(t *testing.T) {
	e := newConsentEnv(t)
	redirect := e.complete(consentURL(e.client, "state", "s1", "institutionId", "AU00000"),
		basiqtest.WithConsentLogins(basiqtest.ConsentLogin{LoginID: "gavinBelson", Password: "hooli2016"}))

	assert.Equal(t, "https", redirect.Scheme)
	assert.Equal(t, "app.example", redirect.Host)
	assert.Equal(t, "/basiq/callback", redirect.Path)
	assert.Equal(t, "s1", redirect.Query().Get("state"))
	ids := jobIDs(t, redirect)
	require.Len(t, ids, 1)

	// The job is the app's to poll, with the user's CLIENT_ACCESS token too;
	// the Consent UI took the MFA answer, so there is no mfa-challenge step.
	j := e.job(e.client, ids[0])
	assert.Equal(t, "connection", j.JobType)
	assert.Equal(t, succeeded(), j.statuses())
	conn := e.connection(e.connOf(ids[0]))
	assert.Equal(t, "web", conn["method"])
	assert.Equal(t, "", conn["expiryDate"])
	assert.Equal(t, "active", conn["status"])

	cs := e.consents()
	require.Len(t, cs, 1)
	assert.Equal(t, "active", cs[0]["status"])
	assert.NotContains(t, cs[0], "revoked")
}

func TestCompleteConsentSeveralLoginsInOrder(t *testing.T) {
	e := newConsentEnv(t)
	logins := []basiqtest.ConsentLogin{
		login("AU00002", "jared", "django"),             // MFA bank: answered in the UI
		login("AU10001", "richard", "tabsnotspaces"),    // open banking
		login("AU00000", "gavinBelson", "hooli2016"),    // web
		login("AU00003", "Gilfoyle", "PiedPiper"),       // intermittent MFA
		login("AU00000", "Wentworth-Smith", "whislter"), // a second login at the same bank
	}
	raw, err := e.srv.CompleteConsent(consentURL(e.client, "action", "null", "state", "x"), basiqtest.WithConsentLogins(logins...))
	require.NoError(t, err)
	redirect, err := url.Parse(raw)
	require.NoError(t, err)
	ids := jobIDs(t, redirect)
	require.Len(t, ids, len(logins))
	assert.Contains(t, raw, "jobIds="+strings.Join(ids, ","), "ids are joined with literal commas, as Basiq shows them")

	for i, id := range ids {
		st, ok := e.srv.Job(id)
		require.True(t, ok)
		assert.Equal(t, logins[i].InstitutionID, st.InstitutionID, "job %d", i)
		assert.Equal(t, "create", st.Operation)
		assert.Equal(t, succeeded(), e.steps(id), "job %d has no mfa-challenge step", i)
	}
	ob := e.connection(e.connOf(ids[1]))
	assert.Equal(t, "open-banking", ob["method"])
	cs := e.consents()
	require.Len(t, cs, 1, "one consent for all the connections")
	assert.Equal(t, cs[0]["expiryDate"], ob["expiryDate"], "an open-banking connection lasts as long as its consent")
	assert.Len(t, e.connections(), len(logins))
}

func TestCompleteConsentStateRoundTrip(t *testing.T) {
	e := newConsentEnv(t)
	kib := strings.Repeat("a&b=c#d e+f%20/?", 64)
	require.Len(t, kib, 1024)
	states := map[string]string{
		"ampersand and equals": "a&jobIds=evil&b=c",
		"hash":                 "#not-a-fragment",
		"spaces":               "  two  spaces  ",
		"plus and percent":     "1+1=2 %41 %zz",
		"unicode":              "café ✓ 日本語 🏦",
		"empty":                "",
		"json":                 `{"return":"/accounts?x=1","nonce":"n"}`,
		"one KiB":              kib,
		"control characters":   "line\nbreak\ttab",
	}
	for name, state := range states {
		t.Run(name, func(t *testing.T) {
			redirect := e.complete(consentURL(e.client, "state", state),
				basiqtest.WithConsentLogins(login("AU00000", "gavinBelson", "hooli2016")))
			q := redirect.Query()
			require.True(t, q.Has("state"))
			assert.Equal(t, state, q.Get("state"))
			assert.Len(t, q["state"], 1)
			assert.Len(t, jobIDs(t, redirect), 1, "state cannot inject job ids")
			assert.Empty(t, redirect.Fragment)
		})
	}

	// No state in, no state out.
	redirect := e.complete(consentURL(e.client), basiqtest.WithConsentLogins(login("AU00000", "gavinBelson", "hooli2016")))
	assert.False(t, redirect.Query().Has("state"))
}

func TestCompleteConsentRedirectURLOption(t *testing.T) {
	e := newConsentEnv(t, basiqtest.WithConsentRedirectURL("http://localhost:8080/cb?tenant=a%26b&state=stale&jobIds=stale#top"))
	redirect := e.complete(consentURL(e.client, "state", "fresh"), basiqtest.WithConsentLogins(login("AU00000", "gavinBelson", "hooli2016")))
	assert.Equal(t, "localhost:8080", redirect.Host)
	assert.Equal(t, "/cb", redirect.Path)
	assert.Equal(t, "top", redirect.Fragment)
	q := redirect.Query()
	assert.Equal(t, "a&b", q.Get("tenant"), "the Redirect URL's own parameters are kept")
	assert.Equal(t, []string{"fresh"}, q["state"], "and ours replace theirs")
	assert.Len(t, jobIDs(t, redirect), 1)

	for _, bad := range []string{"not a url", "/relative", "ftp://x/y", "https://user:pw@app.example/cb", "https://app.example/cb?%zz"} {
		e := newConsentEnv(t, basiqtest.WithConsentRedirectURL(bad))
		_, err := e.srv.CompleteConsent(consentURL(e.client), basiqtest.WithConsentLogins(login("AU00000", "gavinBelson", "hooli2016")))
		require.Error(t, err, bad)
		assert.Contains(t, err.Error(), "WithConsentRedirectURL")
		assert.NotContains(t, err.Error(), "pw", "the Redirect URL is not quoted")
		assert.Empty(t, e.consents(), "nothing happened")
	}
}

func TestCompleteConsentCancel(t *testing.T) {
	e := newConsentEnv(t)
	redirect := e.complete(consentURL(e.client, "state", "st", "institutionId", "AU00000"), basiqtest.WithConsentCancel())
	assert.Equal(t, url.Values{"state": {"st"}}, redirect.Query(), "no job ids, no error parameter: Basiq documents none")
	assert.Empty(t, e.consents(), "cancelling captures no consent")
	assert.Empty(t, e.connections())

	// Cancel still needs a URL the Consent UI would open.
	_, err := e.srv.CompleteConsent(consentURL(e.client, "action", "connect"), basiqtest.WithConsentCancel())
	assert.ErrorIs(t, err, basiqtest.ErrNoActiveConsent)
}

func TestCompleteConsentAcceptsTheFakesOwnPage(t *testing.T) {
	e := newConsentEnv(t)
	assert.Equal(t, e.srv.URL+"/consent/home", e.srv.ConsentPageURL())
	own := e.srv.ConsentPageURL() + "?" + url.Values{"token": {e.client}, "state": {"s"}}.Encode()
	redirect := e.complete(own, basiqtest.WithConsentLogins(login("AU00000", "gavinBelson", "hooli2016")))
	assert.Len(t, jobIDs(t, redirect), 1)

	// AV3 sends userId and the literal action=null; both are fine.
	redirect = e.complete(consentURL(e.client, "userId", e.user, "action", "null", "redirectUrl", "https://ignored.example"),
		basiqtest.WithConsentLogins(login("AU00000", "jared", "django")))
	assert.Equal(t, "app.example", redirect.Host, "unknown parameters are ignored")
}

func TestCompleteConsentWebCredentialUpdate(t *testing.T) {
	e := newConsentEnv(t)
	ids := jobIDs(t, e.complete(consentURL(e.client), basiqtest.WithConsentLogins(login("AU00000", "gavinBelson", "hooli2016"))))
	connID := e.connOf(ids[0])

	// The user changes their bank password: refreshes now fail.
	e.srv.SetLoginPassword("gavinBelson", "n3w-password")
	r := e.send("POST", "/users/"+e.user+"/connections/"+connID+"/refresh", e.server, nil)
	require.Equal(t, http.StatusAccepted, r.Status)
	refresh := r.JSON(t)["id"].(string)
	assert.Equal(t, "failed", e.job(e.server, refresh).step(t, "verify-credentials").Status)
	assert.Equal(t, "invalid", e.connection(connID)["status"])

	// On 3.0 the remedy is the Consent UI with connectionId.
	redirect := e.complete(consentURL(e.client, "connectionId", connID, "state", "upd"),
		basiqtest.WithConsentLogins(basiqtest.ConsentLogin{Password: "n3w-password"}))
	ids = jobIDs(t, redirect)
	require.Len(t, ids, 1)
	st, _ := e.srv.Job(ids[0])
	assert.Equal(t, connID, st.ConnectionID, "the job runs on the same connection")
	assert.Equal(t, "update", st.Operation)
	assert.Equal(t, succeeded(), e.steps(ids[0]))
	assert.Equal(t, "active", e.connection(connID)["status"])
	assert.Len(t, e.connections(), 1, "no new connection")

	// The same login id is fine; another is another connection.
	_, err := e.srv.CompleteConsent(consentURL(e.client, "connectionId", connID),
		basiqtest.WithConsentLogins(basiqtest.ConsentLogin{LoginID: "jared", Password: "django"}))
	assert.ErrorIs(t, err, basiqtest.ErrConsentOptions)
	_, err = e.srv.CompleteConsent(consentURL(e.client, "connectionId", connID),
		basiqtest.WithConsentLogins(login("AU00000", "gavinBelson", "n3w-password")))
	assert.NoError(t, err)
}

func TestCompleteConsentOpenBanking(t *testing.T) {
	clock := newFakeClock()
	e := newConsentEnv(t, basiqtest.WithClock(clock.Now), basiqtest.WithTokenTTL(1000*24*time.Hour))
	day := 24 * time.Hour
	ids := jobIDs(t, e.complete(consentURL(e.client), basiqtest.WithConsentLogins(
		login("AU10001", "gavinBelson", "hooli2016"), login("AU10006", "jared", "django"))))
	require.Len(t, ids, 2)
	cba, mqg := e.connOf(ids[0]), e.connOf(ids[1])
	expiry := clock.Now().Add(365 * day).UTC().Format(time.RFC3339)
	for _, id := range []string{cba, mqg} {
		c := e.connection(id)
		assert.Equal(t, "open-banking", c["method"])
		assert.Equal(t, expiry, c["expiryDate"], "one year by default")
		assert.Equal(t, "active", c["status"])
		assert.Equal(t, false, c["mfaEnabled"], "the bank's authorisation replaces MFA")
	}
	list := e.connections()
	assert.Equal(t, "open-banking", list[0]["method"])
	assert.Equal(t, expiry, list[0]["expiryDate"])

	// Refreshes of an open-banking connection have no MFA step, even at a
	// bank that asks on the web (Macquarie is user-mfa).
	r := e.send("POST", "/users/"+e.user+"/connections/"+mqg+"/refresh", e.server, nil)
	require.Equal(t, http.StatusAccepted, r.Status)
	assert.Equal(t, succeeded(), e.steps(r.JSON(t)["id"].(string)))

	// 300 days on the user extends the consent; the connections keep their
	// expiry until they are re-authorised.
	clock.Add(300 * day)
	redirect := e.complete(consentURL(e.client, "action", "extend", "state", "ext"))
	assert.Nil(t, jobIDs(t, redirect))
	assert.Equal(t, "ext", redirect.Query().Get("state"))
	extended := clock.Now().Add(365 * day).UTC().Format(time.RFC3339)
	assert.Equal(t, extended, e.consents()[0]["expiryDate"])
	assert.Equal(t, expiry, e.connection(cba)["expiryDate"])

	// Not expiring soon yet: reauthorise renews nothing.
	assert.Nil(t, jobIDs(t, e.complete(consentURL(e.client, "action", "reauthorise"))))
	// 60 days later both are listed as expiring soon; the user renews them.
	clock.Add(60 * day)
	ids = jobIDs(t, e.complete(consentURL(e.client, "action", "reauthorise")))
	require.Len(t, ids, 2)
	for i, id := range []string{cba, mqg} {
		st, _ := e.srv.Job(ids[i])
		assert.Equal(t, id, st.ConnectionID)
		assert.Equal(t, extended, e.connection(id)["expiryDate"], "renewed until the consent's expiry")
	}

	// connectionId re-authorises one connection at any time.
	ids = jobIDs(t, e.complete(consentURL(e.client, "connectionId", cba)))
	require.Len(t, ids, 1)
	assert.Equal(t, cba, e.connOf(ids[0]))
}

func TestCompleteConsentAbandonedBankAuthorisation(t *testing.T) {
	e := newConsentEnv(t)
	redirect := e.complete(consentURL(e.client, "state", "s", "institutionId", "AU10003"),
		basiqtest.WithConsentLogins(basiqtest.ConsentLogin{LoginID: "gavinBelson", Abandon: true}))
	assert.Equal(t, url.Values{"state": {"s"}}, redirect.Query(), "no job for an abandoned authorisation")
	list := e.connections()
	require.Len(t, list, 1)
	connID := list[0]["id"].(string)
	c := e.connection(connID)
	assert.Equal(t, "pre-init", c["status"])
	assert.Equal(t, "open-banking", c["method"])
	assert.NotEmpty(t, c["expiryDate"])
	assert.Len(t, e.consents(), 1, "the consent was given before the bank's page")

	// A pre-init connection cannot be refreshed or purged…
	requireError(t, e.send("POST", "/users/"+e.user+"/connections/"+connID+"/refresh", e.server, nil),
		http.StatusBadRequest, "parameter-not-valid")
	requireError(t, e.send("POST", "/users/"+e.user+"/connections/"+connID+"/purge", e.server, nil),
		http.StatusBadRequest, "parameter-not-valid")
	// …and abandoning again leaves it as it is.
	redirect = e.complete(consentURL(e.client, "action", "connect", "connectionId", connID),
		basiqtest.WithConsentLogins(basiqtest.ConsentLogin{Abandon: true}))
	assert.Nil(t, jobIDs(t, redirect))
	assert.Equal(t, "pre-init", e.connection(connID)["status"])

	// Sending the user through again finishes it, no delete needed.
	ids := jobIDs(t, e.complete(consentURL(e.client, "connectionId", connID), basiqtest.WithConsentLogins(basiqtest.ConsentLogin{Password: "hooli2016"})))
	require.Len(t, ids, 1)
	assert.Equal(t, connID, e.connOf(ids[0]))
	assert.Equal(t, "active", e.connection(connID)["status"])

	// Abandon among several logins drops only that one's job.
	ids = jobIDs(t, e.complete(consentURL(e.client, "action", "connect"), basiqtest.WithConsentLogins(
		login("AU00000", "jared", "django"), basiqtest.ConsentLogin{InstitutionID: "AU10004", LoginID: "richard", Abandon: true},
		login("AU00004", "richard", "tabsnotspaces"))))
	require.Len(t, ids, 2)
	st0, _ := e.srv.Job(ids[0])
	st1, _ := e.srv.Job(ids[1])
	assert.Equal(t, []string{"AU00000", "AU00004"}, []string{st0.InstitutionID, st1.InstitutionID})
}

func TestCompleteConsentFailingLogins(t *testing.T) {
	e := newConsentEnv(t)
	ids := jobIDs(t, e.complete(consentURL(e.client), basiqtest.WithConsentLogins(
		login("AU00000", "bighead", "password"), login("AU00000", "erlich", "aviato"),
		login("AU00000", "jianYang", "nothotdog"), login("AU00000", "gavinBelson", "typo"))))
	require.Len(t, ids, 4)
	want := []struct{ step, code string }{
		{"verify-credentials", "invalid-credentials"},
		{"retrieve-accounts", "account-not-accessible-requires-user-action"},
		{"retrieve-transactions", "service-unavailable"},
		{"verify-credentials", "invalid-credentials"},
	}
	for i, id := range ids {
		st, _ := e.srv.Job(id)
		var failed basiqtest.StepState
		for _, s := range st.Steps {
			if s.Status == "failed" {
				failed = s
			}
		}
		assert.Equal(t, want[i].step, failed.Title, "login %d", i)
		assert.Equal(t, want[i].code, failed.Code, "login %d", i)
	}
	// An open-banking authorisation the bank refuses, as CORE3's example.
	e.srv.SetLoginOutcome("ashMann", basiqtest.Outcome{Code: "authorization-failed", Title: "Authorization failed", Detail: "access_denied"})
	ids = jobIDs(t, e.complete(consentURL(e.client, "action", "connect"), basiqtest.WithConsentLogins(login("AU10002", "ashMann", "hooli2024"))))
	st, _ := e.srv.Job(ids[0])
	assert.Equal(t, "authorization-failed", st.Steps[0].Code)
	assert.Equal(t, "access_denied", st.Steps[0].Detail)
}

func TestCompleteConsentUpdateAndPolicies(t *testing.T) {
	clock := newFakeClock()
	e := newConsentEnv(t, basiqtest.WithClock(clock.Now), basiqtest.WithTokenTTL(1000*24*time.Hour))
	jobIDs(t, e.complete(consentURL(e.client), basiqtest.WithConsentLogins(
		login("AU00000", "gavinBelson", "hooli2016"), login("AU10001", "jared", "django"))))
	first := e.consents()[0]

	// Same policy: update behaves as extend (same consent, later expiry).
	clock.Add(time.Hour)
	redirect := e.complete(consentURL(e.client, "action", "update"))
	assert.Nil(t, jobIDs(t, redirect))
	cs := e.consents()
	require.Len(t, cs, 1)
	assert.Equal(t, first["id"], cs[0]["id"])
	assert.NotEqual(t, first["expiryDate"], cs[0]["expiryDate"])
	assert.NotEqual(t, first["updated"], cs[0]["updated"])
	assert.Len(t, e.connections(), 2)

	// The same scopes in another order and a new duration are no change of scope.
	require.NoError(t, e.srv.SetConsentPolicy(basiqtest.ConsentPolicy{Duration: 90 * 24 * time.Hour,
		Scopes: []string{"customer.person.detail", "transaction.detail", "account.detail", "account.basic"}}))
	e.complete(consentURL(e.client, "action", "update"))
	assert.Len(t, e.consents(), 1)
	assert.Len(t, e.connections(), 2)

	// New scopes: the old consent is revoked, every connection deleted, and
	// the user may reconnect in the same visit.
	require.NoError(t, e.srv.SetConsentPolicy(basiqtest.ConsentPolicy{Scopes: []string{"account.basic", "transaction.detail"}, RetainData: true}))
	clock.Add(time.Hour)
	ids := jobIDs(t, e.complete(consentURL(e.client, "action", "update"), basiqtest.WithConsentLogins(login("AU00000", "jared", "django"))))
	require.Len(t, ids, 1)
	cs = e.consents()
	require.Len(t, cs, 2, "history is kept")
	fresh, old := cs[0], cs[1]
	assert.Equal(t, "active", fresh["status"])
	assert.Equal(t, "revoked", old["status"])
	assert.Equal(t, clock.Now().UTC().Format(time.RFC3339), old["revoked"])
	assert.NotContains(t, fresh, "revoked")
	assert.Equal(t, true, fresh["data"].(map[string]any)["retainData"])
	assert.Len(t, fresh["data"].(map[string]any)["permissions"], 2)
	assert.Len(t, old["data"].(map[string]any)["permissions"], 4)
	freshLinks, oldLinks := fresh["links"].(map[string]any), old["links"].(map[string]any)
	assert.Equal(t, freshLinks["consentPolicy"], freshLinks["latestConsentPolicy"])
	assert.NotEqual(t, oldLinks["consentPolicy"], oldLinks["latestConsentPolicy"])
	assert.Equal(t, freshLinks["latestConsentPolicy"], oldLinks["latestConsentPolicy"])
	conns := e.connections()
	require.Len(t, conns, 1, "the old connections are gone")
	assert.Equal(t, e.connOf(ids[0]), conns[0]["id"])

	// Policy validation.
	assert.Error(t, e.srv.SetConsentPolicy(basiqtest.ConsentPolicy{Scopes: []string{"bank:everything"}}))
	assert.Error(t, e.srv.SetConsentPolicy(basiqtest.ConsentPolicy{Scopes: []string{"account.basic", "account.basic"}}))
	assert.Error(t, e.srv.SetConsentPolicy(basiqtest.ConsentPolicy{Scopes: []string{}}))
	assert.Error(t, e.srv.SetConsentPolicy(basiqtest.ConsentPolicy{Duration: -time.Hour}))
}

func TestCompleteConsentExpiry(t *testing.T) {
	clock := newFakeClock()
	e := newConsentEnv(t, basiqtest.WithClock(clock.Now), basiqtest.WithTokenTTL(1000*24*time.Hour))
	jobIDs(t, e.complete(consentURL(e.client), basiqtest.WithConsentLogins(login("AU00000", "gavinBelson", "hooli2016"))))
	clock.Add(365 * 24 * time.Hour)
	assert.Equal(t, "expired", e.consents()[0]["status"])
	for _, action := range []string{"connect", "extend", "update", "reauthorise"} {
		_, err := e.srv.CompleteConsent(consentURL(e.client, "action", action), basiqtest.WithConsentLogins(login("AU00000", "jared", "django")))
		assert.ErrorIs(t, err, basiqtest.ErrNoActiveConsent, action)
	}
	// Re-consent after expiry is the default flow: a new consent.
	jobIDs(t, e.complete(consentURL(e.client), basiqtest.WithConsentLogins(login("AU00000", "jared", "django"))))
	cs := e.consents()
	require.Len(t, cs, 2)
	assert.Equal(t, []any{"active", "expired"}, []any{cs[0]["status"], cs[1]["status"]})
}

func TestCompleteConsentManage(t *testing.T) {
	e := newConsentEnv(t)
	ids := jobIDs(t, e.complete(consentURL(e.client), basiqtest.WithConsentLogins(
		login("AU00000", "gavinBelson", "hooli2016"), login("AU00000", "jared", "django"), login("AU00004", "richard", "tabsnotspaces"))))
	require.Len(t, ids, 3)

	// Looking is fine; so is deleting a connection.
	assert.Nil(t, jobIDs(t, e.complete(consentURL(e.client, "action", "manage"))))
	redirect := e.complete(consentURL(e.client, "action", "manage", "state", "m"), basiqtest.WithConsentDeleteConnections(e.connOf(ids[1])))
	assert.Equal(t, url.Values{"state": {"m"}}, redirect.Query())
	assert.Len(t, e.connections(), 2)
	assert.Equal(t, http.StatusOK, e.send("GET", "/jobs/"+ids[1], e.server, nil).Status, "jobs outlive their connection")

	_, err := e.srv.CompleteConsent(consentURL(e.client, "action", "manage"), basiqtest.WithConsentDeleteConnections(e.connOf(ids[1])))
	assert.ErrorIs(t, err, basiqtest.ErrConsentOptions, "already deleted")
	assert.NotContains(t, err.Error(), e.client)

	// Revoking deletes the consent's connections.
	e.complete(consentURL(e.client, "action", "manage"), basiqtest.WithConsentRevoke())
	assert.Empty(t, e.connections())
	cs := e.consents()
	require.Len(t, cs, 1)
	assert.Equal(t, "revoked", cs[0]["status"])
	assert.Contains(t, cs[0], "revoked")

	_, err = e.srv.CompleteConsent(consentURL(e.client, "action", "manage"), basiqtest.WithConsentRevoke())
	assert.ErrorIs(t, err, basiqtest.ErrNoActiveConsent)
	assert.Nil(t, jobIDs(t, e.complete(consentURL(e.client, "action", "manage"))), "manage without a consent shows the past ones")
	_, err = e.srv.CompleteConsent(consentURL(e.client, "action", "connect"), basiqtest.WithConsentLogins(login("AU00000", "jared", "django")))
	assert.ErrorIs(t, err, basiqtest.ErrNoActiveConsent)
}

// Connect is the default flow with one login: it makes or reuses the
// user's consent, and open-banking institutions give open-banking
// connections.
func TestConnectUsesTheConsent(t *testing.T) {
	e := newConsentEnv(t)
	web, err := e.srv.Connect(e.user, "AU00000", "gavinBelson", "hooli2016")
	require.NoError(t, err)
	ob, err := e.srv.Connect(e.user, "AU10002", "jared", "django")
	require.NoError(t, err)
	assert.Len(t, e.consents(), 1)
	assert.Equal(t, "web", e.connection(e.connOf(web))["method"])
	assert.Equal(t, "open-banking", e.connection(e.connOf(ob))["method"])

	// A web connection (2.1) stands in the way of an open-banking one to the same bank.
	tok21 := e.serverToken("2.1")
	e.connect(tok21, e.user, "AU10003", "richard", "tabsnotspaces")
	_, err = e.srv.Connect(e.user, "AU10003", "richard", "tabsnotspaces")
	assert.ErrorIs(t, err, basiqtest.ErrConsentOptions)
	_, err = e.srv.Connect(e.user, "AU10005", "gavinBelson", "hooli2016")
	assert.ErrorIs(t, err, basiqtest.ErrConsentOptions, "St.George asks for a security code")
}

// Many users' browsers come back at once.
func TestCompleteConsentConcurrent(t *testing.T) {
	e := newConsentEnv(t)
	var wg sync.WaitGroup
	results := make([][]string, 16)
	for i := range results {
		wg.Go(func() {
			redirect, err := e.srv.CompleteConsent(consentURL(e.client, "state", fmt.Sprint(i)),
				basiqtest.WithConsentLogins(login("AU00000", "gavinBelson", "hooli2016"), login("AU00004", "jared", "django")))
			if assert.NoError(t, err) {
				u, _ := url.Parse(redirect)
				assert.Equal(t, fmt.Sprint(i), u.Query().Get("state"))
				results[i] = strings.Split(u.Query().Get("jobIds"), ",")
			}
		})
	}
	wg.Wait()
	assert.Len(t, e.consents(), 1, "the first visit made the consent, the others reused it")
	assert.Len(t, e.connections(), 2, "same logins, same connections")
	seen := map[string]bool{}
	for _, ids := range results {
		require.Len(t, ids, 2)
		for _, id := range ids {
			assert.False(t, seen[id])
			seen[id] = true
		}
	}
}

// Misuse does not panic: a Server not made by NewServer refuses.
func TestConsentOnAServerNotMadeByNewServer(t *testing.T) {
	for name, srv := range map[string]*basiqtest.Server{"zero": {}, "nil": nil} {
		_, err := srv.CompleteConsent("https://consent.basiq.io/home?token=x")
		assert.ErrorContains(t, err, "not made by NewServer", name)
		assert.ErrorContains(t, srv.SetConsentPolicy(basiqtest.ConsentPolicy{}), "not made by NewServer", name)
		rec := httptest.NewRecorder()
		srv.ConsentPage().ServeHTTP(rec, httptest.NewRequest("GET", "/consent/home?token=x", nil))
		assert.Equal(t, http.StatusInternalServerError, rec.Code, name)
		assert.Equal(t, "/consent/home", srv.ConsentPageURL(), name)
	}
}

// coreConsentsExample is the 200 example of GET /users/{userId}/consents in
// Basiq's published Core spec (testdata/basiq-spec/v3/core.json at the
// module root): one active consent, then one revoked.
func coreConsentsExample(t *testing.T) map[string]any {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "testdata", "basiq-spec", "v3", "core.json"))
	require.NoError(t, err, "the spec files are in the module's testdata")
	var spec struct {
		Paths map[string]map[string]struct {
			Responses map[string]struct {
				Content map[string]struct {
					Example map[string]any `json:"example"`
				} `json:"content"`
			} `json:"responses"`
		} `json:"paths"`
	}
	require.NoError(t, json.Unmarshal(raw, &spec))
	ex := spec.Paths["/users/{userId}/consents"]["get"].Responses["200"].Content["application/json"].Example
	require.NotEmpty(t, ex, "core.json has the consents example")
	return ex
}

func TestConsentsListMatchesCoreExample(t *testing.T) {
	clock := newFakeClock()
	e := newConsentEnv(t, basiqtest.WithClock(clock.Now), basiqtest.WithTokenTTL(1000*24*time.Hour))

	// No consent yet: 200 and an empty list, not an error (AV3 assumed one).
	r := e.send("GET", "/users/"+e.user+"/consents", e.client, nil)
	require.Equal(t, http.StatusOK, r.Status)
	assert.JSONEq(t, fmt.Sprintf(`{"type":"list","size":0,"data":[],"links":{"self":%q}}`, e.srv.URL+"/users/"+e.user+"/consents"), string(r.Body))

	// A consent, revoked by an update with new scopes; then the active one.
	jobIDs(t, e.complete(consentURL(e.client), basiqtest.WithConsentLogins(login("AU00000", "gavinBelson", "hooli2016"))))
	require.NoError(t, e.srv.SetConsentPolicy(basiqtest.ConsentPolicy{Scopes: []string{"account.basic"}}))
	clock.Add(time.Hour)
	e.complete(consentURL(e.client, "action", "update"))

	example := coreConsentsExample(t)
	for _, tok := range []string{e.server, e.client} { // SERVER or the user's CLIENT token
		r := e.send("GET", "/users/"+e.user+"/consents", tok, nil)
		require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
		got := r.JSON(t)
		// The list frame, then each item against the example's item of the same status.
		frame := map[string]any{}
		for k, v := range example {
			if k != "data" {
				frame[k] = v
			}
		}
		requireSameShape(t, "list", frame, got)
		assert.Equal(t, map[string]any{"self": e.srv.URL + "/users/" + e.user + "/consents"}, got["links"], "the schema's links.self")
		assert.Equal(t, "list", got["type"])
		assert.EqualValues(t, 2, got["size"])
		data := got["data"].([]any)
		require.Len(t, data, 2)
		exData := example["data"].([]any)
		requireSameShape(t, "active", exData[0], data[0])
		requireSameShape(t, "revoked", exData[1], data[1])
		active, revoked := data[0].(map[string]any), data[1].(map[string]any)
		assert.NotContains(t, active, "revoked", "revoked only on revoked consents")
		assert.Equal(t, "consent", active["type"])
		assert.Equal(t, "user", active["origin"])
		assert.Nil(t, active["purpose"].(map[string]any)["other"])
		assert.Nil(t, active["data"].(map[string]any)["organisation"])
		assert.Equal(t, e.srv.URL+"/users/"+e.user+"/consents/"+active["id"].(string), active["links"].(map[string]any)["self"])
		for _, item := range []map[string]any{active, revoked} {
			for _, k := range []string{"created", "updated", "expiryDate"} {
				_, err := time.Parse(time.RFC3339, item[k].(string))
				assert.NoError(t, err, k)
			}
		}
		perm := active["data"].(map[string]any)["permissions"].([]any)[0].(map[string]any)
		assert.Equal(t, map[string]any{"scope": "account.basic", "required": true, "consented": true, "entity": "account"},
			map[string]any{"scope": perm["scope"], "required": perm["required"], "consented": perm["consented"], "entity": perm["entity"]})
	}
}

func TestConsentsEndpointRules(t *testing.T) {
	e := newConsentEnv(t)
	ids := jobIDs(t, e.complete(consentURL(e.client), basiqtest.WithConsentLogins(
		login("AU00000", "gavinBelson", "hooli2016"), login("AU10001", "jared", "django"))))
	consentID := e.consents()[0]["id"].(string)
	path := "/users/" + e.user + "/consents"

	// Who may read and delete.
	other := e.createUser(e.server)
	requireError(t, e.send("GET", path, e.clientToken("3.0", other), nil), http.StatusUnauthorized, "unauthorized-access")
	requireError(t, e.send("GET", path, e.serverToken("2.1"), nil), http.StatusNotFound, "resource-not-found", "Route not found for this API version")
	requireError(t, e.send("GET", "/users/8cda72db-b11f-4b8e-a4ca-3c5b1de4e4b5/consents", e.server, nil), http.StatusNotFound, "resource-not-found")
	requireError(t, e.send("DELETE", path+"/"+consentID, e.client, nil), http.StatusForbidden, "forbidden-access")
	requireError(t, e.send("DELETE", path+"/"+consentID, e.serverToken("2.1"), nil), http.StatusNotFound, "resource-not-found")
	requireError(t, e.send("DELETE", path+"/8cda72db-b11f-4b8e-a4ca-3c5b1de4e4b5", e.server, nil), http.StatusNotFound, "resource-not-found",
		"Requested consent does not exist.")
	requireError(t, e.send("DELETE", path+"/not-a-consent", e.server, nil), http.StatusBadRequest, "parameter-not-valid")
	requireError(t, e.send("DELETE", "/users/"+other+"/consents/"+consentID, e.server, nil), http.StatusNotFound, "resource-not-found",
		"Requested consent does not exist.")
	assert.Len(t, e.connections(), 2)

	// A connection made with 2.1 credentials belongs to no consent.
	e.connect(e.serverToken("2.1"), e.user, "AU00004", "richard", "tabsnotspaces")

	// Delete: the consent and its connections are gone for good; jobs stay.
	r := e.send("DELETE", path+"/"+consentID, e.server, nil)
	assert.Equal(t, http.StatusNoContent, r.Status)
	assert.Empty(t, r.Body)
	assert.Empty(t, e.consents())
	conns := e.connections()
	require.Len(t, conns, 1)
	assert.Equal(t, "web", conns[0]["method"])
	for _, id := range ids {
		assert.Equal(t, http.StatusOK, e.send("GET", "/jobs/"+id, e.server, nil).Status)
	}
	requireError(t, e.send("DELETE", path+"/"+consentID, e.server, nil), http.StatusNotFound, "resource-not-found")
	_, err := e.srv.CompleteConsent(consentURL(e.client, "action", "connect"), basiqtest.WithConsentLogins(login("AU00000", "jared", "django")))
	assert.ErrorIs(t, err, basiqtest.ErrNoActiveConsent)

	// Deleting the user deletes their consents with them.
	jobIDs(t, e.complete(consentURL(e.client), basiqtest.WithConsentLogins(login("AU00000", "jared", "django"))))
	require.Equal(t, http.StatusNoContent, e.send("DELETE", "/users/"+e.user, e.server, nil).Status)
	requireError(t, e.send("GET", path, e.server, nil), http.StatusNotFound, "resource-not-found")
}
