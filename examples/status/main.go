// Command status prints Basiq's connector status board: every institution
// with its tier, stage and current status, worst first, colour-coded on a
// terminal, then a legend with what Basiq advises for each status shown
// (InstitutionStatus.Advice).
//
// With BASIQ_API_KEY set it uses the real API; otherwise the embedded fake
// Basiq server (package basiqtest), on which a couple of statuses are changed
// first so that the board has more to show: a hypothetical maintenance alias
// and a status the SDK does not know.
//
//	go run ./examples/status
//	go run ./examples/status -name bank -status partial-outage,major-outage
//
// Colours are used only when standard output is a terminal and NO_COLOR is
// not set (https://no-color.org); -color always|never overrides that.
//
// Exit status: 0 on success, 2 for bad usage, 130 when interrupted, 1 for
// any other error.
package main

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/banklink-go/basiq"
	"github.com/banklink-go/basiq/examples/internal/demo"
)

func main() { demo.Main("status", run) }

// fakeStatus is a status set on the fake before listing, and why.
type fakeStatus struct{ id, status, why string }

// fakeStatuses returns the statuses to set on the fake, a fresh slice on
// every call.
func fakeStatuses() []fakeStatus {
	return []fakeStatus{
		// No Basiq source shows this value; the SDK
		// accepts it, in case it appears, as under-maintenance.
		{"AU00003", string(basiq.StatusScheduledMaintenance),
			"a hypothetical maintenance alias: no Basiq source shows it, but the SDK treats it as under-maintenance"},
		{"AU10005", "investigating", "a status the SDK does not know"},
	}
}

func run(ctx context.Context, args []string, env func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("status", flag.ContinueOnError)
	name := fs.String("name", "", "show only institutions whose name or short name contains this (case-insensitive)")
	status := fs.String("status", "", "show only these statuses, comma-separated (e.g. partial-outage,major-outage)")
	color := fs.String("color", "auto", "colour the statuses: auto (on a terminal, unless NO_COLOR is set), always or never")
	timeout := fs.Duration("timeout", time.Minute, "give up after this long")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: status [flags]\n\nPrints Basiq's connector status board: the real API when BASIQ_API_KEY is set, else an embedded fake.\n\nExit status: 0 on success, 2 for bad usage, 130 when interrupted, 1 for other errors.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := demo.Parse(fs, args, stdout, stderr); err != nil {
		return err
	}
	useColor, err := colorEnabled(*color, isTerminal(stdout), env)
	if err != nil {
		return demo.UsageError(fs, "%v", err)
	}
	filter := &basiq.InstitutionFilter{Name: *name}
	for s := range strings.SplitSeq(*status, ",") {
		if s = strings.TrimSpace(s); s != "" {
			filter.Status = append(filter.Status, basiq.InstitutionStatus(s))
		}
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()

	setup, err := demo.Start(env, stdout, 1)
	if err != nil {
		return err
	}
	defer setup.Close()
	c := setup.Client
	if setup.Fake != nil {
		fmt.Fprintln(stdout, "On the fake, first set:")
		for _, fst := range fakeStatuses() {
			if err := setup.Fake.SetInstitutionStatus(fst.id, fst.status); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "  %s to %q (%s)\n", fst.id, fst.status, fst.why)
		}
	}

	insts, err := c.Institutions.List(ctx, filter)
	if err != nil {
		return fmt.Errorf("listing institutions: %w", err)
	}
	// Worst first, then by id.
	slices.SortStableFunc(insts, func(a, b basiq.Institution) int {
		return cmp.Or(cmp.Compare(severity(a.Status), severity(b.Status)), cmp.Compare(a.ID, b.ID))
	})

	paint := func(s basiq.InstitutionStatus, text string) string {
		if !useColor {
			return text
		}
		return ansi(s) + text + "\x1b[0m"
	}

	fmt.Fprintf(stdout, "\nConnector status board: %d institution(s)", len(insts))
	if *name != "" || *status != "" {
		fmt.Fprintf(stdout, " matching")
		if *name != "" {
			fmt.Fprintf(stdout, " name %q", *name)
		}
		if *status != "" {
			fmt.Fprintf(stdout, " status %s", *status)
		}
	}
	fmt.Fprintln(stdout)
	nameWidth := len("NAME")
	for _, in := range insts {
		nameWidth = max(nameWidth, utf8.RuneCountInString(in.Name))
	}
	fmt.Fprintf(stdout, "%-8s %s  %-4s  %-5s  %s\n", "ID", pad("NAME", nameWidth), "TIER", "STAGE", "STATUS")
	counts := map[basiq.InstitutionStatus]int{}
	var shown []basiq.InstitutionStatus
	for _, in := range insts {
		st := in.Status
		if st == "" {
			st = "unknown"
		}
		fmt.Fprintf(stdout, "%-8s %s  %-4s  %-5s  %s\n", in.ID, pad(in.Name, nameWidth), demo.OrDash(in.Tier), demo.OrDash(in.Stage), paint(in.Status, string(st)))
		key := in.Status.Normalize()
		if counts[key] == 0 {
			shown = append(shown, key)
		}
		counts[key]++
	}
	if len(insts) == 0 {
		fmt.Fprintln(stdout, "(none)")
		return nil
	}

	fmt.Fprintln(stdout, "\nWhat each status means (InstitutionStatus.Advice):")
	for _, st := range shown {
		label := string(st)
		switch st {
		case "":
			label = "unknown"
		case basiq.StatusUnderMaintenance:
			label += " (also under-improvement, and the hypothetical scheduled-maintenance)"
		}
		fmt.Fprintf(stdout, "  %s (%d): %s\n", paint(st, label), counts[st], st.Advice().Summary)
	}
	return nil
}

// severity orders statuses worst first.
func severity(s basiq.InstitutionStatus) int {
	switch s.Normalize() {
	case basiq.StatusMajorOutage:
		return 0
	case basiq.StatusPartialOutage:
		return 1
	case basiq.StatusDegradedPerformance:
		return 2
	case basiq.StatusUnderMaintenance:
		return 4
	case basiq.StatusOperational:
		return 5
	}
	return 3 // unknown: between trouble and fine
}

// ansi is the colour of a status: green operational, cyan maintenance, yellow
// degraded, magenta partial outage, bold red major outage, grey unknown.
func ansi(s basiq.InstitutionStatus) string {
	switch s.Normalize() {
	case basiq.StatusOperational:
		return "\x1b[32m"
	case basiq.StatusUnderMaintenance:
		return "\x1b[36m"
	case basiq.StatusDegradedPerformance:
		return "\x1b[33m"
	case basiq.StatusPartialOutage:
		return "\x1b[35m"
	case basiq.StatusMajorOutage:
		return "\x1b[1;31m"
	}
	return "\x1b[90m"
}

// colorEnabled decides whether to colour: mode "always" or "never" as told;
// "auto" only on a terminal, and not when NO_COLOR is set to anything
// non-empty (https://no-color.org) or TERM is "dumb".
func colorEnabled(mode string, terminal bool, env func(string) string) (bool, error) {
	switch mode {
	case "always":
		return true, nil
	case "never":
		return false, nil
	case "auto", "":
		return terminal && env("NO_COLOR") == "" && env("TERM") != "dumb", nil
	}
	return false, fmt.Errorf("-color must be auto, always or never, not %q", mode)
}

// isTerminal reports whether w is a terminal (a character device).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// pad pads s with spaces to width runes.
func pad(s string, width int) string {
	return s + strings.Repeat(" ", max(width-utf8.RuneCountInString(s), 0))
}
