package basiqtest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Transactions are not stored: each account's are a pure function of the
// data seed (WithDataSeed), the login, the account's place in its
// connection, the transaction's index and the days retrieve-transactions
// ran since the connection's data was made or purged, so thousands cost no
// memory and every page is computed when asked for. The first retrieval
// makes the history (txPlan: index 0 is the newest, pending ones first,
// then posted ones, newest post date first, as Basiq orders them); each
// later retrieval evolves it (transactions_evolve.go).

// txRow is what a filter looks at, before a transaction is rendered.
type txRow struct {
	ref     accountRef
	id      uint64 // the index in the transaction's id (transactionID)
	pending bool
	post    time.Time // zero when pending
	class   string
	debit   bool
	rnd     uint64  // the transaction's own random bits
	revised bool    // its details were corrected after it posted (transactions_evolve.go)
	csv     *stmtTx // a CSV statement's row (statement_csv.go); nil for generated ones
}

// txPlan is an account's first history: how many transactions, how many
// pending, and the seed they come from.
type txPlan struct {
	n, pending, perDay int
	key                uint64
	anchor             time.Time    // the bank's "today": the day of the first retrieval
	csv                *stmtAccount // a CSV statement's account: its rows, not generated ones
}

func (s *Server) txPlan(r accountRef) txPlan {
	if st := r.conn.stmt; st != nil && st.format == "csv" && r.ordinal < len(st.accts) {
		a := &st.accts[r.ordinal]
		return txPlan{n: len(a.txs), csv: a}
	}
	n := s.cfg.txPerAccount
	h := fnv.New64a()
	fmt.Fprintf(h, "%d|%s|%s|%d", s.cfg.dataSeed, r.conn.instID, r.conn.creds.loginID, r.ordinal)
	first := r.conn.txAsOf
	if len(r.conn.txRetrievals) > 0 {
		first = r.conn.txRetrievals[0]
	}
	return txPlan{
		n: n, pending: min(3, n/8), perDay: max(2, (n+historyDays-1)/historyDays),
		key: h.Sum64(), anchor: dayOf(first),
	}
}

// splitmix64 scrambles x into well-mixed bits.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// txClasses are the classes the fake's banks produce, most often first.
var txClasses = [...]string{"payment", "payment", "payment", "payment", "transfer", "transfer",
	"direct-credit", "bank-fee", "cash-withdrawal", "refund", "interest", "loan-repayment"}

// row is the first history's transaction i.
func (p txPlan) row(r accountRef, i int) txRow {
	if p.csv != nil {
		t := &p.csv.txs[i]
		return txRow{ref: r, id: uint64(i), post: t.date, debit: t.cents < 0, class: classify(t.description, t.cents < 0), csv: t}
	}
	x := splitmix64(p.key ^ uint64(i)*0x9e3779b97f4a7c15)
	var post time.Time
	if i >= p.pending {
		post = p.anchor.AddDate(0, 0, -(i-p.pending)/p.perDay)
	}
	return newTxRow(r, uint64(i), x, post)
}

// newTxRow is a transaction with its id index, random bits and post date
// (zero: pending).
func newTxRow(r accountRef, id, x uint64, post time.Time) txRow {
	row := txRow{ref: r, id: id, pending: post.IsZero(), post: post, rnd: x, class: txClasses[x%uint64(len(txClasses))]}
	switch row.class {
	case "direct-credit", "refund", "interest":
	case "transfer":
		row.debit = x>>8&1 == 0
	default:
		row.debit = true
	}
	return row
}

// merchant is a business the fake's card payments go to, with its Enrich data.
type merchant struct {
	name, description, abn, suburb, state, postcode, anzsicGroup, anzsicTitle string
}

var merchants = [...]merchant{
	{"McDonald's", "MCDONALDS HEATHERTON", "43005496997", "Heatherton", "VIC", "3202", "451", "Cafes, Restaurants and Takeaway Food Services"},
	{"Woolworths", "WOOLWORTHS 1234 SYDNEY", "88000014675", "Sydney", "NSW", "2000", "411", "Supermarket and Grocery Stores"},
	{"Garfish Manly", "GARFISH MANLY", "90065628864", "Manly", "NSW", "2095", "451", "Cafes, Restaurants and Takeaway Food Services"},
	{"Ampol", "AMPOL BONDI JUNCTION", "40004201307", "Bondi Junction", "NSW", "2022", "400", "Fuel Retailing"},
	{"JB Hi-Fi", "JB HI FI MELBOURNE", "37093114286", "Melbourne", "VIC", "3000", "422", "Electrical and Electronic Goods Retailing"},
}

