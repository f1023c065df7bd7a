package basiq

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Tests of the services over the rest of the published 3.0 API (reports,
// statements, auth links, identities, enrich, event types), against the
// mocked API answering with the spec files' own examples.

// v3Example returns one response example of a spec file: op is "METHOD
// path status", name the example's name ("example" for a lone one).
func v3Example(t *testing.T, file, op, name string) string {
	t.Helper()
	for _, ex := range specExamples(t, file) {
		if ex.op == op && ex.name == name {
			return string(ex.body)
		}
	}
	t.Fatalf("%s has no example %q of %s", file, name, op)
	return ""
}

func TestReportsCreateSendsTheDocumentedBody(t *testing.T) {
	a := newCoreAPI(t)
	a.handle(http.MethodPost, "/reports", http.StatusAccepted, v3Example(t, "reporting.json", "POST /reports 202", "example"))
	c := newCoreClient(t, a)
	syd, err := time.LoadLocation("Australia/Sydney")
	require.NoError(t, err)
	job, err := c.Reports.Create(context.Background(), ReportParams{
		Type: ReportAffordability, Title: "John Smith Affordability Report 2022-03-26",
		Filters: ReportFilters{
			Users: []string{"272af9fa"}, Accounts: []string{"ag829sj", "aj82gka"},
			// 23:30 in Sydney is the previous day in UTC: the date sent is the time's own.
			From:           time.Date(2022, 1, 1, 23, 30, 0, 0, syd),
			To:             time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC),
			IncludeMetrics: []string{"ME002", "ME003"},
			IncludeGroups:  []string{}, // none: null
		},
	})
	require.NoError(t, err)
	assert.Equal(t, "b1824ad0-73f1-0138-3700-0a58a9feac09", job.ID)
	assert.Equal(t, job.ID, job.ReportID(), "a stub names no report: the job's id")
	reqs := a.apiRequests()
	require.Len(t, reqs, 1)
	assert.JSONEq(t, `{"reportType":"CON_AFFOR_01","title":"John Smith Affordability Report 2022-03-26","filters":[
		{"name":"fromDate","value":"2022-01-01"},{"name":"toDate","value":"2023-01-01"},
		{"name":"accounts","value":["ag829sj","aj82gka"]},{"name":"users","value":["272af9fa"]},
		{"name":"includeMetrics","value":["ME002","ME003"]},{"name":"includeGroups","value":null}]}`, string(reqs[0].Body))
}

func TestReportsCreateOmitsUnsetCodesAndRefusesBadInput(t *testing.T) {
	a := newCoreAPI(t)
	a.handle(http.MethodPost, "/reports", http.StatusAccepted, `{"type":"job","id":"j1"}`)
	c := newCoreClient(t, a)
	ctx := context.Background()
	_, err := c.Reports.Create(ctx, ReportParams{Type: ReportStatement, Title: "Statement",
		Filters: ReportFilters{From: covFrom, To: covTo, Other: []ReportFilter{{"account", "a1"}, {"user", "u1"}}}})
	require.NoError(t, err)
	require.Len(t, a.apiRequests(), 1)
	assert.JSONEq(t, `{"reportType":"STATEMENT_01","title":"Statement","filters":[{"name":"fromDate","value":"2024-01-01"},
		{"name":"toDate","value":"2024-06-30"},{"name":"account","value":"a1"},{"name":"user","value":"u1"}]}`, string(a.apiRequests()[0].Body))

	fifty := strings.Repeat("é", 50) // 50 runes, 100 bytes: allowed
	_, err = c.Reports.Create(ctx, ReportParams{Type: ReportAffordability, Title: fifty})
	require.NoError(t, err)
	for name, p := range map[string]ReportParams{
		"51 runes":      {Type: ReportAffordability, Title: fifty + "x"},
		"no title":      {Type: ReportAffordability, Title: "  "},
		"no type":       {Title: "t"},
		"from after to": {Type: ReportAffordability, Title: "t", Filters: ReportFilters{From: covTo, To: covFrom}},
		"bad user id":   {Type: ReportAffordability, Title: "t", Filters: ReportFilters{Users: []string{".."}}},
		"unnamed other": {Type: ReportAffordability, Title: "t", Filters: ReportFilters{Other: []ReportFilter{{Value: "x"}}}},
	} {
		job, err := c.Reports.Create(ctx, p)
		assert.Nil(t, job, name)
		assert.ErrorIs(t, err, ErrInvalidInput, name)
	}
	assert.Len(t, a.apiRequests(), 2, "invalid input sends nothing")
}

func TestReportsGetDecodesTheExample(t *testing.T) {
	a := newCoreAPI(t)
	a.handle(http.MethodGet, "/reports/r1", http.StatusOK, v3Example(t, "reporting.json", "GET /reports/{id} 200", "example"))
	c := newCoreClient(t, a)
	r, err := c.Reports.Get(context.Background(), "r1")
	require.NoError(t, err)
	assert.Equal(t, "CON_AFFOR_01", r.ReportType)
	assert.Equal(t, "David Smith", r.CreatedBy)
	assert.Equal(t, time.Date(2022, 3, 26, 6, 56, 44, 0, time.UTC), r.Created)
	require.Len(t, r.Filters, 4)
	assert.Equal(t, ReportFilter{"fromDate", "2022-01-01"}, r.Filters[0])
	assert.Equal(t, ReportFilter{"accounts", []string{"ag829sj", "aj82gka"}}, r.Filters[2])
	m, ok := r.Metric("ME002")
	require.True(t, ok)
	assert.Equal(t, ReportMetric{ID: "ME002", Title: "Average monthly amount from salary",
		Description: "Mean monthly amount from salary income sources over the reporting period",
		Sections:    []string{"Income Sources"}, Value: "7228.00", Format: "money"}, m)
	_, ok = r.Metric("ME999")
	assert.False(t, ok)
	assert.Contains(t, r.TransactionsURL, "/reports/51cef931-81f2-4639-af74-b0ced85083c8/transactions")
	var data map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(r.Data, &data))
	assert.Contains(t, data, "groups")
	assert.Contains(t, data, "accounts")
}

func TestReportsPDFAsksForPDF(t *testing.T) {
	a := newCoreAPI(t)
	pdf := "%PDF-1.7\n\x00\x01binary"
	a.handleFunc(http.MethodGet, "/reports/r1", func(req *http.Request) (*http.Response, error) {
		if req.Header.Get("Accept") != "application/pdf" {
			return coreJSON(http.StatusOK, `{"type":"report","id":"r1"}`), nil
		}
		resp := coreJSON(http.StatusOK, pdf)
		resp.Header.Set("Content-Type", "application/pdf")
		return resp, nil
	})
	c := newCoreClient(t, a)
	got, err := c.Reports.PDF(context.Background(), "r1")
	require.NoError(t, err)
	assert.Equal(t, pdf, string(got))
	assert.Equal(t, []string{"application/pdf"}, a.apiRequests()[0].Header.Values("Accept"))

	// Bounded by the client's response limit.
	small := newCoreClient(t, a, withBodyLimit(8))
	_, err = small.Reports.PDF(context.Background(), "r1")
	assert.ErrorIs(t, err, ErrResponseTooLarge)
}

