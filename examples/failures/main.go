// Command failures runs Basiq's three failing sandbox logins through a
// connection create and a refresh, concurrently, and prints the Diagnosis of
// each failure: the recommended action, its timing (RetryAfter, RetryEvery,
// GiveUpAfter), the message for the end user, and the ids to log (user_id,
// connection_id, job_id). It also logs one Diagnosis through log/slog to show
// what a log line carries.
//
//	bighead / password    invalid-credentials
//	erlich / aviato       account-not-accessible-requires-user-action
//	jianYang / nothotdog  service-unavailable
//
// With BASIQ_API_KEY set it uses the real API (version 2.1); otherwise the
// embedded fake Basiq server (package basiqtest):
//
//	go run ./examples/failures
//
// A refresh only fails in an interesting way on a connection that exists. On
// the fake, each refresh runs on a connection that first worked (the login's
// failure switched off), then has the same failure the create hit switched
// back on, as when a bank starts refusing a connection that used to work. The
// real API cannot be steered like that, so there the connection the failed
// create left behind is refreshed anyway, and whatever Basiq answers is shown.
//
// Exit status: 0 when every scenario ran (the failures are what it shows),
// 2 for bad usage, 130 when interrupted, 1 when a scenario could not run.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/banklink-go/basiq"
	"github.com/banklink-go/basiq/basiqtest"
	"github.com/banklink-go/basiq/examples/internal/demo"
)

func main() { demo.Main("failures", run) }

// result is the outcome of one scenario: a login through one operation.
type result struct {
	login string
	op    basiq.Operation
	diag  *basiq.Diagnosis // the failure's diagnosis
	note  string           // how the scenario was set up, or what happened instead
	err   error            // an error that stopped the scenario
	took  time.Duration
}

// tour is what every scenario shares: the client, the fake (if any), the
// institution and the poll intervals.
type tour struct {
	c             *basiq.Client
	fake          *basiqtest.Server // nil on the real API
	institutionID string
	poll          basiq.PollOptions
}

