package basiqtest

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

// account is a bank account retrieved through a connection.
type account struct {
	id             string
	accountNo      string
	name           string
	class, product string
	balance        string // money is a decimal string, as on the wire
	available      string
	creditLimit    string
	bsb            string
	number         string // the account number without its BSB
	holder         string // the account holder's name, as the bank shows it
	opened         time.Time
	lastUpdated    time.Time
}

// accountView is the wire form of an account inside a connection.
type accountView struct {
	Type           string       `json:"type"`
	ID             string       `json:"id"`
	AccountNo      string       `json:"accountNo"`
	Name           string       `json:"name"`
	Currency       string       `json:"currency"`
	Class          accountClass `json:"class"`
	Balance        string       `json:"balance"`
	AvailableFunds string       `json:"availableFunds"`
	LastUpdated    string       `json:"lastUpdated"`
	Status         string       `json:"status"`
	Links          accountLinks `json:"links"`
}

type accountClass struct {
	Type    string `json:"type"`
	Product string `json:"product"`
}

type accountLinks struct {
	Self         string `json:"self"`
	Transactions string `json:"transactions"`
}

// newAccounts makes the three accounts a connection retrieves: everyday,
// savings and a credit card, named after the bank.
func newAccounts(inst *institution, seed int) []account {
	short := inst.ShortName
	n := 100000 + seed*7919%900000
	bsb := "0" + inst.ID[2:]
	opened := time.Date(2015, 3, 1+seed%28, 0, 0, 0, 0, time.UTC)
	return []account{
		{id: newUUID(), accountNo: fmt.Sprintf("%06d", n), name: fmt.Sprintf("Transaction %d", n%10000),
			class: "transaction", product: short + " Transaction", balance: "3458.12", available: "3458.12",
			creditLimit: "0.00", bsb: bsb, number: fmt.Sprintf("%09d", n), opened: opened},
		{id: newUUID(), accountNo: fmt.Sprintf("%06d", n+1), name: fmt.Sprintf("Savings %d", (n+1)%10000),
			class: "savings", product: short + " Saver", balance: "24871.50", available: "24871.50",
			creditLimit: "0.00", bsb: bsb, number: fmt.Sprintf("%09d", n+1), opened: opened.AddDate(1, 0, 0)},
		{id: newUUID(), accountNo: fmt.Sprintf("%06d", n+2), name: fmt.Sprintf("Credit Card %d", (n+2)%10000),
			class: "credit-card", product: short + " Visa", balance: "-1530.42", available: "8469.58",
			creditLimit: "10000.00", number: fmt.Sprintf("4622%012d", n+2), opened: opened.AddDate(2, 0, 0)},
	}
}

func (s *Server) accountURL(conn *connection, a account) string {
	return s.userURL(conn.userID) + "/accounts/" + a.id
}

func (s *Server) accountView(conn *connection, a account) accountView {
	return accountView{
		Type: "account", ID: a.id, AccountNo: a.accountNo, Name: a.name, Currency: "AUD",
		Class:   accountClass{Type: a.class, Product: a.product},
		Balance: a.balance, AvailableFunds: a.available, LastUpdated: stamp(a.lastUpdated), Status: "available",
		Links: accountLinks{
			Self:         s.accountURL(conn, a),
			Transactions: s.userURL(conn.userID) + "/transactions?filter=account.id.eq('" + a.id + "')",
		},
	}
}

// fullAccountView is the wire form of GET /users/{userId}/accounts[/{id}]:
// the full account of API 3.0 (GET /users/{userId}/accounts).
type fullAccountView struct {
	Type                 string           `json:"type"`
	ID                   string           `json:"id"`
	Name                 string           `json:"name"`
	AccountNo            string           `json:"accountNo"`
	BSB                  string           `json:"bsb,omitempty"`
	UnmaskedAccNum       string           `json:"unmaskedAccNum,omitempty"`
	MaskedNumber         string           `json:"maskedNumber"`
	AccountHolder        *string          `json:"accountHolder"`
	Currency             string           `json:"currency"`
	Balance              string           `json:"balance"`
	AvailableFunds       string           `json:"availableFunds"`
	CreditLimit          string           `json:"creditLimit"`
	Class                accountClass     `json:"class"`
	Status               string           `json:"status"`
	LastUpdated          string           `json:"lastUpdated"`
	CreationDate         string           `json:"creationDate"`
	IsOwned              bool             `json:"isOwned"`
	AccountOwnership     string           `json:"accountOwnership"`
	Connection           string           `json:"connection"`
	Institution          string           `json:"institution"`
	TransactionIntervals []intervalView   `json:"transactionIntervals"`
	DepositRate          string           `json:"depositRate,omitempty"`
	LendingRate          string           `json:"lendingRate,omitempty"`
	Meta                 *accountMeta     `json:"meta,omitempty"`
	Links                fullAccountLinks `json:"links"`
}

