// Command webhooks receives Basiq's webhooks and turns each event into what
// to do about it: it registers a webhook, verifies every delivery (package
// webhook), drops repeats of a delivery it has handled, fetches the event the
// delivery names and asks Events.Advise what it means for the app.
//
// With no environment it runs on the embedded fake Basiq server (package
// basiqtest), which delivers to the receiver in memory: the receiver
// registers itself, a user goes through the Consent UI with a sandbox login
// that works and one that always fails, the fake's first delivery is made to
// fail (Basiq then retries it 5 seconds later: the receiver sees it again and
// drops it), and every event is printed with the action it leads to:
//
//	go run ./examples/webhooks
//
// With BASIQ_API_KEY set it uses the real API (version 3.0): it serves the
// receiver on -listen, registers -url (the public https URL that reaches it)
// as a webhook, prints each event as it comes, and deletes the webhook on
// Ctrl-C. Basiq may take up to 15 minutes to start delivering to a new
// webhook. The webhook's secret is never printed.
//
// Exit status: 0 when done; 130 when interrupted (on the live API, Ctrl-C
// is how it stops: the webhook is deleted first); 2 for bad usage; 1 for
// any other error.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/banklink-go/basiq"
	"github.com/banklink-go/basiq/basiqtest"
	"github.com/banklink-go/basiq/examples/internal/demo"
	"github.com/banklink-go/basiq/webhook"
)

func main() { demo.Main("webhooks", run) }

const usage = `Usage: webhooks [flags]

Receives Basiq's webhooks, verifies them and prints what each event means for
the app: on an embedded fake (no environment), or on the real API when
BASIQ_API_KEY is set (serve -listen, register -url; Ctrl-C deletes the
webhook and stops).

Exit status: 0 when done; 130 when interrupted; 2 for bad usage; 1 for other
errors.

Flags:
`

// receiver is the app's webhook endpoint, with counts for the demo.
type receiver struct {
	h          atomic.Pointer[http.Handler] // set once the webhook's secret is known
	deliveries atomic.Int64                 // POSTs that reached it
	callbacks  atomic.Int64                 // deliveries handed to the app's callback
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.deliveries.Add(1)
	h := r.h.Load()
	if h == nil {
		http.Error(w, "not ready", http.StatusServiceUnavailable)
		return
	}
	(*h).ServeHTTP(w, req)
}

func run(ctx context.Context, args []string, env func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("webhooks", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:8080", "live API only: the address to serve the receiver on")
	public := fs.String("url", "", "live API only: the public https URL of the receiver, to register with Basiq")
	timeout := fs.Duration("timeout", 2*time.Minute, "fake only: give up after this long")
	timeScale := fs.Float64("time-scale", 0.1, "fake only: multiply the fake bank's step durations by this")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usage)
		fs.PrintDefaults()
	}
	if err := demo.Parse(fs, args, stdout, stderr); err != nil {
		return err
	}
	// Events are printed from the receiver's goroutines, the rest from this
	// one: one lock for every write.
	stdout = demo.Locked(stdout)
	live := demo.Live(env)
	if live && *public == "" {
		return demo.UsageError(fs, "-url is required with BASIQ_API_KEY: the public https URL Basiq delivers to")
	}

	rx := &receiver{}
	setup, err := demo.StartVersion(env, stdout, *timeScale, basiq.V3,
		basiqtest.WithWebhookClient(&http.Client{Transport: basiqtest.HandlerTransport(rx)}))
	if err != nil {
		return err
	}
	defer setup.Close()
	c := setup.Client

	hookURL := "https://app.example/basiq/webhooks" // the fake delivers in memory, whatever the host
	if live {
		hookURL = *public
	}
	wh, err := c.Webhooks.Create(ctx, basiq.WebhookParams{URL: hookURL, Name: "basiq-go example",
		Description: "examples/webhooks", SubscribedEvents: basiq.WebhookEventTypes()})
	if err != nil {
		return fmt.Errorf("registering the webhook: %w", err)
	}
	fmt.Fprintf(stdout, "Registered webhook %s for %s (%d event types; secret %v)\n", wh.ID, hookURL, len(wh.SubscribedEvents), wh.Secret)
	defer func() {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if err := c.Webhooks.Delete(dctx, wh.ID); err != nil {
			fmt.Fprintf(stderr, "webhooks: could not delete webhook %s: %v\n", wh.ID, err)
		}
	}()

	v, err := webhook.NewVerifier(string(wh.Secret))
	if err != nil {
		return fmt.Errorf("the webhook's secret: %w", err)
	}
	out := &printer{w: stdout, start: time.Now()}
	h := webhook.Handler(v, func(ctx context.Context, m webhook.Message) error {
		rx.callbacks.Add(1)
		ev, err := c.Events.Get(ctx, m.EventURL)
		if err != nil {
			return err // 5xx: Basiq delivers it again later
		}
		advice, err := c.Events.Advise(ctx, ev)
		if err != nil {
			return err
		}
		out.event(m, advice)
		return nil
	})
	rx.h.Store(&h)

	if live {
		return serve(ctx, *listen, rx, stdout)
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	return onTheFake(ctx, setup, rx, stdout)
}

