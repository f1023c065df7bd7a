package basiq_test

// Hardening: bad input. Ids never change the requested path (they are escaped
// or rejected with ErrInvalidInput before any request), nil options are
// harmless, a base URL keeps its path prefix, plain http is refused except on
// loopback, and response bodies are read with a limit.

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/banklink-go/basiq"
	"github.com/banklink-go/basiq/basiqtest"
)

// hardBadIDs are the ids of the issue, with the escaped path segment each
// must become, or "" when it must be rejected before any request.
var hardBadIDs = []struct{ id, escaped string }{
	{"", ""},
	{"/", "%2F"},
	{"a/b", "a%2Fb"},
	{"..", ""},
	{".", ""},
	{"?x", "%3Fx"},
	{"#x", "%23x"},
	{"a b", "a%20b"},
	{"ü", "%C3%BC"},
	{"\x00", ""},
	{"\n", ""},
	// and a few more of the same kind
	{"../users", "..%2Fusers"},
	{"%2F", "%252F"},
	{"a;b", "a%3Bb"},
	{"\t", ""},
	{"\u2028", "%E2%80%A8"},
	{strings.Repeat("x", 257), ""},
}

func TestHardIDsNeverChangeThePath(t *testing.T) {
	type call struct {
		name   string
		method string
		route  string                    // the fake's route the request must land on
		path   func(u, id string) string // the escaped path it must have, for a user id u
		do     func(ctx context.Context, c *basiq.Client, u, id string) error
	}
	calls := []call{
		{"Jobs.Get", "GET", hardRouteJob, func(_, id string) string { return "/jobs/" + id },
			func(ctx context.Context, c *basiq.Client, _, id string) error {
				_, err := c.Jobs.Get(ctx, id)
				return err
			}},
		{"Jobs.Wait", "GET", hardRouteJob, func(_, id string) string { return "/jobs/" + id },
			func(ctx context.Context, c *basiq.Client, _, id string) error {
				_, err := c.Jobs.Wait(ctx, id, nil)
				return err
			}},
		{"Jobs.Poller.Wait", "GET", hardRouteJob, func(_, id string) string { return "/jobs/" + id },
			func(ctx context.Context, c *basiq.Client, _, id string) error {
				_, err := c.Jobs.Poller(id, nil).Wait(ctx)
				return err
			}},
		{"Jobs.SubmitMFA", "POST", "/jobs/{jobId}/mfa", func(_, id string) string { return "/jobs/" + id + "/mfa" },
			func(ctx context.Context, c *basiq.Client, u, id string) error {
				_, err := c.Jobs.SubmitMFA(ctx, u, id, []string{"1234"})
				return err
			}},
		{"Jobs.List", "GET", "/users/{userId}/jobs", func(_, id string) string { return "/users/" + id + "/jobs" },
			func(ctx context.Context, c *basiq.Client, _, id string) error {
				_, err := c.Jobs.List(ctx, id, nil)
				return err
			}},
		{"Users.Get", "GET", "/users/{userId}", func(_, id string) string { return "/users/" + id },
			func(ctx context.Context, c *basiq.Client, _, id string) error {
				_, err := c.Users.Get(ctx, id)
				return err
			}},
		{"Users.Delete", "DELETE", "/users/{userId}", func(_, id string) string { return "/users/" + id },
			func(ctx context.Context, c *basiq.Client, _, id string) error { return c.Users.Delete(ctx, id) }},
		{"Connections.Get", "GET", hardRouteConnection, func(u, id string) string { return "/users/" + u + "/connections/" + id },
			func(ctx context.Context, c *basiq.Client, u, id string) error {
				_, err := c.Connections.Get(ctx, u, id)
				return err
			}},
		{"Connections.Delete(user id)", "DELETE", hardRouteConnection, func(_, id string) string { return "/users/" + id + "/connections/c1" },
			func(ctx context.Context, c *basiq.Client, _, id string) error {
				return c.Connections.Delete(ctx, id, "c1")
			}},
		{"Connections.Refresh", "POST", "/users/{userId}/connections/{connectionId}/refresh",
			func(u, id string) string { return "/users/" + u + "/connections/" + id + "/refresh" },
			func(ctx context.Context, c *basiq.Client, u, id string) error {
				_, err := c.Connections.Refresh(ctx, u, id)
				return err
			}},
		{"Connections.Update", "POST", hardRouteConnection, func(u, id string) string { return "/users/" + u + "/connections/" + id },
			func(ctx context.Context, c *basiq.Client, u, id string) error {
				_, err := c.Connections.Update(ctx, u, id, basiq.CredentialsUpdate{Password: "new-password"})
				return err
			}},
		{"Connections.RefreshAll", "POST", "/users/{userId}/connections/refresh", func(_, id string) string { return "/users/" + id + "/connections/refresh" },
			func(ctx context.Context, c *basiq.Client, _, id string) error {
				_, err := c.Connections.RefreshAll(ctx, id)
				return err
			}},
		{"Institutions.Get", "GET", "/institutions/{institutionId}", func(_, id string) string { return "/institutions/" + id },
			func(ctx context.Context, c *basiq.Client, _, id string) error {
				_, err := c.Institutions.Get(ctx, id)
				return err
			}},
		{"Connectors.Get", "GET", "/connectors/{connectorId}/{method}", func(_, id string) string { return "/connectors/" + id + "/web" },
			func(ctx context.Context, c *basiq.Client, _, id string) error {
				_, err := c.Connectors.Get(ctx, id, "web")
				return err
			}},
		{"Accounts.Get", "GET", "/users/{userId}/accounts/{accountId}", func(u, id string) string { return "/users/" + u + "/accounts/" + id },
			func(ctx context.Context, c *basiq.Client, u, id string) error {
				_, err := c.Accounts.Get(ctx, u, id)
				return err
			}},
		{"Transactions.Get", "GET", "/users/{userId}/transactions/{transactionId}", func(u, id string) string { return "/users/" + u + "/transactions/" + id },
			func(ctx context.Context, c *basiq.Client, u, id string) error {
				_, err := c.Transactions.Get(ctx, u, id)
				return err
			}},
	}
	for _, cl := range calls {
		t.Run(cl.name, func(t *testing.T) {
			hardBubble(t, func(t *testing.T) {
				e := hardSetup(t, nil, nil)
				for _, tc := range hardBadIDs {
					e.srv.ResetCounters()
					e.rec.reset()
					err := cl.do(t.Context(), e.c, e.userID, tc.id)
					recs := e.rec.records(false)
					if tc.escaped == "" {
						if !errors.Is(err, basiq.ErrInvalidInput) {
							t.Errorf("id %q: error %v, want ErrInvalidInput", tc.id, err)
						}
						if len(recs) != 0 || len(e.srv.Requests()) != 0 {
							t.Errorf("id %q: %d requests sent, want none", tc.id, len(recs))
						}
						continue
					}
					want := cl.path(e.userID, tc.escaped)
					if len(recs) != 1 {
						t.Errorf("id %q: %d requests sent, want 1: %+v", tc.id, len(recs), recs)
						continue
					}
					if recs[0].EscapedPath != want || recs[0].RawQuery != "" || recs[0].Method != cl.method {
						t.Errorf("id %q: sent %s %s?%s, want %s %s", tc.id, recs[0].Method, recs[0].EscapedPath, recs[0].RawQuery, cl.method, want)
					}
					if n := e.srv.RequestCount(cl.method, cl.route); n != 1 {
						t.Errorf("id %q: the fake routed %d requests to %s %s, want 1 (log %+v)", tc.id, n, cl.method, cl.route, e.srv.Requests())
					}
					// The fake knows no such resource: a typed API error, never a transport one.
					var apiErr *basiq.APIError
					if !errors.As(err, &apiErr) || apiErr.StatusCode < 400 || apiErr.StatusCode >= 500 {
						t.Errorf("id %q: error %v (%T), want a 4xx *APIError", tc.id, err, err)
					}
				}
			})
		})
	}
}

