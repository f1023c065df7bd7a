package basiqtest

import (
	"fmt"
	"net/http"
	"time"
)

// Open banking (CDR) connections. Institutions with an open-banking
// connector (institution.OpenBanking) connect through the Consent UI as
// method "open-banking" connections: the user authorises the bank itself
// (the data holder), the connection expires with the consent it was made
// under, it has no MFA step of Basiq's (the bank's own authorisation
// replaces it), and it may be refreshed at most cdrRefreshLimit times in any
// cdrWindow (Basiq's best practices: 20 refreshes a day).

// connPreInit is the status of an open-banking connection whose bank
// authorisation the user has not finished (DATA3; data-connections.md).
const connPreInit = "pre-init"

// CDR refresh limit: a rolling window, the fake's choice (Basiq does not say
// whether "a day" is a calendar day or 24 hours).
const (
	cdrRefreshLimit = 20
	cdrWindow       = 24 * time.Hour
)

// consentFields is what the Consent UI adds to a connection; it is embedded
// in connection.
type consentFields struct {
	method    string      // methodOpenBanking, or "" for a web connection
	expiry    time.Time   // open banking: when its authorisation ends (the consent's expiry)
	consentID string      // the consent it was made under; "" for 2.x credential connections
	purged    bool        // transactions purged (purge.go) and not retrieved since
	refreshes []time.Time // open banking: refreshes started within the last cdrWindow, oldest first
}

// openBanking reports whether conn is an open-banking connection.
func (conn *connection) openBanking() bool { return conn.method == methodOpenBanking }

// v3Fields are a connection's method and expiryDate as 3.0 reports them:
// "open-banking" (the spelling of DATA3's connection example) with the
// authorisation's expiry, or "web" with an empty expiryDate (DATA3 requires
// the field; it is for open-banking connections only).
func (conn *connection) v3Fields() (method string, expiryDate *string) {
	if conn.openBanking() {
		e := stamp(conn.expiry)
		return methodOpenBanking, &e
	}
	none := ""
	return methodWeb, &none
}

// refreshAllowed decides whether a refresh may start a new job on conn: not
// on a pre-init connection (the user must finish the bank's authorisation
// in the Consent UI first), and not beyond the CDR limit on an open-banking
// one. When it may, the refresh is counted. Basiq documents no status for an
// exhausted limit: the fake answers 429 too-many-requests.
func (s *Server) refreshAllowed(conn *connection, now time.Time) (reply, bool) {
	if conn.status == connPreInit {
		return errorReply(http.StatusBadRequest, errNotValid(
			"The connection's bank authorisation was not completed (pre-init); send the user through the Consent UI again.",
			"", "connectionId")), false
	}
	if !conn.openBanking() {
		return reply{}, true
	}
	kept := conn.refreshes[:0]
	for _, t := range conn.refreshes {
		if now.Sub(t) < cdrWindow {
			kept = append(kept, t)
		}
	}
	clear(conn.refreshes[len(kept):])
	conn.refreshes = kept
	if len(kept) >= cdrRefreshLimit {
		detail := fmt.Sprintf("Open banking connections allow %d refreshes in 24 hours (CDR); this connection can be refreshed again from %s.",
			cdrRefreshLimit, stamp(kept[0].Add(cdrWindow)))
		return errorReply(http.StatusTooManyRequests, newError("too-many-requests", "Too many requests", detail)), false
	}
	conn.refreshes = append(conn.refreshes, now)
	return reply{}, true
}
