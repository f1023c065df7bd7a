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
	"go.uber.org/goleak"
)

// TestMain fails the test binary if the program leaves a goroutine behind
// (its embedded fake server, a poll loop).
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func noKey(string) string { return "" }

func TestWebhooksOnTheFake(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	var out bytes.Buffer
	if err := run(ctx, []string{"-time-scale", "0.02"}, noKey, &out, &out); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	s := out.String()
	for _, p := range []string{
		`(?m)^Registered webhook \S+ for https://app\.example/basiq/webhooks \(15 event types; secret \[REDACTED\]\)$`,
		`(?m)^\[\s*\d+\.\ds\] user\.created `,
		`(?m)^\[\s*\d+\.\ds\] consent\.created `,
		`(?m)^\[\s*\d+\.\ds\] connection\.invalidated\s+check-credentials: tell the user ".+" once for problem [0-9a-f-]+:invalid-credentials; then send them to the Consent UI \(connection [0-9a-f-]+\)$`,
		`(?m)^\[\s*\d+\.\ds\] connection\.activated\s+connection\.activated: connection \S+; nothing to ask the user$`,
		`(?m)^\[\s*\d+\.\ds\] transactions\.updated\s+read the new transactions of connection \S+$`,
		`(?m)^\d+ message\(s\) delivered in \d+ POST\(s\): the first failed on purpose`,
		`the receiver handled \d+ and dropped 1 repeat\(s\)`,
	} {
		if !regexp.MustCompile(p).MatchString(s) {
			t.Errorf("output does not match %q:\n%s", p, s)
		}
	}
	if strings.Contains(s, "whsec_") {
		t.Errorf("the webhook secret is printed:\n%s", s)
	}
	// Each event is handled once, whatever the retries.
	seen := map[string]int{}
	for _, line := range strings.Split(s, "\n") {
		if m := regexp.MustCompile(`^\[\s*\d+\.\ds\] (\S+)\s+(.*)$`).FindStringSubmatch(line); m != nil {
			seen[m[1]+" "+m[2]]++
		}
	}
	for k, n := range seen {
		if n > 1 && !strings.HasPrefix(k, "connection.created") {
			t.Errorf("%q handled %d times", k, n)
		}
	}
}

func TestWebhooksLiveNeedsURL(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	env := func(k string) string {
		if k == "BASIQ_API_KEY" {
			return "a2V5OnNlY3JldA=="
		}
		return ""
	}
	err := run(t.Context(), nil, env, &out, &out)
	if !errors.Is(err, demo.ErrUsage) {
		t.Fatalf("err = %v, want a usage error\n%s", err, out.String())
	}
}
