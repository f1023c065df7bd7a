package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/banklink-go/basiq"
	"github.com/banklink-go/basiq/basiqtest"
	"github.com/banklink-go/basiq/examples/internal/demo"
	"github.com/banklink-go/basiq/webhook"
	"go.uber.org/goleak"
)

// TestMain fails the test binary if the program leaves a goroutine behind
// (its embedded fake server, a poll loop).
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func noKey(string) string { return "" }

func TestStoryOnTheFake(t *testing.T) {
	var out bytes.Buffer
	if err := run(t.Context(), nil, noKey, &out, &out); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	for _, p := range []string{
		`(?m)^Signed up gavin@hooli\.com`,
		`(?m)^GET /connect → the Consent UI: https://consent\.basiq\.io/home\?state=[\w-]{43}&token=\[REDACTED\]$`,
		`(?m)^Back at the application \(200\): Connecting your bank`,
		`(?m)^  notice to the user: "Your bank didn't accept those login details\.`,
		`(?m)^GET /fix\?problem=[0-9a-f-]+%3Ainvalid-credentials → the Consent UI: https://consent\.basiq\.io/home\?connectionId=[0-9a-f-]+&state=[\w-]{43}&token=\[REDACTED\]$`,
		`(?m)^Every connection is healthy; each problem was notified once\.$`,
	} {
		if !regexp.MustCompile(p).MatchString(out.String()) {
			t.Errorf("output does not match %q:\n%s", p, out.String())
		}
	}
	if n := strings.Count(out.String(), "notice to the user"); n != 1 {
		t.Errorf("%d notices for one failure:\n%s", n, out.String())
	}
}

func TestFlagsAndTheLiveAPIAreRefused(t *testing.T) {
	var out bytes.Buffer
	if err := run(t.Context(), []string{"-x"}, noKey, &out, &out); !errors.Is(err, demo.ErrUsage) {
		t.Fatalf("a flag: err = %v", err)
	}
	err := run(t.Context(), nil, func(k string) string {
		return map[string]string{"BASIQ_API_KEY": "a2V5"}[k]
	}, &out, &out)
	if err == nil || !strings.Contains(err.Error(), "fake only") {
		t.Fatalf("err = %v", err)
	}
}

// login is a sandbox login the user connects, and what fixes its failure.
type login struct {
	inst, id, password string
	fails              string // the failure code of a failing sandbox login
}

// everyLogin is what the user connects in the first visit: the good sandbox
// login on a plain bank, an MFA bank and an open-banking bank, and each
// failing login on a plain bank and on an MFA bank (where a retry needs the
// user, through the Consent UI).
var everyLogin = []login{
	{"AU00000", "gavinBelson", "hooli2016", ""},
	{"AU00002", "gavinBelson", "hooli2016", ""}, // an MFA bank
	{"AU10001", "gavinBelson", "hooli2016", ""}, // open banking
	{"AU00004", "bighead", "password", "invalid-credentials"},
	{"AU00002", "bighead", "password", "invalid-credentials"},
	{"AU00004", "erlich", "aviato", "account-not-accessible-requires-user-action"},
	{"AU00002", "erlich", "aviato", "account-not-accessible-requires-user-action"},
	{"AU00004", "jianYang", "nothotdog", "service-unavailable"},
	{"AU00002", "jianYang", "nothotdog", "service-unavailable"},
}

// later is what the user connects in a second visit, an hour on: another
// login at a bank where a connection had failed (a second account, not a
// replacement: nothing may be deleted), and the MFA-intermittent bank.
var later = []login{
	{"AU00004", "richard", "tabsnotspaces", ""},
	{"AU00003", "Gilfoyle", "PiedPiper", ""},
}