type intervalView struct {
	From string `json:"from"`
	To   string `json:"to"`
}

type accountMeta struct {
	CreditCard *creditCardMeta `json:"creditCard,omitempty"`
}

type creditCardMeta struct {
	MinPaymentAmount string `json:"minPaymentAmount"`
	PaymentDueAmount string `json:"paymentDueAmount"`
	PaymentCurrency  string `json:"paymentCurrency"`
	PaymentDueDate   string `json:"paymentDueDate"`
}

type fullAccountLinks struct {
	Self         string `json:"self"`
	Transactions string `json:"transactions"`
	Connection   string `json:"connection"`
	Institution  string `json:"institution"`
}

// historyDays is how far back the fake's banks keep transactions (Basiq
// retrieves up to two years).
const historyDays = 730

// fullAccountView renders a as GET /users/{userId}/accounts answers.
func (s *Server) fullAccountView(conn *connection, a account) fullAccountView {
	v := fullAccountView{
		Type: "account", ID: a.id, Name: a.name, AccountNo: a.bsb + a.number, BSB: a.bsb, UnmaskedAccNum: a.number,
		MaskedNumber: maskNumber(a.number), Currency: "AUD", Balance: a.balance, AvailableFunds: a.available,
		CreditLimit: a.creditLimit, Class: accountClass{Type: a.class, Product: a.product}, Status: "available",
		LastUpdated: stamp(a.lastUpdated), CreationDate: a.opened.Format(dateLayout), IsOwned: true,
		AccountOwnership: "ONE_PARTY", Connection: conn.id, Institution: conn.instID,
		TransactionIntervals: []intervalView{},
		Links: fullAccountLinks{
			Self:         s.accountURL(conn, a),
			Transactions: s.userURL(conn.userID) + "/transactions?filter=account.id.eq('" + a.id + "')",
			Connection:   s.connectionURL(conn),
			Institution:  s.institutionURL(conn.instID),
		},
	}
	if a.holder != "" {
		h := a.holder
		v.AccountHolder = &h
	}
	if !conn.txAsOf.IsZero() {
		to := dayOf(conn.txAsOf)
		v.TransactionIntervals = append(v.TransactionIntervals, intervalView{
			From: to.AddDate(0, 0, -historyDays).Format(dateLayout), To: to.Format(dateLayout)})
	}
	switch a.class {
	case "savings":
		v.DepositRate = "0.0385"
	case "credit-card":
		v.BSB, v.UnmaskedAccNum, v.AccountNo = "", "", maskNumber(a.number)
		v.LendingRate = "0.2024"
		v.Meta = &accountMeta{CreditCard: &creditCardMeta{MinPaymentAmount: "30.00", PaymentDueAmount: "1530.42",
			PaymentCurrency: "AUD", PaymentDueDate: dayOf(a.lastUpdated).AddDate(0, 0, 21).Format(dateLayout)}}
	}
	return v
}

// maskNumber shows the last four digits of an account or card number.
func maskNumber(n string) string {
	if len(n) <= 4 {
		return n
	}
	return strings.Repeat("x", len(n)-4) + n[len(n)-4:]
}

// dateLayout is how Basiq writes dates without a time.
const dateLayout = "2006-01-02"

