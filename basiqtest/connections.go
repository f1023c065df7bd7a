package basiqtest

import (
	"net/http"
	"slices"
	"strings"
	"time"
)

// Connection statuses.
const (
	connPending = "pending"
	connActive  = "active"
	connInvalid = "invalid"
)

// connection links a user to one login at one institution.
type connection struct {
	id, userID, instID string
	creds              credentials
	status             string
	invalidBy          string    // the failure code that made it invalid (progress.go)
	created, lastUsed  time.Time // lastUsed zero: no job has completed yet
	mfaEnabled         bool
	mfaTurns           int // jobs that took a turn of intermittent MFA
	accounts           []account
	txAsOf             time.Time    // when retrieve-transactions last succeeded; zero: never
	txRetrievals       []time.Time  // every retrieve-transactions since the connection's data was made or purged (transactions_evolve.go)
	profile            *profileView // nil until credentials are verified
	seq                int
	stmt               *statementFile // an uploaded statement's connection (statements.go); nil otherwise

	consentFields // openbanking.go: method, expiry, consent, purge, CDR refreshes
}

// credentials are what the end user typed for their bank.
type credentials struct {
	loginID, password, securityCode, secondaryLoginID string
}

// connectionView is the wire form of a connection: GET one (with profile,
// accounts and a user link) or a list item (with an institution link).
type connectionView struct {
	Type        string          `json:"type"`
	ID          string          `json:"id"`
	Status      string          `json:"status,omitempty"`
	CreatedDate string          `json:"createdDate,omitempty"`
	LastUsed    any             `json:"lastUsed,omitempty"`
	MFAEnabled  *bool           `json:"mfaEnabled,omitempty"`
	Method      string          `json:"method,omitempty"`
	ExpiryDate  *string         `json:"expiryDate,omitempty"`
	Profile     *profileView    `json:"profile,omitempty"`
	Institution institutionRef  `json:"institution"`
	Accounts    *accountList    `json:"accounts,omitempty"`
	Links       connectionLinks `json:"links"`
}

type institutionRef struct {
	Type  string   `json:"type"`
	ID    string   `json:"id"`
	Links selfLink `json:"links"`
}

type accountList struct {
	Type string        `json:"type"`
	Data []accountView `json:"data"`
}

type connectionLinks struct {
	Self         string `json:"self"`
	User         string `json:"user,omitempty"`
	Accounts     string `json:"accounts"`
	Transactions string `json:"transactions"`
	Institution  string `json:"institution,omitempty"`
}

// connectionPath is the relative URL Basiq puts in step results.
func connectionPath(conn *connection) string {
	return "/users/" + conn.userID + "/connections/" + conn.id
}

func (s *Server) connectionURL(conn *connection) string { return s.URL + connectionPath(conn) }

func (s *Server) institutionRef(id string) institutionRef {
	return institutionRef{Type: "institution", ID: id, Links: selfLink{Self: s.institutionURL(id)}}
}

// connectionView renders conn for a token: status, createdDate and lastUsed
// only for SERVER_ACCESS; mfaEnabled from 2.1; method and expiryDate on 3.0
// (v3Fields). detail selects the GET-one shape over the list-item shape.
func (s *Server) connectionView(conn *connection, tok *token, detail bool) connectionView {
	filter := "?filter=institution.id.eq('" + conn.instID + "')"
	v := connectionView{
		Type:        "connection",
		ID:          conn.id,
		Institution: s.institutionRef(conn.instID),
		Links: connectionLinks{
			Self:         s.connectionURL(conn),
			Accounts:     s.userURL(conn.userID) + "/accounts" + filter,
			Transactions: s.userURL(conn.userID) + "/transactions" + filter,
		},
	}
	if tok.scope == scopeServer {
		v.Status, v.CreatedDate, v.LastUsed = conn.status, stamp(conn.created), nullableStamp(conn.lastUsed)
	}
	if tok.version != "2.0" {
		mfa := conn.mfaEnabled
		v.MFAEnabled = &mfa
	}
	if tok.version == "3.0" {
		v.Method, v.ExpiryDate = conn.v3Fields()
	}
	if !detail {
		v.Links.Institution = s.institutionURL(conn.instID)
		return v
	}
	v.Links.User = s.userURL(conn.userID)
	v.Profile = conn.profile
	v.Accounts = &accountList{Type: "list", Data: []accountView{}}
	for _, a := range conn.accounts {
		v.Accounts.Data = append(v.Accounts.Data, s.accountView(conn, a))
	}
	return v
}

