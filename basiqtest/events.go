package basiqtest

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Events (API 3.0). The fake records an event whenever its own state
// changes (events_triggers.go, consent_clock.go) and serves the last seven
// days of them at GET /events and GET /events/{eventId}. Each event
// carries a snapshot of its entity, marshalled when the event happens, so
// later changes do not show through. Recording an event also queues a
// webhook message for every webhook subscribed to its type
// (webhook_messages.go).

// Retention: Basiq lists the last seven days of events; the fake forgets
// older ones (GET /events/{eventId} then answers 404 too), and never keeps
// more than maxEvents, or snapshots of more than maxEventBytes, oldest
// dropped first, so that long runs stay bounded.
const (
	eventWindow   = 7 * 24 * time.Hour
	maxEvents     = 100000
	maxEventBytes = 64 << 20 // of snapshots, all events together
)

// maxPage is the largest (and default) page of GET /events and of a
// webhook's messages, as for transactions.
const maxPage = 500

// event is one recorded event.
type event struct {
	id      string // 64 hexadecimal digits, like Basiq's
	seq     int    // recording order
	at      time.Time
	entity  string // "user", "connection", "consent", "transactions", "account"
	action  string // "created", "invalidated", …
	userID  string
	dataRef string          // the entity's URL
	data    json.RawMessage // the entity's snapshot
	test    bool            // made by POST /notifications/messages/test: not listed
}

// typ is the event's type, "entity.action": a webhook payload's eventTypeId.
func (e *event) typ() string { return e.entity + "." + e.action }

// eventState is what the fake keeps for events and webhooks; it is embedded
// in state.
type eventState struct {
	events     []*event // oldest first
	eventByID  map[string]*event
	eventBytes int // the events' snapshots' size
	eventSeq   int // ordering of events, messages and consent timers

	consentTimers consentQueue // consent_clock.go

	webhooks    []*webhook // oldest first
	webhookByID map[string]*webhook
	pending     []*message // messages with an attempt to come, oldest first
	failNext    int        // FailWebhookDeliveries
	delivering  bool       // StartWebhookDelivery's loop runs
	appID       string     // the application's id, quoted by no-webhooks-found
}

func newEventState() eventState {
	return eventState{eventByID: map[string]*event{}, webhookByID: map[string]*webhook{}, appID: newUUID()}
}

// nextEventSeq returns the next number of the events' own sequence. It is
// apart from state.next, whose numbers feed account numbers.
func (st *state) nextEventSeq() int {
	st.eventSeq++
	return st.eventSeq
}

// newEventID returns a random event id: 64 hexadecimal digits, the form of
// the ids in Basiq's event examples.
func newEventID() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+).
	return hex.EncodeToString(b[:])
}

// emit records an event of type entity.action that happened at at, with a
// snapshot of the entity (one of the fake's wire types), and queues a
// webhook message for it. It is called with the lock held.
func (s *Server) emit(at time.Time, entity, action, userID, dataRef string, data any) *event {
	return s.emitRaw(at, entity, action, userID, dataRef, snapshot(data))
}

// snapshot marshals an event's data, one of the fake's wire types.
func snapshot(data any) json.RawMessage {
	raw, err := json.Marshal(data)
	if err != nil {
		panic("basiqtest: marshal event data: " + err.Error()) // the fake's own wire types always marshal
	}
	return raw
}

// emitRaw is emit with the data already marshalled (events that share a
// snapshot share its bytes; nothing changes them).
func (s *Server) emitRaw(at time.Time, entity, action, userID, dataRef string, raw json.RawMessage) *event {
	ev := &event{id: newEventID(), seq: s.st.nextEventSeq(), at: at, entity: entity, action: action,
		userID: userID, dataRef: dataRef, data: raw}
	s.recordEvent(ev)
	s.fanOut(ev)
	return ev
}

