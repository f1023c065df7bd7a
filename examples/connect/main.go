// Command connect links a bank account through Basiq, step by step: it
// creates a user, connects to a bank with the user's credentials, shows each
// job step as it happens, answers an MFA challenge if the bank sends one,
// releases the user as soon as their credentials are verified, and prints the
// accounts found and the connection's health. When the job fails it prints
// the Diagnosis: what the app should do, what to tell the user, when to retry
// and the ids to log.
//
// With BASIQ_API_KEY set it uses the real API (version 2.1, the version with
// credential connections); otherwise it starts the embedded fake Basiq server
// (package basiqtest), so it runs anywhere with no account:
//
//	go run ./examples/connect
//	go run ./examples/connect -institution AU00002            # a bank that asks for MFA
//	go run ./examples/connect -login bighead -password password  # a diagnosed failure
//
// The demo's sandbox logins default to their documented passwords and MFA
// answers, so -password and -mfa are only needed for other logins.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/banklink-go/basiq"
	"github.com/banklink-go/basiq/examples/internal/demo"
)

func main() { demo.Main("connect", run) }

// sandboxLogin is one of the logins Basiq documents for its sandbox banks,
// with its password and the answers to its MFA challenge (basiq-api.md §8).
type sandboxLogin struct {
	password string
	mfa      []string
}

var sandbox = map[string]sandboxLogin{
	"Wentworth-Smith": {"whislter", []string{"Basiq", "AU00000"}},
	"Whistler":        {"ShowBox", []string{"Basiq", "AU00000"}},
	"Gilfoyle":        {"PiedPiper", []string{"Hooli"}},
	"gavinBelson":     {"hooli2016", []string{"Hooli"}},
	"jared":           {"django", []string{"1234"}},
	"richard":         {"tabsnotspaces", []string{"1234"}},
	"laurieBream":     {"business2024", nil},
	"ashMann":         {"hooli2024", nil},
	"bighead":         {"password", nil},  // fails: invalid-credentials
	"erlich":          {"aviato", nil},    // fails: account-not-accessible-requires-user-action
	"jianYang":        {"nothotdog", nil}, // fails: service-unavailable
}

