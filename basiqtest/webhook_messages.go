package basiqtest

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Webhook messages: one per event and subscribed webhook, made when the
// event is recorded (for webhooks active at that moment) and delivered,
// with retries, by webhook_delivery.go. Each webhook keeps its most recent
// maxMessages messages; older ones are forgotten, and an attempt still to
// come for one of them is not made.

const maxMessages = 10000

// message is one event's delivery to one webhook.
type message struct {
	id        string // webhook-id: the same on every attempt
	seq       int
	wh        *webhook
	eventID   string
	eventType string
	body      []byte // the thin payload, as sent
	created   time.Time
	attempts  []attempt
	next      time.Time // when the next attempt is due; zero once delivered or given up
	delivered bool
	inflight  bool // an attempt is being made
}

// attempt is one delivery attempt of a message.
type attempt struct {
	id       string
	at       time.Time // by the fake's clock, as sent in webhook-timestamp
	url      string
	status   int    // the receiver's status code; 0 when it sent none
	response string // the status text, or what went wrong
	ok       bool
	injected bool // failed by FailWebhookDeliveries
}

// payload is the body of a delivery: Basiq's thin payload.
type payload struct {
	EventTypeID string       `json:"eventTypeId"`
	EventID     string       `json:"eventId"`
	Links       payloadLinks `json:"links"`
}

type payloadLinks struct {
	Event       string `json:"event"`
	EventEntity string `json:"eventEntity"`
}

// fanOut queues a message of ev for every webhook that was active when it
// happened and subscribes to its type. Types Basiq does not deliver by
// webhook (connection.updated) get none.
func (s *Server) fanOut(ev *event) {
	typ := ev.typ()
	if !deliverable(typ) {
		return
	}
	var body []byte
	for _, w := range s.st.webhooks {
		if !w.activeAt(ev.at) || !w.subscribes(typ) {
			continue
		}
		if body == nil {
			body, _ = json.Marshal(payload{EventTypeID: typ, EventID: ev.id,
				Links: payloadLinks{Event: s.eventURL(ev.id), EventEntity: ev.dataRef}})
		}
		s.queueMessage(&message{id: newUUID(), seq: s.st.nextEventSeq(), wh: w, eventID: ev.id, eventType: typ,
			body: body, created: ev.at, next: ev.at})
	}
}

// queueMessage adds m to its webhook's messages and to the pending ones,
// and wakes the background deliverer.
func (s *Server) queueMessage(m *message) {
	w := m.wh
	w.messages = append(w.messages, m)
	if len(w.messages) > maxMessages {
		old := w.messages[0]
		old.next = time.Time{}
		s.st.pending = slices.DeleteFunc(s.st.pending, func(p *message) bool { return p == old })
		w.messages[0] = nil
		w.messages = w.messages[1:]
	}
	s.st.pending = append(s.st.pending, m)
	s.wake()
}

// messageStatus is a message's status for the status filter: that of its
// last attempt ("Success", "Failed"), or "Pending" before the first.
func (m *message) status() string {
	if len(m.attempts) == 0 {
		return "Pending"
	}
	return attemptStatus(m.attempts[len(m.attempts)-1].ok)
}

func attemptStatus(ok bool) string {
	if ok {
		return "Success"
	}
	return "Failed"
}

// messageView is the wire form of a message (WH3 Message): both the items
// of a webhook's message list and GET of one message.
type messageView struct {
	ID          string          `json:"id"`
	WebhookID   string          `json:"webhookId"`
	EventTypeID string          `json:"eventTypeId"`
	EventID     string          `json:"eventId"`
	Payload     json.RawMessage `json:"payload"`
	Attempts    []attemptView   `json:"attempts"`
	Links       messageLinks    `json:"links"`
}

// attemptView is one attempt as WH3's example shows it.
type attemptView struct {
	ID                 string `json:"id"`
	URL                string `json:"url"`
	Response           string `json:"response"`
	ResponseStatusCode int    `json:"responseStatusCode"`
	Timestamp          string `json:"timestamp"`
	Status             string `json:"status"`
}

type messageLinks struct {
	Self    string `json:"self"`
	Webhook string `json:"webhook"`
	Event   string `json:"event"`
}

func (s *Server) messageView(m *message) messageView {
	v := messageView{ID: m.id, WebhookID: m.wh.id, EventTypeID: m.eventType, EventID: m.eventID,
		Payload: m.body, Attempts: []attemptView{},
		Links: messageLinks{Self: s.webhookURL(m.wh.id) + "/messages/" + m.id, Webhook: s.webhookURL(m.wh.id),
			Event: s.eventURL(m.eventID)}}
	for _, a := range m.attempts {
		v.Attempts = append(v.Attempts, attemptView{ID: a.id, URL: a.url, Response: a.response,
			ResponseStatusCode: a.status, Timestamp: stamp(a.at), Status: attemptStatus(a.ok)})
	}
	return v
}