func TestReportsListTypesAndTransactions(t *testing.T) {
	a := newCoreAPI(t)
	first := v3Example(t, "reporting.json", "GET /reports 200", "example")
	a.handleFunc(http.MethodGet, "/reports", func(req *http.Request) (*http.Response, error) {
		if req.URL.Query().Get("next") == "bf1ec9d4" { // the example's links.next
			return coreJSON(http.StatusOK, `{"type":"list","count":0,"size":2,"data":[]}`), nil
		}
		return coreJSON(http.StatusOK, first), nil
	})
	a.handle(http.MethodGet, "/reports/types", http.StatusOK, v3Example(t, "reporting.json", "GET /reports/types 200", "example"))
	a.handle(http.MethodGet, "/reports/types/STATEMENT_01", http.StatusOK, v3Example(t, "reporting.json", "GET /reports/types 200", "example"))
	a.handle(http.MethodGet, "/reports/r1/transactions", http.StatusOK, pageJSON("", "t1", "t2"))
	c := newCoreClient(t, a)
	ctx := context.Background()

	var ids []string
	var totals ListTotals
	for r, err := range c.Reports.List(WithListTotals(ctx, &totals)) {
		require.NoError(t, err)
		ids = append(ids, r.ID)
		if len(ids) == 1 {
			assert.Equal(t, ListTotals{Count: 2, TotalCount: -1, Size: 2, Pages: 1}, totals, "the first page's, as it is read")
		}
	}
	assert.Equal(t, []string{"b1824ad0-73f1-0138-3700-0a58a9feac09", "a2a17e84-460c-43f4-9c94-1398a5b4c148"}, ids)
	assert.Equal(t, ListTotals{Count: 0, TotalCount: -1, Size: 2, Pages: 2}, totals, "the last page's")

	types, err := c.Reports.Types(ctx)
	require.NoError(t, err)
	require.Len(t, types, 2)
	assert.Equal(t, ReportAffordability, types[0].ID)
	assert.Equal(t, ReportTypeFilter{Name: "fromDate", Type: "string", Required: true}, types[0].Filters[0])
	assert.Equal(t, ReportTypeFilter{Name: "includeMetrics", Type: "array", Required: false}, types[0].Filters[5])
	one, err := c.Reports.Type(ctx, ReportStatement)
	require.NoError(t, err)
	assert.Equal(t, "Bank Statement", one.Name, "a list answer gives the type asked for")

	txs, errs := collectTx(c.Reports.Transactions(ctx, "r1", &TransactionFilter{Direction: DirectionCredit,
		Where: []Condition{{"transaction.id", FilterNe, []string{"t3"}}}}), 0)
	require.Empty(t, errs)
	assert.Len(t, txs, 2)
	last := a.apiRequests()[len(a.apiRequests())-1]
	assert.Equal(t, "/reports/r1/transactions", last.Path)
	assert.Equal(t, filterQuery0("transaction.direction.eq('credit'),transaction.id.ne('t3')"), last.RawQuery,
		"no limit: a report's transactions take none")

	_, errs = collectTx(c.Reports.Transactions(ctx, "r1", &TransactionFilter{PageSize: 10}), 0)
	require.Len(t, errs, 1)
	assert.ErrorIs(t, errs[0], ErrInvalidInput)
	_, errs = collectTx(c.Transactions.All(ctx, "u1", &TransactionFilter{Where: []Condition{{"transaction.id", FilterEq, []string{"t1"}}}}), 0)
	require.Len(t, errs, 1)
	assert.ErrorIs(t, errs[0], ErrInvalidInput, "transaction.id is documented for a report's transactions only")
}

func TestJobReportID(t *testing.T) {
	var done Job
	require.NoError(t, json.Unmarshal([]byte(v3ExampleCore(t, "Report-success")), &done))
	assert.Equal(t, "b1824ad0-73f1-0138-3700-0a58a9feac09", done.ReportID())
	for name, tc := range map[string]struct {
		job  Job
		want string
	}{
		"links.source":  {Job{ID: "j1", Links: JobLinks{Source: "https://au-api.basiq.io/reports/r%2F9"}}, "j1"},
		"source":        {Job{ID: "j1", Links: JobLinks{Source: "/reports/r9"}}, "r9"},
		"step result":   {Job{ID: "j1", Steps: []Step{{Title: StepCreateReport, Status: StepSuccess, Result: &StepResult{Type: "link", URL: "/reports/r7"}}}}, "r7"},
		"connection":    {Job{ID: "j1", Links: JobLinks{Source: "/users/u/connections/c"}}, "j1"},
		"types is none": {Job{ID: "j1", Links: JobLinks{Source: "/reports/types"}}, "j1"},
	} {
		assert.Equal(t, tc.want, tc.job.ReportID(), name)
	}
	assert.Empty(t, (*Job)(nil).ReportID())
}

// v3ExampleCore is one of core.json's GET /jobs/{jobId} examples.
func v3ExampleCore(t *testing.T, name string) string {
	return v3Example(t, "core.json", "GET /jobs/{jobId} 200", name)
}

