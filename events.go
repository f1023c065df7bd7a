package basiq

import (
	"context"
	"encoding/json"
	"errors"
	"iter"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Event is something that happened to one of the application's users, as
// GET /events and GET /events/{id} return it (API 3.0; Basiq keeps 7 days).
type Event struct {
	ID string
	// Type is the event's type as a webhook names it: Entity and EventType
	// joined by a dot (EventConnectionInvalidated, ...).
	Type      EventType
	Created   time.Time // createdDate
	Entity    string    // as sent: "connection", "consent", "user", "account", "transactions"
	EventType string    // as sent: "invalidated", "revoked", "created", ...
	UserID    string
	DataRef   string // the URL of the entity the event is about
	// Data is a snapshot of the entity (a connection, a consent, a user...)
	// as Basiq sent it.
	Data json.RawMessage
	Self string // links.self
}

// ConnectionID returns the id of the connection the event is about, from
// DataRef or its data, when it is about one ("" otherwise).
func (e Event) ConnectionID() string {
	if _, conn := parseConnectionURL(e.DataRef); conn != "" {
		return conn
	}
	if e.Entity != "connection" && e.Entity != "transactions" {
		return ""
	}
	var data struct {
		Type       lenientString `json:"type"`
		ID         lenientString `json:"id"`
		Connection *ResourceRef  `json:"connection"`
	}
	if json.Unmarshal(e.Data, &data) != nil {
		return ""
	}
	if data.Connection != nil && data.Connection.ID != "" {
		return data.Connection.ID
	}
	if strings.EqualFold(string(data.Type), "connection") {
		return string(data.ID)
	}
	return ""
}

// UnmarshalJSON decodes an event leniently.
func (e *Event) UnmarshalJSON(b []byte) error {
	var aux struct {
		ID        lenientString   `json:"id"`
		Created   lenientTime     `json:"createdDate"`
		Entity    lenientString   `json:"entity"`
		EventType lenientString   `json:"eventType"`
		UserID    lenientString   `json:"userId"`
		DataRef   lenientString   `json:"dataRef"`
		Data      json.RawMessage `json:"data"`
		Links     links           `json:"links"`
	}
	if err := json.Unmarshal(b, &aux); err != nil && !memberTypeError(err) {
		return err
	}
	*e = Event{
		ID: string(aux.ID), Created: time.Time(aux.Created), Entity: string(aux.Entity),
		EventType: string(aux.EventType), UserID: string(aux.UserID), DataRef: string(aux.DataRef),
		Data: rawOrNil(aux.Data), Self: string(aux.Links.Self),
	}
	e.Type = EventType(e.EventType)
	if e.Entity != "" && !strings.Contains(e.EventType, ".") {
		e.Type = EventType(e.Entity + "." + e.EventType)
	}
	return nil
}

// EventFilter narrows Events.All (server-side filter). Empty fields do not
// filter.
type EventFilter struct {
	UserID string    // user.id.eq(...)
	Type   EventType // event.entity.eq(...) and event.type.eq(...), e.g. EventConnectionInvalidated
	Entity string    // event.entity.eq(...) alone, e.g. "consent"
	// Where adds statements beyond the fields, ANDed with them. Basiq
	// documents user.id, event.entity and event.type, with eq only.
	Where []Condition
}

// EventsService reads the events of the last 7 days (API version 3.0).
type EventsService struct {
	c *Client
}

func (s *EventsService) client() *Client {
	if s == nil {
		return nil
	}
	return s.c
}

// Get returns one event (GET /events/{id}). eventID is an event's id, or an
// event's URL on the API as a webhook message carries it (its links.event:
// Basiq's examples show a message whose eventId differs from the id in that
// URL, and the URL is what to follow). Only the URL's id is used: the event
// is fetched from the client's own base URL, so a message naming Basiq's
// host works through a proxy set with WithBaseURL, and no other host is ever
// contacted. A URL whose path does not end /events/{id} is an error matching
// ErrInvalidInput. API version 3.0 only.
func (s *EventsService) Get(ctx context.Context, eventID string) (*Event, error) {
	c := s.client()
	if c.APIVersion() != V3 {
		return nil, c.errUnsupported("Events.Get")
	}
	if strings.Contains(eventID, "://") {
		id, err := c.eventIDOf(eventID)
		if err != nil {
			return nil, err
		}
		eventID = id
	}
	var ev Event
	if _, err := c.do(ctx, apiRequest{method: http.MethodGet, route: "/events/{eventId}", params: []string{eventID}}, &ev); err != nil {
		return nil, err
	}
	return &ev, nil
}

// eventShape names an event's members (its decoder keeps them all).
var eventShape = rawShape("type", "id", "createdDate", "entity", "eventType", "userId", "dataRef", "data", "links")

// validEvent rejects a list item that is not an event (an error envelope's
// member, say).
func validEvent(e *Event) error {
	if e.ID == "" {
		return errors.New("an item without an id where an event should be")
	}
	return nil
}

// All returns the events of the last 7 days that match filter (nil for all),
// as Basiq lists them (GET /events), following links.next when the API
// sends one; an error ends the sequence. API version 3.0 only.
func (s *EventsService) All(ctx context.Context, filter *EventFilter) iter.Seq2[Event, error] {
	c := s.client()
	fail := func(err error) iter.Seq2[Event, error] {
		return func(yield func(Event, error) bool) { yield(Event{}, err) }
	}
	if c.APIVersion() != V3 {
		return fail(c.errUnsupported("Events.All"))
	}
	var f EventFilter
	if filter != nil {
		f = *filter
	}
	entity, typ := f.Entity, ""
	if f.Type != "" {
		if e := f.Type.Entity(); e != "" {
			if entity != "" && entity != e {
				return fail(invalidInput("EventFilter: Entity %q and Type %q disagree", clipLine(entity, 40), clipLine(string(f.Type), 60)))
			}
			entity = e
		}
		typ = f.Type.Action()
		if typ == "" {
			typ = string(f.Type)
		}
	}
	q, err := eqFields([2]string{"user.id", f.UserID}, [2]string{"event.entity", entity}, [2]string{"event.type", typ})
	if err != nil {
		return fail(err)
	}
	more, err := conditions("EventFilter", eventVocab, f.Where)
	if err != nil {
		return fail(err)
	}
	q = append(q, more...)
	return listAll(ctx, c, apiRequest{method: http.MethodGet, route: "/events", query: filterQuery(q...)},
		listSource[Event]{shape: eventShape, items: plainItems(validEvent)})
}

// eventIDOf returns the id in an event's URL: the last segment of a path
// ending /events/{id}. The host does not matter: the event is fetched by id
// on the client's own base URL, so a URL naming Basiq's host works behind a
// proxy (WithBaseURL) and a URL naming any other host is never contacted.
func (c *Client) eventIDOf(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || (!strings.EqualFold(u.Scheme, "https") && !strings.EqualFold(u.Scheme, "http")) {
		return "", invalidInput("event URL is not an http(s) URL")
	}
	_, rest, ok := cutLast(u.EscapedPath(), "/events/")
	if !ok || rest == "" || strings.Contains(rest, "/") {
		return "", invalidInput("event URL is not an event's")
	}
	id, err := url.PathUnescape(rest)
	if err != nil || id == "" {
		return "", invalidInput("event URL is not an event's")
	}
	return id, nil
}

// cutLast is strings.Cut at the last occurrence of sep.
func cutLast(s, sep string) (before, after string, found bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}

// EventTypeInfo is an event type as GET /events/types describes it: one a
// webhook can subscribe to.
type EventTypeInfo struct {
	ID          EventType // "connection.created", ...
	Description string    // "when a connection is created", ...
	Self        string    // links.self
}

// UnmarshalJSON decodes an event type leniently.
func (t *EventTypeInfo) UnmarshalJSON(b []byte) error {
	var aux struct {
		ID          lenientString `json:"id"`
		Description lenientString `json:"description"`
		Links       links         `json:"links"`
	}
	if err := json.Unmarshal(b, &aux); err != nil && !memberTypeError(err) {
		return err
	}
	*t = EventTypeInfo{ID: EventType(aux.ID), Description: string(aux.Description), Self: string(aux.Links.Self)}
	return nil
}

// Types returns the event types Basiq delivers by webhook, as the API
// lists them now (GET /events/types): the values Webhooks.Create's
// subscriptions take. WebhookEventTypes is the documented list without a
// request. API version 3.0 only.
func (s *EventsService) Types(ctx context.Context) ([]EventTypeInfo, error) {
	c := s.client()
	if c.APIVersion() != V3 {
		return nil, c.errUnsupported("Events.Types")
	}
	var list listOf[EventTypeInfo]
	if _, err := c.do(ctx, apiRequest{method: http.MethodGet, route: "/events/types"}, &list); err != nil {
		return nil, err
	}
	return list.Data, nil
}

// Type returns one event type (GET /events/types/{id}), such as
// EventConnectionCreated. API version 3.0 only.
func (s *EventsService) Type(ctx context.Context, id EventType) (*EventTypeInfo, error) {
	c := s.client()
	if c.APIVersion() != V3 {
		return nil, c.errUnsupported("Events.Type")
	}
	var t EventTypeInfo
	if _, err := c.do(ctx, apiRequest{method: http.MethodGet, route: "/events/types/{eventTypeId}", params: []string{string(id)}}, &t); err != nil {
		return nil, err
	}
	return &t, nil
}
