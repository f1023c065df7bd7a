package basiq

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"time"
	"unicode/utf8"
)

// DefaultConsentBaseURL is Basiq's hosted Consent UI.
const DefaultConsentBaseURL = "https://consent.basiq.io/home"

// consentTokenMinLife is the least life a CLIENT_ACCESS token must have left
// to go into a Consent UI link: the user spends a while in the Consent UI,
// and a token that expires mid-way fails their session.
const consentTokenMinLife = 20 * time.Minute

// maxConsentState bounds ConsentURLOptions.State: it travels through the
// browser twice, in URLs that browsers and proxies cut at a few KiB.
const maxConsentState = 1024

// ConsentAction chooses the Consent UI's flow (its action parameter).
type ConsentAction string

// Consent UI actions.
const (
	// ConsentDefault (no action parameter): first onboarding, or consenting
	// again after a consent expired or was revoked: the user consents, then
	// connects institutions.
	ConsentDefault ConsentAction = ""
	// ConsentConnect: the user has a valid consent; go straight to adding
	// institutions.
	ConsentConnect ConsentAction = "connect"
	// ConsentManage: the user sees their consent, its expiry and their
	// connections, and may delete connections or revoke the consent.
	ConsentManage ConsentAction = "manage"
	// ConsentExtend: extend a consent near its expiry (an active consent is
	// required).
	ConsentExtend ConsentAction = "extend"
	// ConsentUpdate: consent again after the application's consent policy
	// changed. With changed scopes the old consent is revoked and every
	// existing connection is deleted (an active consent is required).
	ConsentUpdate ConsentAction = "update"
	// ConsentReauthorise: renew open-banking connections expiring within
	// 7 days; account ids stay the same.
	ConsentReauthorise ConsentAction = "reauthorise"
)

// ConsentURLOptions are the Consent UI's parameters (all optional).
type ConsentURLOptions struct {
	// Action is the flow; ConsentDefault sends no action.
	Action ConsentAction
	// InstitutionID skips the institution picker (e.g. "AU00000").
	InstitutionID string
	// ConnectionID opens an existing connection: a credential update for a
	// web connection, a re-authorisation for an open-banking one. This is how
	// API 3.0 updates a connection's credentials (Connections.Update is 2.1
	// only).
	ConnectionID string
	// State is echoed back on the redirect to the application: put a value
	// bound to the user's session there, and compare it with
	// ConsentRedirect.StateMatches (at most 1 KiB; any characters).
	State string
}

// ConsentsService builds Consent UI links and reads and revokes a user's
// consents (API version 3.0).
type ConsentsService struct {
	c *Client
}

func (s *ConsentsService) client() *Client {
	if s == nil {
		return nil
	}
	return s.c
}

