package basiqtest

import (
	"bytes"
	"crypto/rand"
	"errors"
	"html/template"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// The consent page: a small HTML stand-in for Basiq's hosted Consent UI, for
// browser demos. GET shows the page for a consent URL's parameters; the form
// POSTs back and runs the same flow as CompleteConsent, then answers 302 to
// the application's Redirect URL.
//
// The token is in the URL the browser opened (that is Basiq's design) but
// never in the page: GET checks the URL and keeps its parameters in a
// server-side session, and the form carries only the session's random id
// (which also guards the form against cross-site posts). The form posts to
// "?", the page's own path with no query, so the token is not sent again.
// Sessions are single-use, end with the token, and are bounded in number.

const (
	maxPageSessions = 256      // the oldest session goes beyond this
	maxPageForm     = 64 << 10 // bytes of a form post
)

// pageSession is a consent URL the page has shown and checked.
type pageSession struct {
	q       consentQuery
	expires time.Time // the token's expiry
	seq     int       // creation order, for eviction
}

// ConsentPage returns the fake's consent page as an http.Handler, for
// mounting in a demo server of your own; the fake also serves it at
// ConsentPageURL. GET with a consent URL's query (token, action, state,
// institutionId, connectionId) checks them as CompleteConsent does and shows
// the page for the flow: what the user consents to, a bank picker (Basiq's
// test banks and the open-banking institutions) and a login form, or the
// consent's status and connections for manage, extend and reauthorise. The
// form's buttons allow, cancel, and (in manage) revoke; the POST runs the
// flow and answers 302 Found to the application's Redirect URL (with jobId,
// jobIds and state). The page connects one bank per visit and asks no MFA
// question (the fake's Consent UI jobs have no MFA step).
//
// Everything shown is HTML-escaped; the token and the password are never
// shown. Methods other than GET and POST get 405 with an Allow header; a
// POST that is not a form gets 415, an oversized one 413, one whose session
// has ended (used, expired or evicted) 400. The page is not the API: its
// requests are not in the request log (Requests, RequestCount) and injected
// faults do not apply to them.
func (s *Server) ConsentPage() http.Handler { return http.HandlerFunc(s.serveConsentPage) }

// serveConsentPage serves the consent page.
func (s *Server) serveConsentPage(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer") // the page's URL carries the token
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY") // Basiq's Consent UI may not be embedded either
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'")
	if s == nil || s.st == nil {
		renderPage(w, http.StatusInternalServerError, errorPage(errNotNewServer("ConsentPage").Error()))
		return
	}
	switch r.Method {
	case http.MethodGet:
		s.showConsentPage(w, r)
	case http.MethodPost:
		s.submitConsentPage(w, r)
	default:
		h.Set("Allow", "GET, POST")
		renderPage(w, http.StatusMethodNotAllowed, &pageData{Title: "Method not allowed",
			Error: "This page answers GET (to show it) and POST (its form) only."})
	}
}

// showConsentPage serves GET: check the URL, open a session, show the form.
func (s *Server) showConsentPage(w http.ResponseWriter, r *http.Request) {
	if len(r.URL.RawQuery) > maxConsentURL {
		renderPage(w, http.StatusBadRequest, errorPage(ErrConsentURL.Error()+": it is too long"))
		return
	}
	vals, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		renderPage(w, http.StatusBadRequest, errorPage(ErrConsentURL.Error()+": its query does not parse"))
		return
	}
	q, err := parseConsentQuery(vals)
	if err != nil {
		renderPage(w, http.StatusBadRequest, errorPage(err.Error()))
		return
	}
	s.mu.Lock()
	now := s.cfg.now()
	s.advance(now)
	cx, err := s.checkConsent(q, now)
	var data *pageData
	if err == nil {
		data = s.pageFor(q, cx, now)
		data.Session = s.openSession(q, now)
	}
	s.mu.Unlock()
	if err != nil {
		renderPage(w, http.StatusBadRequest, errorPage(err.Error()))
		return
	}
	renderPage(w, http.StatusOK, data)
}

