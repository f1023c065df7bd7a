package basiqtest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"
)

// Reports (REP: POST/GET /reports, GET/DELETE /reports/{reportId},
// GET /reports/{reportId}/transactions). POST validates the request as
// Basiq documents it and answers 202 with a job whose one step,
// create-report, runs on the fake's clock (report_jobs.go). When it
// succeeds the report exists, under the job's id (as in REP's examples),
// computed from a snapshot of the data its filters select; it can be read
// for reportLife after its creation. Reports belong to the application, not
// to a user.

// reportLife is how long a report can be read after it was created (REP:
// "can be retrieved up to 24 hours after creation").
const reportLife = 24 * time.Hour

// maxReportTitle is the longest title, in characters.
const maxReportTitle = 50

// report is a finished report.
type report struct {
	id, title, typ   string
	seq              int
	created, expires time.Time
	filters          []reportFilter
	txs              []snapTx // the snapshot of the data it used, newest first per account
	data             any      // affordabilityData or statementData
	pdfLines         []string // what its PDF says
}

// reportFilter is a request filter as the report echoes it.
type reportFilter struct {
	Name  string          `json:"name"`
	Value json.RawMessage `json:"value"`
}

// codeSel is an includeMetrics or includeGroups filter: absent or [] all
// codes, null none, else the codes listed.
type codeSel struct {
	null  bool
	codes []string
}

func (c codeSel) includes(code string) bool {
	return !c.null && (len(c.codes) == 0 || slices.Contains(c.codes, code))
}

// reportParams is a validated POST /reports.
type reportParams struct {
	typ, title      string
	from, to        time.Time // calendar days, inclusive
	users, accounts []string
	metrics, groups codeSel
	filters         []reportFilter
}

var (
	metricCodeRE = regexp.MustCompile(`^ME[0-9]{3}$`)
	groupCodeRE  = regexp.MustCompile(`^(INC|EXP)-[0-9]{3}$`)
)

// parseReportRequest validates a POST /reports body against REP.
func (s *Server) parseReportRequest(c *call) (reportParams, reply, bool) {
	var in struct {
		ReportType *string         `json:"reportType"`
		Title      *string         `json:"title"`
		Filters    json.RawMessage `json:"filters"`
	}
	var p reportParams
	if rp, ok := decodeJSON(c, &in, "Posted report is not in valid format."); !ok {
		return p, rp, false
	}
	bad := func(e apiError) (reportParams, reply, bool) { return p, errorReply(http.StatusBadRequest, e), false }
	switch {
	case in.ReportType == nil || *in.ReportType == "":
		return bad(errNotSupplied("Report type is required.", "reportType", "reportType"))
	case reportTypeByID(*in.ReportType) == nil:
		return bad(errNotValid("Report type is not supported; see GET /reports/types.", "reportType", "reportType"))
	case in.Title == nil || *in.Title == "":
		return bad(errNotSupplied("Title is required.", "title", "title"))
	case utf8.RuneCountInString(*in.Title) > maxReportTitle:
		return bad(errNotValid("The report title cannot be longer than 50 characters.", "title", "title"))
	case len(in.Filters) == 0 || string(in.Filters) == "null":
		return bad(errNotSupplied("Filters are required.", "filters", "filters"))
	}
	p.typ, p.title = *in.ReportType, *in.Title
	var filters []struct {
		Name  *string         `json:"name"`
		Value json.RawMessage `json:"value"`
	}
	if json.Unmarshal(in.Filters, &filters) != nil {
		return bad(errNotValid("Filters must be an array of {name, value}.", "filters", "filters"))
	}
	rt := reportTypeByID(p.typ)
	seen := map[string]bool{}
	for _, f := range filters {
		if f.Name == nil || len(f.Value) == 0 {
			return bad(errNotSupplied("Every filter needs a name and a value.", "filters", "filters"))
		}
		name := *f.Name
		if !rt.takes(name) {
			return bad(errNotValid("Filter '"+name+"' is not supported by report type "+p.typ+".", "filters/"+name, "filters"))
		}
		if seen[name] {
			return bad(errNotValid("Filter '"+name+"' is given more than once.", "filters/"+name, "filters"))
		}
		seen[name] = true
		if e, ok := s.readReportFilter(&p, name, f.Value); !ok {
			return bad(e)
		}
		p.filters = append(p.filters, reportFilter{Name: name, Value: compactJSON(f.Value)})
	}
	for _, d := range rt.filters {
		if d.required && !seen[d.name] {
			return bad(errNotSupplied("Filter '"+d.name+"' is required by report type "+p.typ+".", "filters/"+d.name, "filters"))
		}
	}
	if !seen["toDate"] {
		p.to = dayOf(c.now)
	}
	if p.to.Before(p.from) {
		return bad(errNotValid("fromDate must not be after toDate.", "filters/fromDate", "filters"))
	}
	return p, reply{}, true
}

