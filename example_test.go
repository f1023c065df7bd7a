package basiq_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/banklink-go/basiq"
	"github.com/banklink-go/basiq/basiqtest"
)

// exampleClient returns a client on an in-memory fake Basiq whose jobs finish
// at once, so that the examples run quickly and print the same every time.
func exampleClient() (*basiq.Client, func()) {
	srv := basiqtest.NewServer(basiqtest.InMemory(), basiqtest.WithTimeScale(0))
	c, err := basiq.NewClient(srv.APIKey(), basiq.WithBaseURL(srv.URL), basiq.WithHTTPClient(srv.Client()),
		basiq.WithAPIVersion(basiq.V2_1))
	if err != nil {
		log.Fatal(err)
	}
	return c, srv.Close
}

// Keep the user engaged until Basiq has verified their credentials (answering
// the bank's MFA challenge if it sends one), then release them while accounts
// and transactions are fetched in the background. API 2.1, with a bank that
// asks for MFA.
func ExamplePoller_WaitForStep() {
	c, stop := exampleClient()
	defer stop()
	ctx := context.Background()

	user, err := c.Users.Create(ctx, basiq.UserParams{Email: "gavin@hooli.com"})
	if err != nil {
		log.Fatal(err)
	}
	job, err := c.Connections.Create(ctx, user.ID, basiq.Credentials{
		InstitutionID: "AU00002", LoginID: "gavinBelson", Password: "hooli2016",
	})
	if err != nil {
		log.Fatal(err)
	}
	p := c.Jobs.Poller(job.ID, &basiq.PollOptions{Operation: basiq.OpCreate, InstitutionID: "AU00002"})
	for {
		_, err := p.WaitForStep(ctx, basiq.StepVerifyCredentials)
		var mfa *basiq.MFARequiredError
		if errors.As(err, &mfa) {
			fmt.Println("the bank asks:", mfa.Prompt.Input)
			answers := []string{"Hooli"} // one per input, from the user
			if _, err := c.Jobs.SubmitMFA(ctx, user.ID, job.ID, answers); err != nil {
				log.Fatal(err)
			}
			continue
		}
		if err != nil {
			log.Fatal(err) // see ExampleJobFailedError for acting on a failure
		}
		break
	}
	fmt.Println("credentials verified: the user can carry on")

	// Later, or in a background goroutine: the same Poller finishes the job.
	job, err = p.Wait(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("job", job.Status())
	// Output:
	// the bank asks: [What's your first company?]
	// credentials verified: the user can carry on
	// job succeeded
}

func ExampleJobFailedError() {
	c, stop := exampleClient()
	defer stop()
	ctx := context.Background()

	user, err := c.Users.Create(ctx, basiq.UserParams{Email: "bighead@hooli.com"})
	if err != nil {
		log.Fatal(err)
	}
	// bighead is Basiq's sandbox user whose bank account is locked.
	job, err := c.Connections.Create(ctx, user.ID, basiq.Credentials{
		InstitutionID: "AU00000", LoginID: "bighead", Password: "password",
	})
	if err != nil {
		log.Fatal(err)
	}
	_, err = c.Jobs.Wait(ctx, job.ID, &basiq.PollOptions{Operation: basiq.OpCreate})
	var failed *basiq.JobFailedError
	if !errors.As(err, &failed) {
		log.Fatal(err)
	}
	d := failed.Diagnosis
	fmt.Println("step:", d.Step)
	fmt.Println("code:", d.Code)
	fmt.Println("action:", d.Action)
	fmt.Println("user must act:", d.Action.UserMustAct())
	fmt.Println("ids to log:", d.UserID == user.ID, d.ConnectionID != "", d.JobID == job.ID)
	switch d.Action {
	case basiq.ActionCheckCredentials, basiq.ActionUpdateCredentials:
		// Ask the user to re-enter their login; show d.UserMessage.
	case basiq.ActionRetryLater, basiq.ActionWaitForInstitution:
		// Schedule a retry after d.RetryAfter and tell the user.
	case basiq.ActionContactSupport:
		// Report to Basiq support with d.UserID, d.ConnectionID and d.JobID.
	}
	// Output:
	// step: verify-credentials
	// code: invalid-credentials
	// action: check-credentials
	// user must act: true
	// ids to log: true true true
}

// Check a user's connections at login: the "check the user's jobs once a day
// and at login" routine in one call, then refresh only what is stale.
func ExampleConnectionsService_Health() {
	c, stop := exampleClient()
	defer stop()
	ctx := context.Background()

	user, err := c.Users.Create(ctx, basiq.UserParams{Email: "richard@piedpiper.com"})
	if err != nil {
		log.Fatal(err)
	}
	for _, login := range [][2]string{{"richard", "tabsnotspaces"}, {"erlich", "aviato"}} {
		job, err := c.Connections.Create(ctx, user.ID, basiq.Credentials{InstitutionID: "AU00000", LoginID: login[0], Password: login[1]})
		if err != nil {
			log.Fatal(err)
		}
		_, _ = c.Jobs.Wait(ctx, job.ID, &basiq.PollOptions{Operation: basiq.OpCreate}) // the failure shows in Health
	}

	health, err := c.Connections.Health(ctx, user.ID)
	if err != nil {
		log.Fatal(err)
	}
	for _, h := range health {
		fmt.Print(h.Connection.Status, " needs user action: ", h.NeedsUserAction)
		if h.Diagnosis != nil {
			fmt.Print(" (", h.Diagnosis.Action, ")")
		}
		fmt.Println()
		if h.Connection.Status == basiq.ConnectionActive {
			// Fetched moments ago: RefreshIfStale starts nothing.
			job, err := c.Connections.RefreshIfStale(ctx, user.ID, h.Connection.ID, 24*time.Hour)
			fmt.Println("refresh started:", job != nil, err)
		}
	}
	// Unordered output:
	// active needs user action: false
	// refresh started: false <nil>
	// invalid needs user action: true (resolve-at-bank)
}

// Create one client per API key and share it: its SERVER_ACCESS token is
// cached and refreshed for every goroutine. Here it talks to the fake; drop
// WithBaseURL and WithHTTPClient to talk to Basiq.
func ExampleNewClient() {
	srv := basiqtest.NewServer(basiqtest.InMemory())
	defer srv.Close()
	c, err := basiq.NewClient(srv.APIKey(),
		basiq.WithBaseURL(srv.URL), basiq.WithHTTPClient(srv.Client()),
		basiq.WithRetryPolicy(basiq.RetryPolicy{MaxAttempts: 3}),
		basiq.WithUserAgent("my-app/1.0"))
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	first, err := c.Token(ctx)
	if err != nil {
		log.Fatal(err)
	}
	again, _ := c.Token(ctx)
	fmt.Println(first.Scope, first.AccessToken == again.AccessToken, srv.TokenRequests())
	fmt.Println("token shows when printed:", strings.Contains(fmt.Sprint(first), first.AccessToken))
	_, err = c.Users.Get(ctx, "5b3532e0-23c7-48cb-b7a4-ff37f46c3eb1")
	fmt.Println(errors.Is(err, basiq.ErrNotFound))
	// Output:
	// SERVER_ACCESS true 1
	// token shows when printed: false
	// true
}

// The API 3.0 path: send the user to Basiq's Consent UI, read the job ids off
// the redirect back to the application, wait for every job, read the
// accounts. Here basiqtest plays the user in the Consent UI.
func ExampleConsentsService_Link() {
	srv := basiqtest.NewServer(basiqtest.InMemory(), basiqtest.WithTimeScale(0))
	defer srv.Close()
	c, err := basiq.NewClient(srv.APIKey(), basiq.WithBaseURL(srv.URL), basiq.WithHTTPClient(srv.Client()))
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	user, err := c.Users.Create(ctx, basiq.UserParams{Email: "gavin@hooli.com"})
	if err != nil {
		log.Fatal(err)
	}

	// 1. The link and its random state (keep link.State in the user's
	// session; never log link.URL: it carries a token, see basiq.RedactURL).
	link, err := c.Consents.Link(ctx, user.ID, nil)
	if err != nil {
		log.Fatal(err)
	}

	// 2. The user consents and connects a bank; the browser comes back.
	redirect, err := srv.CompleteConsent(link.URL, basiqtest.WithConsentLogins(
		basiqtest.ConsentLogin{InstitutionID: "AU00000", LoginID: "gavinBelson", Password: "hooli2016"}))
	if err != nil {
		log.Fatal(err)
	}
	u, _ := url.Parse(redirect)
	r, err := basiq.ParseConsentRedirect(u)
	if err != nil || !r.StateMatches(link.State) {
		log.Fatal("not our redirect")
	}

	// 3. Wait for every job it started (a real app does it in the
	// background), then read the data of the jobs that succeeded.
	outcomes, err := c.Jobs.WaitAll(ctx, r.JobIDs, &basiq.PollOptions{UserID: user.ID})
	if err != nil {
		log.Fatal(err)
	}
	for _, o := range outcomes {
		if f, failed := o.Failed(); failed {
			fmt.Println("failed:", f.Diagnosis.UserMessage) // and f.Diagnosis.Consent: the fix, for c.Consents.Link
			continue
		}
		if !o.Succeeded() {
			fmt.Println("not done:", o.Err) // timed out, another user's job: nothing to read
			continue
		}
		accts, err := c.Accounts.List(ctx, user.ID, &basiq.AccountFilter{ConnectionID: o.Job.ConnectionID()})
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println("connected:", len(accts), "accounts")
	}
	// Output:
	// connected: 3 accounts
}

// The application's Redirect URL handler: the Consent UI sends the user's
// browser there with the job ids and the state.
func ExampleParseConsentRedirect() {
	h := http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r, err := basiq.ParseConsentRedirect(req.URL)
		if err != nil || !r.StateMatches("state-from-the-session") {
			http.Error(w, "bad redirect", http.StatusBadRequest)
			return
		}
		if len(r.JobIDs) == 0 {
			fmt.Fprintln(w, "no bank connected") // the user left the Consent UI
			return
		}
		// Hand r.JobIDs to c.Jobs.WaitAll (in the background: jobs take seconds).
		fmt.Fprintln(w, "waiting for", len(r.JobIDs), "job(s)")
	})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/basiq/callback?jobIds=a1b2c3,d4e5f6&state=state-from-the-session", nil))
	fmt.Print(rec.Body.String())
	// Output:
	// waiting for 2 job(s)
}

