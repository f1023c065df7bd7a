// Package demo holds what the example programs share: how they start (the
// live Basiq API when BASIQ_API_KEY is set, else the embedded fake), how they
// parse flags and exit, the sandbox logins that always fail, how a Diagnosis
// is printed, and small formatting helpers.
package demo

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"time"

	"github.com/banklink-go/basiq"
	"github.com/banklink-go/basiq/basiqtest"
)

// Exit statuses of the example programs.
const (
	ExitOK          = 0   // done, or -h
	ExitError       = 1   // an error, reported on stderr
	ExitUsage       = 2   // bad flags or arguments, reported on stderr with the usage
	ExitDiagnosed   = 3   // a job failed and was diagnosed, but not as the demo intended
	ExitInterrupted = 130 // interrupted (Ctrl-C), as a shell reports SIGINT
)

// ErrUsage marks bad command-line arguments, already reported on stderr.
var ErrUsage = errors.New("usage")

// ErrDiagnosed marks a job failure that the program followed and diagnosed
// (the Diagnosis is already printed) but that the demo did not set out to
// show, such as a mistyped password or a wrong MFA answer.
var ErrDiagnosed = errors.New("diagnosed failure")

// RunFunc is an example program's body, callable from its tests. Its output
// goes to stdout; usage errors and warnings go to stderr.
type RunFunc func(ctx context.Context, args []string, env func(string) string, stdout, stderr io.Writer) error

// Main runs an example program with os.Args, os.Getenv, os.Stdout and
// os.Stderr, and exits with the status ExitCode gives. The context is
// cancelled by Ctrl-C; a second Ctrl-C, while the program tidies up, kills it.
func Main(name string, run RunFunc) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	context.AfterFunc(ctx, stop) // after the first Ctrl-C, the next one is not caught
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	interrupted := ctx.Err() != nil // before stop, which cancels ctx too
	stop()
	code, report := ExitCode(err, interrupted)
	if report {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
	}
	os.Exit(code)
}

// ExitCode maps what a RunFunc returned to the program's exit status, and
// says whether the error still needs reporting on stderr:
//
//   - nil or flag.ErrHelp: ExitOK;
//   - an error after Ctrl-C (interrupted): ExitInterrupted, not reported;
//   - ErrUsage: ExitUsage, not reported (Parse and UsageError did that);
//   - ErrDiagnosed: ExitDiagnosed, reported;
//   - any other error: ExitError, reported.
func ExitCode(err error, interrupted bool) (code int, report bool) {
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return ExitOK, false
	case interrupted:
		return ExitInterrupted, false
	case errors.Is(err, ErrUsage):
		return ExitUsage, false
	case errors.Is(err, ErrDiagnosed):
		return ExitDiagnosed, true
	}
	return ExitError, true
}

// Parse parses args with fs. For -h it prints the usage on stdout and
// returns flag.ErrHelp. For a bad flag or a stray argument it prints the
// error and the usage on stderr and returns ErrUsage. Afterwards fs writes
// to stderr, so that fs.Usage suits a later UsageError.
func Parse(fs *flag.FlagSet, args []string, stdout, stderr io.Writer) error {
	fs.SetOutput(io.Discard) // the flag package would print -h and errors alike to one writer
	err := fs.Parse(args)
	fs.SetOutput(stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		fs.SetOutput(stdout)
		fs.Usage()
		fs.SetOutput(stderr)
		return err
	case err != nil:
		fmt.Fprintln(stderr, err)
		fs.Usage()
		return ErrUsage
	case fs.NArg() > 0:
		return UsageError(fs, "unexpected argument %q", fs.Arg(0))
	}
	return nil
}

// UsageError reports a usage problem found after Parse: it prints
// "name: message" and the usage to fs's output (stderr, after Parse) and
// returns an error that matches ErrUsage.
func UsageError(fs *flag.FlagSet, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	fmt.Fprintf(fs.Output(), "%s: %s\n", fs.Name(), msg)
	fs.Usage()
	return fmt.Errorf("%s (%w)", msg, ErrUsage)
}

// Live reports whether the programs use the live Basiq API: when
// BASIQ_API_KEY is set.
func Live(env func(string) string) bool { return env("BASIQ_API_KEY") != "" }

// Setup is a client ready for an example: on the live API, or on a fake.
type Setup struct {
	Client *basiq.Client
	// Fake is the embedded fake, or nil on the live API.
	Fake *basiqtest.Server
	// Poll holds poll intervals suited to the fake's speed (zero on the live API).
	Poll basiq.PollOptions
}

