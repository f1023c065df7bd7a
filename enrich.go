package basiq

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
)

// EnrichService looks up a transaction description with Basiq Enrich:
// the merchant, its category and location, as transactions carry them.
type EnrichService struct {
	c *Client
}

func (s *EnrichService) client() *Client {
	if s == nil {
		return nil
	}
	return s.c
}

// EnrichParams is a transaction to enrich (GET /enrich). Query,
// Institution and Country are required.
type EnrichParams struct {
	Query       string // q: the transaction's description, such as "WOOLWORTHS 1197 SHELLHARBOUR"
	Institution string // institution: the Basiq institution it came from, such as "AU04301"
	Country     string // country: ISO 3166 alpha-2, such as "AU"
	MCC         string // mcc: the merchant category code, when known
	// AccountType is accountType: "transaction", "credit-card", "savings",
	// "mortgage", "loan" or "foreign".
	AccountType string
	Amount      string // amount: the amount as text, negative for money out, such as "-12.95"
}

// Enrichment is what Basiq Enrich knows of a transaction description.
type Enrichment struct {
	Type      string               // "enrich"
	Direction TransactionDirection // "debit" or "credit"
	Class     TransactionClass     // "payment", ...
	// Data holds the merchant, category, location and tags, as a
	// transaction's Enrich does.
	Data  Enrich
	Links EnrichLinks
}

// EnrichLinks are an enrichment's links.
type EnrichLinks struct {
	Self       string
	LogoMaster string // links.logo-master: the merchant's logo
	LogoThumb  string // links.logo-thumb: its thumbnail
}

// UnmarshalJSON decodes an enrichment leniently.
func (e *Enrichment) UnmarshalJSON(b []byte) error {
	var aux struct {
		Type      lenientString `json:"type"`
		Direction lenientString `json:"direction"`
		Class     lenientString `json:"class"`
		Data      *enrichWire   `json:"data"`
		Links     struct {
			Self       lenientString `json:"self"`
			LogoMaster lenientString `json:"logo-master"`
			LogoThumb  lenientString `json:"logo-thumb"`
		} `json:"links"`
	}
	if err := json.Unmarshal(b, &aux); err != nil && !memberTypeError(err) {
		return err
	}
	*e = Enrichment{Type: string(aux.Type), Direction: TransactionDirection(aux.Direction), Class: TransactionClass(aux.Class),
		Links: EnrichLinks{Self: string(aux.Links.Self), LogoMaster: string(aux.Links.LogoMaster), LogoThumb: string(aux.Links.LogoThumb)}}
	if d := aux.Data.value(); d != nil {
		e.Data = *d
	}
	return nil
}

// Get enriches one transaction description (GET /enrich). A missing
// Query, Institution or Country is an error matching ErrInvalidInput, and
// nothing is sent.
func (s *EnrichService) Get(ctx context.Context, p EnrichParams) (*Enrichment, error) {
	q := url.Values{}
	for _, f := range []struct {
		name, value string
		required    bool
	}{
		{"q", p.Query, true}, {"institution", p.Institution, true}, {"country", p.Country, true},
		{"mcc", p.MCC, false}, {"accountType", p.AccountType, false}, {"amount", p.Amount, false},
	} {
		if f.value == "" {
			if f.required {
				return nil, invalidInput("EnrichParams: %s is required", f.name)
			}
			continue
		}
		if len(f.value) > maxIDLen {
			return nil, invalidInput("EnrichParams: %s is longer than %d bytes", f.name, maxIDLen)
		}
		q.Set(f.name, f.value)
	}
	var e Enrichment
	if _, err := s.client().do(ctx, apiRequest{method: http.MethodGet, route: "/enrich", query: q}, &e); err != nil {
		return nil, err
	}
	return &e, nil
}
