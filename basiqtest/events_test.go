package basiqtest_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banklink-go/basiq/basiqtest"
)

var eventIDPattern = regexp.MustCompile(`^[0-9a-f]{64}$`)

func TestEventsUserLifecycle(t *testing.T) {
	e := newHookEnv(t)
	t0 := e.clk.Now()
	uid := e.createUser(e.tok)
	e.clk.Add(time.Minute)
	r := e.send("POST", "/users/"+uid, e.tok, map[string]string{"firstName": "Gavin"})
	require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
	e.clk.Add(time.Minute)
	r = e.send("DELETE", "/users/"+uid, e.tok, nil)
	require.Equal(t, http.StatusNoContent, r.Status)

	evs := e.events("filter=user.id.eq('" + uid + "')")
	require.Equal(t, []string{"user.deleted", "user.updated", "user.created"}, types(evs), "newest first")
	for i, ev := range evs {
		id := ev["id"].(string)
		assert.Regexp(t, eventIDPattern, id)
		assert.Equal(t, "event", ev["type"])
		assert.Equal(t, "user", ev["entity"])
		assert.Equal(t, uid, ev["userId"])
		assert.Equal(t, e.srv.URL+"/users/"+uid, ev["dataRef"])
		assert.Equal(t, map[string]any{"self": e.srv.URL + "/events/" + id}, ev["links"])
		assert.Equal(t, stampOf(t0.Add(time.Duration(2-i)*time.Minute)), ev["createdDate"])
		data := ev["data"].(map[string]any)
		assert.Equal(t, "user", data["type"])
		assert.Equal(t, uid, data["id"])
		assert.Equal(t, "gavin@hooli.com", data["email"])

		got := e.send("GET", "/events/"+id, e.tok, nil)
		require.Equal(t, http.StatusOK, got.Status, "body: %s", got.Body)
		assert.Equal(t, ev, got.JSON(t), "GET /events/{id} is the list item")
	}
	assert.Equal(t, "Gavin", evs[1]["data"].(map[string]any)["firstName"], "user.updated shows the change")
	assert.NotContains(t, evs[2]["data"], "firstName", "user.created is a snapshot of then, not of now")
}

// TestEventMatchesCoreExample: an event, and a user event's data, have
// every field of the examples in Basiq's published Core spec, with the
// same JSON types.
func TestEventMatchesCoreExample(t *testing.T) {
	e := newHookEnv(t)
	uid := e.createUser(e.tok)
	_, err := e.srv.Connect(uid, "AU00000", "gavinBelson", "hooli2016")
	require.NoError(t, err)
	evs := e.events("filter=user.id.eq('" + uid + "'),event.type.eq('connection.updated')")
	require.NotEmpty(t, evs)
	completed := evs[0] // the job completed: lastUsed is set, as in the example
	r := e.send("GET", "/events/"+completed["id"].(string), e.tok, nil)
	require.Equal(t, http.StatusOK, r.Status)
	requireSameShape(t, "event", specExample(t, "core.json", "/events/{id}", "get", "200", "Success"), jsonOf(t, r.Body))

	raw := specSchemaExample(t)
	created := e.lastEvent(uid, "user.created")
	requireSameShape(t, "user event data", raw, created["data"])
}

