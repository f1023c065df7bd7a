package basiq

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// TransactionStatus says whether a transaction has been posted. Unknown
// values are kept.
type TransactionStatus string

// Transaction statuses.
const (
	// TransactionPending: approved, not yet posted. A pending transaction
	// has no PostDate, and its id changes at every refresh of its
	// connection (Basiq replaces pending rows): store pending ones apart.
	TransactionPending TransactionStatus = "pending"
	// TransactionPosted: posted, as on a bank statement; its id is stable.
	TransactionPosted TransactionStatus = "posted"
)

// TransactionDirection says whether money left or entered the account.
type TransactionDirection string

// Transaction directions.
const (
	DirectionDebit  TransactionDirection = "debit"  // money out; Amount is negative
	DirectionCredit TransactionDirection = "credit" // money in
)

// TransactionClass is Basiq's classification of a transaction. Unknown
// values are kept.
type TransactionClass string

// Transaction classes (DATA3).
const (
	ClassBankFee        TransactionClass = "bank-fee"
	ClassPayment        TransactionClass = "payment"
	ClassCashWithdrawal TransactionClass = "cash-withdrawal"
	ClassTransfer       TransactionClass = "transfer"
	ClassLoanInterest   TransactionClass = "loan-interest"
	ClassRefund         TransactionClass = "refund"
	ClassDirectCredit   TransactionClass = "direct-credit"
	ClassInterest       TransactionClass = "interest"
	ClassLoanRepayment  TransactionClass = "loan-repayment"
)

// Transaction is one transaction of a user's account. Money is a decimal
// string, as Basiq sends it ("-124.69": negative is money out); parse it
// with a decimal type of your choice, never with float64.
//
// Extra keeps what the SDK does not decode: every member Basiq adds that
// has no field here, and any member whose JSON type its field cannot hold
// (a number where a string is documented), as raw JSON keyed by its dotted
// path from the transaction ("enrich.merchant.category", "subClass").
// It is nil when there is nothing of the kind, which is the usual case.
type Transaction struct {
	Type        string
	ID          string
	Status      TransactionStatus
	Description string
	Reference   string
	Amount      string // negative for money out
	Currency    string // ISO 4217: AUD, USD, GBP
	Balance     string // the account's balance after the transaction, when given
	Direction   TransactionDirection
	Class       TransactionClass
	SubClass    CodeTitle // for payments and some bank fees; empty otherwise

	AccountID     string // the account it belongs to ("account")
	ConnectionID  string // the connection that retrieved it ("connection")
	InstitutionID string // the institution it came from ("institution")

	// TransactionDate is when the user made the transaction, when the bank
	// says (often not): zero otherwise.
	TransactionDate time.Time
	// PostDate is when it was posted (the date on a statement); zero while pending.
	PostDate time.Time

	PaymentDetails PaymentDetails
	// Enrich is Basiq Enrich's view of the transaction (merchant, location,
	// category), for partners with Enrich; nil when the API sends null.
	Enrich *Enrich
	Links  TransactionLinks
	Extra  map[string]json.RawMessage
}

// Pending reports whether the transaction is not posted yet.
func (t *Transaction) Pending() bool { return t.Status == TransactionPending }

// CodeTitle is a classification: a code and its title. Codes are text
// even where Basiq sends a number.
type CodeTitle struct {
	Code  string
	Title string
}

// PaymentDetails are a transaction's payment details, when the bank gives them.
type PaymentDetails struct {
	BPay       BPay
	APCANumber string // the initiating institution's 6-digit APCA number
}

// BPay is a BPAY payment's biller and reference.
type BPay struct {
	BillerCode string
	BillerName string
	CRN        string
}

// TransactionLinks are a transaction's links.
type TransactionLinks struct {
	Self        string
	Account     string
	Institution string
	Connection  string
}

// Enrich is Basiq Enrich's data on a transaction.
type Enrich struct {
	CleanDescription string
	Tags             []string  // "tag_name:tag_value", e.g. "card:4615", "conduct:dishonour"
	Merchant         *Merchant // nil when unknown
	Location         *Location // nil when unknown
	Category         *Category // nil when unknown
}

// Merchant is the business a transaction was made with.
type Merchant struct {
	ID           string
	BusinessName string
	ABN          string // sent as "ABN" (schema) or "abn" (examples): either is read
	Website      string
	LogoMaster   string
	LogoThumb    string
	PhoneNumber  PhoneNumber
}

