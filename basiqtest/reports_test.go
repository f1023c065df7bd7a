package basiqtest_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banklink-go/basiq"
	"github.com/banklink-go/basiq/basiqtest"
)

// reportBody is a POST /reports body for CON_AFFOR_01 over February 2025
// (the data setup's bank "today" is 2025-03-01), with extra filters.
func reportBody(title string, users, accounts []string, extra ...map[string]any) map[string]any {
	filters := []map[string]any{
		{"name": "fromDate", "value": "2025-02-01"},
		{"name": "toDate", "value": "2025-03-01"},
		{"name": "users", "value": users},
		{"name": "accounts", "value": accounts},
	}
	return map[string]any{"reportType": "CON_AFFOR_01", "title": title, "filters": append(filters, extra...)}
}

// createReport posts body, runs the job to its end and returns the job.
func (d *dataSetup) createReport(t *testing.T, body any) jobDoc {
	t.Helper()
	r := d.a.send("POST", "/reports", d.tok, body)
	require.Equal(t, http.StatusAccepted, r.Status, "body: %s", r.Body)
	stub := r.JSON(t)
	require.Equal(t, "job", stub["type"])
	id := stub["id"].(string)
	require.Equal(t, d.srv.URL+"/jobs/"+id, stub["links"].(map[string]any)["self"])
	d.clock.Add(10 * time.Second)
	return d.a.job(d.tok, id)
}

// report reads a finished report.
func (d *dataSetup) report(t *testing.T, id string) map[string]any {
	t.Helper()
	r := d.a.send("GET", "/reports/"+id, d.tok, nil)
	require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
	return r.JSON(t)
}

func metricsOf(t *testing.T, rep map[string]any) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for _, m := range rep["data"].(map[string]any)["metrics"].([]any) {
		mm := m.(map[string]any)
		out[mm["id"].(string)] = mm["result"].(map[string]any)
	}
	return out
}

func TestReportJobRunsOnTheClockAndMakesTheReport(t *testing.T) {
	d := newDataSetup(t)
	r := d.a.send("POST", "/reports", d.tok, reportBody("Gavin Belson affordability", []string{d.userID}, []string{}))
	require.Equal(t, http.StatusAccepted, r.Status, "body: %s", r.Body)
	requireMatchesSchema(t, "reporting.json", specSchema(t, "reporting.json", "/reports", "post", "202", "application/json"), r.Body)
	id := r.JSON(t)["id"].(string)

	j := d.a.job(d.tok, id)
	assert.Equal(t, "report", j.JobType)
	assert.Equal(t, []string{"create-report=in-progress"}, j.statuses())
	assert.Equal(t, d.srv.URL+"/reports/"+id, j.Links.Source, "CORE3's report job examples link the report from the start")
	requireError(t, d.a.send("GET", "/reports/"+id, d.tok, nil), http.StatusNotFound, "resource-not-found")

	d.clock.Add(3*time.Second - time.Millisecond)
	assert.Equal(t, []string{"create-report=in-progress"}, d.a.job(d.tok, id).statuses(), "create-report takes 3 s")
	d.clock.Add(time.Millisecond)
	j = d.a.job(d.tok, id)
	require.Equal(t, []string{"create-report=success"}, j.statuses())
	assert.Equal(t, map[string]any{"type": "link", "url": "/reports/" + id}, j.step(t, "create-report").result(t))
	st, ok := d.srv.Job(id)
	require.True(t, ok)
	assert.True(t, st.Done)
	assert.Equal(t, "report", st.Operation)

	body := d.a.send("GET", "/reports/"+id, d.tok, nil)
	require.Equal(t, http.StatusOK, body.Status)
	requireMatchesSchema(t, "reporting.json", specSchema(t, "reporting.json", "/reports/{id}", "get", "200", "application/json"), body.Body)
	rep := body.JSON(t)
	assert.Equal(t, "report", rep["type"])
	assert.Equal(t, "CON_AFFOR_01", rep["reportType"])
	assert.Equal(t, "Gavin Belson affordability", rep["title"])
	assert.Equal(t, d.srv.URL+"/reports/"+id, rep["links"].(map[string]any)["self"])
}