// transactionView is the wire form of a transaction (GET /users/{userId}/transactions).
type transactionView struct {
	Type            string          `json:"type"`
	ID              string          `json:"id"`
	Status          string          `json:"status"`
	Description     string          `json:"description"`
	Reference       string          `json:"reference"`
	Amount          string          `json:"amount"`
	Currency        string          `json:"currency"`
	Direction       string          `json:"direction"`
	Class           string          `json:"class"`
	SubClass        codeTitle       `json:"subClass"`
	Account         string          `json:"account"`
	Connection      string          `json:"connection"`
	Institution     string          `json:"institution"`
	TransactionDate any             `json:"transactionDate"`
	PostDate        any             `json:"postDate"`
	PaymentDetails  *paymentDetails `json:"paymentDetails,omitempty"`
	Enrich          *enrichView     `json:"enrich"`
	Links           txLinks         `json:"links"`
}

type codeTitle struct {
	Code  string `json:"code"`
	Title string `json:"title"`
}

type paymentDetails struct {
	BPay       bpayView `json:"bpay"`
	APCANumber string   `json:"apcaNumber"`
}

type bpayView struct {
	BillerCode string `json:"billerCode"`
	BillerName string `json:"billerName"`
	CRN        string `json:"crn"`
}

type enrichView struct {
	CleanDescription string       `json:"cleanDescription"`
	Tags             []string     `json:"tags"`
	Merchant         merchantView `json:"merchant"`
	Location         locationView `json:"location"`
	Category         categoryView `json:"category"`
}

type merchantView struct {
	ID           string    `json:"id"`
	BusinessName string    `json:"businessName"`
	ABN          string    `json:"ABN"`
	Website      string    `json:"website"`
	LogoMaster   string    `json:"logoMaster"`
	LogoThumb    string    `json:"logoThumb"`
	PhoneNumber  phoneView `json:"phoneNumber"`
}

type phoneView struct {
	Local         string `json:"local"`
	International string `json:"international"`
}

type locationView struct {
	RouteNo          string   `json:"routeNo"`
	Route            string   `json:"route"`
	PostalCode       string   `json:"postalCode"`
	Suburb           string   `json:"suburb"`
	State            string   `json:"state"`
	Country          string   `json:"country"`
	FormattedAddress string   `json:"formattedAddress"`
	Geometry         geometry `json:"geometry"`
}

type geometry struct {
	Lat string `json:"lat"`
	Lng string `json:"lng"`
}

type categoryView struct {
	MatchType  string     `json:"matchType"`
	MatchScore string     `json:"matchScore"`
	MCC        codeTitle  `json:"mcc"`
	ANZSIC     anzsicView `json:"anzsic"`
}

type anzsicView struct {
	Division    codeTitle `json:"division"`
	Subdivision codeTitle `json:"subdivision"`
	Group       codeTitle `json:"group"`
	Class       codeTitle `json:"class"`
	Subclass    codeTitle `json:"subclass"`
}

type txLinks struct {
	Self        string `json:"self"`
	Account     string `json:"account"`
	Institution string `json:"institution"`
	Connection  string `json:"connection"`
}

// transactionID is a transaction's id: its account's id with the index in
// place of the last 12 hex digits, so that the id leads back to both.
func transactionID(accountID string, i uint64) string {
	return accountID[:24] + fmt.Sprintf("%012x", i)
}

