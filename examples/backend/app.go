package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/banklink-go/basiq"
	"github.com/banklink-go/basiq/webhook"
)

// app is a reference API 3.0 backend: sign-up, the consent link (with its
// state kept in the session), the callback (waits in the background), the
// webhook handler (Events.Advise), and a health page with remedy links. It
// follows the SDK's advice to the end: every remedy goes through
// Consents.Link, only jobs that succeeded are read, and each problem is
// notified once (by Diagnosis.ProblemID) whichever path reports it.
type app struct {
	c      *basiq.Client
	log    *slog.Logger
	notify func(userID string, d basiq.Diagnosis) // e-mail, push: the user may not be on the page
	wait   time.Duration                          // a background wait's timeout
	poll   basiq.PollOptions                      // intervals for those waits (zero: the SDK's defaults)

	mu       sync.Mutex
	sessions map[string]*session        // by the session cookie
	problems map[string]basiq.Diagnosis // notified, by ProblemID, until Health says healthy
	bg       sync.WaitGroup
}

func newApp(c *basiq.Client, log *slog.Logger) *app {
	return &app{c: c, log: log, wait: 10 * time.Minute, notify: func(string, basiq.Diagnosis) {},
		sessions: map[string]*session{}, problems: map[string]basiq.Diagnosis{}}
}

type session struct { // states: of the consent links handed out, each good for one return
	userID string
	states []string
}

func (a *app) routes(v *webhook.Verifier, opts ...webhook.HandlerOption) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /signup", a.signup)
	mux.HandleFunc("GET /connect", a.withUser(func(w http.ResponseWriter, r *http.Request, s *session) { a.sendToConsentUI(w, r, s, nil) }))
	mux.HandleFunc("GET /fix", a.withUser(a.fix))
	mux.HandleFunc("GET /basiq/callback", a.withUser(a.callback))
	mux.HandleFunc("GET /health", a.withUser(a.health))
	mux.Handle("POST /basiq/webhooks", webhook.Handler(v, a.onWebhook, opts...))
	return mux
}

// signup creates the Basiq user and a session (a cookie naming it).
func (a *app) signup(w http.ResponseWriter, r *http.Request) {
	u, err := a.c.Users.Create(r.Context(), basiq.UserParams{Email: r.FormValue("email")})
	if err != nil {
		http.Error(w, "could not sign you up", http.StatusBadGateway)
		return
	}
	sid := rand.Text() // the session id: random, never the user id
	a.mu.Lock()
	a.sessions[sid] = &session{userID: u.ID}
	a.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: "sid", Value: sid, HttpOnly: true, Secure: true, Path: "/"})
	w.WriteHeader(http.StatusCreated)
}

func (a *app) withUser(h func(http.ResponseWriter, *http.Request, *session)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var s *session
		if ck, err := r.Cookie("sid"); err == nil {
			a.mu.Lock()
			s = a.sessions[ck.Value]
			a.mu.Unlock()
		}
		if s == nil {
			http.Error(w, "sign up first", http.StatusUnauthorized)
			return
		}
		h(w, r, s)
	}
}

// sendToConsentUI makes a Consent UI link (its token lives an hour, so only
// now, as the user follows it), keeps its state, and redirects.
func (a *app) sendToConsentUI(w http.ResponseWriter, r *http.Request, s *session, opts *basiq.ConsentURLOptions) {
	link, err := a.c.Consents.Link(r.Context(), s.userID, opts)
	if err != nil {
		http.Error(w, "could not reach the bank connection service", http.StatusBadGateway)
		return
	}
	a.mu.Lock()
	s.states = append(s.states, link.State)
	a.mu.Unlock()
	http.Redirect(w, r, link.URL, http.StatusFound)
}

// fix follows a problem's remedy: the Consent UI on the failed connection,
// or, when no Consent UI is needed (the user cleared a message at the bank),
// a refresh.
func (a *app) fix(w http.ResponseWriter, r *http.Request, s *session) {
	a.mu.Lock()
	d, ok := a.problems[r.FormValue("problem")]
	if ok = ok && d.UserID == s.userID; ok {
		delete(a.problems, d.ProblemID) // followed: if the fix fails too, the user hears of it
	}
	a.mu.Unlock()
	switch {
	case !ok:
		http.Error(w, "no such problem", http.StatusNotFound)
	case d.Consent != nil:
		a.sendToConsentUI(w, r, s, d.Consent)
	default:
		a.refresh(r.Context(), s.userID, d.ConnectionID, 0)
		fmt.Fprintln(w, "Trying your bank again; we'll let you know how it goes.")
	}
}

// callback is the Redirect URL: check the state, answer at once, and wait
// for the jobs in the background (a job takes 20 s or more at a real bank).
func (a *app) callback(w http.ResponseWriter, r *http.Request, s *session) {
	rd, err := basiq.ParseConsentRedirect(r.URL)
	a.mu.Lock()
	i := slices.IndexFunc(s.states, rd.StateMatches)
	if i >= 0 {
		s.states = slices.Delete(s.states, i, i+1) // each link's state is good for one return
	}
	a.mu.Unlock()
	if err != nil || i < 0 {
		http.Error(w, "this link is not from your session", http.StatusBadRequest)
		return
	}
	if len(rd.JobIDs) == 0 {
		fmt.Fprintln(w, "You left without connecting a bank.")
		return
	}
	a.waitInBackground(s.userID, rd.JobIDs, basiq.OpCreate, 0)
	fmt.Fprintln(w, "Connecting your bank… we'll let you know when your data is in.")
}

