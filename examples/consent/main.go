// Command consent links bank accounts the API 3.0 way, end to end: it
// creates a user, builds the link to Basiq's hosted Consent UI, lets the user
// connect their banks there, reads the job ids from the redirect back to the
// application, waits for every job, prints the accounts and the first
// transactions found, and for a job that failed prints its Diagnosis with the
// Consent UI link that lets the user fix it.
//
// With no environment it runs on the embedded fake Basiq server (package
// basiqtest), which plays the user in the Consent UI: it connects one bank
// with a sandbox login that works, and one with a login that always fails
// (bighead, "Account is locked"), then follows the Diagnosis's remedy link
// as the user would once their bank account is unlocked: the remedy fixes
// the failed connection in place (the Consent UI's connectionId flow), its
// return passes the same state check as the first one, and no second
// connection is made:
//
//	go run ./examples/consent
//	go run ./examples/consent -failing-login ""        # only the good bank
//	go run ./examples/consent -failing-institution AU00001 -failing-login erlich
//	go run ./examples/consent -transactions 10
//
// With BASIQ_API_KEY set it uses the real API (version 3.0): it prints the
// Consent UI link to open in a browser, and reads from standard input the
// URL the browser was redirected to (the application's Redirect URL, set in
// Basiq's dashboard, with ?jobIds=...&state=...).
//
// Exit status: 0 when every connection succeeds, and on the fake for the
// failing sandbox login it connects on purpose; 3 for any other diagnosed
// failure; 2 for bad usage; 130 when interrupted; 1 for any other error.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/banklink-go/basiq"
	"github.com/banklink-go/basiq/basiqtest"
	"github.com/banklink-go/basiq/examples/internal/demo"
)

func main() {
	demo.Main("consent", func(ctx context.Context, args []string, env func(string) string, stdout, stderr io.Writer) error {
		return run(ctx, args, env, os.Stdin, stdout, stderr)
	})
}

const usage = `Usage: consent [flags]

Connects bank accounts through Basiq's Consent UI (API 3.0): the real API
when BASIQ_API_KEY is set (open the printed link, then paste the URL you were
redirected to), else an embedded fake that plays the user.

Exit status: 0 on success, and on the fake for the failing sandbox login it
connects on purpose; 3 for any other diagnosed failure; 2 for bad usage; 130
when interrupted; 1 for other errors.

Flags:
`

// options are the program's flags.
type options struct {
	institution, login, password string
	failingInst, failingLogin    string
	email                        string
	transactions                 int
	keep                         bool
	timeout                      time.Duration
	timeScale                    float64
}

func parse(args []string, stdout, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("consent", flag.ContinueOnError)
	fs.StringVar(&o.institution, "institution", "AU00000", "fake only: the bank the user connects (Hooli)")
	fs.StringVar(&o.login, "login", "gavinBelson", "fake only: the sandbox login that works")
	fs.StringVar(&o.password, "password", "hooli2016", "fake only: its password")
	fs.StringVar(&o.failingInst, "failing-institution", "AU00004", "fake only: the second bank (HooliGov)")
	fs.StringVar(&o.failingLogin, "failing-login", "bighead", `fake only: a sandbox login that fails there ("" for none)`)
	fs.StringVar(&o.email, "email", "consent-demo@example.com", "email of the Basiq user to create")
	fs.IntVar(&o.transactions, "transactions", 5, "print the first N transactions of each connection (0: none)")
	fs.BoolVar(&o.keep, "keep", false, "keep the Basiq user at the end instead of deleting it")
	fs.DurationVar(&o.timeout, "timeout", 10*time.Minute, "give up after this long (the user needs time in the Consent UI)")
	fs.Float64Var(&o.timeScale, "time-scale", 0.1, "fake only: multiply the fake bank's step durations by this (1 = real speed)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usage)
		fs.PrintDefaults()
	}
	if err := demo.Parse(fs, args, stdout, stderr); err != nil {
		return o, err
	}
	if o.transactions < 0 {
		return o, demo.UsageError(fs, "-transactions must not be negative")
	}
	return o, nil
}