// submitConsentPage serves POST: the user pressed a button of the form.
func (s *Server) submitConsentPage(w http.ResponseWriter, r *http.Request) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/x-www-form-urlencoded" {
		renderPage(w, http.StatusUnsupportedMediaType, errorPage("The form must be posted as application/x-www-form-urlencoded."))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxPageForm)
	if err := r.ParseForm(); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			renderPage(w, http.StatusRequestEntityTooLarge, errorPage("The form is too large."))
			return
		}
		renderPage(w, http.StatusBadRequest, errorPage("The form could not be read."))
		return
	}
	form := r.PostForm
	id := form.Get("session")
	s.mu.Lock()
	sess := s.takeSession(id, s.cfg.now())
	s.mu.Unlock()
	if sess == nil {
		renderPage(w, http.StatusBadRequest, errorPage("This consent page has ended (it was used, or its token expired). Open the consent link again."))
		return
	}
	ch, formErr := choiceFromForm(form, sess.q)
	var redirect string
	if formErr == nil {
		redirect, err = s.completeConsent(sess.q, ch)
	}
	switch {
	case formErr != nil || errors.Is(err, ErrConsentOptions):
		// The user can correct the form: show it again, on the same session.
		msg := formErr
		if msg == nil {
			msg = err
		}
		s.mu.Lock()
		now := s.cfg.now()
		cx, cerr := s.checkConsent(sess.q, now)
		var data *pageData
		if cerr == nil {
			data = s.pageFor(sess.q, cx, now)
			data.Session, data.Error = s.putSession(id, sess), userMessage(msg)
			data.LoginID = strings.TrimSpace(form.Get("loginId"))
			data.selectInstitution(form.Get("institutionId"))
		}
		s.mu.Unlock()
		if cerr != nil {
			renderPage(w, http.StatusBadRequest, errorPage(cerr.Error()))
			return
		}
		renderPage(w, http.StatusBadRequest, data)
	case err != nil:
		renderPage(w, http.StatusBadRequest, errorPage(err.Error()))
	default:
		w.Header().Set("Location", redirect)
		w.WriteHeader(http.StatusFound)
	}
}

// userMessage is an error as the page shows it, without the package's
// prefix.
func userMessage(err error) string {
	msg := err.Error()
	if _, rest, ok := strings.Cut(msg, ErrConsentOptions.Error()+": "); ok {
		msg = strings.TrimPrefix(rest, "login 1: ") // the page posts one login
	}
	return msg
}

// choiceFromForm turns the posted form into the user's choices.
func choiceFromForm(form url.Values, q consentQuery) (consentChoice, error) {
	var ch consentChoice
	switch form.Get("op") {
	case "cancel":
		ch.cancel = true
		return ch, nil
	case "revoke":
		if q.action != actionManage {
			return ch, errors.New("there is no consent to revoke on this page")
		}
		ch.revoke = true
		return ch, nil
	case "", "allow":
	default:
		return ch, errors.New("unknown button")
	}
	switch {
	case q.action == actionManage:
		ch.remove = form["deleteConnection"]
	case q.action == actionExtend, q.action == actionReauthorise && q.connectionID == "":
	case q.connectionID != "":
		if p := form.Get("password"); p != "" {
			ch.logins = []ConsentLogin{{Password: p}}
		}
	default:
		login := ConsentLogin{LoginID: strings.TrimSpace(form.Get("loginId")), Password: form.Get("password"),
			SecurityCode: form.Get("securityCode"), SecondaryLoginID: form.Get("secondaryLoginId")}
		if q.institutionID == "" {
			login.InstitutionID = form.Get("institutionId")
		}
		switch {
		case login.LoginID == "" && q.action == actionUpdate:
			// Reconnecting after an update is optional.
		case login.LoginID == "":
			return ch, errors.New("enter your bank login ID")
		case login.Password == "":
			return ch, errors.New("enter your bank password")
		default:
			ch.logins = []ConsentLogin{login}
		}
	}
	return ch, nil
}

// openSession keeps a checked consent URL for the form and returns the
// session's id. Ended sessions go first, then the oldest beyond the bound.
func (s *Server) openSession(q consentQuery, now time.Time) string {
	if s.st.sessions == nil {
		s.st.sessions = map[string]*pageSession{}
	}
	id := rand.Text()
	s.putSession(id, &pageSession{q: q, expires: s.st.tokens[q.token].expires})
	return id
}

// putSession stores a session under id (again) and returns id.
func (s *Server) putSession(id string, sess *pageSession) string {
	now := s.cfg.now()
	for k, v := range s.st.sessions {
		if !now.Before(v.expires) {
			delete(s.st.sessions, k)
		}
	}
	for len(s.st.sessions) >= maxPageSessions {
		oldest := ""
		for k, v := range s.st.sessions {
			if oldest == "" || v.seq < s.st.sessions[oldest].seq {
				oldest = k
			}
		}
		delete(s.st.sessions, oldest)
	}
	sess.seq = s.st.next()
	s.st.sessions[id] = sess
	return id
}

// takeSession removes and returns the live session with that id, or nil.
func (s *Server) takeSession(id string, now time.Time) *pageSession {
	sess := s.st.sessions[id]
	if sess == nil {
		return nil
	}
	delete(s.st.sessions, id)
	if !now.Before(sess.expires) {
		return nil
	}
	return sess
}