// TestAffordabilityMetricsAreComputedFromTheData recomputes metrics from
// the user's transactions as the API lists them.
func TestAffordabilityMetricsAreComputedFromTheData(t *testing.T) {
	d := newDataSetup(t, basiqtest.WithTransactionsPerAccount(60))
	j := d.createReport(t, reportBody("Affordability", []string{d.userID}, []string{}))
	require.Equal(t, []string{"create-report=success"}, j.statuses())
	m := metricsOf(t, d.report(t, j.ID))

	txs, _ := d.all(t, "")
	from, to := time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC), time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	months := 29 / 30.4375
	var salary, credits, debits int64
	salaryDescriptions := map[string]bool{}
	inRange := 0
	for _, tx := range txs {
		if tx.Status != "posted" {
			continue
		}
		day, err := time.Parse(time.RFC3339, *tx.PostDate)
		require.NoError(t, err)
		if day.Before(from) || day.After(to) {
			continue
		}
		inRange++
		c := cents(t, tx.Amount)
		if c < 0 {
			debits += c
		} else {
			credits += c
		}
		if tx.Class == "direct-credit" {
			salary += c
			salaryDescriptions[tx.Description] = true
		}
	}
	require.Greater(t, inRange, 20, "the range holds data")
	require.NotZero(t, salary, "the sandbox data has salary in the range")
	perMonth := func(c int64) string { return money(int64(math.Round(float64(c) / months))) }
	assert.Equal(t, map[string]any{"value": perMonth(salary), "format": "money"}, m["ME002"])
	assert.Equal(t, map[string]any{"value": strconv.Itoa(len(salaryDescriptions)), "format": "integer"}, m["ME001"])
	assert.Equal(t, perMonth(credits), m["ME040"]["value"])
	assert.Equal(t, perMonth(debits), m["ME041"]["value"])
	assert.Equal(t, map[string]any{"value": "10000.00", "format": "money"}, m["ME010"], "Hooli's credit card limit")
	assert.Equal(t, "-1530.42", m["ME011"]["value"], "Hooli's credit card balance")
	for id, res := range m {
		switch res["format"] {
		case "money":
			assert.Regexp(t, `^-?[0-9]+\.[0-9]{2}$`, res["value"], id)
		case "percent":
			assert.Regexp(t, `^[0-9]+\.[0-9]$`, res["value"], id)
		case "boolean":
			assert.Contains(t, []any{"true", "false"}, res["value"], id)
		}
	}

	// The snapshot is what the report used: every posted transaction in range.
	tr := d.a.send("GET", "/reports/"+j.ID+"/transactions", d.tok, nil)
	require.Equal(t, http.StatusOK, tr.Status, "body: %s", tr.Body)
	assert.Len(t, tr.JSON(t)["data"], inRange)
}

func cents(t *testing.T, amount string) int64 {
	t.Helper()
	f, err := strconv.ParseFloat(amount, 64)
	require.NoError(t, err)
	return int64(math.Round(f * 100))
}

func money(c int64) string {
	sign := ""
	if c < 0 {
		sign, c = "-", -c
	}
	return sign + strconv.FormatInt(c/100, 10) + "." + strconv.FormatInt(c%100+100, 10)[1:]
}

func TestReportIsDeterministic(t *testing.T) {
	d := newDataSetup(t)
	body := reportBody("Same", []string{d.userID}, []string{})
	a, b := d.createReport(t, body), d.createReport(t, body)
	ra, rb := d.report(t, a.ID), d.report(t, b.ID)
	da, db := ra["data"].(map[string]any), rb["data"].(map[string]any)
	assert.Equal(t, da["metrics"], db["metrics"])
	assert.Equal(t, da["groups"], db["groups"])
	assert.Equal(t, da["accounts"], db["accounts"])
	assert.NotEmpty(t, da["groups"])

	// Another server with the same data seed computes the same figures (ids
	// differ: they are random); another seed, other figures.
	other := newDataSetup(t)
	assert.Equal(t, da["metrics"], other.report(t, other.createReport(t, reportBody("Same", []string{other.userID}, []string{})).ID)["data"].(map[string]any)["metrics"])
	reseeded := newDataSetup(t, basiqtest.WithDataSeed(2))
	assert.NotEqual(t, da["metrics"], reseeded.report(t, reseeded.createReport(t, reportBody("Same", []string{reseeded.userID}, []string{})).ID)["data"].(map[string]any)["metrics"])
}