func run(ctx context.Context, args []string, env func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	o, err := parse(args, stdout, stderr)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()

	setup, err := demo.StartVersion(env, stdout, o.timeScale, basiq.V3)
	if err != nil {
		return err
	}
	defer setup.Close()
	c, fake := setup.Client, setup.Fake
	pollOpts := setup.Poll
	pollOpts.Operation = basiq.OpCreate

	user, err := c.Users.Create(ctx, basiq.UserParams{Email: o.email})
	if err != nil {
		return fmt.Errorf("creating user: %w", err)
	}
	fmt.Fprintf(stdout, "Created user %s\n", user.ID)
	if !o.keep {
		defer func() {
			dctx, dcancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			defer dcancel()
			if err := c.Users.Delete(dctx, user.ID); err != nil {
				fmt.Fprintf(stderr, "consent: could not delete user %s: %v\n", user.ID, err)
				return
			}
			fmt.Fprintf(stdout, "Deleted user %s (-keep keeps it)\n", user.ID)
		}()
	}

	// 1. The link to the Consent UI, with a random state for this
	// "session" (a real app keeps link.State in the user's session).
	link, err := c.Consents.Link(ctx, user.ID, nil)
	if err != nil {
		return fmt.Errorf("building the Consent UI link: %w", err)
	}

	// 2. The user consents and connects; the browser comes back with job ids.
	var redirect string
	if fake == nil {
		fmt.Fprintf(stdout, "\nOpen this link in a browser (it carries a token for this user: do not share it):\n\n  %s\n\n", link.URL)
		fmt.Fprintln(stdout, "Then paste the URL the browser was sent back to (your application's Redirect URL, with ?jobIds=...):")
		if redirect, err = readLine(ctx, stdin); err != nil {
			return fmt.Errorf("reading the redirect URL: %w", err)
		}
	} else {
		fmt.Fprintf(stdout, "Consent UI link (logged redacted with basiq.RedactURL):\n  %s\n", basiq.RedactURL(link.URL))
		logins := []basiqtest.ConsentLogin{{InstitutionID: o.institution, LoginID: o.login, Password: o.password}}
		fmt.Fprintf(stdout, "The fake plays the user: consents, connects %s as %s", o.institution, o.login)
		if o.failingLogin != "" {
			logins = append(logins, basiqtest.ConsentLogin{InstitutionID: o.failingInst, LoginID: o.failingLogin, Password: failingPassword(o.failingLogin)})
			fmt.Fprintf(stdout, " and %s as %s", o.failingInst, o.failingLogin)
		}
		fmt.Fprintln(stdout)
		if redirect, err = fake.CompleteConsent(link.URL, basiqtest.WithConsentLogins(logins...)); err != nil {
			return fmt.Errorf("the Consent UI refused the link: %w", err)
		}
		fmt.Fprintf(stdout, "Redirected back to: %s\n", redirect)
	}
	jobIDs, err := jobsFromRedirect(redirect, link.State)
	if err != nil {
		return err
	}

	// 3. Wait for every job (concurrently, through the shared poll loops).
	failed, err := waitAndReport(ctx, stdout, c, user.ID, jobIDs, pollOpts, o.transactions)
	if err != nil {
		return err
	}
	if len(failed) == 0 {
		return nil
	}

	// 4. A failure's remedy goes through the Consent UI too, on the failed
	// connection itself: on the fake, the user fixes things at the bank
	// (the sandbox login stops failing), follows the remedy link and logs in
	// again. Only the failure the demo made on purpose (the failing sandbox
	// login, with a remedy in the Consent UI) is followed; any other is the
	// run's outcome: exit status 3.
	if fake == nil || !demo.IsFailingLogin(o.failingLogin) {
		return fmt.Errorf("%w: %d connection(s) failed", demo.ErrDiagnosed, len(failed))
	}
	for _, d := range failed {
		if !demoFailure(ctx, c, user.ID, d, o.failingInst) {
			return fmt.Errorf("%w: connection %s failed (%s)", demo.ErrDiagnosed, demo.OrDash(d.ConnectionID), d.Action)
		}
	}
	for _, d := range failed {
		fmt.Fprintf(stdout, "\nThe user sorts things out with their bank (on the fake: SetLoginOutcome clears %s's failure),\nfollows the remedy for connection %s and logs in as %s again; the fix is made on that connection.\n",
			o.failingLogin, d.Consent.ConnectionID, o.failingLogin)
		fake.SetLoginOutcome(o.failingLogin, basiqtest.Outcome{})
		remedy, err := c.Consents.Link(ctx, user.ID, d.Consent) // a new state, kept like the first
		if err != nil {
			return fmt.Errorf("building the remedy link: %w", err)
		}
		redirect, err := fake.CompleteConsent(remedy.URL, basiqtest.WithConsentLogins(
			basiqtest.ConsentLogin{LoginID: o.failingLogin, Password: failingPassword(o.failingLogin)}))
		if err != nil {
			return fmt.Errorf("the Consent UI refused the remedy link: %w", err)
		}
		jobIDs, err := jobsFromRedirect(redirect, remedy.State)
		if err != nil {
			return err
		}
		again, err := waitAndReport(ctx, stdout, c, user.ID, jobIDs, pollOpts, o.transactions)
		if err != nil {
			return err
		}
		if len(again) > 0 {
			return fmt.Errorf("%w: the remedy failed too", demo.ErrDiagnosed)
		}
	}
	fmt.Fprintf(stdout, "\nThe failure of %s was the point of the demo (a sandbox login that always fails), so the exit status is 0.\n", o.failingLogin)
	return nil
}