// ExampleDiagnose acts on the diagnosis of a refresh job whose
// verify-credentials step failed, as GET /jobs/{id} returns it, on API 3.0
// (the default), where the user fixes their login in the Consent UI.
func ExampleDiagnose() {
	const body = `{
	  "type": "job", "id": "57d6ab28-1fd4-4851-b9d2-81ca2884de21", "jobType": "connection",
	  "created": "2024-09-25T04:40:41Z", "updated": "2024-09-25T04:40:50Z",
	  "steps": [
	    {"title": "verify-credentials", "status": "failed",
	     "result": {"code": "invalid-credentials", "title": "Cannot login to target institution, check credentials.",
	                "detail": "Cannot login to target institution using supplied credentials. Please check credentials and try again."}},
	    {"title": "retrieve-accounts", "status": "pending", "result": null},
	    {"title": "retrieve-transactions", "status": "pending", "result": null}
	  ],
	  "links": {"self": "https://au-api.basiq.io/jobs/57d6ab28-1fd4-4851-b9d2-81ca2884de21",
	            "source": "https://au-api.basiq.io/users/bfa52043-e154-4adf-94d1-7f0544affc45/connections/05b14a4a-189a-412a-a8c3-88adf2fc47f4"}
	}`
	var job basiq.Job
	if err := json.Unmarshal([]byte(body), &job); err != nil {
		panic(err)
	}

	d := basiq.Diagnose(&job, basiq.DiagnoseOptions{
		APIVersion:        basiq.V3, // the default; Jobs.Wait fills in the client's
		Operation:         basiq.OpRefresh,
		InstitutionStatus: basiq.StatusOperational, // from c.Institutions.Get
		Attempt:           1,
	})

	switch {
	case d.Action == basiq.ActionNone:
		fmt.Println("nothing to do")
	case d.Action.UserMustAct():
		// Save the action and show the message when the user next signs in.
		fmt.Println("tell the user:", d.UserMessage)
		if d.Consent != nil {
			// Then send them to c.Consents.Link(ctx, d.UserID, d.Consent), once per d.ProblemID.
			fmt.Printf("through the Consent UI: connectionId=%s\n", d.Consent.ConnectionID)
		}
	case d.Action == basiq.ActionContactSupport:
		fmt.Println("report to Basiq support:", d.UserID, d.ConnectionID, d.JobID)
	default:
		fmt.Println("retry in", d.RetryAfter)
	}
	fmt.Println("action:", d.Action)
	fmt.Println("detail for support:", d.Detail)

	// Log it: the record carries the ids Basiq support asks for.
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey && len(groups) == 0 {
				return slog.Attr{} // keep the output deterministic
			}
			return a
		},
	}))
	logger.Warn("basiq job failed", "diagnosis", d)

	// The same step failing with service-unavailable during a major outage.
	job.Steps[0].Result.Code = "service-unavailable"
	d = basiq.Diagnose(&job, basiq.DiagnoseOptions{Operation: basiq.OpRefresh, InstitutionStatus: basiq.StatusMajorOutage})
	fmt.Println(d)
	fmt.Println("tell the user:", d.UserMessage)

	// Output:
	// tell the user: We couldn't log in to your bank with your saved details. If you've changed your internet banking password, please reconnect your bank with your current login details.
	// through the Consent UI: connectionId=05b14a4a-189a-412a-a8c3-88adf2fc47f4
	// action: update-credentials
	// detail for support: Cannot login to target institution using supplied credentials. Please check credentials and try again.
	// level=WARN msg="basiq job failed" diagnosis.user_id=bfa52043-e154-4adf-94d1-7f0544affc45 diagnosis.connection_id=05b14a4a-189a-412a-a8c3-88adf2fc47f4 diagnosis.job_id=57d6ab28-1fd4-4851-b9d2-81ca2884de21 diagnosis.action=update-credentials diagnosis.operation=refresh diagnosis.code=invalid-credentials diagnosis.step=verify-credentials diagnosis.institution_status=operational
	// job 57d6ab28-1fd4-4851-b9d2-81ca2884de21 (user bfa52043-e154-4adf-94d1-7f0544affc45, connection 05b14a4a-189a-412a-a8c3-88adf2fc47f4): step verify-credentials: service-unavailable on refresh: wait-for-institution (after 1h0m0s)
	// tell the user: Your bank is having problems at the moment, so we couldn't fetch your data. We'll try again later and let you know when your data is ready.
}