func TestReportIncludeMetricsAndGroups(t *testing.T) {
	d := newDataSetup(t)
	count := func(extra ...map[string]any) (int, int, []string) {
		j := d.createReport(t, reportBody("Filters", []string{d.userID}, []string{}, extra...))
		data := d.report(t, j.ID)["data"].(map[string]any)
		var ids []string
		for _, m := range data["metrics"].([]any) {
			ids = append(ids, m.(map[string]any)["id"].(string))
		}
		return len(data["metrics"].([]any)), len(data["groups"].([]any)), ids
	}
	allM, allG, _ := count()
	require.Greater(t, allM, 10)
	require.Greater(t, allG, 3)
	m, g, _ := count(map[string]any{"name": "includeMetrics", "value": []string{}}, map[string]any{"name": "includeGroups", "value": []string{}})
	assert.Equal(t, []int{allM, allG}, []int{m, g}, "an empty array is all")
	m, g, _ = count(map[string]any{"name": "includeMetrics", "value": nil}, map[string]any{"name": "includeGroups", "value": nil})
	assert.Equal(t, []int{0, 0}, []int{m, g}, "null is none")
	_, _, ids := count(map[string]any{"name": "includeMetrics", "value": []string{"ME002", "ME010", "ME999"}})
	assert.Equal(t, []string{"ME002", "ME010"}, ids)
	_, g, _ = count(map[string]any{"name": "includeGroups", "value": []string{"INC-009"}})
	assert.Equal(t, 1, g)
}

func TestReportRequestValidation(t *testing.T) {
	d := newDataSetup(t)
	u := []string{d.userID}
	with := func(f func(map[string]any)) map[string]any {
		b := reportBody("T", u, []string{})
		f(b)
		return b
	}
	setFilter := func(name string, v any) func(map[string]any) {
		return func(b map[string]any) {
			fs := b["filters"].([]map[string]any)
			for i := range fs {
				if fs[i]["name"] == name {
					fs[i]["value"] = v
					return
				}
			}
			b["filters"] = append(fs, map[string]any{"name": name, "value": v})
		}
	}
	drop := func(name string) func(map[string]any) {
		return func(b map[string]any) {
			var keep []map[string]any
			for _, f := range b["filters"].([]map[string]any) {
				if f["name"] != name {
					keep = append(keep, f)
				}
			}
			b["filters"] = keep
		}
	}
	cases := []struct {
		name    string
		body    any
		code    string
		pointer string
	}{
		{"no reportType", with(func(b map[string]any) { delete(b, "reportType") }), "parameter-not-supplied", "reportType"},
		{"unknown reportType", with(func(b map[string]any) { b["reportType"] = "CON_AFFOR_99" }), "parameter-not-valid", "reportType"},
		{"no title", with(func(b map[string]any) { delete(b, "title") }), "parameter-not-supplied", "title"},
		{"title of 51 characters", with(func(b map[string]any) { b["title"] = strings.Repeat("é", 51) }), "parameter-not-valid", "title"},
		{"no filters", with(func(b map[string]any) { delete(b, "filters") }), "parameter-not-supplied", "filters"},
		{"filters not an array", with(func(b map[string]any) { b["filters"] = "x" }), "parameter-not-valid", "filters"},
		{"fromDate not a date", with(setFilter("fromDate", "01/02/2025")), "parameter-not-valid", "filters/fromDate"},
		{"toDate an array", with(setFilter("toDate", []string{"2025-03-01"})), "parameter-not-valid", "filters/toDate"},
		{"fromDate after toDate", with(setFilter("fromDate", "2025-03-02")), "parameter-not-valid", "filters/fromDate"},
		{"no users", with(drop("users")), "parameter-not-supplied", "filters/users"},
		{"users empty", with(setFilter("users", []string{})), "parameter-not-valid", "filters/users"},
		{"unknown user", with(setFilter("users", []string{"6a52015e-0000-4000-8000-000000000000"})), "parameter-not-valid", "filters/users"},
		{"no accounts", with(drop("accounts")), "parameter-not-supplied", "filters/accounts"},
		{"accounts a string", with(setFilter("accounts", "abc")), "parameter-not-valid", "filters/accounts"},
		{"includeMetrics a string", with(setFilter("includeMetrics", "ME001")), "parameter-not-valid", "filters/includeMetrics"},
		{"includeGroups bad code", with(setFilter("includeGroups", []string{"ME001"})), "parameter-not-valid", "filters/includeGroups"},
		{"filter of another type", with(setFilter("account", "x")), "parameter-not-valid", "filters/account"},
		{"filter twice", with(func(b map[string]any) {
			b["filters"] = append(b["filters"].([]map[string]any), map[string]any{"name": "toDate", "value": "2025-03-01"})
		}), "parameter-not-valid", "filters/toDate"},
		{"not JSON", "{", "invalid-content", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := requireError(t, d.a.send("POST", "/reports", d.tok, tc.body), http.StatusBadRequest, tc.code)
			if tc.pointer != "" {
				assert.Equal(t, tc.pointer, e.Data[0].Source["pointer"])
			}
			requireMatchesSchema(t, "reporting.json", specSchema(t, "reporting.json", "/reports", "post", "400", "application/json"),
				d.a.send("POST", "/reports", d.tok, tc.body).Body)
		})
	}
	ok := with(func(b map[string]any) { b["title"] = strings.Repeat("é", 50) })
	assert.Equal(t, http.StatusAccepted, d.a.send("POST", "/reports", d.tok, ok).Status, "50 characters is the limit")
	r := d.a.send("POST", "/reports", d.tok, nil, "Content-Type", "text/plain")
	requireError(t, r, http.StatusUnsupportedMediaType, "unsupported-content-type")
	requireError(t, d.a.send("POST", "/reports", d.a.serverToken("2.1"), ok), http.StatusNotFound, "resource-not-found")
}

