package basiqtest

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"
)

// The Consumer Affordability Report (CON_AFFOR_01) computed from a report's
// snapshot, in REP's shape: metrics (ME…, result {value, format}, money as
// decimal strings) and groups (INC-…/EXP-… with their analysis and
// subgroups). Each transaction falls in one group by its class and, for
// card payments, its merchant; the metrics are sums and means over groups
// per month of the report's range (its days / 30.4375). Only the metrics
// and groups the fake's data can produce are computed; a group with no
// transactions is left out.

// affordGroup is a group of the report.
type affordGroup struct {
	id, title string
	sections  []string
}

// affordGroups are the groups the fake's transactions fall in.
var affordGroups = [...]affordGroup{
	{"INC-004", "Interest Income", []string{"Income"}},
	{"INC-007", "Other Credits", []string{"Income"}},
	{"INC-009", "Salary", []string{"Income"}},
	{"EXP-001", "ATM Withdrawals", []string{"Other Expenses", "High Risk Activities"}},
	{"EXP-008", "Dining Out", []string{"Discretionary Expenses"}},
	{"EXP-016", "Groceries", []string{"Non-Discretionary Expenses"}},
	{"EXP-031", "Retail", []string{"Discretionary Expenses"}},
	{"EXP-032", "Returns & Refunds", []string{"Other Expenses"}},
	{"EXP-039", "Uncategorised Debits", []string{"Other Expenses"}},
	{"EXP-040", "Utilities", []string{"Non-Discretionary Expenses"}},
	{"EXP-041", "Vehicle and Transport", []string{"Non-Discretionary Expenses"}},
	{"EXP-054", "Other Categorised", []string{"Other Expenses"}},
	{"EXP-057", "Loan Repayments", []string{"Liabilities"}},
}

// groupOf is the group a transaction falls in.
func groupOf(v *transactionView) string {
	debit := v.Direction == "debit"
	switch v.Class {
	case "direct-credit":
		return "INC-009"
	case "interest":
		return "INC-004"
	case "refund":
		return "EXP-032"
	case "cash-withdrawal":
		return "EXP-001"
	case "loan-repayment":
		return "EXP-057"
	case "bank-fee":
		return "EXP-054"
	case "transfer":
		if !debit {
			return "INC-007"
		}
		return "EXP-040" // the fake's outgoing transfers are BPAY bills to AGL Energy
	}
	if !debit {
		return "INC-007"
	}
	if v.Enrich != nil {
		switch v.Enrich.Merchant.BusinessName {
		case "Woolworths":
			return "EXP-016"
		case "Ampol":
			return "EXP-041"
		case "JB Hi-Fi":
			return "EXP-031"
		default:
			return "EXP-008"
		}
	}
	return "EXP-039"
}

// affordMetric is a metric of the report, computed from the aggregate.
type affordMetric struct {
	id, title, description, section, format string
	value                                   func(*afford) string
}

// afford is what the metrics are computed from.
type afford struct {
	months          float64
	group           map[string][]*snapTx
	credits, debits int64
	refs            []accountRef
}

func (a *afford) total(codes ...string) int64 {
	var sum int64
	for _, c := range codes {
		for _, t := range a.group[c] {
			sum += t.cents
		}
	}
	return sum
}

func (a *afford) monthly(codes ...string) string { return money(perMonth(a.total(codes...), a.months)) }

func (a *afford) distinct(code string) string {
	seen := map[string]bool{}
	for _, t := range a.group[code] {
		seen[subgroupName(t)] = true
	}
	return strconv.Itoa(len(seen))
}

func (a *afford) cards(f func(account) string) string {
	var sum int64
	for _, r := range a.refs {
		if r.a.class == "credit-card" {
			c, _ := parseCents(f(r.a))
			sum += c
		}
	}
	return money(sum)
}

func perMonth(cents int64, months float64) int64 { return int64(math.Round(float64(cents) / months)) }

func percent(part, whole int64) string {
	if whole == 0 {
		return "0.0"
	}
	return strconv.FormatFloat(math.Round(float64(part)/float64(whole)*1000)/10, 'f', 1, 64)
}

