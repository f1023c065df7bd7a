package basiq

import (
	"context"
	"errors"
	"fmt"
)

// EventAdvice is what an application should do about an event: a webhook
// says what happened, the advice says what to do about it.
type EventAdvice struct {
	Event Event
	// ConnectionID is the connection the event is about, when it is about
	// one.
	ConnectionID string
	// Health is that connection's health, with the Diagnosis of its latest
	// job when it failed (connection.invalidated, connection.activated,
	// connection.created): show Health.Diagnosis.UserMessage and, on API
	// 3.0, send the user to the Consent UI with Health.Diagnosis.Consent.
	Health *ConnectionHealth
	// Consent is the Consent UI flow that answers a consent event (pass it
	// to Consents.URL when the user is next there): extend a consent that
	// expires within 7 days, consent again after one expired, review it
	// after Basiq's 90-day reminder. Nil when the user has nothing to do.
	Consent *ConsentURLOptions
	// DeleteUserData: the user's consent was revoked or expired, or the user
	// was deleted: delete or de-identify the data you hold for them, as the
	// Consumer Data Right requires, and refresh nothing.
	DeleteUserData bool
	// FetchTransactions: new transactions are in for ConnectionID (read them
	// with Transactions.All, filtered by connection).
	FetchTransactions bool
	// Summary is one line for logs and support.
	Summary string
}

// Advise says what to do about an event (from Events.Get, Events.All, or the
// event a webhook message names):
//
//   - connection.invalidated, connection.activated, connection.created: the
//     connection's Health, with the Diagnosis of its latest job (two or three
//     requests);
//   - transactions.updated: FetchTransactions for the connection;
//   - consent.warning: extend the consent (ConsentExtend), then
//     re-authorise open-banking connections (ConsentReauthorise);
//   - consent.expired: DeleteUserData; the user must consent again to be
//     connected (ConsentDefault);
//   - consent.revoked: DeleteUserData, nothing to refresh: the user chose to
//     stop sharing;
//   - consent.reminder: let the user review their consent (ConsentManage);
//   - user.deleted: DeleteUserData;
//   - anything else: nothing to do.
//
// It makes no request but for the connection events.
func (s *EventsService) Advise(ctx context.Context, ev *Event) (*EventAdvice, error) {
	c := s.client()
	if err := c.ready(); err != nil {
		return nil, err
	}
	if ev == nil {
		return nil, invalidInput("nil event")
	}
	a := &EventAdvice{Event: *ev, ConnectionID: ev.ConnectionID()}
	switch ev.Type {
	case EventConnectionInvalidated, EventConnectionActivated, EventConnectionCreated:
		if ev.UserID == "" || a.ConnectionID == "" {
			a.Summary = fmt.Sprintf("%s names no user or connection: nothing to check", ev.Type)
			return a, nil
		}
		health, err := c.connections.Health(ctx, ev.UserID, a.ConnectionID)
		var apiErr *APIError
		switch {
		case errors.As(err, &apiErr) && errors.Is(err, ErrNotFound):
			a.Summary = fmt.Sprintf("%s for connection %s, which no longer exists", ev.Type, a.ConnectionID)
			return a, nil
		case err != nil:
			return nil, err
		}
		a.Health = &health[0]
		if a.Health.NeedsUserAction && a.Health.Diagnosis == nil && c.version == V3 {
			// Invalid with no failed job to read (an open-banking
			// authorisation that lapsed, a job older than Basiq's 7 days):
			// the user fixes it in the Consent UI, on the connection.
			a.Consent = &ConsentURLOptions{ConnectionID: a.ConnectionID}
		}
		a.Summary = healthSummary(ev.Type, a.Health)
	case EventTransactionsUpdated:
		a.FetchTransactions = a.ConnectionID != ""
		a.Summary = "new transactions: read them for connection " + orUnknown(a.ConnectionID)
	case EventConsentWarning:
		a.Consent = &ConsentURLOptions{Action: ConsentExtend}
		a.Summary = "the consent expires within 7 days: ask the user to extend it (then re-authorise open-banking connections)"
	case EventConsentExpired:
		a.DeleteUserData = true
		a.Consent = &ConsentURLOptions{Action: ConsentDefault}
		a.Summary = "the consent expired: delete or de-identify the user's data; they must consent again to reconnect"
	case EventConsentRevoked:
		a.DeleteUserData = true
		a.Summary = "the user revoked their consent: delete or de-identify their data; refresh nothing"
	case EventConsentReminder:
		a.Consent = &ConsentURLOptions{Action: ConsentManage}
		a.Summary = "90 days since the consent last changed: remind the user they can review it"
	case EventUserDeleted:
		a.DeleteUserData = true
		a.Summary = "the user was deleted: delete or de-identify their data"
	default:
		a.Summary = fmt.Sprintf("%s: nothing to do", orUnknown(clipLine(string(ev.Type), 60)))
	}
	return a, nil
}

// healthSummary describes a connection's health after a connection event.
func healthSummary(t EventType, h *ConnectionHealth) string {
	switch {
	case h.Refreshing:
		return fmt.Sprintf("%s: connection %s is refreshing; check again when its job ends", t, h.Connection.ID)
	case h.Diagnosis != nil && h.NeedsUserAction:
		return fmt.Sprintf("%s: connection %s needs the user: %s", t, h.Connection.ID, h.Diagnosis.Action)
	case h.Diagnosis != nil:
		return fmt.Sprintf("%s: connection %s: %s", t, h.Connection.ID, h.Diagnosis.Action)
	case h.NeedsUserAction:
		return fmt.Sprintf("%s: connection %s is %s and needs the user", t, h.Connection.ID, h.Connection.Status)
	}
	return fmt.Sprintf("%s: connection %s is %s", t, h.Connection.ID, orUnknown(string(h.Connection.Status)))
}