// readReportFilter checks one filter's value and sets it on p.
func (s *Server) readReportFilter(p *reportParams, name string, raw json.RawMessage) (apiError, bool) {
	ptr := "filters/" + name
	notValid := func(detail string) (apiError, bool) { return errNotValid(detail, ptr, "filters"), false }
	var str string
	var list []string
	isNull := string(raw) == "null"
	isStr := json.Unmarshal(raw, &str) == nil && !isNull
	isList := json.Unmarshal(raw, &list) == nil && !isNull
	switch name {
	case "fromDate", "toDate":
		d, err := time.Parse(dateLayout, str)
		if !isStr || err != nil {
			return notValid("Filter '" + name + "' must be a date, YYYY-MM-DD.")
		}
		if name == "fromDate" {
			p.from = d
		} else {
			p.to = d
		}
	case "users", "user":
		if name == "user" {
			list, isList = []string{str}, isStr
		}
		if !isList || len(list) == 0 {
			return notValid("Filter '" + name + "' must name at least one user.")
		}
		p.users = nil
		for _, id := range list {
			if !isUUID(id) || s.st.users[id] == nil {
				return notValid("User '" + id + "' does not exist.")
			}
			if !slices.Contains(p.users, id) {
				p.users = append(p.users, id)
			}
		}
	case "accounts", "account":
		if name == "account" {
			list, isList = []string{str}, isStr && str != ""
		}
		if !isList {
			return notValid("Filter '" + name + "' must be an array of account ids.")
		}
		p.accounts = list
	case "includeMetrics", "includeGroups":
		re, sel := metricCodeRE, &p.metrics
		if name == "includeGroups" {
			re, sel = groupCodeRE, &p.groups
		}
		if isNull {
			sel.null = true
			break
		}
		if !isList {
			return notValid("Filter '" + name + "' must be an array of codes, or null for none.")
		}
		for _, code := range list {
			if !re.MatchString(code) {
				return notValid("'" + code + "' is not a code of " + name + ".")
			}
		}
		sel.codes = list
	}
	return apiError{}, true
}

func compactJSON(raw json.RawMessage) json.RawMessage {
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return raw
	}
	return b.Bytes()
}

func (s *Server) reportURL(id string) string { return s.URL + "/reports/" + id }

// createReport serves POST /reports.
func (s *Server) createReport(c *call) reply {
	p, rp, ok := s.parseReportRequest(c)
	if !ok {
		return rp
	}
	j := &job{id: newUUID(), seq: s.st.next(), op: opReport, version: c.version(), userID: p.users[0],
		created: c.now, updated: c.now, stepStart: c.now,
		steps:  []jobStep{{title: StepCreateReport, status: statusPending}},
		report: &reportJob{params: p}}
	s.st.jobs[j.id] = j
	s.enqueue(j)
	return jsonReply(http.StatusAccepted, s.jobStub(j))
}

// lookupReport returns the report of the path while it can be read.
func (s *Server) lookupReport(c *call) (*report, reply, bool) {
	r := s.st.reports[c.param("reportId")]
	if r == nil || !c.now.Before(r.expires) {
		return nil, errorReply(http.StatusNotFound, errNotFound("Requested report does not exist.")), false
	}
	return r, reply{}, true
}

// reportSummary is an item of GET /reports (REP reportSummary).
type reportSummary struct {
	Type        string         `json:"type"`
	ID          string         `json:"id"`
	Title       string         `json:"title"`
	ReportType  string         `json:"reportType"`
	CreatedDate string         `json:"createdDate"`
	ExpiresAt   string         `json:"expiresAt"`
	CreatedBy   string         `json:"createdBy"`
	Filters     []reportFilter `json:"filters"`
	Links       selfLink       `json:"links"`
}

