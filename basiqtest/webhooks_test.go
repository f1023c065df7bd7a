package basiqtest_test

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banklink-go/basiq/basiqtest"
)

// webhooksExample is a 2xx example of Basiq's published Webhooks spec,
// adjusted where the fake departs from it on purpose (each adjustment says
// why).
func webhooksExample(t *testing.T, path, method, status, name string) map[string]any {
	t.Helper()
	ex := specExample(t, "webhooks.json", path, method, status, name).(map[string]any)
	if s, ok := ex["subscribedEvents"].(string); ok {
		// Every example writes subscribedEvents as one string; WH3's request
		// schema makes it an array, which the fake always answers (a string
		// cannot hold several types).
		ex["subscribedEvents"] = []any{s}
	}
	return ex
}

func TestWebhookManagementMatchesSpec(t *testing.T) {
	e := newHookEnv(t)
	body := map[string]any{"name": "My General Webhook", "description": "Webhook to catch all events",
		"url": "https://piper.com/basiq-messages/", "subscribedEvents": "user.created"} // the spec's request example
	r := e.send("POST", "/notifications/webhooks", e.tok, body)
	require.Equal(t, http.StatusCreated, r.Status, "body: %s", r.Body)
	created := r.JSON(t)
	requireSameShape(t, "create", webhooksExample(t, "/notifications/webhooks", "post", "201", "Success"), created)
	id := created["id"].(string)
	assert.Equal(t, "webhook", created["type"])
	assert.Equal(t, "active", created["status"])
	assert.Equal(t, []any{"user.created"}, created["subscribedEvents"])
	assert.Equal(t, e.srv.URL+"/notifications/webhooks/"+id, created["links"].(map[string]any)["self"])
	secret := created["secret"].(string)
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	require.NoError(t, err, "whsec_ and standard base64")
	assert.True(t, strings.HasPrefix(secret, "whsec_"))
	assert.Len(t, key, 24)

	r = e.send("GET", "/notifications/webhooks/"+id, e.tok, nil)
	require.Equal(t, http.StatusOK, r.Status)
	got := r.JSON(t)
	requireSameShape(t, "get", webhooksExample(t, "/notifications/webhooks/{webhookId}", "get", "200", "Success"), got)
	assert.NotContains(t, got, "secret", "the secret shows on create and update only")
	assert.NotContains(t, string(r.Body), secret)

	r = e.send("GET", "/notifications/webhooks", e.tok, nil)
	require.Equal(t, http.StatusOK, r.Status)
	list := webhooksExample(t, "/notifications/webhooks", "get", "200", "Success")
	// The example's data is one object where WH3's schema has an array of
	// webhooks: the fake answers the array.
	item := list["data"].(map[string]any)
	item["subscribedEvents"] = []any{item["subscribedEvents"]}
	list["data"] = []any{item}
	requireSameShape(t, "list", list, r.JSON(t))
	assert.NotContains(t, string(r.Body), secret)

	body["name"], body["subscribedEvents"] = "Renamed", []string{"user.created", "user.deleted"}
	r = e.send("POST", "/notifications/webhooks/"+id, e.tok, body)
	require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
	update := webhooksExample(t, "/notifications/webhooks/{webhookId}", "post", "200", "Success")
	assert.Equal(t, "Webhook", update["type"], "the update example spells its type Webhook; the fake says webhook everywhere")
	updated := r.JSON(t)
	requireSameShape(t, "update", update, updated)
	assert.Equal(t, secret, updated["secret"], "an update keeps the secret and shows it")
	assert.Equal(t, "Renamed", updated["name"])
	assert.Equal(t, []any{"user.created", "user.deleted"}, updated["subscribedEvents"])

	r = e.send("DELETE", "/notifications/webhooks/"+id, e.tok, nil)
	assert.Equal(t, http.StatusNoContent, r.Status)
	assert.Empty(t, r.Body)
	requireError(t, e.send("GET", "/notifications/webhooks/"+id, e.tok, nil), http.StatusNotFound, "resource-not-found",
		"Webhook with provided id doesn't exist.")
}