// Close stops the fake, if any.
func (s *Setup) Close() {
	if s.Fake != nil {
		s.Fake.Close()
	}
}

// Start returns a client for the live API (version 2.1, the version with
// credential connections) when BASIQ_API_KEY is set, or for a fresh in-memory
// fake (basiqtest.InMemory: no port is bound) whose jobs run timeScale times
// as long as Basiq's averages, and says which on the first line of stdout.
func Start(env func(string) string, stdout io.Writer, timeScale float64) (*Setup, error) {
	return StartVersion(env, stdout, timeScale, basiq.V2_1)
}

// StartVersion is Start for the given API version (V3 for the Consent UI
// flow). Extra fake options (basiqtest) apply to the fake only.
func StartVersion(env func(string) string, stdout io.Writer, timeScale float64, version basiq.APIVersion, fakeOpts ...basiqtest.Option) (*Setup, error) {
	if Live(env) {
		base := basiq.DefaultBaseURL
		if b := env("BASIQ_BASE_URL"); b != "" {
			base = b // a proxy, or a basiqtest server listening on loopback
		}
		fmt.Fprintf(stdout, "Using the live Basiq API at %s (API version %s)\n", base, version)
		c, err := basiq.NewClient(env("BASIQ_API_KEY"), basiq.WithAPIVersion(version), basiq.WithBaseURL(base))
		if err != nil {
			return nil, err
		}
		return &Setup{Client: c}, nil
	}
	srv := basiqtest.NewServer(append([]basiqtest.Option{basiqtest.InMemory(), basiqtest.WithTimeScale(timeScale)}, fakeOpts...)...)
	fmt.Fprintf(stdout, "Using the embedded fake Basiq server at %s (in memory; BASIQ_API_KEY is not set; API version %s; time scale %g)\n",
		srv.URL, version, timeScale)
	c, err := basiq.NewClient(srv.APIKey(),
		basiq.WithBaseURL(srv.URL), basiq.WithHTTPClient(srv.Client()), basiq.WithAPIVersion(version))
	if err != nil {
		srv.Close()
		return nil, err
	}
	return &Setup{Client: c, Fake: srv, Poll: fakePollOptions(timeScale)}, nil
}

// PrintTransactions prints up to n of the connection's transactions, newest
// first as Basiq orders them per account, and says how many it printed.
func PrintTransactions(ctx context.Context, w io.Writer, c *basiq.Client, userID, connectionID string, n int) error {
	if n <= 0 {
		return nil
	}
	fmt.Fprintf(w, "First %d transaction(s) (Transactions.All, streamed page by page):\n", n)
	shown := 0
	for tx, err := range c.Transactions.All(ctx, userID, &basiq.TransactionFilter{ConnectionID: connectionID}) {
		if err != nil {
			return fmt.Errorf("reading transactions: %w", err)
		}
		date := "pending"
		if !tx.PostDate.IsZero() {
			date = tx.PostDate.Format("2006-01-02")
		}
		fmt.Fprintf(w, "  %-10s %12s %s  %s\n", date, tx.Amount, tx.Currency, tx.Description)
		shown++
		if shown == n {
			break // stops fetching: no further page is requested
		}
	}
	if shown == 0 {
		fmt.Fprintln(w, "  (none)")
	}
	return nil
}

// fakePollOptions scales the poll intervals to the fake's speed, so that a
// sped-up job is followed as closely as a real one would be.
func fakePollOptions(timeScale float64) basiq.PollOptions {
	scale := func(d, lo time.Duration) time.Duration {
		return max(time.Duration(float64(d)*timeScale), lo)
	}
	return basiq.PollOptions{
		MinInterval: min(scale(basiq.DefaultMinInterval, 20*time.Millisecond), basiq.DefaultMinInterval),
		MaxInterval: min(scale(4*time.Second, 50*time.Millisecond), basiq.DefaultMaxInterval),
	}
}

// SandboxLogin is a login of Basiq's sandbox banks (Basiq's Testing page).
type SandboxLogin struct {
	Login, Password string
	// Code is the result.code the login always fails with; "" for a login
	// that succeeds.
	Code string
}

// FailingLogins returns Basiq's three sandbox logins that always fail
// (Basiq's Testing page), a fresh slice on every call.
func FailingLogins() []SandboxLogin {
	return []SandboxLogin{
		{"bighead", "password", "invalid-credentials"},
		{"erlich", "aviato", "account-not-accessible-requires-user-action"},
		{"jianYang", "nothotdog", "service-unavailable"},
	}
}

