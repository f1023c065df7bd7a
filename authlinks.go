package basiq

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"time"
)

// AuthLinksService manages a user's auth link: Basiq's older hosted
// connect page (connect.basiq.io), one link per user, which expires.
// API 3.0 apps connect banks through the Consent UI (Consents.URL); auth
// links remain for apps built on them.
type AuthLinksService struct {
	c *Client
}

func (s *AuthLinksService) client() *Client {
	if s == nil {
		return nil
	}
	return s.c
}

// AuthLinkParams is an auth link to create.
type AuthLinkParams struct {
	// Mobile is the user's mobile number, to which Basiq sends the code
	// that opens the link; empty uses the user's own.
	Mobile string `json:"mobile,omitempty"`
}

// AuthLink is a user's auth link. Its URL (and its ID, the last part of
// the URL) opens the user's connect page without any other secret, so it
// is treated as one: String, %v, %#v, slog and MarshalJSON show neither;
// read the fields to hand the URL to the user.
type AuthLink struct {
	Type    string    // "auth_link"
	ID      string    // the link's id, which is also its URL's last part
	UserID  string    // userId
	Mobile  string    // mobile
	Expires time.Time // expiresAt
	URL     string    // links.public: the page to send the user to
	Self    string    // links.self
}

// UnmarshalJSON decodes an auth link leniently (mobile as text or number).
func (l *AuthLink) UnmarshalJSON(b []byte) error {
	var aux struct {
		Type    lenientString `json:"type"`
		ID      lenientString `json:"id"`
		UserID  lenientString `json:"userId"`
		Mobile  lenientString `json:"mobile"`
		Expires lenientTime   `json:"expiresAt"`
		Links   struct {
			Public lenientString `json:"public"`
			Self   lenientString `json:"self"`
		} `json:"links"`
	}
	if err := json.Unmarshal(b, &aux); err != nil && !memberTypeError(err) {
		return err
	}
	*l = AuthLink{Type: string(aux.Type), ID: string(aux.ID), UserID: string(aux.UserID), Mobile: string(aux.Mobile),
		Expires: time.Time(aux.Expires), URL: string(aux.Links.Public), Self: string(aux.Links.Self)}
	return nil
}

// String describes the link without its URL or id.
func (l AuthLink) String() string {
	return fmt.Sprintf("basiq.AuthLink{UserID: %s, Expires: %s, ID: %s, URL: %s}",
		l.UserID, l.Expires.Format(time.RFC3339), mask(l.ID), mask(l.URL))
}

// GoString is String.
func (l AuthLink) GoString() string { return l.String() }

// Format prints the redacted form for every verb.
func (l AuthLink) Format(f fmt.State, _ rune) { fmt.Fprint(f, l.String()) }

// LogValue implements slog.LogValuer without the URL or id.
func (l AuthLink) LogValue() slog.Value {
	return slog.GroupValue(slog.String(logKeyUserID, l.UserID), slog.Time("expires_at", l.Expires))
}

// MarshalJSON encodes the link with its ID, URL and Self (which holds the
// user id only, but travels with them) as [REDACTED], so that a link inside
// a logged struct does not leak. Send the URL itself where it must go.
func (l AuthLink) MarshalJSON() ([]byte, error) {
	type plain AuthLink
	p := plain(l)
	p.ID, p.URL = redactJSON(p.ID), redactJSON(p.URL)
	return json.Marshal(p)
}

// Create makes a new auth link for the user (POST /users/{userId}/auth_link),
// replacing any earlier one. p may be nil. Basiq's answer carries no id:
// the URL's last part is the link.
func (s *AuthLinksService) Create(ctx context.Context, userID string, p *AuthLinkParams) (*AuthLink, error) {
	body := AuthLinkParams{}
	if p != nil {
		body = *p
	}
	var l AuthLink
	if _, err := s.client().do(ctx, apiRequest{method: http.MethodPost, route: "/users/{userId}/auth_link", params: []string{userID}, body: body}, &l); err != nil {
		return nil, err
	}
	return &l, nil
}

// Get returns the user's current auth link (GET /users/{userId}/auth_link);
// an expired or deleted one is ErrNotFound.
func (s *AuthLinksService) Get(ctx context.Context, userID string) (*AuthLink, error) {
	var l AuthLink
	if _, err := s.client().do(ctx, apiRequest{method: http.MethodGet, route: "/users/{userId}/auth_link", params: []string{userID}}, &l); err != nil {
		return nil, err
	}
	return &l, nil
}

// Delete deletes the user's auth link (DELETE /users/{userId}/auth_link),
// so its URL no longer opens.
func (s *AuthLinksService) Delete(ctx context.Context, userID string) error {
	return s.client().remove(ctx, apiRequest{route: "/users/{userId}/auth_link", params: []string{userID}})
}