func TestWebhookCreateValidation(t *testing.T) {
	e := newHookEnv(t)
	const unsupported = "Posted subscribedEvents contains unsupported event types."
	for _, tc := range []struct {
		name   string
		body   string
		detail string // the detail, or its start when it ends with ':'
	}{
		{"no url", `{"subscribedEvents":["user.created"]}`, "Posted request not valid:"},
		{"empty url", `{"url":" "}`, "Posted request not valid:"},
		{"relative url", `{"url":"/hooks"}`, "Posted request not valid:"},
		{"plain http", `{"url":"http://app.example/hooks"}`, "Posted request not valid:"},
		{"ftp", `{"url":"ftp://app.example/hooks"}`, "Posted request not valid:"},
		{"no host", `{"url":"https:///hooks"}`, "Posted request not valid:"},
		{"control character", `{"url":"https://app.example/ho\u0000oks"}`, "Posted request not valid:"},
		{"user info", `{"url":"https://receiver:s3cret@app.example/hooks"}`, "Posted request not valid:"},
		{"too long", `{"url":"https://app.example/` + strings.Repeat("a", 2040) + `"}`, "Posted request not valid:"},
		{"url not a string", `{"url":42}`, "Posted request not valid."},
		{"not JSON", `{"url":`, "Posted request not valid."},
		{"unknown type", `{"url":"https://app.example/hooks","subscribedEvents":["user.created","job.completed"]}`, unsupported},
		{"event-only type", `{"url":"https://app.example/hooks","subscribedEvents":"connection.updated"}`, unsupported},
		{"undeliverable consent.archived", `{"url":"https://app.example/hooks","subscribedEvents":["consent.archived"]}`, unsupported},
		{"empty type", `{"url":"https://app.example/hooks","subscribedEvents":""}`, unsupported},
		{"no types", `{"url":"https://app.example/hooks","subscribedEvents":[]}`, "Posted request not valid:"},
		{"types not strings", `{"url":"https://app.example/hooks","subscribedEvents":[1]}`, "Posted request not valid:"},
		{"types an object", `{"url":"https://app.example/hooks","subscribedEvents":{"a":"user.created"}}`, "Posted request not valid:"},
		{"long name", `{"url":"https://app.example/hooks","name":"` + strings.Repeat("n", 1001) + `"}`, "Posted request not valid:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.send("POST", "/notifications/webhooks", e.tok, tc.body)
			env := requireError(t, r, http.StatusBadRequest, "invalid-content")
			if d, ok := strings.CutSuffix(tc.detail, ":"); ok {
				assert.True(t, strings.HasPrefix(env.Data[0].Detail, d+":"), env.Data[0].Detail)
			} else {
				assert.Equal(t, tc.detail, env.Data[0].Detail)
			}
		})
	}
	requireError(t, e.send("POST", "/notifications/webhooks", e.tok, `{"url":"https://app.example/hooks"}`, "Content-Type", "text/plain"),
		http.StatusUnsupportedMediaType, "unsupported-content-type")
	assert.Empty(t, e.send("GET", "/notifications/webhooks", e.tok, nil).JSON(t)["data"], "nothing was created")

	// Accepted: https anywhere, http on loopback; a lone string; repeats
	// dropped; no subscribedEvents means all fifteen delivered types.
	for _, u := range []string{"https://app.example/hooks?k=v", "http://127.0.0.1:8080/hooks", "http://localhost/hooks", "http://[::1]:9/h"} {
		r := e.send("POST", "/notifications/webhooks", e.tok, map[string]any{"url": u, "subscribedEvents": []string{"user.created", "user.created"}})
		require.Equal(t, http.StatusCreated, r.Status, "%s: %s", u, r.Body)
		assert.Equal(t, []any{"user.created"}, r.JSON(t)["subscribedEvents"])
	}
	r := e.send("POST", "/notifications/webhooks", e.tok, map[string]any{"url": "https://all.example/"})
	require.Equal(t, http.StatusCreated, r.Status)
	assert.Len(t, r.JSON(t)["subscribedEvents"], 15)
	assert.NotContains(t, r.JSON(t)["subscribedEvents"], "connection.updated")

	// 409 for a URL already registered, on create and on update.
	r = e.send("POST", "/notifications/webhooks", e.tok, map[string]any{"url": "https://all.example/"})
	requireError(t, r, http.StatusConflict, "resource-already-exists", "Webhook with provided url already exists.")
	other := e.createWebhook("https://other.example/")
	r = e.send("POST", "/notifications/webhooks/"+other.ID, e.tok, map[string]any{"url": "https://all.example/"})
	requireError(t, r, http.StatusConflict, "resource-already-exists")
	r = e.send("POST", "/notifications/webhooks/"+other.ID, e.tok, map[string]any{"url": "https://other.example/"})
	assert.Equal(t, http.StatusOK, r.Status, "its own URL is not a conflict")
	r = e.send("POST", "/notifications/webhooks/"+other.ID, e.tok, map[string]any{"name": "no url"})
	requireError(t, r, http.StatusBadRequest, "invalid-content")
}

