// Command backend is the reference API 3.0 backend (app.go): sign-up, the
// consent link with its state, the callback that waits in the background,
// the webhook handler, and a health page with remedy links. Copy app.go and
// mount app.routes in your own server.
//
// It runs on the embedded fake (basiqtest) and plays a user through the app,
// printing the story: sign-up, consent to two banks, one failure, the notice,
// its remedy followed (in place, on the failed connection), the fix, and
// every connection healthy. It exits 0 when the story ends healthy, 3 when
// it does not:
//
//	go run ./examples/backend
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/banklink-go/basiq"
	"github.com/banklink-go/basiq/basiqtest"
	"github.com/banklink-go/basiq/examples/internal/demo"
	"github.com/banklink-go/basiq/webhook"
)

func main() { demo.Main("backend", run) }

func run(ctx context.Context, args []string, env func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 || demo.Live(env) {
		return fmt.Errorf("%w: no flags; the story runs on the fake only (mount app.routes in your server for the live API)", demo.ErrUsage)
	}
	setup, err := demo.StartVersion(env, stdout, 0.02, basiq.V3) // banks 50 times faster than real ones
	if err != nil {
		return err
	}
	defer setup.Close()
	stdout = demo.Locked(stdout) // the app's background work prints too
	a := newApp(setup.Client, slog.New(slog.DiscardHandler))
	a.poll = setup.Poll // poll intervals that suit the fake's sped-up banks
	notices := make(chan basiq.Diagnosis, 16)
	a.notify = func(userID string, d basiq.Diagnosis) {
		fmt.Fprintf(stdout, "  notice to the user: %q\n    (problem %s; remedy /fix?problem=%s)\n", d.UserMessage, d.ProblemID, d.ProblemID)
		notices <- d // a real app e-mails it
	}
	wh, err := a.c.Webhooks.Create(ctx, basiq.WebhookParams{URL: "https://app.example/basiq/webhooks"})
	if err != nil {
		return err
	}
	v, err := webhook.NewVerifier(string(wh.Secret))
	if err != nil {
		return errors.New("the webhook secret does not parse")
	}
	h := a.routes(v)
	setup.Fake.SetWebhookReceiver(h)
	return story(ctx, stdout, a, h, setup.Fake, notices)
}

// story plays a user through the app on the fake: sign-up, consent to two
// banks (one fails), the notice, its remedy, the fix, and health.
func story(ctx context.Context, w io.Writer, a *app, h http.Handler, fake *basiqtest.Server, notices chan basiq.Diagnosis) error {
	b := demo.NewBrowser(h, fake, w)
	visit := func(path string, logins ...basiqtest.ConsentLogin) error {
		if st, _, err := b.Consent(path, basiqtest.WithConsentLogins(logins...)); err != nil || st != http.StatusOK {
			return fmt.Errorf("%s: the return was refused (%d): %v", path, st, err)
		}
		for a.bg.Wait(); ; a.bg.Wait() { // the app's background waits, and the webhooks they bring
			if n, _ := fake.DeliverWebhooks(ctx); n == 0 {
				return nil
			}
		}
	}
	if st, _, _, err := b.Do(http.MethodPost, "/signup", url.Values{"email": {"gavin@hooli.com"}}); err != nil || st != http.StatusCreated {
		return fmt.Errorf("sign-up failed (%d): %v", st, err)
	}
	fmt.Fprintln(w, "Signed up gavin@hooli.com; the user connects Hooli (works) and HooliGov as bighead (fails).")
	if err := visit("/connect", basiqtest.ConsentLogin{InstitutionID: "AU00000", LoginID: "gavinBelson", Password: "hooli2016"},
		basiqtest.ConsentLogin{InstitutionID: "AU00004", LoginID: "bighead", Password: "password"}); err != nil {
		return err
	}
	for len(notices) > 0 {
		d := <-notices
		fmt.Fprintf(w, "The user sorts it out with the bank and follows the remedy for %s.\n", d.ProblemID)
		fake.SetLoginOutcome("bighead", basiqtest.Outcome{})
		if err := visit("/fix?problem="+url.QueryEscape(d.ProblemID), basiqtest.ConsentLogin{LoginID: "bighead", Password: "password"}); err != nil {
			return err
		}
	}
	_, _, body, err := b.Do(http.MethodGet, "/health", nil)
	fmt.Fprintf(w, "GET /health → %s\n", body)
	if err != nil || strings.Count(body, `"Status":"active","Problem":""`) != 2 {
		return fmt.Errorf("%w: not every connection is healthy (%v)", demo.ErrDiagnosed, err)
	}
	fmt.Fprintln(w, "Every connection is healthy; each problem was notified once.")
	return nil
}