// PhoneNumber is a merchant's phone number in local and international form.
type PhoneNumber struct {
	Local         string
	International string
}

// Location is where a transaction happened.
type Location struct {
	RouteNo          string
	Route            string
	PostalCode       string
	Suburb           string
	State            string
	Country          string
	FormattedAddress string
	Geometry         Geometry
}

// Geometry is a latitude and longitude, as the decimal text Basiq sends.
type Geometry struct {
	Lat string
	Lng string
}

// Category is how Enrich classified a transaction.
type Category struct {
	MatchType  string // merchantFull, merchantPartial, mcc, ml, none
	MatchScore string // e.g. "1.0"
	MCC        CodeTitle
	ANZSIC     ANZSIC
}

// ANZSIC is an Australian and New Zealand Standard Industrial Classification.
type ANZSIC struct {
	Division    CodeTitle
	Subdivision CodeTitle
	Group       CodeTitle
	Class       CodeTitle
	Subclass    CodeTitle
}

// UnmarshalJSON decodes a transaction leniently: money and codes sent as
// numbers become text, "" and null dates are zero, a null enrich is nil, and
// whatever has no field is kept in Extra. null leaves t unchanged.
func (t *Transaction) UnmarshalJSON(b []byte) error {
	if isJSONNull(b) {
		return nil
	}
	var w txWire
	if err := json.Unmarshal(b, &w); err != nil && !isTypeError(err) {
		return err
	}
	extra, ok := walkObject(b, transactionShape)
	if !ok {
		return errors.New("basiq: a transaction must be a JSON object")
	}
	w.extra = extra
	*t = w.transaction()
	return nil
}

// txWire is a transaction as sent, with field types encoding/json decodes
// in one pass (lenientString only where Basiq's sources disagree on the
// type). Whatever its fields cannot hold, transactionShape sends to Extra.
type txWire struct {
	Type            string               `json:"type"`
	ID              string               `json:"id"`
	Status          TransactionStatus    `json:"status"`
	Description     string               `json:"description"`
	Reference       lenientString        `json:"reference"`
	Amount          lenientString        `json:"amount"`
	Currency        string               `json:"currency"`
	Balance         lenientString        `json:"balance"`
	Direction       TransactionDirection `json:"direction"`
	Class           TransactionClass     `json:"class"`
	SubClass        codeTitleWire        `json:"subClass"`
	Account         string               `json:"account"`
	Connection      string               `json:"connection"`
	Institution     string               `json:"institution"`
	TransactionDate string               `json:"transactionDate"`
	PostDate        string               `json:"postDate"`
	PaymentDetails  struct {
		BPay struct {
			BillerCode lenientString `json:"billerCode"`
			BillerName string        `json:"billerName"`
			CRN        lenientString `json:"crn"`
		} `json:"bpay"`
		APCANumber lenientString `json:"apcaNumber"`
	} `json:"paymentDetails"`
	Enrich *enrichWire `json:"enrich"`
	Links  struct {
		Self        string `json:"self"`
		Account     string `json:"account"`
		Institution string `json:"institution"`
		Connection  string `json:"connection"`
	} `json:"links"`

	extra extraMembers // from walkObject or scanListPage
}

type codeTitleWire struct {
	Code  lenientString `json:"code"`
	Title string        `json:"title"`
}

func (c codeTitleWire) value() CodeTitle { return CodeTitle{Code: string(c.Code), Title: c.Title} }

type enrichWire struct {
	CleanDescription string   `json:"cleanDescription"`
	Tags             []string `json:"tags"`
	Merchant         *struct {
		ID           string        `json:"id"`
		BusinessName string        `json:"businessName"`
		ABN          lenientString `json:"ABN"` // encoding/json matches "abn" too (case-insensitive)
		Website      string        `json:"website"`
		LogoMaster   string        `json:"logoMaster"`
		LogoThumb    string        `json:"logoThumb"`
		PhoneNumber  struct {
			Local         lenientString `json:"local"`
			International lenientString `json:"international"`
		} `json:"phoneNumber"`
	} `json:"merchant"`
	Location *struct {
		RouteNo          lenientString `json:"routeNo"`
		Route            string        `json:"route"`
		PostalCode       lenientString `json:"postalCode"`
		Suburb           string        `json:"suburb"`
		State            string        `json:"state"`
		Country          string        `json:"country"`
		FormattedAddress string        `json:"formattedAddress"`
		Geometry         struct {
			Lat lenientString `json:"lat"`
			Lng lenientString `json:"lng"`
		} `json:"geometry"`
	} `json:"location"`
	Category *struct {
		MatchType  string        `json:"matchType"`
		MatchScore lenientString `json:"matchScore"`
		MCC        codeTitleWire `json:"mcc"`
		ANZSIC     struct {
			Division    codeTitleWire `json:"division"`
			Subdivision codeTitleWire `json:"subdivision"`
			Group       codeTitleWire `json:"group"`
			Class       codeTitleWire `json:"class"`
			Subclass    codeTitleWire `json:"subclass"`
		} `json:"anzsic"`
	} `json:"category"`
}

