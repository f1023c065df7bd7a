package basiq

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const eventID = "5a47115a7eed80a3b68761b725b78c75892e94cef06810ecc0e2e7b856738371"

func TestEventsGet(t *testing.T) {
	a := newCoreAPI(t)
	c := newCoreClient(t, a)
	a.handle("GET", "/events/"+eventID, 200, specExampleBody(t, "core.json", "GET /events/{id} 200", "Success"))
	ev, err := c.Events.Get(t.Context(), eventID)
	require.NoError(t, err)
	assert.Equal(t, EventConnectionUpdated, ev.Type)
	assert.Equal(t, "connection", ev.Entity)
	assert.Equal(t, "updated", ev.EventType)
	assert.Equal(t, "84e33255-f65f-4f05-953b-1b12e1e4d90b", ev.UserID)
	assert.Equal(t, "8bd4f752-c218-4e41-af28-0c42ae982d35", ev.ConnectionID())
	var conn Connection
	require.NoError(t, json.Unmarshal(ev.Data, &conn), "the snapshot decodes as the entity")
	assert.Equal(t, ConnectionActive, conn.Status)

	t.Run("by the event URL a webhook message carries", func(t *testing.T) {
		ev, err := c.Events.Get(t.Context(), "https://au-api.basiq.io/events/"+eventID)
		require.NoError(t, err)
		assert.Equal(t, eventID, ev.ID)
		// Only the id is used, fetched from the client's own base URL: a
		// message naming another host (Basiq's, seen through a proxy) works,
		// and that host is never contacted (the mock fails any request
		// outside coreBaseURL).
		for _, other := range []string{
			"https://evil.example/events/" + eventID, "http://au-api.basiq.io/events/" + eventID,
			"https://u:p@proxy.internal:8443/basiq/events/" + eventID,
		} {
			ev, err := c.Events.Get(t.Context(), other)
			require.NoError(t, err, other)
			assert.Equal(t, eventID, ev.ID)
		}
		for _, bad := range []string{
			"https://au-api.basiq.io/users/x", "https://au-api.basiq.io/events/a/b", "https://au-api.basiq.io/events/",
			"ftp://au-api.basiq.io/events/" + eventID, "https://au-api.basiq.io/events/%zz",
		} {
			_, err := c.Events.Get(t.Context(), bad)
			assert.ErrorIs(t, err, ErrInvalidInput, bad)
		}
	})
	v21 := newCoreClient(t, a, WithAPIVersion(V2_1))
	_, err = v21.Events.Get(t.Context(), eventID)
	assert.ErrorIs(t, err, ErrUnsupportedVersion)
}

func TestEventsAllFiltersAndPages(t *testing.T) {
	a := newCoreAPI(t)
	c := newCoreClient(t, a)
	event := func(id, typ string) string {
		entity, et, _ := strings.Cut(typ, ".")
		return fmt.Sprintf(`{"type":"event","id":%q,"createdDate":"2026-11-27T10:00:00Z","entity":%q,"eventType":%q,`+
			`"userId":"u-1","dataRef":"https://au-api.basiq.io/users/u-1/connections/c-1","data":{},"links":{"self":"x"}}`, id, entity, et)
	}
	a.handleFunc("GET", "/events", func(r *http.Request) (*http.Response, error) {
		if r.URL.Query().Get("next") == "p2" {
			return coreJSON(200, `{"type":"list","data":[`+event("e3", "connection.invalidated")+`]}`), nil
		}
		return coreJSON(200, `{"type":"list","data":[`+event("e1", "connection.invalidated")+`,`+event("e2", "connection.invalidated")+
			`],"links":{"next":"https://au-api.basiq.io/events?next=p2"}}`), nil
	})
	var ids []string
	for ev, err := range c.Events.All(t.Context(), &EventFilter{UserID: "u-1", Type: EventConnectionInvalidated}) {
		require.NoError(t, err)
		assert.Equal(t, EventConnectionInvalidated, ev.Type)
		ids = append(ids, ev.ID)
	}
	assert.Equal(t, []string{"e1", "e2", "e3"}, ids)
	reqs := a.apiRequests()
	require.Len(t, reqs, 2)
	q, err := url.ParseQuery(reqs[0].RawQuery)
	require.NoError(t, err)
	assert.Equal(t, "user.id.eq('u-1'),event.entity.eq('connection'),event.type.eq('invalidated')", q.Get("filter"))
	assert.Equal(t, "next=p2", reqs[1].RawQuery, "the cursor is followed verbatim")

	for name, f := range map[string]*EventFilter{
		"quote in a value":  {UserID: "u'1"},
		"entity disagrees":  {Entity: "consent", Type: EventConnectionInvalidated},
		"comma in a value":  {Entity: "a,b"},
		"control character": {UserID: "u\n1"},
	} {
		t.Run(name, func(t *testing.T) {
			for _, err := range c.Events.All(t.Context(), f) {
				assert.ErrorIs(t, err, ErrInvalidInput)
			}
		})
	}
	t.Run("an error envelope is never an event", func(t *testing.T) {
		a := newCoreAPI(t)
		c := newCoreClient(t, a)
		a.handle("GET", "/events", 200, coreEnvelope("parameter-not-valid", "Invalid", "bad filter"))
		n := 0
		for ev, err := range c.Events.All(t.Context(), nil) {
			n++
			assert.Error(t, err)
			assert.Empty(t, ev.ID)
		}
		assert.Equal(t, 1, n)
	})
}