func TestDiagnoseReportAndStatementJobs(t *testing.T) {
	for _, tc := range []struct {
		example    string
		attempt    int
		action     Action
		step       StepName
		code       string
		userPhrase string
	}{
		{"Report-failed", 1, ActionRetry, StepCreateReport, "", "report"},
		{"Report-failed", 3, ActionContactSupport, StepCreateReport, "", "report"},
		{"Report-in-progress", 1, ActionNone, StepCreateReport, "", "preparing your report"},
		{"Report-success", 1, ActionNone, "", "", "report is ready"},
		{"statement-failed", 1, ActionCheckStatement, StepVerifyCredentials, "bank-statement-not-supported", "statement"},
	} {
		var job Job
		require.NoError(t, json.Unmarshal([]byte(v3ExampleCore(t, tc.example)), &job))
		d := Diagnose(&job, DiagnoseOptions{Attempt: tc.attempt})
		assert.Equal(t, tc.action, d.Action, tc.example)
		assert.Equal(t, tc.step, d.Step, tc.example)
		assert.Equal(t, tc.code, d.Code, tc.example)
		assert.Contains(t, d.UserMessage, tc.userPhrase, tc.example)
		assert.Nil(t, d.Consent, "%s: nothing to fix in the Consent UI", tc.example)
	}
	// A report whose filters named what could not be used: the application
	// fixes them; the institution's status plays no part.
	job := &Job{ID: "j1", JobType: "report", Steps: []Step{{Title: StepCreateReport, Status: StepFailed,
		Result: &StepResult{Code: "invalid-field-value", Detail: "Account a9 is not an account of the report's users"}}}}
	d := Diagnose(job, DiagnoseOptions{InstitutionStatus: StatusMajorOutage})
	assert.Equal(t, ActionCheckReportFilters, d.Action)
	assert.Equal(t, "Account a9 is not an account of the report's users", d.Detail)
	assert.False(t, ActionCheckReportFilters.UserMustAct(), "the application acts")
	assert.False(t, statusMatters(job, DiagnoseOptions{}))
	// Any other reason goes to support.
	job.Steps[0].Result = &StepResult{Code: "report-engine-error", Detail: "Internal"}
	assert.Equal(t, ActionContactSupport, Diagnose(job, DiagnoseOptions{}).Action)
	assert.True(t, ActionCheckStatement.UserMustAct())
	for _, code := range []string{"bank-statement-invalid", "bank-statement-parsing-error", "empty-file", "invalid-field-value", "row-count-exceeded"} {
		job := &Job{ID: "j2", Steps: []Step{{Title: StepVerifyCredentials, Status: StepFailed, Result: &StepResult{Code: code}}}}
		assert.Equal(t, ActionCheckStatement, Diagnose(job, DiagnoseOptions{}).Action, code)
	}
}

func TestEventTypesFromTheAPI(t *testing.T) {
	a := newCoreAPI(t)
	a.handle(http.MethodGet, "/events/types", http.StatusOK, v3Example(t, "core.json", "GET /events/types 200", "Success"))
	a.handle(http.MethodGet, "/events/types/account.updated", http.StatusOK, v3Example(t, "core.json", "GET /events/types/{id} 200", "Success"))
	c := newCoreClient(t, a)
	ctx := context.Background()
	types, err := c.Events.Types(ctx)
	require.NoError(t, err)
	var ids []EventType
	for _, ty := range types {
		ids = append(ids, ty.ID)
	}
	assert.ElementsMatch(t, WebhookEventTypes(), ids, "the documented list is the API's")
	one, err := c.Events.Type(ctx, EventAccountUpdated)
	require.NoError(t, err)
	assert.Equal(t, EventTypeInfo{ID: EventAccountUpdated, Description: "when an account is updated",
		Self: "https://au-api.basiq.io/events/types/account.updated"}, *one)

	v21 := newCoreClient(t, a, WithAPIVersion(V2_1))
	_, err = v21.Events.Types(ctx)
	assert.ErrorIs(t, err, ErrUnsupportedVersion)
	_, err = v21.Events.Type(ctx, EventAccountUpdated)
	assert.ErrorIs(t, err, ErrUnsupportedVersion)
}

func TestIdentitiesAndEnrich(t *testing.T) {
	a := newCoreAPI(t)
	a.handle(http.MethodGet, "/users/u1/identities", http.StatusOK, v3Example(t, "identity.json", "GET /users/{userId}/identities 200", "person"))
	a.handle(http.MethodGet, "/users/u1/identities/i1", http.StatusOK, `{"type":"identity","id":"i1","fullName":"John Doe","organisation":{"businessName":"ABC","isACNCRegistered":true}}`)
	a.handle(http.MethodGet, "/enrich", http.StatusOK, v3Example(t, "enrich.json", "GET /enrich 200", "example"))
	c := newCoreClient(t, a)
	ctx := context.Background()
	ids, err := c.Identities.List(ctx, "u1")
	require.NoError(t, err)
	require.Len(t, ids, 1)
	assert.Equal(t, "John Doe", ids[0].FullName)
	assert.Equal(t, "1985-05-25", ids[0].DOB)
	require.Len(t, ids[0].PhysicalAddresses, 1)
	assert.Equal(t, "2099", ids[0].PhysicalAddresses[0].Postcode)
	one, err := c.Identities.Get(ctx, "u1", "i1")
	require.NoError(t, err)
	assert.True(t, one.Organisation.IsACNCRegistered)

	e, err := c.Enrich.Get(ctx, EnrichParams{Query: "WOOLWORTHS 1197", Institution: "AU00000", Country: "AU", Amount: "-12.95"})
	require.NoError(t, err)
	assert.Equal(t, DirectionDebit, e.Direction)
	assert.Equal(t, ClassPayment, e.Class)
	require.NotNil(t, e.Data.Merchant)
	assert.Equal(t, "Woolworths", e.Data.Merchant.BusinessName)
	assert.Equal(t, "4110", e.Data.Category.ANZSIC.Class.Code)
	assert.Equal(t, []string{"conduct:dishonour"}, e.Data.Tags)
	assert.Contains(t, e.Links.LogoThumb, "woolworths-thumb.svg")
	q, err := url.ParseQuery(a.apiRequests()[2].RawQuery)
	require.NoError(t, err)
	assert.Equal(t, url.Values{"q": {"WOOLWORTHS 1197"}, "institution": {"AU00000"}, "country": {"AU"}, "amount": {"-12.95"}}, q)

	for _, p := range []EnrichParams{{Institution: "AU00000", Country: "AU"}, {Query: "x", Country: "AU"}, {Query: "x", Institution: "AU00000"}} {
		_, err := c.Enrich.Get(ctx, p)
		assert.ErrorIs(t, err, ErrInvalidInput)
	}
	assert.Len(t, a.apiRequests(), 3)
}