// onTheFake makes things happen on the fake and waits for every delivery.
func onTheFake(ctx context.Context, setup *demo.Setup, rx *receiver, stdout io.Writer) error {
	c, srv := setup.Client, setup.Fake
	// The first delivery fails as if the app had not answered in time:
	// Basiq retries it 5 s later, and the receiver drops the repeat.
	srv.FailWebhookDeliveries(1)
	if err := srv.StartWebhookDelivery(ctx); err != nil {
		return err
	}

	user, err := c.Users.Create(ctx, basiq.UserParams{Email: "webhooks-demo@example.com"})
	if err != nil {
		return fmt.Errorf("creating user: %w", err)
	}
	fmt.Fprintf(stdout, "Created user %s; it connects Hooli as gavinBelson and HooliGov as bighead (always fails)\n", user.ID)
	link, err := c.Consents.URL(ctx, user.ID, &basiq.ConsentURLOptions{State: "demo"})
	if err != nil {
		return err
	}
	redirect, err := srv.CompleteConsent(link, basiqtest.WithConsentLogins(
		basiqtest.ConsentLogin{InstitutionID: "AU00000", LoginID: "gavinBelson", Password: "hooli2016"},
		basiqtest.ConsentLogin{InstitutionID: "AU00004", LoginID: "bighead", Password: "password"}))
	if err != nil {
		return err
	}
	u, err := url.Parse(redirect)
	if err != nil {
		return err
	}
	rd, err := basiq.ParseConsentRedirect(u)
	if err != nil {
		return err
	}
	// Job completion has no event: the app waits for its jobs.
	if _, err := c.Jobs.WaitAll(ctx, rd.JobIDs, &setup.Poll); err != nil {
		return err
	}

	// Wait until every message is delivered (the failed one's retry comes
	// 5 s after it).
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for pending(srv) {
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for deliveries: %w", ctx.Err())
		case <-tick.C:
		}
	}
	delivered := 0
	for _, m := range srv.WebhookMessages() {
		if m.Delivered {
			delivered++
		}
	}
	fmt.Fprintf(stdout, "\n%d message(s) delivered in %d POST(s): the first failed on purpose and came back 5 s later;\n"+
		"the receiver handled %d and dropped %d repeat(s) of a delivery it had already handled.\n",
		delivered, rx.deliveries.Load(), rx.callbacks.Load(), rx.deliveries.Load()-rx.callbacks.Load())
	return nil
}

// pending reports whether the fake still has deliveries to make.
func pending(srv *basiqtest.Server) bool {
	if _, ok := srv.NextWebhookAttempt(); ok {
		return true
	}
	for _, m := range srv.WebhookMessages() {
		if !m.Delivered && !m.GivenUp {
			return true
		}
	}
	return false
}

// serve runs the receiver on addr until ctx ends (Ctrl-C).
func serve(ctx context.Context, addr string, rx *receiver, stdout io.Writer) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("POST /", rx)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stdout, "Receiving on %s; Ctrl-C to stop (Basiq may take 15 minutes to start delivering)\n", l.Addr())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()
	select {
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
		return ctx.Err()
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return err
	}
}

// printer prints one line per event, in the order they are handled.
type printer struct {
	mu    sync.Mutex
	w     io.Writer
	start time.Time
}

func (p *printer) event(m webhook.Message, a *basiq.EventAdvice) {
	p.mu.Lock()
	defer p.mu.Unlock()
	todo := []string{}
	switch {
	case a.NeedsUserAction && a.Diagnosis != nil:
		d := a.Diagnosis
		todo = append(todo, fmt.Sprintf("%s: tell the user %q once for problem %s", d.Action, d.UserMessage, d.ProblemID))
		if d.Consent != nil {
			todo = append(todo, "then send them to the Consent UI ("+consentWhat(d.Consent)+")")
		}
	case a.Diagnosis != nil && a.Diagnosis.RemoveConnectionID != "":
		todo = append(todo, "delete connection "+a.Diagnosis.RemoveConnectionID+": the user has connected the bank again")
	case a.DeleteUserData:
		todo = append(todo, "delete or de-identify the user's data")
	case a.FetchTransactions:
		todo = append(todo, "read the new transactions of connection "+a.ConnectionID)
	case a.Consent != nil:
		todo = append(todo, "send the user to the Consent UI ("+consentWhat(a.Consent)+")")
	}
	line := a.Summary
	if len(todo) > 0 {
		line = strings.Join(todo, "; ")
	}
	fmt.Fprintf(p.w, "[%5.1fs] %-24s %s\n", time.Since(p.start).Seconds(), m.Type, line)
}

func consentWhat(o *basiq.ConsentURLOptions) string {
	switch {
	case o.ConnectionID != "":
		return "connection " + o.ConnectionID
	case o.InstitutionID != "":
		return fmt.Sprintf("action %s, institution %s", orDefault(o.Action), o.InstitutionID)
	}
	return "action " + orDefault(o.Action)
}

func orDefault(a basiq.ConsentAction) string {
	if a == basiq.ConsentDefault {
		return "default"
	}
	return string(a)
}