// transactionShape is txWire's wire form (see extra.go); read-only.
var transactionShape = newShape(objectShape(map[string]*shape{
	"type": leaf(shapeString), "id": leaf(shapeString), "status": leaf(shapeString),
	"description": leaf(shapeString), "reference": leaf(shapeText), "amount": leaf(shapeText),
	"currency": leaf(shapeString), "balance": leaf(shapeText), "direction": leaf(shapeString),
	"class": leaf(shapeString), "subClass": codeTitleShape(),
	"account": leaf(shapeString), "connection": leaf(shapeString), "institution": leaf(shapeString),
	"transactionDate": leaf(shapeString), "postDate": leaf(shapeString),
	"paymentDetails": objectShape(map[string]*shape{
		"bpay": objectShape(map[string]*shape{
			"billerCode": leaf(shapeText), "billerName": leaf(shapeString), "crn": leaf(shapeText),
		}),
		"apcaNumber": leaf(shapeText),
	}),
	"enrich": objectShape(map[string]*shape{
		"cleanDescription": leaf(shapeString),
		"tags":             arrayShape(leaf(shapeString)),
		"merchant": objectShape(map[string]*shape{
			"id": leaf(shapeString), "businessName": leaf(shapeString),
			"ABN": leaf(shapeText), "abn": leaf(shapeText),
			"website": leaf(shapeString), "logoMaster": leaf(shapeString), "logoThumb": leaf(shapeString),
			"phoneNumber": objectShape(map[string]*shape{"local": leaf(shapeText), "international": leaf(shapeText)}),
		}),
		"location": objectShape(map[string]*shape{
			"routeNo": leaf(shapeText), "route": leaf(shapeString), "postalCode": leaf(shapeText),
			"suburb": leaf(shapeString), "state": leaf(shapeString), "country": leaf(shapeString),
			"formattedAddress": leaf(shapeString),
			"geometry":         objectShape(map[string]*shape{"lat": leaf(shapeText), "lng": leaf(shapeText)}),
		}),
		"category": objectShape(map[string]*shape{
			"matchType": leaf(shapeString), "matchScore": leaf(shapeText), "mcc": codeTitleShape(),
			"anzsic": objectShape(map[string]*shape{
				"division": codeTitleShape(), "subdivision": codeTitleShape(), "group": codeTitleShape(),
				"class": codeTitleShape(), "subclass": codeTitleShape(),
			}),
		}),
	}),
	"links": objectShape(map[string]*shape{
		"self": leaf(shapeString), "account": leaf(shapeString),
		"institution": leaf(shapeString), "connection": leaf(shapeString),
	}),
}))

func codeTitleShape() *shape {
	return objectShape(map[string]*shape{"code": leaf(shapeText), "title": leaf(shapeString)})
}

// transaction converts w, parsing its dates; a date that does not parse is
// zero and kept in Extra.
func (w *txWire) transaction() Transaction {
	t := Transaction{
		Type: w.Type, ID: w.ID, Status: w.Status, Description: w.Description, Reference: string(w.Reference),
		Amount: string(w.Amount), Currency: w.Currency, Balance: string(w.Balance), Direction: w.Direction,
		Class: w.Class, SubClass: w.SubClass.value(),
		AccountID: w.Account, ConnectionID: w.Connection, InstitutionID: w.Institution,
		TransactionDate: w.date("transactionDate", w.TransactionDate),
		PostDate:        w.date("postDate", w.PostDate),
		PaymentDetails: PaymentDetails{
			BPay: BPay{BillerCode: string(w.PaymentDetails.BPay.BillerCode), BillerName: w.PaymentDetails.BPay.BillerName,
				CRN: string(w.PaymentDetails.BPay.CRN)},
			APCANumber: string(w.PaymentDetails.APCANumber),
		},
		Links: TransactionLinks{Self: w.Links.Self, Account: w.Links.Account, Institution: w.Links.Institution, Connection: w.Links.Connection},
	}
	t.Enrich = w.Enrich.value()
	t.Extra = w.extra
	return t
}

