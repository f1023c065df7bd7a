package basiq

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"
)

// Account is a bank account of a user (API 3.0's full account; the accounts
// inside a Connection carry fewer fields and leave the others empty). Money
// fields are decimal strings as Basiq sends them ("356.50"), "" when the
// bank gives none; parse them with a decimal type, never with float64.
//
// Extra keeps what the SDK does not decode: every member Basiq adds that
// has no field here, and any member whose JSON type its field cannot hold,
// as raw JSON keyed by its dotted path from the account ("purses[0].note").
// It is nil when there is nothing of the kind.
type Account struct {
	Type string
	ID   string
	Name string
	// AccountNo is the BSB and account number as Basiq shows it.
	AccountNo string
	// BSB and UnmaskedAccountNo are the unmasked BSB and account number,
	// digits only, when the data holder shares them (open banking).
	BSB               string
	UnmaskedAccountNo string // "unmaskedAccNum"
	MaskedNumber      string // a masked account number or card PAN
	AccountHolder     string // the holder's name as the bank gives it
	Currency          string
	Balance           string // "" when the bank gives none
	AvailableFunds    string // "" when the bank gives none
	CreditLimit       string
	AmortisedLimit    string
	Class             AccountClass
	Status            string // "available" or "unavailable"
	LastUpdated       time.Time
	CreationDate      time.Time // when the account was opened, if known
	// IsOwned says the consenting user owns the account (perhaps with
	// others); true when Basiq leaves it out, as it documents.
	IsOwned          bool
	AccountOwnership string // UNKNOWN, ONE_PARTY, TWO_PARTY, MANY_PARTY, OTHER
	ConnectionID     string // "connection"
	InstitutionID    string // "institution"
	// TransactionIntervals are the date ranges transactions were retrieved
	// for: one per bank connection, more after statement uploads.
	TransactionIntervals []TransactionInterval
	DepositRate          string
	LendingRate          string
	BundleName           string
	Purses               []Purse // balances in other currencies (travel cards)
	// Meta is the account's open-banking product detail as sent (fees,
	// depositRates, lendingRates, termDeposit, loan, creditCard, features,
	// addresses); nil when absent.
	Meta  json.RawMessage
	Links AccountLinks
	Extra map[string]json.RawMessage
}

// AccountClass is an account's type ("transaction", "savings",
// "credit-card", "mortgage", "loan", "investment", "term-deposit",
// "insurance", "foreign", "unknown") and product name.
type AccountClass struct {
	Type    string `json:"type"`
	Product string `json:"product"`
}

// AccountLinks are an account's links.
type AccountLinks struct {
	Self         string `json:"self"`
	Transactions string `json:"transactions"`
	Connection   string `json:"connection"`
	Institution  string `json:"institution"`
}

// TransactionInterval is a range of dates transactions were retrieved for.
type TransactionInterval struct {
	From time.Time
	To   time.Time
}

// Purse is a balance in another currency.
type Purse struct {
	Amount   string
	Currency string
}

// acctWire is an account as sent; accountShape is its wire form (extra.go).
type acctWire struct {
	Type                 string        `json:"type"`
	ID                   string        `json:"id"`
	Name                 string        `json:"name"`
	AccountNo            lenientString `json:"accountNo"`
	BSB                  lenientString `json:"bsb"`
	UnmaskedAccNum       lenientString `json:"unmaskedAccNum"`
	MaskedNumber         lenientString `json:"maskedNumber"`
	AccountHolder        string        `json:"accountHolder"`
	Currency             string        `json:"currency"`
	Balance              lenientString `json:"balance"`
	AvailableFunds       lenientString `json:"availableFunds"`
	CreditLimit          lenientString `json:"creditLimit"`
	AmortisedLimit       lenientString `json:"amortisedLimit"`
	Class                AccountClass  `json:"class"`
	Status               string        `json:"status"`
	LastUpdated          string        `json:"lastUpdated"`
	CreationDate         string        `json:"creationDate"`
	IsOwned              *lenientBool  `json:"isOwned"`
	AccountOwnership     string        `json:"accountOwnership"`
	Connection           string        `json:"connection"`
	Institution          string        `json:"institution"`
	TransactionIntervals []struct {
		From string `json:"from"`
		To   string `json:"to"`
	} `json:"transactionIntervals"`
	DepositRate lenientString `json:"depositRate"`
	LendingRate lenientString `json:"lendingRate"`
	BundleName  string        `json:"bundleName"`
	Purses      []struct {
		Amount   lenientString `json:"amount"`
		Currency string        `json:"currency"`
	} `json:"purses"`
	Meta  json.RawMessage `json:"meta"`
	Links AccountLinks    `json:"links"`
}