func TestHardFilterValuesStayInTheQuery(t *testing.T) {
	hardBubble(t, func(t *testing.T) {
		e := hardSetup(t, nil, nil)
		ctx := t.Context()
		for _, bad := range []string{"a'b", `a\b`} {
			_, err := e.c.Jobs.List(ctx, e.userID, &basiq.JobFilter{ConnectionID: bad})
			if !errors.Is(err, basiq.ErrInvalidInput) {
				t.Errorf("filter %q: error %v, want ErrInvalidInput", bad, err)
			}
			_, err = e.c.Connections.List(ctx, e.userID, &basiq.ConnectionFilter{InstitutionID: bad})
			if !errors.Is(err, basiq.ErrInvalidInput) {
				t.Errorf("filter %q: error %v, want ErrInvalidInput", bad, err)
			}
		}
		if n := len(e.rec.records(true)); n != 0 {
			t.Fatalf("%d requests sent for rejected filters", n)
		}
		sneaky := "x&filter=user.id.eq(other)#/../?a=b"
		if _, err := e.c.Jobs.List(ctx, e.userID, &basiq.JobFilter{ConnectionID: sneaky}); err != nil {
			t.Fatalf("Jobs.List: %v", err)
		}
		log := hardLog(e.srv, http.MethodGet, "/users/{userId}/jobs")
		if len(log) != 1 {
			t.Fatalf("%d list requests, want 1", len(log))
		}
		if got, want := log[0].Query["filter"], []string{"connection.id.eq('" + sneaky + "')"}; len(got) != 1 || got[0] != want[0] {
			t.Errorf("filter query %q, want exactly %q", got, want)
		}
		if log[0].Path != "/users/"+e.userID+"/jobs" {
			t.Errorf("path %q changed by a filter value", log[0].Path)
		}
	})
}

