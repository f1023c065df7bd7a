package basiq

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"
)

// InstitutionStatus is an institution's or connector's current health, as on
// Basiq's status board. Unknown values are kept.
type InstitutionStatus string

// Statuses, as Basiq's status board and connector filters spell them.
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
	// Reported is true when the institution gave averages at all
	// (stats.averageDurationMs was not missing or null). Reported zeros mean
	// the steps take no time worth waiting for.
	Reported bool
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
		Reported: true,
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

// ConnectorInstitution is the institution a connector belongs to. The CDR
// fields are set for open-banking data holders (API 3.0).
type ConnectorInstitution struct {
	Type              string `json:"type"`
	Name              string `json:"name"`
	ShortName         string `json:"shortName"`
	Tier              string `json:"tier"`
	Country           string `json:"country"`
	Logo              Logo   `json:"logo"`
	CDRFAQ            string `json:"cdrFAQ"`
	CDREmail          string `json:"cdrEmail"`
	CDRPolicy         string `json:"cdrPolicy"`
	CDRProviderNumber string `json:"cdrProviderNumber"`
	ABN               string `json:"abn"`
	ACN               string `json:"acn"`
}

// Connector is one way (method) of connecting to an institution: "web",
// "openbanking" (Basiq's sources also spell it "open-banking"), "pdf" or "csv".
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
	// Where adds server-side statements beyond the fields, ANDed with them
	// (API 2.1's GET /institutions): institution.country, institution.tier
	// and institution.authorization (eq, ne, in); institution.stage,
	// institution.serviceType and institution.institutionType (eq, ne).
	Where []Condition
}

// ConnectorFilter narrows Connectors.List. All fields but Name are sent as
// Basiq's server-side filter; Name is applied to the answer.
type ConnectorFilter struct {
	Method  []string // "web", "open-banking" (the filter's spelling), "pdf", "csv"
	Status  []InstitutionStatus
	Stage   []string
	Tier    []string
	Country []string
	// AuthorizationType is connector.authorization.type: "user",
	// "user-mfa", "user-mfa-intermittent", "other", "token".
	AuthorizationType []string
	// InstitutionType is connector.institution.type: "Bank", "Bank
	// (Foreign)", "Test Bank", "Credit Union", "Financial Services",
	// "Superannuation". Basiq takes eq and ne only: give at most one (use
	// Where for ne).
	InstitutionType string
	// ConnectorID is connector.id, an institution id such as "AU00000".
	ConnectorID string
	// Scopes is connector.scopes: connectors offering these CDR scopes.
	Scopes []string
	// Engine is connector.connectorEngine: "chrome" or "node".
	Engine string
	Name   string // case-insensitive substring of the institution's name or short name
	// Where adds statements beyond the fields (every ne, say), ANDed with
	// them. Basiq documents: connector.id and connector.method (eq);
	// connector.status, connector.stage, connector.scopes,
	// connector.institution.country, connector.institution.tier and
	// connector.authorization.type (eq, ne, in); connector.institution.type
	// and connector.connectorEngine (eq, ne).
	Where []Condition
}

