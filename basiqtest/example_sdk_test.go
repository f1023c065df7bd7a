package basiqtest_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/banklink-go/basiq"
	"github.com/banklink-go/basiq/basiqtest"
)

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
