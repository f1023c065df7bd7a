package basiqtest_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/banklink-go/basiq/basiqtest"
)

// basiqCall is an application's plain net/http call to Basiq's API. auth
// is the Authorization header: "Basic <API key>" for POST /token (which
// then asks for basiq-version 3.0), "Bearer <token>" for the rest.
func basiqCall(hc *http.Client, method, rawURL, auth, ctype, body string, out any) error {
	req, err := http.NewRequest(method, rawURL, strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Authorization", auth)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if strings.HasPrefix(auth, "Basic ") {
		req.Header.Set("basiq-version", "3.0")
	}
	res, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode >= 300 {
		return fmt.Errorf("%s %s: %s", method, req.URL.Path, res.Status)
	}
	return json.NewDecoder(res.Body).Decode(out)
}

// newBasiqUser is what an application's backend does before it sends a user
// to the Consent UI: a SERVER_ACCESS token, a user, and a CLIENT_ACCESS
// token bound to that user, all with basiq-version 3.0.
func newBasiqUser(srv *basiqtest.Server) (userID, clientToken string, err error) {
	hc, key := srv.Client(), "Basic "+srv.APIKey()
	form := "application/x-www-form-urlencoded"
	var server, client struct {
		AccessToken string `json:"access_token"`
	}
	var user struct{ ID string }
	if err := basiqCall(hc, "POST", srv.URL+"/token", key, form, "scope=SERVER_ACCESS", &server); err != nil {
		return "", "", err
	}
	if err := basiqCall(hc, "POST", srv.URL+"/users", "Bearer "+server.AccessToken, "application/json", `{"email":"max@example.com"}`, &user); err != nil {
		return "", "", err
	}
	body := url.Values{"scope": {"CLIENT_ACCESS"}, "userId": {user.ID}}.Encode()
	if err := basiqCall(hc, "POST", srv.URL+"/token", key, form, body, &client); err != nil {
		return "", "", err
	}
	return user.ID, client.AccessToken, nil
}

// The API 3.0 way to connect a bank: the application sends the user to
// Basiq's Consent UI with a CLIENT_ACCESS token, and learns the outcome
// from the job ids on the redirect back. In tests, CompleteConsent plays the
// user in the Consent UI.
func ExampleServer_CompleteConsent() {
	srv := basiqtest.NewServer(basiqtest.InMemory(), basiqtest.WithTimeScale(0))
	defer srv.Close()
	_, clientToken, err := newBasiqUser(srv)
	if err != nil {
		panic(err)
	}

	// The application builds the Consent UI URL with net/url. The first
	// visit has no action: the user gives their consent, then connects.
	// state ties the redirect back to this user's session.
	params := url.Values{"token": {clientToken}, "state": {"session-8c1e"}, "institutionId": {"AU00000"}}
	consentURL := "https://consent.basiq.io/home?" + params.Encode()

	// In production the browser goes there; here the fake plays the user.
	redirect, err := srv.CompleteConsent(consentURL,
		basiqtest.WithConsentLogins(basiqtest.ConsentLogin{LoginID: "gavinBelson", Password: "hooli2016"}))
	if err != nil {
		panic(err)
	}

	// The application's callback: check state, then poll the jobs.
	back, err := url.Parse(redirect)
	if err != nil {
		panic(err)
	}
	fmt.Println("back at", back.Host+back.Path, "state matches:", back.Query().Get("state") == "session-8c1e")
	for _, id := range strings.Split(back.Query().Get("jobIds"), ",") {
		var job struct {
			Steps []struct{ Title, Status string }
		}
		if err := basiqCall(srv.Client(), "GET", srv.URL+"/jobs/"+id, "Bearer "+clientToken, "", "", &job); err != nil {
			panic(err)
		}
		for _, s := range job.Steps {
			fmt.Println(" ", s.Title, s.Status)
		}
	}

	// Later the user adds two more banks: they have a consent now, so
	// action=connect. Macquarie (AU10006) connects by open banking.
	params.Set("action", "connect")
	params.Del("institutionId")
	redirect, err = srv.CompleteConsent("https://consent.basiq.io/home?"+params.Encode(), basiqtest.WithConsentLogins(
		basiqtest.ConsentLogin{InstitutionID: "AU00002", LoginID: "jared", Password: "django"},
		basiqtest.ConsentLogin{InstitutionID: "AU10006", LoginID: "richard", Password: "tabsnotspaces"}))
	if err != nil {
		panic(err)
	}
	back, _ = url.Parse(redirect)
	fmt.Println("jobs:", len(strings.Split(back.Query().Get("jobIds"), ",")))

	// action=connect without a consent is refused, as by Basiq.
	_, otherToken, _ := newBasiqUser(srv)
	params.Set("token", otherToken)
	_, err = srv.CompleteConsent("https://consent.basiq.io/home?"+params.Encode(),
		basiqtest.WithConsentLogins(basiqtest.ConsentLogin{InstitutionID: "AU00000", LoginID: "jared", Password: "django"}))
	fmt.Println(err)
	// Output:
	// back at app.example/basiq/callback state matches: true
	//   verify-credentials success
	//   retrieve-accounts success
	//   retrieve-transactions success
	// jobs: 2
	// basiqtest: the user has no active consent: action=connect needs one; send the user through the default flow (no action) first
}

// The consent page is a stand-in for Basiq's Consent UI that a browser can
// use, for demos: point the application's consent links at
// Server.ConsentPageURL (with the SDK, WithConsentBaseURL) and its Redirect
// URL at the application (WithConsentRedirectURL). Here an http.Client that
// does not follow redirects does what the browser would.
func ExampleServer_ConsentPage() {
	srv := basiqtest.NewServer(basiqtest.InMemory(), basiqtest.WithTimeScale(0),
		basiqtest.WithConsentRedirectURL("http://localhost:8080/basiq/callback"))
	defer srv.Close()
	_, clientToken, err := newBasiqUser(srv)
	if err != nil {
		panic(err)
	}
	browser := &http.Client{Transport: srv.Transport(),
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	// The user opens the consent link: a page with a bank picker and a login form.
	link := srv.ConsentPageURL() + "?" + url.Values{"token": {clientToken}, "state": {"xyz"}}.Encode()
	res, err := browser.Get(link)
	if err != nil {
		panic(err)
	}
	page, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		panic(err)
	}
	fmt.Println(res.StatusCode, res.Header.Get("Content-Type"))

	// They pick Hooli, log in and agree: the form posts back to the page.
	session := regexp.MustCompile(`name="session" value="([^"]+)"`).FindSubmatch(page)[1]
	res, err = browser.PostForm(srv.ConsentPageURL(), url.Values{"session": {string(session)},
		"institutionId": {"AU00000"}, "loginId": {"gavinBelson"}, "password": {"hooli2016"}})
	if err != nil {
		panic(err)
	}
	res.Body.Close()
	back, _ := url.Parse(res.Header.Get("Location"))
	fmt.Println(res.StatusCode, back.Host+back.Path, "state:", back.Query().Get("state"), "job ids:", len(strings.Split(back.Query().Get("jobIds"), ",")))
	// Output:
	// 200 text/html; charset=utf-8
	// 302 localhost:8080/basiq/callback state: xyz job ids: 1
}
