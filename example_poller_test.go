package basiq_test

import (
	"context"
	"errors"
	"fmt"
	"log"

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

// Keep the user engaged until Basiq has verified their credentials, then
// release them while accounts and transactions are fetched in the background.
func ExamplePoller_WaitForStep() {
	c, stop := exampleClient()
	defer stop()
	ctx := context.Background()

	user, err := c.Users.Create(ctx, basiq.UserParams{Email: "gavin@hooli.com"})
	if err != nil {
		log.Fatal(err)
	}
	job, err := c.Connections.Create(ctx, user.ID, basiq.Credentials{
		InstitutionID: "AU00000", LoginID: "gavinBelson", Password: "hooli2016",
	})
	if err != nil {
		log.Fatal(err)
	}
	p := c.Jobs.Poller(job.ID, &basiq.PollOptions{Operation: basiq.OpCreate, InstitutionID: "AU00000"})
	if _, err := p.WaitForStep(ctx, basiq.StepVerifyCredentials); err != nil {
		log.Fatal(err) // see ExampleJobFailedError for acting on a failure
	}
	fmt.Println("credentials verified: the user can carry on")

	// Later, or in a background goroutine: the same Poller finishes the job.
	job, err = p.Wait(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("job", job.Status())
	// Output:
	// credentials verified: the user can carry on
	// job succeeded
}

// Act on a failed job: the Diagnosis says what to do and what to tell the user.
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