// dayOf is t's UTC calendar day, at midnight.
func dayOf(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// userAccounts returns the accounts of u's connections that have retrieved
// them, in connection order.
func (s *Server) userAccounts(u *user) []accountRef {
	var out []accountRef
	for _, id := range u.conns {
		conn := s.st.conns[id]
		for k, a := range conn.accounts {
			out = append(out, accountRef{conn: conn, a: a, ordinal: k})
		}
	}
	return out
}

// accountRef is an account with the connection that retrieved it.
type accountRef struct {
	conn    *connection
	a       account
	ordinal int // its place among the connection's accounts
}

// accountFields are the filterable properties of GET /users/{userId}/accounts;
// Basiq takes eq and ne only (DATA3).
func accountFields() map[string]fieldFilter[accountRef] {
	ops := []string{"eq", "ne"}
	return map[string]fieldFilter[accountRef]{
		"account.id":     {ops: ops, text: func(r accountRef) string { return r.a.id }},
		"connection.id":  {ops: ops, text: func(r accountRef) string { return r.conn.id }},
		"institution.id": {ops: ops, text: func(r accountRef) string { return r.conn.instID }},
	}
}

// listAccounts serves GET /users/{userId}/accounts.
func (s *Server) listAccounts(c *call) reply {
	u, rp, ok := s.lookupUser(c)
	if !ok {
		return rp
	}
	keep, ok := compileFieldFilter(c.req.URL.Query().Get("filter"), accountFields())
	if !ok {
		return errorReply(http.StatusBadRequest, errBadFilter())
	}
	out := struct {
		Type  string            `json:"type"`
		Data  []fullAccountView `json:"data"`
		Links selfLink          `json:"links"`
	}{Type: "list", Data: []fullAccountView{}, Links: selfLink{Self: s.userURL(u.id) + "/accounts"}}
	for _, r := range s.userAccounts(u) {
		if keep(r) {
			out.Data = append(out.Data, s.fullAccountView(r.conn, r.a))
		}
	}
	return jsonReply(http.StatusOK, out)
}

// getAccount serves GET /users/{userId}/accounts/{accountId}.
func (s *Server) getAccount(c *call) reply {
	u, rp, ok := s.lookupUser(c)
	if !ok {
		return rp
	}
	for _, r := range s.userAccounts(u) {
		if r.a.id == c.param("accountId") {
			return jsonReply(http.StatusOK, s.fullAccountView(r.conn, r.a))
		}
	}
	return errorReply(http.StatusNotFound, errNotFound("Requested account does not exist."))
}

// profileView is the account holder on a connection.
type profileView struct {
	FullName          string        `json:"fullName"`
	FirstName         string        `json:"firstName"`
	LastName          string        `json:"lastName"`
	MiddleName        string        `json:"middleName"`
	PhoneNumbers      []string      `json:"phoneNumbers"`
	EmailAddresses    []string      `json:"emailAddresses"`
	PhysicalAddresses []addressView `json:"physicalAddresses"`
}

type addressView struct {
	AddressLine1     string  `json:"addressLine1"`
	AddressLine2     *string `json:"addressLine2"`
	AddressLine3     *string `json:"addressLine3"`
	Postcode         string  `json:"postcode"`
	City             string  `json:"city"`
	State            string  `json:"state"`
	Country          string  `json:"country"`
	CountryCode      string  `json:"countryCode"`
	FormattedAddress string  `json:"formattedAddress"`
}

func profileOf(p profile) *profileView {
	v := &profileView{
		FullName: p.fullName(), FirstName: p.first, LastName: p.last, MiddleName: p.middle,
		PhoneNumbers: []string{}, EmailAddresses: []string{}, PhysicalAddresses: []addressView{},
	}
	if p.phone != "" {
		v.PhoneNumbers = append(v.PhoneNumbers, p.phone)
	}
	if p.email != "" {
		v.EmailAddresses = append(v.EmailAddresses, p.email)
	}
	if p.street != "" {
		v.PhysicalAddresses = append(v.PhysicalAddresses, addressView{
			AddressLine1: p.street, Postcode: p.postcode, City: p.city, State: p.state,
			Country: "Australia", CountryCode: "AU",
			FormattedAddress: fmt.Sprintf("%s, %s %s %s, Australia", p.street, p.city, p.state, p.postcode),
		})
	}
	return v
}