// recordEvent keeps ev and forgets the events that fell out of the window
// or beyond maxEvents.
func (s *Server) recordEvent(ev *event) {
	st := &s.st.eventState
	st.events = append(st.events, ev)
	st.eventByID[ev.id] = ev
	st.eventBytes += len(ev.data)
	cut := ev.at.Add(-eventWindow)
	n := 0
	for n < len(st.events)-1 && (len(st.events)-n > maxEvents || st.eventBytes > maxEventBytes || !st.events[n].at.After(cut)) {
		delete(st.eventByID, st.events[n].id)
		st.eventBytes -= len(st.events[n].data)
		n++
	}
	if n > 0 {
		clear(st.events[:n])
		st.events = st.events[n:]
	}
}

func (s *Server) eventURL(id string) string { return s.URL + "/events/" + id }

// eventView is the wire form of an event (CORE3).
type eventView struct {
	Type        string          `json:"type"`
	ID          string          `json:"id"`
	CreatedDate string          `json:"createdDate"`
	Entity      string          `json:"entity"`
	EventType   string          `json:"eventType"`
	UserID      string          `json:"userId"`
	DataRef     string          `json:"dataRef"`
	Data        json.RawMessage `json:"data"`
	Links       selfLink        `json:"links"`
}

func (s *Server) eventView(e *event) eventView {
	return eventView{Type: "event", ID: e.id, CreatedDate: stamp(e.at), Entity: e.entity, EventType: e.action,
		UserID: e.userID, DataRef: e.dataRef, Data: e.data, Links: selfLink{Self: s.eventURL(e.id)}}
}

// eventFields are the filters of GET /events. event.type takes the whole
// type (connection.invalidated) or the action alone (invalidated), since
// Basiq's documents do not say which.
func eventFields() map[string]fieldFilter[*event] {
	ops := []string{"eq", "ne", "in"}
	return map[string]fieldFilter[*event]{
		"user.id":      {ops: ops, text: func(e *event) string { return e.userID }},
		"event.entity": {ops: ops, text: func(e *event) string { return e.entity }},
		"event.type": {ops: ops, match: func(e *event, v string) bool {
			if strings.Contains(v, ".") {
				return v == e.typ()
			}
			return v == e.action
		}},
	}
}

// pageCursor is where the next page of a newest-first list (events, a
// webhook's messages) starts, with the request it continues. It travels
// base64url-encoded as ?next=, opaque to clients.
type pageCursor struct {
	Scope  string `json:"s,omitempty"` // the webhook of a message list
	Filter string `json:"f,omitempty"`
	Limit  int    `json:"l"`
	Before int    `json:"b"` // only items recorded before this sequence number
}

func (c pageCursor) encode() string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

// readPageQuery reads the limit, filter and next parameters of a
// newest-first list. A request with next continues the listing it came
// from; its other parameters are ignored.
func readPageQuery(c *call, scope string) (pageCursor, reply, bool) {
	q := c.req.URL.Query()
	cur := pageCursor{Scope: scope, Filter: q.Get("filter"), Limit: maxPage, Before: -1}
	if next := q.Get("next"); next != "" {
		var got pageCursor
		b, err := base64.RawURLEncoding.DecodeString(next)
		if err != nil || json.Unmarshal(b, &got) != nil || got.Scope != scope || got.Limit < 1 || got.Limit > maxPage || got.Before < 0 {
			return cur, errorReply(http.StatusBadRequest, errNotValid("The provided next parameter is not valid", "", "next")), false
		}
		return got, reply{}, true
	}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > maxPage {
			return cur, errorReply(http.StatusBadRequest, errNotValid("Limit must be a number between 1 and 500", "", "limit")), false
		}
		cur.Limit = n
	}
	return cur, reply{}, true
}

// pageLinks are the links of a list page: self, and next while more remain.
type pageLinks struct {
	Self string `json:"self"`
	Next string `json:"next,omitempty"`
}