func run(ctx context.Context, args []string, env func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("connect", flag.ContinueOnError)
	fs.SetOutput(stdout)
	institution := fs.String("institution", "AU00000", "institution id (AU00000 Hooli; on the fake, AU00002 and AU00003 ask for MFA)")
	login := fs.String("login", "gavinBelson", "bank login id")
	password := fs.String("password", "", "bank password (default: the documented sandbox password of -login)")
	email := fs.String("email", "", "email of the Basiq user to create (default: <login>@example.com)")
	mfa := fs.String("mfa", "", "comma-separated MFA answers, if the bank asks (default: the documented sandbox answers of -login)")
	keep := fs.Bool("keep", false, "keep the Basiq user at the end instead of deleting it")
	timeout := fs.Duration("timeout", 5*time.Minute, "give up after this long")
	timeScale := fs.Float64("time-scale", 0.1, "fake only: multiply the fake bank's step durations by this (1 = real speed)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: connect [flags]\n\nConnects a bank account through Basiq: the real API when BASIQ_API_KEY is set, else an embedded fake.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := demo.Parse(fs, args); err != nil {
		return err
	}
	if *password == "" {
		known, ok := sandbox[*login]
		if !ok {
			return fmt.Errorf("-password is required for login %q (it is not a documented sandbox login)", *login)
		}
		*password = known.password
	}
	if *email == "" {
		*email = *login + "@example.com"
	}
	var answers []string
	if *mfa != "" {
		for a := range strings.SplitSeq(*mfa, ",") {
			answers = append(answers, strings.TrimSpace(a))
		}
	}

	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()

	setup, err := demo.Start(env, stdout, *timeScale)
	if err != nil {
		return err
	}
	defer setup.Close()
	c, pollOpts := setup.Client, setup.Poll
	pollOpts.Operation = basiq.OpCreate
	pollOpts.InstitutionID = *institution

	// Before sending anyone to their bank, check its connector status.
	avail, err := c.Institutions.Availability(ctx, *institution)
	if err != nil {
		return fmt.Errorf("checking institution %s: %w", *institution, err)
	}
	fmt.Fprintf(stdout, "Institution: %s (%s), status %s\n", avail.Institution.Name, avail.Institution.ID, demo.OrDash(string(avail.Institution.Status)))
	if avail.UserMessage != "" {
		fmt.Fprintf(stdout, "  tell the user first: %s\n", avail.UserMessage)
	}
	if !avail.Usable {
		fmt.Fprintln(stdout, "  Basiq advises deferring connections to this bank; connecting anyway for the demo.")
	}

	user, err := c.Users.Create(ctx, basiq.UserParams{Email: *email})
	if err != nil {
		return fmt.Errorf("creating user: %w", err)
	}
	fmt.Fprintf(stdout, "Created user %s (%s)\n", user.ID, *email)
	if !*keep {
		defer func() {
			// A fresh context: the user is deleted even when ctx has ended.
			dctx, dcancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			defer dcancel()
			if err := c.Users.Delete(dctx, user.ID); err != nil {
				fmt.Fprintf(stdout, "Could not delete user %s: %v\n", user.ID, err)
				return
			}
			fmt.Fprintf(stdout, "Deleted user %s (-keep keeps it)\n", user.ID)
		}()
	}

	creds := basiq.Credentials{InstitutionID: *institution, LoginID: *login, Password: *password}
	start := time.Now()
	job, err := c.Connections.Create(ctx, user.ID, creds)
	if err != nil {
		return fmt.Errorf("creating connection: %w", err)
	}
	// Credentials print redacted, whatever the verb.
	fmt.Fprintf(stdout, "Started connection job %s with %v\n", job.ID, creds)

	p := c.Jobs.Poller(job.ID, &pollOpts)
	var failure *basiq.Diagnosis
	released := false
	for ev, err := range p.Steps(ctx) {
		if err != nil {
			return fmt.Errorf("following job %s: %w", job.ID, err)
		}
		elapsed := time.Since(start).Seconds()
		st := ev.Step
		switch {
		case st.Status == basiq.StepFailed:
			code := ""
			if st.Result != nil {
				code = st.Result.Code
			}
			fmt.Fprintf(stdout, "[%5.1fs] %-22s failed: %s\n", elapsed, st.Title, code)
			failure = ev.Diagnosis
		case ev.Diagnosis != nil && ev.Diagnosis.Action == basiq.ActionAnswerMFA:
			prompt := ev.Diagnosis.MFA
			fmt.Fprintf(stdout, "[%5.1fs] %-22s the bank asks: %s %q (expires in %s)\n",
				elapsed, st.Title, prompt.Description, prompt.Input, demo.Human(prompt.Expiry))
			given := answers
			if given == nil {
				given = sandbox[*login].mfa
			}
			if len(given) == 0 {
				return fmt.Errorf("the bank asks for MFA (%s); run again with -mfa %q", strings.Join(prompt.Input, ", "), strings.Repeat("answer,", len(prompt.Input)-1)+"answer")
			}
			if _, err := c.Jobs.SubmitMFA(ctx, user.ID, job.ID, given); err != nil {
				return fmt.Errorf("answering the MFA challenge: %w", err)
			}
			// Answers are secrets too: say how many, not what.
			fmt.Fprintf(stdout, "[%5.1fs] %-22s answered (%d answer(s) sent)\n", time.Since(start).Seconds(), st.Title, len(given))
		default:
			fmt.Fprintf(stdout, "[%5.1fs] %-22s %s\n", elapsed, st.Title, describe(st.Status))
		}

		// Keep the user only until their credentials are verified (and any
		// MFA answered); a real app returns to the user here and lets a
		// background goroutine follow the rest of the job.
		if !released && (st.Status == basiq.StepSuccess || st.Status == basiq.StepSkipped) &&
			(st.Title == basiq.StepVerifyCredentials || st.Title == basiq.StepMFAChallenge) && !mfaPending(ev.Job) {
			released = true
			fmt.Fprintln(stdout, "credentials verified — the user can carry on; fetching accounts in the background")
		}
	}
	job = p.Job()

	if failure != nil {
		// A job that fails before verifying the credentials may not name its
		// user and connection; fill them in from what the app knows, so the
		// log line carries all three ids Basiq support asks for.
		d := *failure
		var filled []string
		if d.UserID == "" {
			d.UserID = user.ID
			filled = append(filled, "user_id")
		}
		if d.ConnectionID == "" {
			if conns, err := c.Connections.List(ctx, user.ID, &basiq.ConnectionFilter{InstitutionID: *institution}); err == nil && len(conns) == 1 {
				d.ConnectionID = conns[0].ID
				filled = append(filled, "connection_id")
			}
		}
		failure = &d
		fmt.Fprintln(stdout)
		fmt.Fprintln(stdout, "The connection failed. Diagnosis:")
		printDiagnosis(stdout, *failure)
		if len(filled) > 0 {
			fmt.Fprintf(stdout, "                 (%s filled in by the app: the failed job does not name them)\n", strings.Join(filled, " and "))
		}
		logger := slog.New(slog.NewTextHandler(stdout, nil))
		logger.Warn("bank connection failed", "diagnosis", *failure)
		fmt.Fprintln(stdout)
		if err := printHealth(ctx, stdout, c, user.ID); err != nil {
			return err
		}
		fmt.Fprintln(stdout)
		why := "the program did its job: it followed the connection and says what to do"
		switch *login {
		case "bighead", "erlich", "jianYang":
			why = "the sandbox login " + *login + " fails on purpose"
		}
		fmt.Fprintf(stdout, "Diagnosed failure (%s). That is an expected outcome of this demo (%s), so the exit status is 0.\n",
			failure.Action, why)
		return nil
	}

	if !released { // a job with no verify-credentials step
		fmt.Fprintln(stdout, "credentials verified — the user can carry on; fetching accounts in the background")
	}
	fmt.Fprintf(stdout, "Job finished in %.1fs\n", time.Since(start).Seconds())
	conn, err := c.Connections.Get(ctx, user.ID, job.ConnectionID())
	if err != nil {
		return fmt.Errorf("reading connection: %w", err)
	}
	fmt.Fprintf(stdout, "\nConnection %s: %s, %d account(s)\n", conn.ID, conn.Status, len(conn.Accounts))
	for _, a := range conn.Accounts {
		fmt.Fprintf(stdout, "  %-24s %-10s %12s %s\n", a.Name, a.AccountNo, demo.OrDash(a.Balance), a.Currency)
	}
	fmt.Fprintln(stdout)
	return printHealth(ctx, stdout, c, user.ID)
}