func TestReportJobFailures(t *testing.T) {
	d := newDataSetup(t)
	j := d.createReport(t, reportBody("Bad account", []string{d.userID}, []string{"5b1e0c11-1111-4111-8111-111111111111"}))
	require.Equal(t, []string{"create-report=failed"}, j.statuses())
	res := j.step(t, "create-report").result(t)
	assert.Equal(t, "invalid-field-value", res["code"])
	assert.Contains(t, res["detail"], "5b1e0c11-1111-4111-8111-111111111111")
	requireError(t, d.a.send("GET", "/reports/"+j.ID, d.tok, nil), http.StatusNotFound, "resource-not-found")

	empty := d.a.createUser(d.tok)
	j = d.createReport(t, reportBody("No data", []string{empty}, []string{}))
	require.Equal(t, []string{"create-report=failed"}, j.statuses())
	assert.Contains(t, j.step(t, "create-report").result(t)["detail"], "no account data")
	st, _ := d.srv.Job(j.ID)
	assert.True(t, st.Done)
	assert.Equal(t, "invalid-field-value", st.Steps[0].Code)
}

func TestReportListPagingAndDelete(t *testing.T) {
	d := newDataSetup(t)
	var ids []string
	for i := range 3 {
		ids = append(ids, d.createReport(t, reportBody("R"+strconv.Itoa(i), []string{d.userID}, []string{})).ID)
	}
	list := func(path string) map[string]any {
		r := d.a.send("GET", path, d.tok, nil)
		require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
		requireMatchesSchema(t, "reporting.json", specSchema(t, "reporting.json", "/reports", "get", "200", "application/json"), r.Body)
		return r.JSON(t)
	}
	idsOf := func(m map[string]any) []string {
		var out []string
		for _, x := range m["data"].([]any) {
			out = append(out, x.(map[string]any)["id"].(string))
		}
		return out
	}
	p1 := list("/reports?limit=2")
	assert.Equal(t, []string{ids[2], ids[1]}, idsOf(p1), "newest first")
	assert.EqualValues(t, 2, p1["count"])
	next := p1["links"].(map[string]any)["next"].(string)
	require.True(t, strings.HasPrefix(next, d.srv.URL+"/reports?"), next)
	p2 := list(strings.TrimPrefix(next, d.srv.URL))
	assert.Equal(t, []string{ids[0]}, idsOf(p2))
	assert.NotContains(t, p2["links"], "next")

	assert.Equal(t, http.StatusNoContent, d.a.send("DELETE", "/reports/"+ids[1], d.tok, nil).Status)
	requireError(t, d.a.send("GET", "/reports/"+ids[1], d.tok, nil), http.StatusNotFound, "resource-not-found")
	requireError(t, d.a.send("DELETE", "/reports/"+ids[1], d.tok, nil), http.StatusNotFound, "resource-not-found")
	requireError(t, d.a.send("GET", "/reports/not-a-uuid", d.tok, nil), http.StatusBadRequest, "parameter-not-valid")
	assert.Equal(t, []string{ids[2], ids[0]}, idsOf(list("/reports")))

	d.clock.Add(24 * time.Hour)
	d.tok = d.a.serverToken("3.0")
	assert.Empty(t, idsOf(list("/reports")), "reports can be read for 24 hours")
	requireError(t, d.a.send("GET", "/reports/"+ids[0], d.tok, nil), http.StatusNotFound, "resource-not-found")
}

