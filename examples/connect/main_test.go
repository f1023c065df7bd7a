package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/banklink-go/basiq/examples/internal/demo"
	"go.uber.org/goleak"
)

// noKey is an environment without BASIQ_API_KEY, so run uses the fake.
func noKey(string) string { return "" }

func runConnect(t *testing.T, args ...string) string {
	t.Helper()
	out, err := runConnectErr(t, args...)
	if err != nil {
		t.Fatalf("run: %v\noutput:\n%s", err, out)
	}
	return out
}

// runConnectErr runs the program on the fake, sped up, and returns its
// output (stdout and stderr together) and error.
func runConnectErr(t *testing.T, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	var out bytes.Buffer
	err := run(ctx, append([]string{"-time-scale", "0.02"}, args...), noKey, &out, &out)
	return out.String(), err
}

func mustMatch(t *testing.T, out string, patterns ...string) {
	t.Helper()
	for _, p := range patterns {
		if !regexp.MustCompile(p).MatchString(out) {
			t.Errorf("output does not match %q:\n%s", p, out)
		}
	}
}

func TestConnectSucceeds(t *testing.T) {
	t.Parallel()
	out := runConnect(t)
	if first, _, _ := strings.Cut(out, "\n"); !strings.HasPrefix(first, "Using the embedded fake Basiq server") {
		t.Errorf("first line = %q, want it to say the fake is used", first)
	}
	mustMatch(t, out,
		`(?m)^\[\s*\d+\.\ds\] verify-credentials\s+succeeded$`,
		`(?m)^\[\s*\d+\.\ds\] retrieve-accounts\s+succeeded$`,
		`(?m)^\[\s*\d+\.\ds\] retrieve-transactions\s+succeeded$`,
		`(?m)^credentials verified — the user can carry on; fetching accounts in the background$`,
		`(?m)^Connection \S+: active, 3 account\(s\)$`,
		`(?m)^  Transaction \d+\s+\d+\s+3458\.12 AUD$`,
		`(?m)^  Savings \d+\s+\d+\s+24871\.50 AUD$`,
		`(?m)^  Credit Card \d+\s+\d+\s+-1530\.42 AUD$`,
		`(?m)^Connection health \(Connections\.Health\):\n  \S+ at AU00000: active, latest job \S+ succeeded`,
	)
	// The release comes after verify-credentials, before the job ends (on
	// the demo's fast fake bank the accounts may be in by then).
	if v, r, end := strings.Index(out, "verify-credentials     succeeded"), strings.Index(out, "credentials verified"), strings.Index(out, "Job finished"); !(v < r && r < end) {
		t.Errorf("release line out of order (verify %d, release %d, end %d):\n%s", v, r, end, out)
	}
	if strings.Contains(out, "hooli2016") {
		t.Errorf("output shows the password:\n%s", out)
	}
}

func TestConnectAnswersMFA(t *testing.T) {
	t.Parallel()
	out := runConnect(t, "-institution", "AU00002")
	mustMatch(t, out,
		`mfa-challenge\s+the bank asks: .*What's your first company\?`,
		`(?m)^\[\s*\d+\.\ds\] mfa-challenge\s+succeeded$`,
		`(?m)^\[\s*\d+\.\ds\] retrieve-transactions\s+succeeded$`,
	)
	// With MFA the user is released only once it is answered.
	if m, r := strings.Index(out, "mfa-challenge          succeeded"), strings.Index(out, "credentials verified"); m < 0 || r < m {
		t.Errorf("released before the MFA challenge was answered:\n%s", out)
	}
}

func TestConnectWrongMFAAnswerIsDiagnosed(t *testing.T) {
	t.Parallel()
	out, err := runConnectErr(t, "-institution", "AU00002", "-mfa", "Endframe")
	if !errors.Is(err, demo.ErrDiagnosed) {
		t.Fatalf("run = %v, want demo.ErrDiagnosed\noutput:\n%s", err, out)
	}
	if code, report := demo.ExitCode(err, false); code != 3 || !report {
		t.Errorf("ExitCode = %d, %v; want 3, true", code, report)
	}
	mustMatch(t, out, `mfa-challenge\s+failed: invalid-credentials`, `action:\s+check-credentials`, `so the exit status is 3\.`)
	if strings.Contains(out, "Endframe") {
		t.Errorf("output shows the MFA answer:\n%s", out)
	}
}

func TestConnectWrongPasswordExits3(t *testing.T) {
	t.Parallel()
	out, err := runConnectErr(t, "-login", "gavinBelson", "-password", "typo")
	if !errors.Is(err, demo.ErrDiagnosed) {
		t.Fatalf("run = %v, want demo.ErrDiagnosed\noutput:\n%s", err, out)
	}
	mustMatch(t, out, `verify-credentials\s+failed: invalid-credentials`, `(?m)^  action:\s+check-credentials`)
	if strings.Contains(out, "typo") {
		t.Errorf("output shows the password:\n%s", out)
	}
}