func TestAuthLinksKeepTheURLOutOfLogs(t *testing.T) {
	const public = "https://connect.basiq.io/63448be4"
	link := fmt.Sprintf(`{"type":"auth_link","id":"63448be4","userId":"ec4ea48d","mobile":61410000000,"expiresAt":"2019-11-21T04:08:50Z",
		"links":{"public":%q,"self":"/users/ec4ea48d/auth_link"}}`, public)
	a := newCoreAPI(t)
	a.handle(http.MethodPost, "/users/ec4ea48d/auth_link", http.StatusCreated, link)
	a.handle(http.MethodGet, "/users/ec4ea48d/auth_link", http.StatusOK, link)
	a.handle(http.MethodDelete, "/users/ec4ea48d/auth_link", http.StatusNoContent, "")
	var logs bytes.Buffer
	c := newCoreClient(t, a, WithLogger(slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	ctx := context.Background()
	l, err := c.AuthLinks.Create(ctx, "ec4ea48d", nil)
	require.NoError(t, err)
	assert.Equal(t, public, l.URL)
	assert.Equal(t, "61410000000", l.Mobile, "a number is read as text")
	assert.Equal(t, time.Date(2019, 11, 21, 4, 8, 50, 0, time.UTC), l.Expires)
	assert.JSONEq(t, `{}`, string(a.apiRequests()[0].Body))
	_, err = c.AuthLinks.Create(ctx, "ec4ea48d", &AuthLinkParams{Mobile: "+61410000000"})
	require.NoError(t, err)
	assert.JSONEq(t, `{"mobile":"+61410000000"}`, string(a.apiRequests()[1].Body))
	got, err := c.AuthLinks.Get(ctx, "ec4ea48d")
	require.NoError(t, err)
	require.NoError(t, c.AuthLinks.Delete(ctx, "ec4ea48d"))

	slog.New(slog.NewJSONHandler(&logs, nil)).Info("link", "link", *got, "ptr", got)
	js, err := json.Marshal(struct{ L AuthLink }{*got})
	require.NoError(t, err)
	for _, out := range []string{logs.String(), fmt.Sprintf("%v %+v %#v %s", *got, *got, *got, got), string(js)} {
		assert.NotContains(t, out, "63448be4", out)
	}
	assert.Contains(t, logs.String(), "ec4ea48d", "the user id is logged")
}

func TestStatementsUploadStreamsAMultipartForm(t *testing.T) {
	a := newCoreAPI(t)
	var form *multipart.Form
	var partType string
	var lengths []int64
	a.handleFunc(http.MethodPost, "/users/u1/statements", func(req *http.Request) (*http.Response, error) {
		lengths = append(lengths, req.ContentLength)
		ct, params, err := mime.ParseMediaType(req.Header.Get("Content-Type"))
		if err != nil || ct != "multipart/form-data" {
			return coreJSON(http.StatusBadRequest, coreEnvelope("invalid-content", "not a form", ct)), nil
		}
		mr := multipart.NewReader(req.Body, params["boundary"])
		form, err = mr.ReadForm(1 << 20)
		if err != nil {
			return nil, err
		}
		if fh := form.File["statement"]; len(fh) == 1 {
			partType = fh[0].Header.Get("Content-Type")
		}
		return coreJSON(http.StatusAccepted, `{"type":"job","id":"stmt-job","links":{"self":"https://au-api.basiq.io/jobs/stmt-job"}}`), nil
	})
	c := newCoreClient(t, a)
	file := strings.Repeat("%PDF-1.4 page\n", 10000)
	job, err := c.Statements.Upload(context.Background(), "u1", "AU01001", `march "2024".pdf`, onlyReader{strings.NewReader(file)})
	require.NoError(t, err)
	assert.Equal(t, "stmt-job", job.ID)
	require.NotNil(t, form)
	assert.Equal(t, []string{"AU01001"}, form.Value["institutionId"])
	require.Len(t, form.File["statement"], 1)
	assert.Equal(t, `march "2024".pdf`, form.File["statement"][0].Filename)
	assert.Equal(t, "application/pdf", partType)
	f, err := form.File["statement"][0].Open()
	require.NoError(t, err)
	got, _ := io.ReadAll(f)
	assert.Equal(t, file, string(got))
	r := a.apiRequests()[0]
	assert.Equal(t, []string{"application/json"}, r.Header.Values("Accept"))
	assert.Zero(t, lengths[0], "a reader of unknown length: no Content-Length (net/http sends it chunked)")

	// A reader that tells its length: the request says it too.
	_, err = c.Statements.Upload(context.Background(), "u1", "AU01001", "s.csv", strings.NewReader("date,amount\n"))
	require.NoError(t, err)
	require.Len(t, lengths, 2)
	assert.Equal(t, int64(len(a.apiRequests()[1].Body)), lengths[1])
	assert.Equal(t, "text/csv", partType)

	for _, bad := range []struct{ user, inst, name string }{{"", "AU01001", "a.pdf"}, {"u1", "", "a.pdf"}, {"u1", "AU01001", ""}, {"u1", "AU01001", "a\nb.pdf"}} {
		_, err := c.Statements.Upload(context.Background(), bad.user, bad.inst, bad.name, strings.NewReader("x"))
		assert.ErrorIs(t, err, ErrInvalidInput)
	}
	_, err = c.Statements.Upload(context.Background(), "u1", "AU01001", "a.pdf", nil)
	assert.ErrorIs(t, err, ErrInvalidInput)
	assert.Len(t, a.apiRequests(), 2)
}

// onlyReader hides every method of a reader but Read (no WriterTo, no Len).
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

func TestStatementsUploadIsNeverRetried(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		body   string
		acted  bool
		is     error
	}{
		{"5xx: the server may have acted", http.StatusServiceUnavailable, coreEnvelope("service-unavailable", "down", "down"), true, ErrUnavailable},
		{"429: refused before acting", http.StatusTooManyRequests, coreEnvelope("too-many-requests", "slow down", "slow down"), false, ErrRateLimited},
		{"400: refused", http.StatusBadRequest, coreEnvelope("parameter-not-valid", "bad", "institutionId"), false, ErrInvalidInput},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := newCoreAPI(t)
			a.handle(http.MethodPost, "/users/u1/statements", tc.status, tc.body)
			c := newCoreClient(t, a)
			job, err := c.Statements.Upload(context.Background(), "u1", "AU01001", "s.csv", strings.NewReader("date,amount\n"))
			assert.Nil(t, job)
			var up *UploadError
			require.ErrorAs(t, err, &up)
			assert.Equal(t, tc.acted, up.MayHaveActed)
			assert.ErrorIs(t, err, tc.is)
			assert.Len(t, a.apiRequests(), 1, "sent once, never retried")
		})
	}
}

func TestStatementsUploadReaderFailure(t *testing.T) {
	var uploads atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/token" {
			fmt.Fprint(w, `{"access_token":"tok","expires_in":3600,"token_type":"Bearer"}`)
			return
		}
		uploads.Add(1)
		if _, err := io.Copy(io.Discard, r.Body); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusAccepted)
		fmt.Fprint(w, `{"type":"job","id":"never"}`)
	}))
	defer srv.Close()
	c, err := NewClient(coreAPIKey, WithBaseURL(srv.URL), WithRetryPolicy(fastRetries))
	require.NoError(t, err)
	broken := errors.New("disk on fire")
	job, err := c.Statements.Upload(context.Background(), "u1", "AU01001", "s.pdf", io.MultiReader(strings.NewReader("%PDF"), errReader{broken}))
	assert.Nil(t, job)
	var up *UploadError
	require.ErrorAs(t, err, &up)
	assert.False(t, up.MayHaveActed, "a form cut short is nothing to act on")
	assert.ErrorIs(t, err, broken)
	assert.LessOrEqual(t, uploads.Load(), int32(1))
}

