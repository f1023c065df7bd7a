package basiqtest

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"time"
)

// The Consent UI's flows: what the end user does in Basiq's hosted consent
// pages, played by CompleteConsent (and the consent page, consent_page.go).

// defaultConsentRedirect is the application's Redirect URL unless
// WithConsentRedirectURL sets one.
const defaultConsentRedirect = "https://app.example/basiq/callback"

// expiringSoon is how close to its expiry an open-banking connection is
// listed as "Expiring soon" by action=reauthorise.
const expiringSoon = 7 * 24 * time.Hour

// WithConsentRedirectURL sets the application's Redirect URL, the page the
// Consent UI sends the user back to (a dashboard setting at Basiq). The
// default is https://app.example/basiq/callback. It must be an absolute
// http or https URL; it may carry a query of its own, which the redirect
// keeps. CompleteConsent and the consent page fail with an error when it is
// not valid.
func WithConsentRedirectURL(u string) Option {
	return func(c *config) { c.consentRedirect = u }
}

// ConsentLogin is what the end user does for one institution in the Consent
// UI: pick the bank and log in. On an open-banking institution
// (institution ids AU10001–AU10004, AU10006, AU10007 in the fake's
// catalogue) the login happens on the bank's own authorisation page; the
// fake checks it the same way. Its formatted forms (%v, %+v, %#v) and slog
// value hide Password, SecurityCode and SecondaryLoginID.
type ConsentLogin struct {
	// InstitutionID is the bank the user picks. Empty means the URL's
	// institutionId (or, with connectionId, the connection's institution).
	InstitutionID string
	// LoginID and Password are the user's bank login, one of the sandbox
	// logins (see the package documentation) or one added with
	// SetLoginPassword. A wrong password still creates the connection, whose
	// job then fails verify-credentials with invalid-credentials.
	LoginID  string
	Password string
	// SecurityCode and SecondaryLoginID are needed where the institution
	// asks for them (securityCodeCaption, secondaryLoginIdCaption).
	SecurityCode     string
	SecondaryLoginID string
	// Abandon makes the user leave an open-banking institution's
	// authorisation page without finishing: a new connection is left in
	// status pre-init, with no job (an existing one is left as it was). It
	// is an error on a web institution.
	Abandon bool
}

// String describes the login without its secrets; the login id shows only
// its last three characters.
func (l ConsentLogin) String() string {
	return fmt.Sprintf("basiqtest.ConsentLogin{InstitutionID: %s, LoginID: %s, Password: %s, SecurityCode: %s, SecondaryLoginID: %s, Abandon: %t}",
		l.InstitutionID, maskedLogin(l.LoginID), masked(l.Password), masked(l.SecurityCode), masked(l.SecondaryLoginID), l.Abandon)
}

// GoString is String.
func (l ConsentLogin) GoString() string { return l.String() }

// Format prints String for every verb.
func (l ConsentLogin) Format(f fmt.State, _ rune) { fmt.Fprint(f, l.String()) }

// LogValue implements slog.LogValuer without the secrets.
func (l ConsentLogin) LogValue() slog.Value {
	return slog.GroupValue(slog.String("institution_id", l.InstitutionID), slog.String("login_id", maskedLogin(l.LoginID)))
}

// MarshalJSON encodes the login as its slog value does, with the secrets as
// [REDACTED], so that a login inside a logged struct or slice does not leak.
func (l ConsentLogin) MarshalJSON() ([]byte, error) {
	type plain ConsentLogin
	p := plain(l)
	hide := func(s string) string {
		if s == "" {
			return ""
		}
		return "[REDACTED]"
	}
	if p.LoginID != "" {
		p.LoginID = maskedLogin(p.LoginID)
	}
	p.Password, p.SecurityCode, p.SecondaryLoginID = hide(p.Password), hide(p.SecurityCode), hide(p.SecondaryLoginID)
	return json.Marshal(p)
}

func maskedLogin(s string) string {
	r := []rune(s)
	if len(r) <= 3 {
		return masked(s)
	}
	return "***" + string(r[len(r)-3:])
}

func masked(s string) string {
	if s == "" {
		return `""`
	}
	return "[REDACTED]"
}

// ConsentOption is what the end user chooses in the Consent UI, for
// CompleteConsent.
type ConsentOption func(*consentChoice)