var (
	nonDiscretionary = []string{"EXP-016", "EXP-040", "EXP-041", "EXP-057"}
	discretionary    = []string{"EXP-008", "EXP-031"}
	otherExpenses    = []string{"EXP-001", "EXP-039", "EXP-054"}
	incomeGroups     = []string{"INC-004", "INC-007", "INC-009"}
)

func (a *afford) expenses() int64 {
	return a.total(slices.Concat(nonDiscretionary, discretionary, otherExpenses)...)
}

// affordMetrics are the metrics the fake computes, with REP's titles.
func affordMetrics() []affordMetric {
	return []affordMetric{
		{"ME001", "# OF IDENTIFIED SALARY SOURCES", "Number of recent salary income sources", "Income Sources", "integer",
			func(a *afford) string { return a.distinct("INC-009") }},
		{"ME002", "Average monthly amount from salary", "Mean monthly amount from salary income sources over the reporting period",
			"Income Sources", "money", func(a *afford) string { return a.monthly("INC-009") }},
		{"ME004", "OTHER POSSIBLE INCOME MONTHLY", "Mean monthly income from sources not covered within Salary and Benefits",
			"Income Sources", "money", func(a *afford) string { return a.monthly("INC-004", "INC-007") }},
		{"ME008", "Average monthly amount", "Mean monthly repayments to lenders", "Financial Commitments", "money",
			func(a *afford) string { return a.monthly("EXP-057") }},
		{"ME009", "# of identified companies", "Number of relationships with lending merchants", "Financial Commitments", "integer",
			func(a *afford) string { return a.distinct("EXP-057") }},
		{"ME010", "Total credit card limit", "Total limits on available credit card accounts", "Financial Commitments", "money",
			func(a *afford) string { return a.cards(func(x account) string { return x.creditLimit }) }},
		{"ME011", "Total credit card balance", "Total of latest available balances on available credit card accounts",
			"Financial Commitments", "money", func(a *afford) string { return a.cards(func(x account) string { return x.balance }) }},
		{"ME012", "Monthly spend on non-discretionary expenses (inc. liabilities)", "Mean monthly spend on non-discretionary expenses",
			"Expenses", "money", func(a *afford) string { return a.monthly(nonDiscretionary...) }},
		{"ME013", "% of spend on non-discretionary expenses",
			"Mean monthly spend on non-discretionary expenses as a percentage of total expenses", "Expenses", "percent",
			func(a *afford) string { return percent(a.total(nonDiscretionary...), a.expenses()) }},
		{"ME014", "Mean monthly spend on discretionary expenses", "Mean monthly spend on discretionary expenses", "Expenses", "money",
			func(a *afford) string { return a.monthly(discretionary...) }},
		{"ME015", "% of spend on discretionary expenses",
			"Mean monthly spend on discretionary expenses as a percentage of total expenses", "Expenses", "percent",
			func(a *afford) string { return percent(a.total(discretionary...), a.expenses()) }},
		{"ME016", "Monthly spend on other expenses", "Mean monthly spend on other expenses", "Expenses", "money",
			func(a *afford) string { return a.monthly(otherExpenses...) }},
		{"ME018", "% OF SALARY INCOME WITHDRAWN VIA ATM",
			"Percentage of salary income withdrawn as cash at ATM's over the reporting period", "Risk Metrics", "percent",
			func(a *afford) string { return percent(-a.total("EXP-001"), a.total("INC-009")) }},
		{"ME025", "Has cash advances", "Indicates cash withdrawals from credit card accounts during reporting period",
			"Risk Flags", "boolean", func(a *afford) string {
				return strconv.FormatBool(slices.ContainsFunc(a.group["EXP-001"], func(t *snapTx) bool {
					return t.row.ref.a.class == "credit-card"
				}))
			}},
		{"ME028", "Missing non-discretionary expenses: groceries",
			"no instances of non-discretionary expenses: groceries detected", "Risk Flags", "boolean",
			func(a *afford) string { return strconv.FormatBool(len(a.group["EXP-016"]) == 0) }},
		{"ME030", "Missing non-discretionary expenses: utilities",
			"no instances of non-discretionary expenses: utilities detected", "Risk Flags", "boolean",
			func(a *afford) string { return strconv.FormatBool(len(a.group["EXP-040"]) == 0) }},
		{"ME033", "Average Income monthly",
			"Mean monthly total income excluding benefits, tax, insurance, superannuation credits", "Income Sources", "money",
			func(a *afford) string { return a.monthly(incomeGroups...) }},
		{"ME034", "Average Outgoings monthly", "Mean monthly total outgoings", "Expenses", "money",
			func(a *afford) string { return money(perMonth(a.debits, a.months)) }},
		{"ME040", "Average Monthly Credits", "Mean monthly credits excluding internal transfers", "Expenses", "money",
			func(a *afford) string { return money(perMonth(a.credits, a.months)) }},
		{"ME041", "Average Monthly Debits", "Mean monthly debits excluding internal transfers", "Expenses", "money",
			func(a *afford) string { return money(perMonth(a.debits, a.months)) }},
	}
}

