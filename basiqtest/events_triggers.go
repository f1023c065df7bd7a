package basiqtest

import (
	"encoding/json"
	"strconv"
	"time"
)

// What records which event. Every event's data is the entity as the fake
// serves it to a 3.0 SERVER_ACCESS token, at the moment of the event:
//   - user.created, user.updated, user.deleted: POST /users, POST and
//     DELETE /users/{userId} (the user as POST /users answers). Deleting a
//     user records user.deleted only, not the deletion of its connections
//     and consents;
//   - connection.created: a connection is made (a credential POST on 2.x,
//     the Consent UI on 3.0, an abandoned open-banking authorisation too);
//   - connection.deleted: DELETE of the connection, of its consent, a
//     consent revoked in the Consent UI, or action=update with new scopes;
//   - connection.updated (recorded, never delivered by webhook): the
//     connection's status changes, or a job on it completes (lastUsed);
//   - connection.activated: the status turns active from any other status:
//     the first time a job verifies its credentials, and again after it was
//     invalid;
//   - connection.invalidated: the status turns invalid (a job failed with
//     invalid-credentials, account-not-accessible-requires-user-action or
//     user-action-required);
//   - transactions.updated: a job's retrieve-transactions step succeeds;
//   - consent.*: consent.go and consent_clock.go.
//
// account.updated has no trigger in the fake (its accounts never change
// attributes other than balances, which Basiq excludes); a test message
// (POST /notifications/messages/test) delivers one.

// userEvent records a user.* event.
func (s *Server) userEvent(at time.Time, action string, u *user) {
	s.emit(at, "user", action, u.id, s.userURL(u.id), s.userView(u))
}

// connEvent records a connection.* event.
func (s *Server) connEvent(at time.Time, action string, conn *connection) {
	s.connEventRaw(at, action, conn, s.connSnapshot(conn))
}

func (s *Server) connSnapshot(conn *connection) json.RawMessage {
	tok := token{scope: scopeServer, version: "3.0"}
	return snapshot(s.connectionView(conn, &tok, false))
}

func (s *Server) connEventRaw(at time.Time, action string, conn *connection, raw json.RawMessage) {
	s.emitRaw(at, "connection", action, conn.userID, s.connectionURL(conn), raw)
}

// setConnStatus changes a connection's status, recording
// connection.updated and, on the way into active or invalid,
// connection.activated or connection.invalidated (with the same snapshot).
func (s *Server) setConnStatus(conn *connection, status string, at time.Time) {
	if conn.status == status {
		return
	}
	conn.status = status
	raw := s.connSnapshot(conn)
	s.connEventRaw(at, "updated", conn, raw)
	switch status {
	case connActive:
		s.connEventRaw(at, "activated", conn, raw)
	case connInvalid:
		s.connEventRaw(at, "invalidated", conn, raw)
	}
}

// transactionsData is the data of a transactions.updated event (Basiq's
// upcoming-changes page): how many transactions the connection has, as a
// string, the connection and the link to its transactions.
type transactionsData struct {
	Type       string   `json:"type"`
	Count      string   `json:"count"`
	Connection refRes   `json:"connection"`
	Links      selfLink `json:"links"`
}

// transactionsEvent records transactions.updated for a connection whose
// transactions were just retrieved.
func (s *Server) transactionsEvent(at time.Time, conn *connection) {
	link := s.userURL(conn.userID) + "/transactions?filter=connection.id.eq('" + conn.id + "')"
	data := transactionsData{Type: "transactions", Count: strconv.Itoa(s.connTxCount(conn)),
		Connection: refRes{Type: "connection", ID: conn.id, Links: selfLink{Self: s.connectionURL(conn)}},
		Links:      selfLink{Self: link}}
	s.emit(at, "transactions", "updated", conn.userID, link, data)
}

// consentEvent records a consent.* event.
func (s *Server) consentEvent(at time.Time, action string, u *user, c *consent) {
	s.emit(at, "consent", action, u.id, s.userURL(u.id)+"/consents/"+c.id, s.consentView(u, c, at))
}