// selfURL is the URL of the request being served, on the fake's base URL.
func (s *Server) selfURL(c *call) string {
	u := s.URL + c.req.URL.EscapedPath()
	if raw := c.req.URL.RawQuery; raw != "" {
		u += "?" + raw
	}
	return u
}

// listEvents serves GET /events: the last seven days of events, newest
// first, filtered, limit to a page (default and most 500) with links.next
// while more remain. Basiq documents neither paging nor a limit for
// /events; the fake pages like its transactions so that clients that
// follow links.next get everything.
func (s *Server) listEvents(c *call) reply {
	cur, rp, ok := readPageQuery(c, "")
	if !ok {
		return rp
	}
	keep, ok := compileLenientFieldFilter(cur.Filter, eventFields())
	if !ok {
		return errorReply(http.StatusBadRequest, errBadFilter())
	}
	out := struct {
		Type  string      `json:"type"`
		Data  []eventView `json:"data"`
		Links pageLinks   `json:"links"`
	}{Type: "list", Data: []eventView{}, Links: pageLinks{Self: s.selfURL(c)}}
	cut := c.now.Add(-eventWindow)
	evs := s.st.events
	last := 0 // sequence number of the last event on the page
	for i := len(evs) - 1; i >= 0; i-- {
		e := evs[i]
		if !e.at.After(cut) {
			break
		}
		if cur.Before >= 0 && e.seq >= cur.Before || e.test || !keep(e) {
			continue
		}
		if len(out.Data) == cur.Limit {
			next := cur
			next.Before = last
			out.Links.Next = s.URL + "/events?next=" + next.encode()
			break
		}
		out.Data = append(out.Data, s.eventView(e))
		last = e.seq
	}
	return jsonReply(http.StatusOK, out)
}

// getEvent serves GET /events/{eventId}: any event still kept, test
// messages' events included.
func (s *Server) getEvent(c *call) reply {
	e := s.st.eventByID[c.param("eventId")]
	if e == nil || !e.at.After(c.now.Add(-eventWindow)) {
		return errorReply(http.StatusNotFound, errNotFound("Requested event does not exist."))
	}
	return jsonReply(http.StatusOK, s.eventView(e))
}

// eventRoutes are the events and webhooks endpoints (3.0 only,
// SERVER_ACCESS). NewServer adds them to newRoutes.
func eventRoutes() []route {
	v3 := []string{"3.0"}
	rs := []route{
		{method: "GET", pattern: "/events", handle: (*Server).listEvents},
		{method: "GET", pattern: "/events/types", handle: (*Server).listEventTypes},
		{method: "GET", pattern: "/events/types/{eventTypeId}", handle: (*Server).getEventType},
		{method: "GET", pattern: "/events/{eventId}", handle: (*Server).getEvent},
		{method: "POST", pattern: "/notifications/webhooks", handle: (*Server).createWebhook},
		{method: "GET", pattern: "/notifications/webhooks", handle: (*Server).listWebhooks},
		{method: "GET", pattern: "/notifications/webhooks/{webhookId}", handle: (*Server).getWebhook},
		{method: "POST", pattern: "/notifications/webhooks/{webhookId}", handle: (*Server).updateWebhook},
		{method: "DELETE", pattern: "/notifications/webhooks/{webhookId}", handle: (*Server).deleteWebhook},
		{method: "GET", pattern: "/notifications/webhooks/{webhookId}/messages", handle: (*Server).listMessages},
		{method: "GET", pattern: "/notifications/webhooks/{webhookId}/messages/{messageId}", handle: (*Server).getMessage},
		{method: "POST", pattern: "/notifications/messages/test", handle: (*Server).postTestMessage},
	}
	for i := range rs {
		rs[i].scopes, rs[i].versions = scopeServer, v3
		rs[i].segs = strings.Split(rs[i].pattern[1:], "/")
	}
	return rs
}