func run(ctx context.Context, args []string, env func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("failures", flag.ContinueOnError)
	institution := fs.String("institution", "AU00000", "institution id to connect to (one that does not ask for MFA: the failing logins have no documented answers)")
	timeout := fs.Duration("timeout", 5*time.Minute, "give up after this long")
	timeScale := fs.Float64("time-scale", 0.1, "fake only: multiply the fake bank's step durations by this (1 = real speed)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: failures [flags]\n\nDiagnoses the failing sandbox logins on create and refresh: the real API when BASIQ_API_KEY is set, else an embedded fake.\n\nExit status: 0 when every scenario ran, 2 for bad usage, 130 when interrupted, 1 when a scenario could not run.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := demo.Parse(fs, args, stdout, stderr); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()

	d := tour{institutionID: *institution}
	setup, err := demo.Start(env, stdout, *timeScale)
	if err != nil {
		return err
	}
	defer setup.Close()
	d.c, d.fake, d.poll = setup.Client, setup.Fake, setup.Poll
	if d.fake == nil {
		fmt.Fprintln(stdout, "Refresh: the connection each failed create left behind is refreshed anyway; Basiq's answer is shown as it comes.")
	} else {
		fmt.Fprintln(stdout, "Refresh: each login first gets a working connection (its failure switched off with SetLoginOutcome),")
		fmt.Fprintln(stdout, "then the failure its create hit is switched back on, as when a bank starts refusing a connection")
		fmt.Fprintln(stdout, "that used to work, and the connection is refreshed.")
	}
	logins := demo.FailingLogins()
	fmt.Fprintf(stdout, "Running %d logins × create and refresh concurrently at %s...\n\n", len(logins), *institution)

	start := time.Now()
	results := make([][]result, len(logins))
	var users sync.Map // user ids to delete at the end
	var wg sync.WaitGroup
	for i, l := range logins {
		wg.Go(func() { results[i] = d.scenarios(ctx, l.Login, l.Password, &users) })
	}
	wg.Wait()
	elapsed := time.Since(start)

	var failed []error
	var logged *basiq.Diagnosis
	for _, rs := range results {
		for _, r := range rs {
			printResult(stdout, r)
			if r.err != nil {
				failed = append(failed, fmt.Errorf("%s %s: %w", r.login, r.op, r.err))
			}
			if r.diag != nil && r.diag.RetryAfter > 0 {
				logged = r.diag
			}
		}
	}

	fmt.Fprintln(stdout, "Summary:")
	fmt.Fprintf(stdout, "  %-9s %-8s %-44s %s\n", "LOGIN", "OP", "CODE", "ACTION")
	for _, rs := range results {
		for _, r := range rs {
			code, action := "-", "-"
			if r.diag != nil {
				code, action = demo.OrDash(r.diag.Code), string(r.diag.Action)
			} else if r.err != nil {
				action = "error (see above)"
			}
			fmt.Fprintf(stdout, "  %-9s %-8s %-44s %s\n", r.login, r.op, code, action)
		}
	}
	fmt.Fprintf(stdout, "All done in %.1fs.\n", elapsed.Seconds())

	if logged != nil {
		fmt.Fprintln(stdout, "\nWhat a log line carries (Diagnosis implements slog.LogValuer; never the user message or bank detail):")
		slog.New(slog.NewTextHandler(stdout, nil)).Warn("bank connection failed", "diagnosis", *logged)
	}

	// Tidy up the demo users (their connections go with them).
	dctx, dcancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer dcancel()
	users.Range(func(id, _ any) bool {
		if err := d.c.Users.Delete(dctx, id.(string)); err != nil {
			fmt.Fprintf(stderr, "failures: could not delete user %s: %v\n", id, err)
		}
		return true
	})
	return errors.Join(failed...)
}

// scenarios runs one login's create, then its refresh.
func (d tour) scenarios(ctx context.Context, login, password string, users *sync.Map) []result {
	created := result{login: login, op: basiq.OpCreate}
	start := time.Now()
	userID, job, err := d.create(ctx, login, password, users)
	if err != nil {
		created.err = err
		return []result{created, {login: login, op: basiq.OpRefresh, err: errors.New("skipped: the create did not run")}}
	}
	created.diag, created.err = d.wait(ctx, job.ID, basiq.OpCreate, userID)
	created.took = time.Since(start)
	var connID string
	if created.diag != nil {
		connID = created.diag.ConnectionID
	}
	if created.err == nil && created.diag == nil {
		created.note = "the create succeeded: this login no longer fails here"
	}

	refreshed := result{login: login, op: basiq.OpRefresh}
	start = time.Now()
	if d.fake != nil {
		refreshed.note = "on a connection that worked until the failure was switched back on"
		if created.diag == nil {
			refreshed.err = errors.New("skipped: the create did not fail, so there is no failure to switch back on")
			return []result{created, refreshed}
		}
		if userID, connID, err = d.workingConnection(ctx, login, password, created.diag, users); err != nil {
			refreshed.err = err
			return []result{created, refreshed}
		}
		start = time.Now() // time the refresh, not the set-up
	} else {
		refreshed.note = "on the connection the failed create left behind"
	}
	if connID == "" {
		refreshed.err = errors.New("the create left no connection to refresh")
		return []result{created, refreshed}
	}
	job, err = d.c.Connections.Refresh(ctx, userID, connID)
	if err != nil {
		// The real API may refuse to refresh an invalid connection; that
		// answer is the outcome of this scenario, not a failure of the demo.
		var apiErr *basiq.APIError
		if errors.As(err, &apiErr) && apiErr.StatusCode < 500 {
			refreshed.note = fmt.Sprintf("Basiq refused the refresh: %v", err)
			refreshed.took = time.Since(start)
			return []result{created, refreshed}
		}
		refreshed.err = err
		return []result{created, refreshed}
	}
	refreshed.diag, refreshed.err = d.wait(ctx, job.ID, basiq.OpRefresh, userID)
	refreshed.took = time.Since(start)
	if refreshed.err == nil && refreshed.diag == nil {
		refreshed.note = "the refresh succeeded"
	}
	return []result{created, refreshed}
}

// create makes a user and starts a connection job with the login.
func (d tour) create(ctx context.Context, login, password string, users *sync.Map) (userID string, job *basiq.Job, err error) {
	user, err := d.c.Users.Create(ctx, basiq.UserParams{Email: login + "@example.com"})
	if err != nil {
		return "", nil, fmt.Errorf("creating user: %w", err)
	}
	users.Store(user.ID, true)
	job, err = d.c.Connections.Create(ctx, user.ID, basiq.Credentials{InstitutionID: d.institutionID, LoginID: login, Password: password})
	if err != nil {
		return user.ID, nil, fmt.Errorf("creating connection: %w", err)
	}
	return user.ID, job, nil
}

// workingConnection (fake only) gives the login a connection that works,
// then makes the login fail again as diagnosed in failure.
func (d tour) workingConnection(ctx context.Context, login, password string, failure *basiq.Diagnosis, users *sync.Map) (userID, connID string, err error) {
	d.fake.SetLoginOutcome(login, basiqtest.Outcome{}) // the bank accepts the login again
	userID, job, err := d.create(ctx, login, password, users)
	if err != nil {
		return "", "", err
	}
	opts := d.poll
	opts.Operation, opts.InstitutionID = basiq.OpCreate, d.institutionID
	job, err = d.c.Jobs.Wait(ctx, job.ID, &opts)
	if err != nil {
		return "", "", fmt.Errorf("setting up a working connection: %w", err)
	}
	d.fake.SetLoginOutcome(login, basiqtest.Outcome{Step: string(failure.Step), Code: failure.Code, Detail: failure.Detail})
	return userID, job.ConnectionID(), nil
}

// wait follows a job to its end and returns its Diagnosis when it failed.
// The job names its user and connection once verify-credentials has ended;
// demo.FillIDs fills in, as a fallback, any it does not.
func (d tour) wait(ctx context.Context, jobID string, op basiq.Operation, userID string) (*basiq.Diagnosis, error) {
	opts := d.poll
	opts.Operation, opts.InstitutionID = op, d.institutionID
	_, err := d.c.Jobs.Wait(ctx, jobID, &opts)
	var failed *basiq.JobFailedError
	if !errors.As(err, &failed) {
		return nil, err // nil when the job succeeded
	}
	diag := failed.Diagnosis
	demo.FillIDs(ctx, d.c, &diag, userID)
	return &diag, nil
}

func printResult(w io.Writer, r result) {
	fmt.Fprintf(w, "%s / %s", r.login, r.op)
	if r.note != "" {
		fmt.Fprintf(w, " (%s)", r.note)
	}
	fmt.Fprintln(w)
	switch {
	case r.err != nil:
		fmt.Fprintf(w, "  error:         %v\n\n", r.err)
		return
	case r.diag == nil:
		fmt.Fprintln(w)
		return
	}
	fmt.Fprintf(w, "  failed after:  %.1fs\n", r.took.Seconds())
	demo.PrintDiagnosis(w, *r.diag)
	fmt.Fprintln(w)
}
