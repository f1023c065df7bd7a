package basiq

import (
	"context"
	"errors"
	"fmt"
)

// EventAdvice is what an application should do about an event: a webhook
// says what happened, the advice says what to do about it. It answers the
// event, not the connection's state now: only connection.invalidated asks
// the user to act, and the state now may only cancel that (a connection
// that is active again, or refreshing, asks nothing).
type EventAdvice struct {
	Event Event
	// ConnectionID is the connection the event is about, when it is about
	// one.
	ConnectionID string
	// NeedsUserAction: tell the user Diagnosis.UserMessage and offer its
	// remedy (Diagnosis.Consent, through Consents.Link on API 3.0). Notify
	// once per Diagnosis.ProblemID: the job's own failure (from Jobs.Wait or
	// Jobs.WaitAll) and Connections.Health report the same ProblemID.
	NeedsUserAction bool
	// Diagnosis is the failure behind a connection.invalidated event whose
	// connection is still invalid: the Diagnosis of its latest job (or, on
	// API 3.0 with no failed job to read, a reconnect in place). When its
	// RemoveConnectionID is set the user has already connected again:
	// delete that connection, and NeedsUserAction is false. Nil otherwise.
	Diagnosis *Diagnosis
	// Health is the connection's health now, for connection.invalidated
	// (read to decide whether the event still asks anything); nil for other
	// events.
	Health *ConnectionHealth
	// Consent is the Consent UI flow that answers a consent event (pass it
	// to Consents.Link when the user is next there): extend a consent that
	// expires within 7 days, consent again after one expired, review it
	// after Basiq's 90-day reminder. Nil when the user has nothing to do.
	Consent *ConsentURLOptions
	// DeleteUserData: the user's consent was revoked or expired, or the user
	// was deleted: delete or de-identify the data you hold for them, as the
	// Consumer Data Right requires, and refresh nothing.
	DeleteUserData bool
	// FetchTransactions: new transactions are in for ConnectionID (read them
	// with Transactions.Sync or Transactions.All, filtered by connection).
	FetchTransactions bool
	// Summary is one line for logs and support.
	Summary string
}

// Advise says what to do about an event (from Events.Get, Events.All, or the
// event a webhook message names):
//
//   - connection.invalidated: the user-action advice, NeedsUserAction with
//     the Diagnosis of the connection's latest job, unless the connection is
//     active or refreshing again by now (nothing to ask) or the user has
//     since connected the same bank again (Diagnosis.RemoveConnectionID:
//     delete the old connection). Two or three requests (Connections.Health
//     for the connection).
//   - connection.created, connection.activated: nothing to ask the user,
//     and no request. A connection's job is waited for where it started
//     (Jobs.WaitAll after the Consent UI); activated means a fix worked.
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
	case EventConnectionInvalidated:
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
		case len(health) != 1:
			return nil, fmt.Errorf("basiq: Connections.Health answered %d connections for one", len(health))
		}
		a.Health = &health[0]
		if !a.Health.Refreshing && a.Health.Connection.Status != ConnectionActive {
			a.Diagnosis = a.Health.Diagnosis
			a.NeedsUserAction = a.Health.NeedsUserAction
		}
		a.Summary = healthSummary(ev.Type, a.Health)
	case EventConnectionCreated, EventConnectionActivated:
		a.Summary = fmt.Sprintf("%s: connection %s; nothing to ask the user", ev.Type, orUnknown(a.ConnectionID))
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
		return fmt.Sprintf("%s: connection %s is refreshing again; nothing to ask", t, h.Connection.ID)
	case h.Connection.Status == ConnectionActive:
		return fmt.Sprintf("%s: connection %s is active again; nothing to ask", t, h.Connection.ID)
	case h.Diagnosis != nil && h.Diagnosis.RemoveConnectionID != "":
		return fmt.Sprintf("%s: connection %s was replaced by a new connection at %s: delete it", t, h.Connection.ID, orUnknown(h.Connection.Institution.ID))
	case h.Diagnosis != nil && h.NeedsUserAction:
		return fmt.Sprintf("%s: connection %s needs the user: %s", t, h.Connection.ID, h.Diagnosis.Action)
	case h.Diagnosis != nil:
		return fmt.Sprintf("%s: connection %s: %s", t, h.Connection.ID, h.Diagnosis.Action)
	case h.NeedsUserAction:
		return fmt.Sprintf("%s: connection %s is %s and needs the user", t, h.Connection.ID, h.Connection.Status)
	}
	return fmt.Sprintf("%s: connection %s is %s", t, h.Connection.ID, orUnknown(string(h.Connection.Status)))
}