// affordabilityData is data of a CON_AFFOR_01 report.
type affordabilityData struct {
	Metrics      []metricView        `json:"metrics"`
	Groups       []groupView         `json:"groups"`
	Accounts     []reportAccountView `json:"accounts"`
	Transactions string              `json:"transactions"`
}

type metricView struct {
	ID          string       `json:"id"`
	Title       string       `json:"title"`
	Description string       `json:"description"`
	Sections    []string     `json:"sections"`
	Result      metricResult `json:"result"`
}

type metricResult struct {
	Value  string `json:"value"`
	Format string `json:"format"`
}

type groupView struct {
	ID       string         `json:"id"`
	Title    string         `json:"title"`
	Sections []string       `json:"sections"`
	Analysis analysisView   `json:"analysis"`
	Subgroup []subgroupView `json:"subgroup"`
}

type subgroupView struct {
	ID           string        `json:"id"`
	Name         string        `json:"name"`
	Analysis     analysisView  `json:"analysis"`
	Transactions []groupTxView `json:"transactions"`
}

type groupTxView struct {
	ID          string `json:"id"`
	Date        string `json:"date"`
	Description string `json:"description"`
	Amount      string `json:"amount"`
}

type analysisView struct {
	Summary   analysisSummary `json:"summary"`
	Range     analysisRange   `json:"range"`
	Amount    analysisAmount  `json:"amount"`
	Frequency frequencyView   `json:"frequency"`
}

type analysisSummary struct {
	TransactionCount  int               `json:"transactionCount"`
	OverallPercentage overallPercentage `json:"overallPercentage"`
}

type overallPercentage struct {
	Credit float64 `json:"credit"`
	Debit  float64 `json:"debit"`
}

type analysisRange struct {
	StartDate string `json:"startDate"`
	EndDate   string `json:"endDate"`
	Duration  int    `json:"duration"`
}

type analysisAmount struct {
	Total        string        `json:"total"`
	Min          string        `json:"min"`
	Max          string        `json:"max"`
	Average      amountAverage `json:"average"`
	StableMonths int           `json:"stableMonths"`
	SecureMonths int           `json:"secureMonths"`
}

type amountAverage struct {
	Transaction       string `json:"transaction"`
	Month             string `json:"month"`
	MedianTransaction string `json:"medianTransaction"`
	MedianMonth       string `json:"medianMonth"`
	OngoingMonth      string `json:"ongoingMonth"`
}

type frequencyView struct {
	Type    string         `json:"type"`
	Amount  string         `json:"amount"`
	Display string         `json:"display"`
	Next    *frequencyNext `json:"next,omitempty"`
}

type frequencyNext struct {
	Date   string `json:"date"`
	Amount string `json:"amount"`
}

// reportAccountView is an account of a report (REP data.accounts).
type reportAccountView struct {
	ID                   string          `json:"id"`
	AccountNo            string          `json:"accountNo"`
	Name                 string          `json:"name"`
	Currency             string          `json:"currency"`
	Balance              string          `json:"balance"`
	AvailableFunds       string          `json:"availableFunds"`
	LastUpdated          string          `json:"lastUpdated"`
	Institution          string          `json:"institution"`
	Class                accountClass    `json:"class"`
	TransactionIntervals []txInterval    `json:"transactionIntervals"`
	AccountHolder        string          `json:"accountHolder"`
	AccountOwnership     string          `json:"accountOwnership"`
	Connection           string          `json:"connection"`
	Status               string          `json:"status"`
	CreditLimit          string          `json:"creditLimit"`
	Links                reportAcctLinks `json:"links"`
}

