package main

import (
	"bytes"
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/banklink-go/basiq/examples/internal/demo"
)

// noKey is an environment without BASIQ_API_KEY, so run uses the fake.
func noKey(string) string { return "" }

func runConnect(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	var out bytes.Buffer
	if err := run(ctx, append([]string{"-time-scale", "0.02"}, args...), noKey, &out); err != nil {
		t.Fatalf("run: %v\noutput:\n%s", err, out.String())
	}
	return out.String()
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
	// The release comes after verify-credentials and before the accounts.
	if v, r, a := strings.Index(out, "verify-credentials     succeeded"), strings.Index(out, "credentials verified"), strings.Index(out, "retrieve-accounts      succeeded"); !(v < r && r < a) {
		t.Errorf("release line out of order (verify %d, release %d, accounts %d):\n%s", v, r, a, out)
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
	out := runConnect(t, "-institution", "AU00002", "-mfa", "Endframe")
	mustMatch(t, out, `mfa-challenge\s+failed: invalid-credentials`, `action:\s+check-credentials`)
	if strings.Contains(out, "Endframe") {
		t.Errorf("output shows the MFA answer:\n%s", out)
	}
}

func TestConnectBigheadIsDiagnosed(t *testing.T) {
	t.Parallel()
	out := runConnect(t, "-login", "bighead", "-password", "password")
	mustMatch(t, out,
		`verify-credentials\s+failed: invalid-credentials`,
		`(?m)^  code:\s+invalid-credentials$`,
		`(?m)^  action:\s+check-credentials \(only the user can fix this\)$`,
		`(?m)^  user message:\s+\S+`,
		`(?m)^  timing:\s+retry after -, retry every -, give up after -$`,
		`(?m)^  ids to log:\s+user_id=[0-9a-f-]{36} connection_id=[0-9a-f-]{36} job_id=[0-9a-f-]{36}$`,
		`diagnosis\.user_id=[0-9a-f-]{36} diagnosis\.connection_id=[0-9a-f-]{36} diagnosis\.job_id=[0-9a-f-]{36} diagnosis\.action=check-credentials`,
		`expected outcome of this demo .*exit status is 0`,
	)
	if strings.Contains(out, "Password: password") || strings.Contains(out, `"password"`) {
		t.Errorf("output shows the password:\n%s", out)
	}
}

func TestConnectUsageErrors(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"-bogus"}, {"extra"}} {
		var out bytes.Buffer
		if err := run(t.Context(), args, noKey, &out); !errors.Is(err, demo.ErrUsage) {
			t.Errorf("run(%q) = %v, want demo.ErrUsage", args, err)
		}
	}
	var out bytes.Buffer
	err := run(t.Context(), []string{"-login", "someone"}, noKey, &out)
	if err == nil || !strings.Contains(err.Error(), "-password is required") {
		t.Errorf("run with an unknown login and no password = %v, want a -password error", err)
	}
}
