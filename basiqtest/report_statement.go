package basiqtest

import (
	"fmt"
	"strings"
)

// The Bank Statement report (STATEMENT_01, REP's STATEMENT schema): one
// account of one user over a date range — the institution, the account
// holder's identity (the connection's profile), the fake's accreditation
// line, the account, and a link to the snapshot's transactions.

type statementData struct {
	Institution   stmtInstitution   `json:"institution"`
	Identity      stmtIdentity      `json:"identity"`
	Accreditation stmtAccreditation `json:"accreditation"`
	Account       []stmtAccountView `json:"account"`
	Transactions  string            `json:"transactions"`
}

type stmtInstitution struct {
	Logo string `json:"logo"`
	Name string `json:"name"`
}

type stmtIdentity struct {
	CustomerType      string        `json:"customerType"`
	FullName          string        `json:"fullName"`
	FirstName         string        `json:"firstName"`
	LastName          string        `json:"lastName"`
	PhoneNumbers      []string      `json:"phoneNumbers"`
	Emails            []string      `json:"emails"`
	PhysicalAddresses []stmtAddress `json:"physicalAddresses"`
}

type stmtAddress struct {
	AddressLine1 string `json:"addressLine1"`
	PostCode     string `json:"postCode"`
	City         string `json:"city"`
	State        string `json:"state"`
	Country      string `json:"country"`
}

type stmtAccreditation struct {
	CDRAccessModel string `json:"cdrAccessModel"`
	EntityName     string `json:"entityName"`
	Title          string `json:"title"`
	LicenceNo      string `json:"licenceNo"`
	Description    string `json:"description"`
}

type stmtAccountView struct {
	Type             string          `json:"type"`
	ID               string          `json:"id"`
	CreationDate     string          `json:"creationDate"`
	LastUpdated      string          `json:"lastUpdated"`
	Status           string          `json:"status"`
	Name             string          `json:"name"`
	MaskedNumber     string          `json:"maskedNumber"`
	AccountNo        string          `json:"accountNo"`
	AccountHolder    string          `json:"accountHolder"`
	IsOwned          bool            `json:"isOwned"`
	AccountOwnership string          `json:"accountOwnership"`
	Balance          string          `json:"balance"`
	AvailableFunds   string          `json:"availableFunds"`
	Currency         string          `json:"currency"`
	Class            accountClass    `json:"class"`
	Connection       string          `json:"connection"`
	Institution      string          `json:"institution"`
	Meta             map[string]any  `json:"meta"`
	Links            reportAcctLinks `json:"links"`
}

// statementReport computes a STATEMENT_01 report's data and its PDF's
// lines, for the account ref.
func (s *Server) statementReport(ref accountRef, r *report) (statementData, []string) {
	inst := s.st.instByID[ref.conn.instID]
	id := stmtIdentity{CustomerType: "person", PhoneNumbers: []string{}, Emails: []string{}, PhysicalAddresses: []stmtAddress{}}
	if p := ref.conn.profile; p != nil {
		id.FullName, id.FirstName, id.LastName = p.FullName, p.FirstName, p.LastName
		id.PhoneNumbers, id.Emails = append(id.PhoneNumbers, p.PhoneNumbers...), append(id.Emails, p.EmailAddresses...)
		for _, a := range p.PhysicalAddresses {
			id.PhysicalAddresses = append(id.PhysicalAddresses, stmtAddress{AddressLine1: a.AddressLine1, PostCode: a.Postcode,
				City: a.City, State: a.State, Country: a.Country})
		}
	}
	a := ref.a
	masked := a.accountNo
	if n := len(masked); n > 4 {
		masked = strings.Repeat("x", n-4) + masked[n-4:]
	}
	d := statementData{
		Institution: stmtInstitution{Logo: logo(inst).Links.Square, Name: inst.Name},
		Identity:    id,
		Accreditation: stmtAccreditation{CDRAccessModel: "Basiq", EntityName: "Basiq Pty Ltd", Title: "Accredited Data Recipient",
			LicenceNo: "ADRBNK000000", Description: "Data retrieved through Basiq (basiqtest fake data)."},
		Account: []stmtAccountView{{
			Type: "account", ID: a.id, CreationDate: stamp(a.opened), LastUpdated: stamp(a.lastUpdated), Status: "available",
			Name: a.name, MaskedNumber: masked, AccountNo: a.accountNo, AccountHolder: a.holder, IsOwned: true,
			AccountOwnership: "ONE_PARTY", Balance: a.balance, AvailableFunds: a.available, Currency: "AUD",
			Class: accountClass{Type: a.class, Product: a.product}, Connection: ref.conn.id, Institution: ref.conn.instID,
			Meta: map[string]any{}, Links: s.reportAccount(ref).Links,
		}},
		Transactions: s.reportURL(r.id) + "/transactions",
	}
	lines := []string{r.title, "Bank Statement " + r.id, inst.Name + " - " + a.name + " " + masked, ""}
	for _, t := range r.txs {
		lines = append(lines, fmt.Sprintf("%s  %-40s %12s %12s", t.row.post.Format(dateLayout), t.view.Description,
			t.view.Amount, t.view.Balance))
	}
	return d, lines
}