// connectedUser returns a client (API 3.0, the default) on an in-memory fake
// Basiq, and a user whose bank the Consent UI has connected: the job has
// retrieved the accounts and transactions.
func connectedUser(opts ...basiqtest.Option) (*basiq.Client, string, func()) {
	srv := basiqtest.NewServer(append([]basiqtest.Option{basiqtest.InMemory(), basiqtest.WithTimeScale(0)}, opts...)...)
	c, err := basiq.NewClient(srv.APIKey(), basiq.WithBaseURL(srv.URL), basiq.WithHTTPClient(srv.Client()))
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	user, err := c.Users.Create(ctx, basiq.UserParams{Email: "gavin@hooli.com"})
	if err != nil {
		log.Fatal(err)
	}
	// What the Consent UI hands back in ?jobIds= after the user connects Hooli.
	jobID, err := srv.Connect(user.ID, "AU00000", "gavinBelson", "hooli2016")
	if err != nil {
		log.Fatal(err)
	}
	if _, err := c.Jobs.Wait(ctx, jobID, nil); err != nil {
		log.Fatal(err)
	}
	return c, user.ID, srv.Close
}

// List the accounts a connection retrieved, with the v3 details (holder,
// BSB, masked number, credit limit).
func ExampleAccountsService_List() {
	c, userID, stop := connectedUser()
	defer stop()
	ctx := context.Background()

	accounts, err := c.Accounts.List(ctx, userID, &basiq.AccountFilter{InstitutionID: "AU00000"})
	if err != nil {
		log.Fatal(err)
	}
	for _, a := range accounts {
		fmt.Printf("%-11s %-16s %s limit %s, held by %s\n", a.Class.Type, a.MaskedNumber, a.Balance, a.CreditLimit, a.AccountHolder)
	}
	// Output:
	// transaction xxxxx7919        3458.12 limit 0.00, held by GAVIN BELSON
	// savings     xxxxx7920        24871.50 limit 0.00, held by GAVIN BELSON
	// credit-card xxxxxxxxxxxx7921 -1530.42 limit 10000.00, held by GAVIN BELSON
}

