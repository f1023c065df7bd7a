package basiq

import (
	"context"
	"encoding/json"
	"net/http"
)

// UsersService creates, reads, updates and deletes Basiq users. Every
// connection belongs to a user.
type UsersService struct {
	c *Client
}

// UserParams are the fields of a user to create or update. Create needs Email
// or Mobile (in international form, +61...). The business fields and
// verification fields exist on API version 3.0 and are sent by Create only
// (Basiq's update takes the personal fields).
type UserParams struct {
	Email      string `json:"email,omitempty"`
	Mobile     string `json:"mobile,omitempty"`
	FirstName  string `json:"firstName,omitempty"`
	MiddleName string `json:"middleName,omitempty"`
	LastName   string `json:"lastName,omitempty"`

	BusinessName       string           `json:"businessName,omitempty"`
	BusinessIDNo       string           `json:"businessIdNo,omitempty"`
	BusinessIDNoType   string           `json:"businessIdNoType,omitempty"` // "ABN" or "ACN"
	BusinessAddress    *BusinessAddress `json:"businessAddress,omitempty"`
	VerificationStatus *bool            `json:"verificationStatus,omitempty"`
	VerificationDate   string           `json:"verificationDate,omitempty"` // as Basiq takes it, e.g. "2024-01-31"
}

// BusinessAddress is a business user's address (API version 3.0).
type BusinessAddress struct {
	AddressLine1 string `json:"addressLine1,omitempty"`
	AddressLine2 string `json:"addressLine2,omitempty"`
	Suburb       string `json:"suburb,omitempty"`
	State        string `json:"state,omitempty"`
	Postcode     string `json:"postcode,omitempty"`
	CountryCode  string `json:"countryCode,omitempty"`
}

// User is a Basiq user.
type User struct {
	Type       string
	ID         string
	Email      string
	Mobile     string
	Name       string
	FirstName  string
	MiddleName string
	LastName   string
	// Business fields (API version 3.0), for business users.
	BusinessName       string
	BusinessIDNo       string
	BusinessIDNoType   string // "ABN" or "ACN"
	BusinessAddress    *BusinessAddress
	VerificationStatus bool
	VerificationDate   string        // as Basiq sends it
	Connections        []ResourceRef // Get only
	Accounts           []ResourceRef // Get only
	Links              UserLinks
}

// UserLinks are a user's links.
type UserLinks struct {
	Self         string
	Accounts     string
	Connections  string
	Transactions string
	AuthLink     string // the user's auth link (legacy hosted link), when one exists
}

// UnmarshalJSON decodes a user leniently.
func (u *User) UnmarshalJSON(b []byte) error {
	var aux struct {
		Type               lenientString         `json:"type"`
		ID                 lenientString         `json:"id"`
		Email              lenientString         `json:"email"`
		Mobile             lenientString         `json:"mobile"`
		Name               lenientString         `json:"name"`
		FirstName          lenientString         `json:"firstName"`
		MiddleName         lenientString         `json:"middleName"`
		LastName           lenientString         `json:"lastName"`
		BusinessName       lenientString         `json:"businessName"`
		BusinessIDNo       lenientString         `json:"businessIdNo"`
		BusinessIDNoType   lenientString         `json:"businessIdNoType"`
		BusinessAddress    *businessAddressWire  `json:"businessAddress"`
		VerificationStatus lenientBool           `json:"verificationStatus"`
		VerificationDate   lenientString         `json:"verificationDate"`
		Connections        listData[ResourceRef] `json:"connections"`
		Accounts           listData[ResourceRef] `json:"accounts"`
		Links              struct {
			Self         lenientString `json:"self"`
			Accounts     lenientString `json:"accounts"`
			Connections  lenientString `json:"connections"`
			Transactions lenientString `json:"transactions"`
			AuthLink     lenientString `json:"auth_link"`
		} `json:"links"`
	}
	if err := json.Unmarshal(b, &aux); err != nil && !memberTypeError(err) {
		return err
	}
	*u = User{
		Type: string(aux.Type), ID: string(aux.ID), Email: string(aux.Email), Mobile: string(aux.Mobile),
		Name: string(aux.Name), FirstName: string(aux.FirstName), MiddleName: string(aux.MiddleName), LastName: string(aux.LastName),
		BusinessName: string(aux.BusinessName), BusinessIDNo: string(aux.BusinessIDNo), BusinessIDNoType: string(aux.BusinessIDNoType),
		VerificationStatus: bool(aux.VerificationStatus), VerificationDate: string(aux.VerificationDate),
		Connections: aux.Connections, Accounts: aux.Accounts,
		Links: UserLinks{Self: string(aux.Links.Self), Accounts: string(aux.Links.Accounts),
			Connections: string(aux.Links.Connections), Transactions: string(aux.Links.Transactions),
			AuthLink: string(aux.Links.AuthLink)},
	}
	if a := aux.BusinessAddress; a != nil {
		u.BusinessAddress = &BusinessAddress{AddressLine1: string(a.AddressLine1), AddressLine2: string(a.AddressLine2),
			Suburb: string(a.Suburb), State: string(a.State), Postcode: string(a.Postcode), CountryCode: string(a.CountryCode)}
	}
	return nil
}

