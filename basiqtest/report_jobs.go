package basiqtest

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"
)

// A report job has one step, create-report, which takes reportMillis
// (times the time scale). As it ends it takes a snapshot of the data its
// filters select — the users' accounts with retrieved transactions, posted
// transactions within fromDate..toDate — and computes the report from it.
// It fails, with invalid-field-value and a detail that says which, when a
// user no longer exists, when an account filter names an account none of the
// users has, or when the users have no account data yet (no bank connected,
// or its job has not retrieved transactions).

// reportMillis is how long create-report takes, in milliseconds.
const reportMillis = 3000

// reportJob is what a report job will build.
type reportJob struct {
	params reportParams
}

// snapTx is a transaction of a report's snapshot, with what its filters
// look at.
type snapTx struct {
	view  reportTxView
	row   txRow
	cents int64
}

// reportTxView is an item of GET /reports/{reportId}/transactions: a
// transaction with the balance after it.
type reportTxView struct {
	transactionView
	Balance string `json:"balance"`
}

// endReportStep ends create-report: the report, or why there is none.
func (s *Server) endReportStep(j *job, st *jobStep, at time.Time) {
	r, fail := s.buildReport(j, at)
	if fail != nil {
		st.status, st.result = statusFailed, *fail
		return
	}
	st.status = statusSuccess
	st.result = linkResult{Type: "link", URL: "/reports/" + j.id}
	s.st.reports[r.id] = r
	j.cur++
}

func reportFailure(detail string) *stepError {
	return &stepError{Code: "invalid-field-value", Title: "Report could not be created.", Detail: detail}
}

// buildReport computes the report of j at at.
func (s *Server) buildReport(j *job, at time.Time) (*report, *stepError) {
	p := j.report.params
	var refs []accountRef
	for _, id := range p.users {
		u := s.st.users[id]
		if u == nil {
			return nil, reportFailure("User " + id + " no longer exists.")
		}
		for _, r := range s.userAccounts(u) {
			if !r.conn.txAsOf.IsZero() {
				refs = append(refs, r)
			}
		}
	}
	for _, id := range p.accounts {
		if !slices.ContainsFunc(refs, func(r accountRef) bool { return r.a.id == id }) {
			return nil, reportFailure("Account " + id + " is not an account of the report's users with retrieved data.")
		}
	}
	if len(p.accounts) > 0 {
		refs = slices.DeleteFunc(refs, func(r accountRef) bool { return !slices.Contains(p.accounts, r.a.id) })
	}
	if len(refs) == 0 {
		return nil, reportFailure("The report's users have no account data yet: connect a bank and wait for its job " +
			"to retrieve transactions before creating a report.")
	}
	r := &report{id: j.id, title: p.title, typ: p.typ, seq: j.seq, created: at, expires: at.Add(reportLife),
		filters: p.filters}
	r.txs = s.snapshot(refs, p.from, p.to)
	switch p.typ {
	case reportStatement:
		r.data, r.pdfLines = s.statementReport(refs[0], r)
	default:
		r.data, r.pdfLines = s.affordabilityReport(refs, r, p)
	}
	return r, nil
}

// snapshot copies the posted transactions of refs within from..to
// (inclusive days), each with the account's balance after it.
func (s *Server) snapshot(refs []accountRef, from, to time.Time) []snapTx {
	var out []snapTx
	for _, r := range refs {
		p := s.txPlan(r)
		bal, _ := parseCents(r.a.balance)
		for i := range p.n {
			row := p.row(r, i)
			v := s.transactionView(row)
			cents, _ := parseCents(v.Amount)
			after := bal
			bal -= cents
			if row.pending || row.post.Before(from) || row.post.After(to) {
				continue
			}
			out = append(out, snapTx{view: reportTxView{transactionView: v, Balance: money(after)}, row: row, cents: cents})
		}
	}
	return out
}

// reportTxFields are the filterable properties of
// GET /reports/{reportId}/transactions (REP).
func reportTxFields() map[string]fieldFilter[*snapTx] {
	eq := []string{"eq", "ne"}
	text := func(f func(*snapTx) string) fieldFilter[*snapTx] { return fieldFilter[*snapTx]{ops: eq, text: f} }
	return map[string]fieldFilter[*snapTx]{
		"account.id":            text(func(t *snapTx) string { return t.view.Account }),
		"institution.id":        text(func(t *snapTx) string { return t.view.Institution }),
		"connection.id":         text(func(t *snapTx) string { return t.view.Connection }),
		"transaction.id":        text(func(t *snapTx) string { return t.view.ID }),
		"transaction.direction": text(func(t *snapTx) string { return t.view.Direction }),
		"transaction.class":     text(func(t *snapTx) string { return t.view.Class }),
		"transaction.status":    text(func(t *snapTx) string { return t.view.Status }),
		"transaction.postDate": {ops: []string{"eq", "ne", "gt", "gteq", "lt", "lteq", "bt"},
			day: func(t *snapTx) (time.Time, bool) { return t.row.post, true }},
	}
}

// listReportTransactions serves GET /reports/{reportId}/transactions: the
// report's snapshot, in pages of up to limit (default and most 500), with
// links.next while more remain.
func (s *Server) listReportTransactions(c *call) reply {
	r, rp, ok := s.lookupReport(c)
	if !ok {
		return rp
	}
	limit, start, rp, ok := readPage(c, maxLimit)
	if !ok {
		return rp
	}
	filter := c.req.URL.Query().Get("filter")
	keep, ok := compileFieldFilter(filter, reportTxFields())
	if !ok {
		return errorReply(http.StatusBadRequest, errBadFilter())
	}
	out := struct {
		Type  string         `json:"type"`
		Count int            `json:"count"`
		Size  int            `json:"size"`
		Data  []reportTxView `json:"data"`
		Links pageLinks      `json:"links"`
	}{Type: "list", Size: limit, Data: []reportTxView{}, Links: pageLinks{Self: s.reportURL(r.id) + "/transactions"}}
	if raw := c.req.URL.RawQuery; raw != "" {
		out.Links.Self += "?" + raw
	}
	for i := start; i < len(r.txs); i++ {
		if !keep(&r.txs[i]) {
			continue
		}
		if len(out.Data) == limit {
			next := s.reportURL(r.id) + "/transactions?limit=" + strconv.Itoa(limit) + "&next=" + strconv.Itoa(i)
			if filter != "" {
				next += "&filter=" + url.QueryEscape(filter)
			}
			out.Links.Next = next
			break
		}
		out.Data = append(out.Data, r.txs[i].view)
	}
	out.Count = len(out.Data)
	return jsonReply(http.StatusOK, out)
}