// specSchemaExample is the example of an event's data in the schema of
// GET /events (a user), in Basiq's Core spec.
func specSchemaExample(t *testing.T) any {
	t.Helper()
	var spec struct {
		Paths map[string]map[string]struct {
			Responses map[string]struct {
				Content map[string]struct {
					Schema struct {
						Properties struct {
							Data struct {
								Items struct {
									Properties struct {
										Data struct {
											Example []any `json:"example"`
										} `json:"data"`
									} `json:"properties"`
								} `json:"items"`
							} `json:"data"`
						} `json:"properties"`
					} `json:"schema"`
				} `json:"content"`
			} `json:"responses"`
		} `json:"paths"`
	}
	raw, err := os.ReadFile(filepath.Join("..", "testdata", "basiq-spec", "v3", "core.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(raw, &spec))
	ex := spec.Paths["/events"]["get"].Responses["200"].Content["application/json"].Schema.Properties.Data.Items.Properties.Data.Example
	require.Len(t, ex, 1)
	return ex[0]
}

func TestEventsConnectionLifecycle(t *testing.T) {
	e := newHookEnv(t)
	uid := e.createUser(e.tok)
	jobID, err := e.srv.Connect(uid, "AU00000", "gavinBelson", "hooli2016")
	require.NoError(t, err)
	st, ok := e.srv.Job(jobID)
	require.True(t, ok)
	require.True(t, st.Done)
	cid := st.ConnectionID

	assert.Equal(t, []string{"user.created", "consent.created", "connection.created", "connection.updated",
		"connection.activated", "transactions.updated", "connection.updated"}, e.userEvents(uid))
	status := func(ev map[string]any) any { return ev["data"].(map[string]any)["status"] }
	connURL := e.srv.URL + "/users/" + uid + "/connections/" + cid
	created := e.lastEvent(uid, "connection.created")
	assert.Equal(t, "pending", status(created))
	assert.Equal(t, connURL, created["dataRef"])
	assert.Equal(t, cid, created["data"].(map[string]any)["id"])
	assert.Equal(t, "active", status(e.lastEvent(uid, "connection.activated")))
	assert.NotNil(t, e.lastEvent(uid, "connection.updated")["data"].(map[string]any)["lastUsed"], "the job's end sets lastUsed")

	tx := e.lastEvent(uid, "transactions.updated")
	txURL := e.srv.URL + "/users/" + uid + "/transactions?filter=connection.id.eq('" + cid + "')"
	assert.Equal(t, txURL, tx["dataRef"])
	assert.Equal(t, map[string]any{
		"type": "transactions", "count": "60",
		"connection": map[string]any{"type": "connection", "id": cid, "links": map[string]any{"self": connURL}},
		"links":      map[string]any{"self": txURL},
	}, tx["data"])
	r := e.send("GET", strings.TrimPrefix(txURL, e.srv.URL), e.tok, nil)
	require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
	assert.Len(t, r.JSON(t)["data"], 60, "count is how many transactions the link gives")

	// A refresh retrieves transactions again; the connection stays active.
	r = e.send("POST", "/users/"+uid+"/connections/"+cid+"/refresh", e.tok, nil)
	require.Equal(t, http.StatusAccepted, r.Status, "body: %s", r.Body)
	e.clk.Add(time.Second)
	r = e.send("DELETE", "/users/"+uid+"/connections/"+cid, e.tok, nil)
	require.Equal(t, http.StatusNoContent, r.Status)
	assert.Equal(t, []string{"transactions.updated", "connection.updated", "connection.deleted"}, e.userEvents(uid)[7:])
	deleted := e.lastEvent(uid, "connection.deleted")
	assert.Equal(t, cid, deleted["data"].(map[string]any)["id"])
	assert.Equal(t, connURL, deleted["dataRef"])
}

func TestEventsFailingLogins(t *testing.T) {
	cases := []struct {
		login, password string
		want            []string
	}{
		{"bighead", "password", []string{"connection.created", "connection.updated", "connection.invalidated"}},
		{"erlich", "aviato", []string{"connection.created", "connection.updated", "connection.activated",
			"connection.updated", "connection.invalidated"}},
		{"jianYang", "nothotdog", []string{"connection.created", "connection.updated", "connection.activated"}},
		{"gavinBelson", "wrong", []string{"connection.created", "connection.updated", "connection.invalidated"}},
	}
	for _, tc := range cases {
		t.Run(tc.login, func(t *testing.T) {
			e := newHookEnv(t)
			uid := e.createUser(e.tok)
			_, err := e.srv.Connect(uid, "AU00000", tc.login, tc.password)
			require.NoError(t, err)
			assert.Equal(t, append([]string{"user.created", "consent.created"}, tc.want...), e.userEvents(uid))
			if tc.want[len(tc.want)-1] == "connection.invalidated" {
				ev := e.lastEvent(uid, "connection.invalidated")
				assert.Equal(t, "invalid", ev["data"].(map[string]any)["status"], "the snapshot carries the invalid connection")
			}
		})
	}
}

// TestEventsConnectionInvalidatedThenActivated: a password change makes a
// refresh fail (invalidated); reconnecting through the Consent UI with the
// new password makes it active again (activated).
func TestEventsConnectionInvalidatedThenActivated(t *testing.T) {
	e := newHookEnv(t)
	uid := e.createUser(e.tok)
	jobID, err := e.srv.Connect(uid, "AU00000", "Gilfoyle", "PiedPiper")
	require.NoError(t, err)
	st, _ := e.srv.Job(jobID)
	cid := st.ConnectionID
	before := len(e.userEvents(uid))

	e.srv.SetLoginPassword("Gilfoyle", "new-password")
	r := e.send("POST", "/users/"+uid+"/connections/"+cid+"/refresh", e.tok, nil)
	require.Equal(t, http.StatusAccepted, r.Status, "body: %s", r.Body)
	assert.Equal(t, []string{"connection.updated", "connection.invalidated"}, e.userEvents(uid)[before:])

	client := e.clientToken("3.0", uid)
	_, err = e.srv.CompleteConsent(consentURL(client, "connectionId", cid),
		basiqtest.WithConsentLogins(basiqtest.ConsentLogin{Password: "new-password"}))
	require.NoError(t, err)
	assert.Equal(t, []string{"connection.updated", "connection.invalidated", "connection.updated", "connection.activated",
		"transactions.updated", "connection.updated"}, e.userEvents(uid)[before:])
	assert.Equal(t, "active", e.lastEvent(uid, "connection.activated")["data"].(map[string]any)["status"])
}

func TestEventsConsentLifecycle(t *testing.T) {
	e := newHookEnv(t)
	uid := e.createUser(e.tok)
	client := e.clientToken("3.0", uid)
	complete := func(u string, opts ...basiqtest.ConsentOption) {
		t.Helper()
		_, err := e.srv.CompleteConsent(u, opts...)
		require.NoError(t, err)
	}
	hooli := basiqtest.WithConsentLogins(login("AU00000", "gavinBelson", "hooli2016"))
	consentEvents := func() []string {
		var out []string
		for _, typ := range e.userEvents(uid) {
			if strings.HasPrefix(typ, "consent.") || typ == "connection.deleted" {
				out = append(out, typ)
			}
		}
		return out
	}

	complete(consentURL(client), hooli)
	first := e.lastEvent(uid, "consent.created")
	firstID := first["data"].(map[string]any)["id"].(string)
	assert.Equal(t, e.srv.URL+"/users/"+uid+"/consents/"+firstID, first["dataRef"])
	assert.Equal(t, "active", first["data"].(map[string]any)["status"])

	e.clk.Add(24 * time.Hour)
	complete(consentURL(client, "action", "extend"))
	updated := e.lastEvent(uid, "consent.updated")
	assert.Equal(t, firstID, updated["data"].(map[string]any)["id"])
	assert.NotEqual(t, first["data"].(map[string]any)["expiryDate"], updated["data"].(map[string]any)["expiryDate"])

	e.clk.Add(time.Hour)
	complete(consentURL(client, "action", "manage"), basiqtest.WithConsentRevoke())
	revoked := e.lastEvent(uid, "consent.revoked")
	assert.Equal(t, "revoked", revoked["data"].(map[string]any)["status"])
	assert.Equal(t, stampOf(e.clk.Now()), revoked["data"].(map[string]any)["revoked"])
	assert.Equal(t, []string{"consent.created", "consent.updated", "consent.revoked", "connection.deleted"}, consentEvents())

	// A new consent, then a policy with other scopes and action=update: the
	// old consent is revoked, its connections deleted, a new one made.
	complete(consentURL(client), hooli)
	require.NoError(t, e.srv.SetConsentPolicy(basiqtest.ConsentPolicy{Scopes: []string{"account.basic", "transaction.detail"}}))
	complete(consentURL(client, "action", "update"), hooli)
	got := consentEvents()
	assert.Equal(t, []string{"consent.created", "consent.revoked", "connection.deleted", "consent.created", "consent.updated"}, got[4:])

	// DELETE of the active consent revokes it and deletes its connection;
	// DELETE of a revoked one records nothing more.
	active := e.lastEvent(uid, "consent.created")["data"].(map[string]any)["id"].(string)
	r := e.send("DELETE", "/users/"+uid+"/consents/"+active, e.tok, nil)
	require.Equal(t, http.StatusNoContent, r.Status, "body: %s", r.Body)
	r = e.send("DELETE", "/users/"+uid+"/consents/"+firstID, e.tok, nil)
	require.Equal(t, http.StatusNoContent, r.Status, "body: %s", r.Body)
	assert.Equal(t, []string{"consent.revoked", "connection.deleted"}, consentEvents()[9:])
	assert.Equal(t, active, e.lastEvent(uid, "consent.revoked")["data"].(map[string]any)["id"])
}

// TestEventsConsentTimers: consent.reminder 90 days after the consent was
// last updated, consent.warning 7 days before it expires, consent.expired
// when it does, each dated when it fell due whenever the fake notices; an
// extension re-arms them. A webhook keeps what the 7-day event list loses.
func TestEventsConsentTimers(t *testing.T) {
	e := newHookEnv(t)
	e.createWebhook("https://app.example/hooks", "consent.created", "consent.updated", "consent.warning",
		"consent.expired", "consent.reminder", "consent.revoked")
	t0 := e.clk.Now()
	day := 24 * time.Hour
	a := e.createUser(e.tok)
	_, err := e.srv.Connect(a, "AU00000", "gavinBelson", "hooli2016")
	require.NoError(t, err)

	e.clk.Add(90*day - time.Second)
	assert.NotContains(t, e.userEvents(a), "consent.reminder", "one second early")
	e.clk.Add(time.Second + time.Hour)
	assert.Equal(t, stampOf(t0.Add(90*day)), e.lastEvent(a, "consent.reminder")["createdDate"])

	// Jump past the warning: it is dated when it fell due.
	e.clk.Set(t0.Add(358*day + 3*time.Hour))
	warning := e.lastEvent(a, "consent.warning")
	assert.Equal(t, stampOf(t0.Add(358*day)), warning["createdDate"])
	assert.Equal(t, "active", warning["data"].(map[string]any)["status"])

	// A second user extends in the warning week: a new warning comes 7 days
	// before the new expiry, a new reminder 90 days after the extension.
	b := e.createUser(e.tok)
	bClient := e.clientToken("3.0", b)
	_, err = e.srv.CompleteConsent(consentURL(bClient), basiqtest.WithConsentLogins(login("AU00000", "jared", "django")))
	require.NoError(t, err)
	tb := e.clk.Now()

	e.clk.Set(t0.Add(365*day + time.Hour))
	expired := e.lastEvent(a, "consent.expired")
	assert.Equal(t, stampOf(t0.Add(365*day)), expired["createdDate"])
	assert.Equal(t, "expired", expired["data"].(map[string]any)["status"])

	e.clk.Set(tb.Add(358*day - time.Hour))
	_, err = e.srv.CompleteConsent(consentURL(bClient, "action", "extend"))
	require.NoError(t, err)
	te := e.clk.Now()
	e.clk.Set(te.Add(366 * day))
	require.NotZero(t, e.deliver())

	byUser := map[string][]string{}
	dates := map[string][]time.Time{}
	for _, m := range e.srv.WebhookMessages() {
		var body struct {
			Links struct {
				EventEntity string `json:"eventEntity"`
			} `json:"links"`
		}
		require.NoError(t, json.Unmarshal(m.Body, &body))
		user := a
		if strings.Contains(body.Links.EventEntity, "/users/"+b+"/") {
			user = b
		}
		byUser[user] = append(byUser[user], m.EventType)
		dates[user] = append(dates[user], m.Created)
	}
	assert.Equal(t, []string{"consent.created", "consent.reminder", "consent.warning", "consent.expired"}, byUser[a])
	assert.Equal(t, []string{"consent.created", "consent.reminder", "consent.updated", "consent.reminder",
		"consent.warning", "consent.expired"}, byUser[b])
	assert.Equal(t, []time.Time{tb, tb.Add(90 * day), te, te.Add(90 * day), te.Add(358 * day), te.Add(365 * day)}, dates[b],
		"messages are dated when their event fell due")
}

// TestEventsShortConsent: a consent of 7 days or less warns at once; a
// revoked consent, and the consent of a deleted user, fire nothing more.
func TestEventsShortConsent(t *testing.T) {
	e := newHookEnv(t)
	require.NoError(t, e.srv.SetConsentPolicy(basiqtest.ConsentPolicy{Duration: 3 * 24 * time.Hour}))
	short := e.createUser(e.tok)
	_, err := e.srv.Connect(short, "AU00000", "gavinBelson", "hooli2016")
	require.NoError(t, err)
	revoked := e.createUser(e.tok)
	client := e.clientToken("3.0", revoked)
	_, err = e.srv.CompleteConsent(consentURL(client), basiqtest.WithConsentLogins(login("AU00000", "jared", "django")))
	require.NoError(t, err)
	_, err = e.srv.CompleteConsent(consentURL(client, "action", "manage"), basiqtest.WithConsentRevoke())
	require.NoError(t, err)
	deleted := e.createUser(e.tok)
	_, err = e.srv.Connect(deleted, "AU00000", "richard", "tabsnotspaces")
	require.NoError(t, err)
	require.Equal(t, http.StatusNoContent, e.send("DELETE", "/users/"+deleted, e.tok, nil).Status)

	e.clk.Add(4 * 24 * time.Hour)
	consent := func(user string) []string {
		var out []string
		for _, typ := range e.userEvents(user) {
			if strings.HasPrefix(typ, "consent.") {
				out = append(out, typ)
			}
		}
		return out
	}
	assert.Equal(t, []string{"consent.created", "consent.warning", "consent.expired"}, consent(short))
	assert.Equal(t, e.lastEvent(short, "consent.created")["createdDate"], e.lastEvent(short, "consent.warning")["createdDate"])
	// The same 3-day policy warned them at once too, but nothing came after
	// the revocation or the user's deletion.
	assert.Equal(t, []string{"consent.created", "consent.warning", "consent.revoked"}, consent(revoked))
	assert.Equal(t, []string{"consent.created", "consent.warning"}, consent(deleted))
}

func TestEventsFilters(t *testing.T) {
	e := newHookEnv(t)
	a := e.createUser(e.tok)
	b := e.createUser(e.tok)
	_, err := e.srv.Connect(a, "AU00000", "gavinBelson", "hooli2016")
	require.NoError(t, err)
	all := e.events("")
	aOnly := e.userEvents(a)
	require.Len(t, all, len(aOnly)+1, "a's events and b's user.created")

	list := func(filter string) []string { return types(e.events("filter=" + url.QueryEscape(filter))) }
	for _, f := range []string{"user.id.eq('" + a + "')", "user.id.eq(" + a + ")", `user.id.eq("` + a + `")`, "user.id.eq( " + a + " )"} {
		assert.Len(t, list(f), len(aOnly), f)
	}
	assert.Equal(t, []string{"user.created"}, list("user.id.eq("+b+")"))
	assert.Equal(t, []string{"user.created"}, list("user.id.ne("+a+")"))
	for _, typ := range list("event.entity.eq(connection)") {
		assert.True(t, strings.HasPrefix(typ, "connection."), typ)
	}
	assert.Equal(t, []string{"connection.created"}, list("event.type.eq(connection.created)"))
	assert.Equal(t, []string{"connection.created", "consent.created", "user.created", "user.created"}, list("event.type.eq(created)"),
		"the action alone matches every entity's")
	assert.Equal(t, []string{"user.created"}, list("user.id.eq('"+a+"'),event.entity.eq('user')"))
	assert.Equal(t, []string{"connection.created", "user.created", "user.created"},
		list("event.type.in('user.created','connection.created')"))

	for _, bad := range []string{"user.id.eq()", "user.id.eq(" + a, "foo.eq(1)", "user.id.gt(" + a + ")", "user.id",
		"user.id.eq(a'b)", "user.id.eq('" + a + "') OR event.entity.eq(user)", "event.type.eq('a','b')", ",", "user.id.eq(a(b))"} {
		r := e.send("GET", "/events?filter="+url.QueryEscape(bad), e.tok, nil)
		env := requireError(t, r, http.StatusBadRequest, "parameter-not-valid")
		assert.Equal(t, "filter", env.Data[0].Source["parameter"], bad)
	}
}

func TestEventsSevenDayWindow(t *testing.T) {
	e := newHookEnv(t)
	t0 := e.clk.Now()
	old := e.createUser(e.tok)
	id := e.lastEvent(old, "user.created")["id"].(string)

	e.clk.Set(t0.Add(7*24*time.Hour - time.Second))
	assert.Equal(t, []string{"user.created"}, e.userEvents(old), "6 days 23:59:59 old: listed")
	assert.Equal(t, http.StatusOK, e.send("GET", "/events/"+id, e.tok, nil).Status)

	e.clk.Set(t0.Add(7 * 24 * time.Hour))
	assert.Empty(t, e.userEvents(old), "7 days old: gone")
	requireError(t, e.send("GET", "/events/"+id, e.tok, nil), http.StatusNotFound, "resource-not-found")
	kept := e.srv.EventCount()
	e.createUser(e.tok)
	assert.Equal(t, kept, e.srv.EventCount(), "the next event makes the fake forget the old one")
}

func TestEventsPaging(t *testing.T) {
	e := newHookEnv(t)
	for range 7 {
		e.createUser(e.tok)
		e.clk.Add(time.Second)
	}
	all := e.events("")
	require.Len(t, all, 7)
	for i := 1; i < len(all); i++ {
		assert.Greater(t, all[i-1]["createdDate"], all[i]["createdDate"], "newest first")
	}

	var sizes []int
	var paged []map[string]any
	path := "/events?limit=3"
	for path != "" {
		r := e.send("GET", path, e.tok, nil)
		require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
		m := r.JSON(t)
		data := m["data"].([]any)
		sizes = append(sizes, len(data))
		for _, d := range data {
			paged = append(paged, d.(map[string]any))
		}
		e.createUser(e.tok) // newer events do not shift later pages
		next, _ := m["links"].(map[string]any)["next"].(string)
		path = strings.TrimPrefix(next, e.srv.URL)
	}
	assert.Equal(t, []int{3, 3, 1}, sizes)
	assert.Equal(t, all, paged)

	for _, q := range []string{"limit=0", "limit=501", "limit=x"} {
		env := requireError(t, e.send("GET", "/events?"+q, e.tok, nil), http.StatusBadRequest, "parameter-not-valid")
		assert.Equal(t, "limit", env.Data[0].Source["parameter"])
	}
	env := requireError(t, e.send("GET", "/events?next=bm90LWEtY3Vyc29y", e.tok, nil), http.StatusBadRequest, "parameter-not-valid")
	assert.Equal(t, "next", env.Data[0].Source["parameter"])
}

func TestEventsAccess(t *testing.T) {
	e := newHookEnv(t)
	uid := e.createUser(e.tok)
	v21 := e.serverToken("2.1")
	client := e.clientToken("3.0", uid)
	for _, route := range []struct{ method, path string }{
		{"GET", "/events"}, {"GET", "/events/types"}, {"GET", "/events/" + strings.Repeat("a", 64)},
		{"GET", "/notifications/webhooks"}, {"POST", "/notifications/messages/test"},
	} {
		requireError(t, e.send(route.method, route.path, v21, nil), http.StatusNotFound, "resource-not-found",
			"Route not found for this API version")
		requireError(t, e.send(route.method, route.path, client, nil), http.StatusForbidden, "forbidden-access")
		requireError(t, e.send(route.method, route.path, "", nil), http.StatusUnauthorized, "invalid-authorization-token")
	}
	requireError(t, e.send("GET", "/events/"+strings.Repeat("a", 64), e.tok, nil), http.StatusNotFound, "resource-not-found")
	requireError(t, e.send("GET", "/events/61723", e.tok, nil), http.StatusNotFound, "resource-not-found")
}

func TestEventTypesMatchSpec(t *testing.T) {
	e := newHookEnv(t)
	r := e.send("GET", "/events/types", e.tok, nil)
	require.Equal(t, http.StatusOK, r.Status)
	got := jsonOf(t, r.Body).(map[string]any)
	want := specExample(t, "core.json", "/events/types", "get", "200", "Success").(map[string]any)
	requireSameShape(t, "types", want, got)
	assert.Equal(t, want["size"], got["size"])
	assert.Equal(t, want["count"], got["count"])
	wantData, gotData := want["data"].([]any), got["data"].([]any)
	require.Len(t, gotData, len(wantData))
	for i := range wantData {
		w, g := wantData[i].(map[string]any), gotData[i].(map[string]any)
		assert.Equal(t, w["id"], g["id"])
		assert.Equal(t, w["description"], g["description"])
		assert.Equal(t, e.srv.URL+"/events/types/"+w["id"].(string), g["links"].(map[string]any)["self"])
	}

	r = e.send("GET", "/events/types/account.updated", e.tok, nil)
	require.Equal(t, http.StatusOK, r.Status)
	requireSameShape(t, "type", specExample(t, "core.json", "/events/types/{id}", "get", "200", "Success"), jsonOf(t, r.Body))
	requireError(t, e.send("GET", "/events/types/connection.updated", e.tok, nil), http.StatusNotFound, "resource-not-found")
	requireError(t, e.send("GET", "/events/types/nonsense", e.tok, nil), http.StatusBadRequest, "path-parameter-not-valid")
}

// jsonOf decodes a response body into a generic value.
func jsonOf(t testing.TB, b []byte) any {
	t.Helper()
	var v any
	require.NoError(t, json.Unmarshal(b, &v), "body: %s", b)
	return v
}