func TestReportTransactionsSnapshot(t *testing.T) {
	d := newDataSetup(t, basiqtest.WithTransactionsPerAccount(40))
	j := d.createReport(t, reportBody("Snapshot", []string{d.userID}, []string{}))
	path := "/reports/" + j.ID + "/transactions"
	all := d.a.send("GET", path, d.tok, nil)
	require.Equal(t, http.StatusOK, all.Status, "body: %s", all.Body)
	requireMatchesSchema(t, "reporting.json",
		specSchema(t, "reporting.json", "/reports/{reportId}/transactions", "get", "200", "application/json"), all.Body)
	data := all.JSON(t)["data"].([]any)
	require.NotEmpty(t, data)

	// Paging returns the same items.
	var paged []any
	next := path + "?limit=7"
	for next != "" {
		m := d.a.send("GET", next, d.tok, nil).JSON(t)
		paged = append(paged, m["data"].([]any)...)
		next, _ = m["links"].(map[string]any)["next"].(string)
		next = strings.TrimPrefix(next, d.srv.URL)
	}
	assert.Equal(t, data, paged)

	credits := d.a.send("GET", path+"?filter="+url.QueryEscape("transaction.direction.eq('credit')"), d.tok, nil).JSON(t)["data"].([]any)
	require.NotEmpty(t, credits)
	assert.Less(t, len(credits), len(data))
	for _, c := range credits {
		assert.Equal(t, "credit", c.(map[string]any)["direction"])
	}
	day := d.a.send("GET", path+"?filter="+url.QueryEscape("transaction.postDate.bt('2025-02-27','2025-02-28')"), d.tok, nil).JSON(t)["data"].([]any)
	for _, c := range day {
		assert.Regexp(t, `^2025-02-2[78]T`, c.(map[string]any)["postDate"])
	}
	requireError(t, d.a.send("GET", path+"?filter="+url.QueryEscape("transaction.amount.gt('1')"), d.tok, nil),
		http.StatusBadRequest, "parameter-not-valid")

	// The snapshot stays as it was when the data goes.
	require.Equal(t, http.StatusNoContent, d.a.send("DELETE", "/users/"+d.userID+"/connections/"+d.connID, d.tok, nil).Status)
	assert.Empty(t, d.page(t, "/users/"+d.userID+"/transactions").Data)
	assert.Equal(t, data, d.a.send("GET", path, d.tok, nil).JSON(t)["data"])
}

func TestReportTypes(t *testing.T) {
	d := newDataSetup(t)
	r := d.a.send("GET", "/reports/types", d.tok, nil)
	require.Equal(t, http.StatusOK, r.Status)
	requireMatchesSchema(t, "reporting.json", specSchema(t, "reporting.json", "/reports/types", "get", "200", "application/json"), r.Body)
	assert.Equal(t, dig(specDoc(t, "reporting.json"), "paths", "/reports/types", "get", "responses", "200", "content",
		"application/json", "example"), jsonOf(t, r.Body),
		"the fake's types are REP's example")
	one := d.a.send("GET", "/reports/types/STATEMENT_01", d.tok, nil)
	require.Equal(t, http.StatusOK, one.Status)
	requireMatchesSchema(t, "reporting.json",
		specSchema(t, "reporting.json", "/reports/types/{reportTypeId}", "get", "200", "application/json"), one.Body)
	assert.Equal(t, "Bank Statement", one.JSON(t)["name"])
	requireError(t, d.a.send("GET", "/reports/types/NOPE", d.tok, nil), http.StatusNotFound, "resource-not-found")
}

func TestReportPDF(t *testing.T) {
	d := newDataSetup(t)
	j := d.createReport(t, reportBody("PDF (1)", []string{d.userID}, []string{}))
	r := d.a.send("GET", "/reports/"+j.ID, d.tok, nil, "Accept", "application/pdf")
	require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
	assert.Equal(t, "application/pdf", r.Header.Get("Content-Type"))
	require.True(t, bytes.HasPrefix(r.Body, []byte("%PDF-1.4\n")))
	require.True(t, bytes.HasSuffix(r.Body, []byte("%%EOF\n")))
	// startxref points at the cross-reference table, whose entries point at
	// their objects.
	m := regexp.MustCompile(`startxref\n([0-9]+)\n`).FindSubmatch(r.Body)
	require.NotNil(t, m)
	off, _ := strconv.Atoi(string(m[1]))
	require.True(t, bytes.HasPrefix(r.Body[off:], []byte("xref\n0 6\n")))
	for i, e := range regexp.MustCompile(`([0-9]{10}) 00000 n `).FindAllSubmatch(r.Body, -1) {
		o, _ := strconv.Atoi(string(e[1]))
		assert.True(t, bytes.HasPrefix(r.Body[o:], []byte(strconv.Itoa(i+1)+" 0 obj")), "object %d", i+1)
	}
	assert.Contains(t, string(r.Body), `(PDF \(1\)) Tj`)
	assert.Contains(t, string(r.Body), "ME002 Average monthly amount from salary")
	requireError(t, d.a.send("GET", "/reports/"+j.ID, d.tok, nil, "Accept", "text/html"), http.StatusBadRequest, "unsupported-accept")
	requireError(t, d.a.send("GET", "/reports", d.tok, nil, "Accept", "application/pdf"), http.StatusBadRequest, "unsupported-accept")
}