// reportCreator is every report's createdBy: the application.
const reportCreator = "basiqtest"

func (s *Server) reportSummary(r *report) reportSummary {
	return reportSummary{Type: "report", ID: r.id, Title: r.title, ReportType: r.typ, CreatedDate: stamp(r.created),
		ExpiresAt: stamp(r.expires), CreatedBy: reportCreator, Filters: r.filters, Links: selfLink{Self: s.reportURL(r.id)}}
}

// reportView is GET /reports/{reportId}.
type reportView struct {
	Type        string         `json:"type"`
	ID          string         `json:"id"`
	Title       string         `json:"title"`
	ReportType  string         `json:"reportType"`
	CreatedDate string         `json:"createdDate"`
	CreatedBy   string         `json:"createdBy"`
	Filters     []reportFilter `json:"filters"`
	Data        any            `json:"data"`
	Links       selfLink       `json:"links"`
}

// getReport serves GET /reports/{reportId}: JSON, or the PDF when the
// Accept header asks for application/pdf.
func (s *Server) getReport(c *call) reply {
	r, rp, ok := s.lookupReport(c)
	if !ok {
		return rp
	}
	if acceptsPDF(c.req.Header.Get("Accept")) {
		return reply{status: http.StatusOK, header: http.Header{"Content-Type": {"application/pdf"}}, body: reportPDF(r)}
	}
	return jsonReply(http.StatusOK, reportView{Type: "report", ID: r.id, Title: r.title, ReportType: r.typ,
		CreatedDate: stamp(r.created), CreatedBy: reportCreator, Filters: r.filters, Data: r.data,
		Links: selfLink{Self: s.reportURL(r.id)}})
}

// deleteReport serves DELETE /reports/{reportId}.
func (s *Server) deleteReport(c *call) reply {
	r, rp, ok := s.lookupReport(c)
	if !ok {
		return rp
	}
	delete(s.st.reports, r.id)
	return emptyReply(http.StatusNoContent)
}

// readPage reads limit and next of a paged list: next is the position to
// start at (opaque to clients).
func readPage(c *call, max int) (limit, start int, rp reply, ok bool) {
	q := c.req.URL.Query()
	limit = max
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > max {
			return 0, 0, errorReply(http.StatusBadRequest, errNotValid("Limit must be a number between 1 and "+strconv.Itoa(max), "", "limit")), false
		}
		limit = n
	}
	if n := q.Get("next"); n != "" {
		v, err := strconv.Atoi(n)
		if err != nil || v < 0 {
			return 0, 0, errorReply(http.StatusBadRequest, errNotValid("The provided next parameter is not valid", "", "next")), false
		}
		start = v
	}
	return limit, start, reply{}, true
}

// listReports serves GET /reports: the reports that can still be read,
// newest first, in pages of up to limit (default and most 500). next is the
// creation sequence to continue below, so deletions between pages skip
// nothing.
func (s *Server) listReports(c *call) reply {
	limit, below, rp, ok := readPage(c, maxLimit)
	if !ok {
		return rp
	}
	var all []*report
	for _, r := range s.st.reports {
		if c.now.Before(r.expires) && (below == 0 || r.seq < below) {
			all = append(all, r)
		}
	}
	slices.SortFunc(all, func(a, b *report) int { return b.seq - a.seq })
	out := struct {
		Type  string          `json:"type"`
		Count int             `json:"count"`
		Size  int             `json:"size"`
		Data  []reportSummary `json:"data"`
		Links pageLinks       `json:"links"`
	}{Type: "list", Size: limit, Data: []reportSummary{}, Links: pageLinks{Self: s.URL + "/reports"}}
	if raw := c.req.URL.RawQuery; raw != "" {
		out.Links.Self += "?" + raw
	}
	for i, r := range all {
		if i == limit {
			out.Links.Next = s.URL + "/reports?limit=" + strconv.Itoa(limit) + "&next=" + strconv.Itoa(all[i-1].seq)
			break
		}
		out.Data = append(out.Data, s.reportSummary(r))
	}
	out.Count = len(out.Data)
	return jsonReply(http.StatusOK, out)
}
