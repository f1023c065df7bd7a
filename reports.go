package basiq

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"iter"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"
)

// Report types Basiq documents (GET /reports/types). Others are passed as
// they are.
const (
	// ReportAffordability is the Consumer Affordability Report: income,
	// expenses, liabilities and risk metrics over a period.
	ReportAffordability = "CON_AFFOR_01"
	// ReportStatement is a bank statement for one account over a period.
	ReportStatement = "STATEMENT_01"
)

// maxReportTitle is the longest title Basiq accepts, in characters.
const maxReportTitle = 50

// ReportParams is a report to create (Reports.Create).
type ReportParams struct {
	// Type is the report type, such as ReportAffordability (required).
	Type string
	// Title names the report: 1 to 50 characters (runes).
	Title string
	// Filters are what the report covers.
	Filters ReportFilters
}

// ReportFilters are the filters of a report to create, sent as Basiq's
// [{name, value}] list. Empty fields are not sent.
type ReportFilters struct {
	// Users is "users": the users whose data the report covers.
	Users []string
	// From and To are "fromDate" and "toDate", the period covered, sent as
	// calendar dates (YYYY-MM-DD): each time's own date, in its own
	// location, whatever its clock time.
	From, To time.Time
	// Accounts is "accounts": the accounts the report covers.
	Accounts []string
	// IncludeMetrics is "includeMetrics", the metric codes to include
	// ("ME001", ...). nil omits the filter (Basiq's default: all of them);
	// an empty, non-nil slice sends null: none.
	IncludeMetrics []string
	// IncludeGroups is "includeGroups", the group codes to include
	// ("INC-001", ...): nil omits the filter, an empty non-nil slice sends
	// null (none).
	IncludeGroups []string
	// Other filters, sent after the ones above as they are: those of
	// report types with other filters, such as ReportStatement's "account"
	// and "user" (one id each).
	Other []ReportFilter
}

// ReportFilter is one filter of a report, as Basiq sends and takes it.
// Value is a string, a []string, or nil for null.
type ReportFilter struct {
	Name  string
	Value any
}

// MarshalJSON encodes {"name", "value"}.
func (f ReportFilter) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Name  string `json:"name"`
		Value any    `json:"value"`
	}{f.Name, f.Value})
}