func TestStatementReport(t *testing.T) {
	d := newDataSetup(t)
	accts := d.a.send("GET", "/users/"+d.userID+"/accounts", d.tok, nil).JSON(t)["data"].([]any)
	acct := accts[0].(map[string]any)["id"].(string)
	body := map[string]any{"reportType": "STATEMENT_01", "title": "Bank Statement 2025-03-01", "filters": []map[string]any{
		{"name": "fromDate", "value": "2025-02-01"}, {"name": "account", "value": acct}, {"name": "user", "value": d.userID}}}
	j := d.createReport(t, body)
	require.Equal(t, []string{"create-report=success"}, j.statuses())
	r := d.a.send("GET", "/reports/"+j.ID, d.tok, nil)
	require.Equal(t, http.StatusOK, r.Status)
	requireMatchesSchema(t, "reporting.json", specSchema(t, "reporting.json", "/reports/{id}", "get", "200", "application/pdf"), r.Body)
	var rep struct {
		ReportType string `json:"reportType"`
		Data       struct {
			Identity struct {
				FullName string `json:"fullName"`
			} `json:"identity"`
			Account []struct {
				ID string `json:"id"`
			} `json:"account"`
		} `json:"data"`
	}
	require.NoError(t, json.Unmarshal(r.Body, &rep))
	assert.Equal(t, "STATEMENT_01", rep.ReportType)
	assert.Equal(t, "Gavin Belson", rep.Data.Identity.FullName)
	require.Len(t, rep.Data.Account, 1)
	assert.Equal(t, acct, rep.Data.Account[0].ID)
	txs := d.a.send("GET", "/reports/"+j.ID+"/transactions", d.tok, nil).JSON(t)["data"].([]any)
	require.NotEmpty(t, txs)
	for _, tx := range txs {
		assert.Equal(t, acct, tx.(map[string]any)["account"])
	}
}

// TestReportInSynctest runs a report job in a synctest bubble on the
// fake's default clock (time.Now), through the in-memory transport.
func TestReportInSynctest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := basiqtest.NewServer(basiqtest.InMemory())
		defer srv.Close()
		a := newAPI(t, srv)
		tok := a.serverToken("3.0")
		userID := a.createUser(tok)
		jobID, err := srv.Connect(userID, "AU00000", "gavinBelson", "hooli2016")
		require.NoError(t, err)
		time.Sleep(time.Minute)
		st, _ := srv.Job(jobID)
		require.True(t, st.Done)
		today := time.Now().UTC().Format("2006-01-02")
		body := reportBody("Synctest", []string{userID}, []string{})
		body["filters"].([]map[string]any)[0]["value"] = time.Now().UTC().AddDate(0, -1, 0).Format("2006-01-02")
		body["filters"].([]map[string]any)[1]["value"] = today
		r := a.send("POST", "/reports", tok, body)
		require.Equal(t, http.StatusAccepted, r.Status, "body: %s", r.Body)
		id := r.JSON(t)["id"].(string)
		time.Sleep(5 * time.Second)
		require.Equal(t, []string{"create-report=success"}, a.job(tok, id).statuses())
		assert.Equal(t, http.StatusOK, a.send("GET", "/reports/"+id, tok, nil).Status)
	})
}