// view renders a row.
func (s *Server) transactionView(row txRow) transactionView {
	r, x := row.ref, row.rnd
	id := transactionID(r.a.id, row.id)
	if t := row.csv; t != nil {
		v := transactionView{
			Type: "transaction", ID: id, Status: "posted", Description: t.description, Amount: money(t.cents),
			Currency: "AUD", Direction: "credit", Class: row.class, Account: r.a.id, Connection: r.conn.id,
			Institution: r.conn.instID, TransactionDate: stamp(t.date), PostDate: stamp(t.date),
			Links: txLinks{Self: s.userURL(r.conn.userID) + "/transactions/" + id, Account: s.accountURL(r.conn, r.a),
				Institution: s.institutionURL(r.conn.instID), Connection: s.connectionURL(r.conn)},
		}
		if row.debit {
			v.Direction = "debit"
		}
		return v
	}
	cents := 500 + int(x>>16%40000)
	v := transactionView{
		Type: "transaction", ID: id, Status: "posted", Currency: "AUD", Direction: "credit", Class: row.class,
		Account: r.a.id, Connection: r.conn.id, Institution: r.conn.instID,
		TransactionDate: "", PostDate: stamp(row.post),
		Links: txLinks{
			Self:        s.userURL(r.conn.userID) + "/transactions/" + id,
			Account:     s.accountURL(r.conn, r.a),
			Institution: s.institutionURL(r.conn.instID),
			Connection:  s.connectionURL(r.conn),
		},
	}
	if row.pending {
		v.Status, v.PostDate = "pending", nil
	}
	if row.debit {
		v.Direction = "debit"
	}
	switch row.class {
	case "payment":
		m := merchants[x>>32%uint64(len(merchants))]
		v.Description = m.description
		v.SubClass = codeTitle{Code: m.anzsicGroup, Title: m.anzsicTitle}
		if !row.pending {
			v.TransactionDate = stamp(row.post.AddDate(0, 0, -1))
		}
		v.Enrich = enrichFor(m, x)
	case "transfer":
		if row.debit {
			v.Description = fmt.Sprintf("BPAY %s %d", "AGL ENERGY", 23000+x>>24%1000)
			v.PaymentDetails = &paymentDetails{BPay: bpayView{BillerCode: "23796", BillerName: "AGL ENERGY",
				CRN: fmt.Sprintf("%010d", x>>20%10000000000)}, APCANumber: "062000"}
		} else {
			v.Description = "TRANSFER FROM " + strings.ToUpper(r.conn.creds.loginID)
		}
		v.TransactionDate = nil
	case "direct-credit":
		v.Description, cents = "SALARY HOOLI PTY LTD", 250000+int(x>>16%150000)
	case "bank-fee":
		v.Description, cents = "MONTHLY ACCOUNT FEE", 500
	case "cash-withdrawal":
		v.Description, cents = "ATM WITHDRAWAL "+strings.ToUpper(merchants[x>>32%uint64(len(merchants))].suburb), 2000+int(x>>16%30)*1000
	case "refund":
		v.Description = "REFUND " + merchants[x>>32%uint64(len(merchants))].description
	case "interest":
		v.Description, cents = "INTEREST CREDIT", 100+int(x>>16%5000)
	default:
		v.Description = "LOAN REPAYMENT"
	}
	if row.revised {
		v.Description += " (CORRECTED)"
	}
	v.Reference = fmt.Sprintf("%09d", x>>40%1000000000)
	amount := fmt.Sprintf("%d.%02d", cents/100, cents%100)
	if row.debit {
		amount = "-" + amount
	}
	v.Amount = amount
	return v
}

func enrichFor(m merchant, x uint64) *enrichView {
	return &enrichView{
		CleanDescription: m.name,
		Tags:             []string{fmt.Sprintf("card:%04d", x>>48%10000)},
		Merchant: merchantView{
			ID: fmt.Sprintf("ae4a051c-4791-11e8-8750-%012x", fnv64(m.name)%(1<<48)), BusinessName: m.name, ABN: m.abn,
			Website:     "https://www." + strings.ToLower(strings.Map(websiteRune, m.name)) + ".com.au/",
			LogoMaster:  "https://enrich.example/logos/" + m.abn + "-master.png",
			LogoThumb:   "https://enrich.example/logos/" + m.abn + "-thumb.png",
			PhoneNumber: phoneView{Local: "(02) 9977 0707", International: "+61 2 9977 0707"},
		},
		Location: locationView{
			RouteNo: "1", Route: "Main Street", PostalCode: m.postcode, Suburb: m.suburb, State: m.state, Country: "Australia",
			FormattedAddress: "1 Main Street, " + m.suburb + " " + m.state + " " + m.postcode,
			Geometry:         geometry{Lat: "-33.79988520000001", Lng: "151.2858021"},
		},
		Category: categoryView{
			MatchType: "merchantFull", MatchScore: "1.0", MCC: codeTitle{Code: "5812", Title: "Eating Places, Restaurants"},
			ANZSIC: anzsicView{
				Division:    codeTitle{Code: "H", Title: "Accommodation and Food Services"},
				Subdivision: codeTitle{Code: m.anzsicGroup[:2], Title: m.anzsicTitle},
				Group:       codeTitle{Code: m.anzsicGroup, Title: m.anzsicTitle},
				Class:       codeTitle{Code: m.anzsicGroup + "1", Title: m.anzsicTitle},
				Subclass:    codeTitle{Code: m.anzsicGroup + "100", Title: m.anzsicTitle},
			},
		},
	}
}

// websiteRune drops the characters a merchant's name loses in its web address.
func websiteRune(r rune) rune {
	if r == ' ' || r == '\'' || r == '-' {
		return -1
	}
	return r
}

func fnv64(s string) uint64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(s))
	return h.Sum64()
}

// transactionFields are the filterable properties of
// GET /users/{userId}/transactions (DATA3, and connection.id as Basiq's own
// links use it). The post date takes every documented operator.
func transactionFields() map[string]fieldFilter[txRow] {
	eq := []string{"eq", "ne"}
	return map[string]fieldFilter[txRow]{
		"account.id":     {ops: eq, text: func(r txRow) string { return r.ref.a.id }},
		"connection.id":  {ops: eq, text: func(r txRow) string { return r.ref.conn.id }},
		"institution.id": {ops: eq, text: func(r txRow) string { return r.ref.conn.instID }},
		"transaction.status": {ops: eq, text: func(r txRow) string {
			if r.pending {
				return "pending"
			}
			return "posted"
		}},
		"transaction.direction": {ops: eq, text: func(r txRow) string {
			if r.debit {
				return "debit"
			}
			return "credit"
		}},
		"transaction.class": {ops: eq, text: func(r txRow) string { return r.class }},
		"transaction.postDate": {ops: []string{"eq", "ne", "gt", "gteq", "lt", "lteq", "bt"},
			day: func(r txRow) (time.Time, bool) { return r.post, !r.pending }},
	}
}

