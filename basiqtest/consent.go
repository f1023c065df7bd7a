package basiqtest

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Consents (API 3.0). A consent is a user's agreement to the application's
// consent policy, captured by the Consent UI (CompleteConsent and the
// consent page) and never through the API. A user keeps their history: an
// active consent, and past ones that were revoked or expired. Connections
// made through the Consent UI belong to the consent they were made under;
// revoking or deleting a consent deletes its connections.

// consent is one consent of a user.
type consent struct {
	id               string
	policy           *consentPolicy // the policy the user agreed to
	created, updated time.Time
	expiry           time.Time
	revoked          time.Time // zero unless revoked

	consentClock // consent_clock.go: consent.warning, consent.expired, consent.reminder
}

// Consent statuses (CORE3: "active, revoked, and expired").
const (
	consentActive  = "active"
	consentRevoked = "revoked"
	consentExpired = "expired"
)

// status is the consent's status at now.
func (c *consent) status(now time.Time) string {
	switch {
	case !c.revoked.IsZero():
		return consentRevoked
	case !now.Before(c.expiry):
		return consentExpired
	}
	return consentActive
}

// consentPolicy is one version of the application's consent policy.
type consentPolicy struct {
	id                   string
	scopes               []string
	duration             time.Duration
	retainData           bool
	initialRetrievalDays int
}

// ConsentPolicy is the application's consent policy, which Basiq's
// dashboard sets (Customise UI) and every consent snapshots. The zero value
// is the fake's default policy.
type ConsentPolicy struct {
	// Scopes are the data the application asks for. nil means the default:
	// account.basic, account.detail, transaction.detail and
	// customer.person.detail. The fake also knows customer.person.basic.
	Scopes []string
	// Duration is how long a consent lasts from when it is given or
	// extended; 0 means 365 days.
	Duration time.Duration
	// RetainData is the consent's data.retainData: the application may keep
	// a de-identified copy of the data after the consent ends.
	RetainData bool
	// InitialRetrievalDays is how much transaction history the consent
	// covers (data.initialRetrievalDays); 0 means 730 days.
	InitialRetrievalDays int
}

// defaultConsentDuration is the consent duration when the policy sets none:
// one year, the typical dashboard setting.
const defaultConsentDuration = 365 * 24 * time.Hour

// permissionInfo describes one scope of a consent policy: the wire
// permission's entity, information and purpose.
type permissionInfo struct {
	entity      string
	name        string
	description string
	attributes  []string
	purpose     string
}

// knownScopes are the consent scopes the fake knows (Basiq's consent
// scopes; the wording is the fake's).
func knownScopes() map[string]permissionInfo {
	return map[string]permissionInfo{
		"account.basic": {entity: "account", name: "Account name, type and balance",
			description: "The list of your accounts with their names, types and balances.",
			attributes:  []string{"Name of account", "Type of account", "Account balance"},
			purpose:     "To show you your accounts."},
		"account.detail": {entity: "account", name: "Account numbers and details",
			description: "The details of your accounts, such as numbers, rates and fees.",
			attributes:  []string{"Account number", "Interest rates", "Fees", "Account terms", "Account mail address"},
			purpose:     "To verify your accounts."},
		"transaction.detail": {entity: "transaction", name: "Transaction details",
			description: "The transactions on your accounts.",
			attributes:  []string{"Incoming and outgoing transactions", "Amounts", "Dates", "Descriptions"},
			purpose:     "To understand your income and spending."},
		"customer.person.basic": {entity: "connection", name: "Name and occupation",
			description: "Your name and occupation as your bank holds them.",
			attributes:  []string{"Name", "Occupation"},
			purpose:     "To confirm who you are."},
		"customer.person.detail": {entity: "connection", name: "Name, occupation and contact details",
			description: "Your name, occupation, addresses and contact details as your bank holds them.",
			attributes:  []string{"Name", "Occupation", "Phone", "Email address", "Mail address", "Residential address"},
			purpose:     "To confirm who you are and how to reach you."},
	}
}

func defaultConsentScopes() []string {
	return []string{"account.basic", "account.detail", "transaction.detail", "customer.person.detail"}
}

// newConsentPolicy validates p and makes it a policy version.
func newConsentPolicy(p ConsentPolicy) (*consentPolicy, error) {
	scopes := slices.Clone(p.Scopes)
	if scopes == nil {
		scopes = defaultConsentScopes()
	}
	if len(scopes) == 0 {
		return nil, errors.New("basiqtest: a consent policy needs at least one scope")
	}
	known := knownScopes()
	for i, sc := range scopes {
		if _, ok := known[sc]; !ok {
			names := make([]string, 0, len(known))
			for k := range known {
				names = append(names, k)
			}
			slices.Sort(names)
			return nil, errors.New("basiqtest: unknown consent scope " + sc + "; the fake knows " + strings.Join(names, ", "))
		}
		if slices.Contains(scopes[:i], sc) {
			return nil, errors.New("basiqtest: consent scope " + sc + " is listed twice")
		}
	}
	if p.Duration < 0 || p.InitialRetrievalDays < 0 {
		return nil, errors.New("basiqtest: negative consent duration or retrieval days")
	}
	pol := &consentPolicy{id: newUUID(), scopes: scopes, duration: p.Duration, retainData: p.RetainData,
		initialRetrievalDays: p.InitialRetrievalDays}
	if pol.duration == 0 {
		pol.duration = defaultConsentDuration
	}
	if pol.initialRetrievalDays == 0 {
		pol.initialRetrievalDays = 730
	}
	return pol, nil
}

