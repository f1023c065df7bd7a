package basiq

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// InstitutionStatus is an institution's or connector's current health, as on
// Basiq's status board. Unknown values are kept.
type InstitutionStatus string

// Statuses (DESIGN.md §4.6; basiq-api.md §5.2).
const (
	StatusOperational          InstitutionStatus = "operational"
	StatusDegradedPerformance  InstitutionStatus = "degraded-performance"
	StatusPartialOutage        InstitutionStatus = "partial-outage"
	StatusMajorOutage          InstitutionStatus = "major-outage"
	StatusUnderMaintenance     InstitutionStatus = "under-maintenance"
	StatusScheduledMaintenance InstitutionStatus = "scheduled-maintenance" // treated as under-maintenance
	StatusUnderImprovement     InstitutionStatus = "under-improvement"     // treated as under-maintenance
)

// StepDurations are an institution's average step durations
// (stats.averageDurationMs); zero when unknown.
type StepDurations struct {
	VerifyCredentials    time.Duration
	RetrieveAccounts     time.Duration
	RetrieveTransactions time.Duration
	RetrieveMeta         time.Duration
	Total                time.Duration
}

// For returns the average duration of a step, or 0 when unknown.
func (d StepDurations) For(step StepName) time.Duration {
	switch step {
	case StepVerifyCredentials:
		return d.VerifyCredentials
	case StepRetrieveAccounts:
		return d.RetrieveAccounts
	case StepRetrieveTransactions:
		return d.RetrieveTransactions
	}
	return 0
}

// UnmarshalJSON decodes {"averageDurationMs": {...}} (null allowed).
func (d *StepDurations) UnmarshalJSON(b []byte) error {
	var aux struct {
		Avg *struct {
			VerifyCredentials    lenientInt `json:"verifyCredentials"`
			RetrieveAccounts     lenientInt `json:"retrieveAccounts"`
			RetrieveTransactions lenientInt `json:"retrieveTransactions"`
			RetrieveMeta         lenientInt `json:"retrieveMeta"`
			Total                lenientInt `json:"total"`
		} `json:"averageDurationMs"`
	}
	*d = StepDurations{}
	if json.Unmarshal(b, &aux) != nil || aux.Avg == nil {
		return nil
	}
	ms := func(v lenientInt) time.Duration {
		if v < 0 {
			return 0
		}
		return time.Duration(v) * time.Millisecond
	}
	*d = StepDurations{
		VerifyCredentials: ms(aux.Avg.VerifyCredentials), RetrieveAccounts: ms(aux.Avg.RetrieveAccounts),
		RetrieveTransactions: ms(aux.Avg.RetrieveTransactions), RetrieveMeta: ms(aux.Avg.RetrieveMeta), Total: ms(aux.Avg.Total),
	}
	return nil
}

// Logo is an institution's logo.
type Logo struct {
	Full         string // links.full
	Square       string // links.square
	PrimaryColor string // colors.primary
}

// UnmarshalJSON decodes {"links":{"full","square"},"colors":{"primary"}}.
func (l *Logo) UnmarshalJSON(b []byte) error {
	var aux struct {
		Links struct {
			Full   lenientString `json:"full"`
			Square lenientString `json:"square"`
		} `json:"links"`
		Colors struct {
			Primary lenientString `json:"primary"`
		} `json:"colors"`
	}
	_ = json.Unmarshal(b, &aux)
	*l = Logo{Full: string(aux.Links.Full), Square: string(aux.Links.Square), PrimaryColor: string(aux.Colors.Primary)}
	return nil
}

// Institution is a bank or other financial institution Basiq connects to.
type Institution struct {
	Type                    string            `json:"type"`
	ID                      string            `json:"id"`
	Name                    string            `json:"name"`
	ShortName               string            `json:"shortName"`
	InstitutionType         string            `json:"institutionType"`
	Country                 string            `json:"country"`
	ServiceName             string            `json:"serviceName"`
	ServiceType             string            `json:"serviceType"`
	LoginIDCaption          string            `json:"loginIdCaption"`
	PasswordCaption         string            `json:"passwordCaption"`
	SecondaryLoginIDCaption string            `json:"secondaryLoginIdCaption"`
	SecurityCodeCaption     string            `json:"securityCodeCaption"`
	ForgottenPasswordURL    string            `json:"forgottenPasswordUrl"`
	Tier                    string            `json:"tier"`
	Authorization           string            `json:"authorization"` // user, token, user-mfa, user-mfa-intermittent, other
	Stage                   string            `json:"stage"`         // live, beta, alpha
	Status                  InstitutionStatus `json:"status"`
	Features                json.RawMessage   `json:"features,omitempty"`
	AverageDuration         StepDurations     `json:"stats"`
	Logo                    Logo              `json:"logo"`
	Links                   struct {
		Self string `json:"self"`
	} `json:"links"`
}

// ConnectorAuthorization is how a connector logs in, with the captions of its login form.
type ConnectorAuthorization struct {
	Type string            `json:"type"`
	Meta map[string]string `json:"meta"`
}

// ConnectorInstitution is the institution a connector belongs to.
type ConnectorInstitution struct {
	Type      string `json:"type"`
	Name      string `json:"name"`
	ShortName string `json:"shortName"`
	Tier      string `json:"tier"`
	Country   string `json:"country"`
	Logo      Logo   `json:"logo"`
}