// TestEveryRemedyFollowedEndsHealthy is the reference backend's proof: a
// user connects every sandbox login at once through the Consent UI, the
// app learns of the failures from its callback, the webhooks and its health
// page, and the user follows every remedy the app passes on (the app does
// its own retries). Afterwards: every return passed the state check, no
// data was read for a job that did not succeed, each problem was notified
// exactly once, and every connection is healthy (none invalid, none made
// twice). It runs at the banks' real speed, in virtual time.
func TestEveryRemedyFollowedEndsHealthy(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := basiqtest.NewServer(basiqtest.InMemory(), basiqtest.WithTimeScale(1))
		defer srv.Close()
		c, err := basiq.NewClient(srv.APIKey(), basiq.WithBaseURL(srv.URL), basiq.WithHTTPClient(srv.Client()))
		if err != nil {
			t.Fatal(err)
		}
		ctx := t.Context()
		a := newApp(c, slog.New(slog.DiscardHandler))
		var mu sync.Mutex
		var notices []basiq.Diagnosis
		a.notify = func(_ string, d basiq.Diagnosis) { mu.Lock(); notices = append(notices, d); mu.Unlock() }
		wh, err := c.Webhooks.Create(ctx, basiq.WebhookParams{URL: "https://app.example/basiq/webhooks"})
		if err != nil {
			t.Fatal(err)
		}
		v, err := webhook.NewVerifier(string(wh.Secret))
		if err != nil {
			t.Fatal(err)
		}
		var refused []string // answers of 4xx or 5xx from the app
		routes := a.routes(v)
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
			routes.ServeHTTP(rec, r)
			if rec.status >= 400 {
				mu.Lock()
				refused = append(refused, fmt.Sprintf("%s %s: %d", r.Method, r.URL.Path, rec.status))
				mu.Unlock()
			}
		})
		srv.SetWebhookReceiver(h)
		b := demo.NewBrowser(h, srv, nil)
		settle := func() {
			for {
				synctest.Wait()
				a.bg.Wait()
				if n, err := srv.DeliverWebhooks(ctx); err != nil || n == 0 {
					return
				}
			}
		}

		if st, _, _, err := b.Do(http.MethodPost, "/signup", url.Values{"email": {"gavin@hooli.com"}}); err != nil || st != http.StatusCreated {
			t.Fatalf("sign-up: %d %v", st, err)
		}
		var logins []basiqtest.ConsentLogin
		for _, l := range everyLogin {
			logins = append(logins, basiqtest.ConsentLogin{InstitutionID: l.inst, LoginID: l.id, Password: l.password})
		}
		if st, body, err := b.Consent("/connect", basiqtest.WithConsentLogins(logins...)); err != nil || st != http.StatusOK {
			t.Fatalf("the first return: %d %s %v", st, body, err)
		}
		settle()
		healthPage := func() []healthRow {
			st, _, body, err := b.Do(http.MethodGet, "/health", nil)
			if err != nil || st != http.StatusOK {
				t.Fatalf("/health: %d %v", st, err)
			}
			var rows []healthRow
			if err := json.Unmarshal([]byte(body), &rows); err != nil {
				t.Fatal(err)
			}
			settle()
			return rows
		}
		healthPage() // the user looks at the health page too: no new notice

		// The user follows every remedy, once the failure's cause is gone.
		followed := map[string]bool{}
		for round := 0; round < 5; round++ {
			mu.Lock()
			todo := append([]basiq.Diagnosis(nil), notices...)
			mu.Unlock()
			for _, d := range todo {
				if followed[d.ProblemID] {
					continue
				}
				followed[d.ProblemID] = true
				l := loginFailingWith(t, d.Code)
				srv.SetLoginOutcome(l.id, basiqtest.Outcome{}) // the user sorts it out with the bank
				switch {
				case d.Consent != nil:
					st, body, err := b.Consent("/fix?problem="+url.QueryEscape(d.ProblemID),
						basiqtest.WithConsentLogins(basiqtest.ConsentLogin{LoginID: l.id, Password: l.password}))
					if err != nil || st != http.StatusOK {
						t.Errorf("the remedy of %s: %d %s %v", d.ProblemID, st, body, err)
					}
				case d.Action.UserMustAct():
					if st, _, body, err := b.Do(http.MethodGet, "/fix?problem="+url.QueryEscape(d.ProblemID), nil); err != nil || st != http.StatusOK {
						t.Errorf("the remedy of %s: %d %s %v", d.ProblemID, st, body, err)
					}
				default: // the app retries by itself after RetryAfter
					time.Sleep(d.RetryAfter + time.Minute)
				}
				settle()
			}
		}
		// A second visit, an hour on: more logins, one at a bank where a
		// connection failed and was fixed (a second account, not a
		// replacement: nothing may be deleted).
		time.Sleep(time.Hour)
		logins = logins[:0]
		for _, l := range later {
			logins = append(logins, basiqtest.ConsentLogin{InstitutionID: l.inst, LoginID: l.id, Password: l.password})
		}
		if st, body, err := b.Consent("/connect", basiqtest.WithConsentLogins(logins...)); err != nil || st != http.StatusOK {
			t.Fatalf("the second visit's return: %d %s %v", st, body, err)
		}
		settle()
		rows := healthPage()

		// Every connection is healthy, none invalid, none made twice, none deleted.
		if len(rows) != len(everyLogin)+len(later) {
			t.Errorf("%d connections for %d logins: %+v", len(rows), len(everyLogin)+len(later), rows)
		}
		for _, r := range rows {
			if r.Status != string(basiq.ConnectionActive) || r.Problem != "" || r.Fix != "" {
				t.Errorf("not healthy: %+v", r)
			}
		}
		// Every return passed the state check; nothing was refused.
		if len(refused) > 0 {
			t.Errorf("the app refused: %v", refused)
		}
		// One notice per problem, and one problem per failing login.
		perProblem := map[string]int{}
		codes := map[string]bool{}
		for _, d := range notices {
			perProblem[d.ProblemID]++
			codes[d.Code] = true
		}
		for p, n := range perProblem {
			if n != 1 {
				t.Errorf("problem %s notified %d times", p, n)
			}
		}
		for _, l := range everyLogin {
			if l.fails != "" && !codes[l.fails] {
				t.Errorf("no notice for %s's %s", l.id, l.fails)
			}
		}
		if len(perProblem) != 6 {
			t.Errorf("%d problems, want 6 (one per failing connection): %v", len(perProblem), perProblem)
		}
		assertDataReadOnlyAfterSuccess(t, srv, c)
	})
}