// cursor is where the next page of a transaction list starts, with the
// request it continues. It travels base64url-encoded as ?next=, opaque to
// clients, like Basiq's.
type cursor struct {
	User    string `json:"u"`
	Filter  string `json:"f,omitempty"`
	Limit   int    `json:"l"`
	Account string `json:"a"`
	Index   int    `json:"i"`
}

func (c cursor) encode() string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) (cursor, bool) {
	var c cursor
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || json.Unmarshal(b, &c) != nil || c.Limit < 1 || c.Limit > maxLimit || c.Index < 0 {
		return cursor{}, false
	}
	return c, true
}

// maxLimit is the largest (and default) page of transactions.
const maxLimit = 500

// listTransactions serves GET /users/{userId}/transactions: pages of up to
// limit (default and most 500) transactions, with an absolute links.next
// carrying an opaque next cursor until the last page. A request with next
// continues the listing it came from (its filter and limit); the other
// parameters are ignored.
func (s *Server) listTransactions(c *call) reply {
	u, rp, ok := s.lookupUser(c)
	if !ok {
		return rp
	}
	q := c.req.URL.Query()
	cur := cursor{User: u.id, Filter: q.Get("filter"), Limit: maxLimit}
	if next := q.Get("next"); next != "" {
		var ok bool
		if cur, ok = decodeCursor(next); !ok || cur.User != u.id {
			return errorReply(http.StatusBadRequest, errNotValid("The provided next parameter is not valid", "", "next"))
		}
	} else if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > maxLimit {
			return errorReply(http.StatusBadRequest, errNotValid("Limit must be a number between 1 and 500", "", "limit"))
		}
		cur.Limit = n
	}
	keep, ok := compileFieldFilter(cur.Filter, transactionFields())
	if !ok {
		return errorReply(http.StatusBadRequest, errBadFilter())
	}
	out := struct {
		Type  string            `json:"type"`
		Count int               `json:"count"`
		Size  int               `json:"size"`
		Data  []transactionView `json:"data"`
		Links struct {
			Self string `json:"self"`
			Next string `json:"next,omitempty"`
		} `json:"links"`
	}{Type: "list", Size: cur.Limit, Data: make([]transactionView, 0, min(cur.Limit, 64))}
	out.Links.Self = s.userURL(u.id) + "/transactions"
	if raw := c.req.URL.RawQuery; raw != "" {
		out.Links.Self += "?" + raw
	}
	accts := s.userAccounts(u)
	start := 0
	if cur.Account != "" {
		start = len(accts) // an account gone since the last page: nothing more
		for k, r := range accts {
			if r.a.id == cur.Account {
				start = k
				break
			}
		}
	}
scan:
	for k := start; k < len(accts); k++ {
		r := accts[k]
		if r.conn.txAsOf.IsZero() {
			continue
		}
		txs := s.accountTransactions(r)
		i := 0
		if k == start {
			i = cur.Index
		}
		for ; i < txs.len(); i++ {
			row := txs.at(i)
			if !keep(row) {
				continue
			}
			if len(out.Data) == cur.Limit {
				next := cur
				next.Account, next.Index = r.a.id, i
				out.Links.Next = s.userURL(u.id) + "/transactions?next=" + next.encode()
				break scan
			}
			out.Data = append(out.Data, s.transactionView(row))
		}
	}
	out.Count = len(out.Data)
	return jsonReply(http.StatusOK, out)
}

// getTransaction serves GET /users/{userId}/transactions/{transactionId}.
func (s *Server) getTransaction(c *call) reply {
	u, rp, ok := s.lookupUser(c)
	if !ok {
		return rp
	}
	id := c.param("transactionId")
	notFound := errorReply(http.StatusNotFound, errNotFound("Requested transaction does not exist."))
	if len(id) != 36 {
		return notFound
	}
	idx, err := strconv.ParseUint(id[24:], 16, 48)
	if err != nil {
		return notFound
	}
	for _, r := range s.userAccounts(u) {
		if r.conn.txAsOf.IsZero() || r.a.id[:24] != id[:24] {
			continue
		}
		if row, ok := s.accountTransactions(r).find(idx); ok && transactionID(r.a.id, idx) == id {
			return jsonReply(http.StatusOK, s.transactionView(row))
		}
	}
	return notFound
}