// messageFields are the filters of a webhook's message list (WH3: "date,
// status, eventTypeId, webhookId, eventId"), bare or with a "message."
// prefix, values quoted or not. status is the last attempt's, Success or
// Failed (any case), or Pending before the first attempt; date is the day
// the message was made, with eq, ne, gt, gteq, lt, lteq and bt.
func messageFields() map[string]fieldFilter[*message] {
	eq := []string{"eq", "ne", "in"}
	m := map[string]fieldFilter[*message]{
		"eventTypeId": {ops: eq, text: func(m *message) string { return m.eventType }},
		"eventId":     {ops: eq, text: func(m *message) string { return m.eventID }},
		"webhookId":   {ops: eq, text: func(m *message) string { return m.wh.id }},
		"status":      {ops: eq, match: func(m *message, v string) bool { return strings.EqualFold(m.status(), v) }},
		"date": {ops: []string{"eq", "ne", "gt", "gteq", "lt", "lteq", "bt"},
			day: func(m *message) (time.Time, bool) { return dayOf(m.created), true }},
	}
	for k, f := range m {
		m["message."+k] = f
	}
	return m
}

// listMessages serves GET /notifications/webhooks/{webhookId}/messages:
// newest first, limit a page (default and most 500), links.next while more
// remain.
func (s *Server) listMessages(c *call) reply {
	w, rp, ok := s.lookupWebhook(c)
	if !ok {
		return rp
	}
	cur, rp, ok := readPageQuery(c, w.id)
	if !ok {
		return rp
	}
	keep, ok := compileLenientFieldFilter(cur.Filter, messageFields())
	if !ok {
		return errorReply(http.StatusBadRequest, errBadFilter())
	}
	out := struct {
		Type  string        `json:"type"`
		Size  int           `json:"size"`
		Count int           `json:"count"`
		Data  []messageView `json:"data"`
		Links pageLinks     `json:"links"`
	}{Type: "list", Size: cur.Limit, Data: []messageView{}, Links: pageLinks{Self: s.selfURL(c)}}
	last := 0
	for _, m := range slices.Backward(w.messages) {
		if cur.Before >= 0 && m.seq >= cur.Before || !keep(m) {
			continue
		}
		if len(out.Data) == cur.Limit {
			next := cur
			next.Before = last
			out.Links.Next = s.webhookURL(w.id) + "/messages?next=" + next.encode()
			break
		}
		out.Data = append(out.Data, s.messageView(m))
		last = m.seq
	}
	out.Count = len(out.Data)
	return jsonReply(http.StatusOK, out)
}

// getMessage serves GET /notifications/webhooks/{webhookId}/messages/{messageId}.
func (s *Server) getMessage(c *call) reply {
	w, rp, ok := s.lookupWebhook(c)
	if !ok {
		return rp
	}
	id := strings.ToLower(c.param("messageId"))
	i := slices.IndexFunc(w.messages, func(m *message) bool { return m.id == id })
	if i < 0 {
		return errorReply(http.StatusNotFound, errNotFound("Message not found."))
	}
	return jsonReply(http.StatusOK, s.messageView(w.messages[i]))
}

// testEventData is the data of a test message's event.
type testEventData struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

// postTestMessage serves POST /notifications/messages/test: an event of the
// given type with no user, whose data is {"type": "test", "text": Text},
// delivered like any other to every active webhook subscribed to the type
// (none may be: 201 all the same). It answers 201 with no body. The event
// can be read at GET /events/{eventId} but is not listed by GET /events.
func (s *Server) postTestMessage(c *call) reply {
	var in struct {
		EventTypeID *string `json:"eventTypeId"`
		Text        *string `json:"Text"`
	}
	if rp, ok := decodeJSON(c, &in, "Posted request not valid."); !ok {
		return rp
	}
	if in.EventTypeID == nil || strings.TrimSpace(*in.EventTypeID) == "" {
		return errorReply(http.StatusBadRequest, errPostedNotValid("eventTypeId is required."))
	}
	typ := strings.TrimSpace(*in.EventTypeID)
	if !deliverable(typ) {
		return errorReply(http.StatusBadRequest, errInvalidContent("Posted eventTypeId doesn't exists."))
	}
	if len(s.st.webhooks) == 0 {
		return errorReply(http.StatusBadRequest, newError("no-webhooks-found", "No webhooks found",
			"No webhooks found for an app: "+s.st.appID+", at least one webhook should exist in the system"))
	}
	text := ""
	if in.Text != nil {
		text = *in.Text
	}
	entity, action, _ := strings.Cut(typ, ".")
	ev := &event{id: newEventID(), seq: s.st.nextEventSeq(), at: c.now, entity: entity, action: action, test: true}
	ev.data, _ = json.Marshal(testEventData{Type: "test", Text: text})
	s.recordEvent(ev)
	s.fanOut(ev)
	return emptyReply(http.StatusCreated)
}