func TestDoSendsRawAndStreamedBodies(t *testing.T) {
	a := newCoreAPI(t)
	calls := 0
	a.handleFunc(http.MethodPost, "/users/u1/statements", func(req *http.Request) (*http.Response, error) {
		calls++
		if calls == 1 {
			return coreJSON(http.StatusServiceUnavailable, coreEnvelope("service-unavailable", "x", "x")), nil
		}
		return coreJSON(http.StatusAccepted, `{"type":"job","id":"j"}`), nil
	})
	a.handleFunc(http.MethodGet, "/reports/r1", func(req *http.Request) (*http.Response, error) {
		return coreJSON(http.StatusOK, "%PDF raw"), nil
	})
	c := newCoreClient(t, a)
	ctx := context.Background()

	// []byte: sent as is with its content type; a POST is not retried after a 5xx.
	err := c.Do(ctx, &Request{Method: http.MethodPost, Path: "/users/u1/statements", Body: []byte("raw,bytes"), ContentType: "text/csv"}, nil)
	assert.ErrorIs(t, err, ErrUnavailable)
	// io.Reader: streamed, never retried.
	var job Job
	err = c.Do(ctx, &Request{Method: http.MethodPost, Path: "/users/u1/statements", Body: strings.NewReader("streamed"), ContentType: "application/pdf"}, &job)
	require.NoError(t, err)
	assert.Equal(t, "j", job.ID)
	reqs := a.apiRequests()
	require.Len(t, reqs, 2)
	assert.Equal(t, "raw,bytes", string(reqs[0].Body))
	assert.Equal(t, []string{"text/csv"}, reqs[0].Header.Values("Content-Type"))
	assert.Equal(t, "streamed", string(reqs[1].Body))
	assert.Equal(t, []string{"application/pdf"}, reqs[1].Header.Values("Content-Type"))

	var raw []byte
	require.NoError(t, c.Do(ctx, &Request{Path: "/reports/r1", Accept: "application/pdf"}, &raw))
	assert.Equal(t, "%PDF raw", string(raw))
	assert.Equal(t, []string{"application/pdf"}, a.apiRequests()[2].Header.Values("Accept"))

	for _, r := range []*Request{
		{Method: http.MethodPost, Path: "/x", Body: []byte("a")},
		{Method: http.MethodPost, Path: "/x", Body: strings.NewReader("a")},
		{Path: "/x", Accept: "a\r\nX-Evil: 1"},
		{Method: http.MethodPost, Path: "/x", Body: []byte("a"), ContentType: "text/plain\nX: y"},
	} {
		assert.ErrorIs(t, c.Do(ctx, r, nil), ErrInvalidInput)
	}
	assert.Len(t, a.apiRequests(), 3)
}

func TestStreamedBodyIsNotReplayedAfterARejectedToken(t *testing.T) {
	a := newCoreAPI(t)
	a.handle(http.MethodPost, "/users/u1/statements", http.StatusUnauthorized, coreEnvelope("unauthorized-access", "bad token", "x"))
	c := newCoreClient(t, a)
	_, err := c.Statements.Upload(context.Background(), "u1", "AU01001", "s.pdf", strings.NewReader("%PDF"))
	require.Error(t, err)
	assert.Len(t, a.apiRequests(), 1, "the file is not sent twice")
	_, err = c.Token(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 2, a.nTokens(), "the rejected token was dropped for the next call")
}

func TestListTotals(t *testing.T) {
	a := newCoreAPI(t)
	a.handle(http.MethodGet, "/institutions", http.StatusOK, institutionsJSON)
	a.handle(http.MethodGet, "/users/u1/identities", http.StatusOK, v3Example(t, "identity.json", "GET /users/{userId}/identities 200", "person"))
	a.handle(http.MethodGet, "/users/u1", http.StatusOK, `{"type":"user","id":"u1"}`)
	c := newCoreClient(t, a, WithAPIVersion(V2_1))
	var totals ListTotals
	ctx := WithListTotals(context.Background(), &totals)
	_, err := c.Institutions.List(ctx, nil)
	require.NoError(t, err)
	assert.Equal(t, ListTotals{Count: -1, TotalCount: 3, Size: -1, Pages: 1}, totals)
	_, err = c.Identities.List(ctx, "u1")
	require.NoError(t, err)
	assert.Equal(t, ListTotals{Count: 1, TotalCount: -1, Size: -1, Pages: 2}, totals)
	_, err = c.Users.Get(ctx, "u1")
	require.NoError(t, err)
	assert.Equal(t, 2, totals.Pages, "not a list: nothing recorded")
	assert.Equal(t, context.Background(), WithListTotals(context.Background(), nil))
}

func TestFilterWhereEveryDocumentedOperator(t *testing.T) {
	a := newCoreAPI(t)
	a.handle(http.MethodGet, "/connectors", http.StatusOK, `{"type":"list","data":[]}`)
	a.handle(http.MethodGet, "/users/u1/connections", http.StatusOK, `{"type":"list","data":[]}`)
	a.handle(http.MethodGet, "/users/u1/accounts", http.StatusOK, `{"type":"list","data":[]}`)
	c := newCoreClient(t, a)
	ctx := context.Background()
	_, err := c.Connectors.List(ctx, &ConnectorFilter{AuthorizationType: []string{"user", "user-mfa"}, InstitutionType: "Bank",
		ConnectorID: "AU00000", Scopes: []string{"s1"}, Engine: "node",
		Where: []Condition{{"connector.stage", FilterNe, []string{"alpha"}}, {"connector.institution.type", FilterNe, []string{"Test Bank"}}}})
	require.NoError(t, err)
	_, err = c.Connections.List(ctx, "u1", &ConnectionFilter{ID: "c1", Where: []Condition{{"institution.id", FilterNe, []string{"AU00000"}}}})
	require.NoError(t, err)
	_, err = c.Accounts.List(ctx, "u1", &AccountFilter{Where: []Condition{{"account.id", FilterNe, []string{"a1"}}}})
	require.NoError(t, err)
	reqs := a.apiRequests()
	require.Len(t, reqs, 3)
	assert.Equal(t, filterQuery0("connector.authorization.type.in('user','user-mfa'),connector.scopes.eq('s1'),"+
		"connector.id.eq('AU00000'),connector.institution.type.eq('Bank'),connector.connectorEngine.eq('node'),"+
		"connector.stage.ne('alpha'),connector.institution.type.ne('Test Bank')"), reqs[0].RawQuery)
	assert.Equal(t, filterQuery0("id.eq('c1'),institution.id.ne('AU00000')"), reqs[1].RawQuery)
	assert.Equal(t, filterQuery0("account.id.ne('a1')"), reqs[2].RawQuery)

	for name, f := range map[string]*ConnectorFilter{
		"undocumented property": {Where: []Condition{{"connector.name", FilterEq, []string{"x"}}}},
		"undocumented operator": {Where: []Condition{{"connector.id", FilterNe, []string{"AU00000"}}}},
		"bt takes two":          {Where: []Condition{{"connector.stage", FilterIn, nil}}},
		"quote in a value":      {Where: []Condition{{"connector.stage", FilterEq, []string{"a'b"}}}},
	} {
		_, err := c.Connectors.List(ctx, f)
		assert.ErrorIs(t, err, ErrInvalidInput, name)
	}
	_, err = c.Accounts.List(ctx, "u1", &AccountFilter{Where: []Condition{{"account.id", FilterIn, []string{"a", "b"}}}})
	assert.ErrorIs(t, err, ErrInvalidInput, "accounts take eq and ne only")
	assert.Len(t, a.apiRequests(), 3)
}

