package webhook

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/banklink-go/basiq"
)

// Message is a verified webhook delivery: Basiq's thin payload
// {"eventTypeId", "eventId", "links": {"event", "eventEntity"}} and the
// Standard Webhooks headers it came with. Fields the payload lacks are empty.
type Message struct {
	// ID is webhook-id: the same on every retry of a delivery, so it is the
	// key to drop repeats on (Handler does).
	ID string
	// Timestamp is webhook-timestamp: when this attempt was sent.
	Timestamp time.Time
	// Type is eventTypeId, e.g. basiq.EventConnectionInvalidated.
	Type basiq.EventType
	// EventID is eventId. Basiq's examples show it differing from the id in
	// EventURL: fetch the event through EventURL.
	EventID string
	// EventURL is links.event: the event, with a snapshot of its entity.
	EventURL string
	// EntityURL is links.eventEntity: the user, connection, account or
	// consent the event is about.
	EntityURL string
	// Body is the raw body that was verified (the slice given to Verify).
	Body []byte
}

// UserID returns the user id in EntityURL (".../users/{userId}/..."), or ""
// when it names none.
func (m Message) UserID() string { return m.entityPathID("users") }

// ConnectionID returns the connection id in EntityURL
// (".../users/{userId}/connections/{connectionId}"), or "" when it names
// none: with the user id, what Connections.Get and Connections.Health need
// after a connection.invalidated or connection.activated event.
func (m Message) ConnectionID() string { return m.entityPathID("connections") }

// entityPathID returns the path segment after the segment collection in
// EntityURL.
func (m Message) entityPathID(collection string) string {
	if m.EntityURL == "" {
		return ""
	}
	u, err := url.Parse(m.EntityURL)
	if err != nil {
		return ""
	}
	segments := strings.Split(strings.Trim(u.Path, "/"), "/")
	for i := 0; i+1 < len(segments); i++ {
		if segments[i] == collection && segments[i+1] != "" {
			return segments[i+1]
		}
	}
	return ""
}

// LogValue logs the message's ids and type, never its body.
func (m Message) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("webhook_id", m.ID),
		slog.String("event_type", string(m.Type)),
		slog.String("event_id", m.EventID),
		slog.Time("timestamp", m.Timestamp),
	)
}

// payload is Basiq's thin payload as it comes on the wire.
type payload struct {
	EventTypeID string `json:"eventTypeId"`
	EventID     string `json:"eventId"`
	Links       struct {
		Event       string `json:"event"`
		EventEntity string `json:"eventEntity"`
	} `json:"links"`
}

// readPayload fills m's payload fields from body, read by encoding/json, and
// reports whether body is valid JSON whose top level is an object. A member
// of another type (or null) leaves its field empty, as json.Unmarshal does;
// unknown members are ignored and keys match case-insensitively. On false, m
// is unchanged.
func readPayload(body []byte, m *Message) bool {
	if trimmed := bytes.TrimLeft(body, " \t\r\n"); len(trimmed) == 0 || trimmed[0] != '{' {
		return false
	}
	var p payload
	if err := json.Unmarshal(body, &p); err != nil {
		// json.Unmarshal checks the whole body's syntax before it decodes
		// anything, so a type error means a valid object with a member of
		// another type: it goes on with the other members.
		var typeErr *json.UnmarshalTypeError
		if !errors.As(err, &typeErr) {
			return false
		}
	}
	m.Type = basiq.EventType(p.EventTypeID)
	m.EventID = p.EventID
	m.EventURL = p.Links.Event
	m.EntityURL = p.Links.EventEntity
	return true
}
