// Command report makes a Consumer Affordability Report (CON_AFFOR_01), the
// report income-verification and lending flows are built on: it connects a
// bank for a new user through the Consent UI (API 3.0), waits for the
// connection's job, creates the report over the user's accounts and the last
// -days days, waits for the report's job (Jobs.Wait, like any other job),
// reads the report and prints its headline metrics, then fetches its PDF.
//
// With no environment it runs on the embedded fake Basiq server (package
// basiqtest), which plays the user in the Consent UI and computes the report
// from its sandbox data:
//
//	go run ./examples/report
//	go run ./examples/report -days 30 -metrics ME002,ME033
//	go run ./examples/report -pdf report.pdf
//
// With BASIQ_API_KEY set it uses the real API (version 3.0) for the user
// given by -user, who must already have a bank connected:
//
//	BASIQ_API_KEY=... go run ./examples/report -user 6a52015e-...
//
// Exit status: 0 on success; 3 when a job failed (its Diagnosis is
// printed); 2 for bad usage; 130 when interrupted; 1 for any other error.
package main

import (
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

func main() { demo.Main("report", run) }

const usage = `Usage: report [flags]

Creates a Consumer Affordability Report and prints its headline metrics: on
the real API when BASIQ_API_KEY is set (for the user given by -user), else on
an embedded fake that connects a sandbox bank first.

Exit status: 0 on success; 3 when a job failed; 2 for bad usage; 130 when
interrupted; 1 for other errors.

Flags:
`

// headline are the metrics printed, in order, when -metrics is not given.
var headline = []string{"ME033", "ME034", "ME002", "ME001", "ME012", "ME014", "ME010", "ME011", "ME018", "ME028"}

// options are the program's flags.
type options struct {
	user, institution, login, password string
	days                               int
	metrics                            []string
	pdf                                string
	keep                               bool
	timeout                            time.Duration
	timeScale                          float64
}

func parse(args []string, stdout, stderr io.Writer) (options, error) {
	var o options
	var metrics string
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	fs.StringVar(&o.user, "user", "", "real API: the Basiq user to report on (must have a bank connected)")
	fs.StringVar(&o.institution, "institution", "AU00000", "fake only: the bank the user connects (Hooli)")
	fs.StringVar(&o.login, "login", "gavinBelson", "fake only: the sandbox login")
	fs.StringVar(&o.password, "password", "hooli2016", "fake only: its password")
	fs.IntVar(&o.days, "days", 90, "the report covers the last N days, today included")
	fs.StringVar(&metrics, "metrics", "", "comma-separated metric codes to print (default: the headline ones)")
	fs.StringVar(&o.pdf, "pdf", "", "write the report's PDF to this file")
	fs.BoolVar(&o.keep, "keep", false, "fake only: keep the Basiq user at the end instead of deleting it")
	fs.DurationVar(&o.timeout, "timeout", 5*time.Minute, "give up after this long")
	fs.Float64Var(&o.timeScale, "time-scale", 0.1, "fake only: multiply the fake's step durations by this (1 = real speed)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usage)
		fs.PrintDefaults()
	}
	if err := demo.Parse(fs, args, stdout, stderr); err != nil {
		return o, err
	}
	if o.days < 1 {
		return o, demo.UsageError(fs, "-days must be at least 1")
	}
	for m := range strings.SplitSeq(metrics, ",") {
		if m = strings.TrimSpace(m); m != "" {
			o.metrics = append(o.metrics, m)
		}
	}
	return o, nil
}

func run(ctx context.Context, args []string, env func(string) string, stdout, stderr io.Writer) error {
	o, err := parse(args, stdout, stderr)
	if err != nil {
		return err
	}
	if demo.Live(env) && o.user == "" {
		fmt.Fprint(stderr, "report: the real API needs -user, a user who has a bank connected\n")
		return demo.ErrUsage
	}
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()

	// The fake holds about -days of history per account (two transactions a day).
	setup, err := demo.StartVersion(env, stdout, o.timeScale, basiq.V3, basiqtest.WithTransactionsPerAccount(2*o.days+10))
	if err != nil {
		return err
	}
	defer setup.Close()
	c, pollOpts := setup.Client, setup.Poll

	userID := o.user
	if setup.Fake != nil {
		if userID, err = connectBank(ctx, stdout, setup, o); err != nil {
			return err
		}
		if !o.keep {
			defer func() {
				dctx, dcancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
				defer dcancel()
				if err := c.Users.Delete(dctx, userID); err != nil {
					fmt.Fprintf(stderr, "report: could not delete user %s: %v\n", userID, err)
				}
			}()
		}
	}

	// 1. The accounts the report covers: all of the user's.
	accts, err := c.Accounts.List(ctx, userID, nil)
	if err != nil {
		return fmt.Errorf("reading accounts: %w", err)
	}
	if len(accts) == 0 {
		return fmt.Errorf("user %s has no accounts: connect a bank first", userID)
	}
	ids := make([]string, len(accts))
	for i, a := range accts {
		ids[i] = a.ID
	}

	// 2. Create the report: a job, like a connection.
	to := time.Now().UTC()
	from := to.AddDate(0, 0, 1-o.days)
	job, err := c.Reports.Create(ctx, basiq.ReportParams{
		Type:    basiq.ReportAffordability,
		Title:   "Affordability " + to.Format(time.DateOnly),
		Filters: basiq.ReportFilters{Users: []string{userID}, Accounts: ids, From: from, To: to},
	})
	if err != nil {
		return fmt.Errorf("creating the report: %w", err)
	}
	fmt.Fprintf(stdout, "Creating report over %d account(s), %s to %s: job %s\n",
		len(ids), from.Format(time.DateOnly), to.Format(time.DateOnly), job.ID)

	// 3. Wait for its job, as for any other.
	start := time.Now()
	done, err := c.Jobs.Wait(ctx, job.ID, &pollOpts)
	var failed *basiq.JobFailedError
	if errors.As(err, &failed) {
		fmt.Fprintf(stdout, "The report's job failed at %s. Diagnosis:\n", failed.Step.Title)
		demo.PrintDiagnosis(stdout, failed.Diagnosis)
		return fmt.Errorf("%w: the report was not created", demo.ErrDiagnosed)
	}
	if err != nil {
		return fmt.Errorf("waiting for the report's job: %w", err)
	}
	fmt.Fprintf(stdout, "Report job succeeded after %.1fs: report %s\n", time.Since(start).Seconds(), done.ReportID())

	// 4. Read it and print the headline metrics.
	rep, err := c.Reports.Get(ctx, done.ReportID())
	if err != nil {
		return fmt.Errorf("reading the report: %w", err)
	}
	printMetrics(stdout, rep, o.metrics)

	// 5. The same report as a PDF.
	pdf, err := c.Reports.PDF(ctx, rep.ID)
	if err != nil {
		return fmt.Errorf("reading the report's PDF: %w", err)
	}
	fmt.Fprintf(stdout, "PDF: %d bytes\n", len(pdf))
	if o.pdf != "" {
		if err := os.WriteFile(o.pdf, pdf, 0o600); err != nil {
			return fmt.Errorf("writing the PDF: %w", err)
		}
		fmt.Fprintf(stdout, "Wrote %s\n", o.pdf)
	}
	return nil
}

// connectBank creates a user on the fake and connects the sandbox bank
// through the Consent UI, which the fake plays; it returns the user's id.
func connectBank(ctx context.Context, w io.Writer, setup *demo.Setup, o options) (string, error) {
	c := setup.Client
	user, err := c.Users.Create(ctx, basiq.UserParams{Email: "report-demo@example.com"})
	if err != nil {
		return "", fmt.Errorf("creating user: %w", err)
	}
	fmt.Fprintf(w, "Created user %s\n", user.ID)
	link, err := c.Consents.Link(ctx, user.ID, nil) // a real app keeps link.State in the session
	if err != nil {
		return "", fmt.Errorf("building the Consent UI link: %w", err)
	}
	redirect, err := setup.Fake.CompleteConsent(link.URL, basiqtest.WithConsentLogins(
		basiqtest.ConsentLogin{InstitutionID: o.institution, LoginID: o.login, Password: o.password}))
	if err != nil {
		return "", fmt.Errorf("the Consent UI refused the link: %w", err)
	}
	fmt.Fprintf(w, "The fake plays the user in the Consent UI: connects %s as %s\n", o.institution, demo.ShowLogin(o.login, false))
	u, err := url.Parse(redirect)
	if err != nil {
		return "", fmt.Errorf("the redirect URL does not parse: %w", err)
	}
	r, err := basiq.ParseConsentRedirect(u)
	if err != nil {
		return "", fmt.Errorf("reading the redirect: %w", err)
	}
	if !r.StateMatches(link.State) {
		return "", errors.New("the redirect's state is not this session's: refusing it")
	}
	opts := setup.Poll
	opts.Operation, opts.UserID = basiq.OpCreate, user.ID
	outcomes, err := c.Jobs.WaitAll(ctx, r.JobIDs, &opts)
	if err != nil {
		return "", fmt.Errorf("waiting for the connection: %w", err)
	}
	for _, out := range outcomes {
		if f, ok := out.Failed(); ok {
			fmt.Fprintf(w, "Connection job %s failed at %s. Diagnosis:\n", out.JobID, f.Step.Title)
			demo.PrintDiagnosis(w, f.Diagnosis)
			return "", fmt.Errorf("%w: the bank did not connect", demo.ErrDiagnosed)
		}
		if out.Err != nil {
			return "", fmt.Errorf("job %s: %w", out.JobID, out.Err)
		}
		fmt.Fprintf(w, "Connection job %s succeeded: connection %s\n", out.JobID, out.Job.ConnectionID())
	}
	return user.ID, nil
}

// printMetrics prints the wanted metrics (the headline ones by default) in
// that order, each with its value as its format says.
func printMetrics(w io.Writer, rep *basiq.Report, wanted []string) {
	if len(wanted) == 0 {
		wanted = headline
	}
	fmt.Fprintf(w, "\n%s (%s, %d metrics):\n", rep.Title, rep.ReportType, len(rep.Metrics))
	for _, id := range wanted {
		m, ok := rep.Metric(id)
		if !ok {
			fmt.Fprintf(w, "  %-6s %-64s %s\n", id, "(not in the report)", "-")
			continue
		}
		fmt.Fprintf(w, "  %-6s %-64s %s\n", m.ID, m.Title, show(m))
	}
	fmt.Fprintln(w)
}

// show renders a metric's value as its format says.
func show(m basiq.ReportMetric) string {
	switch m.Format {
	case "money":
		return m.Value + " AUD"
	case "percent":
		return m.Value + "%"
	}
	return m.Value
}