// UnmarshalJSON decodes a filter: a string value as a string, an array of
// strings as a []string, null as nil, anything else as its raw JSON
// (json.RawMessage).
func (f *ReportFilter) UnmarshalJSON(b []byte) error {
	var aux struct {
		Name  lenientString   `json:"name"`
		Value json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(b, &aux); err != nil && !memberTypeError(err) {
		return err
	}
	*f = ReportFilter{Name: string(aux.Name)}
	raw := bytes.TrimSpace(aux.Value)
	var s string
	var list []string
	switch {
	case len(raw) == 0 || isJSONNull(raw):
	case json.Unmarshal(raw, &s) == nil:
		f.Value = s
	case json.Unmarshal(raw, &list) == nil:
		f.Value = list
	default:
		f.Value = rawOrNil(raw)
	}
	return nil
}

// body renders p as POST /reports' body, after checking it.
func (p ReportParams) body() (any, error) {
	if err := validateID("ReportParams.Type", p.Type); err != nil {
		return nil, err
	}
	switch n := utf8.RuneCountInString(p.Title); {
	case strings.TrimSpace(p.Title) == "":
		return nil, invalidInput("ReportParams.Title is empty")
	case n > maxReportTitle:
		return nil, invalidInput("ReportParams.Title has %d characters; Basiq takes at most %d", n, maxReportTitle)
	case !utf8.ValidString(p.Title):
		return nil, invalidInput("ReportParams.Title is not valid UTF-8")
	}
	f := p.Filters
	if !f.From.IsZero() && !f.To.IsZero() && f.From.Format(time.DateOnly) > f.To.Format(time.DateOnly) {
		return nil, invalidInput("ReportFilters.From is after To")
	}
	filters := []ReportFilter{}
	add := func(name string, v any) { filters = append(filters, ReportFilter{Name: name, Value: v}) }
	if !f.From.IsZero() {
		add("fromDate", f.From.Format(time.DateOnly))
	}
	if !f.To.IsZero() {
		add("toDate", f.To.Format(time.DateOnly))
	}
	for _, ids := range []struct {
		name string
		v    []string
	}{{"accounts", f.Accounts}, {"users", f.Users}} {
		if len(ids.v) == 0 {
			continue
		}
		for _, id := range ids.v {
			if err := validateID("ReportFilters."+ids.name, id); err != nil {
				return nil, err
			}
		}
		add(ids.name, ids.v)
	}
	for _, codes := range []struct {
		name string
		v    []string
	}{{"includeMetrics", f.IncludeMetrics}, {"includeGroups", f.IncludeGroups}} {
		switch {
		case codes.v == nil:
		case len(codes.v) == 0:
			add(codes.name, nil)
		default:
			add(codes.name, codes.v)
		}
	}
	for i, o := range f.Other {
		if o.Name == "" {
			return nil, invalidInput("ReportFilters.Other[%d] has no name", i)
		}
		filters = append(filters, o)
	}
	return struct {
		ReportType string         `json:"reportType"`
		Title      string         `json:"title"`
		Filters    []ReportFilter `json:"filters"`
	}{p.Type, p.Title, filters}, nil
}

// Report is a report Basiq made (GET /reports/{id}); the items of
// Reports.List are the same without Metrics and Data.
type Report struct {
	Type       string // "report"
	ID         string
	Title      string
	ReportType string // ReportAffordability, ReportStatement, ...
	CreatedBy  string
	Created    time.Time // createdDate
	Expires    time.Time // expiresAt, when sent
	// Filters are the filters the report was made with.
	Filters []ReportFilter
	// Metrics are the report's metrics (data.metrics), in Basiq's order.
	Metrics []ReportMetric
	// TransactionsURL is data.transactions (REP's schema puts it beside
	// data; either is read): the first page of the report's transactions
	// (read them with Reports.Transactions).
	TransactionsURL string
	// Data is the report's data object as Basiq sent it: metrics, groups
	// (with their analysis), accounts, transactions.
	Data json.RawMessage
	Self string // links.self
}

// Metric returns the metric with the given id ("ME001", ...).
func (r *Report) Metric(id string) (ReportMetric, bool) {
	if r == nil {
		return ReportMetric{}, false
	}
	for _, m := range r.Metrics {
		if m.ID == id {
			return m, true
		}
	}
	return ReportMetric{}, false
}

// ReportMetric is one metric of a report, such as ME001 "# of identified
// salary sources". Value is Basiq's text ("4", "7228.00", "26.2", "true"),
// to read as Format says.
type ReportMetric struct {
	ID          string
	Title       string
	Description string
	Sections    []string
	Value       string // result.value
	Format      string // result.format: "integer", "money", "percent", "boolean", ...
}

// UnmarshalJSON decodes a report leniently.
func (r *Report) UnmarshalJSON(b []byte) error {
	var aux struct {
		Type       lenientString              `json:"type"`
		ID         lenientString              `json:"id"`
		Title      lenientString              `json:"title"`
		ReportType lenientString              `json:"reportType"`
		CreatedBy  lenientString              `json:"createdBy"`
		Created    lenientTime                `json:"createdDate"`
		Expires    lenientTime                `json:"expiresAt"`
		Filters    lenientSlice[ReportFilter] `json:"filters"`
		Data       json.RawMessage            `json:"data"`
		Txs        lenientString              `json:"transactions"`
		Links      links                      `json:"links"`
	}
	if err := json.Unmarshal(b, &aux); err != nil && !memberTypeError(err) {
		return err
	}
	*r = Report{
		Type: string(aux.Type), ID: string(aux.ID), Title: string(aux.Title), ReportType: string(aux.ReportType),
		CreatedBy: string(aux.CreatedBy), Created: time.Time(aux.Created), Expires: time.Time(aux.Expires),
		Filters: aux.Filters, Data: rawOrNil(aux.Data), Self: string(aux.Links.Self), TransactionsURL: string(aux.Txs),
	}
	if r.Data != nil {
		var data struct {
			Metrics []struct {
				ID          lenientString  `json:"id"`
				Title       lenientString  `json:"title"`
				Description lenientString  `json:"description"`
				Sections    lenientStrings `json:"sections"`
				Result      struct {
					Value  lenientString `json:"value"`
					Format lenientString `json:"format"`
				} `json:"result"`
			} `json:"metrics"`
			Transactions lenientString `json:"transactions"`
		}
		_ = json.Unmarshal(r.Data, &data) // what does not decode stays in Data
		if data.Transactions != "" {
			r.TransactionsURL = string(data.Transactions)
		}
		for _, m := range data.Metrics {
			r.Metrics = append(r.Metrics, ReportMetric{
				ID: string(m.ID), Title: string(m.Title), Description: string(m.Description), Sections: m.Sections,
				Value: string(m.Result.Value), Format: string(m.Result.Format),
			})
		}
	}
	return nil
}

// ReportType is a kind of report Basiq makes (GET /reports/types).
type ReportType struct {
	ID          string // ReportAffordability, ...
	Name        string
	Description string
	Filters     []ReportTypeFilter
	Self        string // links.self, when sent
}

// ReportTypeFilter is a filter a report type takes.
type ReportTypeFilter struct {
	Name     string // "fromDate", "accounts", ...
	Type     string // "string", "array"
	Required bool
}

// UnmarshalJSON decodes a report type leniently.
func (t *ReportType) UnmarshalJSON(b []byte) error {
	var aux struct {
		ID          lenientString `json:"id"`
		Name        lenientString `json:"name"`
		Description lenientString `json:"description"`
		Filters     []struct {
			Name     lenientString `json:"name"`
			Type     lenientString `json:"type"`
			Required lenientBool   `json:"required"`
		} `json:"filters"`
		Links links `json:"links"`
	}
	if err := json.Unmarshal(b, &aux); err != nil && !memberTypeError(err) {
		return err
	}
	*t = ReportType{ID: string(aux.ID), Name: string(aux.Name), Description: string(aux.Description), Self: string(aux.Links.Self)}
	for _, f := range aux.Filters {
		t.Filters = append(t.Filters, ReportTypeFilter{Name: string(f.Name), Type: string(f.Type), Required: bool(f.Required)})
	}
	return nil
}

// reportTypeAnswer is GET /reports/types/{id}'s answer: the type itself, or
// (as REP's schema has it) a list holding it.
type reportTypeAnswer struct {
	id   string
	item ReportType
}

func (a *reportTypeAnswer) UnmarshalJSON(b []byte) error {
	var list struct {
		Data []ReportType `json:"data"`
	}
	if json.Unmarshal(b, &list) == nil && len(list.Data) > 0 {
		a.item = list.Data[0]
		for _, t := range list.Data {
			if t.ID == a.id {
				a.item = t
			}
		}
		return nil
	}
	return json.Unmarshal(b, &a.item)
}

// ReportsService creates and reads reports: Basiq's affordability and
// statement reports, made by a job from a user's data (API 3.0).
type ReportsService struct {
	c *Client
}

func (s *ReportsService) client() *Client {
	if s == nil {
		return nil
	}
	return s.c
}

// Create asks Basiq for a report (POST /reports). Basiq answers 202 with a
// job: wait for it with Jobs.Wait (or a Poller), then read the report with
// Reports.Get(ctx, job.ReportID()). A title over 50 characters, an empty
// title or type, or From after To is an error matching ErrInvalidInput,
// and nothing is sent. The request is not retried once the server may have
// acted on it (a 5xx): a retry could make a second report.
func (s *ReportsService) Create(ctx context.Context, p ReportParams) (*Job, error) {
	body, err := p.body()
	if err != nil {
		return nil, err
	}
	var job Job
	if _, err := s.client().do(ctx, apiRequest{method: http.MethodPost, route: "/reports", body: body}, &job); err != nil {
		return nil, err
	}
	if job.ID == "" {
		return nil, errors.New("basiq: POST /reports: the answer names no job")
	}
	return &job, nil
}

// Get returns a report with its data (GET /reports/{id}).
func (s *ReportsService) Get(ctx context.Context, reportID string) (*Report, error) {
	var r Report
	if _, err := s.client().do(ctx, apiRequest{method: http.MethodGet, route: "/reports/{reportId}", params: []string{reportID}}, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// PDF returns a report as a PDF document (GET /reports/{id} with Accept:
// application/pdf), whole, in memory. It is bounded like every response
// (10 MiB): a larger document fails with ErrResponseTooLarge rather than
// growing without end. Like any GET it is retried on a network error or a
// 5xx.
func (s *ReportsService) PDF(ctx context.Context, reportID string) ([]byte, error) {
	var pdf []byte
	if _, err := s.client().do(ctx, apiRequest{
		method: http.MethodGet, route: "/reports/{reportId}", params: []string{reportID}, accept: "application/pdf",
	}, &rawOut{b: &pdf}); err != nil {
		return nil, err
	}
	if len(pdf) == 0 {
		return nil, errors.New("basiq: GET /reports/{reportId}: the PDF is empty")
	}
	return pdf, nil
}

// Delete deletes a report (DELETE /reports/{id}).
func (s *ReportsService) Delete(ctx context.Context, reportID string) error {
	return s.client().remove(ctx, apiRequest{route: "/reports/{reportId}", params: []string{reportID}})
}

// reportShape names a report's members (its decoder keeps them all).
var reportShape = rawShape("type", "id", "title", "reportType", "createdDate", "createdBy", "expiresAt", "filters", "data", "transactions", "links")

// validReport rejects a list item that is not a report.
func validReport(r *Report) error {
	if r.ID == "" {
		return errors.New("an item without an id where a report should be")
	}
	return nil
}

// List returns the application's reports (GET /reports), following
// links.next page by page; an error ends the sequence. The items carry
// what the list sends (no metrics): Get one for its data.
func (s *ReportsService) List(ctx context.Context) iter.Seq2[Report, error] {
	return listAll(ctx, s.client(), apiRequest{method: http.MethodGet, route: "/reports"},
		listSource[Report]{shape: reportShape, items: plainItems(validReport)})
}

// Transactions yields the transactions a report was made from (GET
// /reports/{reportId}/transactions): the snapshot Basiq stored with it, not
// the user's current transactions. filter may be nil; its Where takes
// transaction.id besides a user's transaction filters, and its PageSize
// must be 0 (Basiq documents no page size here). Paging is as for
// Transactions.All.
func (s *ReportsService) Transactions(ctx context.Context, reportID string, filter *TransactionFilter) iter.Seq2[Transaction, error] {
	fail := func(err error) iter.Seq2[Transaction, error] {
		return func(yield func(Transaction, error) bool) { yield(Transaction{}, err) }
	}
	if filter != nil && filter.PageSize != 0 {
		return fail(invalidInput("TransactionFilter.PageSize is not taken by a report's transactions"))
	}
	q, err := filter.filter(reportTransactionVocab)
	if err != nil {
		return fail(err)
	}
	return listAll(ctx, s.client(), apiRequest{
		method: http.MethodGet, route: "/reports/{reportId}/transactions", params: []string{reportID}, query: q,
	}, listSource[Transaction]{shape: transactionShape, items: transactionDecoder})
}

// Types returns the report types Basiq makes (GET /reports/types).
func (s *ReportsService) Types(ctx context.Context) ([]ReportType, error) {
	var list listOf[ReportType]
	if _, err := s.client().do(ctx, apiRequest{method: http.MethodGet, route: "/reports/types"}, &list); err != nil {
		return nil, err
	}
	return list.Data, nil
}

// Type returns one report type (GET /reports/types/{reportTypeId}).
func (s *ReportsService) Type(ctx context.Context, reportTypeID string) (*ReportType, error) {
	a := reportTypeAnswer{id: reportTypeID}
	if _, err := s.client().do(ctx, apiRequest{method: http.MethodGet, route: "/reports/types/{reportTypeId}", params: []string{reportTypeID}}, &a); err != nil {
		return nil, err
	}
	return &a.item, nil
}

// ReportID returns the id of the report a finished report job made: the
// last segment of its links.source when that names a report
// (".../reports/{id}"), else of its create-report step's result link,
// otherwise the job's own id (in Basiq's examples a report job and its
// report share one id).
func (j *Job) ReportID() string {
	if j == nil {
		return ""
	}
	if id := reportIDIn(j.Links.Source); id != "" {
		return id
	}
	if s, ok := j.Step(StepCreateReport); ok && s.Result != nil {
		if id := reportIDIn(s.Result.URL); id != "" {
			return id
		}
	}
	return j.ID
}

// reportIDIn returns the id in a report's URL (".../reports/{id}",
// absolute or relative), or "".
func reportIDIn(raw string) string {
	if raw == "" {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	_, rest, ok := cutLast(u.EscapedPath(), "/reports/")
	if id, err := url.PathUnescape(rest); ok && err == nil && id != "" && !strings.Contains(id, "/") && id != "types" {
		return id
	}
	return ""
}