// sameScopes reports whether two policies ask for the same data, in any
// order: the test of the Consent UI's update action.
func sameScopes(a, b *consentPolicy) bool {
	x, y := slices.Clone(a.scopes), slices.Clone(b.scopes)
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(x, y)
}

// consentState is the fake's Consent UI state; it is embedded in state.
type consentState struct {
	policy   *consentPolicy          // nil until first needed: the default policy
	sessions map[string]*pageSession // consent page sessions by id (consent_page.go)
}

// currentPolicy returns the application's current consent policy.
func (s *Server) currentPolicy() *consentPolicy {
	if s.st.policy == nil {
		s.st.policy, _ = newConsentPolicy(ConsentPolicy{}) // the default policy is valid
	}
	return s.st.policy
}

// SetConsentPolicy changes the application's consent policy, as an edit in
// Basiq's dashboard would. Existing consents keep the policy they were given
// under (their links.consentPolicy) until the user goes through the Consent
// UI with action=update: when the scopes changed, that revokes the old
// consent and deletes all the user's connections; when they did not, it
// extends the consent. It returns an error for an unknown or repeated scope
// or a negative duration.
func (s *Server) SetConsentPolicy(p ConsentPolicy) error {
	if s == nil || s.st == nil {
		return errNotNewServer("SetConsentPolicy")
	}
	pol, err := newConsentPolicy(p)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.policy = pol
	return nil
}

// activeConsent returns the user's active consent, or nil.
func (s *Server) activeConsent(u *user, now time.Time) *consent {
	for _, c := range slices.Backward(u.consents) {
		if c.status(now) == consentActive {
			return c
		}
	}
	return nil
}

// newConsent records the user's consent to the current policy
// (consent.created).
func (s *Server) newConsent(u *user, now time.Time) *consent {
	pol := s.currentPolicy()
	c := &consent{id: newUUID(), policy: pol, created: now, updated: now, expiry: now.Add(pol.duration)}
	u.consents = append(u.consents, c)
	s.consentEvent(now, "created", u, c)
	s.scheduleConsent(u, c)
	return c
}

// extendConsent gives the consent a new expiry, one policy duration from
// now (the duration of its own policy: an extension keeps the terms)
// (consent.updated).
func (s *Server) extendConsent(u *user, c *consent, now time.Time) {
	c.expiry, c.updated = now.Add(c.policy.duration), now
	s.consentEvent(now, "updated", u, c)
	s.scheduleConsent(u, c)
}

// revokeConsent revokes the consent (consent.revoked) and deletes its
// connections.
func (s *Server) revokeConsent(u *user, c *consent, now time.Time) {
	c.revoked, c.updated = now, now
	s.consentEvent(now, "revoked", u, c)
	s.scheduleConsent(u, c) // no more timers
	s.dropConnections(u, now, func(conn *connection) bool { return conn.consentID == c.id })
}

// dropConnections deletes the user's connections that match, as DELETE
// /users/{userId}/connections/{connectionId} does: their jobs stay
// readable, and each records connection.deleted.
func (s *Server) dropConnections(u *user, now time.Time, match func(*connection) bool) {
	u.conns = slices.DeleteFunc(u.conns, func(id string) bool {
		conn := s.st.conns[id]
		if conn == nil || !match(conn) {
			return false
		}
		delete(s.st.conns, id)
		s.connEvent(now, "deleted", conn)
		return true
	})
}

// consentView is the wire form of a consent (CORE3 UserConsentGetResponse).
type consentView struct {
	Type       string             `json:"type"`
	ID         string             `json:"id"`
	Created    string             `json:"created"`
	Updated    string             `json:"updated"`
	ExpiryDate string             `json:"expiryDate"`
	Origin     string             `json:"origin"`
	Status     string             `json:"status"`
	Purpose    consentPurposeView `json:"purpose"`
	Data       consentDataView    `json:"data"`
	Revoked    string             `json:"revoked,omitempty"`
	Links      consentLinks       `json:"links"`
}

type consentPurposeView struct {
	Primary titled `json:"primary"`
	Other   *bool  `json:"other"` // always null, as in CORE3's example
}

type titled struct {
	Title       string `json:"title"`
	Description string `json:"description"`
}

type consentDataView struct {
	RetainData           bool             `json:"retainData"`
	InitialRetrievalDays int              `json:"initialRetrievalDays"`
	Organisation         *bool            `json:"organisation"` // always null: no business consent
	Permissions          []permissionView `json:"permissions"`
}

