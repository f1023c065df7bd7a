package basiq_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/banklink-go/basiq"
	"github.com/banklink-go/basiq/basiqtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

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

// A TokenCache written as json.Marshal(tok) stores the redacted form: the
// client must not send "Bearer [REDACTED]", but mint a token and say why.
type jsonTokenCache struct{ m map[string][]byte }

func (c *jsonTokenCache) Get(_ context.Context, key string) (basiq.Token, bool, error) {
	b, ok := c.m[key]
	if !ok {
		return basiq.Token{}, false, nil
	}
	var tok basiq.Token
	err := json.Unmarshal(b, &tok)
	return tok, err == nil, err
}

func (c *jsonTokenCache) Set(_ context.Context, key string, tok basiq.Token) error {
	b, err := json.Marshal(tok)
	c.m[key] = b
	return err
}

func TestTokenCacheStoringRedactedTokensIsIgnored(t *testing.T) {
	srv := basiqtest.NewServer(basiqtest.InMemory())
	defer srv.Close()
	cache := &jsonTokenCache{m: map[string][]byte{}}
	var logs bytes.Buffer
	newClient := func() *basiq.Client {
		c, err := basiq.NewClient(srv.APIKey(), basiq.WithBaseURL(srv.URL), basiq.WithHTTPClient(srv.Client()),
			basiq.WithTokenCache(cache), basiq.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
		require.NoError(t, err)
		return c
	}
	_, err := newClient().Users.Create(t.Context(), basiq.UserParams{Email: "a@example.com"})
	require.NoError(t, err)
	tokens := srv.RequestCount("POST", "/token")
	_, err = newClient().Users.Create(t.Context(), basiq.UserParams{Email: "b@example.com"})
	require.NoError(t, err, "a second client did not send the redacted token")
	assert.Equal(t, tokens+1, srv.RequestCount("POST", "/token"), "it minted its own")
	assert.Contains(t, logs.String(), "redacted token")
}