func TestConnectSecurityCodeAndSecondaryLogin(t *testing.T) {
	t.Parallel()
	// St.George (AU10005) asks for a security number; without -security-code
	// the program says so and stops before connecting.
	out, err := runConnectErr(t, "-institution", "AU10005")
	if !errors.Is(err, demo.ErrUsage) {
		t.Errorf("run without -security-code = %v, want demo.ErrUsage", err)
	}
	mustMatch(t, out, `(?m)^  this bank's login form also asks for "Security Number" \(-security-code\), and none was given\.$`,
		`(?m)^connect: St\.George Bank needs -security-code; not connecting without$`)
	if strings.Contains(out, "Created user") || strings.Contains(out, "Started connection job") {
		t.Errorf("connected without the security code:\n%s", out)
	}
	// Given, they are sent (the fake refuses St.George without the security
	// code) but never printed.
	for _, args := range [][]string{
		{"-institution", "AU10005", "-security-code", "s3cr3t-code"},
		{"-institution", "AU10012", "-secondary-login", "card-4242"},
	} {
		out := runConnect(t, args...)
		if strings.Contains(out, "also asks for") {
			t.Errorf("run(%q) reports a missing field that was given:\n%s", args, out)
		}
		if strings.Contains(out, args[3]) {
			t.Errorf("run(%q) shows %q:\n%s", args, args[3], out)
		}
		mustMatch(t, out, `(?m)^Started connection job \S+ for login gavinBelson at AU100\d\d \(password, (security code|secondary login id) not shown\)$`,
			`(?m)^Connection \S+: active`)
	}
}

func TestConnectUsageErrors(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"-bogus"}, {"extra"}, {"-login", "someone"}} {
		var stdout, stderr bytes.Buffer
		err := run(t.Context(), args, noKey, &stdout, &stderr)
		if !errors.Is(err, demo.ErrUsage) {
			t.Errorf("run(%q) = %v, want demo.ErrUsage", args, err)
		}
		if stdout.Len() != 0 || !strings.Contains(stderr.String(), "Usage: connect") {
			t.Errorf("run(%q): want the error and usage on stderr only\nstdout:\n%s\nstderr:\n%s", args, stdout.String(), stderr.String())
		}
	}
	var stdout, stderr bytes.Buffer
	err := run(t.Context(), []string{"-login", "someone"}, noKey, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "-password is required") || !strings.Contains(stderr.String(), "-password is required") {
		t.Errorf("run with an unknown login and no password = %v, stderr %q; want a -password error", err, stderr.String())
	}
}

func TestConnectHelpGoesToStdout(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	err := run(t.Context(), []string{"-h"}, noKey, &stdout, &stderr)
	if !errors.Is(err, flag.ErrHelp) {
		t.Errorf("run(-h) = %v, want flag.ErrHelp", err)
	}
	if stderr.Len() != 0 || !strings.Contains(stdout.String(), "Usage: connect") ||
		!strings.Contains(stdout.String(), "-security-code") || !strings.Contains(stdout.String(), "Exit status:") {
		t.Errorf("run(-h): want the usage on stdout only\nstdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
	}
}

func TestConnectInterruptedExits130(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	var out bytes.Buffer
	// Cancel (as Ctrl-C does) once the job is under way.
	w := writerFunc(func(p []byte) (int, error) {
		if bytes.Contains(p, []byte("Started connection job")) {
			cancel()
		}
		return out.Write(p)
	})
	err := run(ctx, []string{"-time-scale", "0.02"}, noKey, w, w)
	if err == nil {
		t.Fatalf("run after cancel = nil, want an error\noutput:\n%s", out.String())
	}
	if code, report := demo.ExitCode(err, ctx.Err() != nil); code != 130 || report {
		t.Errorf("ExitCode(%v) = %d, %v; want 130, false", err, code, report)
	}
	// The user is deleted even so.
	mustMatch(t, out.String(), `(?m)^Deleted user `)
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func TestConnectMasksTheLoginOnTheLiveAPI(t *testing.T) {
	t.Parallel()
	// The -password check comes before any request, so a made-up key will do.
	live := func(k string) string {
		if k == "BASIQ_API_KEY" {
			return "not-a-real-key"
		}
		return ""
	}
	var stdout, stderr bytes.Buffer
	err := run(t.Context(), []string{"-login", "12345678"}, live, &stdout, &stderr)
	if !errors.Is(err, demo.ErrUsage) {
		t.Fatalf("run = %v, want demo.ErrUsage", err)
	}
	if all := err.Error() + stdout.String() + stderr.String(); strings.Contains(all, "12345678") || !strings.Contains(all, "***678") {
		t.Errorf("want the login masked to ***678:\nerr: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	// On the fake, sandbox logins print in clear.
	out, err := runConnectErr(t, "-login", "someone-else")
	if !errors.Is(err, demo.ErrUsage) || !strings.Contains(out, "someone-else") {
		t.Errorf("run on the fake = %v, output %q; want the login in clear", err, out)
	}
}

func TestConnectSync(t *testing.T) {
	t.Parallel()
	out := runConnect(t, "-sync", "-transactions", "0")
	mustMatch(t, out,
		`(?m)^Transactions sync \(Transactions\.Sync\):$`,
		`(?m)^  60 added, 0 modified, 0 removed, 0 reset$`,
		`(?m)^  first sync: the copy holds 60 transaction\(s\); cursor \d+ bytes$`,
		`(?m)^  refreshed the connection \(job \S+\); the changes it brought:$`,
		`(?m)^    added    \S+  \d{4}-\d\d-\d\d`,
		`(?m)^    modified \S+  \d{4}-\d\d-\d\d`, // a pending transaction posted under its id
		`(?m)^  \d+ added, \d+ modified, \d+ removed, 0 reset$`,
		`(?m)^  the copy holds \d+ transaction\(s\); next cursor \d+ bytes$`,
		`(?m)^  the copy matches Transactions\.All \(\d+ transaction\(s\)\): yes$`,
	)
}

// TestMain fails the test binary if the program leaves a goroutine behind
// (its embedded fake server, a poll loop).
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