func TestWebhookIDs(t *testing.T) {
	e := newHookEnv(t)
	h := e.createWebhook("https://app.example/")
	missing := "3fa85f64-5717-4562-b3fc-2c963f66afa6"
	for _, tc := range []struct{ method, path string }{
		{"GET", "/notifications/webhooks/%s"}, {"POST", "/notifications/webhooks/%s"}, {"DELETE", "/notifications/webhooks/%s"},
		{"GET", "/notifications/webhooks/%s/messages"}, {"GET", "/notifications/webhooks/%s/messages/" + missing},
	} {
		var body any
		if tc.method == "POST" {
			body = map[string]string{"url": "https://new.example/"}
		}
		r := e.send(tc.method, strings.Replace(tc.path, "%s", missing, 1), e.tok, body)
		requireError(t, r, http.StatusNotFound, "resource-not-found", "Webhook with provided id doesn't exist.")
		r = e.send(tc.method, strings.Replace(tc.path, "%s", "not-a-uuid", 1), e.tok, body)
		env := requireError(t, r, http.StatusBadRequest, "path-parameter-not-valid", "Webhook ID value is not valid")
		assert.Equal(t, "webhookId", env.Data[0].Source["parameter"])
	}
	requireError(t, e.send("GET", "/notifications/webhooks/"+h.ID+"/messages/"+missing, e.tok, nil),
		http.StatusNotFound, "resource-not-found", "Message not found.")
	requireError(t, e.send("GET", "/notifications/webhooks/"+h.ID+"/messages/x", e.tok, nil),
		http.StatusNotFound, "resource-not-found", "Message not found.")
	r := e.send("GET", "/notifications/webhooks/"+strings.ToUpper(h.ID), e.tok, nil)
	assert.Equal(t, http.StatusOK, r.Status, "ids are not case-sensitive")
}