// lookupConnection returns the user's connection named in the path, or a 404
// reply.
func (s *Server) lookupConnection(c *call) (*connection, reply, bool) {
	if _, rp, ok := s.lookupUser(c); !ok {
		return nil, rp, false
	}
	conn := s.st.conns[c.param("connectionId")]
	if conn == nil || conn.userID != c.param("userId") {
		return nil, errorReply(http.StatusNotFound, errNotFound("Requested connection does not exist.")), false
	}
	return conn, reply{}, true
}

// connectionInput is the body of POST /users/{userId}/connections and of the
// credential update.
type connectionInput struct {
	LoginID          *string `json:"loginId"`
	Password         *string `json:"password"`
	SecurityCode     *string `json:"securityCode"`
	SecondaryLoginID *string `json:"secondaryLoginId"`
	Institution      *struct {
		ID *string `json:"id"`
	} `json:"institution"`
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return strings.TrimSpace(*p)
}

// createConnection serves POST /users/{userId}/connections (2.x only).
func (s *Server) createConnection(c *call) reply {
	u, rp, ok := s.lookupUser(c)
	if !ok {
		return rp
	}
	var in connectionInput
	if rp, ok := decodeJSON(c, &in, "Posted connection is not in valid format."); !ok {
		return rp
	}
	var instID string
	if in.Institution != nil {
		instID = str(in.Institution.ID)
	}
	var errs []apiError
	if str(in.LoginID) == "" {
		errs = append(errs, errNotSupplied("Login ID parameter is required.", "connection/loginId", "loginId"))
	}
	if str(in.Password) == "" {
		errs = append(errs, errNotSupplied("Password parameter is required.", "connection/password", "password"))
	}
	if instID == "" {
		errs = append(errs, errNotSupplied("Institution ID  parameter is required.", "connection/institution/id", "id"))
	}
	if len(errs) > 0 {
		return errorReply(http.StatusBadRequest, errs...)
	}
	inst := s.st.instByID[instID]
	if inst == nil {
		detail := "Requested institution does not exist."
		if !isInstitutionID(instID) {
			detail = "Institution ID value is not valid."
		}
		return errorReply(http.StatusBadRequest, errNotValid(detail, "connection/institution/id", "id"))
	}
	cr := credentials{loginID: str(in.LoginID), password: str(in.Password),
		securityCode: str(in.SecurityCode), secondaryLoginID: str(in.SecondaryLoginID)}
	if inst.SecurityCodeCaption != "" && cr.securityCode == "" {
		errs = append(errs, errNotSupplied("Security code parameter is required.", "connection/securityCode", "securityCode"))
	}
	if inst.SecondaryLoginIDCaption != "" && cr.secondaryLoginID == "" {
		errs = append(errs, errNotSupplied("Secondary login ID parameter is required.", "connection/secondaryLoginId", "secondaryLoginId"))
	}
	if len(errs) > 0 {
		return errorReply(http.StatusBadRequest, errs...)
	}
	j := s.connect(u, inst, cr, c.now, origin{version: c.version()})
	return jsonReply(http.StatusAccepted, s.jobStub(j))
}

