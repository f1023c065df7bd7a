package basiqtest

import (
	"fmt"
	"net/http"
	"slices"
)

// Identities (GET /users/{userId}/identities[/{identityId}], ID3): the
// account holder each of the user's connections reported once its
// credentials were verified — the sandbox login's profile. A connection
// whose holder has no name (an uploaded statement) has none. An identity's
// id is derived from its connection's, so it is stable.

// identityView is the wire form of an identity (ID3 IdentityData).
type identityView struct {
	Type                  string            `json:"type"`
	ID                    string            `json:"id"`
	Created               string            `json:"created"`
	Updated               string            `json:"updated"`
	Source                string            `json:"source"`
	ConnectionID          string            `json:"connectionID"`
	InstitutionID         string            `json:"institutionID"`
	FullName              string            `json:"fullName"`
	FirstName             string            `json:"firstName"`
	LastName              string            `json:"lastName"`
	MiddleName            string            `json:"middleName"`
	Title                 string            `json:"title"`
	DOB                   string            `json:"DOB"`
	OccupationCode        string            `json:"occupationCode"`
	OccupationCodeVersion string            `json:"occupationCodeVersion"`
	PhoneNumbers          []string          `json:"phoneNumbers"`
	EmailAddresses        []string          `json:"emailAddresses"`
	PhysicalAddresses     []identityAddress `json:"physicalAddresses"`
	Organisation          organisationView  `json:"organisation"`
	Links                 identityLinks     `json:"links"`
}

type identityAddress struct {
	Type             string `json:"type"`
	AddressLine1     string `json:"addressLine1"`
	AddressLine2     string `json:"addressLine2"`
	AddressLine3     string `json:"addressLine3"`
	Postcode         string `json:"postcode"`
	City             string `json:"city"`
	State            string `json:"state"`
	Country          string `json:"country"`
	CountryCode      string `json:"countryCode"`
	FormattedAddress string `json:"formattedAddress"`
}

// organisationView is a person's empty organisation, as ID3's person
// example shows it.
type organisationView struct {
	AgentFirstName      string `json:"agentFirstName"`
	AgentLastName       string `json:"agentLastName"`
	AgentRole           string `json:"agentRole"`
	BusinessName        string `json:"businessName"`
	LegalName           string `json:"legalName"`
	ShortName           string `json:"shortName"`
	ABN                 string `json:"abn"`
	ACN                 string `json:"acn"`
	IsACNCRegistered    bool   `json:"isACNCRegistered"`
	IndustryCode        string `json:"industryCode"`
	IndustryCodeVersion string `json:"industryCodeVersion"`
	OrganisationType    string `json:"organisationType"`
	RegisteredCountry   string `json:"registeredCountry"`
}

type identityLinks struct {
	Self string `json:"self"`
	Job  string `json:"job"`
}

// identityID is the identity of a connection: a UUID-shaped hash of its id.
func identityID(connID string) string {
	a, b := fnv64("identity|"+connID), fnv64(connID+"|identity")
	h := fmt.Sprintf("%016x%016x", a, b)
	return h[:8] + "-" + h[8:12] + "-4" + h[13:16] + "-8" + h[17:20] + "-" + h[20:32]
}

// identities returns the identities of u's connections, oldest first.
func (s *Server) identities(u *user) []identityView {
	out := []identityView{}
	for _, id := range u.conns {
		conn := s.st.conns[id]
		if conn == nil || conn.profile == nil || conn.profile.FullName == "" {
			continue
		}
		out = append(out, s.identityView(u, conn))
	}
	return out
}

func (s *Server) identityView(u *user, conn *connection) identityView {
	p := conn.profile
	source := "web"
	if conn.openBanking() {
		source = "openbanking"
	}
	updated := conn.created
	if !conn.lastUsed.IsZero() {
		updated = conn.lastUsed
	}
	id := identityID(conn.id)
	v := identityView{
		Type: "identity", ID: id, Created: stamp(conn.created), Updated: stamp(updated), Source: source,
		ConnectionID: conn.id, InstitutionID: conn.instID, FullName: p.FullName, FirstName: p.FirstName,
		LastName: p.LastName, MiddleName: p.MiddleName,
		PhoneNumbers: slices.Clone(p.PhoneNumbers), EmailAddresses: slices.Clone(p.EmailAddresses),
		PhysicalAddresses: []identityAddress{},
		Links:             identityLinks{Self: s.userURL(u.id) + "/identities/" + id, Job: s.connectionURL(conn)},
	}
	for _, a := range p.PhysicalAddresses {
		v.PhysicalAddresses = append(v.PhysicalAddresses, identityAddress{Type: "home", AddressLine1: a.AddressLine1,
			Postcode: a.Postcode, City: a.City, State: a.State, Country: a.Country, CountryCode: a.CountryCode,
			FormattedAddress: a.FormattedAddress})
	}
	for _, jid := range slices.Backward(u.jobs) { // the connection's newest job
		if j := s.st.jobs[jid]; j != nil && j.connID == conn.id {
			v.Links.Job = s.jobURL(j.id)
			break
		}
	}
	return v
}

// listIdentities serves GET /users/{userId}/identities.
func (s *Server) listIdentities(c *call) reply {
	u, rp, ok := s.lookupUser(c)
	if !ok {
		return rp
	}
	ids := s.identities(u)
	return jsonReply(http.StatusOK, struct {
		Type  string         `json:"type"`
		Count int            `json:"count"`
		Data  []identityView `json:"data"`
		Links selfLink       `json:"links"`
	}{Type: "list", Count: len(ids), Data: ids, Links: selfLink{Self: s.userURL(u.id) + "/identities"}})
}

// getIdentity serves GET /users/{userId}/identities/{identityId}.
func (s *Server) getIdentity(c *call) reply {
	u, rp, ok := s.lookupUser(c)
	if !ok {
		return rp
	}
	for _, v := range s.identities(u) {
		if v.ID == c.param("identityId") {
			return jsonReply(http.StatusOK, v)
		}
	}
	return errorReply(http.StatusNotFound, errNotFound("Requested identity does not exist."))
}