func TestHardNilOptions(t *testing.T) {
	hardBubble(t, func(t *testing.T) {
		srv := hardServer(t, basiqtest.WithTimeScale(0))
		rec := &hardRecorder{next: srv.Transport()}
		c, err := basiq.NewClient(srv.APIKey(), nil, basiq.WithBaseURL(srv.URL), nil,
			basiq.WithHTTPClient(&http.Client{Transport: rec}), basiq.WithAPIVersion(basiq.V2_1), basiq.WithLogger(nil), nil)
		if err != nil {
			t.Fatalf("NewClient with nil options: %v", err)
		}
		ctx := t.Context()
		user, err := c.Users.Create(ctx, basiq.UserParams{Email: "nil@example.com"})
		if err != nil {
			t.Fatal(err)
		}
		job, err := c.Connections.Create(ctx, user.ID, basiq.Credentials{InstitutionID: "AU00000", LoginID: "gavinBelson", Password: "hooli2016"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Jobs.Wait(ctx, job.ID, nil); err != nil {
			t.Errorf("Jobs.Wait(nil options): %v", err)
		}
		p := c.Jobs.Poller(job.ID, nil)
		if _, err := p.Wait(ctx); err != nil {
			t.Errorf("Poller(nil options).Wait: %v", err)
		}
		steps := 0
		for _, err := range c.Jobs.Poller(job.ID, nil).Steps(ctx) {
			if err != nil {
				t.Errorf("Steps: %v", err)
			}
			steps++
		}
		if steps != 3 {
			t.Errorf("Steps yielded %d events for a finished 3-step job, want 3", steps)
		}
		tok, err := p.ResumeToken()
		if err != nil {
			t.Fatal(err)
		}
		rp, err := c.Jobs.ResumePoller(tok, nil)
		if err != nil {
			t.Fatalf("ResumePoller(nil options): %v", err)
		}
		if _, err := rp.Wait(ctx); err != nil || rp.JobID() != job.ID {
			t.Errorf("resumed Wait: %v (job %q)", err, rp.JobID())
		}
		if _, err := c.Jobs.List(ctx, user.ID, nil); err != nil {
			t.Errorf("Jobs.List(nil filter): %v", err)
		}
		if _, err := c.Connections.List(ctx, user.ID, nil); err != nil {
			t.Errorf("Connections.List(nil filter): %v", err)
		}
		if list, err := c.Institutions.List(ctx, nil); err != nil || len(list) == 0 {
			t.Errorf("Institutions.List(nil filter): %d, %v", len(list), err)
		}
		if list, err := c.Connectors.List(ctx, nil); err != nil || len(list) == 0 {
			t.Errorf("Connectors.List(nil filter): %d, %v", len(list), err)
		}
		if d := basiq.Diagnose(nil, basiq.DiagnoseOptions{}); d.Action != basiq.ActionNone {
			t.Errorf("Diagnose(nil) = %v", d.Action)
		}
		for _, r := range rec.records(false) {
			if r.RawQuery != "" {
				t.Errorf("%s %s sent query %q with nil options", r.Method, r.EscapedPath, r.RawQuery)
			}
		}
		for _, route := range []string{"/users/{userId}/jobs", "/users/{userId}/connections", "/institutions", "/connectors"} {
			hardWantCount(t, srv, http.MethodGet, route, 1)
		}

		// Options that would be unusable are rejected.
		for name, opt := range map[string]basiq.Option{
			"WithHTTPClient(nil)":      basiq.WithHTTPClient(nil),
			"WithTokenCache(nil)":      basiq.WithTokenCache(nil),
			"WithRetryPolicy(-1)":      basiq.WithRetryPolicy(basiq.RetryPolicy{MaxAttempts: -1}),
			"WithAPIVersion(9)":        basiq.WithAPIVersion("9.0"),
			"WithUserAgent(CRLF)":      basiq.WithUserAgent("x\r\nX-Injected: 1"),
			"WithTokenRefreshBefore<0": basiq.WithTokenRefreshBefore(-time.Second),
		} {
			if _, err := basiq.NewClient(srv.APIKey(), opt); !errors.Is(err, basiq.ErrInvalidInput) {
				t.Errorf("NewClient(%s): %v, want ErrInvalidInput", name, err)
			}
		}
	})
}

// A nil context is a caller's mistake: ErrInvalidInput and no request, never a panic.
func TestHardNilContext(t *testing.T) {
	hardBubble(t, func(t *testing.T) {
		e := hardSetup(t, nil, nil)
		var nilCtx context.Context
		u, j := e.userID, e.jobID
		calls := map[string]func() error{
			"Token":          func() error { _, err := e.c.Token(nilCtx); return err },
			"ClientToken":    func() error { _, err := e.c.ClientToken(nilCtx, u); return err },
			"Users.Create":   func() error { _, err := e.c.Users.Create(nilCtx, basiq.UserParams{Email: "a@b.c"}); return err },
			"Users.Get":      func() error { _, err := e.c.Users.Get(nilCtx, u); return err },
			"Jobs.Get":       func() error { _, err := e.c.Jobs.Get(nilCtx, j); return err },
			"Jobs.List":      func() error { _, err := e.c.Jobs.List(nilCtx, u, nil); return err },
			"Jobs.Wait":      func() error { _, err := e.c.Jobs.Wait(nilCtx, j, nil); return err },
			"Jobs.SubmitMFA": func() error { _, err := e.c.Jobs.SubmitMFA(nilCtx, u, j, []string{"1"}); return err },
			"Poller.Wait":    func() error { _, err := e.c.Jobs.Poller(j, nil).Wait(nilCtx); return err },
			"Poller.WaitForStep": func() error {
				_, err := e.c.Jobs.Poller(j, nil).WaitForStep(nilCtx, basiq.StepVerifyCredentials)
				return err
			},
			"Poller.Poll": func() error { _, err := e.c.Jobs.Poller(j, nil).Poll(nilCtx); return err },
			"Poller.Steps": func() error {
				var last error
				for _, err := range e.c.Jobs.Poller(j, nil).Steps(nilCtx) {
					last = err
				}
				return last
			},
			"Connections.Create": func() error {
				_, err := e.c.Connections.Create(nilCtx, u, basiq.Credentials{InstitutionID: "AU00000", LoginID: "a", Password: "b"})
				return err
			},
			"Connections.Get":            func() error { _, err := e.c.Connections.Get(nilCtx, u, "c"); return err },
			"Connections.RefreshIfStale": func() error { _, err := e.c.Connections.RefreshIfStale(nilCtx, u, "c", time.Hour); return err },
			"Connections.Health":         func() error { _, err := e.c.Connections.Health(nilCtx, u); return err },
			"Institutions.Availability":  func() error { _, err := e.c.Institutions.Availability(nilCtx, "AU00000"); return err },
			"Institutions.List":          func() error { _, err := e.c.Institutions.List(nilCtx, nil); return err },
		}
		for name, call := range calls {
			var err error
			func() {
				defer func() {
					if v := recover(); v != nil {
						t.Errorf("%s(nil ctx) panicked: %v", name, v)
					}
				}()
				err = call()
			}()
			if !errors.Is(err, basiq.ErrInvalidInput) {
				t.Errorf("%s(nil ctx): error %v, want ErrInvalidInput", name, err)
			}
		}
		if recs := e.rec.records(true); len(recs) != 0 {
			t.Errorf("%d requests sent with a nil context: %+v", len(recs), recs)
		}
	})
}

// The base URL's path prefix is kept on every request, token included, and
// escaped ids stay escaped below it. The fake runs behind http.StripPrefix on
// a loopback httptest server.
func TestHardBaseURLWithPathPrefix(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	srv := basiqtest.NewServer(basiqtest.InMemory(), basiqtest.WithTimeScale(0))
	defer srv.Close()
	var mu sync.Mutex
	var paths, outside []string
	mux := http.NewServeMux()
	mux.Handle("/basiq/", http.StripPrefix("/basiq", srv.Handler()))
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		if strings.HasPrefix(r.URL.EscapedPath(), "/basiq/") {
			paths = append(paths, r.URL.EscapedPath())
		} else {
			outside = append(outside, r.URL.EscapedPath())
		}
		mu.Unlock()
		mux.ServeHTTP(w, r)
	}))
	defer ts.Close()
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()

	for _, base := range []string{ts.URL + "/basiq", ts.URL + "/basiq/"} {
		mu.Lock()
		paths, outside = nil, nil
		mu.Unlock()
		c, err := basiq.NewClient(srv.APIKey(), basiq.WithBaseURL(base), basiq.WithHTTPClient(&http.Client{Transport: tr, Timeout: 10 * time.Second}),
			basiq.WithAPIVersion(basiq.V2_1))
		if err != nil {
			t.Fatalf("NewClient(%s): %v", base, err)
		}
		ctx := context.Background()
		user, err := c.Users.Create(ctx, basiq.UserParams{Email: "prefix@example.com"})
		if err != nil {
			t.Fatalf("Users.Create through %s: %v", base, err)
		}
		job, err := c.Connections.Create(ctx, user.ID, basiq.Credentials{InstitutionID: "AU00000", LoginID: "gavinBelson", Password: "hooli2016"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Jobs.Wait(ctx, job.ID, nil); err != nil {
			t.Fatal(err)
		}
		var apiErr *basiq.APIError
		if _, err := c.Jobs.Get(ctx, "a/b"); !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusBadRequest {
			t.Errorf("Jobs.Get(a/b): %v, want the fake's 400 for a malformed job id", err)
		}
		mu.Lock()
		want := []string{"/basiq/token", "/basiq/users", "/basiq/users/" + user.ID + "/connections", "/basiq/jobs/" + job.ID}
		for _, w := range want {
			found := false
			for _, p := range paths {
				found = found || p == w
			}
			if !found {
				t.Errorf("base %s: no request to %s in %q", base, w, paths)
			}
		}
		if last := paths[len(paths)-1]; last != "/basiq/jobs/a%2Fb" {
			t.Errorf("base %s: the escaped id arrived as %s, want /basiq/jobs/a%%2Fb", base, last)
		}
		if len(outside) != 0 {
			t.Errorf("base %s: requests outside the prefix: %q", base, outside)
		}
		mu.Unlock()
	}
	tr.CloseIdleConnections()
}

func TestHardBaseURLMustBeHTTPS(t *testing.T) {
	const secret = "hunter2-base-url"
	rejected := []string{
		"http://example.com",
		"http://au-api.basiq.io",
		"http://10.0.0.1:8080",
		"http://192.168.1.10",
		"http://localhost.example.com",
		"http://127.0.0.1.nip.io",
		"http://0.0.0.0:8080",
		"ftp://127.0.0.1",
		"ws://localhost",
		"javascript:alert(1)",
		"https://",
		"https:///path",
		"au-api.basiq.io",
		"//au-api.basiq.io",
		"https://user:" + secret + "@au-api.basiq.io",
		"https://au-api.basiq.io?token=" + secret,
		"https://au-api.basiq.io/#" + secret,
		"https://user:" + secret + "@au api.basiq.io",
		"http://user:" + secret + "@example.com",
		"https://au-api.basiq.io/%zz" + secret,
		"",
	}
	for _, u := range rejected {
		c, err := basiq.NewClient("a2V5", basiq.WithBaseURL(u))
		if !errors.Is(err, basiq.ErrInvalidInput) || c != nil {
			t.Errorf("WithBaseURL(%q): client %v, error %v; want ErrInvalidInput", u, c, err)
			continue
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("WithBaseURL(%q): the error repeats a secret: %v", u, err)
		}
	}
	for _, u := range []string{
		"https://au-api.basiq.io", "https://proxy.example.com/basiq/", "http://127.0.0.1:8080",
		"http://localhost:1", "http://LOCALHOST", "http://[::1]:9000/api", "http://127.255.0.1",
	} {
		if _, err := basiq.NewClient("a2V5", basiq.WithBaseURL(u)); err != nil {
			t.Errorf("WithBaseURL(%q): %v", u, err)
		}
	}
}

// hardBigBody is a JSON object of exactly n bytes.
func hardBigBody(n int) io.Reader {
	head, tail := `{"type":"job","id":"big","pad":"`, `"}`
	return io.MultiReader(strings.NewReader(head), io.LimitReader(hardRepeat('x'), int64(n-len(head)-len(tail))), strings.NewReader(tail))
}

type hardRepeat byte

func (r hardRepeat) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(r)
	}
	return len(p), nil
}

