package basiq_test

import (
	"context"
	"errors"
	"fmt"
	"log"
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