type txInterval struct {
	From string `json:"from"`
	To   string `json:"to"`
}

type reportAcctLinks struct {
	Self         string `json:"self"`
	Transactions string `json:"transactions"`
	Institution  string `json:"institution"`
}

func (s *Server) reportAccount(r accountRef) reportAccountView {
	p := s.txPlan(r)
	iv := txInterval{From: dayOf(r.conn.txAsOf).Format(dateLayout), To: dayOf(r.conn.txAsOf).Format(dateLayout)}
	if p.n > 0 {
		iv.From = p.row(r, p.n-1).post.Format(dateLayout)
	}
	return reportAccountView{
		ID: r.a.id, AccountNo: r.a.accountNo, Name: r.a.name, Currency: "AUD", Balance: r.a.balance,
		AvailableFunds: r.a.available, LastUpdated: stamp(r.a.lastUpdated), Institution: r.conn.instID,
		Class: accountClass{Type: r.a.class, Product: r.a.product}, TransactionIntervals: []txInterval{iv},
		AccountHolder: r.a.holder, AccountOwnership: "UNKNOWN", Connection: r.conn.id, Status: "available",
		CreditLimit: r.a.creditLimit,
		Links: reportAcctLinks{Self: s.accountURL(r.conn, r.a),
			Transactions: s.userURL(r.conn.userID) + "/transactions?filter=account.id.eq('" + r.a.id + "')",
			Institution:  s.institutionURL(r.conn.instID)},
	}
}

// subgroupName is what a transaction's subgroup is named: its merchant, or
// its description.
func subgroupName(t *snapTx) string {
	if e := t.view.Enrich; e != nil {
		return e.Merchant.BusinessName
	}
	return t.view.Description
}

// hashID is a 32-hex-digit id derived from s.
func hashID(s string) string { return hex64(fnv64(s)) + hex64(fnv64(s+"|")) }

// affordabilityReport computes a CON_AFFOR_01 report's data and its PDF's lines.
func (s *Server) affordabilityReport(refs []accountRef, r *report, p reportParams) (affordabilityData, []string) {
	days := int(p.to.Sub(p.from).Hours()/24) + 1
	a := &afford{months: float64(days) / 30.4375, group: map[string][]*snapTx{}, refs: refs}
	for i := range r.txs {
		t := &r.txs[i]
		a.group[groupOf(&t.view.transactionView)] = append(a.group[groupOf(&t.view.transactionView)], t)
		if t.cents < 0 {
			a.debits += t.cents
		} else {
			a.credits += t.cents
		}
	}
	d := affordabilityData{Metrics: []metricView{}, Groups: []groupView{}, Accounts: []reportAccountView{},
		Transactions: s.reportURL(r.id) + "/transactions"}
	lines := []string{r.title, "Consumer Affordability Report " + r.id,
		"Period " + p.from.Format(dateLayout) + " to " + p.to.Format(dateLayout), ""}
	for _, m := range affordMetrics() {
		if !p.metrics.includes(m.id) {
			continue
		}
		v := metricView{ID: m.id, Title: m.title, Description: m.description, Sections: []string{m.section},
			Result: metricResult{Value: m.value(a), Format: m.format}}
		d.Metrics = append(d.Metrics, v)
		lines = append(lines, fmt.Sprintf("%s %s: %s", m.id, m.title, v.Result.Value))
	}
	for _, g := range affordGroups {
		txs := a.group[g.id]
		if len(txs) == 0 || !p.groups.includes(g.id) {
			continue
		}
		gv := groupView{ID: g.id, Title: g.title, Sections: g.sections, Analysis: a.analysis(txs, p), Subgroup: []subgroupView{}}
		var names []string
		bySub := map[string][]*snapTx{}
		for _, t := range txs {
			n := subgroupName(t)
			if bySub[n] == nil {
				names = append(names, n)
			}
			bySub[n] = append(bySub[n], t)
		}
		for _, n := range names {
			sv := subgroupView{ID: hashID(n), Name: n, Analysis: a.analysis(bySub[n], p), Transactions: []groupTxView{}}
			for _, t := range bySub[n] {
				sv.Transactions = append(sv.Transactions, groupTxView{ID: t.view.ID, Date: stamp(t.row.post),
					Description: t.view.Description, Amount: t.view.Amount})
			}
			gv.Subgroup = append(gv.Subgroup, sv)
		}
		d.Groups = append(d.Groups, gv)
	}
	for _, ref := range refs {
		d.Accounts = append(d.Accounts, s.reportAccount(ref))
	}
	return d, lines
}