// Connector is one way (method) of connecting to an institution: "web",
// "open-banking", "pdf" or "csv".
type Connector struct {
	Type            string                 `json:"type"`
	ID              string                 `json:"id"`
	Method          string                 `json:"method"`
	Stage           string                 `json:"stage"`
	Status          InstitutionStatus      `json:"status"`
	Scopes          []string               `json:"scopes"`
	Authorization   ConnectorAuthorization `json:"authorization"`
	Institution     ConnectorInstitution   `json:"institution"`
	AverageDuration StepDurations          `json:"stats"`
	Links           struct {
		Self string `json:"self"`
	} `json:"links"`
}

// InstitutionFilter narrows Institutions.List. Country, Tier, Stage and
// Authorization are sent as Basiq's server-side filter (one value: eq, several:
// in); Status and Name are applied to the answer, since Basiq documents no
// server-side filter on an institution's status. Empty fields do not filter.
type InstitutionFilter struct {
	Country       []string            // "Australia", "New Zealand"
	Tier          []string            // "1".."4"
	Stage         []string            // "live", "beta", "alpha"
	Authorization []string            // "user", "token", ...
	Status        []InstitutionStatus // applied client-side
	Name          string              // case-insensitive substring of Name or ShortName, client-side
}

// ConnectorFilter narrows Connectors.List. All fields but Name are sent as
// Basiq's server-side filter; Name is applied to the answer.
type ConnectorFilter struct {
	Method  []string // "web", "open-banking", "pdf", "csv"
	Status  []InstitutionStatus
	Stage   []string
	Tier    []string
	Country []string
	Name    string // case-insensitive substring of the institution's name or short name
}

// InstitutionsService lists institutions and their status.
type InstitutionsService struct {
	c *Client
}

func newInstitutionsService(c *Client) *InstitutionsService {
	return &InstitutionsService{c: c}
}

// List returns the institutions matching filter (nil for all).
func (s *InstitutionsService) List(ctx context.Context, filter *InstitutionFilter) ([]Institution, error) {
	var f InstitutionFilter
	if filter != nil {
		f = *filter
	}
	q, err := buildFilter([]filterField{
		{"institution.country", f.Country}, {"institution.tier", f.Tier},
		{"institution.stage", f.Stage}, {"institution.authorization", f.Authorization},
	})
	if err != nil {
		return nil, err
	}
	var list listOf[Institution]
	if _, err := s.c.do(ctx, apiRequest{method: http.MethodGet, route: "/institutions", query: filterQuery(q...)}, &list); err != nil {
		return nil, err
	}
	out := list.Data[:0]
	for _, in := range list.Data {
		if statusIn(in.Status, f.Status) && nameMatches(f.Name, in.Name, in.ShortName) {
			out = append(out, in)
		}
	}
	return out, nil
}

// Get returns one institution, with its current status and step durations.
func (s *InstitutionsService) Get(ctx context.Context, institutionID string) (*Institution, error) {
	var in Institution
	if _, err := s.c.do(ctx, apiRequest{method: http.MethodGet, route: "/institutions/{institutionId}", params: []string{institutionID}}, &in); err != nil {
		return nil, err
	}
	return &in, nil
}

// ConnectorsService lists connectors and their status.
type ConnectorsService struct {
	c *Client
}

// List returns the connectors matching filter (nil for all).
func (s *ConnectorsService) List(ctx context.Context, filter *ConnectorFilter) ([]Connector, error) {
	var f ConnectorFilter
	if filter != nil {
		f = *filter
	}
	statuses := make([]string, len(f.Status))
	for i, st := range f.Status {
		statuses[i] = string(st)
	}
	q, err := buildFilter([]filterField{
		{"connector.method", f.Method}, {"connector.status", statuses}, {"connector.stage", f.Stage},
		{"connector.institution.tier", f.Tier}, {"connector.institution.country", f.Country},
	})
	if err != nil {
		return nil, err
	}
	var list listOf[Connector]
	if _, err := s.c.do(ctx, apiRequest{method: http.MethodGet, route: "/connectors", query: filterQuery(q...)}, &list); err != nil {
		return nil, err
	}
	out := list.Data[:0]
	for _, cn := range list.Data {
		if nameMatches(f.Name, cn.Institution.Name, cn.Institution.ShortName) {
			out = append(out, cn)
		}
	}
	return out, nil
}

// Get returns one connector: an institution id and a method ("web", ...).
func (s *ConnectorsService) Get(ctx context.Context, connectorID, method string) (*Connector, error) {
	var cn Connector
	if _, err := s.c.do(ctx, apiRequest{method: http.MethodGet, route: "/connectors/{connectorId}/{method}", params: []string{connectorID, method}}, &cn); err != nil {
		return nil, err
	}
	return &cn, nil
}

type filterField struct {
	prop   string
	values []string
}

func buildFilter(fields []filterField) ([]string, error) {
	var out []string
	for _, f := range fields {
		expr, err := filterExpr(f.prop, f.values)
		if err != nil {
			return nil, err
		}
		if expr != "" {
			out = append(out, expr)
		}
	}
	return out, nil
}

func statusIn(s InstitutionStatus, want []InstitutionStatus) bool {
	if len(want) == 0 {
		return true
	}
	for _, w := range want {
		if s == w {
			return true
		}
	}
	return false
}

func nameMatches(needle string, names ...string) bool {
	needle = strings.ToLower(strings.TrimSpace(needle))
	if needle == "" {
		return true
	}
	for _, n := range names {
		if strings.Contains(strings.ToLower(n), needle) {
			return true
		}
	}
	return false
}