// consentChoice is what the ConsentOptions set.
type consentChoice struct {
	logins []ConsentLogin
	cancel bool
	revoke bool
	remove []string
}

// WithConsentLogins connects these institutions, in order, one connection
// and one job each ("Allow multiple connections": the fake always allows
// several). The redirect lists the jobs' ids in the same order, leaving out
// logins with Abandon. It is what the default flow, action=connect and
// action=update do after the consent; with connectionId, at most one login
// may be given, to change the connection's password (its InstitutionID and
// LoginID must be empty or the connection's).
func WithConsentLogins(logins ...ConsentLogin) ConsentOption {
	return func(c *consentChoice) { c.logins = append(c.logins, logins...) }
}

// WithConsentCancel makes the user cancel: nothing changes and the redirect
// carries no job ids, only state. Basiq documents no error or cancel
// parameter on the redirect, so the fake adds none. The URL is still
// checked first (a rejected URL never shows the page with its cancel
// button).
func WithConsentCancel() ConsentOption {
	return func(c *consentChoice) { c.cancel = true }
}

// WithConsentRevoke makes the user revoke their active consent in
// action=manage: the consent turns revoked and its connections are deleted.
func WithConsentRevoke() ConsentOption {
	return func(c *consentChoice) { c.revoke = true }
}

// WithConsentDeleteConnections makes the user delete these connections in
// action=manage. Each must be one of the user's connections.
func WithConsentDeleteConnections(connectionIDs ...string) ConsentOption {
	return func(c *consentChoice) { c.remove = append(c.remove, connectionIDs...) }
}

// CompleteConsent plays the end user in Basiq's hosted Consent UI: it opens
// consentURL (the URL an application built, e.g. with the SDK's
// Consents.URL), does what the options say, and returns the URL the Consent
// UI redirects the user's browser to.
//
// The URL must be https://consent.basiq.io/home or the fake's own
// ConsentPageURL, with these parameters (see ErrConsentURL and
// ErrConsentToken for what is rejected; other parameters are ignored):
//   - token (required): a CLIENT_ACCESS token this fake minted with
//     basiq-version 3.0 for a user (POST /token, scope=CLIENT_ACCESS and
//     userId), neither expired nor revoked;
//   - action: absent or "null" (capture the consent, reusing the user's
//     active consent if there is one, then connect), "connect" (connect,
//     under the active consent), "manage" (WithConsentRevoke,
//     WithConsentDeleteConnections), "extend" (the active consent lasts a
//     policy duration from now), "update" (as extend when the policy's
//     scopes did not change since the consent; when they did, the old
//     consent is revoked, every connection of the user is deleted and a new
//     consent is made; then connect, logins optional), "reauthorise"
//     (re-authorise each open-banking connection that expires within 7 days,
//     or the connectionId one: one job each). connect, extend, update and
//     reauthorise fail with ErrNoActiveConsent when the user has no active
//     consent. "payment" (Basiq Payments) is not simulated;
//   - state: echoed verbatim on the redirect (URL-encoded), even when empty;
//     at most 4 KiB;
//   - institutionId: the bank is preselected; it must exist, and logins
//     must be for it;
//   - connectionId: one of the token's user's connections: its credentials
//     are updated (web) or its bank authorisation is renewed (open banking),
//     starting a job on it instead of creating a connection; not with
//     manage, extend or update;
//   - userId: when present, the token's user.
//
// Connections made here belong to the consent: on an open-banking
// institution they are method "open-banking" with the consent's expiry as
// expiryDate, on the others "web". Their jobs run like those of
// POST /users/{userId}/connections, except that they have no mfa-challenge
// step: the Consent UI took the MFA answer. The redirect is the
// application's Redirect URL (WithConsentRedirectURL) with jobId (the first
// job), jobIds (all, comma-separated) and state; with no job (cancel,
// manage, extend, every login abandoned) it carries state only.
//
// On any error nothing has changed. Errors about the URL, the user's
// consent or the options match ErrConsentURL, ErrConsentToken,
// ErrNoActiveConsent or ErrConsentOptions (an invalid
// WithConsentRedirectURL is an error of its own), and no error quotes the
// token, the state or a password.
func (s *Server) CompleteConsent(consentURL string, opts ...ConsentOption) (redirectURL string, err error) {
	if s == nil || s.st == nil {
		return "", errNotNewServer("CompleteConsent")
	}
	q, err := s.parseConsentURL(consentURL)
	if err != nil {
		return "", err
	}
	var ch consentChoice
	for _, o := range opts {
		if o != nil {
			o(&ch)
		}
	}
	return s.completeConsent(q, ch)
}

