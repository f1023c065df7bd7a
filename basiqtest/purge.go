package basiqtest

import (
	"net/http"
	"time"
)

// Purge (API 3.0): POST /users/{userId}/connections/{connectionId}/purge
// removes the data a connection retrieved, its accounts and transactions,
// and keeps the connection. Only active connections can be purged. The next
// job on the connection retrieves the data again: retrieve-accounts makes
// new accounts (new ids, same numbers) and retrieve-transactions clears the
// purged marker.

// transactionsPurged reports whether conn's transactions were purged and no
// job has retrieved them since. Code that serves transactions must serve
// none for such a connection (its accounts are already gone or new).
func (conn *connection) transactionsPurged() bool { return conn.purged }

// purgeConnection serves POST /users/{userId}/connections/{connectionId}/purge.
// It takes no body (one sent is ignored) and answers 204.
func (s *Server) purgeConnection(c *call) reply {
	conn, rp, ok := s.lookupConnection(c)
	if !ok {
		return rp
	}
	if conn.status != connActive {
		return errorReply(http.StatusBadRequest, errNotValid(
			"Only active connections can be purged; this connection is "+conn.status+".", "", "connectionId"))
	}
	conn.accounts = nil
	conn.purged = true
	conn.txAsOf = time.Time{} // no transactions until retrieve-transactions runs again
	conn.txRetrievals = nil   // and then they start again from a first retrieval
	return emptyReply(http.StatusNoContent)
}
