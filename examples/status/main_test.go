package main

import (
	"bytes"
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/banklink-go/basiq"
	"github.com/banklink-go/basiq/basiqtest"
	"github.com/banklink-go/basiq/examples/internal/demo"
	"go.uber.org/goleak"
)

// TestMain fails the test binary if the program leaves a goroutine behind
// (its embedded fake server, a poll loop).
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// envWith returns an environment with only the given variables (no
// BASIQ_API_KEY, so run uses the fake).
func envWith(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

func runStatus(t *testing.T, env func(string) string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	var out, stderr bytes.Buffer
	if err := run(ctx, args, env, &out, &stderr); err != nil {
		t.Fatalf("run: %v\noutput:\n%s%s", err, out.String(), stderr.String())
	}
	if stderr.Len() != 0 {
		t.Errorf("stderr:\n%s", stderr.String())
	}
	return out.String()
}

// catalogue lists the fake's institutions through the SDK.
func catalogue(t *testing.T) []basiq.Institution {
	t.Helper()
	srv := basiqtest.NewServer(basiqtest.InMemory())
	defer srv.Close()
	c, err := basiq.NewClient(srv.APIKey(), basiq.WithBaseURL(srv.URL), basiq.WithHTTPClient(srv.Client()))
	if err != nil {
		t.Fatal(err)
	}
	insts, err := c.Institutions.List(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return insts
}

var rowRE = regexp.MustCompile(`(?m)^([A-Z]{2}\d{5}) `)

func TestStatusShowsEveryInstitutionWithoutColourUnderNoColor(t *testing.T) {
	t.Parallel()
	out := runStatus(t, envWith("NO_COLOR", "1"))
	if first, _, _ := strings.Cut(out, "\n"); !strings.HasPrefix(first, "Using the embedded fake Basiq server") {
		t.Errorf("first line = %q, want it to say the fake is used", first)
	}
	if strings.Contains(out, "\x1b[") {
		t.Errorf("output has ANSI escapes with NO_COLOR set:\n%q", out)
	}
	insts := catalogue(t)
	if rows := rowRE.FindAllString(out, -1); len(rows) != len(insts) {
		t.Errorf("%d rows, want %d:\n%s", len(rows), len(insts), out)
	}
	for _, in := range insts {
		status := string(in.Status)
		for _, f := range fakeStatuses() {
			if f.id == in.ID {
				status = f.status
			}
		}
		row := `(?m)^` + regexp.QuoteMeta(in.ID) + `\s+` + regexp.QuoteMeta(in.Name) + `\s+` + in.Tier + `\s+` + in.Stage + `\s+` + regexp.QuoteMeta(status) + `$`
		if !regexp.MustCompile(row).MatchString(out) {
			t.Errorf("no row matching %q:\n%s", row, out)
		}
	}
	// The legend explains every status shown, worst first.
	for _, s := range []string{"major-outage (1): Major outage", "partial-outage (1): Partial outage", `investigating (1): Unknown status "investigating"`, "operational ("} {
		if !strings.Contains(out, s) {
			t.Errorf("legend lacks %q:\n%s", s, out)
		}
	}
	if strings.Index(out, "AU10009") > strings.Index(out, "AU00000") {
		t.Errorf("the major outage (AU10009) is not listed before operational banks:\n%s", out)
	}
}

func TestStatusColourAlways(t *testing.T) {
	t.Parallel()
	out := runStatus(t, envWith(), "-color", "always")
	for _, s := range []string{"\x1b[32moperational\x1b[0m", "\x1b[1;31mmajor-outage\x1b[0m", "\x1b[35mpartial-outage\x1b[0m",
		"\x1b[33mdegraded-performance\x1b[0m", "\x1b[36mscheduled-maintenance\x1b[0m", "\x1b[90minvestigating\x1b[0m"} {
		if !strings.Contains(out, s) {
			t.Errorf("output lacks %q", s)
		}
	}
}

func TestStatusFilters(t *testing.T) {
	t.Parallel()
	ids := func(out string) string {
		var got []string
		for _, m := range rowRE.FindAllStringSubmatch(out, -1) {
			got = append(got, m[1])
		}
		return strings.Join(got, " ")
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-name", "HOOLI"}, "AU00000 AU00004"},
		{[]string{"-status", "major-outage, partial-outage"}, "AU10009 AU10004"},
		{[]string{"-status", "under-maintenance"}, "AU00003 AU10007"}, // the SDK takes the hypothetical scheduled-maintenance as under-maintenance
		{[]string{"-name", "hooli", "-status", "operational", "-color", "never"}, "AU00000 AU00004"},
		{[]string{"-name", "hooli", "-status", "major-outage"}, ""},
		{[]string{"-name", "no such bank"}, ""},
	} {
		if got := ids(runStatus(t, envWith(), tc.args...)); got != tc.want {
			t.Errorf("run(%q) lists %q, want %q", tc.args, got, tc.want)
		}
	}
}

func TestColorEnabled(t *testing.T) {
	for _, tc := range []struct {
		mode     string
		terminal bool
		env      func(string) string
		want     bool
	}{
		{"auto", true, envWith(), true},
		{"auto", true, envWith("NO_COLOR", "1"), false},
		{"auto", true, envWith("NO_COLOR", ""), true}, // NO_COLOR counts only when non-empty
		{"auto", true, envWith("TERM", "dumb"), false},
		{"auto", false, envWith(), false},
		{"always", false, envWith("NO_COLOR", "1"), true},
		{"never", true, envWith(), false},
	} {
		got, err := colorEnabled(tc.mode, tc.terminal, tc.env)
		if err != nil || got != tc.want {
			t.Errorf("colorEnabled(%q, %v) = %v, %v; want %v", tc.mode, tc.terminal, got, err, tc.want)
		}
	}
	if _, err := colorEnabled("sometimes", true, envWith()); err == nil {
		t.Error("colorEnabled accepted a bad mode")
	}
	var stdout, stderr bytes.Buffer
	if err := run(t.Context(), []string{"-color", "sometimes"}, envWith(), &stdout, &stderr); !errors.Is(err, demo.ErrUsage) {
		t.Errorf("run with a bad -color = %v, want demo.ErrUsage", err)
	}
	if stdout.Len() != 0 || !strings.Contains(stderr.String(), "status: -color must be auto, always or never") ||
		!strings.Contains(stderr.String(), "Usage: status") {
		t.Errorf("run with a bad -color: want the error and usage on stderr only\nstdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
	}
}

func TestStatusLabelsTheHypotheticalAlias(t *testing.T) {
	t.Parallel()
	out := runStatus(t, envWith("NO_COLOR", "1"))
	for _, s := range []string{
		`  AU00003 to "scheduled-maintenance" (a hypothetical maintenance alias: no Basiq source shows it, but the SDK treats it as under-maintenance)`,
		`  AU10005 to "investigating" (a status the SDK does not know)`,
		"under-maintenance (also under-improvement, and the hypothetical scheduled-maintenance) (2):",
	} {
		if !strings.Contains(out, s) {
			t.Errorf("output lacks %q:\n%s", s, out)
		}
	}
}