// completeConsent runs a checked consent URL's flow and builds the redirect.
func (s *Server) completeConsent(q consentQuery, ch consentChoice) (string, error) {
	base, err := s.redirectBase()
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	now := s.cfg.now()
	s.advance(now)
	jobIDs, err := s.runConsent(q, ch, now)
	s.mu.Unlock()
	if err != nil {
		return "", err
	}
	return consentRedirect(base, q, jobIDs), nil
}

// errNotNewServer is the error of a method called on a Server that
// NewServer did not make (a zero Server has no state to act on).
func errNotNewServer(method string) error {
	return errors.New("basiqtest: " + method + " on a Server not made by NewServer")
}

// redirectBase is the application's Redirect URL.
func (s *Server) redirectBase() (*url.URL, error) {
	raw := s.cfg.consentRedirect
	if raw == "" {
		raw = defaultConsentRedirect
	}
	u, err := url.Parse(raw)
	if err == nil {
		_, err = url.ParseQuery(u.RawQuery)
	}
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return nil, fmt.Errorf("basiqtest: WithConsentRedirectURL: the Redirect URL must be an absolute http or https URL without user info")
	}
	return u, nil
}

// consentRedirect is the Redirect URL with the flow's outcome: jobId and
// jobIds (ids joined with literal commas, as Basiq shows them) and state,
// replacing any parameters of those names the Redirect URL had.
func consentRedirect(base *url.URL, q consentQuery, jobIDs []string) string {
	vals := base.Query()
	vals.Del("jobId")
	vals.Del("jobIds")
	vals.Del("state")
	var parts []string
	if enc := vals.Encode(); enc != "" {
		parts = append(parts, enc)
	}
	if len(jobIDs) > 0 {
		parts = append(parts, "jobId="+jobIDs[0], "jobIds="+strings.Join(jobIDs, ","))
	}
	if q.hasState {
		parts = append(parts, "state="+url.QueryEscape(q.state))
	}
	u := *base
	u.RawQuery, u.ForceQuery = strings.Join(parts, "&"), false
	return u.String()
}

// consentUser checks the URL's token and returns the user it is bound to.
func (s *Server) consentUser(value string, now time.Time) (*user, error) {
	tok := s.st.tokens[value]
	if tok == nil {
		if s.issuedHere(value) {
			return nil, fmt.Errorf("%w: the token has expired", ErrConsentToken)
		}
		return nil, fmt.Errorf("%w: the token was not issued by this fake", ErrConsentToken)
	}
	switch {
	case tok.revoked || !now.Before(tok.expires):
		return nil, fmt.Errorf("%w: the token has expired", ErrConsentToken)
	case tok.scope != scopeClient:
		return nil, fmt.Errorf("%w: it is not a CLIENT_ACCESS token (never put a SERVER_ACCESS token in a URL)", ErrConsentToken)
	case tok.version != "3.0":
		return nil, fmt.Errorf("%w: it was minted with basiq-version %s; the Consent UI takes 3.0 tokens", ErrConsentToken, tok.version)
	case tok.userID == "":
		return nil, fmt.Errorf("%w: it is not bound to a user (POST /token with userId)", ErrConsentToken)
	}
	u := s.st.users[tok.userID]
	if u == nil {
		return nil, fmt.Errorf("%w: its user %s does not exist", ErrConsentToken, tok.userID)
	}
	return u, nil
}

// plannedLogin is a checked ConsentLogin for a new connection.
type plannedLogin struct {
	inst    *institution
	creds   credentials
	abandon bool
}

// consentCtx is a consent URL checked against the fake's state.
type consentCtx struct {
	u      *user
	inst   *institution // the URL's institutionId, if any
	conn   *connection  // the URL's connectionId, if any
	active *consent     // the user's active consent, if any
}

