package basiqtest

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// Reading a consent URL the way Basiq's hosted Consent UI would. Nothing
// here ever quotes the URL, its token or its state in an error: url.Parse's
// own errors quote the whole URL, so they are replaced, not wrapped.

// Errors of CompleteConsent and the consent page, matched with errors.Is.
var (
	// ErrConsentURL: the URL is not one the Consent UI opens: not the Consent
	// UI's address, a query that does not parse, a parameter given twice, an
	// unknown action, or an institutionId, connectionId or userId that is
	// malformed, does not exist or is not the token's user's.
	ErrConsentURL = errors.New("basiqtest: consent URL rejected")
	// ErrConsentToken: the token parameter is missing, was not issued by
	// this fake, has expired or was revoked (ExpireTokens), is not a
	// CLIENT_ACCESS token minted with basiq-version 3.0, or is bound to a
	// user that does not exist.
	ErrConsentToken = errors.New("basiqtest: consent token rejected")
	// ErrNoActiveConsent: the action needs the user's active consent
	// (connect, extend, update, reauthorise, and revoking in manage) and
	// the user has none.
	ErrNoActiveConsent = errors.New("basiqtest: the user has no active consent")
	// ErrConsentOptions: the ConsentOptions do not fit the flow the URL
	// opens, such as logins for action=manage, no login for a flow that
	// connects, or a login for an institution that does not exist.
	ErrConsentOptions = errors.New("basiqtest: consent options do not fit the flow")
)

const (
	// basiqConsentURL is the base of Basiq's hosted Consent UI.
	basiqConsentURL = "https://consent.basiq.io/home"
	// consentPagePath is where the fake serves its own consent page.
	consentPagePath = "/consent/home"
	// maxConsentURL and maxConsentState bound what the fake reads: Basiq
	// documents no limits, these are the fake's.
	maxConsentURL   = 16 << 10
	maxConsentState = 4 << 10
)

// Consent UI actions, as the URL spells them. The default flow (no action,
// or action=null) is "".
const (
	actionDefault     = ""
	actionConnect     = "connect"
	actionManage      = "manage"
	actionExtend      = "extend"
	actionUpdate      = "update"
	actionReauthorise = "reauthorise"
)

// consentQuery is a consent URL's parameters, checked for form but not yet
// against the fake's state.
type consentQuery struct {
	token         string
	action        string // one of the action constants
	state         string
	hasState      bool // state was given (maybe empty): the redirect echoes it
	institutionID string
	connectionID  string
	userID        string // sent by Basiq's own sample app; must be the token's user
}

// ConsentPageURL returns the address of the fake's own consent page, the
// other base (besides https://consent.basiq.io/home) that CompleteConsent
// accepts. Point an SDK's consent URLs at it (e.g. the SDK's
// WithConsentBaseURL) to run the Consent UI on the fake, in a browser or in
// a test.
func (s *Server) ConsentPageURL() string {
	if s == nil {
		return consentPagePath
	}
	return s.URL + consentPagePath
}

// parseConsentURL checks a consent URL's base and parameters.
func (s *Server) parseConsentURL(raw string) (consentQuery, error) {
	if len(raw) > maxConsentURL {
		return consentQuery{}, fmt.Errorf("%w: it is longer than %d bytes", ErrConsentURL, maxConsentURL)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return consentQuery{}, fmt.Errorf("%w: it does not parse as a URL", ErrConsentURL)
	}
	if !s.isConsentBase(u) {
		return consentQuery{}, fmt.Errorf("%w: it must start with %s or with the fake's ConsentPageURL %s",
			ErrConsentURL, basiqConsentURL, s.ConsentPageURL())
	}
	if u.Fragment != "" || strings.HasSuffix(raw, "#") {
		return consentQuery{}, fmt.Errorf("%w: it has a fragment (is a '#' in state not URL-encoded?)", ErrConsentURL)
	}
	vals, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return consentQuery{}, fmt.Errorf("%w: its query does not parse (is a parameter not URL-encoded?)", ErrConsentURL)
	}
	return parseConsentQuery(vals)
}

// isConsentBase reports whether u, query aside, is the Consent UI's
// address: Basiq's, or the fake's own page.
func (s *Server) isConsentBase(u *url.URL) bool {
	if u.User != nil || u.Opaque != "" {
		return false
	}
	if u.Scheme == "https" && strings.EqualFold(u.Host, "consent.basiq.io") && u.Path == "/home" {
		return true
	}
	own, err := url.Parse(s.URL)
	return err == nil && u.Scheme == own.Scheme && strings.EqualFold(u.Host, own.Host) && u.Path == consentPagePath
}

// parseConsentQuery reads the Consent UI's parameters. Other parameters are
// ignored, as a web page ignores what it does not know. An empty optional
// parameter counts as absent, except state, which is echoed even when empty.
func parseConsentQuery(vals url.Values) (consentQuery, error) {
	for _, k := range []string{"token", "action", "state", "institutionId", "connectionId", "userId"} {
		if n := len(vals[k]); n > 1 {
			return consentQuery{}, fmt.Errorf("%w: parameter %s is given %d times", ErrConsentURL, k, n)
		}
	}
	q := consentQuery{token: vals.Get("token")}
	if q.token == "" {
		return consentQuery{}, fmt.Errorf("%w: the URL has no token parameter", ErrConsentToken)
	}
	switch a := vals.Get("action"); a {
	case "", "null":
		q.action = actionDefault
	case actionConnect, actionManage, actionExtend, actionUpdate, actionReauthorise:
		q.action = a
	case "payment":
		return consentQuery{}, fmt.Errorf("%w: action=payment (Basiq Payments) is not simulated", ErrConsentURL)
	default:
		return consentQuery{}, fmt.Errorf("%w: action must be absent or one of null, connect, manage, extend, update, reauthorise",
			ErrConsentURL)
	}
	if st, ok := vals["state"]; ok {
		q.state, q.hasState = st[0], true
		if len(q.state) > maxConsentState {
			return consentQuery{}, fmt.Errorf("%w: state is longer than %d bytes", ErrConsentURL, maxConsentState)
		}
	}
	if q.institutionID = vals.Get("institutionId"); q.institutionID != "" && !isInstitutionID(q.institutionID) {
		return consentQuery{}, fmt.Errorf("%w: institutionId is not an institution id (two capital letters, five digits)", ErrConsentURL)
	}
	if q.connectionID = vals.Get("connectionId"); q.connectionID != "" && !isUUID(q.connectionID) {
		return consentQuery{}, fmt.Errorf("%w: connectionId is not a connection id (a UUID)", ErrConsentURL)
	}
	if q.userID = vals.Get("userId"); q.userID != "" && !isUUID(q.userID) {
		return consentQuery{}, fmt.Errorf("%w: userId is not a user id (a UUID)", ErrConsentURL)
	}
	return q, nil
}

// actionName names an action in messages.
func actionName(a string) string {
	if a == actionDefault {
		return "the default flow (no action)"
	}
	return "action=" + a
}