// Stream every transaction of an account, page by page: only one page (500
// transactions) is in memory at a time, and breaking out of the loop stops
// fetching.
func ExampleTransactionsService_All() {
	c, userID, stop := connectedUser(basiqtest.WithTransactionsPerAccount(1200))
	defer stop()
	ctx := context.Background()

	accounts, err := c.Accounts.List(ctx, userID, nil)
	if err != nil {
		log.Fatal(err)
	}
	var pending, spent int
	filter := &basiq.TransactionFilter{AccountID: accounts[0].ID}
	for tx, err := range c.Transactions.All(ctx, userID, filter) {
		if err != nil {
			log.Fatal(err) // the last page that failed after retries, or a malformed one
		}
		if tx.Pending() {
			pending++ // pending ids change at every refresh: keep them apart
			continue
		}
		if tx.Direction == basiq.DirectionDebit {
			spent++
		}
	}
	fmt.Println("pending:", pending, "debits:", spent)

	// The first posted payment only: one request, whatever the total.
	for tx, err := range c.Transactions.All(ctx, userID, &basiq.TransactionFilter{
		AccountID: accounts[0].ID, Status: basiq.TransactionPosted, Class: basiq.ClassPayment,
	}) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(tx.Description, tx.Amount, tx.Enrich.Merchant.BusinessName)
		break
	}
	// Output:
	// pending: 3 debits: 818
	// GARFISH MANLY -154.39 Garfish Manly
}