func TestHardResponseBodyLimit(t *testing.T) {
	const limit = 10 << 20
	for _, tc := range []struct {
		name   string
		method string
		status int
		size   int
		ok     bool
	}{
		{"GET 200 at the limit", "GET", 200, limit, true},
		{"GET 200 one byte over", "GET", 200, limit + 1, false},
		{"GET 200 far over", "GET", 200, 64 << 20, false},
		{"POST 202 over", "POST", 202, limit + 1, false},
		{"GET 404 over", "GET", 404, limit + 1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hardBubble(t, func(t *testing.T) {
				e := hardSetup(t, nil, nil)
				attempts := 0
				e.rec.before = func(req *http.Request) (*http.Response, error, bool) {
					if strings.HasPrefix(req.URL.Path, "/jobs/") || strings.HasSuffix(req.URL.Path, "/refresh") {
						attempts++
						return &http.Response{StatusCode: tc.status, Header: http.Header{"Content-Type": {"application/json"}},
							Body: io.NopCloser(hardBigBody(tc.size)), Request: req}, nil, true
					}
					return nil, nil, false
				}
				var err error
				if tc.method == "GET" {
					var job *basiq.Job
					job, err = e.c.Jobs.Get(t.Context(), "big")
					if tc.ok && (err != nil || job.ID != "big") {
						t.Fatalf("Jobs.Get of a body at the limit: %v", err)
					}
				} else {
					_, err = e.c.Connections.Refresh(t.Context(), e.userID, "big")
				}
				if tc.ok {
					return
				}
				if !errors.Is(err, basiq.ErrResponseTooLarge) {
					t.Fatalf("error %v, want ErrResponseTooLarge", err)
				}
				if len(err.Error()) > 512 {
					t.Errorf("error message is %d bytes long", len(err.Error()))
				}
				if attempts != 1 {
					t.Errorf("%d attempts, want 1: an oversized body is not retried", attempts)
				}
			})
		})
	}
}