type permissionView struct {
	Scope       string          `json:"scope"`
	Required    bool            `json:"required"`
	Consented   bool            `json:"consented"`
	Entity      string          `json:"entity"`
	Information informationView `json:"information"`
	Purpose     titled          `json:"purpose"`
}

type informationView struct {
	Name          string   `json:"name"`
	Description   string   `json:"description"`
	AttributeList []string `json:"attributeList"`
}

type consentLinks struct {
	Self                string `json:"self"`
	ConsentPolicy       string `json:"consentPolicy"`
	LatestConsentPolicy string `json:"latestConsentPolicy"`
}

// consentPurpose is the application's purpose, as the Consent UI shows it.
func consentPurpose() titled {
	return titled{Title: "Link your bank accounts",
		Description: "The app reads your accounts and transactions to provide its service."}
}

// permissions are the wire permissions of a policy.
func (pol *consentPolicy) permissions() []permissionView {
	known := knownScopes()
	out := make([]permissionView, 0, len(pol.scopes))
	for _, sc := range pol.scopes {
		p := known[sc]
		out = append(out, permissionView{Scope: sc, Required: true, Consented: true, Entity: p.entity,
			Information: informationView{Name: p.name, Description: p.description, AttributeList: slices.Clone(p.attributes)},
			Purpose:     titled{Title: p.name, Description: p.purpose}})
	}
	return out
}

func (s *Server) policyURL(pol *consentPolicy) string { return s.URL + "/policies/" + pol.id }

func (s *Server) consentView(u *user, c *consent, now time.Time) consentView {
	v := consentView{
		Type: "consent", ID: c.id, Created: stamp(c.created), Updated: stamp(c.updated), ExpiryDate: stamp(c.expiry),
		Origin: "user", Status: c.status(now),
		Purpose: consentPurposeView{Primary: consentPurpose()},
		Data: consentDataView{RetainData: c.policy.retainData, InitialRetrievalDays: c.policy.initialRetrievalDays,
			Permissions: c.policy.permissions()},
		Links: consentLinks{Self: s.userURL(u.id) + "/consents/" + c.id, ConsentPolicy: s.policyURL(c.policy),
			LatestConsentPolicy: s.policyURL(s.currentPolicy())},
	}
	if !c.revoked.IsZero() {
		v.Revoked = stamp(c.revoked)
	}
	return v
}

// consentRoutes are the consent and purge endpoints (3.0 only). NewServer
// adds them to newRoutes.
func consentRoutes() []route {
	v3 := []string{"3.0"}
	rs := []route{
		{method: "GET", pattern: "/users/{userId}/consents", scopes: scopeAny, versions: v3, handle: (*Server).listConsents},
		{method: "DELETE", pattern: "/users/{userId}/consents/{consentId}", scopes: scopeServer, versions: v3, handle: (*Server).deleteConsent},
		{method: "POST", pattern: "/users/{userId}/connections/{connectionId}/purge", scopes: scopeServer, versions: v3, handle: (*Server).purgeConnection},
	}
	for i := range rs {
		rs[i].segs = strings.Split(rs[i].pattern[1:], "/")
	}
	return rs
}

// listConsents serves GET /users/{userId}/consents: the user's consents,
// newest first; 200 with an empty list when there are none.
func (s *Server) listConsents(c *call) reply {
	u, rp, ok := s.lookupUser(c)
	if !ok {
		return rp
	}
	out := struct {
		Type  string        `json:"type"`
		Size  int           `json:"size"`
		Data  []consentView `json:"data"`
		Links selfLink      `json:"links"`
	}{Type: "list", Data: []consentView{}, Links: selfLink{Self: s.userURL(u.id) + "/consents"}}
	for _, cn := range slices.Backward(u.consents) {
		out.Data = append(out.Data, s.consentView(u, cn, c.now))
	}
	out.Size = len(out.Data)
	return jsonReply(http.StatusOK, out)
}

// deleteConsent serves DELETE /users/{userId}/consents/{consentId}: the
// consent and its connections are gone for good. Deleting an active
// consent ends it: the fake records consent.revoked (Basiq does not say),
// then connection.deleted for its connections.
func (s *Server) deleteConsent(c *call) reply {
	u, rp, ok := s.lookupUser(c)
	if !ok {
		return rp
	}
	id := c.param("consentId")
	if !isUUID(id) {
		return errorReply(http.StatusBadRequest, errNotValid("Consent ID value is not valid", "", "consentId"))
	}
	i := slices.IndexFunc(u.consents, func(cn *consent) bool { return cn.id == id })
	if i < 0 {
		return errorReply(http.StatusNotFound, errNotFound("Requested consent does not exist."))
	}
	cn := u.consents[i]
	if cn.status(c.now) == consentActive {
		cn.revoked, cn.updated = c.now, c.now
		s.consentEvent(c.now, "revoked", u, cn)
	}
	cn.gen++ // its timers are stale
	s.dropConnections(u, c.now, func(conn *connection) bool { return conn.consentID == id })
	u.consents = slices.Delete(u.consents, i, i+1)
	return emptyReply(http.StatusNoContent)
}