var accountShape = newShape(objectShape(map[string]*shape{
	"type": leaf(shapeString), "id": leaf(shapeString), "name": leaf(shapeString),
	"accountNo": leaf(shapeText), "bsb": leaf(shapeText), "unmaskedAccNum": leaf(shapeText),
	"maskedNumber": leaf(shapeText), "accountHolder": leaf(shapeString), "currency": leaf(shapeString),
	"balance": leaf(shapeText), "availableFunds": leaf(shapeText), "creditLimit": leaf(shapeText),
	"amortisedLimit": leaf(shapeText),
	"class":          objectShape(map[string]*shape{"type": leaf(shapeString), "product": leaf(shapeString)}),
	"status":         leaf(shapeString), "lastUpdated": leaf(shapeString), "creationDate": leaf(shapeString),
	"isOwned": leaf(shapeBool), "accountOwnership": leaf(shapeString),
	"connection": leaf(shapeString), "institution": leaf(shapeString),
	"transactionIntervals": arrayShape(objectShape(map[string]*shape{"from": leaf(shapeString), "to": leaf(shapeString)})),
	"depositRate":          leaf(shapeText), "lendingRate": leaf(shapeText), "bundleName": leaf(shapeString),
	"purses": arrayShape(objectShape(map[string]*shape{"amount": leaf(shapeText), "currency": leaf(shapeString)})),
	"meta":   leaf(shapeRaw),
	"links": objectShape(map[string]*shape{
		"self": leaf(shapeString), "transactions": leaf(shapeString),
		"connection": leaf(shapeString), "institution": leaf(shapeString),
	}),
}))

// UnmarshalJSON decodes an account leniently: money sent as numbers becomes
// text, null money and dates are empty, and whatever has no field is kept in
// Extra. null leaves a unchanged.
func (a *Account) UnmarshalJSON(b []byte) error {
	if isJSONNull(b) {
		return nil
	}
	var w acctWire
	if err := json.Unmarshal(b, &w); err != nil && !isTypeError(err) {
		return err
	}
	extra, ok := walkObject(b, accountShape)
	if !ok {
		return errors.New("basiq: an account must be a JSON object")
	}
	date := func(name, s string) time.Time {
		if s == "" {
			return time.Time{}
		}
		d := parseTime(s)
		if d.IsZero() {
			extra.add(name, strconv.AppendQuote(nil, s))
		}
		return d
	}
	*a = Account{
		Type: w.Type, ID: w.ID, Name: w.Name, AccountNo: string(w.AccountNo), BSB: string(w.BSB),
		UnmaskedAccountNo: string(w.UnmaskedAccNum), MaskedNumber: string(w.MaskedNumber), AccountHolder: w.AccountHolder,
		Currency: w.Currency, Balance: string(w.Balance), AvailableFunds: string(w.AvailableFunds),
		CreditLimit: string(w.CreditLimit), AmortisedLimit: string(w.AmortisedLimit), Class: w.Class, Status: w.Status,
		LastUpdated: date("lastUpdated", w.LastUpdated), CreationDate: date("creationDate", w.CreationDate),
		IsOwned: w.IsOwned == nil || bool(*w.IsOwned), AccountOwnership: w.AccountOwnership,
		ConnectionID: w.Connection, InstitutionID: w.Institution,
		DepositRate: string(w.DepositRate), LendingRate: string(w.LendingRate), BundleName: w.BundleName,
		Links: w.Links,
	}
	for i, in := range w.TransactionIntervals {
		prefix := "transactionIntervals[" + strconv.Itoa(i) + "]."
		a.TransactionIntervals = append(a.TransactionIntervals, TransactionInterval{
			From: date(prefix+"from", in.From), To: date(prefix+"to", in.To),
		})
	}
	for _, p := range w.Purses {
		a.Purses = append(a.Purses, Purse{Amount: string(p.Amount), Currency: p.Currency})
	}
	if len(w.Meta) > 0 && !isJSONNull(w.Meta) {
		a.Meta = w.Meta
	}
	a.Extra = extra
	return nil
}

// AccountFilter narrows Accounts.List; empty fields do not filter. Basiq
// filters accounts by equality only.
type AccountFilter struct {
	ConnectionID  string // connection.id
	InstitutionID string // institution.id
	AccountID     string // account.id
	// Where adds statements beyond the fields (every operator, ne
	// included), ANDed with them. Basiq documents, for this list: account.id, connection.id and institution.id, with eq and ne.
	Where []Condition
}

// AccountsService reads a user's accounts.
type AccountsService struct {
	c *Client
}

func (s *AccountsService) client() *Client {
	if s == nil {
		return nil
	}
	return s.c
}

// List returns the user's accounts matching filter (nil for all)
// (GET /users/{userId}/accounts).
func (s *AccountsService) List(ctx context.Context, userID string, filter *AccountFilter) ([]Account, error) {
	var f AccountFilter
	if filter != nil {
		f = *filter
	}
	statements, err := eqFields(
		[2]string{"connection.id", f.ConnectionID},
		[2]string{"institution.id", f.InstitutionID},
		[2]string{"account.id", f.AccountID},
	)
	if err != nil {
		return nil, err
	}
	more, err := conditions("AccountFilter", accountVocab, f.Where)
	if err != nil {
		return nil, err
	}
	statements = append(statements, more...)
	var list listOf[Account]
	if _, err := s.client().do(ctx, apiRequest{
		method: http.MethodGet, route: "/users/{userId}/accounts", params: []string{userID}, query: filterQuery(statements...),
	}, &list); err != nil {
		return nil, err
	}
	return list.Data, nil
}

// Get returns one account (GET /users/{userId}/accounts/{accountId}).
func (s *AccountsService) Get(ctx context.Context, userID, accountID string) (*Account, error) {
	var a Account
	if _, err := s.client().do(ctx, apiRequest{
		method: http.MethodGet, route: "/users/{userId}/accounts/{accountId}", params: []string{userID, accountID},
	}, &a); err != nil {
		return nil, err
	}
	return &a, nil
}
