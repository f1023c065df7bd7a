package basiq

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

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