func TestWebhooksService(t *testing.T) {
	a := newCoreAPI(t)
	c := newCoreClient(t, a)
	const wid = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
	a.handle("POST", "/notifications/webhooks", 201, specExampleBody(t, "webhooks.json", "POST /notifications/webhooks 201", "Success"))
	w, err := c.Webhooks.Create(t.Context(), WebhookParams{URL: "https://app.example/basiq", Name: "All", SubscribedEvents: []EventType{EventConnectionInvalidated, EventConsentRevoked}})
	require.NoError(t, err)
	assert.Equal(t, wid, w.ID)
	assert.Equal(t, WebhookSecret("rfiuheo43934"), w.Secret)
	assert.Equal(t, []EventType{"user.created"}, w.SubscribedEvents, "a single string decodes as a list of one")
	for _, out := range []string{fmt.Sprintf("%v %+v %#v %s", w, w, w, w.Secret), fmt.Sprint(*w)} {
		assert.NotContains(t, out, "rfiuheo43934", "the secret never formats")
	}
	body := a.apiRequests()[0].Body
	assert.JSONEq(t, `{"url":"https://app.example/basiq","name":"All","subscribedEvents":["connection.invalidated","consent.revoked"]}`, string(body))

	a.handle("GET", "/notifications/webhooks", 200, specExampleBody(t, "webhooks.json", "GET /notifications/webhooks 200", "Success"))
	list, err := c.Webhooks.List(t.Context())
	require.NoError(t, err)
	require.Len(t, list, 1, "the example's data is one object: a list of one")
	assert.Equal(t, wid, list[0].ID)

	a.handle("GET", "/notifications/webhooks/"+wid+"/messages", 200, specExampleBody(t, "webhooks.json", "GET /notifications/webhooks/{webhookId}/messages 200", "Success"))
	var msgs []WebhookMessage
	for m, err := range c.Webhooks.Messages(t.Context(), wid, &WebhookMessageFilter{EventType: EventUserCreated, PageSize: 10}) {
		require.NoError(t, err)
		msgs = append(msgs, m)
	}
	require.NotEmpty(t, msgs)
	assert.Equal(t, EventUserCreated, msgs[0].EventType, "from the payload when the message does not say")
	last := a.apiRequests()[len(a.apiRequests())-1]
	q, _ := url.ParseQuery(last.RawQuery)
	assert.Equal(t, "eventTypeId.eq('user.created')", q.Get("filter"))
	assert.Equal(t, "10", q.Get("limit"))

	a.handle("GET", "/notifications/webhooks/"+wid+"/messages/m-1", 200, specExampleBody(t, "webhooks.json", "GET /notifications/webhooks/{webhookId}/messages/{messageId} 200", "Success"))
	m, err := c.Webhooks.Message(t.Context(), wid, "m-1")
	require.NoError(t, err)
	require.NotEmpty(t, m.Attempts)
	assert.Equal(t, 200, m.Attempts[0].StatusCode)
	assert.Equal(t, "Success", m.Attempts[0].Status)

	a.handle("POST", "/notifications/messages/test", 201, "")
	require.NoError(t, c.Webhooks.SendTest(t.Context(), EventUserCreated, "hello"))
	assert.JSONEq(t, `{"eventTypeId":"user.created","Text":"hello"}`, string(a.apiRequests()[len(a.apiRequests())-1].Body))

	a.handle("DELETE", "/notifications/webhooks/"+wid, 204, "")
	require.NoError(t, c.Webhooks.Delete(t.Context(), wid))

	n := len(a.apiRequests())
	for name, p := range map[string]WebhookParams{
		"no URL":           {Name: "x"},
		"plain http":       {URL: "http://app.example/hook"},
		"relative":         {URL: "/hook"},
		"bad event type":   {URL: "https://app.example/hook", SubscribedEvents: []EventType{"a\nb"}},
		"not a URL at all": {URL: "::"},
	} {
		_, err := c.Webhooks.Create(t.Context(), p)
		assert.ErrorIs(t, err, ErrInvalidInput, name)
	}
	_, err = c.Webhooks.Update(t.Context(), wid, WebhookParams{})
	assert.ErrorIs(t, err, ErrInvalidInput, "an empty update")
	_, err = c.Webhooks.Update(t.Context(), wid, WebhookParams{Name: "renamed"})
	assert.ErrorIs(t, err, ErrInvalidInput, "an update without the URL Basiq requires")
	assert.Equal(t, n, len(a.apiRequests()), "nothing sent")
	v21 := newCoreClient(t, a, WithAPIVersion(V2_1))
	_, err = v21.Webhooks.List(t.Context())
	assert.ErrorIs(t, err, ErrUnsupportedVersion)
}