// connect creates (or, for the same user, institution and login, reuses) a
// connection and starts its create job. While a job for the same
// institution and login is still running anywhere, the new job is held for
// six minutes before it starts, as Basiq does to avoid locking the user out.
func (s *Server) connect(u *user, inst *institution, cr credentials, now time.Time, o origin) *job {
	var conn *connection
	for _, id := range u.conns {
		if c := s.st.conns[id]; c.instID == inst.ID && c.creds.loginID == cr.loginID {
			conn = c
		}
	}
	if conn == nil {
		conn = &connection{id: newUUID(), userID: u.id, instID: inst.ID, status: connPending, created: now, seq: s.st.next()}
		s.st.conns[conn.id] = conn
		u.conns = append(u.conns, conn.id)
		s.connEvent(now, "created", conn)
	}
	conn.creds = cr
	hold := s.st.byLogin[instLogin{inst.ID, cr.loginID}] > 0
	return s.startJob(conn, opCreate, now, hold, o)
}

// getConnection serves GET /users/{userId}/connections/{connectionId}.
func (s *Server) getConnection(c *call) reply {
	conn, rp, ok := s.lookupConnection(c)
	if !ok {
		return rp
	}
	return jsonReply(http.StatusOK, s.connectionView(conn, c.tok, true))
}

// connectionFields are the filterable properties of a user's connections;
// Basiq documents them bare (status.eq('active')). The fake is more lenient
// than Basiq and also takes them prefixed with "connection."
// (connection.status.eq('active')), as GET /users/{userId}/jobs spells its
// connection.id.
func connectionFields() map[string]func(*connection) string {
	m := map[string]func(*connection) string{
		"id":             func(c *connection) string { return c.id },
		"status":         func(c *connection) string { return c.status },
		"institution.id": func(c *connection) string { return c.instID },
	}
	for k, f := range m {
		m["connection."+k] = f
	}
	return m
}

// listConnections serves GET /users/{userId}/connections.
func (s *Server) listConnections(c *call) reply {
	u, rp, ok := s.lookupUser(c)
	if !ok {
		return rp
	}
	keep, ok := compileFilter(c.req.URL.Query().Get("filter"), connectionFields())
	if !ok {
		return errorReply(http.StatusBadRequest, errBadFilter())
	}
	out := struct {
		Type  string           `json:"type"`
		Data  []connectionView `json:"data"`
		Links selfLink         `json:"links"`
	}{Type: "list", Data: []connectionView{}, Links: selfLink{Self: s.userURL(u.id) + "/connections"}}
	for _, id := range u.conns {
		if conn := s.st.conns[id]; keep(conn) {
			out.Data = append(out.Data, s.connectionView(conn, c.tok, false))
		}
	}
	return jsonReply(http.StatusOK, out)
}

// updateConnection serves POST /users/{userId}/connections/{connectionId}
// (2.x only): new credentials and a new job.
func (s *Server) updateConnection(c *call) reply {
	conn, rp, ok := s.lookupConnection(c)
	if !ok {
		return rp
	}
	var in connectionInput
	if rp, ok := decodeJSON(c, &in, "Posted connection is not in valid format."); !ok {
		return rp
	}
	if str(in.Password) == "" {
		return errorReply(http.StatusBadRequest, errNotSupplied("Password parameter is required.", "connection/password", "password"))
	}
	conn.creds.password = str(in.Password)
	if in.SecurityCode != nil {
		conn.creds.securityCode = str(in.SecurityCode)
	}
	if in.SecondaryLoginID != nil {
		conn.creds.secondaryLoginID = str(in.SecondaryLoginID)
	}
	return jsonReply(http.StatusAccepted, s.jobStub(s.startJob(conn, opUpdate, c.now, false, origin{version: c.version()})))
}

// deleteConnection serves DELETE /users/{userId}/connections/{connectionId}.
// The connection's jobs stay readable, as with Basiq.
func (s *Server) deleteConnection(c *call) reply {
	conn, rp, ok := s.lookupConnection(c)
	if !ok {
		return rp
	}
	delete(s.st.conns, conn.id)
	u := s.st.users[conn.userID]
	u.conns = slices.DeleteFunc(u.conns, func(id string) bool { return id == conn.id })
	s.connEvent(c.now, "deleted", conn)
	return emptyReply(http.StatusNoContent)
}