// mfaPending reports whether the job has an MFA challenge still to come or
// to answer.
func mfaPending(job *basiq.Job) bool {
	st, ok := job.Step(basiq.StepMFAChallenge)
	return ok && !st.Status.Done()
}

func describe(s basiq.StepStatus) string {
	switch s {
	case basiq.StepInProgress:
		return "started"
	case basiq.StepSuccess:
		return "succeeded"
	case basiq.StepSkipped:
		return "skipped"
	case basiq.StepPending:
		return "waiting"
	}
	return string(s)
}

func printDiagnosis(w io.Writer, d basiq.Diagnosis) {
	must := ""
	if d.Action.UserMustAct() {
		must = " (only the user can fix this)"
	}
	fmt.Fprintf(w, "  step:          %s\n", d.Step)
	fmt.Fprintf(w, "  code:          %s\n", demo.OrDash(d.Code))
	fmt.Fprintf(w, "  detail:        %s\n", demo.OrDash(d.Detail))
	fmt.Fprintf(w, "  action:        %s%s\n", d.Action, must)
	fmt.Fprintf(w, "  user message:  %s\n", d.UserMessage)
	fmt.Fprintf(w, "  timing:        retry after %s, retry every %s, give up after %s\n",
		demo.Human(d.RetryAfter), demo.Human(d.RetryEvery), demo.Human(d.GiveUpAfter))
	fmt.Fprintf(w, "  ids to log:    user_id=%s connection_id=%s job_id=%s\n",
		demo.OrDash(d.UserID), demo.OrDash(d.ConnectionID), demo.OrDash(d.JobID))
}

func printHealth(ctx context.Context, w io.Writer, c *basiq.Client, userID string) error {
	health, err := c.Connections.Health(ctx, userID)
	if err != nil {
		return fmt.Errorf("checking connection health: %w", err)
	}
	fmt.Fprintln(w, "Connection health (Connections.Health):")
	for _, h := range health {
		latest := "no job found for it"
		if h.LatestJob != nil {
			latest = fmt.Sprintf("latest job %s %s", h.LatestJob.ID, h.LatestJob.Status())
		}
		fmt.Fprintf(w, "  %s at %s: %s, %s, refreshing %s, needs user action %s\n",
			h.Connection.ID, h.Connection.Institution.ID, h.Connection.Status, latest, yesNo(h.Refreshing), yesNo(h.NeedsUserAction))
		if h.Diagnosis != nil {
			fmt.Fprintf(w, "    diagnosis: %s — %s\n", h.Diagnosis.Action, h.Diagnosis.UserMessage)
		}
	}
	if len(health) == 0 {
		fmt.Fprintln(w, "  (no connections)")
	}
	return nil
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
