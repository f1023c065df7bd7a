package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/banklink-go/basiq"
	"github.com/banklink-go/basiq/basiqtest"
	"github.com/banklink-go/basiq/examples/internal/demo"
	"go.uber.org/goleak"
)

func noKey(string) string { return "" }

// runReport runs the program on the fake, sped up, and returns its output
// (stdout and stderr together) and error.
func runReport(t *testing.T, env func(string) string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	var out bytes.Buffer
	err := run(ctx, append([]string{"-time-scale", "0.02"}, args...), env, &out, &out)
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

func TestReportOnTheFake(t *testing.T) {
	t.Parallel()
	out, err := runReport(t, noKey)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, out)
	}
	mustMatch(t, out,
		`^Using the embedded fake Basiq server at https://basiq\.test \(in memory; BASIQ_API_KEY is not set; API version 3\.0`,
		`(?m)^The fake plays the user in the Consent UI: connects AU00000 as gavinBelson$`,
		`(?m)^Connection job \S+ succeeded: connection \S+$`,
		`(?m)^Creating report over 3 account\(s\), \d{4}-\d\d-\d\d to \d{4}-\d\d-\d\d: job (\S+)$`,
		`(?m)^Report job succeeded after \d+\.\ds: report \S+$`,
		`(?m)^Affordability \d{4}-\d\d-\d\d \(CON_AFFOR_01, \d+ metrics\):$`,
		`(?m)^  ME033  Average Income monthly +\d+\.\d\d AUD$`,
		`(?m)^  ME034  Average Outgoings monthly +-\d+\.\d\d AUD$`,
		`(?m)^  ME002  Average monthly amount from salary +\d+\.\d\d AUD$`,
		`(?m)^  ME001  # OF IDENTIFIED SALARY SOURCES +1$`,
		`(?m)^  ME010  Total credit card limit +10000\.00 AUD$`,
		`(?m)^  ME018  % OF SALARY INCOME WITHDRAWN VIA ATM +\d+\.\d%$`,
		`(?m)^  ME028  Missing non-discretionary expenses: groceries +(true|false)$`,
		`(?m)^PDF: \d+ bytes$`,
	)
	// The report's id is its job's, as in Basiq's examples.
	m := regexp.MustCompile(`job (\S+)\n`).FindStringSubmatch(out)
	if m == nil || !strings.Contains(out, "report "+m[1]+"\n") {
		t.Errorf("the report's id is not its job's:\n%s", out)
	}
	if strings.Contains(out, "hooli2016") {
		t.Errorf("a password is printed:\n%s", out)
	}
}

func TestReportChosenMetricsAndPDF(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "report.pdf")
	out, err := runReport(t, noKey, "-days", "30", "-metrics", "ME002, ME999", "-pdf", path)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, out)
	}
	mustMatch(t, out, `(?m)^  ME002  Average monthly amount from salary +\d+\.\d\d AUD$`,
		`(?m)^  ME999  \(not in the report\) +-$`, `(?m)^Wrote `)
	if strings.Contains(out, "ME033") {
		t.Errorf("a metric not asked for is printed:\n%s", out)
	}
	pdf, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(pdf, []byte("%PDF-")) || !bytes.Contains(pdf, []byte("ME002 Average monthly amount from salary")) {
		t.Errorf("the PDF is not the report's: %.200q", pdf)
	}
}

func TestReportBankThatFailsIsDiagnosed(t *testing.T) {
	t.Parallel()
	out, err := runReport(t, noKey, "-login", "bighead", "-password", "password")
	if !errors.Is(err, demo.ErrDiagnosed) {
		t.Fatalf("err = %v, want a diagnosed failure (exit status 3)\n%s", err, out)
	}
	mustMatch(t, out, `(?m)^Connection job \S+ failed at verify-credentials`)
	if strings.Contains(out, "Creating report") {
		t.Errorf("a report was created without data:\n%s", out)
	}
}

func TestReportUsage(t *testing.T) {
	t.Parallel()
	if out, err := runReport(t, noKey, "-days", "0"); !errors.Is(err, demo.ErrUsage) {
		t.Fatalf("-days 0: err = %v, want a usage error\n%s", err, out)
	}
	if _, err := runReport(t, noKey, "-h"); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("-h: err = %v", err)
	}
	live := func(k string) string { return map[string]string{"BASIQ_API_KEY": "key"}[k] }
	if out, err := runReport(t, live); !errors.Is(err, demo.ErrUsage) || !strings.Contains(out, "-user") {
		t.Fatalf("live without -user: err = %v, want a usage error naming -user\n%s", err, out)
	}
}

// TestReportLive runs the program's real-API path against a fake listening
// on loopback, for a user the test connected beforehand.
func TestReportLive(t *testing.T) {
	t.Parallel()
	srv := basiqtest.NewServer(basiqtest.WithTimeScale(0.02), basiqtest.WithTransactionsPerAccount(200))
	defer srv.Close()
	env := func(k string) string {
		return map[string]string{"BASIQ_API_KEY": srv.APIKey(), "BASIQ_BASE_URL": srv.URL}[k]
	}
	c, err := basiq.NewClient(srv.APIKey(), basiq.WithBaseURL(srv.URL), basiq.WithAPIVersion(basiq.V3))
	if err != nil {
		t.Fatal(err)
	}
	user, err := c.Users.Create(t.Context(), basiq.UserParams{Email: "live@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	jobID, err := srv.Connect(user.ID, "AU00000", "gavinBelson", "hooli2016")
	if err != nil {
		t.Fatal(err)
	}
	fast := basiq.PollOptions{MinInterval: 20 * time.Millisecond, MaxInterval: 100 * time.Millisecond}
	if _, err := c.Jobs.Wait(t.Context(), jobID, &fast); err != nil {
		t.Fatal(err)
	}
	out, err := runReport(t, env, "-user", user.ID, "-metrics", "ME010")
	if err != nil {
		t.Fatalf("run: %v\n%s", err, out)
	}
	mustMatch(t, out, `^Using the live Basiq API at http://127\.0\.0\.1:\d+ `, `(?m)^  ME010  Total credit card limit +10000\.00 AUD$`)
}

// TestMain fails the test binary if the program leaves a goroutine behind
// (its embedded fake server, a poll loop).
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
