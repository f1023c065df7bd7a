package basiq

import (
	"context"
	"net/http"
)

// IdentitiesService reads the identities Basiq retrieved with a user's
// connections: the account holder as their bank knows them (API 3.0).
type IdentitiesService struct {
	c *Client
}

func (s *IdentitiesService) client() *Client {
	if s == nil {
		return nil
	}
	return s.c
}

// Identity is an account holder as one connection's bank knows them: a
// person (the name fields) or an organisation (Organisation). It is
// personal information: keep it out of logs.
type Identity struct {
	Type                  string            `json:"type"` // "identity"
	ID                    string            `json:"id"`
	Created               string            `json:"created"` // as sent (RFC 3339)
	Updated               string            `json:"updated"` // as sent (RFC 3339)
	Source                string            `json:"source"`  // "openbanking", "web", ...
	ConnectionID          string            `json:"connectionID"`
	InstitutionID         string            `json:"institutionID"`
	FullName              string            `json:"fullName"`
	FirstName             string            `json:"firstName"`
	LastName              string            `json:"lastName"`
	MiddleName            string            `json:"middleName"`
	Title                 string            `json:"title"`
	DOB                   string            `json:"DOB"` // date of birth, YYYY-MM-DD
	OccupationCode        string            `json:"occupationCode"`
	OccupationCodeVersion string            `json:"occupationCodeVersion"`
	PhoneNumbers          []string          `json:"phoneNumbers"`
	EmailAddresses        []string          `json:"emailAddresses"`
	PhysicalAddresses     []IdentityAddress `json:"physicalAddresses"`
	// Organisation is set for a business account holder (its fields are
	// empty for a person).
	Organisation *IdentityOrganisation `json:"organisation"`
	Links        IdentityLinks         `json:"links"`
}

// IdentityAddress is a postal address of an identity.
type IdentityAddress struct {
	Type             string `json:"type"` // "home", "mail", ...
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

// IdentityOrganisation is an organisation that holds accounts.
type IdentityOrganisation struct {
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

// IdentityLinks are an identity's links.
type IdentityLinks struct {
	Self string `json:"self"`
	Job  string `json:"job"` // as Basiq names it: the connection the identity came with
}

// List returns the user's identities, one per connection that retrieved
// one (GET /users/{userId}/identities).
func (s *IdentitiesService) List(ctx context.Context, userID string) ([]Identity, error) {
	var list listOf[Identity]
	if _, err := s.client().do(ctx, apiRequest{method: http.MethodGet, route: "/users/{userId}/identities", params: []string{userID}}, &list); err != nil {
		return nil, err
	}
	return list.Data, nil
}

// Get returns one identity (GET /users/{userId}/identities/{identityId}).
func (s *IdentitiesService) Get(ctx context.Context, userID, identityID string) (*Identity, error) {
	var id Identity
	if _, err := s.client().do(ctx, apiRequest{method: http.MethodGet, route: "/users/{userId}/identities/{identityId}",
		params: []string{userID, identityID}}, &id); err != nil {
		return nil, err
	}
	return &id, nil
}