func TestEventsAdvise(t *testing.T) {
	const user, conn = "u-1", "c-1"
	ev := func(typ EventType) *Event {
		entity, action, _ := strings.Cut(string(typ), ".")
		return &Event{ID: "e", Type: typ, Entity: entity, EventType: action, UserID: user,
			DataRef: "https://au-api.basiq.io/users/" + user + "/connections/" + conn}
	}
	a := newCoreAPI(t)
	c := newCoreClient(t, a)
	a.handle("GET", "/users/"+user+"/connections/"+conn, 200,
		`{"type":"connection","id":"c-1","status":"invalid","createdDate":"2026-01-01T00:00:00Z","institution":{"type":"institution","id":"AU00000"}}`)
	// The user's connections: c-1, and c-0 at the same bank, older than
	// c-1's failure, working: a second login, not a replacement.
	a.handle("GET", "/users/"+user+"/connections", 200, `{"type":"list","data":[`+
		`{"type":"connection","id":"c-1","status":"invalid","createdDate":"2026-01-01T00:00:00Z","institution":{"type":"institution","id":"AU00000"}},`+
		`{"type":"connection","id":"c-0","status":"active","createdDate":"2025-06-01T00:00:00Z","institution":{"type":"institution","id":"AU00000"}}]}`)
	a.handle("GET", "/users/"+user+"/jobs", 200, `{"type":"list","data":[{"type":"job","id":"j-8","created":"2026-11-27T11:00:00Z",`+
		`"steps":[{"title":"verify-credentials","status":"success","result":{"type":"link","url":"/users/u-1/connections/c-0"}}],`+
		`"links":{"source":"https://au-api.basiq.io/users/u-1/connections/c-0"}},{"type":"job","id":"j-9","created":"2026-11-27T10:00:00Z",`+
		`"steps":[{"title":"verify-credentials","status":"failed","result":{"code":"invalid-credentials","title":"Cannot login"}}],`+
		`"links":{"source":"https://au-api.basiq.io/users/u-1/connections/c-1"}}]}`)

	adv, err := c.Events.Advise(t.Context(), ev(EventConnectionInvalidated))
	require.NoError(t, err)
	require.NotNil(t, adv.Health)
	require.NotNil(t, adv.Health.Diagnosis)
	assert.Equal(t, ActionUpdateCredentials, adv.Health.Diagnosis.Action, "a refresh's invalid credentials: the password changed")
	assert.Equal(t, &ConsentURLOptions{ConnectionID: conn}, adv.Health.Diagnosis.Consent, "fixed in the Consent UI on 3.0")
	assert.True(t, adv.Health.NeedsUserAction)
	assert.True(t, adv.NeedsUserAction, "connection.invalidated asks the user to act")
	assert.Same(t, adv.Health.Diagnosis, adv.Diagnosis)
	assert.Equal(t, "c-1:invalid-credentials", adv.Diagnosis.ProblemID)
	assert.Contains(t, adv.Summary, "needs the user")
	assert.Empty(t, adv.Diagnosis.RemoveConnectionID, "c-0 was there before c-1 failed: not a replacement")
	assert.Len(t, a.apiRequests(), 3, "three requests: the connection, the user's jobs, and (for a failure) the user's connections")

	for _, tc := range []struct {
		typ     EventType
		consent *ConsentURLOptions
		del     bool
		fetch   bool
	}{
		{EventConsentWarning, &ConsentURLOptions{Action: ConsentExtend}, false, false},
		{EventConsentExpired, &ConsentURLOptions{Action: ConsentDefault}, true, false},
		{EventConsentRevoked, nil, true, false},
		{EventConsentReminder, &ConsentURLOptions{Action: ConsentManage}, false, false},
		{EventUserDeleted, nil, true, false},
		{EventTransactionsUpdated, nil, false, true},
		{EventUserCreated, nil, false, false},
		{EventConnectionCreated, nil, false, false},
		{EventConnectionActivated, nil, false, false},
		{"something.new", nil, false, false},
	} {
		t.Run(string(tc.typ), func(t *testing.T) {
			before := len(a.apiRequests())
			adv, err := c.Events.Advise(t.Context(), ev(tc.typ))
			require.NoError(t, err)
			assert.Equal(t, tc.consent, adv.Consent)
			assert.Equal(t, tc.del, adv.DeleteUserData)
			assert.Equal(t, tc.fetch, adv.FetchTransactions)
			assert.NotEmpty(t, adv.Summary)
			assert.False(t, adv.NeedsUserAction, "only connection.invalidated asks the user to act")
			assert.Nil(t, adv.Diagnosis)
			assert.Equal(t, before, len(a.apiRequests()), "no request")
		})
	}
	_, err = c.Events.Advise(t.Context(), nil)
	assert.ErrorIs(t, err, ErrInvalidInput)
}