type businessAddressWire struct {
	AddressLine1 lenientString `json:"addressLine1"`
	AddressLine2 lenientString `json:"addressLine2"`
	Suburb       lenientString `json:"suburb"`
	State        lenientString `json:"state"`
	Postcode     lenientString `json:"postcode"`
	CountryCode  lenientString `json:"countryCode"`
}

// Create creates a user (POST /users). Email or Mobile is required.
func (s *UsersService) Create(ctx context.Context, p UserParams) (*User, error) {
	if p.Email == "" && p.Mobile == "" {
		return nil, invalidInput("UserParams needs Email or Mobile")
	}
	var u User
	if _, err := s.client().do(ctx, apiRequest{method: http.MethodPost, route: "/users", body: p}, &u); err != nil {
		return nil, err
	}
	return &u, nil
}

// Get returns a user with references to their connections and accounts.
func (s *UsersService) Get(ctx context.Context, userID string) (*User, error) {
	var u User
	if _, err := s.client().do(ctx, apiRequest{method: http.MethodGet, route: "/users/{userId}", params: []string{userID}}, &u); err != nil {
		return nil, err
	}
	return &u, nil
}

// Update changes the given (non-empty) personal fields of a user (POST
// /users/{userId}): Email, Mobile, FirstName, MiddleName, LastName. Business
// and verification fields cannot be updated; setting one is an error.
func (s *UsersService) Update(ctx context.Context, userID string, p UserParams) (*User, error) {
	personal := userUpdate{Email: p.Email, Mobile: p.Mobile, FirstName: p.FirstName, MiddleName: p.MiddleName, LastName: p.LastName}
	switch {
	case p.BusinessName != "" || p.BusinessIDNo != "" || p.BusinessIDNoType != "" || p.BusinessAddress != nil ||
		p.VerificationStatus != nil || p.VerificationDate != "":
		return nil, invalidInput("UserParams: business and verification fields cannot be updated")
	case personal == (userUpdate{}):
		return nil, invalidInput("UserParams is empty")
	}
	var u User
	if _, err := s.client().do(ctx, apiRequest{method: http.MethodPost, route: "/users/{userId}", params: []string{userID}, body: personal}, &u); err != nil {
		return nil, err
	}
	return &u, nil
}

// userUpdate is the body of a user update (CORE3 updateUser).
type userUpdate struct {
	Email      string `json:"email,omitempty"`
	Mobile     string `json:"mobile,omitempty"`
	FirstName  string `json:"firstName,omitempty"`
	MiddleName string `json:"middleName,omitempty"`
	LastName   string `json:"lastName,omitempty"`
}

// Delete deletes a user with all their connections and data. It cannot be
// undone. If an attempt fails and the retry finds the user gone, the first
// attempt did it, and Delete succeeds.
func (s *UsersService) Delete(ctx context.Context, userID string) error {
	return s.client().remove(ctx, apiRequest{route: "/users/{userId}", params: []string{userID}})
}
