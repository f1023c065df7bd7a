// Package demo holds what the example programs share: how they start (the
// live Basiq API when BASIQ_API_KEY is set, else the embedded fake), how they
// exit, and small formatting helpers.
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
	"time"

	"github.com/banklink-go/basiq"
	"github.com/banklink-go/basiq/basiqtest"
)

// ErrUsage marks bad command-line arguments, already reported by the flag set.
var ErrUsage = errors.New("usage")

// RunFunc is an example program's body, callable from its tests.
type RunFunc func(ctx context.Context, args []string, env func(string) string, stdout io.Writer) error

// Main runs an example program: interrupted by Ctrl-C, exit status 2 for bad
// usage, 1 (with the error on stderr) for a failure.
func Main(name string, run RunFunc) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout)
	stop()
	switch {
	case errors.Is(err, flag.ErrHelp):
	case errors.Is(err, ErrUsage):
		os.Exit(2)
	case err != nil:
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		os.Exit(1)
	}
}

// Parse parses args with fs (whose output should be the program's stdout).
// It returns flag.ErrHelp for -h, and ErrUsage, after printing the usage,
// for a bad flag or a stray argument.
func Parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return ErrUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "%s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		fs.Usage()
		return ErrUsage
	}
	return nil
}

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
// credential connections) when BASIQ_API_KEY is set, or for a freshly started
// fake whose jobs run timeScale times as long as Basiq's averages, and says
// which on the first line of stdout.
func Start(env func(string) string, stdout io.Writer, timeScale float64) (*Setup, error) {
	if key := env("BASIQ_API_KEY"); key != "" {
		fmt.Fprintf(stdout, "Using the live Basiq API at %s (API version 2.1)\n", basiq.DefaultBaseURL)
		c, err := basiq.NewClient(key, basiq.WithAPIVersion(basiq.V2_1))
		if err != nil {
			return nil, err
		}
		return &Setup{Client: c}, nil
	}
	srv := basiqtest.NewServer(basiqtest.WithTimeScale(timeScale))
	fmt.Fprintf(stdout, "Using the embedded fake Basiq server at %s (BASIQ_API_KEY is not set; time scale %g)\n", srv.URL, timeScale)
	c, err := basiq.NewClient(srv.APIKey(),
		basiq.WithBaseURL(srv.URL), basiq.WithHTTPClient(srv.Client()), basiq.WithAPIVersion(basiq.V2_1))
	if err != nil {
		srv.Close()
		return nil, err
	}
	return &Setup{Client: c, Fake: srv, Poll: fakePollOptions(timeScale)}, nil
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

// OrDash returns s, or "-" when it is empty.
func OrDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