// waitInBackground waits for the jobs; retry counts the app's own retries.
func (a *app) waitInBackground(userID string, jobIDs []string, op basiq.Operation, retry int) {
	a.bg.Go(func() {
		ctx, cancel := context.WithTimeout(context.Background(), a.wait)
		defer cancel()
		// Each outcome carries its own error (the ids are valid: ParseConsentRedirect checked them).
		opts := a.poll
		opts.UserID, opts.Operation, opts.Attempt = userID, op, retry+1 // only this user's jobs: the ids came through the browser
		outcomes, _ := a.c.Jobs.WaitAll(ctx, jobIDs, &opts)
		for _, o := range outcomes {
			if f, failed := o.Failed(); failed {
				a.act(ctx, f.Diagnosis, retry)
			} else if !o.Succeeded() { // timed out, refused, cancelled: not a success, and no data to read
				a.log.Warn("job did not finish; Health will tell", "job_id", o.JobID, "error", o.Err)
			} else {
				a.fetch(ctx, userID, o.Job.ConnectionID())
			}
		}
	})
}

// fetch reads a connection's data: only after a job that succeeded, or a
// transactions.updated event.
func (a *app) fetch(ctx context.Context, userID, connID string) {
	accts, err := a.c.Accounts.List(ctx, userID, &basiq.AccountFilter{ConnectionID: connID})
	n := 0
	for _, err = range a.c.Transactions.All(ctx, userID, &basiq.TransactionFilter{ConnectionID: connID}) {
		if err != nil {
			break
		}
		n++ // a real app stores them (see Transactions.Sync)
	}
	a.log.Info("data read", "connection_id", connID, "accounts", len(accts), "transactions", n, "error", err)
}

// act does what a failure's Diagnosis says: delete a connection a new one
// replaced, tell the user once per problem (and again if the advice changes,
// as when retries escalate to support), and retry when nobody else will
// (retry > 0: d is the failure of the app's own retry number retry).
func (a *app) act(ctx context.Context, d basiq.Diagnosis, retry int) {
	if d.RemoveConnectionID != "" {
		if err := a.c.Connections.Delete(ctx, d.UserID, d.RemoveConnectionID); err != nil {
			a.log.Warn("deleting a replaced connection", "connection_id", d.RemoveConnectionID, "error", err)
		}
		return
	}
	a.mu.Lock()
	told := a.problems[d.ProblemID].Action == d.Action // a new action (an escalation) is told too
	a.problems[d.ProblemID] = d
	a.mu.Unlock()
	if !told {
		a.notify(d.UserID, d)
	}
	if (!told || retry > 0) && d.Consent == nil && (d.Action == basiq.ActionRetryLater || d.Action == basiq.ActionWaitForInstitution) {
		// Nobody else retries; from the 3rd attempt the Diagnosis says contact-support. A real app queues this.
		time.AfterFunc(d.RetryAfter, func() { a.refresh(context.Background(), d.UserID, d.ConnectionID, retry+1) })
	}
}

func (a *app) refresh(ctx context.Context, userID, connID string, retry int) {
	if job, err := a.c.Connections.Refresh(ctx, userID, connID); err != nil {
		a.log.Warn("refresh", "connection_id", connID, "error", err)
	} else {
		a.waitInBackground(userID, []string{job.ID}, basiq.OpRefresh, retry)
	}
}

// onWebhook handles a delivery quickly: the event, what to do about it.
func (a *app) onWebhook(ctx context.Context, m webhook.Message) error {
	ev, err := a.c.Events.Get(ctx, m.EventURL)
	if err != nil {
		return err // 5xx: Basiq delivers it again later
	}
	advice, err := a.c.Events.Advise(ctx, ev)
	switch {
	case err != nil:
		return err
	case advice.Diagnosis != nil:
		a.act(ctx, *advice.Diagnosis, 0)
	case advice.FetchTransactions:
		a.bg.Go(func() { a.fetch(context.WithoutCancel(ctx), ev.UserID, advice.ConnectionID) })
	case advice.DeleteUserData:
		a.log.Info("delete the user's data", "user_id", ev.UserID)
	}
	return nil
}

// health is the page a user sees at login: each connection, its problem and
// the link that fixes it. It forgets the problems of connections that are
// healthy again.
func (a *app) health(w http.ResponseWriter, r *http.Request, s *session) {
	hs, err := a.c.Connections.Health(r.Context(), s.userID)
	if err != nil {
		http.Error(w, "could not check your banks", http.StatusBadGateway)
		return
	}
	type row struct{ Connection, Status, Problem, Message, Fix string }
	var rows []row
	for _, h := range hs {
		x := row{Connection: h.Connection.ID, Status: string(h.Connection.Status)}
		switch d := h.Diagnosis; {
		case d != nil && !h.Refreshing:
			a.act(r.Context(), *d, 0)
			x.Problem, x.Message = d.ProblemID, d.UserMessage
			if h.NeedsUserAction {
				x.Fix = "/fix?problem=" + url.QueryEscape(d.ProblemID)
			}
		case !h.Refreshing && h.Connection.Status == basiq.ConnectionActive: // healthy: forget its problems
			a.mu.Lock()
			maps.DeleteFunc(a.problems, func(_ string, d basiq.Diagnosis) bool { return d.ConnectionID == h.Connection.ID })
			a.mu.Unlock()
		}
		rows = append(rows, x)
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(rows)
}