// analysis describes a set of transactions over the report's range.
func (a *afford) analysis(txs []*snapTx, p reportParams) analysisView {
	var total, credit, debit int64
	amounts := make([]int64, 0, len(txs))
	first, last := txs[0].row.post, txs[0].row.post
	for _, t := range txs {
		total += t.cents
		amounts = append(amounts, t.cents)
		if t.cents < 0 {
			debit += t.cents
		} else {
			credit += t.cents
		}
		first, last = minTime(first, t.row.post), maxTime(last, t.row.post)
	}
	slices.Sort(amounts)
	// Monthly totals over the calendar months of the range.
	var months []int64
	idx := map[string]int{}
	for m := time.Date(p.from.Year(), p.from.Month(), 1, 0, 0, 0, 0, time.UTC); !m.After(p.to); m = m.AddDate(0, 1, 0) {
		idx[m.Format("2006-01")] = len(months)
		months = append(months, 0)
	}
	for _, t := range txs {
		months[idx[t.row.post.Format("2006-01")]] += t.cents
	}
	stable, secure := 0, 0
	for _, m := range months {
		if m != 0 {
			stable++
		}
	}
	for _, m := range slices.Backward(months) {
		if m == 0 {
			break
		}
		secure++
	}
	ongoing := months[max(0, len(months)-3):]
	var ongoingSum int64
	for _, m := range ongoing {
		ongoingSum += m
	}
	sortedMonths := slices.Clone(months)
	slices.Sort(sortedMonths)
	n := int64(len(txs))
	share := func(part, whole int64) float64 {
		if whole == 0 {
			return 0
		}
		return math.Round(float64(part)/float64(whole)*1000) / 10
	}
	return analysisView{
		Summary: analysisSummary{TransactionCount: len(txs),
			OverallPercentage: overallPercentage{Credit: share(credit, a.credits), Debit: share(debit, a.debits)}},
		Range: analysisRange{StartDate: first.Format(dateLayout), EndDate: last.Format(dateLayout),
			Duration: int(last.Sub(first).Hours() / 24)},
		Amount: analysisAmount{Total: money(total), Min: money(amounts[0]), Max: money(amounts[len(amounts)-1]),
			Average: amountAverage{Transaction: money(total / n), Month: money(perMonth(total, a.months)),
				MedianTransaction: money(amounts[len(amounts)/2]), MedianMonth: money(sortedMonths[len(sortedMonths)/2]),
				OngoingMonth: money(perMonth(ongoingSum, float64(len(ongoing))))},
			StableMonths: stable, SecureMonths: secure},
		Frequency: frequency(txs, first, last, total/n),
	}
}

// frequency is how often a set of transactions recurs: the mean gap
// between its days, as a period.
func frequency(txs []*snapTx, first, last time.Time, avg int64) frequencyView {
	days := map[time.Time]bool{}
	for _, t := range txs {
		days[t.row.post] = true
	}
	irregular := frequencyView{Type: "irregular", Amount: money(avg), Display: "Irregular"}
	if len(days) < 2 {
		return irregular
	}
	gap := last.Sub(first).Hours() / 24 / float64(len(days)-1)
	var f frequencyView
	var next time.Time
	switch {
	case gap <= 3:
		f, next = frequencyView{Type: "P1D", Display: "Daily"}, last.AddDate(0, 0, 1)
	case gap <= 10:
		f, next = frequencyView{Type: "P1W", Display: "Weekly"}, last.AddDate(0, 0, 7)
	case gap <= 21:
		f, next = frequencyView{Type: "P2W", Display: "Fortnightly"}, last.AddDate(0, 0, 14)
	case gap <= 45:
		f, next = frequencyView{Type: "P1M", Display: "Monthly"}, last.AddDate(0, 1, 0)
	default:
		return irregular
	}
	f.Amount = money(avg)
	f.Next = &frequencyNext{Date: next.Format(dateLayout), Amount: money(avg)}
	return f
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
