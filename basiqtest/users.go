package basiqtest

import (
	"net/http"
	"net/mail"
	"strings"
	"time"
)

// user is a Basiq user: the person whose banks are connected.
type user struct {
	id      string
	fields  userFields
	created time.Time
	conns   []string // connection ids, oldest first
	jobs    []string // job ids, oldest first

	consents []*consent // consent.go: oldest first
}

// userFields are the user properties a client sets (CORE3 UserPostResponse).
type userFields struct {
	Email              string           `json:"email"`
	Mobile             string           `json:"mobile"`
	FirstName          string           `json:"firstName,omitempty"`
	MiddleName         string           `json:"middleName,omitempty"`
	LastName           string           `json:"lastName,omitempty"`
	BusinessName       string           `json:"businessName,omitempty"`
	BusinessIDNo       string           `json:"businessIdNo,omitempty"`
	BusinessIDNoType   string           `json:"businessIdNoType,omitempty"`
	BusinessAddress    *businessAddress `json:"businessAddress,omitempty"`
	VerificationStatus *bool            `json:"verificationStatus,omitempty"`
	VerificationDate   string           `json:"verificationDate,omitempty"`
}

type businessAddress struct {
	AddressLine1 string `json:"addressLine1,omitempty"`
	AddressLine2 string `json:"addressLine2,omitempty"`
	Suburb       string `json:"suburb,omitempty"`
	State        string `json:"state,omitempty"`
	Postcode     string `json:"postcode,omitempty"`
	CountryCode  string `json:"countryCode,omitempty"`
}

// userInput is a create or update body; nil members are absent.
type userInput struct {
	Email              *string          `json:"email"`
	Mobile             *string          `json:"mobile"`
	FirstName          *string          `json:"firstName"`
	MiddleName         *string          `json:"middleName"`
	LastName           *string          `json:"lastName"`
	BusinessName       *string          `json:"businessName"`
	BusinessIDNo       *string          `json:"businessIdNo"`
	BusinessIDNoType   *string          `json:"businessIdNoType"`
	BusinessAddress    *businessAddress `json:"businessAddress"`
	VerificationStatus *bool            `json:"verificationStatus"`
	VerificationDate   *string          `json:"verificationDate"`
}

// validate checks the formats of the members present.
func (in *userInput) validate() []apiError {
	var errs []apiError
	if in.Email != nil && *in.Email != "" && !validEmail(*in.Email) {
		errs = append(errs, errNotValid("Provided email is in bad format.", "email", "email"))
	}
	if in.Mobile != nil && *in.Mobile != "" && !validMobile(*in.Mobile) {
		errs = append(errs, errNotValid("Provided mobile is in bad format.", "mobile", "mobile"))
	}
	if in.BusinessIDNoType != nil && *in.BusinessIDNoType != "ABN" && *in.BusinessIDNoType != "ACN" {
		errs = append(errs, errNotValid("businessIdNoType must be ABN or ACN.", "businessIdNoType", "businessIdNoType"))
	}
	return errs
}

// apply copies the members present onto f.
func (in *userInput) apply(f *userFields) {
	set := func(dst *string, src *string) {
		if src != nil {
			*dst = strings.TrimSpace(*src)
		}
	}
	set(&f.Email, in.Email)
	set(&f.Mobile, in.Mobile)
	set(&f.FirstName, in.FirstName)
	set(&f.MiddleName, in.MiddleName)
	set(&f.LastName, in.LastName)
	set(&f.BusinessName, in.BusinessName)
	set(&f.BusinessIDNo, in.BusinessIDNo)
	set(&f.BusinessIDNoType, in.BusinessIDNoType)
	set(&f.VerificationDate, in.VerificationDate)
	if in.BusinessAddress != nil {
		a := *in.BusinessAddress
		f.BusinessAddress = &a
	}
	if in.VerificationStatus != nil {
		v := *in.VerificationStatus
		f.VerificationStatus = &v
	}
}

// validEmail accepts a bare address with a dotted domain.
func validEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return false
	}
	_, domain, _ := strings.Cut(s, "@")
	return strings.Contains(strings.Trim(domain, "."), ".")
}

