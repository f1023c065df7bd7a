package basiqtest

import (
	"fmt"
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
	return []account{
		{id: newUUID(), accountNo: fmt.Sprintf("%06d", n), name: fmt.Sprintf("Transaction %d", n%10000),
			class: "transaction", product: short + " Transaction", balance: "3458.12", available: "3458.12"},
		{id: newUUID(), accountNo: fmt.Sprintf("%06d", n+1), name: fmt.Sprintf("Savings %d", (n+1)%10000),
			class: "savings", product: short + " Saver", balance: "24871.50", available: "24871.50"},
		{id: newUUID(), accountNo: fmt.Sprintf("%06d", n+2), name: fmt.Sprintf("Credit Card %d", (n+2)%10000),
			class: "credit-card", product: short + " Visa", balance: "-1530.42", available: "8469.58"},
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