// URL returns a link to Basiq's Consent UI for the user: a
// https://consent.basiq.io/home URL (or WithConsentBaseURL's) carrying a
// CLIENT_ACCESS token bound to the user, and opts' action, institution,
// connection and state. Send the user's browser there (a full-page redirect:
// the Consent UI may not be embedded); Basiq sends them back to the
// application's Redirect URL (a dashboard setting) with the job ids to wait
// for: see ParseConsentRedirect and Jobs.WaitAll.
//
// The token is the client's cached token for the user while it has at least
// 20 minutes left (concurrent calls for one user share one token request),
// else a new one. The URL grants access to the user's consent flow: never
// log it, nor put it in an error; RedactURL makes it safe to log. API
// version 3.0 only (ErrUnsupportedVersion otherwise, with no request).
func (s *ConsentsService) URL(ctx context.Context, userID string, opts *ConsentURLOptions) (string, error) {
	c := s.client()
	if err := c.ready(); err != nil {
		return "", err
	}
	if c.version != V3 {
		return "", c.errUnsupported("Consents.URL")
	}
	if ctx == nil {
		return "", invalidInput("nil context")
	}
	if err := validateID("userId", userID); err != nil {
		return "", err
	}
	var o ConsentURLOptions
	if opts != nil {
		o = *opts
	}
	q, err := o.query()
	if err != nil {
		return "", err
	}
	tok, err := c.tokens.getFresh(ctx, authClient, userID, consentTokenMinLife)
	if err != nil {
		return "", err
	}
	q.Set("token", tok.AccessToken)
	u := *c.consentBase
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// query validates o and renders it as Consent UI query parameters (without
// the token).
func (o ConsentURLOptions) query() (url.Values, error) {
	q := url.Values{}
	switch o.Action {
	case ConsentDefault:
	case ConsentConnect, ConsentManage, ConsentExtend, ConsentUpdate, ConsentReauthorise:
		q.Set("action", string(o.Action))
	default:
		return nil, invalidInput("unknown consent action %q", clipLine(string(o.Action), 40))
	}
	if o.InstitutionID != "" {
		if err := validateID("InstitutionID", o.InstitutionID); err != nil {
			return nil, err
		}
		q.Set("institutionId", o.InstitutionID)
	}
	if o.ConnectionID != "" {
		if err := validateID("ConnectionID", o.ConnectionID); err != nil {
			return nil, err
		}
		q.Set("connectionId", o.ConnectionID)
	}
	if o.State != "" {
		if len(o.State) > maxConsentState {
			return nil, invalidInput("State is longer than %d bytes", maxConsentState)
		}
		if !utf8.ValidString(o.State) {
			return nil, invalidInput("State is not valid UTF-8")
		}
		q.Set("state", o.State)
	}
	return q, nil
}

// ConsentStatus is a consent's status. Unknown values are kept.
type ConsentStatus string

// Consent statuses Basiq documents.
const (
	ConsentActive  ConsentStatus = "active"
	ConsentRevoked ConsentStatus = "revoked"
	ConsentExpired ConsentStatus = "expired"
)

// Consent is a user's consent to share data with the application: a
// snapshot of the application's consent policy, created and changed only
// through the Consent UI.
type Consent struct {
	Type       string
	ID         string
	Created    time.Time
	Updated    time.Time
	ExpiryDate time.Time
	Revoked    time.Time // zero unless revoked
	Origin     string    // e.g. "user"
	Status     ConsentStatus
	Purpose    ConsentPurpose
	Data       ConsentData
	Links      ConsentLinks
}

// ConsentPurpose says why the data is collected.
type ConsentPurpose struct {
	Primary ConsentText
	Other   json.RawMessage // as Basiq sends it (null in its examples)
}

// ConsentText is a title and a description.
type ConsentText struct {
	Title       string `json:"title"`
	Description string `json:"description"`
}

// ConsentData is what the consent lets the application collect.
type ConsentData struct {
	RetainData           bool // the application may keep de-identified data after the consent ends
	InitialRetrievalDays int  // how far back the first retrieval goes
	Organisation         json.RawMessage
	Permissions          []ConsentPermission
}

// ConsentPermission is one scope of a consent.
type ConsentPermission struct {
	Scope       string // e.g. "account.basic", "transaction.detail"
	Required    bool
	Consented   bool
	Entity      string // e.g. "account", "transaction", "connection"
	Information ConsentInformation
	Purpose     ConsentText
}

// ConsentInformation describes the data a permission covers.
type ConsentInformation struct {
	Name          string   `json:"name"`
	Description   string   `json:"description"`
	AttributeList []string `json:"attributeList"`
}

// ConsentLinks are a consent's links.
type ConsentLinks struct {
	Self                string
	ConsentPolicy       string
	LatestConsentPolicy string
}

// UnmarshalJSON decodes a consent leniently.
func (c *Consent) UnmarshalJSON(b []byte) error {
	var aux struct {
		Type       lenientString `json:"type"`
		ID         lenientString `json:"id"`
		Created    lenientTime   `json:"created"`
		Updated    lenientTime   `json:"updated"`
		ExpiryDate lenientTime   `json:"expiryDate"`
		Revoked    lenientTime   `json:"revoked"`
		Origin     lenientString `json:"origin"`
		Status     lenientString `json:"status"`
		Purpose    struct {
			Primary *ConsentText    `json:"primary"`
			Other   json.RawMessage `json:"other"`
		} `json:"purpose"`
		Data struct {
			RetainData           lenientBool     `json:"retainData"`
			InitialRetrievalDays lenientInt      `json:"initialRetrievalDays"`
			Organisation         json.RawMessage `json:"organisation"`
			Permissions          []struct {
				Scope       lenientString       `json:"scope"`
				Required    lenientBool         `json:"required"`
				Consented   lenientBool         `json:"consented"`
				Entity      lenientString       `json:"entity"`
				Information *ConsentInformation `json:"information"`
				Purpose     *ConsentText        `json:"purpose"`
			} `json:"permissions"`
		} `json:"data"`
		Links struct {
			Self                lenientString `json:"self"`
			ConsentPolicy       lenientString `json:"consentPolicy"`
			LatestConsentPolicy lenientString `json:"latestConsentPolicy"`
		} `json:"links"`
	}
	if err := json.Unmarshal(b, &aux); err != nil && !memberTypeError(err) {
		return err
	}
	*c = Consent{
		Type: string(aux.Type), ID: string(aux.ID), Created: time.Time(aux.Created), Updated: time.Time(aux.Updated),
		ExpiryDate: time.Time(aux.ExpiryDate), Revoked: time.Time(aux.Revoked), Origin: string(aux.Origin),
		Status:  ConsentStatus(aux.Status),
		Purpose: ConsentPurpose{Other: rawOrNil(aux.Purpose.Other)},
		Data: ConsentData{RetainData: bool(aux.Data.RetainData), InitialRetrievalDays: int(aux.Data.InitialRetrievalDays),
			Organisation: rawOrNil(aux.Data.Organisation)},
		Links: ConsentLinks{Self: string(aux.Links.Self), ConsentPolicy: string(aux.Links.ConsentPolicy),
			LatestConsentPolicy: string(aux.Links.LatestConsentPolicy)},
	}
	if aux.Purpose.Primary != nil {
		c.Purpose.Primary = *aux.Purpose.Primary
	}
	for _, p := range aux.Data.Permissions {
		perm := ConsentPermission{Scope: string(p.Scope), Required: bool(p.Required), Consented: bool(p.Consented), Entity: string(p.Entity)}
		if p.Information != nil {
			perm.Information = *p.Information
		}
		if p.Purpose != nil {
			perm.Purpose = *p.Purpose
		}
		c.Data.Permissions = append(c.Data.Permissions, perm)
	}
	return nil
}

// rawOrNil keeps a raw JSON member, dropping an absent or null one.
func rawOrNil(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	return append(json.RawMessage(nil), raw...)
}

// List returns the user's consents, current and past (GET
// /users/{userId}/consents). API version 3.0 only.
func (s *ConsentsService) List(ctx context.Context, userID string) ([]Consent, error) {
	c := s.client()
	if c.APIVersion() != V3 {
		return nil, c.errUnsupported("Consents.List")
	}
	var list listOf[Consent]
	if _, err := c.do(ctx, apiRequest{method: http.MethodGet, route: "/users/{userId}/consents", params: []string{userID}}, &list); err != nil {
		return nil, err
	}
	return list.Data, nil
}

// Revoke deletes one of the user's consents and its connections, for good
// (DELETE /users/{userId}/consents/{consentId}). The user must consent again
// in the Consent UI before any data is collected. If an attempt fails and
// the retry finds the consent gone, Revoke succeeds. API version 3.0 only.
func (s *ConsentsService) Revoke(ctx context.Context, userID, consentID string) error {
	c := s.client()
	if c.APIVersion() != V3 {
		return c.errUnsupported("Consents.Revoke")
	}
	return c.remove(ctx, apiRequest{route: "/users/{userId}/consents/{consentId}", params: []string{userID, consentID}})
}
