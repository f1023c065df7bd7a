package basiqtest_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banklink-go/basiq/basiqtest"
)

// browser is a user's browser on the consent page: it does not follow
// redirects, so tests see the 302.
type browser struct {
	t    *testing.T
	http *http.Client
}

func newBrowser(t *testing.T, rt http.RoundTripper) *browser {
	return &browser{t: t, http: &http.Client{Transport: rt,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// page is a response of the consent page.
type page struct {
	status int
	header http.Header
	body   string
}

func (b *browser) do(method, u, ctype, body string) page {
	b.t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	require.NoError(b.t, err)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	res, err := b.http.Do(req)
	require.NoError(b.t, err)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	require.NoError(b.t, err)
	return page{status: res.StatusCode, header: res.Header, body: string(raw)}
}

func (b *browser) get(u string) page { return b.do("GET", u, "", "") }

// post submits the page's form to u (the page's path with no query, as the
// form's action="?" does).
func (b *browser) post(u string, form url.Values) page {
	return b.do("POST", u, "application/x-www-form-urlencoded", form.Encode())
}

// session reads the form's session id.
func (p page) session(t *testing.T) string {
	t.Helper()
	m := regexp.MustCompile(`name="session" value="([^"]+)"`).FindStringSubmatch(p.body)
	require.NotNil(t, m, "no session field in: %s", p.body)
	return m[1]
}

// pageURL is the fake's consent page URL with the token and the pairs.
func (e *consentEnv) pageURL(kv ...string) string {
	v := url.Values{"token": {e.client}}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return e.srv.ConsentPageURL() + "?" + v.Encode()
}

func TestConsentPageConnects(t *testing.T) {
	e := newConsentEnv(t)
	b := newBrowser(t, e.srv.Transport())
	state := `"><script>alert('xss')</script>&amp;`
	p := b.get(e.pageURL("state", state))
	require.Equal(t, http.StatusOK, p.status, p.body)
	assert.Equal(t, "text/html; charset=utf-8", p.header.Get("Content-Type"))
	assert.Equal(t, "no-store", p.header.Get("Cache-Control"))
	assert.Equal(t, "no-referrer", p.header.Get("Referrer-Policy"), "the page's URL carries the token")
	assert.Equal(t, "DENY", p.header.Get("X-Frame-Options"))
	assert.Contains(t, p.header.Get("Content-Security-Policy"), "default-src 'none'")
	assert.NotContains(t, p.body, e.client, "the token is never in the page")
	assert.NotContains(t, p.body, "<script>")
	assert.NotContains(t, p.body, "alert('xss')")
	assert.Contains(t, p.body, "&lt;script&gt;", "state is shown escaped")
	assert.Contains(t, p.body, `action="?"`, "the form posts to the page without the token")
	for _, bank := range []string{"Hooli Bank", "Pied Piper Bank", "Commonwealth Bank of Australia"} {
		assert.Contains(t, p.body, bank)
	}
	assert.Contains(t, p.body, "Agree and connect", "a first visit captures the consent")
	assert.Contains(t, p.body, "Transaction details")

	form := url.Values{"session": {p.session(t)}, "institutionId": {"AU00002"}, "loginId": {"jared"}, "password": {"django"}, "op": {"allow"}}
	res := b.post(e.srv.ConsentPageURL(), form)
	require.Equal(t, http.StatusFound, res.status, res.body)
	loc, err := url.Parse(res.header.Get("Location"))
	require.NoError(t, err)
	assert.Equal(t, "app.example", loc.Host)
	assert.Equal(t, state, loc.Query().Get("state"))
	ids := jobIDs(t, loc)
	require.Len(t, ids, 1)
	st, _ := e.srv.Job(ids[0])
	assert.Equal(t, "AU00002", st.InstitutionID)
	assert.Equal(t, succeeded(), e.steps(ids[0]), "the page took the MFA answer")
	assert.Len(t, e.consents(), 1)

	// A session is used once.
	again := b.post(e.srv.ConsentPageURL(), form)
	assert.Equal(t, http.StatusBadRequest, again.status)
	assert.Contains(t, again.body, "has ended")
	assert.Equal(t, 0, e.srv.PageSessions())

	// A second visit with action=connect and a preselected bank.
	p = b.get(e.pageURL("action", "connect", "institutionId", "AU10001"))
	require.Equal(t, http.StatusOK, p.status, p.body)
	assert.NotContains(t, p.body, "Agree and connect", "the consent exists")
	assert.NotContains(t, p.body, "<select", "no picker: the bank is preselected")
	res = b.post(e.srv.ConsentPageURL(), url.Values{"session": {p.session(t)}, "institutionId": {"AU00000"},
		"loginId": {"richard"}, "password": {"tabsnotspaces"}})
	require.Equal(t, http.StatusFound, res.status, res.body)
	loc, _ = url.Parse(res.header.Get("Location"))
	st, _ = e.srv.Job(jobIDs(t, loc)[0])
	assert.Equal(t, "AU10001", st.InstitutionID, "the preselected bank, whatever the form says")
	assert.False(t, loc.Query().Has("state"))
}

func TestConsentPageCorrectableErrors(t *testing.T) {
	e := newConsentEnv(t)
	b := newBrowser(t, e.srv.Transport())
	p := b.get(e.pageURL())
	session := p.session(t)
	const typed = "Typed-Pa55word"
	loginID := `<b onmouseover="x">me</b>`

	// St.George asks for a security code: the page says so, keeps the
	// session, shows the login id escaped and never the password.
	res := b.post(e.srv.ConsentPageURL(), url.Values{"session": {session}, "institutionId": {"AU10005"}, "loginId": {loginID}, "password": {typed}})
	require.Equal(t, http.StatusBadRequest, res.status)
	assert.Contains(t, res.body, "asks for a SecurityCode")
	assert.NotContains(t, res.body, typed)
	assert.NotContains(t, res.body, loginID)
	assert.Contains(t, res.body, "&lt;b onmouseover=&#34;x&#34;&gt;me&lt;/b&gt;")
	assert.NotContains(t, res.body, "login 1:", "the page speaks to the user, not to the test")
	assert.NotContains(t, res.body, e.client)

	res = b.post(e.srv.ConsentPageURL(), url.Values{"session": {res.session(t)}, "institutionId": {"AU00003"}, "password": {typed}})
	require.Equal(t, http.StatusBadRequest, res.status)
	assert.Contains(t, res.body, "enter your bank login ID")
	assert.Contains(t, res.body, `<option value="AU00003" selected>`, "the user's pick is kept")
	assert.Equal(t, 1, strings.Count(res.body, " selected>"))
	res = b.post(e.srv.ConsentPageURL(), url.Values{"session": {res.session(t)}, "institutionId": {"AU00000"}, "loginId": {"jared"}})
	require.Equal(t, http.StatusBadRequest, res.status)
	assert.Contains(t, res.body, "enter your bank password")
	res = b.post(e.srv.ConsentPageURL(), url.Values{"session": {res.session(t)}, "institutionId": {"AU00000"}, "loginId": {"jared"}, "password": {"django"}, "op": {"explode"}})
	require.Equal(t, http.StatusBadRequest, res.status)
	assert.Empty(t, e.consents(), "nothing happened yet")

	// Then it works, on the same session.
	res = b.post(e.srv.ConsentPageURL(), url.Values{"session": {res.session(t)}, "institutionId": {"AU00000"}, "loginId": {"jared"}, "password": {"django"}})
	require.Equal(t, http.StatusFound, res.status, res.body)
	assert.Len(t, e.connections(), 1)
}

func TestConsentPageCancelAndManage(t *testing.T) {
	e := newConsentEnv(t)
	b := newBrowser(t, e.srv.Transport())

	p := b.get(e.pageURL("state", "c"))
	res := b.post(e.srv.ConsentPageURL(), url.Values{"session": {p.session(t)}, "op": {"cancel"}})
	require.Equal(t, http.StatusFound, res.status)
	assert.Equal(t, "https://app.example/basiq/callback?state=c", res.header.Get("Location"))
	assert.Empty(t, e.consents())

	ids := jobIDs(t, e.complete(consentURL(e.client), basiqtest.WithConsentLogins(
		login("AU00000", "gavinBelson", "hooli2016"), login("AU10001", "jared", "django"))))
	web, ob := e.connOf(ids[0]), e.connOf(ids[1])

	p = b.get(e.pageURL("action", "manage"))
	require.Equal(t, http.StatusOK, p.status, p.body)
	assert.Contains(t, p.body, "Revoke consent")
	assert.Contains(t, p.body, `value="`+web+`"`)
	res = b.post(e.srv.ConsentPageURL(), url.Values{"session": {p.session(t)}, "deleteConnection": {web}})
	require.Equal(t, http.StatusFound, res.status, res.body)
	assert.Equal(t, []string{ob}, []string{e.connections()[0]["id"].(string)})

	p = b.get(e.pageURL("action", "manage"))
	res = b.post(e.srv.ConsentPageURL(), url.Values{"session": {p.session(t)}, "op": {"revoke"}})
	require.Equal(t, http.StatusFound, res.status, res.body)
	assert.Empty(t, e.connections())
	assert.Equal(t, "revoked", e.consents()[0]["status"])

	// Pages for the other flows.
	jobIDs(t, e.complete(consentURL(e.client), basiqtest.WithConsentLogins(login("AU10001", "jared", "django"))))
	p = b.get(e.pageURL("action", "extend"))
	require.Equal(t, http.StatusOK, p.status, p.body)
	assert.Contains(t, p.body, "Extend your consent")
	p = b.get(e.pageURL("action", "reauthorise"))
	require.Equal(t, http.StatusOK, p.status, p.body)
	assert.Contains(t, p.body, "None of your bank connections is expiring soon")
	connID := e.connections()[0]["id"].(string)
	p = b.get(e.pageURL("connectionId", connID))
	require.Equal(t, http.StatusOK, p.status, p.body)
	assert.Contains(t, p.body, "Authorise at CommBank")
	res = b.post(e.srv.ConsentPageURL(), url.Values{"session": {p.session(t)}})
	require.Equal(t, http.StatusFound, res.status, res.body)
	loc, _ := url.Parse(res.header.Get("Location"))
	assert.Equal(t, connID, e.connOf(jobIDs(t, loc)[0]))
}

func TestConsentPageRefuses(t *testing.T) {
	e := newConsentEnv(t)
	b := newBrowser(t, e.srv.Transport())
	page := e.srv.ConsentPageURL()

	for _, m := range []string{"PUT", "DELETE", "PATCH", "HEAD"} {
		res := b.do(m, e.pageURL(), "", "")
		assert.Equal(t, http.StatusMethodNotAllowed, res.status, m)
		assert.Equal(t, "GET, POST", res.header.Get("Allow"), m)
	}
	// The form is a form.
	session := b.get(e.pageURL()).session(t)
	res := b.do("POST", page, "application/json", `{"session":"`+session+`"}`)
	assert.Equal(t, http.StatusUnsupportedMediaType, res.status)
	res = b.do("POST", page, "application/x-www-form-urlencoded", "session="+session+"&loginId="+strings.Repeat("x", 70<<10))
	assert.Equal(t, http.StatusRequestEntityTooLarge, res.status)
	res = b.post(page, url.Values{"session": {"made-up"}, "op": {"cancel"}})
	assert.Equal(t, http.StatusBadRequest, res.status)
	res = b.post(page+"?"+url.Values{"token": {e.client}}.Encode(), url.Values{"op": {"cancel"}})
	assert.Equal(t, http.StatusBadRequest, res.status, "a POST needs the page's session, not a token")
	assert.Empty(t, e.consents())

	// GET with a URL the Consent UI rejects: an error page, no form, no token.
	for name, u := range map[string]string{
		"no token":     page,
		"bad token":    page + "?token=eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl",
		"server token": page + "?" + url.Values{"token": {e.server}}.Encode(),
		"bad action":   e.pageURL("action", "<script>"),
		"bad query":    e.pageURL() + "&x=%zz",
		"too long":     e.pageURL("x", strings.Repeat("y", 17<<10)),
		"connect":      e.pageURL("action", "connect"),
	} {
		res := b.get(u)
		assert.Equal(t, http.StatusBadRequest, res.status, name)
		assert.NotContains(t, res.body, `name="session"`, name)
		assert.NotContains(t, res.body, e.client, name)
		assert.NotContains(t, res.body, e.server, name)
		assert.NotContains(t, res.body, "<script>", name)
		assert.Contains(t, res.body, `class="error"`, name)
	}

	// The token expires between the page and the post.
	session = b.get(e.pageURL()).session(t)
	e.srv.ExpireTokens()
	e.server = e.serverToken("3.0")
	res = b.post(page, url.Values{"session": {session}, "institutionId": {"AU00000"}, "loginId": {"jared"}, "password": {"django"}})
	assert.Equal(t, http.StatusBadRequest, res.status)
	assert.Contains(t, res.body, "expired")
	assert.Empty(t, e.consents())
}

// The page works on the fake's socket and mounted in a server of one's own,
// at any path: the form posts to the page's own path.
func TestConsentPageMounted(t *testing.T) {
	srv := basiqtest.NewServer(basiqtest.WithTimeScale(0))
	defer srv.Close()
	a := &api{t: t, srv: srv, http: &http.Client{}}
	server := a.serverToken("3.0")
	user := a.createUser(server)
	client := a.clientToken("3.0", user)
	b := newBrowser(t, http.DefaultTransport)

	p := b.get(srv.ConsentPageURL() + "?" + url.Values{"token": {client}}.Encode())
	require.Equal(t, http.StatusOK, p.status, p.body)
	res := b.post(srv.ConsentPageURL(), url.Values{"session": {p.session(t)}, "institutionId": {"AU00000"}, "loginId": {"jared"}, "password": {"django"}})
	require.Equal(t, http.StatusFound, res.status, res.body)

	mux := http.NewServeMux()
	mux.Handle("/demo/basiq/consent", srv.ConsentPage())
	demo := httptest.NewServer(mux)
	defer demo.Close()
	p = b.get(demo.URL + "/demo/basiq/consent?" + url.Values{"token": {client}, "action": {"connect"}}.Encode())
	require.Equal(t, http.StatusOK, p.status, p.body)
	res = b.post(demo.URL+"/demo/basiq/consent", url.Values{"session": {p.session(t)}, "institutionId": {"AU00004"}, "loginId": {"richard"}, "password": {"tabsnotspaces"}})
	require.Equal(t, http.StatusFound, res.status, res.body)
	loc, _ := url.Parse(res.header.Get("Location"))
	st, _ := srv.Job(jobIDs(t, loc)[0])
	assert.Equal(t, "AU00004", st.InstitutionID)
	b.http.CloseIdleConnections()
}

// BenchmarkConsentPage is one view of the consent page (checks, a session,
// the HTML) over the in-memory transport.
func BenchmarkConsentPage(b *testing.B) {
	e := newConsentEnv(b)
	u := e.srv.ConsentPageURL() + "?token=" + e.client + "&state=abc"
	b.ReportAllocs()
	for b.Loop() {
		res, err := e.srv.Client().Get(u)
		if err != nil || res.StatusCode != http.StatusOK {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
	}
}
