package demo

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/banklink-go/basiq"
)

func TestHuman(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "-", 10 * time.Minute: "10m", time.Hour: "1h", 2 * time.Hour: "2h",
		7 * 24 * time.Hour: "7d", 90 * time.Second: "1m30s", 2 * time.Minute: "2m", 90 * time.Minute: "1h30m",
	} {
		if got := Human(d); got != want {
			t.Errorf("Human(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestOrDash(t *testing.T) {
	if OrDash("") != "-" || OrDash("x") != "x" {
		t.Error("OrDash")
	}
}

func TestExitCode(t *testing.T) {
	for _, tc := range []struct {
		err         error
		interrupted bool
		code        int
		report      bool
	}{
		{nil, false, 0, false},
		{flag.ErrHelp, false, 0, false},
		{fmt.Errorf("bad flag (%w)", ErrUsage), false, 2, false},
		{fmt.Errorf("%w: check-credentials", ErrDiagnosed), false, 3, true},
		{errors.New("boom"), false, 1, true},
		{fmt.Errorf("following job: %w", context.Canceled), true, 130, false},
		{fmt.Errorf("%w: x", ErrDiagnosed), true, 130, false},
		{nil, true, 0, false}, // finished before the signal mattered
	} {
		code, report := ExitCode(tc.err, tc.interrupted)
		if code != tc.code || report != tc.report {
			t.Errorf("ExitCode(%v, %v) = %d, %v; want %d, %v", tc.err, tc.interrupted, code, report, tc.code, tc.report)
		}
	}
}

func newFlagSet() *flag.FlagSet {
	fs := flag.NewFlagSet("prog", flag.ContinueOnError)
	fs.Bool("x", false, "an x")
	fs.Usage = func() { fmt.Fprintln(fs.Output(), "Usage: prog") }
	return fs
}

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		args           []string
		want           error
		stdout, stderr string
	}{
		{[]string{"-x"}, nil, "", ""},
		{[]string{"-h"}, flag.ErrHelp, "Usage: prog\n", ""},
		{[]string{"-bogus"}, ErrUsage, "", "flag provided but not defined: -bogus\nUsage: prog\n"},
		{[]string{"stray"}, ErrUsage, "", "prog: unexpected argument \"stray\"\nUsage: prog\n"},
	} {
		var stdout, stderr bytes.Buffer
		fs := newFlagSet()
		err := Parse(fs, tc.args, &stdout, &stderr)
		if !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
			t.Errorf("Parse(%q) = %v, want %v", tc.args, err, tc.want)
		}
		if stdout.String() != tc.stdout || stderr.String() != tc.stderr {
			t.Errorf("Parse(%q): stdout %q, stderr %q; want %q, %q", tc.args, stdout.String(), stderr.String(), tc.stdout, tc.stderr)
		}
	}
	// After Parse, a usage error goes to stderr.
	var stdout, stderr bytes.Buffer
	fs := newFlagSet()
	if err := Parse(fs, nil, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	err := UsageError(fs, "-y is required")
	if !errors.Is(err, ErrUsage) || !strings.Contains(err.Error(), "-y is required") {
		t.Errorf("UsageError = %v", err)
	}
	if stdout.Len() != 0 || stderr.String() != "prog: -y is required\nUsage: prog\n" {
		t.Errorf("UsageError: stdout %q, stderr %q", stdout.String(), stderr.String())
	}
}

func TestShowLogin(t *testing.T) {
	for _, tc := range []struct {
		login string
		live  bool
		want  string
	}{
		{"gavinBelson", false, "gavinBelson"},
		{"gavinBelson", true, "***son"},
		{"12345678", true, "***678"},
		{"1234", true, "***234"},
		{"123", true, "***"},
		{"", true, "***"},
		{"ÄÖÜäöü", true, "***äöü"},
	} {
		if got := ShowLogin(tc.login, tc.live); got != tc.want {
			t.Errorf("ShowLogin(%q, %v) = %q, want %q", tc.login, tc.live, got, tc.want)
		}
	}
}