// InstitutionsService lists institutions and their status.
type InstitutionsService struct {
	c     *Client
	cache institutionCache // used by pollers for status and step durations
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
	more, err := conditions("InstitutionFilter", institutionVocab, f.Where)
	if err != nil {
		return nil, err
	}
	q = append(q, more...)
	var list listOf[Institution]
	if _, err := s.client().do(ctx, apiRequest{method: http.MethodGet, route: "/institutions", query: filterQuery(q...)}, &list); err != nil {
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
	if _, err := s.client().do(ctx, apiRequest{method: http.MethodGet, route: "/institutions/{institutionId}", params: []string{institutionID}}, &in); err != nil {
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
	statuses := statusFilterValues(f.Status)
	q, err := buildFilter([]filterField{
		{"connector.method", f.Method}, {"connector.status", statuses}, {"connector.stage", f.Stage},
		{"connector.institution.tier", f.Tier}, {"connector.institution.country", f.Country},
		{"connector.authorization.type", f.AuthorizationType}, {"connector.scopes", f.Scopes},
	})
	if err != nil {
		return nil, err
	}
	single, err := eqFields([2]string{"connector.id", f.ConnectorID}, [2]string{"connector.institution.type", f.InstitutionType},
		[2]string{"connector.connectorEngine", f.Engine})
	if err != nil {
		return nil, err
	}
	more, err := conditions("ConnectorFilter", connectorVocab, f.Where)
	if err != nil {
		return nil, err
	}
	q = append(append(q, single...), more...)
	var list listOf[Connector]
	if _, err := s.client().do(ctx, apiRequest{method: http.MethodGet, route: "/connectors", query: filterQuery(q...)}, &list); err != nil {
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
	if _, err := s.client().do(ctx, apiRequest{method: http.MethodGet, route: "/connectors/{connectorId}/{method}", params: []string{connectorID, method}}, &cn); err != nil {
		return nil, err
	}
	return &cn, nil
}

// statusFilterValues renders statuses for a server-side filter, asking for
// the maintenance aliases too when under-maintenance is asked for, as
// InstitutionFilter does client-side.
func statusFilterValues(want []InstitutionStatus) []string {
	var out []string
	for _, st := range want {
		if st.Normalize() == StatusUnderMaintenance {
			out = append(out, string(StatusUnderMaintenance), string(StatusScheduledMaintenance), string(StatusUnderImprovement))
			continue
		}
		out = append(out, string(st))
	}
	return slices.Compact(out)
}

func statusIn(s InstitutionStatus, want []InstitutionStatus) bool {
	if len(want) == 0 {
		return true
	}
	// Compare canonical forms, so that asking for under-maintenance also finds
	// scheduled-maintenance and under-improvement (see Normalize).
	s = s.Normalize()
	for _, w := range want {
		if s == w.Normalize() {
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

// Timings of Basiq's status guidance (seed "Connector Status in Dashboard"
// and "Handling jobs"), shared by Advice and Diagnose.
const (
	// statusRetrySoon is how long to wait before retrying a job that failed
	// while the institution was not in a major outage ("wait 10 minutes and
	// try again").
	statusRetrySoon = 10 * time.Minute
	// statusRetryHourly is the retry interval for a partial or major outage.
	statusRetryHourly = time.Hour
	// majorOutageDeferMax is the longest recommended deferral in a major outage.
	majorOutageDeferMax = 3 * time.Hour
	// maxSummaryStatus bounds how much of an unknown status Summary repeats.
	maxSummaryStatus = 64
)

// StatusAdvice is what Basiq's status board recommends for an institution in a
// given status: whether to start a job now, whether and when to retry a job
// that failed, and whether to warn the user first. See
// InstitutionStatus.Advice.
type StatusAdvice struct {
	// Status is the normalized status the advice is for (as given when unknown).
	Status InstitutionStatus
	// Usable reports whether creating or refreshing a connection now is
	// recommended. It is false only for a major outage, where Basiq recommends
	// deferring; the connector still works there for a minority of jobs, so
	// an app may still go ahead once it has told the user.
	Usable bool
	// RetryOnFailure reports whether a job that fails with an
	// institution-side error (service-unavailable and the like) should be
	// retried. User-side failures (invalid credentials, a popup at the bank)
	// are never fixed by retrying; see Diagnose.
	RetryOnFailure bool
	// RetryAfter is how long to wait before that retry: 10 minutes normally,
	// 1 hour in a partial outage, and every hour in a major outage.
	RetryAfter time.Duration
	// DeferMin and DeferMax bound how long to put off creating or refreshing
	// a connection (1 to 3 hours in a major outage; zero otherwise).
	DeferMin, DeferMax time.Duration
	// TellUserFirst reports whether the user should be told that their bank is
	// having problems before a connection is attempted (a major outage).
	TellUserFirst bool
	// Summary is a one-sentence explanation for developers and support. For
	// an unknown status it repeats the raw value.
	Summary string
}

// Normalize returns the canonical form of a status: values are matched
// without regard to case, surrounding space, or "_" and " " in place of "-";
// "scheduled-maintenance" and "under-improvement" become
// StatusUnderMaintenance. Unknown values are returned unchanged.
func (s InstitutionStatus) Normalize() InstitutionStatus {
	folded := strings.ToLower(strings.TrimSpace(string(s)))
	folded = strings.NewReplacer("_", "-", " ", "-").Replace(folded)
	switch InstitutionStatus(folded) {
	case StatusOperational:
		return StatusOperational
	case StatusDegradedPerformance:
		return StatusDegradedPerformance
	case StatusPartialOutage:
		return StatusPartialOutage
	case StatusMajorOutage:
		return StatusMajorOutage
	case StatusUnderMaintenance, StatusScheduledMaintenance, StatusUnderImprovement:
		return StatusUnderMaintenance
	}
	return s
}

// Known reports whether the status is one Basiq documents (including the
// maintenance aliases), after Normalize. The empty status is not known.
func (s InstitutionStatus) Known() bool {
	switch s.Normalize() {
	case StatusOperational, StatusDegradedPerformance, StatusPartialOutage, StatusMajorOutage, StatusUnderMaintenance:
		return true
	}
	return false
}

// Advice returns what Basiq's status board recommends for the status:
//
//   - operational: go ahead; retry on failure.
//   - under-maintenance (and scheduled-maintenance, under-improvement): the
//     connector is operational but had a recent release or is in beta; go
//     ahead; retry on failure.
//   - degraded-performance: most jobs succeed; go ahead; retry on failure.
//   - partial-outage: only some jobs succeed first time; go ahead, but retry
//     a failure in 1 hour.
//   - major-outage: only a minority of jobs succeed; defer by 1 to 3 hours or
//     retry every hour, and tell the user first.
//   - anything else, including "": go ahead with caution; retry on failure.
//
// "Retry on failure" waits 10 minutes, as Basiq's job guidance says for a
// service-unavailable failure outside a major outage.
func (s InstitutionStatus) Advice() StatusAdvice {
	n := s.Normalize()
	a := StatusAdvice{Status: n, Usable: true, RetryOnFailure: true, RetryAfter: statusRetrySoon}
	switch n {
	case StatusOperational:
		a.Summary = "Operational: the connector is working normally; go ahead, and retry if a job fails."
	case StatusUnderMaintenance:
		a.Summary = "Under maintenance: the connector is operational but was recently released or is in beta; go ahead, and retry if a job fails."
	case StatusDegradedPerformance:
		a.Summary = "Degraded performance: most jobs succeed; go ahead, and retry if a job fails."
	case StatusPartialOutage:
		a.RetryAfter = statusRetryHourly
		a.Summary = "Partial outage: only some jobs succeed first time; go ahead, and retry in 1 hour if a job fails."
	case StatusMajorOutage:
		a.Usable = false
		a.RetryAfter = statusRetryHourly
		a.DeferMin, a.DeferMax = statusRetryHourly, majorOutageDeferMax
		a.TellUserFirst = true
		a.Summary = "Major outage: only a minority of jobs succeed; tell the user, then defer creating or refreshing connections by 1 to 3 hours, or retry every hour."
	default:
		raw := strings.ToValidUTF8(string(s), "?")
		if len(raw) > maxSummaryStatus {
			raw = strings.ToValidUTF8(raw[:maxSummaryStatus], "") + "…"
		}
		if raw == "" {
			a.Summary = "Status not reported: go ahead with caution, and retry if a job fails."
		} else {
			a.Summary = "Unknown status \"" + raw + "\": go ahead with caution, and retry if a job fails."
		}
	}
	return a
}
