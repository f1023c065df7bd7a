package basiq_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"

	"github.com/banklink-go/basiq"
	"github.com/banklink-go/basiq/basiqtest"
)

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