// value converts Enrich's wire form; nil for nil.
func (e *enrichWire) value() *Enrich {
	if e == nil {
		return nil
	}
	out := &Enrich{CleanDescription: e.CleanDescription, Tags: e.Tags}
	if m := e.Merchant; m != nil {
		out.Merchant = &Merchant{ID: m.ID, BusinessName: m.BusinessName, ABN: string(m.ABN), Website: m.Website,
			LogoMaster: m.LogoMaster, LogoThumb: m.LogoThumb,
			PhoneNumber: PhoneNumber{Local: string(m.PhoneNumber.Local), International: string(m.PhoneNumber.International)}}
	}
	if l := e.Location; l != nil {
		out.Location = &Location{RouteNo: string(l.RouteNo), Route: l.Route, PostalCode: string(l.PostalCode),
			Suburb: l.Suburb, State: l.State, Country: l.Country, FormattedAddress: l.FormattedAddress,
			Geometry: Geometry{Lat: string(l.Geometry.Lat), Lng: string(l.Geometry.Lng)}}
	}
	if c := e.Category; c != nil {
		a := c.ANZSIC
		out.Category = &Category{MatchType: c.MatchType, MatchScore: string(c.MatchScore), MCC: c.MCC.value(),
			ANZSIC: ANZSIC{Division: a.Division.value(), Subdivision: a.Subdivision.value(), Group: a.Group.value(),
				Class: a.Class.value(), Subclass: a.Subclass.value()}}
	}
	return out
}

// date parses a date member; text that is not a date is kept in Extra.
func (w *txWire) date(name, s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	d := parseTime(s)
	if d.IsZero() {
		w.extra.add(name, strconv.AppendQuote(nil, s))
	}
	return d
}

// transactionDecoder decodes a page's transactions in order, from its data
// array, with one decoder and one wire value for the whole page (no
// allocation per item beyond the transaction's own text).
func transactionDecoder(data []byte) func(extra extraMembers) (Transaction, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	var w txWire
	opened := false
	return func(extra extraMembers) (Transaction, error) {
		if !opened {
			if _, err := dec.Token(); err != nil { // the array's '['
				return Transaction{}, err
			}
			opened = true
		}
		w = txWire{}
		if err := dec.Decode(&w); err != nil && !isTypeError(err) {
			return Transaction{}, err
		}
		w.extra = extra
		return w.fromPage()
	}
}

// fromPage is the transaction of a page's item: an error for an error
// envelope's member where a transaction should be.
func (w *txWire) fromPage() (Transaction, error) {
	if w.Type == "error" {
		// Basiq's error envelope is a list too: never read it as transactions.
		var code string
		_ = json.Unmarshal(w.extra["code"], &code)
		return Transaction{}, fmt.Errorf("the page holds an error (code %q) where a transaction should be", oneLine(code))
	}
	return w.transaction(), nil
}

// TransactionFilter narrows Transactions.All; the zero value (or nil) lists
// every transaction of the user. Fields are sent as Basiq's server-side
// filter, ANDed; empty fields do not filter.
type TransactionFilter struct {
	AccountID     string // account.id
	ConnectionID  string // connection.id
	InstitutionID string // institution.id
	Status        TransactionStatus
	Direction     TransactionDirection
	Class         TransactionClass
	// From and To bound the post date, inclusive, by calendar day (each
	// in its own location): both give transaction.postDate.bt('From','To'),
	// one alone gteq or lteq. Pending transactions have no post date, so a
	// date range leaves them out.
	From, To time.Time
	// PageSize is how many transactions each page asks for (limit): 1 to
	// 500, 0 for Basiq's default of 500. It changes the number of requests,
	// not the transactions yielded. A report's transactions
	// (Reports.Transactions) take no page size: leave it 0 there.
	PageSize int
	// Where adds statements beyond the fields, ANDed with them. Basiq
	// documents, for a user's transactions: account.id, connection.id,
	// institution.id, transaction.class, transaction.status and
	// transaction.direction (eq, ne), and transaction.postDate (eq, ne,
	// gt, gteq, lt, lteq, bt); a report's transactions also take
	// transaction.id (eq, ne).
	Where []Condition
}