func TestInstitutionFallsBackToItsConnectorOnV3(t *testing.T) {
	a := newCoreAPI(t)
	a.handle(http.MethodGet, "/institutions/AU00000", http.StatusNotFound,
		coreEnvelope("resource-not-found", "Requested resource is not found", "Route not found for this API version"))
	a.handle(http.MethodGet, "/institutions/AU00001", http.StatusNotFound,
		coreEnvelope("resource-not-found", "Requested resource is not found", "Route not found for this API version"))
	a.handle(http.MethodGet, "/connectors/AU00000/open-banking", http.StatusNotFound, coreEnvelope("resource-not-found", "Not found", "No connector"))
	major := strings.Replace(connectorJSON, `"status":"operational"`, `"status":"major-outage"`, 1)
	a.handle(http.MethodGet, "/connectors/AU00000/web", http.StatusOK, major)
	a.handle(http.MethodGet, "/connectors/AU00001/open-banking", http.StatusOK, strings.ReplaceAll(connectorJSON, "AU00000", "AU00001"))
	c := newCoreClient(t, a)
	ctx := context.Background()
	av, err := c.Institutions.Availability(ctx, "AU00000")
	require.NoError(t, err)
	assert.Equal(t, StatusMajorOutage, av.Advice.Status)
	assert.False(t, av.Advice.Usable)
	assert.Equal(t, "Hooli Bank", av.Institution.Name)
	assert.Contains(t, av.UserMessage, "Hooli")
	assert.Equal(t, 8154*time.Millisecond, av.Institution.AverageDuration.VerifyCredentials, "the poller's timings come with it")

	// The route is known to be gone: the next institution goes to its connector directly.
	av, err = c.Institutions.Availability(ctx, "AU00001")
	require.NoError(t, err)
	assert.True(t, av.Advice.Usable)
	var paths []string
	for _, r := range a.apiRequests() {
		paths = append(paths, r.Path)
	}
	assert.Equal(t, []string{"/institutions/AU00000", "/connectors/AU00000/open-banking", "/connectors/AU00000/web",
		"/connectors/AU00001/open-banking"}, paths)

	// The live Diagnosis reads the status the same way.
	job := &Job{ID: "j1", Steps: []Step{{Title: StepVerifyCredentials, Status: StepFailed, Result: &StepResult{Code: "service-unavailable"}}}}
	instID := "AU00000"
	d := c.diagnose(ctx, job, DiagnoseOptions{Operation: OpRefresh}, &instID)
	assert.Equal(t, ActionWaitForInstitution, d.Action)
	assert.Equal(t, StatusMajorOutage, d.InstitutionStatus)

	// On 2.1 there is no fallback: the institution's own answer stands.
	v21 := newCoreClient(t, a, WithAPIVersion(V2_1))
	_, err = v21.Institutions.Availability(ctx, "AU00000")
	assert.Error(t, err)
}

func TestSchemaCheckCatchesNonConformingBodies(t *testing.T) {
	ops := loadSpecOperations(t)
	var create specOperation
	for _, o := range ops {
		if o.file == "v3/reporting.json" && o.method == http.MethodPost && o.path == "/reports" {
			create = o
		}
	}
	require.NotNil(t, create.op)
	s := create.bodySchema("application/json")
	check := func(body string) []string {
		var v any
		require.NoError(t, json.Unmarshal([]byte(body), &v))
		return schemaErrors(create.doc, s, v, "body")
	}
	assert.Empty(t, check(`{"reportType":"CON_AFFOR_01","title":"t","filters":[{"name":"fromDate","value":"2024-01-01"},{"name":"includeGroups","value":null}]}`))
	assert.NotEmpty(t, check(`{"title":"t","filters":[]}`), "reportType is required")
	assert.NotEmpty(t, check(`{"reportType":"x","title":"t","filters":[],"extra":1}`), "an unknown member")
	assert.NotEmpty(t, check(`{"reportType":"x","title":"t","filters":[{"name":"fromDate","value":5}]}`), "a value of no alternative")
	assert.NotEmpty(t, check(`{"reportType":"x","title":7,"filters":[]}`), "a title that is not a string")
}

// reportJobs serves report jobs on the synctest clock: each in progress
// for 20 s from the fake's creation, then as Basiq's Report-success or
// Report-failed example has it. It records every path asked.
type reportJobs struct {
	start            time.Time
	success, failure string
	inProgress       string
	mu               sync.Mutex
	paths            []string
}

func (rj *reportJobs) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Path == "/token" {
		return jsonResponse(r, 200, map[string]any{"access_token": "t", "expires_in": 3600, "token_type": "Bearer"}, nil), nil
	}
	rj.mu.Lock()
	rj.paths = append(rj.paths, r.URL.Path)
	rj.mu.Unlock()
	body := rj.inProgress
	if time.Since(rj.start) >= 20*time.Second {
		body = rj.success
		if r.URL.Path == "/jobs/failing" {
			body = rj.failure
		}
	}
	if r.URL.Path != "/jobs/b1824ad0-73f1-0138-3700-0a58a9feac09" && r.URL.Path != "/jobs/failing" {
		body = coreEnvelope("resource-not-found", "Not found", "no such job")
		return &http.Response{StatusCode: 404, Header: http.Header{"Content-Type": {"application/json"}}, Body: io.NopCloser(strings.NewReader(body)), Request: r}, nil
	}
	return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}}, Body: io.NopCloser(strings.NewReader(body)), Request: r}, nil
}