// demoFailure reports whether d is the failure the demo made on purpose: a
// connection at the failing institution, with a remedy in the Consent UI on
// that connection.
func demoFailure(ctx context.Context, c *basiq.Client, userID string, d basiq.Diagnosis, failingInst string) bool {
	if d.Consent == nil || d.Consent.ConnectionID == "" {
		return false
	}
	conn, err := c.Connections.Get(ctx, userID, d.Consent.ConnectionID)
	return err == nil && conn.Institution.ID == failingInst
}

// jobsFromRedirect reads the Consent UI's redirect, checking its state when
// want is set.
func jobsFromRedirect(redirect, want string) ([]string, error) {
	u, err := url.Parse(strings.TrimSpace(redirect))
	if err != nil {
		return nil, fmt.Errorf("the redirect URL does not parse")
	}
	r, err := basiq.ParseConsentRedirect(u)
	if err != nil {
		return nil, fmt.Errorf("reading the redirect: %w", err)
	}
	if want != "" && !r.StateMatches(want) {
		return nil, errors.New("the redirect's state is not the one this session sent: refusing it")
	}
	if len(r.JobIDs) == 0 {
		return nil, errors.New("the user left the Consent UI without connecting a bank")
	}
	return r.JobIDs, nil
}

// waitAndReport waits for the jobs, prints each outcome, the accounts and
// the first transactions of each new connection, and returns the
// diagnoses of the jobs that failed.
func waitAndReport(ctx context.Context, w io.Writer, c *basiq.Client, userID string, jobIDs []string, opts basiq.PollOptions, txs int) ([]basiq.Diagnosis, error) {
	fmt.Fprintf(w, "Waiting for %d job(s): %s\n", len(jobIDs), strings.Join(jobIDs, ", "))
	start := time.Now()
	outcomes, err := c.Jobs.WaitAll(ctx, jobIDs, &opts)
	if err != nil {
		return nil, fmt.Errorf("waiting for the jobs: %w", err)
	}
	var failed []basiq.Diagnosis
	for _, out := range outcomes {
		fmt.Fprintln(w)
		if out.Err == nil && !out.Succeeded() {
			return nil, fmt.Errorf("job %s: no error but no success either", out.JobID)
		}
		if f, ok := out.Failed(); ok {
			d := f.Diagnosis
			fmt.Fprintf(w, "Job %s failed at %s after %.1fs. Diagnosis:\n", out.JobID, f.Step.Title, time.Since(start).Seconds())
			demo.PrintDiagnosis(w, d)
			if d.Consent != nil {
				remedy, err := c.Consents.Link(ctx, userID, d.Consent)
				if err != nil {
					return nil, fmt.Errorf("building the remedy link: %w", err)
				}
				fmt.Fprintf(w, "  remedy:        send the user to the Consent UI: %s\n", basiq.RedactURL(remedy.URL))
			}
			failed = append(failed, d)
			continue
		}
		if out.Err != nil { // timed out, another user's job, the context: no data to read
			return nil, fmt.Errorf("job %s did not succeed: %w", out.JobID, out.Err)
		}
		connID := out.Job.ConnectionID()
		fmt.Fprintf(w, "Job %s succeeded: connection %s\n", out.JobID, connID)
		accts, err := c.Accounts.List(ctx, userID, &basiq.AccountFilter{ConnectionID: connID})
		if err != nil {
			return nil, fmt.Errorf("reading accounts: %w", err)
		}
		fmt.Fprintf(w, "%d account(s):\n", len(accts))
		for _, a := range accts {
			fmt.Fprintf(w, "  %-24s %-8s %-10s %12s %s\n", a.Name, demo.OrDash(a.BSB), a.AccountNo, demo.OrDash(a.Balance), a.Currency)
		}
		if err := demo.PrintTransactions(ctx, w, c, userID, connID, txs); err != nil {
			return nil, err
		}
	}
	return failed, nil
}

// failingPassword is the sandbox password of a failing login ("" for others).
func failingPassword(login string) string {
	for _, l := range demo.FailingLogins() {
		if l.Login == login {
			return l.Password
		}
	}
	return "password"
}

// readLine reads one line of input, giving up when ctx ends.
func readLine(ctx context.Context, r io.Reader) (string, error) {
	type line struct {
		s   string
		err error
	}
	ch := make(chan line, 1)
	go func() {
		s, err := bufio.NewReader(r).ReadString('\n')
		if err == io.EOF && s != "" {
			err = nil
		}
		ch <- line{s, err}
	}()
	select {
	case <-ctx.Done():
		return "", ctx.Err()
	case l := <-ch:
		return l.s, l.err
	}
}