// pageData is what the page template shows.
type pageData struct {
	Title        string
	Intro        string
	Error        string
	Session      string
	Consent      *pageConsent      // the terms to agree to, when the flow captures a consent
	Status       string            // the active consent's status, for manage and extend
	Institutions []pageInstitution // the bank picker; empty: none
	Fixed        string            // the bank, when the URL fixes it
	Login        bool              // login ID and password fields
	PasswordOnly bool              // a password field only (credential update)
	LoginID      string            // the login ID typed before an error
	Connections  []pageConnection  // manage (deletable) and reauthorise (to renew)
	Deletable    bool
	Submit       string
	Revoke       bool
	State        string
	HasState     bool
}

type pageConsent struct {
	Purpose     titled
	Permissions []permissionView
	Expires     string
}

type pageInstitution struct {
	ID, Name    string
	OpenBanking bool
	Selected    bool
}

type pageConnection struct {
	ID, Institution, Method, Status, Expires string
}

// selectInstitution marks the picker's choice after an error.
func (d *pageData) selectInstitution(id string) {
	for i := range d.Institutions {
		d.Institutions[i].Selected = d.Institutions[i].ID == id
	}
}

func errorPage(msg string) *pageData {
	return &pageData{Title: "This consent link cannot be used", Error: msg}
}

// dateOf formats a date for the page.
func dateOf(t time.Time) string { return t.UTC().Format("2 January 2006") }

// pageFor builds the page of a checked consent URL.
func (s *Server) pageFor(q consentQuery, cx consentCtx, now time.Time) *pageData {
	d := &pageData{State: q.state, HasState: q.hasState}
	terms := func(pol *consentPolicy) *pageConsent {
		return &pageConsent{Purpose: consentPurpose(), Permissions: pol.permissions(), Expires: dateOf(now.Add(pol.duration))}
	}
	if cx.active != nil {
		d.Status = "Your consent is active until " + dateOf(cx.active.expiry) + "."
	}
	switch {
	case cx.conn != nil:
		inst := s.st.instByID[cx.conn.instID]
		d.Title, d.Fixed = "Reconnect "+inst.Name, inst.Name
		if cx.active == nil {
			d.Consent = terms(s.currentPolicy())
		}
		if cx.conn.openBanking() {
			d.Intro = "You will renew your authorisation at " + inst.ShortName + "."
			d.Submit = "Authorise at " + inst.ShortName
		} else {
			d.Intro = "Enter your new password for login " + maskedLogin(cx.conn.creds.loginID) + ", or leave it empty to keep it."
			d.PasswordOnly, d.Submit = true, "Reconnect"
		}
	case q.action == actionManage:
		d.Title, d.Submit, d.Revoke, d.Deletable = "Manage your consent", "Save", cx.active != nil, true
		if cx.active == nil {
			d.Status = "You have no active consent."
		}
		d.Connections = s.pageConnections(cx.u, func(*connection) bool { return true })
	case q.action == actionExtend:
		d.Title, d.Submit = "Extend your consent", "Extend"
		d.Intro = "Your consent will last until " + dateOf(now.Add(cx.active.policy.duration)) + "."
	case q.action == actionReauthorise:
		d.Title, d.Submit = "Renew access to your banks", "Renew"
		d.Connections = s.pageConnections(cx.u, func(c *connection) bool {
			return c.openBanking() && c.status != connPreInit && c.expiry.Before(now.Add(expiringSoon))
		})
		if len(d.Connections) == 0 {
			d.Intro = "None of your bank connections is expiring soon."
		}
	default:
		d.Title, d.Submit, d.Login = "Connect your bank", "Connect", true
		if q.action == actionDefault && cx.active == nil || q.action == actionUpdate && !sameScopes(cx.active.policy, s.currentPolicy()) {
			d.Consent, d.Submit = terms(s.currentPolicy()), "Agree and connect"
		}
		if q.action == actionUpdate {
			d.Title = "Review your consent"
			d.Intro = "Connecting a bank is optional: leave the login empty to only update your consent."
			if d.Consent != nil {
				d.Intro += " Agreeing to the new terms deletes your current bank connections."
			}
		}
		if cx.inst != nil {
			d.Fixed = cx.inst.Name
		} else {
			d.Institutions = s.pickerInstitutions()
		}
	}
	return d
}

// pickerInstitutions are the banks the picker offers: Basiq's test banks,
// then the institutions with open banking.
func (s *Server) pickerInstitutions() []pageInstitution {
	var test, ob []pageInstitution
	for _, inst := range s.st.insts {
		switch {
		case inst.InstitutionType == "Test Bank":
			test = append(test, pageInstitution{ID: inst.ID, Name: inst.Name})
		case inst.OpenBanking:
			ob = append(ob, pageInstitution{ID: inst.ID, Name: inst.Name, OpenBanking: true})
		}
	}
	out := slices.Concat(test, ob)
	if len(out) > 0 {
		out[0].Selected = true
	}
	return out
}

