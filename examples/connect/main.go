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
//	go run ./examples/connect -sync                             # keep a copy of the transactions in sync across a refresh
//
// The demo's sandbox logins default to their documented passwords and MFA
// answers, so -password and -mfa are only needed for other logins. Banks
// whose login form has a security code or a secondary login id (their
// securityCodeCaption, secondaryLoginIdCaption) need them, given with
// -security-code and -secondary-login: without them the program says so and
// stops before connecting (exit status 2). The password, the MFA answers,
// the security code and the secondary login id are never printed; the login
// id is printed only on the fake, and on the live API, where it is a real
// customer number, masked to its last 3 characters.
//
// Exit status: 0 when the connection succeeds, and for a diagnosed failure of
// one of the sandbox logins that always fail (bighead, erlich, jianYang) on
// the fake; 3 for any other diagnosed failure (a wrong password or MFA
// answer, a bank outage); 2 for bad usage; 130 when interrupted; 1 for any
// other error.
package main

import (
	"context"
	"errors"
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
// with its password and the answers to its MFA challenge (Basiq's Testing page).
type sandboxLogin struct {
	password string
	mfa      []string // nil when none are documented
}

// sandbox returns the documented sandbox logins, a fresh map on every call.
// laurieBream and ashMann have no documented MFA answers, and the failing
// logins (demo.FailingLogins) fail before any MFA challenge.
func sandbox() map[string]sandboxLogin {
	m := map[string]sandboxLogin{
		"Wentworth-Smith": {"whislter", []string{"Basiq", "AU00000"}},
		"Whistler":        {"ShowBox", []string{"Basiq", "AU00000"}},
		"Gilfoyle":        {"PiedPiper", []string{"Hooli"}},
		"gavinBelson":     {"hooli2016", []string{"Hooli"}},
		"jared":           {"django", []string{"1234"}},
		"richard":         {"tabsnotspaces", []string{"1234"}},
		"laurieBream":     {"business2024", nil},
		"ashMann":         {"hooli2024", nil},
	}
	for _, l := range demo.FailingLogins() {
		m[l.Login] = sandboxLogin{password: l.Password}
	}
	return m
}

const usage = `Usage: connect [flags]

Connects a bank account through Basiq: the real API when BASIQ_API_KEY is set,
else an embedded fake.

Exit status: 0 on success, and for a diagnosed failure of a sandbox login that
always fails (bighead, erlich, jianYang) on the fake; 3 for any other diagnosed
failure; 2 for bad usage (including a -security-code or -secondary-login that
the bank asks for and that is missing); 130 when interrupted; 1 for other errors.

Flags:
`

func run(ctx context.Context, args []string, env func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("connect", flag.ContinueOnError)
	institution := fs.String("institution", "AU00000", "institution id (AU00000 Hooli; on the fake, AU00002 and AU00003 ask for MFA)")
	login := fs.String("login", "gavinBelson", "bank login id")
	password := fs.String("password", "", "bank password (default: the documented sandbox password of -login)")
	securityCode := fs.String("security-code", "", "security code, for banks whose login form asks for one (securityCodeCaption)")
	secondaryLogin := fs.String("secondary-login", "", "secondary login id, for banks whose login form asks for one (secondaryLoginIdCaption)")
	email := fs.String("email", "", "email of the Basiq user to create (default: <login>@example.com)")
	mfa := fs.String("mfa", "", "comma-separated MFA answers, if the bank asks (default: the documented sandbox answers of -login)")
	keep := fs.Bool("keep", false, "keep the Basiq user at the end instead of deleting it")
	transactions := fs.Int("transactions", 5, "print the first N transactions after the job (0: none)")
	syncTx := fs.Bool("sync", false, "after connecting: sync the transactions, refresh the connection, and print the changes the refresh brought")
	timeout := fs.Duration("timeout", 5*time.Minute, "give up after this long")
	timeScale := fs.Float64("time-scale", 0.1, "fake only: multiply the fake bank's step durations by this (1 = real speed)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usage)
		fs.PrintDefaults()
	}
	if err := demo.Parse(fs, args, stdout, stderr); err != nil {
		return err
	}
	if *transactions < 0 {
		return demo.UsageError(fs, "-transactions must not be negative")
	}
	live := demo.Live(env)
	// On the live API the login id is a real customer number: never print it whole.
	shownLogin := demo.ShowLogin(*login, live)
	known, isSandbox := sandbox()[*login]
	if *password == "" {
		if !isSandbox {
			return demo.UsageError(fs, "-password is required for login %s (it is not a documented sandbox login)", shownLogin)
		}
		*password = known.password
	}
	shownEmail := *email
	if *email == "" {
		*email = *login + "@example.com"
		shownEmail = shownLogin + "@example.com"
	}
	var answers []string
	if *mfa != "" {
		for a := range strings.SplitSeq(*mfa, ",") {
			answers = append(answers, strings.TrimSpace(a))
		}
	} else {
		answers = known.mfa
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

	// Before sending anyone to their bank, check its connector status and
	// what its login form asks for.
	avail, err := c.Institutions.Availability(ctx, *institution)
	if err != nil {
		return fmt.Errorf("checking institution %s: %w", *institution, err)
	}
	inst := avail.Institution
	fmt.Fprintf(stdout, "Institution: %s (%s), status %s\n", inst.Name, inst.ID, demo.OrDash(string(inst.Status)))
	if avail.UserMessage != "" {
		fmt.Fprintf(stdout, "  tell the user first: %s\n", avail.UserMessage)
	}
	if !avail.Advice.Usable {
		fmt.Fprintln(stdout, "  Basiq advises deferring connections to this bank; connecting anyway for the demo.")
	}
	// A bank whose login form has a security code or a secondary login id
	// (its captions say so) needs them: Basiq refuses the connection without.
	var missing []string
	for _, f := range []struct{ caption, flag, value string }{
		{inst.SecurityCodeCaption, "-security-code", *securityCode},
		{inst.SecondaryLoginIDCaption, "-secondary-login", *secondaryLogin},
	} {
		if f.caption != "" && f.value == "" {
			fmt.Fprintf(stdout, "  this bank's login form also asks for %q (%s), and none was given.\n", f.caption, f.flag)
			missing = append(missing, f.flag)
		}
	}
	if len(missing) > 0 {
		fmt.Fprintf(stderr, "connect: %s needs %s; not connecting without\n", inst.Name, strings.Join(missing, " and "))
		return fmt.Errorf("missing %s (%w)", strings.Join(missing, " and "), demo.ErrUsage)
	}

	user, err := c.Users.Create(ctx, basiq.UserParams{Email: *email})
	if err != nil {
		return fmt.Errorf("creating user: %w", err)
	}
	fmt.Fprintf(stdout, "Created user %s (%s)\n", user.ID, shownEmail)
	if !*keep {
		defer func() {
			// A fresh context: the user is deleted even when ctx has ended.
			dctx, dcancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			defer dcancel()
			if err := c.Users.Delete(dctx, user.ID); err != nil {
				fmt.Fprintf(stderr, "connect: could not delete user %s: %v\n", user.ID, err)
				return
			}
			fmt.Fprintf(stdout, "Deleted user %s (-keep keeps it)\n", user.ID)
		}()
	}

	creds := basiq.Credentials{InstitutionID: *institution, LoginID: *login, Password: *password,
		SecurityCode: *securityCode, SecondaryLoginID: *secondaryLogin}
	start := time.Now()
	job, err := c.Connections.Create(ctx, user.ID, creds)
	if err != nil {
		return fmt.Errorf("creating connection: %w", err)
	}
	// Say which login, as it may be shown, and never the secrets.
	secrets := "password"
	if *securityCode != "" {
		secrets += ", security code"
	}
	if *secondaryLogin != "" {
		secrets += ", secondary login id"
	}
	fmt.Fprintf(stdout, "Started connection job %s for login %s at %s (%s not shown)\n", job.ID, shownLogin, *institution, secrets)

	p := c.Jobs.Poller(job.ID, &pollOpts)
	var failure *basiq.Diagnosis
	// Keep the user only until their credentials are verified. WaitForStep
	// never releases a user the bank is still challenging: while an MFA prompt
	// waits for answers it returns *MFARequiredError; answer it, then wait again.
	for {
		waited, err := p.WaitForStep(ctx, basiq.StepVerifyCredentials)
		elapsed := time.Since(start).Seconds()
		var mfaErr *basiq.MFARequiredError
		var failed *basiq.JobFailedError
		switch {
		case errors.As(err, &mfaErr):
			prompt := mfaErr.Prompt
			fmt.Fprintf(stdout, "[%5.1fs] %-22s the bank asks: %s %q (expires in %s)\n",
				elapsed, basiq.StepMFAChallenge, prompt.Description, prompt.Input, demo.Human(prompt.Expiry))
			if len(answers) == 0 {
				return fmt.Errorf("the bank asks for MFA (%s); run again with -mfa %q", strings.Join(prompt.Input, ", "), strings.Repeat("answer,", max(len(prompt.Input)-1, 0))+"answer")
			}
			if _, err := c.Jobs.SubmitMFA(ctx, user.ID, job.ID, answers); err != nil {
				return fmt.Errorf("answering the MFA challenge: %w", err)
			}
			// Answers are secrets too: say how many, not what.
			fmt.Fprintf(stdout, "[%5.1fs] %-22s answered (%d answer(s) sent)\n", time.Since(start).Seconds(), basiq.StepMFAChallenge, len(answers))
			continue
		case errors.As(err, &failed):
			code := ""
			if failed.Step.Result != nil {
				code = failed.Step.Result.Code
			}
			fmt.Fprintf(stdout, "[%5.1fs] %-22s failed: %s\n", elapsed, failed.Step.Title, code)
			failure = &failed.Diagnosis
		case err != nil:
			return fmt.Errorf("following job %s: %w", job.ID, err)
		default:
			// Where the job stands now (Steps below reports what follows).
			for _, st := range waited.Steps {
				if st.Status != basiq.StepPending {
					fmt.Fprintf(stdout, "[%5.1fs] %-22s %s\n", elapsed, st.Title, describe(st.Status))
				}
			}
			// A real app returns to the user here and lets a background
			// goroutine follow the rest of the job (p.Wait, or p.Steps for progress).
			fmt.Fprintln(stdout, "credentials verified — the user can carry on; fetching accounts in the background")
		}
		break
	}
	if failure == nil {
		// The rest of the job: Steps does not repeat what WaitForStep saw.
		for ev, err := range p.Steps(ctx) {
			if err != nil {
				return fmt.Errorf("following job %s: %w", job.ID, err)
			}
			st := ev.Step
			if st.Status == basiq.StepFailed {
				code := ""
				if st.Result != nil {
					code = st.Result.Code
				}
				fmt.Fprintf(stdout, "[%5.1fs] %-22s failed: %s\n", time.Since(start).Seconds(), st.Title, code)
				failure = ev.Diagnosis
				continue
			}
			fmt.Fprintf(stdout, "[%5.1fs] %-22s %s\n", time.Since(start).Seconds(), st.Title, describe(st.Status))
		}
	}
	job = p.Job()

	if failure != nil {
		d := *failure
		// The job normally names its user and connection by now; the app
		// fills in any it does not, so the log line carries all three ids
		// Basiq support asks for.
		filled := demo.FillIDs(ctx, c, &d, user.ID)
		fmt.Fprintln(stdout)
		fmt.Fprintln(stdout, "The connection failed. Diagnosis:")
		demo.PrintDiagnosis(stdout, d)
		if len(filled) > 0 {
			fmt.Fprintf(stdout, "                 (%s filled in by the app: the failed job does not name them)\n", strings.Join(filled, " and "))
		}
		logger := slog.New(slog.NewTextHandler(stdout, nil))
		logger.Warn("bank connection failed", "diagnosis", d)
		fmt.Fprintln(stdout)
		if err := printHealth(ctx, stdout, c, user.ID); err != nil {
			return err
		}
		fmt.Fprintln(stdout)
		if setup.Fake != nil && demo.IsFailingLogin(*login) {
			fmt.Fprintf(stdout, "Diagnosed failure (%s). That is an expected outcome of this demo (the sandbox login %s fails on purpose), so the exit status is 0.\n",
				d.Action, *login)
			return nil
		}
		why := "this login is not one of the sandbox logins that fail on purpose"
		if live {
			why = "on the live API no failure is part of the demo"
		}
		fmt.Fprintf(stdout, "Diagnosed failure (%s). That is not an outcome this demo sets out to show (%s), so the exit status is %d.\n",
			d.Action, why, demo.ExitDiagnosed)
		return fmt.Errorf("%w: %s failed with %s; action %s", demo.ErrDiagnosed, d.Step, demo.OrDash(d.Code), d.Action)
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
	if err := demo.PrintTransactions(ctx, stdout, c, user.ID, conn.ID, *transactions); err != nil {
		return err
	}
	if *syncTx {
		if err := showSync(ctx, stdout, c, setup.Poll, user.ID, conn.ID); err != nil {
			return err
		}
	}
	fmt.Fprintln(stdout)
	return printHealth(ctx, stdout, c, user.ID)
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