// Call an endpoint the SDK does not wrap yet, with the same tokens, retries,
// typed errors and logging as the services.
func ExampleClient_Do() {
	c, userID, stop := connectedUser()
	defer stop()
	ctx := context.Background()

	var page struct {
		Count int               `json:"count"`
		Data  []json.RawMessage `json:"data"`
	}
	err := c.Do(ctx, &basiq.Request{
		Method: http.MethodGet,
		Path:   "/users/" + userID + "/transactions", // ids are escaped for you
		Query:  map[string][]string{"limit": {"5"}},
	}, &page)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("transactions on the first page:", page.Count)

	err = c.Do(ctx, &basiq.Request{Path: "/users/" + userID + "/transactions", Query: map[string][]string{"filter": {"bad"}}}, nil)
	var apiErr *basiq.APIError
	if errors.As(err, &apiErr) {
		fmt.Println(apiErr.StatusCode, apiErr.Code(), apiErr.Errors[0].Source.Parameter, errors.Is(err, basiq.ErrInvalidInput))
	}
	// Output:
	// transactions on the first page: 5
	// 400 parameter-not-valid filter true
}

// reportAPI returns a client on a stand-in for Basiq that answers the
// report calls with the examples Basiq publishes (testdata/basiq-spec/v3).
func reportAPI() (*basiq.Client, func()) {
	examples := map[string]string{}
	for file, ops := range map[string]map[string][2]string{
		"reporting.json": {"POST /reports": {"202", "example"}, "GET /reports/{id}": {"200", "example"}},
		"core.json":      {"GET /jobs/{jobId}": {"200", "Report-success"}},
	} {
		b, err := os.ReadFile(filepath.Join("testdata", "basiq-spec", "v3", file))
		if err != nil {
			log.Fatal(err)
		}
		var doc struct {
			Paths map[string]map[string]json.RawMessage `json:"paths"`
		}
		if err := json.Unmarshal(b, &doc); err != nil {
			log.Fatal(err)
		}
		for op, want := range ops {
			method, path, _ := strings.Cut(op, " ")
			var operation struct {
				Responses map[string]struct {
					Content map[string]struct {
						Example  json.RawMessage            `json:"example"`
						Examples map[string]json.RawMessage `json:"examples"`
					} `json:"content"`
				} `json:"responses"`
			}
			if err := json.Unmarshal(doc.Paths[path][strings.ToLower(method)], &operation); err != nil {
				log.Fatal(err)
			}
			media := operation.Responses[want[0]].Content["application/json"]
			body := media.Example
			if want[1] != "example" {
				var ex struct {
					Value json.RawMessage `json:"value"`
				}
				_ = json.Unmarshal(media.Examples[want[1]], &ex)
				body = ex.Value
			}
			examples[method+" "+path] = string(body)
		}
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.URL.Path == "/token":
			fmt.Fprint(w, `{"access_token":"t","expires_in":3600,"token_type":"Bearer"}`)
		case r.Method == http.MethodPost && r.URL.Path == "/reports":
			w.WriteHeader(http.StatusAccepted)
			fmt.Fprint(w, examples["POST /reports"])
		case strings.HasPrefix(r.URL.Path, "/jobs/"):
			fmt.Fprint(w, examples["GET /jobs/{jobId}"])
		case strings.HasPrefix(r.URL.Path, "/reports/"):
			fmt.Fprint(w, examples["GET /reports/{id}"])
		default:
			http.NotFound(w, r)
		}
	}))
	c, err := basiq.NewClient("a2V5OnNlY3JldA==", basiq.WithBaseURL(srv.URL))
	if err != nil {
		log.Fatal(err)
	}
	return c, srv.Close
}