// checkConsent checks a consent URL's token and parameters against the
// fake's state, as the Consent UI does before it shows its first page.
func (s *Server) checkConsent(q consentQuery, now time.Time) (consentCtx, error) {
	u, err := s.consentUser(q.token, now)
	if err != nil {
		return consentCtx{}, err
	}
	if q.userID != "" && q.userID != u.id {
		return consentCtx{}, fmt.Errorf("%w: userId is not the token's user", ErrConsentURL)
	}
	var inst *institution
	if q.institutionID != "" {
		if inst = s.st.instByID[q.institutionID]; inst == nil {
			return consentCtx{}, fmt.Errorf("%w: institution %s does not exist", ErrConsentURL, q.institutionID)
		}
	}
	var conn *connection
	if q.connectionID != "" {
		switch q.action {
		case actionManage, actionExtend, actionUpdate:
			return consentCtx{}, fmt.Errorf("%w: connectionId does not go with %s", ErrConsentURL, actionName(q.action))
		}
		if conn = s.st.conns[q.connectionID]; conn == nil || conn.userID != u.id {
			return consentCtx{}, fmt.Errorf("%w: connection %s is not one of the token's user's connections", ErrConsentURL, q.connectionID)
		}
		if inst != nil && inst.ID != conn.instID {
			return consentCtx{}, fmt.Errorf("%w: institutionId %s is not the institution of connection %s", ErrConsentURL, inst.ID, conn.id)
		}
	}
	active := s.activeConsent(u, now)
	switch q.action {
	case actionConnect, actionExtend, actionUpdate, actionReauthorise:
		if active == nil {
			return consentCtx{}, fmt.Errorf("%w: %s needs one; send the user through the default flow (no action) first",
				ErrNoActiveConsent, actionName(q.action))
		}
	}
	return consentCtx{u: u, inst: inst, conn: conn, active: active}, nil
}

// runConsent checks the flow against the fake's state, then runs it. It
// changes nothing unless it succeeds. It returns the ids of the jobs it
// started, in order.
func (s *Server) runConsent(q consentQuery, ch consentChoice, now time.Time) ([]string, error) {
	cx, err := s.checkConsent(q, now)
	if err != nil {
		return nil, err
	}
	u, inst, conn, active := cx.u, cx.inst, cx.conn, cx.active
	if err := ch.fits(q.action, conn != nil); err != nil {
		return nil, err
	}
	if ch.cancel {
		return nil, nil
	}
	switch {
	case q.action == actionManage:
		return nil, s.manageConsent(u, active, ch, now)
	case q.action == actionExtend:
		s.extendConsent(u, active, now)
		return nil, nil
	case q.action == actionReauthorise && conn == nil:
		return s.renewExpiring(u, active, now), nil
	}

	reconsent := q.action == actionUpdate && !sameScopes(active.policy, s.currentPolicy())
	var plans []plannedLogin
	var creds credentials
	var abandon bool
	if conn != nil {
		creds, abandon, err = planReauth(conn, ch.logins)
	} else {
		plans, err = s.planLogins(u, inst, ch.logins, reconsent)
	}
	if err != nil {
		return nil, err
	}

	switch {
	case reconsent:
		s.revokeConsent(u, active, now)
		s.dropConnections(u, now, func(*connection) bool { return true })
		active = s.newConsent(u, now)
		s.consentEvent(now, "updated", u, active) // the user changed their consent
	case q.action == actionUpdate:
		s.extendConsent(u, active, now)
	case active == nil:
		active = s.newConsent(u, now)
	}
	if conn != nil {
		if abandon {
			return nil, nil
		}
		return []string{s.reauthorise(conn, active, creds, now).id}, nil
	}
	var ids []string
	for _, p := range plans {
		if j := s.consentConnect(u, active, p, now); j != nil {
			ids = append(ids, j.id)
		}
	}
	return ids, nil
}