func TestFailingLogins(t *testing.T) {
	ls := FailingLogins()
	if len(ls) != 3 {
		t.Fatalf("%d failing logins, want 3", len(ls))
	}
	ls[0].Login = "changed"
	if FailingLogins()[0].Login != "bighead" {
		t.Error("FailingLogins shares its slice between calls")
	}
	for _, l := range []string{"bighead", "erlich", "jianYang"} {
		if !IsFailingLogin(l) {
			t.Errorf("IsFailingLogin(%q) = false", l)
		}
	}
	if IsFailingLogin("gavinBelson") || IsFailingLogin("Bighead") {
		t.Error("IsFailingLogin accepts a login that does not always fail")
	}
}

func TestPrintDiagnosis(t *testing.T) {
	var b bytes.Buffer
	PrintDiagnosis(&b, basiq.Diagnosis{
		Step: basiq.StepRetrieveTransactions, Code: "service-unavailable", Action: basiq.ActionRetryLater,
		RetryAfter: 10 * time.Minute, UserMessage: "Try again later.", InstitutionStatus: basiq.StatusOperational,
		UserID: "u", JobID: "j", ProblemID: "job:j:service-unavailable",
	})
	want := `  step:          retrieve-transactions
  code:          service-unavailable
  detail:        -
  action:        retry-later
  bank status:   operational
  user message:  Try again later.
  timing:        retry after 10m
  ids to log:    user_id=u connection_id=- job_id=j
  problem id:    job:j:service-unavailable (notify the user once per problem)
`
	if b.String() != want {
		t.Errorf("PrintDiagnosis:\n%s\nwant:\n%s", b.String(), want)
	}
	b.Reset()
	PrintDiagnosis(&b, basiq.Diagnosis{Action: basiq.ActionCheckCredentials})
	if strings.Contains(b.String(), "timing") || strings.Contains(b.String(), "retry") {
		t.Errorf("a diagnosis with no timings printed some:\n%s", b.String())
	}
}

func TestStartInMemoryAndFillIDs(t *testing.T) {
	var out bytes.Buffer
	setup, err := Start(func(string) string { return "" }, &out, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer setup.Close()
	if want := "Using the embedded fake Basiq server at https://basiq.test "; !strings.HasPrefix(out.String(), want) {
		t.Errorf("first line %q, want it to start %q", out.String(), want)
	}
	ctx := t.Context()
	c := setup.Client
	user, err := c.Users.Create(ctx, basiq.UserParams{Email: "x@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	// No connection yet: only the user id is filled in.
	d := basiq.Diagnosis{JobID: "j"}
	if filled := FillIDs(ctx, c, &d, user.ID); !slices.Equal(filled, []string{"user_id"}) || d.UserID != user.ID || d.ConnectionID != "" {
		t.Errorf("FillIDs with no connection = %q, %+v", filled, d)
	}
	job, err := c.Connections.Create(ctx, user.ID, basiq.Credentials{InstitutionID: "AU00000", LoginID: "bighead", Password: "password"})
	if err != nil {
		t.Fatal(err)
	}
	opts := setup.Poll
	opts.Operation = basiq.OpCreate
	_, err = c.Jobs.Wait(ctx, job.ID, &opts)
	var failed *basiq.JobFailedError
	if !errors.As(err, &failed) {
		t.Fatalf("Wait = %v, want a JobFailedError", err)
	}
	// A job that names its ids keeps them: nothing to fill in.
	d = failed.Diagnosis
	if d.UserID != "" && d.ConnectionID != "" {
		if filled := FillIDs(ctx, c, &d, "someone-else"); len(filled) != 0 || d.UserID != user.ID {
			t.Errorf("FillIDs on a complete diagnosis = %q, %+v", filled, d)
		}
	}
	// The fallback finds the user's only connection.
	d = basiq.Diagnosis{JobID: job.ID}
	if filled := FillIDs(ctx, c, &d, user.ID); !slices.Equal(filled, []string{"user_id", "connection_id"}) || d.ConnectionID == "" {
		t.Errorf("FillIDs = %q, %+v", filled, d)
	}
}