// TestReportSchemaCheckReachesDeep shows the schema check looks inside a
// report's groups: a count sent as text fails it.
func TestReportSchemaCheckReachesDeep(t *testing.T) {
	d := newDataSetup(t)
	j := d.createReport(t, reportBody("Deep", []string{d.userID}, []string{}))
	rep := d.report(t, j.ID)
	schema := specSchema(t, "reporting.json", "/reports/{id}", "get", "200", "application/json")
	doc := specDoc(t, "reporting.json")
	require.Empty(t, schemaErrors(doc, schema, rep, "$"))
	g := rep["data"].(map[string]any)["groups"].([]any)[0].(map[string]any)
	g["analysis"].(map[string]any)["summary"].(map[string]any)["transactionCount"] = "3"
	errs := schemaErrors(doc, schema, rep, "$")
	require.Len(t, errs, 1)
	assert.Contains(t, errs[0], "$.data.groups[0].analysis.summary.transactionCount: want integer")
}

// These tests drive the fake's reports, statements, auth links, identities
// and enrich with the SDK itself, in a synctest bubble.

// sdkV3WithData returns a 3.0 client and a user whose Hooli connection has
// finished its job, with about 90 days of history.
func sdkV3WithData(t *testing.T, srv *basiqtest.Server) (*basiq.Client, string) {
	t.Helper()
	c := sdkClient(t, srv, basiq.WithAPIVersion(basiq.V3))
	userID := sdkUser(t, c)
	jobID, err := srv.Connect(userID, "AU00000", "gavinBelson", "hooli2016")
	require.NoError(t, err)
	_, err = c.Jobs.Wait(t.Context(), jobID, nil)
	require.NoError(t, err)
	return c, userID
}

func TestSDKAffordabilityReport(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := basiqtest.NewServer(basiqtest.InMemory(), basiqtest.WithTransactionsPerAccount(180))
		defer srv.Close()
		c, userID := sdkV3WithData(t, srv)
		ctx := t.Context()
		accts, err := c.Accounts.List(ctx, userID, nil)
		require.NoError(t, err)
		var ids []string
		for _, a := range accts {
			ids = append(ids, a.ID)
		}
		to := time.Now()
		job, err := c.Reports.Create(ctx, basiq.ReportParams{Type: basiq.ReportAffordability, Title: "SDK report",
			Filters: basiq.ReportFilters{Users: []string{userID}, Accounts: ids, From: to.AddDate(0, -3, 0), To: to,
				IncludeMetrics: []string{"ME002", "ME010", "ME033"}}})
		require.NoError(t, err)
		done, err := c.Jobs.Wait(ctx, job.ID, nil)
		require.NoError(t, err)
		assert.Equal(t, basiq.JobSucceeded, done.Status())
		assert.Equal(t, job.ID, done.ReportID())

		rep, err := c.Reports.Get(ctx, done.ReportID())
		require.NoError(t, err)
		assert.Equal(t, "SDK report", rep.Title)
		require.Len(t, rep.Metrics, 3)
		limit, ok := rep.Metric("ME010")
		require.True(t, ok)
		assert.Equal(t, basiq.ReportMetric{ID: "ME010", Title: "Total credit card limit",
			Description: "Total limits on available credit card accounts", Sections: []string{"Financial Commitments"},
			Value: "10000.00", Format: "money"}, limit)
		assert.Equal(t, srv.URL+"/reports/"+rep.ID+"/transactions", rep.TransactionsURL)

		var n int
		for tx, err := range c.Reports.Transactions(ctx, rep.ID, &basiq.TransactionFilter{Direction: basiq.TransactionDirection("credit")}) {
			require.NoError(t, err)
			assert.EqualValues(t, "credit", tx.Direction)
			assert.NotEmpty(t, tx.Balance, "a report's transactions carry the balance after them")
			n++
		}
		assert.Positive(t, n)

		pdf, err := c.Reports.PDF(ctx, rep.ID)
		require.NoError(t, err)
		assert.True(t, bytes.HasPrefix(pdf, []byte("%PDF-")))

		types, err := c.Reports.Types(ctx)
		require.NoError(t, err)
		require.Len(t, types, 2)
		st, err := c.Reports.Type(ctx, basiq.ReportStatement)
		require.NoError(t, err)
		assert.Equal(t, "Bank Statement", st.Name)

		var listed []string
		for r, err := range c.Reports.List(ctx) {
			require.NoError(t, err)
			listed = append(listed, r.ID)
		}
		assert.Equal(t, []string{rep.ID}, listed)
		require.NoError(t, c.Reports.Delete(ctx, rep.ID))
		_, err = c.Reports.Get(ctx, rep.ID)
		assert.True(t, errors.Is(err, basiq.ErrNotFound), "%v", err)

		// A report over an account the user does not have fails its job,
		// and the Diagnosis carries the fake's code and detail.
		job, err = c.Reports.Create(ctx, basiq.ReportParams{Type: basiq.ReportAffordability, Title: "Bad",
			Filters: basiq.ReportFilters{Users: []string{userID}, Accounts: []string{"5b1e0c11-1111-4111-8111-111111111111"},
				From: to.AddDate(0, -1, 0), To: to}})
		require.NoError(t, err)
		_, err = c.Jobs.Wait(ctx, job.ID, nil)
		var failed *basiq.JobFailedError
		require.ErrorAs(t, err, &failed)
		assert.Equal(t, basiq.StepCreateReport, failed.Step.Title)
		assert.Equal(t, "invalid-field-value", failed.Diagnosis.Code)
		assert.Equal(t, basiq.ActionCheckReportFilters, failed.Diagnosis.Action)
		assert.Contains(t, failed.Diagnosis.Detail, "5b1e0c11-1111-4111-8111-111111111111")
	})
}