// pageConnections lists the user's connections that match.
func (s *Server) pageConnections(u *user, match func(*connection) bool) []pageConnection {
	var out []pageConnection
	for _, id := range u.conns {
		c := s.st.conns[id]
		if !match(c) {
			continue
		}
		pc := pageConnection{ID: c.id, Institution: s.st.instByID[c.instID].Name, Method: methodWeb, Status: c.status}
		if c.openBanking() {
			pc.Method, pc.Expires = "open banking", dateOf(c.expiry)
		}
		out = append(out, pc)
	}
	return out
}

// renderPage writes the page. Rendering goes to a buffer first, so a
// template failure never sends half a page.
func renderPage(w http.ResponseWriter, status int, d *pageData) {
	var buf bytes.Buffer
	if err := consentPageTemplate().Execute(&buf, d); err != nil {
		http.Error(w, "basiqtest: the consent page could not be rendered", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// consentPageTemplate parses the page. html/template escapes every value
// for its context. Parsing per page (about a tenth of a millisecond) keeps
// the package free of package-level state.
func consentPageTemplate() *template.Template {
	return template.Must(template.New("consent").Parse(consentPageHTML))
}

const consentPageHTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} · Consent (basiqtest)</title>
<style>
body{font:16px/1.5 system-ui,sans-serif;max-width:34rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a}
.fake{background:#fff4d6;border:1px solid #e0c060;padding:.5rem .75rem;font-size:.85rem}
.error{background:#fde8e8;border:1px solid #d66;padding:.5rem .75rem}
label{display:block;margin:.75rem 0 .25rem}
input[type=text],input[type=password],select{width:100%;padding:.4rem;box-sizing:border-box}
button{margin:1rem .5rem 0 0;padding:.5rem 1rem}
.note{color:#555;font-size:.85rem;word-break:break-all}
</style>
</head>
<body>
<p class="fake">basiqtest: a stand-in for Basiq's hosted Consent UI, for tests and demos. Never enter real bank credentials.</p>
<h1>{{.Title}}</h1>
{{with .Error}}<p class="error" role="alert">{{.}}</p>{{end}}
{{if .Session}}
<form method="post" action="?">
<input type="hidden" name="session" value="{{.Session}}">
{{with .Intro}}<p>{{.}}</p>{{end}}
{{with .Status}}<p>{{.}}</p>{{end}}
{{with .Consent}}
<h2>{{.Purpose.Title}}</h2>
<p>{{.Purpose.Description}}</p>
<ul>{{range .Permissions}}<li><strong>{{.Information.Name}}</strong>: {{.Information.Description}}</li>{{end}}</ul>
<p>Your consent lasts until {{.Expires}}.</p>
{{end}}
{{if .Connections}}
<ul>{{range .Connections}}<li>{{if $.Deletable}}<label><input type="checkbox" name="deleteConnection" value="{{.ID}}"> Delete </label>{{end}}{{.Institution}} ({{.Method}}, {{.Status}}{{with .Expires}}, until {{.}}{{end}})</li>{{end}}</ul>
{{end}}
{{with .Fixed}}<p>Bank: <strong>{{.}}</strong></p>{{end}}
{{if .Institutions}}
<label for="institutionId">Bank</label>
<select id="institutionId" name="institutionId">{{range .Institutions}}
<option value="{{.ID}}"{{if .Selected}} selected{{end}}>{{.Name}}{{if .OpenBanking}} (open banking){{end}}</option>{{end}}
</select>
{{end}}
{{if .Login}}
<label for="loginId">Login ID</label>
<input type="text" id="loginId" name="loginId" value="{{.LoginID}}" autocomplete="off">
{{end}}
{{if or .Login .PasswordOnly}}
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="off">
{{end}}
{{if .Login}}
<details><summary>More login fields (some banks ask for them)</summary>
<label for="securityCode">Security code</label>
<input type="password" id="securityCode" name="securityCode" autocomplete="off">
<label for="secondaryLoginId">Secondary login ID</label>
<input type="text" id="secondaryLoginId" name="secondaryLoginId" autocomplete="off">
</details>
<p class="note">Use one of Basiq's sandbox logins, listed in the basiqtest package documentation.</p>
{{end}}
<button type="submit" name="op" value="allow">{{.Submit}}</button>
{{if .Revoke}}<button type="submit" name="op" value="revoke">Revoke consent</button>{{end}}
<button type="submit" name="op" value="cancel">Cancel</button>
</form>
{{end}}
{{if .HasState}}<p class="note">Your app's state, returned on the redirect: <code>{{.State}}</code></p>{{end}}
</body>
</html>
`