// fits checks the options against the flow.
func (ch consentChoice) fits(action string, hasConn bool) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrConsentOptions}, args...)...)
	}
	if ch.cancel && (len(ch.logins) > 0 || ch.revoke || len(ch.remove) > 0) {
		return bad("WithConsentCancel goes with no other choice")
	}
	if action != actionManage && (ch.revoke || len(ch.remove) > 0) {
		return bad("WithConsentRevoke and WithConsentDeleteConnections are for action=manage, not %s", actionName(action))
	}
	if ch.cancel {
		return nil
	}
	switch {
	case action == actionManage || action == actionExtend:
		if len(ch.logins) > 0 {
			return bad("%s connects no institution: give no WithConsentLogins", actionName(action))
		}
	case hasConn:
		if len(ch.logins) > 1 {
			return bad("with connectionId the user reconnects one connection: give at most one ConsentLogin")
		}
	case action == actionReauthorise:
		if len(ch.logins) > 0 {
			return bad("action=reauthorise renews existing connections: give no WithConsentLogins (or a connectionId)")
		}
	case action == actionUpdate:
		// Connecting after the consent is optional.
	default:
		if len(ch.logins) == 0 {
			return bad("%s connects institutions: give WithConsentLogins (or WithConsentCancel)", actionName(action))
		}
	}
	return nil
}

// planLogins checks the logins of a flow that makes connections. fixed is
// the URL's institutionId, if any. With reconsent the user's connections are
// about to be deleted, so none stands in the way of an open-banking one.
func (s *Server) planLogins(u *user, fixed *institution, logins []ConsentLogin, reconsent bool) ([]plannedLogin, error) {
	plans := make([]plannedLogin, 0, len(logins))
	for i, l := range logins {
		bad := func(format string, args ...any) error {
			return fmt.Errorf("%w: login %d: "+format, append([]any{ErrConsentOptions, i + 1}, args...)...)
		}
		id := l.InstitutionID
		switch {
		case id == "" && fixed == nil:
			return nil, bad("it names no institution and the URL has no institutionId")
		case id == "":
			id = fixed.ID
		case fixed != nil && id != fixed.ID:
			return nil, bad("the URL preselects institution %s: the user cannot pick another", fixed.ID)
		}
		inst := s.st.instByID[id]
		if inst == nil {
			if isInstitutionID(id) {
				return nil, bad("institution %s does not exist", id)
			}
			return nil, bad("its InstitutionID is not an institution id")
		}
		cr := credentials{loginID: strings.TrimSpace(l.LoginID), password: strings.TrimSpace(l.Password),
			securityCode: strings.TrimSpace(l.SecurityCode), secondaryLoginID: strings.TrimSpace(l.SecondaryLoginID)}
		switch {
		case cr.loginID == "":
			return nil, bad("it has no LoginID")
		case l.Abandon && !inst.OpenBanking:
			return nil, bad("Abandon is for open-banking institutions; %s connects over the web", inst.ID)
		case l.Abandon:
		case cr.password == "":
			return nil, bad("it has no Password")
		case !inst.OpenBanking && inst.SecurityCodeCaption != "" && cr.securityCode == "":
			return nil, bad("%s asks for a SecurityCode (%s)", inst.ID, inst.SecurityCodeCaption)
		case !inst.OpenBanking && inst.SecondaryLoginIDCaption != "" && cr.secondaryLoginID == "":
			return nil, bad("%s asks for a SecondaryLoginID (%s)", inst.ID, inst.SecondaryLoginIDCaption)
		}
		if inst.OpenBanking && !reconsent && s.hasWebConnection(u, inst.ID) {
			return nil, bad("the user has a web connection to %s, and Basiq allows no open-banking connection beside it "+
				"(purge and delete the web connection first)", inst.ID)
		}
		plans = append(plans, plannedLogin{inst: inst, creds: cr, abandon: l.Abandon})
	}
	return plans, nil
}

// hasWebConnection reports whether the user has a web connection to the
// institution.
func (s *Server) hasWebConnection(u *user, instID string) bool {
	return slices.ContainsFunc(u.conns, func(id string) bool {
		c := s.st.conns[id]
		return c.instID == instID && !c.openBanking()
	})
}

// planReauth checks the login of a connectionId flow and returns the
// connection's credentials after it, and whether the user abandons.
func planReauth(conn *connection, logins []ConsentLogin) (credentials, bool, error) {
	cr := conn.creds
	if len(logins) == 0 {
		return cr, false, nil
	}
	l := logins[0]
	bad := func(msg string) error { return fmt.Errorf("%w: %s", ErrConsentOptions, msg) }
	switch {
	case l.InstitutionID != "" && l.InstitutionID != conn.instID:
		return cr, false, bad("the login is for another institution than connection " + conn.id + "'s")
	case strings.TrimSpace(l.LoginID) != "" && strings.TrimSpace(l.LoginID) != cr.loginID:
		return cr, false, bad("the login's LoginID is not connection " + conn.id + "'s (another login is another connection: leave connectionId out)")
	case l.Abandon && !conn.openBanking():
		return cr, false, bad("Abandon is for open-banking connections; connection " + conn.id + " is a web connection")
	}
	if p := strings.TrimSpace(l.Password); p != "" {
		cr.password = p
	}
	if v := strings.TrimSpace(l.SecurityCode); v != "" {
		cr.securityCode = v
	}
	if v := strings.TrimSpace(l.SecondaryLoginID); v != "" {
		cr.secondaryLoginID = v
	}
	return cr, l.Abandon, nil
}

