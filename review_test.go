package basiq

// Regression tests for what a hostile review of Part 2 found: each fails
// without its fix.

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// followingTransport is a caller's RoundTripper that is itself an HTTP
// client, following redirects inside the transport.
type followingTransport struct{ hc *http.Client }

func (f followingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	out := r.Clone(r.Context())
	out.RequestURI = ""
	return f.hc.Do(out)
}

func TestTransportThatFollowsRedirectsIsRefused(t *testing.T) {
	target := newRedirectTarget(t)
	api := httptest.NewServer(tokenAndRedirect(http.StatusTemporaryRedirect, target.srv.URL))
	defer api.Close()
	c, err := NewClient("a2V5OnNlY3JldA==", WithBaseURL(api.URL), WithAPIVersion(V2_1),
		WithHTTPClient(&http.Client{Transport: followingTransport{hc: &http.Client{}}}))
	require.NoError(t, err)
	job, err := c.Connections.Create(t.Context(), "user-1", Credentials{InstitutionID: "AU00000", LoginID: "gavin", Password: "hunter2"})
	assert.Nil(t, job, "another host's answer is never reported as the connection")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "followed a redirect")
	assert.LessOrEqual(t, target.hits.Load(), int64(1), "never re-sent: the transport's own policy sent it once")
}

func TestTransportErrorsCarryNoURL(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close()) // nothing listens: every request fails to connect
	var logs bytes.Buffer
	c, err := NewClient("a2V5OnNlY3JldA==", WithBaseURL("http://"+addr), WithRetryPolicy(RetryPolicy{MaxAttempts: 2, MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond}),
		WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	require.NoError(t, err)
	c.tokens.store(authServer, "", Token{AccessToken: "tok", ExpiresAt: time.Now().Add(time.Hour)})
	err = c.Do(t.Context(), &Request{Method: http.MethodGet, Path: "/users/u-1/statements/PATH-SECRET-ID",
		Query: map[string][]string{"code": {"QUERY-SECRET"}}}, nil)
	require.Error(t, err)
	for _, out := range []string{err.Error(), logs.String()} {
		assert.NotContains(t, out, "QUERY-SECRET")
		assert.NotContains(t, out, "PATH-SECRET-ID")
	}
	assert.Contains(t, err.Error(), "connection refused", "the cause is kept")
}

func TestMemoryTokenCacheHeldByValueFormatsNoToken(t *testing.T) {
	app := struct{ Cache MemoryTokenCache }{}
	require.NoError(t, app.Cache.Set(t.Context(), "k", Token{AccessToken: "SECRET-ACCESS-TOKEN", ExpiresAt: time.Now().Add(time.Hour)}))
	out := fmt.Sprintf("%v|%+v|%#v", &app, &app, &app)
	assert.NotContains(t, out, "SECRET-ACCESS-TOKEN")
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("m", "app", &app)
	assert.NotContains(t, buf.String(), "SECRET-ACCESS-TOKEN")
}

func TestWebhookLoggedWithoutSecret(t *testing.T) {
	w := Webhook{ID: "w-1", URL: "https://app.example/hook", Secret: "whsec_SECRETSECRET", SubscribedEvents: []EventType{EventUserCreated}}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("created", "webhook", w, "ptr", &w)
	assert.NotContains(t, buf.String(), "SECRETSECRET")
	assert.Contains(t, buf.String(), `"id":"w-1"`)
}

func TestDeleteAfterThrottlingThen404IsAnError(t *testing.T) {
	for _, tc := range []struct {
		first     int
		wantError bool
	}{{http.StatusTooManyRequests, true}, {http.StatusServiceUnavailable, false}} {
		t.Run(fmt.Sprint(tc.first), func(t *testing.T) {
			a := newCoreAPI(t)
			c := newCoreClient(t, a)
			n := 0
			a.handleFunc("DELETE", "/users/"+consentUser+"/consents/typo", func(*http.Request) (*http.Response, error) {
				if n++; n == 1 {
					return coreJSON(tc.first, coreEnvelope("x", "x", "x")), nil
				}
				return coreJSON(404, coreEnvelope("resource-not-found", "Not found", "Consent not found")), nil
			})
			err := c.Consents.Revoke(t.Context(), consentUser, "typo")
			if tc.wantError {
				assert.ErrorIs(t, err, ErrNotFound, "a throttled attempt deleted nothing: the consent never existed")
			} else {
				assert.NoError(t, err, "the 503'd attempt may have deleted it")
			}
		})
	}
}

func TestOneOddMemberDoesNotFailAList(t *testing.T) {
	a := newCoreAPI(t)
	c := newCoreClient(t, a)
	a.handle("GET", "/institutions", 200, `{"type":"list","data":[{"id":"AU1","name":"One","tier":4},{"id":"AU2","name":"Two","tier":"1"}]}`)
	insts, err := c.Institutions.List(t.Context(), nil)
	require.NoError(t, err)
	require.Len(t, insts, 2)
	assert.Equal(t, "Two", insts[1].Name)
	assert.Equal(t, "1", insts[1].Tier)

	a.handle("GET", "/users/u/consents", 200, `{"type":"list","data":[{"id":"c1","status":"active","purpose":{"primary":"Budgeting"}},{"id":"c2","status":"revoked"}]}`)
	consents, err := c.Consents.List(t.Context(), "u")
	require.NoError(t, err)
	require.Len(t, consents, 2)
	assert.Equal(t, ConsentRevoked, consents[1].Status)

	// The event shape of Basiq's own GET /events schema: links as an array.
	a.handle("GET", "/events", 200, `{"type":"list","data":[{"type":"event","id":"e1","entity":"consent","eventType":"revoked",`+
		`"userId":"u","links":[{"self":"https://au-api.basiq.io/events/e1"}]},{"type":"event","id":"e2","entity":"user","eventType":"created","links":{"self":"x"}}]}`)
	var got []Event
	for ev, err := range c.Events.All(t.Context(), nil) {
		require.NoError(t, err)
		got = append(got, ev)
	}
	require.Len(t, got, 2)
	assert.Equal(t, EventConsentRevoked, got[0].Type)
	assert.Equal(t, "https://au-api.basiq.io/events/e1", got[0].Self)

	a.handle("GET", "/jobs/j1", 200, `{"type":"job","id":"j1","steps":"not-a-list"}`)
	_, err = c.Jobs.Get(t.Context(), "j1")
	assert.Error(t, err, "a job whose steps cannot be read is no job")
	a.handle("GET", "/jobs/j2", 200, `[1,2]`)
	_, err = c.Jobs.Get(t.Context(), "j2")
	assert.Error(t, err, "a document of the wrong type as a whole is an error")
}

