package basiqtest

import (
	"net/http"
	"strings"
)

// Event types (Basiq's Core API, GET /events/types). The fake
// records every type in eventTypeTable that it has a trigger for; webhooks
// may subscribe to, and receive, the ones Basiq delivers by webhook.

// eventTypeInfo is one event type.
type eventTypeInfo struct {
	id          string // "entity.action", e.g. "connection.invalidated"
	description string
	webhook     bool // Basiq delivers it by webhook (it is in GET /events/types)
}

// eventTypeTable lists the event types the fake knows: the fifteen of
// GET /events/types, in that list's order, with its descriptions, then
// connection.updated, which Basiq records but does not deliver by webhook.
// consent.archived (documented on one page only, absent from
// /events/types) is left out: the fake neither records nor accepts it. It
// is an array, so that looking a type up allocates nothing.
func eventTypeTable() [16]eventTypeInfo {
	return [...]eventTypeInfo{
		{"account.updated", "when an account is updated", true},
		{"connection.activated", "when a connection is activated", true},
		{"connection.created", "when a connection is created", true},
		{"connection.deleted", "when a connection is deleted", true},
		{"connection.invalidated", "when a connection is invalidated", true},
		{"consent.created", "when a consent is created", true},
		{"consent.expired", "when a consent is expired", true},
		{"consent.reminder", "when a consent has been active for 90 days since the last update", true},
		{"consent.revoked", "when a consent is revoked", true},
		{"consent.updated", "when a consent is updated", true},
		{"consent.warning", "when a consent is about to expire", true},
		{"transactions.updated", "when transactions are updated", true},
		{"user.created", "when an user is created", true},
		{"user.deleted", "when an user is deleted", true},
		{"user.updated", "when an user is updated", true},
		{"connection.updated", "when a connection is updated", false},
	}
}

// deliverable reports whether Basiq delivers events of type id by webhook:
// whether a webhook may subscribe to it.
func deliverable(id string) bool {
	for _, t := range eventTypeTable() {
		if t.id == id {
			return t.webhook
		}
	}
	return false
}

// eventTypeView is an item of GET /events/types and the body of
// GET /events/types/{eventTypeId}.
type eventTypeView struct {
	Type        string   `json:"type"`
	ID          string   `json:"id"`
	Description string   `json:"description"`
	Links       selfLink `json:"links"`
}

func (s *Server) eventTypeView(t eventTypeInfo) eventTypeView {
	return eventTypeView{Type: "eventType", ID: t.id, Description: t.description,
		Links: selfLink{Self: s.URL + "/events/types/" + t.id}}
}

// listEventTypes serves GET /events/types: the types a webhook may
// subscribe to, as Basiq lists them.
func (s *Server) listEventTypes(*call) reply {
	out := struct {
		Type  string          `json:"type"`
		Size  int             `json:"size"`
		Count int             `json:"count"`
		Data  []eventTypeView `json:"data"`
		Links selfLink        `json:"links"`
	}{Type: "list", Data: []eventTypeView{}, Links: selfLink{Self: s.URL + "/events/types"}}
	for _, t := range eventTypeTable() {
		if t.webhook {
			out.Data = append(out.Data, s.eventTypeView(t))
		}
	}
	out.Size, out.Count = len(out.Data), len(out.Data)
	return jsonReply(http.StatusOK, out)
}

// getEventType serves GET /events/types/{eventTypeId}.
func (s *Server) getEventType(c *call) reply {
	id := c.param("eventTypeId")
	for _, t := range eventTypeTable() {
		if t.webhook && t.id == id {
			return jsonReply(http.StatusOK, s.eventTypeView(t))
		}
	}
	if strings.Count(id, ".") != 1 || len(id) > 64 {
		return errorReply(http.StatusBadRequest, newError("path-parameter-not-valid", "Path parameter not valid",
			"Event Type ID parameter is not valid").withSource("", "eventTypeId"))
	}
	return errorReply(http.StatusNotFound, errNotFound("Requested event type does not exist."))
}