// query renders f as the first page's query of a user's transactions.
func (f *TransactionFilter) query() (url.Values, error) {
	q, err := f.filter(transactionVocab)
	if err != nil {
		return nil, err
	}
	size := 0
	if f != nil {
		size = f.PageSize
	}
	if size < 0 || size > maxPageSize {
		return nil, invalidInput("TransactionFilter.PageSize %d is outside 1..%d", size, maxPageSize)
	}
	if size == 0 {
		size = maxPageSize
	}
	if q == nil {
		q = url.Values{}
	}
	q["limit"] = []string{strconv.Itoa(size)}
	return q, nil
}

// filter renders f's filter statements, its Where checked against vocab.
func (f *TransactionFilter) filter(vocab filterVocab) (url.Values, error) {
	var tf TransactionFilter
	if f != nil {
		tf = *f
	}
	statements, err := eqFields(
		[2]string{"account.id", tf.AccountID},
		[2]string{"connection.id", tf.ConnectionID},
		[2]string{"institution.id", tf.InstitutionID},
		[2]string{"transaction.status", string(tf.Status)},
		[2]string{"transaction.direction", string(tf.Direction)},
		[2]string{"transaction.class", string(tf.Class)},
	)
	if err != nil {
		return nil, err
	}
	const day = "2006-01-02"
	var dates string
	switch from, to := tf.From, tf.To; {
	case !from.IsZero() && !to.IsZero():
		if from.Format(day) > to.Format(day) {
			return nil, invalidInput("TransactionFilter.From is after To")
		}
		dates, err = filterStatement("transaction.postDate", opBt, from.Format(day), to.Format(day))
	case !from.IsZero():
		dates, err = filterStatement("transaction.postDate", opGteq, from.Format(day))
	case !to.IsZero():
		dates, err = filterStatement("transaction.postDate", opLteq, to.Format(day))
	}
	if err != nil {
		return nil, err
	}
	more, err := conditions("TransactionFilter", vocab, tf.Where)
	if err != nil {
		return nil, err
	}
	return filterQuery(append(append(statements, dates), more...)...), nil
}

// maxPageSize is Basiq's largest (and default) page of transactions.
const maxPageSize = 500

// TransactionsService reads a user's transactions.
type TransactionsService struct {
	c *Client
}

func (s *TransactionsService) client() *Client {
	if s == nil {
		return nil
	}
	return s.c
}

// All yields every transaction of the user matching filter (nil for all),
// in Basiq's order: by account, then newest post date first, pending ones
// first (GET /users/{userId}/transactions, following links.next).
//
// Pages are fetched lazily, PageSize (500) transactions at a time, each only
// once the caller has taken every transaction of the one before, so memory
// holds one page whatever the total; breaking out of the loop stops
// fetching. A page is retried like any GET; a page that still fails, a
// malformed page or item, a links.next the SDK does not follow
// (ErrUntrustedLink) or a loop (ErrPagingLoop) is yielded as the error, and
// the iteration ends there. Invalid arguments are yielded as an error
// matching ErrInvalidInput before any request.
func (s *TransactionsService) All(ctx context.Context, userID string, filter *TransactionFilter) iter.Seq2[Transaction, error] {
	q, err := filter.query()
	if err != nil {
		return func(yield func(Transaction, error) bool) { yield(Transaction{}, err) }
	}
	return listAll(ctx, s.client(), apiRequest{
		method: http.MethodGet, route: "/users/{userId}/transactions", params: []string{userID}, query: q,
	}, listSource[Transaction]{shape: transactionShape, items: transactionDecoder})
}

// Get returns one transaction (GET /users/{userId}/transactions/{transactionId}).
func (s *TransactionsService) Get(ctx context.Context, userID, transactionID string) (*Transaction, error) {
	var t Transaction
	if _, err := s.client().do(ctx, apiRequest{
		method: http.MethodGet, route: "/users/{userId}/transactions/{transactionId}", params: []string{userID, transactionID},
	}, &t); err != nil {
		return nil, err
	}
	return &t, nil
}