func TestWebhookMessagesMatchSpec(t *testing.T) {
	e := newHookEnv(t)
	h := e.createWebhook("https://app.example/hooks", "user.created")
	e.rcv.answer = func(n int, _ delivery) int {
		if n == 0 {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	}
	uid := e.createUser(e.tok)
	require.Equal(t, 1, e.deliver())
	e.clk.Add(5 * time.Second)
	require.Equal(t, 1, e.deliver())

	r := e.send("GET", "/notifications/webhooks/"+h.ID+"/messages", e.tok, nil)
	require.Equal(t, http.StatusOK, r.Status)
	list := r.JSON(t)
	requireSameShape(t, "messages", specExample(t, "webhooks.json", "/notifications/webhooks/{webhookId}/messages", "get", "200", "Success"), list)
	require.Len(t, list["data"], 1)
	item := list["data"].([]any)[0].(map[string]any)
	mid := item["id"].(string)
	assert.Equal(t, h.ID, item["webhookId"])
	assert.Equal(t, "user.created", item["eventTypeId"])
	ev := e.lastEvent(uid, "user.created")
	assert.Equal(t, ev["id"], item["eventId"])
	assert.Equal(t, map[string]any{"eventTypeId": "user.created", "eventId": ev["id"],
		"links": map[string]any{"event": e.srv.URL + "/events/" + ev["id"].(string), "eventEntity": e.srv.URL + "/users/" + uid}},
		item["payload"])
	assert.Equal(t, map[string]any{"self": e.srv.URL + "/notifications/webhooks/" + h.ID + "/messages/" + mid,
		"webhook": e.srv.URL + "/notifications/webhooks/" + h.ID, "event": e.srv.URL + "/events/" + ev["id"].(string)}, item["links"])

	r = e.send("GET", "/notifications/webhooks/"+h.ID+"/messages/"+mid, e.tok, nil)
	require.Equal(t, http.StatusOK, r.Status)
	one := r.JSON(t)
	requireSameShape(t, "message", specExample(t, "webhooks.json", "/notifications/webhooks/{webhookId}/messages/{messageId}", "get", "200", "Success"), one)
	assert.Equal(t, item, one, "the list item is the message")
	attempts := one["attempts"].([]any)
	require.Len(t, attempts, 2)
	first, second := attempts[0].(map[string]any), attempts[1].(map[string]any)
	assert.Equal(t, "Failed", first["status"])
	assert.Equal(t, float64(500), first["responseStatusCode"])
	assert.Equal(t, "Internal Server Error", first["response"])
	assert.Equal(t, "https://app.example/hooks", first["url"])
	assert.Equal(t, "Success", second["status"])
	assert.Equal(t, float64(200), second["responseStatusCode"])
	assert.Equal(t, "OK", second["response"])
	assert.Equal(t, stampOf(e.clk.Now()), second["timestamp"])
	assert.NotEqual(t, first["id"], second["id"])
}

func TestWebhookMessagesPagingAndFilters(t *testing.T) {
	e := newHookEnv(t)
	h := e.createWebhook("https://app.example/hooks", "user.created", "user.deleted")
	e.rcv.answer = func(_ int, d delivery) int {
		if strings.Contains(string(d.Body), "user.deleted") {
			return http.StatusGone
		}
		return http.StatusNoContent
	}
	var users []string
	for range 5 {
		users = append(users, e.createUser(e.tok))
	}
	require.Equal(t, http.StatusNoContent, e.send("DELETE", "/users/"+users[0], e.tok, nil).Status)
	e.clk.Add(24 * time.Hour)
	e.createUser(e.tok) // the next day, not delivered yet
	require.Equal(t, 7, e.deliver())
	e.createUser(e.tok)

	path := "/notifications/webhooks/" + h.ID + "/messages"
	list := func(query string) []map[string]any {
		t.Helper()
		r := e.send("GET", path+"?"+query, e.tok, nil)
		require.Equal(t, http.StatusOK, r.Status, "%s: %s", query, r.Body)
		var out []map[string]any
		for _, d := range r.JSON(t)["data"].([]any) {
			out = append(out, d.(map[string]any))
		}
		return out
	}
	all := list("")
	require.Len(t, all, 8)
	q := func(f string) string { return "filter=" + url.QueryEscape(f) }
	assert.Len(t, list(q("eventTypeId.eq(user.deleted)")), 1)
	assert.Len(t, list(q("message.eventTypeId.eq('user.created')")), 7)
	assert.Len(t, list(q("status.eq(Failed)")), 1)
	assert.Len(t, list(q("status.eq('success')")), 6)
	assert.Len(t, list(q("status.eq(Pending)")), 1)
	assert.Len(t, list(q("eventId.eq("+all[0]["eventId"].(string)+")")), 1)
	assert.Len(t, list(q("webhookId.eq("+h.ID+")")), 8)
	today := e.clk.Now().Format("2006-01-02")
	assert.Len(t, list(q("date.eq("+today+")")), 2)
	assert.Len(t, list(q("date.lt('"+today+"')")), 6)
	for _, bad := range []string{"foo.eq(1)", "date.eq(yesterday)", "status.gt(a)", "eventTypeId.eq("} {
		env := requireError(t, e.send("GET", path+"?"+q(bad), e.tok, nil), http.StatusBadRequest, "parameter-not-valid")
		assert.Equal(t, "filter", env.Data[0].Source["parameter"])
	}

	// limit pages, links.next continues, newest first.
	var paged []map[string]any
	next := path + "?limit=3&" + q("status.ne(Failed)")
	pages := 0
	for next != "" {
		r := e.send("GET", next, e.tok, nil)
		require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
		m := r.JSON(t)
		assert.EqualValues(t, 3, m["size"])
		for _, d := range m["data"].([]any) {
			paged = append(paged, d.(map[string]any))
		}
		n, _ := m["links"].(map[string]any)["next"].(string)
		next = strings.TrimPrefix(n, e.srv.URL)
		pages++
	}
	assert.Equal(t, 3, pages)
	var want []map[string]any
	for _, m := range all {
		if len(m["attempts"].([]any)) == 0 || m["attempts"].([]any)[0].(map[string]any)["status"] != "Failed" {
			want = append(want, m)
		}
	}
	assert.Equal(t, want, paged)
	env := requireError(t, e.send("GET", path+"?limit=501", e.tok, nil), http.StatusBadRequest, "parameter-not-valid")
	assert.Equal(t, "limit", env.Data[0].Source["parameter"])
	other := e.createWebhook("https://other.example/")
	r := e.send("GET", "/notifications/webhooks/"+h.ID+"/messages?limit=1", e.tok, nil)
	cursor := strings.TrimPrefix(r.JSON(t)["links"].(map[string]any)["next"].(string), e.srv.URL+path)
	env = requireError(t, e.send("GET", "/notifications/webhooks/"+other.ID+"/messages"+cursor, e.tok, nil),
		http.StatusBadRequest, "parameter-not-valid")
	assert.Equal(t, "next", env.Data[0].Source["parameter"], "a cursor is for its own webhook's list")
	requireError(t, e.send("GET", "/events"+cursor, e.tok, nil), http.StatusBadRequest, "parameter-not-valid")
}

func TestWebhookTestMessage(t *testing.T) {
	e := newHookEnv(t)
	post := func(body any) resp { return e.send("POST", "/notifications/messages/test", e.tok, body) }
	r := post(map[string]string{"eventTypeId": "user.created", "Text": "My test message"})
	env := requireError(t, r, http.StatusBadRequest, "no-webhooks-found")
	assert.Contains(t, env.Data[0].Detail, "at least one webhook should exist")

	h := e.createWebhook("https://app.example/hooks", "account.updated")
	requireError(t, post(map[string]string{"Text": "x"}), http.StatusBadRequest, "invalid-content")
	requireError(t, post(map[string]string{"eventTypeId": "job.completed"}), http.StatusBadRequest, "invalid-content",
		"Posted eventTypeId doesn't exists.")
	requireError(t, post(map[string]string{"eventTypeId": "connection.updated"}), http.StatusBadRequest, "invalid-content")
	requireError(t, post(`{"eventTypeId":1}`), http.StatusBadRequest, "invalid-content")

	r = post(map[string]string{"eventTypeId": "user.created", "Text": "nobody subscribes"})
	assert.Equal(t, http.StatusCreated, r.Status)
	assert.Empty(t, r.Body)
	r = post(map[string]string{"eventTypeId": "account.updated", "Text": "My test message"})
	require.Equal(t, http.StatusCreated, r.Status, "body: %s", r.Body)
	require.Equal(t, 1, e.deliver(), "only the subscribed type is delivered")

	got := e.rcv.deliveries()
	require.Len(t, got, 1)
	verifySignature(t, h.Secret, got[0])
	p := got[0].payload(t)
	assert.Equal(t, "account.updated", p["eventTypeId"])
	links := p["links"].(map[string]any)
	r = e.send("GET", strings.TrimPrefix(links["event"].(string), e.srv.URL), e.tok, nil)
	require.Equal(t, http.StatusOK, r.Status, "the receiver can fetch the test event")
	ev := r.JSON(t)
	assert.Equal(t, "account", ev["entity"])
	assert.Equal(t, "updated", ev["eventType"])
	assert.Equal(t, map[string]any{"type": "test", "text": "My test message"}, ev["data"])
	assert.Empty(t, e.events(""), "test events are not listed")
}

func TestWebhookActivationDelay(t *testing.T) {
	e := newHookEnv(t, basiqtest.WithWebhookActivationDelay(15*time.Minute))
	h := e.createWebhook("https://app.example/hooks", "user.created")
	r := e.send("GET", "/notifications/webhooks/"+h.ID, e.tok, nil)
	assert.Equal(t, "pending-approval", r.JSON(t)["status"])
	e.createUser(e.tok)
	e.clk.Add(15*time.Minute - time.Second)
	e.createUser(e.tok)
	assert.Zero(t, e.deliver(), "no message for events while pending")
	e.clk.Add(time.Second)
	assert.Equal(t, "active", e.send("GET", "/notifications/webhooks/"+h.ID, e.tok, nil).JSON(t)["status"])
	e.createUser(e.tok)
	assert.Equal(t, 1, e.deliver())
	assert.Len(t, e.srv.WebhookMessages(), 1)
}