func TestFlightAbandonedWhenEveryCallerLeaves(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var f flights[int]
		var cancelled atomic.Bool
		started := make(chan struct{})
		call := func(ctx context.Context) (int, error) {
			return f.do(ctx, "k", time.Hour, func(fctx context.Context) (int, error) {
				close(started)
				<-fctx.Done()
				cancelled.Store(true)
				return 0, fctx.Err()
			})
		}
		ctx1, cancel1 := context.WithTimeout(t.Context(), time.Second)
		defer cancel1()
		ctx2, cancel2 := context.WithTimeout(t.Context(), 3*time.Second)
		defer cancel2()
		errs := make(chan error, 2)
		go func() { _, err := call(ctx1); errs <- err }()
		<-started
		go func() { _, err := call(ctx2); errs <- err }()
		assert.ErrorIs(t, <-errs, context.DeadlineExceeded)
		synctest.Wait()
		assert.False(t, cancelled.Load(), "one caller leaving fails nobody else")
		assert.ErrorIs(t, <-errs, context.DeadlineExceeded)
		synctest.Wait()
		assert.True(t, cancelled.Load(), "the last caller leaving abandons the call")

		done, cancel := context.WithCancel(t.Context())
		cancel()
		ran := false
		_, err := f.do(done, "k2", time.Hour, func(context.Context) (int, error) { ran = true; return 1, nil })
		assert.ErrorIs(t, err, context.Canceled)
		assert.False(t, ran, "a caller whose context is done starts nothing")
	})
}

func TestPreCancelledContextSendsNothing(t *testing.T) {
	a := newCoreAPI(t)
	c := newCoreClient(t, a)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := c.Token(ctx)
	assert.ErrorIs(t, err, context.Canceled)
	_, err = c.Consents.URL(ctx, consentUser, nil)
	assert.ErrorIs(t, err, context.Canceled)
	_, err = c.Jobs.Get(ctx, "j")
	assert.ErrorIs(t, err, context.Canceled)
	assert.Empty(t, a.all(), "not even POST /token (it carries the API key)")
}

func TestPollerTimeoutBoundsItsLookUps(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/token" {
				select { // every API answer takes 20 s
				case <-time.After(20 * time.Second):
				case <-r.Context().Done():
					return
				}
			}
			w.Header().Set("Content-Type", "application/json")
			switch {
			case r.URL.Path == "/token":
				_, _ = io.WriteString(w, `{"access_token":"t","expires_in":3600}`)
			case strings.HasPrefix(r.URL.Path, "/jobs/"):
				_, _ = io.WriteString(w, `{"type":"job","id":"j","steps":[{"title":"verify-credentials","status":"success","result":{"type":"link","url":"/users/u/connections/c"}},`+
					`{"title":"retrieve-accounts","status":"in-progress"}],"links":{"source":"https://x/users/u/connections/c"}}`)
			default:
				_, _ = io.WriteString(w, `{"type":"connection","id":"c","institution":{"id":"AU00000"}}`)
			}
		})
		c, err := NewClient("a2V5OnNlY3JldA==", WithHTTPClient(&http.Client{Transport: handlerRoundTripper{slow}}), WithRetryPolicy(RetryPolicy{MaxAttempts: 1}))
		require.NoError(t, err)
		start := time.Now()
		_, err = c.Jobs.Poller("j", &PollOptions{Timeout: 30 * time.Second}).WaitForStep(context.Background(), StepRetrieveTransactions)
		assert.Error(t, err)
		assert.LessOrEqual(t, time.Since(start), 30*time.Second, "the look-ups beside the polls keep to the timeout too")
		synctest.Wait()
	})
}

// handlerRoundTripper serves requests with a handler in the caller's
// goroutine, honouring the request's context.
type handlerRoundTripper struct{ h http.Handler }

func (h handlerRoundTripper) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	h.h.ServeHTTP(rec, r)
	if err := r.Context().Err(); err != nil {
		return nil, err
	}
	resp := rec.Result()
	resp.Request = r
	return resp, nil
}

func TestPollOptionsUserIDRefusesAnotherUsersJob(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newJobFake(hooliSteps()) // a job of user-1
		c := f.client()
		_, err := c.Jobs.Wait(t.Context(), fakeJobID, &PollOptions{UserID: "someone-else"})
		assert.ErrorIs(t, err, ErrInvalidInput)
		assert.Contains(t, err.Error(), "another user")
		assert.Equal(t, 1, f.gets(), "the first look said so: no more polling")

		job, err := c.Jobs.Wait(t.Context(), fakeJobID, &PollOptions{UserID: fakeUserID})
		require.NoError(t, err)
		assert.Equal(t, JobSucceeded, job.Status())
	})
}
