package basiqtest_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/banklink-go/basiq"
	"github.com/banklink-go/basiq/basiqtest"
)

// verifyBankLogin is application code under test: it links a new user's bank
// with plain net/http and waits until Basiq has verified the credentials.
func verifyBankLogin(hc *http.Client, baseURL, apiKey, institutionID, loginID, password string) (string, error) {
	call := func(method, path, token, ctype, body string, out any) error {
		req, err := http.NewRequest(method, baseURL+path, strings.NewReader(body))
		if err != nil {
			return err
		}
		if token == "" {
			req.Header.Set("Authorization", "Basic "+apiKey)
			req.Header.Set("basiq-version", "2.1")
		} else {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		req.Header.Set("Content-Type", ctype)
		req.Header.Set("Accept", "application/json")
		res, err := hc.Do(req)
		if err != nil {
			return err
		}
		defer res.Body.Close()
		if res.StatusCode >= 300 {
			return fmt.Errorf("%s %s: %s", method, path, res.Status)
		}
		return json.NewDecoder(res.Body).Decode(out)
	}

	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := call("POST", "/token", "", "application/x-www-form-urlencoded", url.Values{"scope": {"SERVER_ACCESS"}}.Encode(), &tok); err != nil {
		return "", err
	}
	var usr, job struct{ ID string }
	if err := call("POST", "/users", tok.AccessToken, "application/json", `{"email":"max@example.com"}`, &usr); err != nil {
		return "", err
	}
	conn := fmt.Sprintf(`{"loginId":%q,"password":%q,"institution":{"id":%q}}`, loginID, password, institutionID)
	if err := call("POST", "/users/"+usr.ID+"/connections", tok.AccessToken, "application/json", conn, &job); err != nil {
		return "", err
	}
	for range 60 {
		var j struct {
			Steps []struct {
				Title, Status string
				Result        struct{ Code, Detail string }
			}
		}
		if err := call("GET", "/jobs/"+job.ID, tok.AccessToken, "application/json", "", &j); err != nil {
			return "", err
		}
		verify := j.Steps[0]
		switch verify.Status {
		case "success":
			return "verified", nil
		case "failed":
			return fmt.Sprintf("%s (%s)", verify.Result.Code, verify.Result.Detail), nil
		}
		time.Sleep(time.Second)
	}
	return "", errors.New("timed out")
}

// Example tests application code against the fake with plain net/http. With
// WithTimeScale(0) jobs finish at once; inside a testing/synctest bubble
// (with InMemory) they would take Hooli's real durations in virtual time.
func Example() {
	srv := basiqtest.NewServer(basiqtest.InMemory(), basiqtest.WithTimeScale(0))
	defer srv.Close()

	for _, login := range [][2]string{{"gavinBelson", "hooli2016"}, {"bighead", "password"}, {"gavinBelson", "oops"}} {
		got, err := verifyBankLogin(srv.Client(), srv.URL, srv.APIKey(), "AU00000", login[0], login[1])
		if err != nil {
			fmt.Println("error:", err)
			continue
		}
		fmt.Printf("%s/%s: %s\n", login[0], login[1], got)
	}
	fmt.Println("jobs polled:", srv.RequestCount("GET", "/jobs/{jobId}"))
	// Output:
	// gavinBelson/hooli2016: verified
	// bighead/password: invalid-credentials (Account is locked)
	// gavinBelson/oops: invalid-credentials (Cannot login to target institution using supplied credentials. Please check credentials and try again.)
	// jobs polled: 3
}

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

// ExampleServer_InjectFault makes the next two job polls fail as Basiq does
// when it throttles, to test a client's retries.
func ExampleServer_InjectFault() {
	srv := basiqtest.NewServer(basiqtest.InMemory())
	defer srv.Close()
	srv.InjectFault(basiqtest.Fault{Method: "GET", Path: "/jobs/*", Count: 2, Status: http.StatusTooManyRequests, RetryAfter: "2"})

	for range 3 {
		res, err := srv.Client().Get(srv.URL + "/jobs/fa521b1b-0031-4644-8885-7ed125e659c1")
		if err != nil {
			fmt.Println(err)
			return
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		fmt.Println(res.StatusCode, res.Header.Get("Retry-After"))
	}
	// Output:
	// 429 2
	// 429 2
	// 401
}

// linkBank is application code under test: it connects a user's bank and
// keeps them only until their credentials are verified.
func linkBank(ctx context.Context, c *basiq.Client, userID, institutionID, login, password string) (string, error) {
	job, err := c.Connections.Create(ctx, userID, basiq.Credentials{
		InstitutionID: institutionID, LoginID: login, Password: password,
	})
	if err != nil {
		return "", err
	}
	p := c.Jobs.Poller(job.ID, &basiq.PollOptions{Operation: basiq.OpCreate, InstitutionID: institutionID})
	_, err = p.WaitForStep(ctx, basiq.StepVerifyCredentials)
	var failed *basiq.JobFailedError
	switch {
	case errors.As(err, &failed):
		return "failed: " + string(failed.Diagnosis.Action), nil
	case err != nil:
		return "", err
	}
	return "linked", nil
}

// Test your own code with the SDK against the fake: the sandbox logins
// behave as on Basiq's sandbox, including the ones that always fail.
func ExampleNewServer() {
	srv := basiqtest.NewServer(basiqtest.InMemory(), basiqtest.WithTimeScale(0))
	defer srv.Close()
	c, err := basiq.NewClient(srv.APIKey(), basiq.WithBaseURL(srv.URL), basiq.WithHTTPClient(srv.Client()),
		basiq.WithAPIVersion(basiq.V2_1))
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	user, err := c.Users.Create(ctx, basiq.UserParams{Email: "max@example.com"})
	if err != nil {
		panic(err)
	}
	for _, login := range [][2]string{{"gavinBelson", "hooli2016"}, {"bighead", "password"}, {"gavinBelson", "typo"}} {
		got, err := linkBank(ctx, c, user.ID, "AU00000", login[0], login[1])
		fmt.Println(login[0], "→", got, err)
	}
	fmt.Println("connections posted:", srv.RequestCount("POST", "/users/{userId}/connections"))
	// Output:
	// gavinBelson → linked <nil>
	// bighead → failed: check-credentials <nil>
	// gavinBelson → failed: check-credentials <nil>
	// connections posted: 3
}

// received is what a webhook receiver got: a request whose signature it
// verified.
type received struct {
	Method, Path string
	Header       http.Header
	Body         []byte
}

// webhookReceiver is application code under test: it checks a Basiq
// webhook's Standard Webhooks signature (HMAC-SHA256 keyed with the
// secret's bytes over id.timestamp.body) before it reads the body, and
// hands what it got on.
func webhookReceiver(secret string, got chan<- received) http.Handler {
	key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		mac := hmac.New(sha256.New, key)
		mac.Write([]byte(r.Header.Get("webhook-id") + "." + r.Header.Get("webhook-timestamp") + "."))
		mac.Write(body)
		want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
		valid := false
		for _, sig := range strings.Fields(r.Header.Get("webhook-signature")) {
			valid = valid || hmac.Equal([]byte(sig), []byte(want))
		}
		if !valid {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		got <- received{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: body}
		w.WriteHeader(http.StatusNoContent)
	})
}

// An application registers a webhook, something happens (a user is
// created), and DeliverWebhooks sends the signed message to the
// application's receiver, here a real loopback server.
func ExampleServer_DeliverWebhooks() {
	srv := basiqtest.NewServer(basiqtest.InMemory())
	defer srv.Close()
	hc, api := srv.Client(), srv.URL
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := basiqCall(hc, "POST", api+"/token", "Basic "+srv.APIKey(), "application/x-www-form-urlencoded", "scope=SERVER_ACCESS", &tok); err != nil {
		panic(err)
	}
	bearer := "Bearer " + tok.AccessToken

	// The receiver needs the secret, which Basiq shows once, on create: its
	// address is known first, and it starts once it has the secret.
	got := make(chan received, 10)
	rcv := httptest.NewUnstartedServer(nil)
	defer rcv.Close()
	var webhook struct {
		Secret string `json:"secret"`
		Status string `json:"status"`
	}
	body := `{"url":"http://` + rcv.Listener.Addr().String() + `/basiq/webhooks","subscribedEvents":["user.created"]}`
	if err := basiqCall(hc, "POST", api+"/notifications/webhooks", bearer, "application/json", body, &webhook); err != nil {
		panic(err)
	}
	rcv.Config.Handler = webhookReceiver(webhook.Secret, got)
	rcv.Start()
	fmt.Println("webhook:", webhook.Status)

	var user struct{ ID string }
	if err := basiqCall(hc, "POST", api+"/users", bearer, "application/json", `{"email":"max@example.com"}`, &user); err != nil {
		panic(err)
	}
	n, err := srv.DeliverWebhooks(context.Background())
	if err != nil {
		panic(err)
	}
	fmt.Println("attempts:", n)
	// DeliverWebhooks returns once the receiver has answered.
	var r received
	select {
	case r = <-got:
	default:
		fmt.Println("the receiver rejected the message")
		return
	}
	fmt.Println(r.Method, r.Path)
	fmt.Println("webhook-id is the message's id:", r.Header.Get("webhook-id") == srv.WebhookMessages()[0].ID)
	fmt.Println("webhook-signature:", regexp.MustCompile(`^v1,[A-Za-z0-9+/]{43}=$`).MatchString(r.Header.Get("webhook-signature")))
	ids := strings.NewReplacer(user.ID, "<user id>")
	fmt.Println(regexp.MustCompile(`[0-9a-f]{64}`).ReplaceAllString(ids.Replace(string(r.Body)), "<event id>"))

	// The message is thin: the event, with a snapshot of the user, is at
	// links.event.
	var msg struct {
		Links struct {
			Event string `json:"event"`
		} `json:"links"`
	}
	var event struct {
		Entity    string `json:"entity"`
		EventType string `json:"eventType"`
		UserID    string `json:"userId"`
	}
	if err := json.Unmarshal(r.Body, &msg); err != nil {
		panic(err)
	}
	if err := basiqCall(hc, "GET", msg.Links.Event, bearer, "", "", &event); err != nil {
		panic(err)
	}
	fmt.Println("event:", event.Entity, event.EventType, "for the new user:", event.UserID == user.ID)
	// Output:
	// webhook: active
	// attempts: 1
	// POST /basiq/webhooks
	// webhook-id is the message's id: true
	// webhook-signature: true
	// {"eventTypeId":"user.created","eventId":"<event id>","links":{"event":"https://basiq.test/events/<event id>","eventEntity":"https://basiq.test/users/<user id>"}}
	// event: user created for the new user: true
}

// FailWebhookDeliveries exercises a receiver's handling of retries: the
// first attempts reach it but count as failed, so Basiq's schedule sends
// the same message (the same webhook-id) again. The test moves the fake's
// clock to each attempt.
func ExampleServer_FailWebhookDeliveries() {
	now := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	seen := map[string]int{} // webhook-id → deliveries: a receiver must drop repeats
	receiver := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { seen[r.Header.Get("webhook-id")]++ })
	srv := basiqtest.NewServer(basiqtest.InMemory(), basiqtest.WithClock(func() time.Time { return now }),
		basiqtest.WithWebhookClient(&http.Client{Transport: basiqtest.HandlerTransport(receiver)}))
	defer srv.Close()
	hc, api := srv.Client(), srv.URL
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := basiqCall(hc, "POST", api+"/token", "Basic "+srv.APIKey(), "application/x-www-form-urlencoded", "scope=SERVER_ACCESS", &tok); err != nil {
		panic(err)
	}
	bearer := "Bearer " + tok.AccessToken
	var ignored struct{}
	if err := basiqCall(hc, "POST", api+"/notifications/webhooks", bearer, "application/json",
		`{"url":"https://app.example/basiq/webhooks","subscribedEvents":"user.created"}`, &ignored); err != nil {
		panic(err)
	}

	srv.FailWebhookDeliveries(3)
	if err := basiqCall(hc, "POST", api+"/users", bearer, "application/json", `{"email":"max@example.com"}`, &ignored); err != nil {
		panic(err)
	}
	start := now
	for {
		next, ok := srv.NextWebhookAttempt()
		if !ok {
			break
		}
		now = next
		if _, err := srv.DeliverWebhooks(context.Background()); err != nil {
			panic(err)
		}
	}
	m := srv.WebhookMessages()[0]
	for i, a := range m.Attempts {
		fmt.Printf("attempt %d at +%v: %d\n", i+1, a.Time.Sub(start), a.StatusCode)
	}
	fmt.Println("delivered:", m.Delivered, "- the receiver saw the message", seen[m.ID], "times")
	// Output:
	// attempt 1 at +0s: 500
	// attempt 2 at +5s: 500
	// attempt 3 at +5m5s: 500
	// attempt 4 at +35m5s: 200
	// delivered: true - the receiver saw the message 4 times
}