type healthRow struct{ Connection, Status, Problem, Message, Fix string }

func loginFailingWith(t *testing.T, code string) login {
	for _, l := range everyLogin {
		if l.fails == code {
			return l
		}
	}
	t.Fatalf("no sandbox login fails with %q", code)
	return login{}
}

// assertDataReadOnlyAfterSuccess checks the fake's request log: every read
// of accounts or transactions names a connection, and comes after a job of
// that connection succeeded.
func assertDataReadOnlyAfterSuccess(t *testing.T, srv *basiqtest.Server, c *basiq.Client) {
	t.Helper()
	reqs := srv.Requests()
	var userID string
	succeeded := map[string]time.Time{} // connection → first success
	for _, r := range reqs {
		if r.Route == "/users/{userId}/jobs" && userID == "" {
			userID = strings.Split(r.Path, "/")[2]
		}
	}
	if userID == "" {
		t.Fatal("no job list was read")
	}
	jobs, err := c.Jobs.List(context.Background(), userID, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range jobs {
		if j.Status() == basiq.JobSucceeded {
			if at, ok := succeeded[j.ConnectionID()]; !ok || j.Updated.Before(at) {
				succeeded[j.ConnectionID()] = j.Updated
			}
		}
	}
	reads := 0
	conn := regexp.MustCompile(`connection\.id\.eq\('([^']+)'\)`)
	for _, r := range reqs {
		if r.Method != http.MethodGet || (r.Route != "/users/{userId}/accounts" && r.Route != "/users/{userId}/transactions") {
			continue
		}
		reads++
		m := conn.FindStringSubmatch(r.Query.Get("filter"))
		if m == nil {
			t.Errorf("a read of every connection's data: %s?%s", r.Path, r.Query.Encode())
			continue
		}
		if at, ok := succeeded[m[1]]; !ok || r.Time.Before(at) {
			t.Errorf("data of connection %s read at %s, before any job of it succeeded", m[1], r.Time)
		}
	}
	if reads == 0 {
		t.Error("no data was read at all")
	}
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) { r.status = code; r.ResponseWriter.WriteHeader(code) }