// Create a consumer affordability report over six months of a user's
// accounts, wait for the job that makes it, and read its headline metrics.
func ExampleReportsService_Create() {
	c, stop := reportAPI()
	defer stop()
	ctx := context.Background()

	job, err := c.Reports.Create(ctx, basiq.ReportParams{
		Type:  basiq.ReportAffordability,
		Title: "Gavin Belson affordability 2024-H1", // at most 50 characters
		Filters: basiq.ReportFilters{
			Users:    []string{"272af9fa-0f4a-44dc-bf88-a63bec2d0662"},
			Accounts: []string{"ag829sj", "aj82gka"},
			From:     time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), // sent as 2024-01-01
			To:       time.Date(2024, 6, 30, 0, 0, 0, 0, time.UTC),
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	done, err := c.Jobs.Wait(ctx, job.ID, nil) // a *basiq.JobFailedError says what to do if it fails
	if err != nil {
		log.Fatal(err)
	}
	report, err := c.Reports.Get(ctx, done.ReportID())
	if err != nil {
		log.Fatal(err)
	}
	for _, id := range []string{"ME001", "ME002", "ME012", "ME019"} {
		if m, ok := report.Metric(id); ok {
			fmt.Printf("%s %-48s %9s (%s)\n", m.ID, m.Title, m.Value, m.Format)
		}
	}
	// Output:
	// ME001 # OF IDENTIFIED SALARY SOURCES                           4 (integer)
	// ME002 Average monthly amount from salary                 7228.00 (money)
	// ME012 Monthly spend on non-discretionary expenses (inc. liabilities)  -3851.00 (money)
	// ME019 # of financial dishonours                                3 (integer)
}

// statementAPI returns a client on a stand-in for Basiq that takes a
// statement upload and answers with a job, as Basiq does (202).
func statementAPI() (*basiq.Client, func()) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/token" {
			fmt.Fprint(w, `{"access_token":"t","expires_in":3600,"token_type":"Bearer"}`)
			return
		}
		if err := r.ParseMultipartForm(1 << 20); err != nil || r.FormValue("institutionId") == "" {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"type":"list","data":[{"type":"error","code":"parameter-not-valid","title":"Bad form"}]}`)
			return
		}
		w.WriteHeader(http.StatusAccepted)
		fmt.Fprint(w, `{"type":"job","id":"61723","links":{"self":"https://au-api.basiq.io/jobs/61723"}}`)
	}))
	c, err := basiq.NewClient("a2V5OnNlY3JldA==", basiq.WithBaseURL(srv.URL))
	if err != nil {
		log.Fatal(err)
	}
	return c, srv.Close
}

// Upload a bank statement the user downloaded from their bank. The file is
// streamed, and the upload is sent once: on a failure, UploadError says
// whether Basiq may have started a job anyway.
func ExampleStatementsService_Upload() {
	c, stop := statementAPI()
	defer stop()
	ctx := context.Background()

	file := strings.NewReader("%PDF-1.7 ...") // an *os.File in real life
	job, err := c.Statements.Upload(ctx, "ea0acf2b", "AU01001", "march-2024.pdf", file)
	var upload *basiq.UploadError
	switch {
	case errors.As(err, &upload) && upload.MayHaveActed:
		log.Fatalf("look for the job before uploading again: %v", err)
	case err != nil:
		log.Fatal(err)
	}
	fmt.Println("job", job.ID, "reads the statement; wait for it with Jobs.Wait")
	// Output:
	// job 61723 reads the statement; wait for it with Jobs.Wait
}