// IsFailingLogin reports whether login is one of FailingLogins.
func IsFailingLogin(login string) bool {
	for _, l := range FailingLogins() {
		if l.Login == login {
			return true
		}
	}
	return false
}

// ShowLogin is how the programs print a bank login id: in clear on the fake,
// where it is a sandbox login; on the live API, where it is a real customer
// number, masked to its last 3 characters ("***123"), or wholly ("***") when
// it has 3 characters or fewer. The mask has a fixed width, so it does not
// reveal the length either.
func ShowLogin(login string, live bool) string {
	if !live {
		return login
	}
	r := []rune(login)
	if len(r) <= 3 {
		return "***"
	}
	return "***" + string(r[len(r)-3:])
}

// PrintDiagnosis prints a failed job's Diagnosis, one field a line, indented
// by two spaces: step, code, detail, action, the institution's status when
// known, the user message, the timings that apply, the ids to log and the
// problem id.
func PrintDiagnosis(w io.Writer, d basiq.Diagnosis) {
	must := ""
	if d.Action.UserMustAct() {
		must = " (only the user can fix this)"
	}
	fmt.Fprintf(w, "  step:          %s\n", OrDash(string(d.Step)))
	fmt.Fprintf(w, "  code:          %s\n", OrDash(d.Code))
	fmt.Fprintf(w, "  detail:        %s\n", OrDash(d.Detail))
	fmt.Fprintf(w, "  action:        %s%s\n", d.Action, must)
	if d.InstitutionStatus != "" {
		fmt.Fprintf(w, "  bank status:   %s\n", d.InstitutionStatus)
	}
	fmt.Fprintf(w, "  user message:  %s\n", d.UserMessage)
	if t := timing(d); t != "" {
		fmt.Fprintf(w, "  timing:        %s\n", t)
	}
	fmt.Fprintf(w, "  ids to log:    user_id=%s connection_id=%s job_id=%s\n",
		OrDash(d.UserID), OrDash(d.ConnectionID), OrDash(d.JobID))
	if d.ProblemID != "" {
		fmt.Fprintf(w, "  problem id:    %s (notify the user once per problem)\n", d.ProblemID)
	}
}

// timing describes a Diagnosis's timings, only those that are set; "" when
// none is.
func timing(d basiq.Diagnosis) string {
	var parts []string
	if d.RetryAfter > 0 {
		parts = append(parts, "retry after "+Human(d.RetryAfter))
	}
	if d.RetryEvery > 0 {
		parts = append(parts, "retry every "+Human(d.RetryEvery))
	}
	if d.GiveUpAfter > 0 {
		parts = append(parts, "give up after "+Human(d.GiveUpAfter))
	}
	return strings.Join(parts, ", ")
}

// FillIDs fills in the user and connection ids a failed job's Diagnosis
// lacks, from what the app knows: userID (the user it created the
// connection for), and the user's connection when the user has exactly one.
// It returns the names of the ids it filled in ("user_id", "connection_id").
//
// It is only a fallback: a job names its user and connection (links.source)
// once verify-credentials has ended, succeeded or failed, as the fake does,
// so a Diagnosis normally carries both already. A job that failed before
// that, or an API that leaves links.source out, still gets a log line with
// all three ids Basiq support asks for.
func FillIDs(ctx context.Context, c *basiq.Client, d *basiq.Diagnosis, userID string) []string {
	var filled []string
	if d.UserID == "" && userID != "" {
		d.UserID = userID
		filled = append(filled, "user_id")
	}
	if d.ConnectionID == "" && d.UserID != "" {
		if conns, err := c.Connections.List(ctx, d.UserID, nil); err == nil && len(conns) == 1 {
			d.ConnectionID = conns[0].ID
			filled = append(filled, "connection_id")
		}
	}
	return filled
}

// Human formats a duration briefly ("10m", "2h", "7d"), "-" for zero.
func Human(d time.Duration) string {
	if d <= 0 {
		return "-"
	}
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	s := d.Round(time.Second).String() // e.g. 1h0m0s, 10m0s, 2m30s
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// Locked returns a writer that serialises writes to w, for output that
// background goroutines share.
func Locked(w io.Writer) io.Writer { return &lockedWriter{w: w} }

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// OrDash returns s, or "-" when it is empty.
func OrDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
