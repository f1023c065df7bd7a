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
// or Mobile (in international form, +61...).
type UserParams struct {
	Email     string `json:"email,omitempty"`
	Mobile    string `json:"mobile,omitempty"`
	FirstName string `json:"firstName,omitempty"`
	LastName  string `json:"lastName,omitempty"`
}

// User is a Basiq user.
type User struct {
	Type        string
	ID          string
	Email       string
	Mobile      string
	Name        string
	FirstName   string
	LastName    string
	Connections []ResourceRef // Get only
	Accounts    []ResourceRef // Get only
	Links       UserLinks
}

// UserLinks are a user's links.
type UserLinks struct {
	Self         string
	Accounts     string
	Connections  string
	Transactions string
}

// UnmarshalJSON decodes a user leniently.
func (u *User) UnmarshalJSON(b []byte) error {
	var aux struct {
		Type        lenientString         `json:"type"`
		ID          lenientString         `json:"id"`
		Email       lenientString         `json:"email"`
		Mobile      lenientString         `json:"mobile"`
		Name        lenientString         `json:"name"`
		FirstName   lenientString         `json:"firstName"`
		LastName    lenientString         `json:"lastName"`
		Connections listData[ResourceRef] `json:"connections"`
		Accounts    listData[ResourceRef] `json:"accounts"`
		Links       struct {
			Self         lenientString `json:"self"`
			Accounts     lenientString `json:"accounts"`
			Connections  lenientString `json:"connections"`
			Transactions lenientString `json:"transactions"`
		} `json:"links"`
	}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	*u = User{
		Type: string(aux.Type), ID: string(aux.ID), Email: string(aux.Email), Mobile: string(aux.Mobile),
		Name: string(aux.Name), FirstName: string(aux.FirstName), LastName: string(aux.LastName),
		Connections: aux.Connections, Accounts: aux.Accounts,
		Links: UserLinks{Self: string(aux.Links.Self), Accounts: string(aux.Links.Accounts),
			Connections: string(aux.Links.Connections), Transactions: string(aux.Links.Transactions)},
	}
	return nil
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

// Update changes the given (non-empty) fields of a user (POST /users/{userId}).
func (s *UsersService) Update(ctx context.Context, userID string, p UserParams) (*User, error) {
	if p == (UserParams{}) {
		return nil, invalidInput("UserParams is empty")
	}
	var u User
	if _, err := s.client().do(ctx, apiRequest{method: http.MethodPost, route: "/users/{userId}", params: []string{userID}, body: p}, &u); err != nil {
		return nil, err
	}
	return &u, nil
}

// Delete deletes a user with all their connections and data. It cannot be
// undone. If an attempt fails and the retry finds the user gone, the first
// attempt did it, and Delete succeeds.
func (s *UsersService) Delete(ctx context.Context, userID string) error {
	return s.client().remove(ctx, apiRequest{route: "/users/{userId}", params: []string{userID}})
}
