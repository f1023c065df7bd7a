package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/banklink-go/basiq/basiqtest"
	"github.com/banklink-go/basiq/examples/internal/demo"
	"go.uber.org/goleak"
)

// TestMain fails the test binary if the program leaves a goroutine behind
// (its embedded fake server, a poll loop).
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func noKey(string) string { return "" }

// runConsent runs the program on the fake, sped up, and returns its output
// (stdout and stderr together) and error.
func runConsent(t *testing.T, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	var out bytes.Buffer
	err := run(ctx, append([]string{"-time-scale", "0.02"}, args...), noKey, strings.NewReader(""), &out, &out)
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

// leakedToken finds a Consent UI token printed in clear.
var leakedToken = regexp.MustCompile(`token=[^&\s\[]`)

func TestConsentOnTheFake(t *testing.T) {
	t.Parallel()
	out, err := runConsent(t)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, out)
	}
	mustMatch(t, out,
		`^Using the embedded fake Basiq server at https://basiq\.test \(in memory; BASIQ_API_KEY is not set; API version 3\.0`,
		`(?m)^Consent UI link \(logged redacted with basiq\.RedactURL\):\n  https://consent\.basiq\.io/home\?state=[0-9A-Za-z_-]{43}&token=\[REDACTED\]$`,
		`(?m)^Redirected back to: https://app\.example/basiq/callback\?jobId=\S+&jobIds=\S+,\S+&state=[0-9A-Za-z_-]{43}$`,
		`(?m)^Waiting for 2 job\(s\): `,
		`(?m)^Job \S+ succeeded: connection \S+\n3 account\(s\):$`,
		`(?m)^First 5 transaction\(s\) \(Transactions\.All, streamed page by page\):\n(  \S+ +-?\d+\.\d\d AUD  .+\n){5}`,
		`(?m)^Job \S+ failed at verify-credentials after`,
		`(?m)^  action:        check-credentials \(only the user can fix this\)$`,
		`(?m)^  remedy:        send the user to the Consent UI: https://consent\.basiq\.io/home\?connectionId=(\S+)&state=[0-9A-Za-z_-]{43}&token=\[REDACTED\]$`,
		`(?m)^The user sorts things out with their bank \(on the fake: SetLoginOutcome clears bighead's failure\),\nfollows the remedy for connection \S+ and logs in as bighead again; the fix is made on that connection\.$`,
		`(?m)^Waiting for 1 job\(s\): `,
		`so the exit status is 0\.`,
		`(?m)^Deleted user `,
	)
	// The remedy fixed the failed connection itself: the job it started
	// reports the connection the remedy named, and no third connection.
	remedyFor := regexp.MustCompile(`connectionId=([0-9a-f-]+)&`).FindStringSubmatch(out)
	if remedyFor == nil || !regexp.MustCompile(`(?m)^Job \S+ succeeded: connection `+remedyFor[1]+`$`).MatchString(out) {
		t.Errorf("the remedy's job did not succeed on the connection the remedy named:\n%s", out)
	}
	if leakedToken.MatchString(out) {
		t.Errorf("a Consent UI token is printed in clear:\n%s", out)
	}
	if strings.Contains(out, "hooli2016") || strings.Contains(out, "password\n") {
		t.Errorf("a password is printed:\n%s", out)
	}
}

func TestConsentOneBankNoTransactions(t *testing.T) {
	t.Parallel()
	out, err := runConsent(t, "-failing-login", "", "-transactions", "0")
	if err != nil {
		t.Fatalf("run: %v\n%s", err, out)
	}
	mustMatch(t, out, `(?m)^Waiting for 1 job\(s\): `, `(?m)^Job \S+ succeeded`)
	for _, unwanted := range []string{"transaction(s) (Transactions.All", "failed at", "remedy"} {
		if strings.Contains(out, unwanted) {
			t.Errorf("output has %q:\n%s", unwanted, out)
		}
	}
}

// A failure at the first bank is not the demo's deliberate one: it is the
// run's outcome (exit status 3), not replayed at the failing institution.
func TestConsentFailureAtTheFirstBankIsDiagnosed(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"-password", "wrong"}, {"-login", "bighead", "-password", "password"}} {
		out, err := runConsent(t, args...)
		if !errors.Is(err, demo.ErrDiagnosed) {
			t.Fatalf("%v: err = %v, want a diagnosed failure (exit status 3)\n%s", args, err, out)
		}
		if strings.Contains(out, "follows the remedy") {
			t.Errorf("%v: the demo replayed a remedy that was not its own:\n%s", args, out)
		}
	}
}

func TestConsentUsage(t *testing.T) {
	t.Parallel()
	out, err := runConsent(t, "-transactions", "-1")
	if !errors.Is(err, demo.ErrUsage) {
		t.Fatalf("err = %v, want a usage error\n%s", err, out)
	}
	_, err = runConsent(t, "-h")
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("-h: err = %v", err)
	}
}

// TestConsentLiveFlow runs the program's real-API path against a fake
// listening on loopback: it prints the Consent UI link, the test plays the
// user in the Consent UI and pastes the redirect back on standard input.
func TestConsentLiveFlow(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		tamper  func(redirect string) string
		wantErr string
	}{
		{name: "the redirect comes back", tamper: func(r string) string { return r }},
		{name: "a redirect with another state is refused", tamper: func(r string) string {
			return regexp.MustCompile(`state=[0-9A-Za-z_-]+`).ReplaceAllString(r, "state=forged")
		}, wantErr: "state is not the one this session sent"},
		{name: "a redirect with a job id that is not one is refused", tamper: func(r string) string {
			return strings.Replace(r, "jobIds=", "jobIds=..%2F..%2Fusers,", 1)
		}, wantErr: "is not a job id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := basiqtest.NewServer(basiqtest.WithTimeScale(0.02))
			defer srv.Close()
			env := func(k string) string {
				return map[string]string{"BASIQ_API_KEY": srv.APIKey(), "BASIQ_BASE_URL": srv.URL}[k]
			}
			stdinR, stdinW := io.Pipe()
			stdoutR, stdoutW := io.Pipe()
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			done := make(chan error, 1)
			go func() {
				err := run(ctx, []string{"-transactions", "1"}, env, stdinR, stdoutW, stdoutW)
				stdoutW.Close()
				done <- err
			}()
			var out strings.Builder
			sc := bufio.NewScanner(stdoutR)
			for sc.Scan() {
				line := sc.Text()
				out.WriteString(line + "\n")
				if link, ok := strings.CutPrefix(line, "  https://consent.basiq.io/home?"); ok {
					redirect, err := srv.CompleteConsent("https://consent.basiq.io/home?"+link, basiqtest.WithConsentLogins(
						basiqtest.ConsentLogin{InstitutionID: "AU00000", LoginID: "gavinBelson", Password: "hooli2016"}))
					if err != nil {
						t.Errorf("CompleteConsent: %v", err)
					}
					go func() { _, _ = io.WriteString(stdinW, tc.tamper(redirect)+"\n") }()
				}
			}
			err := <-done
			stdinW.Close()
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("run: %v\n%s", err, out.String())
				}
				mustMatch(t, out.String(), `(?m)^Open this link in a browser`, `(?m)^Job \S+ succeeded`, `(?m)^First 1 transaction`)
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want %q\n%s", err, tc.wantErr, out.String())
			}
		})
	}
}