func TestReportJobsGoThroughWaitAndWaitAll(t *testing.T) {
	success, failure, running := v3ExampleCore(t, "Report-success"), v3ExampleCore(t, "Report-failed"), v3ExampleCore(t, "Report-in-progress")
	synctest.Test(t, func(t *testing.T) {
		rj := &reportJobs{start: time.Now(), success: success, failure: failure, inProgress: running}
		c, err := NewClient(coreAPIKey, WithHTTPClient(&http.Client{Transport: rj}), WithRetryPolicy(RetryPolicy{MaxAttempts: 1}))
		require.NoError(t, err)
		c.jobs.jitter = func() float64 { return 0.5 }

		job, err := c.Jobs.Wait(t.Context(), "b1824ad0-73f1-0138-3700-0a58a9feac09", nil)
		require.NoError(t, err)
		assert.Equal(t, JobSucceeded, job.Status())
		assert.Equal(t, "b1824ad0-73f1-0138-3700-0a58a9feac09", job.ReportID())
		assert.GreaterOrEqual(t, time.Since(rj.start), 20*time.Second)

		out, err := c.Jobs.WaitAll(t.Context(), []string{"failing"}, nil)
		require.NoError(t, err)
		f, failed := out[0].Failed()
		require.True(t, failed)
		assert.Equal(t, StepCreateReport, f.Step.Title)
		assert.Equal(t, ActionRetry, f.Diagnosis.Action, "a report that failed without a reason is created again")
		assert.Contains(t, f.Diagnosis.UserMessage, "report")

		_, err = c.Jobs.Wait(t.Context(), "failing", nil)
		var jf *JobFailedError
		require.ErrorAs(t, err, &jf)
		assert.Equal(t, ActionRetry, jf.Diagnosis.Action)

		rj.mu.Lock()
		defer rj.mu.Unlock()
		for _, p := range rj.paths {
			assert.True(t, strings.HasPrefix(p, "/jobs/"), "a report job needs no institution nor connection: %s", p)
		}
	})
}

