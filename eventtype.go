package basiq

import "strings"

// EventType names a Basiq event, as in an event's "entity.eventType" pair, a
// webhook payload's eventTypeId and a webhook's subscribedEvents
// (GET /events, webhook messages). Unknown values are kept as they are: Basiq adds
// event types, and the constants below are only the documented ones.
//
// Job completion has no event: a connection job's outcome is learned by
// polling the job (Jobs.Wait, Jobs.Poller), never from a webhook.
type EventType string

// Event types documented by Basiq (its events and consent pages).
const (
	// EventConnectionCreated: a connection was created.
	EventConnectionCreated EventType = "connection.created"
	// EventConnectionUpdated: a connection changed. Event only: Basiq does
	// not deliver it by webhook (it is absent from /events/types).
	EventConnectionUpdated EventType = "connection.updated"
	// EventConnectionDeleted: a connection was deleted.
	EventConnectionDeleted EventType = "connection.deleted"
	// EventConnectionActivated: a connection became active (again).
	EventConnectionActivated EventType = "connection.activated"
	// EventConnectionInvalidated: a connection stopped working: for web
	// connections the bank asked for user action, the password changed, the
	// account was locked or MFA is now required; for open banking the CDR
	// arrangement expired or its re-authorisation failed. Connections.Health
	// says what to do about it.
	EventConnectionInvalidated EventType = "connection.invalidated"
	// EventAccountUpdated: an account's attributes changed (not its balance).
	EventAccountUpdated EventType = "account.updated"
	// EventTransactionsUpdated: new transactions were retrieved, by a job or
	// Basiq's scheduler, from any source.
	EventTransactionsUpdated EventType = "transactions.updated"
	// EventConsentCreated: a consent was stored for a user.
	EventConsentCreated EventType = "consent.created"
	// EventConsentUpdated: a user changed a consent (Basiq processes it as a
	// revocation and a new consent).
	EventConsentUpdated EventType = "consent.updated"
	// EventConsentRevoked: a user revoked a consent; delete or de-identify
	// that user's data.
	EventConsentRevoked EventType = "consent.revoked"
	// EventConsentExpired: a consent lapsed; delete or de-identify that
	// user's data.
	EventConsentExpired EventType = "consent.expired"
	// EventConsentWarning: a consent expires in 7 days; ask the user to
	// extend it (ConsentExtend in the Consent UI).
	EventConsentWarning EventType = "consent.warning"
	// EventConsentReminder: 90 days since the consent was last updated.
	EventConsentReminder EventType = "consent.reminder"
	// EventConsentArchived: the partner archived a consent. Documented on one
	// page only and absent from /events/types: whether a webhook can
	// subscribe to it is not known.
	EventConsentArchived EventType = "consent.archived"
	// EventUserCreated: a user was created.
	EventUserCreated EventType = "user.created"
	// EventUserUpdated: a user's details changed.
	EventUserUpdated EventType = "user.updated"
	// EventUserDeleted: a user was deleted.
	EventUserDeleted EventType = "user.deleted"
)

// Entity returns the kind of object the event is about: the part before the
// first dot ("connection", "account", "transactions", "consent", "user"),
// or "" when there is no dot.
func (t EventType) Entity() string {
	entity, _, ok := strings.Cut(string(t), ".")
	if !ok {
		return ""
	}
	return entity
}

// Action returns what happened: the part after the first dot ("created",
// "invalidated", ...), or "" when there is no dot.
func (t EventType) Action() string {
	_, action, _ := strings.Cut(string(t), ".")
	return action
}

// Known reports whether t is one of the documented event types above.
func (t EventType) Known() bool {
	switch t {
	case EventConnectionUpdated, EventConsentArchived:
		return true
	}
	return t.ByWebhook()
}

// ByWebhook reports whether Basiq documents t as delivered by webhook: true
// for the types listed by GET /events/types (see WebhookEventTypes); false
// for EventConnectionUpdated (event only), for EventConsentArchived (not
// known to be subscribable) and for unknown types. Every type, delivered or
// not, can be read with the Events API for 7 days.
func (t EventType) ByWebhook() bool {
	switch t {
	case EventConnectionCreated, EventConnectionDeleted, EventConnectionActivated, EventConnectionInvalidated,
		EventAccountUpdated, EventTransactionsUpdated,
		EventConsentCreated, EventConsentUpdated, EventConsentRevoked, EventConsentExpired, EventConsentWarning,
		EventConsentReminder,
		EventUserCreated, EventUserUpdated, EventUserDeleted:
		return true
	}
	return false
}

// WebhookEventTypes returns, in a new slice, the 15 event types Basiq
// documents as deliverable by webhook: the values a webhook's
// subscribedEvents may hold. It is the documented list, fixed at this
// SDK's release and needing no request; Events.Types asks the API for its
// current list (GET /events/types), which is what to offer when Basiq may
// have added types since.
func WebhookEventTypes() []EventType {
	return []EventType{
		EventConnectionCreated, EventConnectionDeleted, EventConnectionActivated, EventConnectionInvalidated,
		EventAccountUpdated, EventTransactionsUpdated,
		EventConsentCreated, EventConsentUpdated, EventConsentRevoked, EventConsentExpired, EventConsentWarning,
		EventConsentReminder,
		EventUserCreated, EventUserUpdated, EventUserDeleted,
	}
}