func TestSDKStatementUploadAuthLinksIdentitiesEnrich(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := basiqtest.NewServer(basiqtest.InMemory())
		defer srv.Close()
		c, userID := sdkV3WithData(t, srv)
		ctx := t.Context()

		job, err := c.Statements.Upload(ctx, userID, "AU10001", "statement.csv", strings.NewReader(statementCSV))
		require.NoError(t, err)
		done, err := c.Jobs.Wait(ctx, job.ID, nil)
		require.NoError(t, err)
		var descs []string
		for tx, err := range c.Transactions.All(ctx, userID, &basiq.TransactionFilter{ConnectionID: done.ConnectionID()}) {
			require.NoError(t, err)
			descs = append(descs, tx.Description)
		}
		assert.Equal(t, []string{"ATM WITHDRAWAL MANLY", "WOOLWORTHS 1234 SYDNEY", "SALARY ACME PTY LTD", "INTEREST CREDIT"}, descs)

		job, err = c.Statements.Upload(ctx, userID, "AU10001", "statement.png", bytes.NewReader([]byte("\x89PNG\r\n\x1a\n")))
		require.NoError(t, err)
		_, err = c.Jobs.Wait(ctx, job.ID, nil)
		var failed *basiq.JobFailedError
		require.ErrorAs(t, err, &failed)
		assert.Equal(t, basiq.StepVerifyCredentials, failed.Step.Title)
		assert.Equal(t, "bank-statement-invalid", failed.Diagnosis.Code)
		assert.Equal(t, basiq.ActionCheckStatement, failed.Diagnosis.Action)

		_, err = c.Statements.Upload(ctx, userID, "AU00000", "statement.csv", strings.NewReader(statementCSV))
		var apiErr *basiq.APIError
		require.ErrorAs(t, err, &apiErr)
		assert.Equal(t, 400, apiErr.StatusCode)
		assert.Equal(t, "institution-not-supported", apiErr.Code())

		link, err := c.AuthLinks.Create(ctx, userID, &basiq.AuthLinkParams{Mobile: "+61410000111"})
		require.NoError(t, err)
		got, err := c.AuthLinks.Get(ctx, userID)
		require.NoError(t, err)
		assert.Equal(t, link.URL, got.URL)
		assert.Equal(t, "+61410000111", got.Mobile)
		assert.WithinDuration(t, time.Now().Add(7*24*time.Hour), got.Expires, time.Second)
		require.NoError(t, c.AuthLinks.Delete(ctx, userID))
		_, err = c.AuthLinks.Get(ctx, userID)
		require.Error(t, err)

		ids, err := c.Identities.List(ctx, userID)
		require.NoError(t, err)
		require.Len(t, ids, 1)
		assert.Equal(t, "Gavin Belson", ids[0].FullName)
		one, err := c.Identities.Get(ctx, userID, ids[0].ID)
		require.NoError(t, err)
		assert.Equal(t, ids[0].ConnectionID, one.ConnectionID)

		e, err := c.Enrich.Get(ctx, basiq.EnrichParams{Query: "WOOLWORTHS 1234 SYDNEY", Institution: "AU00000", Country: "AU", Amount: "-12.95"})
		require.NoError(t, err)
		require.NotNil(t, e.Data.Merchant)
		assert.Equal(t, "Woolworths", e.Data.Merchant.BusinessName)
		assert.EqualValues(t, "payment", e.Class)

		types, err := c.Events.Types(ctx)
		require.NoError(t, err)
		assert.Len(t, types, 15)
	})
}