// validMobile accepts an Australian mobile in international form: +61 and
// nine digits.
func validMobile(s string) bool {
	digits, ok := strings.CutPrefix(s, "+61")
	if !ok || len(digits) != 9 {
		return false
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// userView is the body of POST /users and POST /users/{userId}.
type userView struct {
	Type string `json:"type"`
	ID   string `json:"id"`
	userFields
	Links selfLink `json:"links"`
}

// userDetailView is the body of GET /users/{userId}.
type userDetailView struct {
	Type               string           `json:"type"`
	ID                 string           `json:"id"`
	Email              string           `json:"email"`
	Mobile             string           `json:"mobile"`
	Name               string           `json:"name"`
	FirstName          *string          `json:"firstName,omitempty"`
	MiddleName         *string          `json:"middleName,omitempty"`
	LastName           *string          `json:"lastName,omitempty"`
	BusinessName       string           `json:"businessName,omitempty"`
	BusinessIDNo       string           `json:"businessIdNo,omitempty"`
	BusinessIDNoType   string           `json:"businessIdNoType,omitempty"`
	BusinessAddress    *businessAddress `json:"businessAddress,omitempty"`
	VerificationStatus *bool            `json:"verificationStatus,omitempty"`
	VerificationDate   string           `json:"verificationDate,omitempty"`
	Accounts           countedList      `json:"accounts"`
	Connections        countedList      `json:"connections"`
	Links              userLinks        `json:"links"`
}

// countedList is the {type, count, data} list of a user's accounts or
// connections.
type countedList struct {
	Type  string   `json:"type"`
	Count int      `json:"count"`
	Data  []refRes `json:"data"`
}

// refRes is a reference to a resource: its type, id and link.
type refRes struct {
	Type  string   `json:"type"`
	ID    string   `json:"id"`
	Links selfLink `json:"links"`
}

type userLinks struct {
	Self         string  `json:"self"`
	Accounts     string  `json:"accounts"`
	Connections  string  `json:"connections"`
	Transactions string  `json:"transactions"`
	AuthLink     *string `json:"auth_link"`
}

func (s *Server) userURL(id string) string { return s.URL + "/users/" + id }

func (s *Server) userView(u *user) userView {
	return userView{Type: "user", ID: u.id, userFields: u.fields, Links: selfLink{Self: s.userURL(u.id)}}
}

func (s *Server) userDetailView(u *user, version string) userDetailView {
	f := u.fields
	v := userDetailView{
		Type: "user", ID: u.id, Email: f.Email, Mobile: f.Mobile,
		BusinessName: f.BusinessName, BusinessIDNo: f.BusinessIDNo, BusinessIDNoType: f.BusinessIDNoType,
		BusinessAddress: f.BusinessAddress, VerificationStatus: f.VerificationStatus, VerificationDate: f.VerificationDate,
		Accounts:    countedList{Type: "list", Data: []refRes{}},
		Connections: countedList{Type: "list", Data: []refRes{}},
		Links: userLinks{
			Self:         s.userURL(u.id),
			Accounts:     s.userURL(u.id) + "/accounts",
			Connections:  s.userURL(u.id) + "/connections",
			Transactions: s.userURL(u.id) + "/transactions",
		},
	}
	if version == "3.0" {
		v.FirstName, v.MiddleName, v.LastName = &f.FirstName, &f.MiddleName, &f.LastName
	}
	for _, cid := range u.conns {
		conn := s.st.conns[cid]
		v.Connections.Data = append(v.Connections.Data, refRes{Type: "connection", ID: conn.id, Links: selfLink{Self: s.connectionURL(conn)}})
		for _, a := range conn.accounts {
			v.Accounts.Data = append(v.Accounts.Data, refRes{Type: "account", ID: a.id, Links: selfLink{Self: s.accountURL(conn, a)}})
		}
	}
	v.Accounts.Count, v.Connections.Count = len(v.Accounts.Data), len(v.Connections.Data)
	return v
}

// lookupUser returns the user of the path, or a 404 reply.
func (s *Server) lookupUser(c *call) (*user, reply, bool) {
	u := s.st.users[c.param("userId")]
	if u == nil {
		return nil, errorReply(http.StatusNotFound, errNotFound("Requested user does not exist.")), false
	}
	return u, reply{}, true
}

// createUser serves POST /users.
func (s *Server) createUser(c *call) reply {
	var in userInput
	if rp, ok := decodeJSON(c, &in, "Posted user is not in valid format."); !ok {
		return rp
	}
	if (in.Email == nil || strings.TrimSpace(*in.Email) == "") && (in.Mobile == nil || strings.TrimSpace(*in.Mobile) == "") {
		e := newError("parameter-not-supplied", "Required parameter not supplied", "One of 'email' or 'mobile' is required.")
		e.Source = &errSource{}
		return errorReply(http.StatusBadRequest, e)
	}
	if errs := in.validate(); len(errs) > 0 {
		return errorReply(http.StatusBadRequest, errs...)
	}
	u := &user{id: newUUID(), created: c.now}
	in.apply(&u.fields)
	s.st.users[u.id] = u
	s.userEvent(c.now, "created", u)
	return jsonReply(http.StatusCreated, s.userView(u))
}

// getUser serves GET /users/{userId}.
func (s *Server) getUser(c *call) reply {
	u, rp, ok := s.lookupUser(c)
	if !ok {
		return rp
	}
	v := s.userDetailView(u, c.version())
	v.Links.AuthLink = s.authLinkURL(u, c.now)
	return jsonReply(http.StatusOK, v)
}

// updateUser serves POST /users/{userId}.
func (s *Server) updateUser(c *call) reply {
	u, rp, ok := s.lookupUser(c)
	if !ok {
		return rp
	}
	var in userInput
	if rp, ok := decodeJSON(c, &in, "Posted user is not in valid format."); !ok {
		return rp
	}
	if errs := in.validate(); len(errs) > 0 {
		return errorReply(http.StatusBadRequest, errs...)
	}
	in.apply(&u.fields)
	s.userEvent(c.now, "updated", u)
	return jsonReply(http.StatusOK, s.userView(u))
}

// deleteUser serves DELETE /users/{userId}: the user, their connections and
// their jobs go. Only user.deleted is recorded.
func (s *Server) deleteUser(c *call) reply {
	u, rp, ok := s.lookupUser(c)
	if !ok {
		return rp
	}
	for _, id := range u.conns {
		delete(s.st.conns, id)
	}
	for _, id := range u.jobs {
		if j := s.st.jobs[id]; j != nil {
			s.retire(j)
			delete(s.st.jobs, id)
		}
	}
	delete(s.st.users, u.id)
	delete(s.st.authLinks, u.id)
	s.userEvent(c.now, "deleted", u)
	return emptyReply(http.StatusNoContent)
}
