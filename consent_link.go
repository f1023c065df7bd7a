package basiq

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
)

// consentStateBytes is how many random bytes make the state of a link
// whose options give none.
const consentStateBytes = 32

// ConsentLink is a link to Basiq's Consent UI and the state it carries, from
// Consents.Link. Keep State in the user's session (or beside the user's id
// on the server) and check the redirect back against it with
// ConsentRedirect.StateMatches: the first link and every remedy link go
// through Consents.Link, so every return passes the same check.
//
// URL carries a CLIENT_ACCESS token for the user: send the browser there,
// never log it. A ConsentLink formats (%v, %+v, %#v), logs through slog and
// encodes to JSON with the token redacted (see RedactURL); read the URL field
// itself to redirect.
type ConsentLink struct {
	// URL is the Consent UI link, token included.
	URL string
	// State is the state the link carries: ConsentURLOptions.State when one
	// was given, else 32 random bytes, base64url-encoded.
	State string
}

// String describes the link with its token redacted.
func (l ConsentLink) String() string {
	return fmt.Sprintf("basiq.ConsentLink{URL: %s, State: %s}", RedactURL(l.URL), l.State)
}

// GoString is String.
func (l ConsentLink) GoString() string { return l.String() }

// Format prints String for every verb.
func (l ConsentLink) Format(f fmt.State, _ rune) { fmt.Fprint(f, l.String()) }

// LogValue implements slog.LogValuer with the token redacted.
func (l ConsentLink) LogValue() slog.Value {
	return slog.GroupValue(slog.String("url", RedactURL(l.URL)), slog.String("state", l.State))
}

// MarshalJSON encodes the link with its token redacted, so that a link
// inside a logged value does not leak it. To hand the link to a front end,
// send l.URL itself.
func (l ConsentLink) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		URL   string `json:"url"`
		State string `json:"state"`
	}{RedactURL(l.URL), l.State})
}

// Link returns a link to Basiq's Consent UI for the user together with its
// state: opts.State when given, else a new random one (32 bytes from
// crypto/rand, base64url). It is Consents.URL with the state made for you,
// and the way to send a user to the Consent UI, the first time and for every
// remedy: pass a Diagnosis's Consent (or an EventAdvice's) as opts, keep the
// returned State as you kept the first one, and the user's return from the
// remedy passes ConsentRedirect.StateMatches like any other. opts is not
// modified; nil means the default flow.
//
// Make the link when the user is about to follow it (its token lives an
// hour): a remedy shown in an e-mail or on a page should point at the
// application, which calls Link then. API version 3.0 only.
func (s *ConsentsService) Link(ctx context.Context, userID string, opts *ConsentURLOptions) (ConsentLink, error) {
	var o ConsentURLOptions
	if opts != nil {
		o = *opts
	}
	if o.State == "" {
		if err := s.client().ready(); err != nil {
			return ConsentLink{}, err
		}
		var b [consentStateBytes]byte
		if _, err := rand.Read(b[:]); err != nil {
			return ConsentLink{}, fmt.Errorf("basiq: making a consent state: %w", err)
		}
		o.State = base64.RawURLEncoding.EncodeToString(b[:])
	}
	u, err := s.URL(ctx, userID, &o)
	if err != nil {
		return ConsentLink{}, err
	}
	return ConsentLink{URL: u, State: o.State}, nil
}