// FuzzAPI3Decoders decodes anything into the 3.0 types: no panic, and
// whatever an auth link holds, its printed and marshalled forms never show
// its URL.
func FuzzAPI3Decoders(f *testing.F) {
	for _, file := range []string{"reporting.json", "enrich.json", "identity.json", "core.json"} {
		for _, ex := range specExamples(f, file) {
			if ex.status < 300 {
				f.Add(ex.body)
			}
		}
	}
	f.Add([]byte(`{"type":"auth_link","id":"s3cr3t","links":{"public":"https://connect.basiq.io/s3cr3t"}}`))
	f.Add([]byte(`{"filters":[{"name":1,"value":{"a":[1]}},{"value":[1,"a"]},null],"data":{"metrics":[{"result":{"value":5}}],"transactions":7}}`))
	f.Add([]byte(`{"data":[{"id":"A"},{"id":"B"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var r Report
		if json.Unmarshal(data, &r) == nil {
			for _, m := range r.Metrics {
				got, ok := r.Metric(m.ID)
				if !ok || got.ID != m.ID {
					t.Fatalf("Metric(%q) does not find a metric the report has", m.ID)
				}
			}
		}
		var rt reportTypeAnswer
		_ = json.Unmarshal(data, &rt)
		var e Enrichment
		_ = json.Unmarshal(data, &e)
		var id Identity
		_ = json.Unmarshal(data, &id)
		var et EventTypeInfo
		_ = json.Unmarshal(data, &et)
		var j Job
		if json.Unmarshal(data, &j) == nil {
			_ = j.ReportID()
			_ = Diagnose(&j, DiagnoseOptions{})
		}
		var l AuthLink
		if json.Unmarshal(data, &l) == nil && len(l.URL) >= 8 {
			js, err := json.Marshal(l)
			if err != nil {
				t.Fatal(err)
			}
			for _, out := range []string{fmt.Sprintf("%v %+v %#v %s", l, l, l, &l), string(js)} {
				if strings.Contains(out, l.URL) {
					t.Fatalf("the auth link's URL is shown: %s", out)
				}
			}
		}
	})
}

func TestAPI3ZeroValuesAndNilContext(t *testing.T) {
	ctx := t.Context()
	var zero Client
	a := newCoreAPI(t)
	live := newCoreClient(t, a)
	var nilCtx context.Context
	calls := func(c *Client, ctx context.Context) map[string]func() error {
		return map[string]func() error{
			"Reports.Create": func() error {
				_, err := c.Reports.Create(ctx, ReportParams{Type: ReportAffordability, Title: "t"})
				return err
			},
			"Reports.Get":          func() error { return ignore(c.Reports.Get(ctx, "r")) },
			"Reports.PDF":          func() error { return ignore(c.Reports.PDF(ctx, "r")) },
			"Reports.Delete":       func() error { return c.Reports.Delete(ctx, "r") },
			"Reports.List":         func() error { return drain(c.Reports.List(ctx)) },
			"Reports.Transactions": func() error { return drain(c.Reports.Transactions(ctx, "r", nil)) },
			"Reports.Types":        func() error { return ignore(c.Reports.Types(ctx)) },
			"Reports.Type":         func() error { return ignore(c.Reports.Type(ctx, ReportAffordability)) },
			"Statements.Upload": func() error {
				return ignore(c.Statements.Upload(ctx, "u", "AU01001", "s.pdf", strings.NewReader("x")))
			},
			"AuthLinks.Create": func() error { return ignore(c.AuthLinks.Create(ctx, "u", nil)) },
			"AuthLinks.Get":    func() error { return ignore(c.AuthLinks.Get(ctx, "u")) },
			"AuthLinks.Delete": func() error { return c.AuthLinks.Delete(ctx, "u") },
			"Identities.List":  func() error { return ignore(c.Identities.List(ctx, "u")) },
			"Identities.Get":   func() error { return ignore(c.Identities.Get(ctx, "u", "i")) },
			"Enrich.Get": func() error {
				return ignore(c.Enrich.Get(ctx, EnrichParams{Query: "q", Institution: "AU00000", Country: "AU"}))
			},
			"Events.Types": func() error { return ignore(c.Events.Types(ctx)) },
			"Events.Type":  func() error { return ignore(c.Events.Type(ctx, EventAccountUpdated)) },
		}
	}
	for setup, cs := range map[string]map[string]func() error{
		"zero Client (nil services)": calls(&zero, ctx),
		"nil context":                calls(live, nilCtx),
	} {
		for name, call := range cs {
			var err error
			require.NotPanics(t, func() { err = call() }, "%s: %s", setup, name)
			assert.ErrorIs(t, err, ErrInvalidInput, "%s: %s", setup, name)
		}
	}
	for name, call := range map[string]func() error{
		"ReportsService":    func() error { return ignore((&ReportsService{}).Get(ctx, "r")) },
		"StatementsService": func() error { return ignore((&StatementsService{}).Upload(ctx, "u", "i", "n", strings.NewReader(""))) },
		"AuthLinksService":  func() error { return ignore((&AuthLinksService{}).Get(ctx, "u")) },
		"IdentitiesService": func() error { return ignore((&IdentitiesService{}).List(ctx, "u")) },
		"EnrichService": func() error {
			return ignore((&EnrichService{}).Get(ctx, EnrichParams{Query: "q", Institution: "i", Country: "AU"}))
		},
	} {
		var err error
		require.NotPanics(t, func() { err = call() }, name)
		assert.ErrorIs(t, err, ErrInvalidInput, "zero %s", name)
	}
	assert.Empty(t, a.all(), "nothing sent")
	var r *Report
	_, ok := r.Metric("ME001")
	assert.False(t, ok)
}

// specFileSchema returns the JSON schema of an operation's 2xx answer in
// one of the v3 files (for lists, of its items).
func specFileSchema(t *testing.T, file, method, path, status string, list bool) *schema {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "basiq-spec", "v3", file))
	require.NoError(t, err)
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	require.NoError(t, json.Unmarshal(b, &doc))
	var op struct {
		Responses map[string]struct {
			Content map[string]struct {
				Schema json.RawMessage `json:"schema"`
			} `json:"content"`
		} `json:"responses"`
	}
	require.NoError(t, json.Unmarshal(doc.Paths[path][method], &op))
	var s schema
	require.NoError(t, json.Unmarshal(op.Responses[status].Content["application/json"].Schema, &s))
	if list {
		require.NotNil(t, s.Properties["data"], "%s %s is a list", method, path)
		return s.Properties["data"].Items
	}
	return &s
}

// TestAPI3TypesDecodeSpecWithoutLoss builds, from each new operation's
// response schema, a document with every documented member (a value unique
// to its path, then the spec's examples) and checks that every value
// survives decoding into the SDK's type, as dataspec_test.go does for
// accounts and transactions.
func TestAPI3TypesDecodeSpecWithoutLoss(t *testing.T) {
	decodeInto := func(v any) func(b []byte) (any, error) {
		return func(b []byte) (any, error) {
			p := reflect.New(reflect.TypeOf(v))
			err := json.Unmarshal(b, p.Interface())
			return p.Elem().Interface(), err
		}
	}
	for _, tc := range []struct {
		name   string
		schema *schema
		decode func(b []byte) (any, error)
		// members whose loss is expected, with the reason
		allowed map[string]string
	}{
		{"identity", specFileSchema(t, "identity.json", "get", "/users/{userId}/identities/{identityId}", "200", false), decodeInto(Identity{}), nil},
		{"identity in list", specFileSchema(t, "identity.json", "get", "/users/{userId}/identities", "200", true), decodeInto(Identity{}), nil},
		{"enrich", specFileSchema(t, "enrich.json", "get", "/enrich", "200", false), decodeInto(Enrichment{}), nil},
		{"report", specFileSchema(t, "reporting.json", "get", "/reports/{id}", "200", false), decodeInto(Report{}), nil},
		{"report in list", specFileSchema(t, "reporting.json", "get", "/reports", "200", true), decodeInto(Report{}), nil},
		{"report type", specFileSchema(t, "reporting.json", "get", "/reports/types", "200", true), decodeInto(ReportType{}),
			map[string]string{".type": "the resource type (\"reportType\"): the Go type says it"}},
		{"report transaction", specFileSchema(t, "reporting.json", "get", "/reports/{reportId}/transactions", "200", true), decodeInto(Transaction{}), nil},
		{"auth link", specFileSchema(t, "core.json", "get", "/users/{userId}/auth_link", "200", false), decodeInto(AuthLink{}), nil},
		{"event type", specFileSchema(t, "core.json", "get", "/events/types/{id}", "200", false), decodeInto(EventTypeInfo{}),
			map[string]string{".type": "the resource type (\"eventType\"): the Go type says it"}},
	} {
		for _, examples := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/examples=%v", tc.name, examples), func(t *testing.T) {
				n := 0
				doc := instance(tc.schema, "", examples, &n)
				b, err := json.Marshal(doc)
				require.NoError(t, err)
				got, err := tc.decode(b)
				require.NoError(t, err)
				texts := map[string]bool{}
				decodedTexts(reflect.ValueOf(got), texts)
				want := map[string]string{}
				leaves(doc, "", want)
				require.NotEmpty(t, want)
				var lost []string
				for path, v := range want {
					if _, ok := tc.allowed[path]; ok || texts[v] {
						continue
					}
					if tm := parseTime(v); !tm.IsZero() && texts[tm.Format(time.RFC3339)] {
						continue // the instant, in another layout (".000Z")
					}
					lost = append(lost, path+"="+v)
				}
				slices.Sort(lost)
				assert.Empty(t, lost, "members of the spec whose values did not survive decoding")
			})
		}
	}
}

// lateReader is an HTTP transport that answers at once and reads the
// request body afterwards, from another goroutine, as net/http may.
type lateReader struct {
	proceed chan struct{}
	done    chan error
}

func (l *lateReader) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Path == "/token" {
		return coreJSON(http.StatusOK, `{"access_token":"t","expires_in":3600,"token_type":"Bearer"}`), nil
	}
	go func() {
		<-l.proceed
		_, err := r.Body.Read(make([]byte, 64))
		l.done <- err
	}()
	return coreJSON(http.StatusBadRequest, coreEnvelope("parameter-not-valid", "Bad", "institutionId")), nil
}

// countingReader counts the reads of the caller's file.
type countingReader struct{ reads atomic.Int32 }

func (c *countingReader) Read(p []byte) (int, error) {
	c.reads.Add(1)
	return copy(p, "data"), nil
}

func TestStatementsUploadDoesNotReadTheFileAfterReturning(t *testing.T) {
	tr := &lateReader{proceed: make(chan struct{}), done: make(chan error, 1)}
	c, err := NewClient(coreAPIKey, WithHTTPClient(&http.Client{Transport: tr}), WithBaseURL(coreBaseURL), WithRetryPolicy(fastRetries))
	require.NoError(t, err)
	file := &countingReader{}
	_, err = c.Statements.Upload(context.Background(), "u1", "AU01001", "s.pdf", file)
	var up *UploadError
	assert.False(t, errors.As(err, &up), "nothing was read: a plain error")
	assert.ErrorIs(t, err, ErrInvalidInput)
	close(tr.proceed) // the transport reads the body now, after Upload returned
	assert.ErrorIs(t, <-tr.done, errUploadEnded)
	assert.Zero(t, file.reads.Load(), "the caller's reader is theirs again")
}