// consentConnect makes (or, for the same institution and login, reuses) the
// user's connection under consent c and starts its job, held for six
// minutes while another job for the same login runs, as a credential POST
// would be. An abandoned login makes a new connection pre-init, with no job,
// and leaves an existing one as it was; it returns nil then.
func (s *Server) consentConnect(u *user, c *consent, p plannedLogin, now time.Time) *job {
	var conn *connection
	for _, id := range u.conns {
		if x := s.st.conns[id]; x.instID == p.inst.ID && x.creds.loginID == p.creds.loginID {
			conn = x
		}
	}
	if conn != nil && p.abandon {
		return nil
	}
	created := conn == nil
	if created {
		conn = &connection{id: newUUID(), userID: u.id, instID: p.inst.ID, status: connPending, created: now, seq: s.st.next()}
		s.st.conns[conn.id] = conn
		u.conns = append(u.conns, conn.id)
	}
	conn.consentID = c.id
	if p.inst.OpenBanking {
		conn.method, conn.expiry = methodOpenBanking, c.expiry
	}
	conn.creds = p.creds
	if p.abandon {
		conn.status = connPreInit
		s.connEvent(now, "created", conn)
		return nil
	}
	if created {
		s.connEvent(now, "created", conn)
	} else if conn.status == connPreInit {
		s.setConnStatus(conn, connPending, now)
	}
	hold := s.st.byLogin[instLogin{p.inst.ID, p.creds.loginID}] > 0
	return s.startJob(conn, opCreate, now, hold, origin{version: "3.0", consentUI: true})
}

// reauthorise starts a job on an existing connection under consent c: new
// credentials for a web connection, a renewed bank authorisation (until the
// consent's expiry) for an open-banking one.
func (s *Server) reauthorise(conn *connection, c *consent, cr credentials, now time.Time) *job {
	conn.creds, conn.consentID = cr, c.id
	if conn.openBanking() {
		conn.expiry = c.expiry
	}
	if conn.status == connPreInit {
		s.setConnStatus(conn, connPending, now)
	}
	return s.startJob(conn, opUpdate, now, false, origin{version: "3.0", consentUI: true})
}

// renewExpiring is action=reauthorise without a connectionId: the user
// renews every open-banking connection listed as "Expiring soon" (expiring
// within seven days, or expired), one job each.
func (s *Server) renewExpiring(u *user, c *consent, now time.Time) []string {
	var ids []string
	for _, id := range u.conns {
		conn := s.st.conns[id]
		if conn.openBanking() && conn.status != connPreInit && conn.expiry.Before(now.Add(expiringSoon)) {
			ids = append(ids, s.reauthorise(conn, c, conn.creds, now).id)
		}
	}
	return ids
}

// manageConsent is action=manage: the user deletes connections and may
// revoke the active consent.
func (s *Server) manageConsent(u *user, active *consent, ch consentChoice, now time.Time) error {
	for _, id := range ch.remove {
		if c := s.st.conns[id]; c == nil || c.userID != u.id {
			if !isUUID(id) {
				return fmt.Errorf("%w: WithConsentDeleteConnections: an id is not a connection id (a UUID)", ErrConsentOptions)
			}
			return fmt.Errorf("%w: WithConsentDeleteConnections: %s is not one of the user's connections", ErrConsentOptions, id)
		}
	}
	if ch.revoke && active == nil {
		return fmt.Errorf("%w: there is no consent to revoke", ErrNoActiveConsent)
	}
	s.dropConnections(u, now, func(conn *connection) bool { return slices.Contains(ch.remove, conn.id) })
	if ch.revoke {
		s.revokeConsent(u, active, now)
	}
	return nil
}
