package basiqtest

import (
	"net/http"
	"regexp"
	"slices"
	"strings"
)

// Enrich (GET /enrich, ENR3): a transaction description looked up against
// the fake's merchants — the same five its card payments go to. A
// description containing a merchant's key word ("WOOLWORTHS", "GARFISH",
// "JB HI FI", case-insensitive) matches it; anything else gets a class
// guessed from its words and no merchant. The answer is a pure function of
// the query.

// enrichView is the wire form of GET /enrich.
type enrichResult struct {
	Type      string      `json:"type"`
	Direction string      `json:"direction"`
	Class     string      `json:"class"`
	Data      enrichData  `json:"data"`
	Links     enrichLinks `json:"links"`
}

type enrichData struct {
	Merchant *enrichMerchant `json:"merchant,omitempty"`
	Category *enrichCategory `json:"category,omitempty"`
	Location *locationView   `json:"location,omitempty"`
	Tags     []string        `json:"tags"`
}

type enrichMerchant struct {
	ID           string    `json:"id"`
	BusinessName string    `json:"businessName"`
	Website      string    `json:"website"`
	ABN          string    `json:"abn"`
	PhoneNumber  phoneView `json:"phoneNumber"`
}

type enrichCategory struct {
	MatchType  string     `json:"matchType"`
	MatchScore string     `json:"matchScore"`
	ANZSIC     anzsicView `json:"anzsic"`
}

type enrichLinks struct {
	Self       string `json:"self"`
	LogoMaster string `json:"logo-master,omitempty"`
	LogoThumb  string `json:"logo-thumb,omitempty"`
}

// anzsicOf is the ANZSIC classification of a merchant's group.
func anzsicOf(m merchant) anzsicView {
	div, sub, class := codeTitle{Code: "G", Title: "Retail Trade"}, codeTitle{}, codeTitle{}
	switch m.anzsicGroup {
	case "451":
		div = codeTitle{Code: "H", Title: "Accommodation and Food Services"}
		sub, class = codeTitle{Code: "45", Title: "Food and Beverage Services"}, codeTitle{Code: "4511", Title: "Cafes and Restaurants"}
	case "411":
		sub, class = codeTitle{Code: "41", Title: "Food Retailing"}, codeTitle{Code: "4110", Title: "Supermarket and Grocery Stores"}
	case "400":
		sub, class = codeTitle{Code: "40", Title: "Fuel Retailing"}, codeTitle{Code: "4000", Title: "Fuel Retailing"}
	default:
		sub, class = codeTitle{Code: "42", Title: "Other Store-Based Retailing"},
			codeTitle{Code: "4221", Title: "Electrical, Electronic and Gas Appliance Retailing"}
	}
	return anzsicView{Division: div, Subdivision: sub, Group: codeTitle{Code: m.anzsicGroup, Title: m.anzsicTitle},
		Class: class, Subclass: codeTitle{Code: class.Code + "00", Title: class.Title}}
}

// merchantKey is the word of a merchant's description that identifies it.
func merchantKey(m merchant) string {
	f := strings.Fields(m.description)
	if len(f[0]) < 3 && len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return f[0]
}

// matchMerchant finds the merchant a description names.
func matchMerchant(q string) (merchant, bool) {
	norm := strings.Join(strings.Fields(strings.ToUpper(strings.NewReplacer("'", "", "-", " ").Replace(q))), " ")
	for _, m := range merchants {
		if strings.Contains(norm, merchantKey(m)) || strings.Contains(norm, strings.ToUpper(strings.ReplaceAll(m.name, "'", ""))) {
			return m, true
		}
	}
	return merchant{}, false
}

var (
	countryRE = regexp.MustCompile(`^[A-Z]{2}$`)
	mccRE     = regexp.MustCompile(`^[0-9]{4}$`)
	amountRE  = regexp.MustCompile(`^-?[0-9]+(\.[0-9]{1,2})?$`)
)

// getEnrich serves GET /enrich.
func (s *Server) getEnrich(c *call) reply {
	q := c.req.URL.Query()
	var errs []apiError
	for _, name := range []string{"q", "institution", "country"} {
		if strings.TrimSpace(q.Get(name)) == "" {
			errs = append(errs, errNotSupplied("Query parameter '"+name+"' is required.", "", name))
		}
	}
	if v := q.Get("institution"); v != "" && s.st.instByID[v] == nil {
		errs = append(errs, errNotValid("Institution ID value is not valid", "", "institution"))
	}
	if v := q.Get("country"); v != "" && !countryRE.MatchString(v) {
		errs = append(errs, errNotValid("Country must be an ISO 3166 alpha-2 code.", "", "country"))
	}
	if v := q.Get("mcc"); v != "" && !mccRE.MatchString(v) {
		errs = append(errs, errNotValid("Merchant category code must be four digits.", "", "mcc"))
	}
	if v := q.Get("accountType"); v != "" &&
		!slices.Contains([]string{"transaction", "credit-card", "savings", "mortgage", "loan", "foreign"}, v) {
		errs = append(errs, errNotValid("Account type is not valid.", "", "accountType"))
	}
	amount := q.Get("amount")
	if amount != "" && !amountRE.MatchString(amount) {
		errs = append(errs, errNotValid("Amount must be a decimal amount.", "", "amount"))
	}
	if len(errs) > 0 {
		return errorReply(http.StatusBadRequest, errs...)
	}
	debit := amount == "" || strings.HasPrefix(amount, "-")
	out := enrichResult{Type: "enrich", Direction: "credit", Data: enrichData{Tags: []string{}},
		Links: enrichLinks{Self: s.URL + "/enrich?" + c.req.URL.RawQuery}}
	if debit {
		out.Direction = "debit"
	}
	m, ok := matchMerchant(q.Get("q"))
	if !ok {
		out.Class = classify(q.Get("q"), debit)
		return jsonReply(http.StatusOK, out)
	}
	e := enrichFor(m, fnv64(m.name))
	out.Class = "payment"
	if !debit {
		out.Class = "refund"
	}
	out.Data.Merchant = &enrichMerchant{ID: e.Merchant.ID, BusinessName: m.name, Website: e.Merchant.Website, ABN: m.abn,
		PhoneNumber: e.Merchant.PhoneNumber}
	out.Data.Category = &enrichCategory{MatchType: "merchantFull", MatchScore: "1.0", ANZSIC: anzsicOf(m)}
	out.Data.Location = &e.Location
	out.Links.LogoMaster, out.Links.LogoThumb = e.Merchant.LogoMaster, e.Merchant.LogoThumb
	return jsonReply(http.StatusOK, out)
}
