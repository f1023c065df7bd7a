package basiq

import (
	"encoding/json"
	"fmt"
	"log/slog"
)

const redacted = "[REDACTED]"

// Credentials are a user's bank login, sent once to create a connection (API
// version 2.1). Never store them. Their formatted forms (%v, %+v, %#v) and
// slog value hide Password, SecurityCode and SecondaryLoginID.
type Credentials struct {
	InstitutionID    string // e.g. "AU00000"
	LoginID          string
	Password         string
	SecurityCode     string // only when the institution asks for one (securityCodeCaption)
	SecondaryLoginID string // only when the institution asks for one (secondaryLoginIdCaption)
}

// String describes the credentials without their secrets. The login id,
// a bank customer number in real life, shows only its last three characters.
func (c Credentials) String() string {
	return fmt.Sprintf("basiq.Credentials{InstitutionID: %s, LoginID: %s, Password: %s, SecurityCode: %s, SecondaryLoginID: %s}",
		c.InstitutionID, maskLogin(c.LoginID), mask(c.Password), mask(c.SecurityCode), mask(c.SecondaryLoginID))
}

// GoString is String.
func (c Credentials) GoString() string { return c.String() }

// Format prints the redacted form for every verb.
func (c Credentials) Format(f fmt.State, _ rune) { fmt.Fprint(f, c.String()) }

// LogValue implements slog.LogValuer without the secrets.
func (c Credentials) LogValue() slog.Value {
	return slog.GroupValue(slog.String("institution_id", c.InstitutionID), slog.String("login_id", maskLogin(c.LoginID)))
}

// MarshalJSON encodes the credentials as their slog value does: the
// secrets as [REDACTED] and the login id masked, so that credentials inside a
// logged struct or slice do not leak.
func (c Credentials) MarshalJSON() ([]byte, error) {
	type plain Credentials
	p := plain(c)
	p.LoginID = maskLoginJSON(p.LoginID)
	p.Password, p.SecurityCode, p.SecondaryLoginID = redactJSON(p.Password), redactJSON(p.SecurityCode), redactJSON(p.SecondaryLoginID)
	return json.Marshal(p)
}

// CredentialsUpdate replaces a connection's credentials (API version 2.1),
// typically after a refresh failed with invalid-credentials.
type CredentialsUpdate struct {
	Password         string
	SecurityCode     string
	SecondaryLoginID string
}

// String describes the update without its secrets.
func (u CredentialsUpdate) String() string {
	return fmt.Sprintf("basiq.CredentialsUpdate{Password: %s, SecurityCode: %s, SecondaryLoginID: %s}",
		mask(u.Password), mask(u.SecurityCode), mask(u.SecondaryLoginID))
}

// GoString is String.
func (u CredentialsUpdate) GoString() string { return u.String() }

// Format prints the redacted form for every verb.
func (u CredentialsUpdate) Format(f fmt.State, _ rune) { fmt.Fprint(f, u.String()) }

// LogValue implements slog.LogValuer without the secrets.
func (u CredentialsUpdate) LogValue() slog.Value { return slog.StringValue(redacted) }

// MarshalJSON encodes the update with its secrets as [REDACTED].
func (u CredentialsUpdate) MarshalJSON() ([]byte, error) {
	type plain CredentialsUpdate
	p := plain(u)
	p.Password, p.SecurityCode, p.SecondaryLoginID = redactJSON(p.Password), redactJSON(p.SecurityCode), redactJSON(p.SecondaryLoginID)
	return json.Marshal(p)
}

// redactJSON is a secret's JSON form: empty stays empty (it tells "not
// set"), anything else is [REDACTED].
func redactJSON(s string) string {
	if s == "" {
		return ""
	}
	return redacted
}

// maskLoginJSON is maskLogin without the quotes mask puts around an empty id.
func maskLoginJSON(s string) string {
	if s == "" {
		return ""
	}
	return maskLogin(s)
}

// maskLogin keeps the last three characters of a login id, enough to tell
// logins apart in a log, and hides the rest.
func maskLogin(s string) string {
	r := []rune(s)
	if len(r) <= 3 {
		return mask(s)
	}
	return "***" + string(r[len(r)-3:])
}

func mask(s string) string {
	if s == "" {
		return `""`
	}
	return redacted
}

// credentialsBody is the wire form of a create (POST /users/{userId}/connections).
type credentialsBody struct {
	LoginID          string         `json:"loginId"`
	Password         string         `json:"password"`
	SecurityCode     string         `json:"securityCode,omitempty"`
	SecondaryLoginID string         `json:"secondaryLoginId,omitempty"`
	Institution      institutionRef `json:"institution"`
}

type institutionRef struct {
	ID string `json:"id"`
}

// updateBody is the wire form of an update (POST /users/{userId}/connections/{connectionId}).
type updateBody struct {
	Password         string `json:"password"`
	SecurityCode     string `json:"securityCode,omitempty"`
	SecondaryLoginID string `json:"secondaryLoginId,omitempty"`
}