func TestEventTypesFromTheAPI(t *testing.T) {
	a := newCoreAPI(t)
	a.handle(http.MethodGet, "/events/types", http.StatusOK, v3Example(t, "core.json", "GET /events/types 200", "Success"))
	a.handle(http.MethodGet, "/events/types/account.updated", http.StatusOK, v3Example(t, "core.json", "GET /events/types/{id} 200", "Success"))
	c := newCoreClient(t, a)
	ctx := context.Background()
	types, err := c.Events.Types(ctx)
	require.NoError(t, err)
	var ids []EventType
	for _, ty := range types {
		ids = append(ids, ty.ID)
	}
	assert.ElementsMatch(t, WebhookEventTypes(), ids, "the documented list is the API's")
	one, err := c.Events.Type(ctx, EventAccountUpdated)
	require.NoError(t, err)
	assert.Equal(t, EventTypeInfo{ID: EventAccountUpdated, Description: "when an account is updated",
		Self: "https://au-api.basiq.io/events/types/account.updated"}, *one)

	v21 := newCoreClient(t, a, WithAPIVersion(V2_1))
	_, err = v21.Events.Types(ctx)
	assert.ErrorIs(t, err, ErrUnsupportedVersion)
	_, err = v21.Events.Type(ctx, EventAccountUpdated)
	assert.ErrorIs(t, err, ErrUnsupportedVersion)
}
