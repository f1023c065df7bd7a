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

// TestMain fails the test binary if the program leaves a goroutine behind
// (its embedded fake server, a poll loop).
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func noKey(string) string { return "" }

func TestFailuresDiagnosesEveryLoginAndOperation(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	var buf bytes.Buffer
	var stderr bytes.Buffer
	if err := run(ctx, []string{"-time-scale", "0.02"}, noKey, &buf, &stderr); err != nil {
		t.Fatalf("run: %v\noutput:\n%s%s", err, buf.String(), stderr.String())
	}
	if stderr.Len() != 0 {
		t.Errorf("stderr:\n%s", stderr.String())
	}
	out := buf.String()
	if first, _, _ := strings.Cut(out, "\n"); !strings.HasPrefix(first, "Using the embedded fake Basiq server") {
		t.Errorf("first line = %q, want it to say the fake is used", first)
	}
	for _, row := range []string{
		`bighead\s+create\s+invalid-credentials\s+check-credentials`,
		`bighead\s+refresh\s+invalid-credentials\s+update-credentials`,
		`erlich\s+create\s+account-not-accessible-requires-user-action\s+resolve-at-bank`,
		`erlich\s+refresh\s+account-not-accessible-requires-user-action\s+resolve-at-bank`,
		`jianYang\s+create\s+service-unavailable\s+retry-later`,
		`jianYang\s+refresh\s+service-unavailable\s+retry-later`,
		// Timing, user message and ids for every scenario.
		`(?s)jianYang / create.*timing:\s+retry after 10m\n`,
		`(?s)bighead / refresh.*user message:\s+\S+`,
		// LogValue: the three ids, once.
		`level=WARN msg="bank connection failed" diagnosis\.user_id=[0-9a-f-]{36} diagnosis\.connection_id=[0-9a-f-]{36} diagnosis\.job_id=[0-9a-f-]{36}`,
	} {
		if !regexp.MustCompile(`(?m)` + row).MatchString(out) {
			t.Errorf("output does not match %q:\n%s", row, out)
		}
	}
	ids := regexp.MustCompile(`(?m)^  ids to log:\s+user_id=[0-9a-f-]{36} connection_id=[0-9a-f-]{36} job_id=[0-9a-f-]{36}$`)
	if n := len(ids.FindAllString(out, -1)); n != 6 {
		t.Errorf("%d complete id lines, want 6:\n%s", n, out)
	}
	if n := strings.Count(out, "msg="); n != 1 {
		t.Errorf("%d slog lines, want 1", n)
	}
	for _, pw := range []string{"aviato", "nothotdog"} {
		if strings.Contains(out, pw) {
			t.Errorf("output shows the password %q", pw)
		}
	}
}

func TestFailuresUsageErrors(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"-bogus"}, {"extra"}} {
		var stdout, stderr bytes.Buffer
		if err := run(t.Context(), args, noKey, &stdout, &stderr); !errors.Is(err, demo.ErrUsage) {
			t.Errorf("run(%q) = %v, want demo.ErrUsage", args, err)
		}
		if stdout.Len() != 0 || !strings.Contains(stderr.String(), "Usage: failures") {
			t.Errorf("run(%q): want the error and usage on stderr only\nstdout:\n%s\nstderr:\n%s", args, stdout.String(), stderr.String())
		}
	}
	var stdout, stderr bytes.Buffer
	if err := run(t.Context(), []string{"-help"}, noKey, &stdout, &stderr); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("run(-help) = %v, want flag.ErrHelp", err)
	}
	if stderr.Len() != 0 || !strings.Contains(stdout.String(), "Usage: failures") {
		t.Errorf("run(-help): want the usage on stdout only\nstdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
	}
}
