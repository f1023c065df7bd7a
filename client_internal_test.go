package basiq

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The test harness of the core client tests (client, auth, endpoints, errors,
// decode). Names carry a "core" prefix so they cannot collide with helpers of
// other test files in this package.

// withBodyLimit sets the response body limit (internal configuration).
func withBodyLimit(n int64) Option {
	return func(c *config) error { c.bodyLimit = n; return nil }
}

// ---------------------------------------------------------------------------
// Construction and options

func TestNewClientValidation(t *testing.T) {
	for _, tc := range []struct {
		name string
		key  string
		opts []Option
	}{
		{"empty key", "", nil},
		{"blank key", "  \t", nil},
		{"key with space", "abc def", nil},
		{"unknown version", coreAPIKey, []Option{WithAPIVersion("2.0")}},
		{"nil http client", coreAPIKey, []Option{WithHTTPClient(nil)}},
		{"negative retry", coreAPIKey, []Option{WithRetryPolicy(RetryPolicy{MaxAttempts: -1})}},
		{"user agent with newline", coreAPIKey, []Option{WithUserAgent("app\r\nX-Evil: 1")}},
		{"nil token cache", coreAPIKey, []Option{WithTokenCache(nil)}},
		{"negative refresh margin", coreAPIKey, []Option{WithTokenRefreshBefore(-time.Second)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := NewClient(tc.key, tc.opts...)
			assert.Nil(t, c)
			assert.ErrorIs(t, err, ErrInvalidInput)
			if tc.key != "" {
				assert.NotContains(t, err.Error(), coreAPIKey)
			}
		})
	}
}

func TestNewClientDefaults(t *testing.T) {
	c, err := NewClient(" " + coreAPIKey + "\n")
	require.NoError(t, err)
	assert.Equal(t, V3, c.APIVersion())
	assert.Equal(t, DefaultBaseURL, c.baseURL.String())
	assert.Equal(t, coreAPIKey, c.apiKey.reveal(), "surrounding white space is trimmed")
	assert.Equal(t, []string{coreUA}, c.userAgentHeader)

	c, err = NewClient(coreAPIKey, WithAPIVersion(V2_1), nil)
	require.NoError(t, err)
	assert.Equal(t, V2_1, c.APIVersion())
}

func TestRetryPolicyDefaults(t *testing.T) {
	var cfg config
	require.NoError(t, WithRetryPolicy(RetryPolicy{MaxAttempts: 2})(&cfg))
	assert.Equal(t, RetryPolicy{MaxAttempts: 2, MinBackoff: 500 * time.Millisecond, MaxBackoff: 30 * time.Second}, cfg.retry)
	require.NoError(t, WithRetryPolicy(RetryPolicy{MinBackoff: time.Minute, MaxBackoff: time.Second})(&cfg))
	assert.Equal(t, RetryPolicy{MaxAttempts: 4, MinBackoff: time.Minute, MaxBackoff: time.Minute}, cfg.retry, "MaxBackoff is raised to MinBackoff")
}

func TestBaseURL(t *testing.T) {
	for _, tc := range []struct {
		raw  string
		ok   bool
		want string // the URL a GET /jobs/j1 goes to
	}{
		{"https://au-api.basiq.io", true, "https://au-api.basiq.io/jobs/j1"},
		{"https://au-api.basiq.io/", true, "https://au-api.basiq.io/jobs/j1"},
		{"https://proxy.example.com/basiq/v1/", true, "https://proxy.example.com/basiq/v1/jobs/j1"},
		{"http://localhost:8080", true, "http://localhost:8080/jobs/j1"},
		{"http://127.0.0.1:9000/prefix", true, "http://127.0.0.1:9000/prefix/jobs/j1"},
		{"http://[::1]:9000", true, "http://[::1]:9000/jobs/j1"},
		{"http://au-api.basiq.io", false, ""},
		{"http://localhost.evil.example", false, ""},
		{"http://10.0.0.1", false, ""},
		{"ftp://au-api.basiq.io", false, ""},
		{"https://user:pass@au-api.basiq.io", false, ""},
		{"https://au-api.basiq.io?x=1", false, ""},
		{"https://au-api.basiq.io#frag", false, ""},
		{"au-api.basiq.io", false, ""},
		{"https://", false, ""},
		{"://bad", false, ""},
	} {
		t.Run(tc.raw, func(t *testing.T) {
			a := newCoreAPI(t)
			var got []string
			a.mt.RegisterNoResponder(func(req *http.Request) (*http.Response, error) {
				if req.URL.Path == "/token" || strings.HasSuffix(req.URL.Path, "/token") {
					return a.mintToken(req), nil
				}
				got = append(got, req.URL.String())
				return coreJSON(http.StatusOK, coreJobJSON), nil
			})
			c, err := NewClient(coreAPIKey, WithHTTPClient(&http.Client{Transport: a.mt}), WithBaseURL(tc.raw))
			if !tc.ok {
				assert.Nil(t, c)
				assert.ErrorIs(t, err, ErrInvalidInput)
				return
			}
			require.NoError(t, err)
			_, err = c.Jobs.Get(context.Background(), "j1")
			require.NoError(t, err)
			assert.Equal(t, []string{tc.want}, got)
		})
	}
}

func TestUserAgentOption(t *testing.T) {
	a := newCoreAPI(t)
	a.handle(http.MethodGet, "/jobs/j1", http.StatusOK, coreJobJSON)
	c := newCoreClient(t, a, WithUserAgent("myapp/1.2"))
	_, err := c.Jobs.Get(context.Background(), "j1")
	require.NoError(t, err)
	for _, r := range a.all() {
		assert.Equal(t, "myapp/1.2 "+coreUA, r.Header.Get("User-Agent"), r.Path)
	}
}

func TestNilContext(t *testing.T) {
	a := newCoreAPI(t)
	c := newCoreClient(t, a)
	//lint:ignore SA1012 testing the nil-context guard
	_, err := c.Jobs.Get(nil, "j1")
	assert.ErrorIs(t, err, ErrInvalidInput)
	//lint:ignore SA1012 testing the nil-context guard
	_, err = c.Token(nil)
	assert.ErrorIs(t, err, ErrInvalidInput)
	//lint:ignore SA1012 testing the nil-context guard
	_, err = c.ClientToken(nil, "u1")
	assert.ErrorIs(t, err, ErrInvalidInput)
	assert.Empty(t, a.all())
}

// ---------------------------------------------------------------------------
// Path escaping and id validation

func TestPathEscaping(t *testing.T) {
	for _, tc := range []struct {
		id   string
		want string // escaped path of GET /jobs/{id}
	}{
		{"plain-id", "/jobs/plain-id"},
		{"a/b", "/jobs/a%2Fb"},
		{"a?b=c", "/jobs/a%3Fb=c"},
		{"a#b", "/jobs/a%23b"},
		{"a b", "/jobs/a%20b"},
		{"100%", "/jobs/100%25"},
		{"ümlaut-日本", "/jobs/%C3%BCmlaut-%E6%97%A5%E6%9C%AC"},
		{"../../users", "/jobs/..%2F..%2Fusers"},
		{"...", "/jobs/..."},
	} {
		t.Run(tc.id, func(t *testing.T) {
			a := newCoreAPI(t)
			var got []coreRequest
			a.mt.RegisterNoResponder(func(req *http.Request) (*http.Response, error) {
				got = append(got, a.record(req))
				return coreJSON(http.StatusOK, coreJobJSON), nil
			})
			c := newCoreClient(t, a)
			_, err := c.Jobs.Get(context.Background(), tc.id)
			require.NoError(t, err)
			require.Len(t, got, 1)
			assert.Equal(t, tc.want, got[0].Path)
			assert.Empty(t, got[0].RawQuery, "an id never leaks into the query")
		})
	}
}

func TestPathEscapingKeepsBasePrefix(t *testing.T) {
	a := newCoreAPI(t)
	var got []string
	a.mt.RegisterNoResponder(func(req *http.Request) (*http.Response, error) {
		r := a.record(req)
		if r.Path == "/proxy/basiq/token" {
			return a.mintToken(req), nil
		}
		got = append(got, r.Path)
		return coreJSON(http.StatusOK, `{"type":"list","data":[]}`), nil
	})
	c := newCoreClient(t, a, WithBaseURL("https://gw.example.com/proxy/basiq/"))
	_, err := c.Connections.List(context.Background(), "user/1", nil)
	require.NoError(t, err)
	assert.Equal(t, []string{"/proxy/basiq/users/user%2F1/connections"}, got)
}

func TestInvalidIDsSendNothing(t *testing.T) {
	bad := []string{"", ".", "..", "a\x00b", "line\nbreak", "tab\tid", "del\x7f", "\u0085next", strings.Repeat("x", 257), "bad-utf8-\xff"}
	for _, id := range bad {
		t.Run(fmt.Sprintf("%q", id), func(t *testing.T) {
			a := newCoreAPI(t)
			c := newCoreClient(t, a, WithAPIVersion(V2_1))
			ctx := context.Background()
			calls := map[string]func() error{
				"Jobs.Get":          func() error { _, err := c.Jobs.Get(ctx, id); return err },
				"Jobs.List":         func() error { _, err := c.Jobs.List(ctx, id, nil); return err },
				"Jobs.SubmitMFA/u":  func() error { _, err := c.Jobs.SubmitMFA(ctx, id, "j1", []string{"1"}); return err },
				"Jobs.SubmitMFA/j":  func() error { _, err := c.Jobs.SubmitMFA(ctx, "u1", id, []string{"1"}); return err },
				"Users.Get":         func() error { _, err := c.Users.Get(ctx, id); return err },
				"Users.Update":      func() error { _, err := c.Users.Update(ctx, id, UserParams{Email: "a@b.c"}); return err },
				"Users.Delete":      func() error { return c.Users.Delete(ctx, id) },
				"Connections.Get/u": func() error { _, err := c.Connections.Get(ctx, id, "c1"); return err },
				"Connections.Get/c": func() error { _, err := c.Connections.Get(ctx, "u1", id); return err },
				"Connections.List":  func() error { _, err := c.Connections.List(ctx, id, nil); return err },
				"Connections.Create": func() error {
					_, err := c.Connections.Create(ctx, id, Credentials{InstitutionID: "AU00000", LoginID: "l", Password: "p"})
					return err
				},
				"Connections.Refresh":    func() error { _, err := c.Connections.Refresh(ctx, "u1", id); return err },
				"Connections.RefreshAll": func() error { _, err := c.Connections.RefreshAll(ctx, id); return err },
				"Connections.Update": func() error {
					_, err := c.Connections.Update(ctx, "u1", id, CredentialsUpdate{Password: "p"})
					return err
				},
				"Connections.Delete": func() error { return c.Connections.Delete(ctx, id, "c1") },
				"Institutions.Get":   func() error { _, err := c.Institutions.Get(ctx, id); return err },
				"Connectors.Get/id":  func() error { _, err := c.Connectors.Get(ctx, id, "web"); return err },
				"Connectors.Get/m":   func() error { _, err := c.Connectors.Get(ctx, "AU00000", id); return err },
				"ClientToken":        func() error { _, err := c.ClientToken(ctx, id); return err },
			}
			for name, call := range calls {
				err := call()
				assert.ErrorIs(t, err, ErrInvalidInput, name)
			}
			assert.Empty(t, a.all(), "no request may be sent for an invalid id")
		})
	}
}

func TestInvalidArgumentsSendNothing(t *testing.T) {
	a := newCoreAPI(t)
	c := newCoreClient(t, a, WithAPIVersion(V2_1))
	ctx := context.Background()
	for name, call := range map[string]func() error{
		"Users.Create empty":   func() error { _, err := c.Users.Create(ctx, UserParams{FirstName: "x"}); return err },
		"Users.Update empty":   func() error { _, err := c.Users.Update(ctx, "u1", UserParams{}); return err },
		"SubmitMFA no answers": func() error { _, err := c.Jobs.SubmitMFA(ctx, "u1", "j1", nil); return err },
		"Create no institution": func() error {
			_, err := c.Connections.Create(ctx, "u1", Credentials{LoginID: "l", Password: "p"})
			return err
		},
		"Create no login": func() error {
			_, err := c.Connections.Create(ctx, "u1", Credentials{InstitutionID: "AU00000", Password: "p"})
			return err
		},
		"Create no password": func() error {
			_, err := c.Connections.Create(ctx, "u1", Credentials{InstitutionID: "AU00000", LoginID: "l"})
			return err
		},
		"Update no password": func() error {
			_, err := c.Connections.Update(ctx, "u1", "c1", CredentialsUpdate{SecurityCode: "1"})
			return err
		},
		"Jobs.List quote filter": func() error { _, err := c.Jobs.List(ctx, "u1", &JobFilter{ConnectionID: "x')"}); return err },
		"Connections.List filter": func() error {
			_, err := c.Connections.List(ctx, "u1", &ConnectionFilter{InstitutionID: `a\`})
			return err
		},
		"Institutions.List filter": func() error { _, err := c.Institutions.List(ctx, &InstitutionFilter{Tier: []string{""}}); return err },
		"Connectors.List filter":   func() error { _, err := c.Connectors.List(ctx, &ConnectorFilter{Method: []string{"we'b"}}); return err },
	} {
		assert.ErrorIs(t, call(), ErrInvalidInput, name)
	}
	assert.Empty(t, a.all())
}

// ---------------------------------------------------------------------------
// Transport and retries, through the client (synctest: backoff is virtual)

func withHeader(r func() (*http.Response, error), k, v string) func() (*http.Response, error) {
	return func() (*http.Response, error) {
		resp, err := r()
		if resp != nil {
			resp.Header.Set(k, v)
		}
		return resp, err
	}
}

func netError() func() (*http.Response, error) {
	return func() (*http.Response, error) {
		return nil, &net.OpError{Op: "read", Net: "tcp", Err: errors.New("connection reset by peer")}
	}
}

func TestGetRetriedThenSucceeds(t *testing.T) {
	for _, tc := range []struct {
		name  string
		first func() (*http.Response, error)
	}{
		{"500", status(500, coreEnvelope("internal-server-error", "Internal error", ""))},
		{"502", status(502, "<html>Bad Gateway</html>")},
		{"503", status(503, coreEnvelope("service-unavailable", "Service unavailable", "try again later"))},
		{"504", status(504, "")},
		{"429", status(429, coreEnvelope("too-many-requests", "Too many requests", ""))},
		{"403 Invalid request", status(403, coreEnvelope("request-not-valid", "Invalid request", "Invalid request"))},
		{"network error", netError()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				a := newCoreAPI(t)
				h, n := sequence(tc.first, status(200, coreJobJSON))
				a.handleFunc(http.MethodGet, "/jobs/job-1", h)
				c := newCoreClient(t, a, WithRetryPolicy(retryTestPolicy))
				start := time.Now()
				job, err := c.Jobs.Get(context.Background(), "job-1")
				require.NoError(t, err)
				assert.Equal(t, "job-1", job.ID)
				assert.EqualValues(t, 2, n.Load())
				assert.LessOrEqual(t, time.Since(start), 2*time.Second, "first backoff is at most 2×MinBackoff")
				assert.EqualValues(t, 1, a.tokenCalls.Load(), "a retry is not a re-authentication")
			})
		})
	}
}

func TestDeleteRetriedOn503(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := newCoreAPI(t)
		h, n := sequence(status(503, ""), status(204, ""))
		a.handleFunc(http.MethodDelete, "/users/u1", h)
		c := newCoreClient(t, a, WithRetryPolicy(retryTestPolicy))
		require.NoError(t, c.Users.Delete(context.Background(), "u1"))
		assert.EqualValues(t, 2, n.Load())
	})
}

func TestRetryAfterHonouredAndCapped(t *testing.T) {
	for _, tc := range []struct {
		name       string
		retryAfter string
		want       time.Duration
	}{
		{"seconds", "7", 7 * time.Second},
		{"zero", "0", 0},
		{"capped at MaxBackoff", "3600", 30 * time.Second},
		{"http date", "", 12 * time.Second}, // filled in below, relative to the virtual clock
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				a := newCoreAPI(t)
				ra := tc.retryAfter
				if ra == "" {
					ra = time.Now().Add(tc.want).UTC().Format(http.TimeFormat)
				}
				h, n := sequence(withHeader(status(429, coreEnvelope("too-many-requests", "Too many requests", "")), "Retry-After", ra), status(200, coreJobJSON))
				a.handleFunc(http.MethodGet, "/jobs/job-1", h)
				c := newCoreClient(t, a, WithRetryPolicy(retryTestPolicy))
				_, err := c.Token(context.Background())
				require.NoError(t, err)
				start := time.Now()
				_, err = c.Jobs.Get(context.Background(), "job-1")
				require.NoError(t, err)
				assert.Equal(t, tc.want, time.Since(start))
				assert.EqualValues(t, 2, n.Load())
			})
		})
	}
}

func TestThrottled403ExhaustsToErrRateLimited(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := newCoreAPI(t)
		body := `{"type":"list","correlationId":"corr-403","data":[{"type":"error","code":"request-not-valid","title":"Invalid request","detail":"Invalid request."}]}`
		h, n := sequence(status(403, body))
		a.handleFunc(http.MethodGet, "/jobs/job-1", h)
		c := newCoreClient(t, a, WithRetryPolicy(RetryPolicy{MaxAttempts: 3, MinBackoff: time.Second, MaxBackoff: 4 * time.Second}))
		_, err := c.Token(context.Background())
		require.NoError(t, err)
		start := time.Now()
		_, err = c.Jobs.Get(context.Background(), "job-1")
		elapsed := time.Since(start)
		require.Error(t, err)
		assert.EqualValues(t, 3, n.Load())
		assert.ErrorIs(t, err, ErrRateLimited)
		assert.NotErrorIs(t, err, ErrForbidden)
		assert.NotErrorIs(t, err, ErrTokenExpired)
		var apiErr *APIError
		require.ErrorAs(t, err, &apiErr)
		assert.Equal(t, 3, apiErr.Attempts)
		assert.Equal(t, "corr-403", apiErr.CorrelationID)
		assert.EqualValues(t, 1, a.tokenCalls.Load(), "throttling is not an auth failure")
		assert.LessOrEqual(t, elapsed, 1*time.Second+2*time.Second, "two jittered waits capped at 1s then 2s")
	})
}

func TestPostCreateNotRetriedOn5xx(t *testing.T) {
	for _, code := range []int{500, 502, 503, 504} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				a := newCoreAPI(t)
				h, n := sequence(status(code, coreEnvelope("service-unavailable", "Service unavailable", "")), status(202, `{"type":"job","id":"j2"}`))
				a.handleFunc(http.MethodPost, "/users/u1/connections", h)
				h2, n2 := sequence(status(code, ""), status(202, `{"type":"job","id":"j3"}`))
				a.handleFunc(http.MethodPost, "/users/u1/connections/c1", h2)
				c := newCoreClient(t, a, WithAPIVersion(V2_1), WithRetryPolicy(retryTestPolicy))
				ctx := context.Background()

				_, err := c.Connections.Create(ctx, "u1", Credentials{InstitutionID: "AU00000", LoginID: "l", Password: "p"})
				assert.ErrorIs(t, err, ErrUnavailable)
				assert.EqualValues(t, 1, n.Load(), "a credential POST must never be repeated after a 5xx")

				_, err = c.Connections.Update(ctx, "u1", "c1", CredentialsUpdate{Password: "p"})
				assert.ErrorIs(t, err, ErrUnavailable)
				assert.EqualValues(t, 1, n2.Load())
			})
		})
	}
}

func TestPostNotRetriedAfterNetworkErrorOnceSent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := newCoreAPI(t)
		h, n := sequence(netError(), status(202, `{"type":"job","id":"j2"}`))
		a.handleFunc(http.MethodPost, "/users/u1/connections", h)
		c := newCoreClient(t, a, WithAPIVersion(V2_1), WithRetryPolicy(retryTestPolicy))
		_, err := c.Connections.Create(context.Background(), "u1", Credentials{InstitutionID: "AU00000", LoginID: "l", Password: "pw-secret-1"})
		require.Error(t, err)
		assert.EqualValues(t, 1, n.Load(), "the server may have acted: never resend credentials")
		assert.NotContains(t, err.Error(), "pw-secret-1")
	})
}

func TestPostRetriedWhenNeverSent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := newCoreAPI(t)
		dial := func() (*http.Response, error) {
			return nil, &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}
		}
		h, n := sequence(dial, status(202, `{"type":"job","id":"j2"}`))
		a.handleFunc(http.MethodPost, "/users/u1/connections", h)
		c := newCoreClient(t, a, WithAPIVersion(V2_1), WithRetryPolicy(retryTestPolicy))
		job, err := c.Connections.Create(context.Background(), "u1", Credentials{InstitutionID: "AU00000", LoginID: "l", Password: "p"})
		require.NoError(t, err)
		assert.Equal(t, "j2", job.ID)
		assert.EqualValues(t, 2, n.Load())
	})
}

func TestPostRetriedOn429(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := newCoreAPI(t)
		h, n := sequence(withHeader(status(429, coreEnvelope("too-many-requests", "Too many requests", "")), "Retry-After", "5"),
			status(202, `{"type":"job","id":"j2","links":{"self":"https://au-api.basiq.io/jobs/j2"}}`))
		a.handleFunc(http.MethodPost, "/users/u1/connections", h)
		c := newCoreClient(t, a, WithAPIVersion(V2_1), WithRetryPolicy(retryTestPolicy))
		_, err := c.Token(context.Background())
		require.NoError(t, err)
		start := time.Now()
		job, err := c.Connections.Create(context.Background(), "u1", Credentials{InstitutionID: "AU00000", LoginID: "l", Password: "p"})
		require.NoError(t, err)
		assert.Equal(t, "j2", job.ID)
		assert.False(t, job.Reused)
		assert.EqualValues(t, 2, n.Load())
		assert.Equal(t, 5*time.Second, time.Since(start))
		reqs := a.apiRequests()
		require.Len(t, reqs, 2)
		assert.Equal(t, reqs[0].Body, reqs[1].Body, "the body is resent unchanged")
	})
}

func TestExhaustedRetriesReturnLastAPIError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := newCoreAPI(t)
		h, n := sequence(
			status(502, "<html><body><h1>502 Bad Gateway</h1></body></html>"),
			status(503, coreEnvelope("service-unavailable", "Service unavailable", "one")),
			status(500, coreEnvelope("internal-server-error", "Internal", "two")),
			withHeader(status(504, `{"type":"list","correlationId":"last-one","data":[{"code":"gateway-timeout","title":"Gateway timeout"}]}`), "Retry-After", "2"),
		)
		a.handleFunc(http.MethodGet, "/jobs/job-1", h)
		c := newCoreClient(t, a, WithRetryPolicy(retryTestPolicy))
		_, err := c.Jobs.Get(context.Background(), "job-1")
		require.Error(t, err)
		assert.EqualValues(t, 4, n.Load())
		var apiErr *APIError
		require.ErrorAs(t, err, &apiErr)
		assert.Equal(t, 504, apiErr.StatusCode)
		assert.Equal(t, "last-one", apiErr.CorrelationID)
		assert.Equal(t, "gateway-timeout", apiErr.Code())
		assert.Equal(t, 4, apiErr.Attempts)
		assert.Equal(t, 2*time.Second, apiErr.RetryAfter)
		assert.Equal(t, http.MethodGet, apiErr.Method)
		assert.Equal(t, "/jobs/job-1", apiErr.Path)
		assert.ErrorIs(t, err, ErrUnavailable)
		assert.NotErrorIs(t, err, ErrRateLimited)
	})
}

func TestExhaustedNetworkErrors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := newCoreAPI(t)
		h, n := sequence(netError())
		a.handleFunc(http.MethodGet, "/jobs/job-1", h)
		c := newCoreClient(t, a, WithRetryPolicy(retryTestPolicy))
		_, err := c.Jobs.Get(context.Background(), "job-1")
		require.Error(t, err)
		assert.EqualValues(t, 4, n.Load())
		var op *net.OpError
		assert.ErrorAs(t, err, &op)
		assert.Contains(t, err.Error(), "4 attempts")
	})
}

func TestStaleBodyErrorDoesNotMaskLastResponse(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := newCoreAPI(t)
		truncated := func() (*http.Response, error) {
			resp := coreJSON(200, "")
			resp.Body = io.NopCloser(io.MultiReader(strings.NewReader(`{"type":"job","id":"jo`), errReader{io.ErrUnexpectedEOF}))
			return resp, nil
		}
		h, n := sequence(truncated, status(503, coreEnvelope("service-unavailable", "Service unavailable", "")))
		a.handleFunc(http.MethodGet, "/jobs/job-1", h)
		c := newCoreClient(t, a, WithRetryPolicy(RetryPolicy{MaxAttempts: 3, MinBackoff: time.Second, MaxBackoff: time.Second}))
		_, err := c.Jobs.Get(context.Background(), "job-1")
		assert.EqualValues(t, 3, n.Load())
		var apiErr *APIError
		require.ErrorAs(t, err, &apiErr, "the last answer was a 503, not a broken body: %v", err)
		assert.Equal(t, 503, apiErr.StatusCode)
		assert.ErrorIs(t, err, ErrUnavailable)
	})
}

func TestTruncatedBodyRetriedForGet(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := newCoreAPI(t)
		truncated := func() (*http.Response, error) {
			resp := coreJSON(200, "")
			resp.Body = io.NopCloser(io.MultiReader(strings.NewReader(`{"type":"job","id":"jo`), errReader{io.ErrUnexpectedEOF}))
			return resp, nil
		}
		h, n := sequence(truncated, status(200, coreJobJSON))
		a.handleFunc(http.MethodGet, "/jobs/job-1", h)
		c := newCoreClient(t, a, WithRetryPolicy(retryTestPolicy))
		job, err := c.Jobs.Get(context.Background(), "job-1")
		require.NoError(t, err)
		assert.Equal(t, "job-1", job.ID)
		assert.EqualValues(t, 2, n.Load())
	})
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

func TestNonEnvelopeBodyGivesAPIError(t *testing.T) {
	a := newCoreAPI(t)
	html := "<html>\n<head><title>502 Bad Gateway</title></head>\n<body><center><h1>502 Bad Gateway</h1></center></body>\n</html>"
	a.handleFunc(http.MethodGet, "/jobs/job-1", func(*http.Request) (*http.Response, error) {
		resp := httpmock.NewStringResponse(502, html)
		resp.Header.Set("Content-Type", "text/html")
		return resp, nil
	})
	c := newCoreClient(t, a, WithRetryPolicy(RetryPolicy{MaxAttempts: 1}))
	_, err := c.Jobs.Get(context.Background(), "job-1")
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 502, apiErr.StatusCode)
	assert.Empty(t, apiErr.Errors)
	assert.Empty(t, apiErr.Code())
	assert.Equal(t, html, string(apiErr.Body))
	assert.ErrorIs(t, err, ErrUnavailable)
	assert.Contains(t, err.Error(), "502 Bad Gateway")
	assert.Contains(t, err.Error(), "GET /jobs/job-1")
}

func TestResponseTooLarge(t *testing.T) {
	big := `{"type":"job","id":"job-1","padding":"` + strings.Repeat("x", 200) + `"}`
	for _, tc := range []struct {
		name   string
		method string
		status int
		call   func(c *Client) error
	}{
		{"GET 200", http.MethodGet, 200, func(c *Client) error { _, err := c.Jobs.Get(context.Background(), "job-1"); return err }},
		{"POST 202", http.MethodPost, 202, func(c *Client) error { _, err := c.Connections.Refresh(context.Background(), "u1", "c1"); return err }},
		{"GET 404", http.MethodGet, 404, func(c *Client) error { _, err := c.Jobs.Get(context.Background(), "job-1"); return err }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := newCoreAPI(t)
			path := "/jobs/job-1"
			if tc.method == http.MethodPost {
				path = "/users/u1/connections/c1/refresh"
			}
			a.handle(tc.method, path, tc.status, big)
			c := newCoreClient(t, a, withBodyLimit(128))
			err := tc.call(c)
			assert.ErrorIs(t, err, ErrResponseTooLarge)
			assert.Len(t, a.apiRequests(), 1, "an oversized body is not retried")
		})
	}
	t.Run("at the limit", func(t *testing.T) {
		a := newCoreAPI(t)
		body := coreJobJSON
		a.handle(http.MethodGet, "/jobs/job-1", 200, body)
		c := newCoreClient(t, a, withBodyLimit(int64(len(body))))
		_, err := c.Jobs.Get(context.Background(), "job-1")
		assert.NoError(t, err)
	})
}

func TestContextCancelledDuringBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := newCoreAPI(t)
		h, n := sequence(withHeader(status(503, ""), "Retry-After", "20"))
		a.handleFunc(http.MethodGet, "/jobs/job-1", h)
		c := newCoreClient(t, a, WithRetryPolicy(retryTestPolicy))
		_, err := c.Token(context.Background())
		require.NoError(t, err)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		start := time.Now()
		_, err = c.Jobs.Get(ctx, "job-1")
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Equal(t, 5*time.Second, time.Since(start), "the wait ends with the context")
		assert.EqualValues(t, 1, n.Load())
	})
}

func TestDecodeErrorOnBadJSON(t *testing.T) {
	a := newCoreAPI(t)
	a.handle(http.MethodGet, "/jobs/job-1", 200, `{"type":"job","steps":"not-a-list"}`)
	c := newCoreClient(t, a)
	_, err := c.Jobs.Get(context.Background(), "job-1")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "decoding response")
}

// ---------------------------------------------------------------------------
// Logging

func TestLoggingCarriesIDsAndNoSecrets(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var buf syncBuffer
		logger := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
		a := newCoreAPI(t)
		h, _ := sequence(status(503, ""), status(200, `{"type":"connection","id":"c1","status":"active"}`))
		a.handleFunc(http.MethodGet, "/users/u1/connections/c1", h)
		a.handle(http.MethodPost, "/jobs/j9/mfa", 202, `{"type":"job","id":"j9"}`)
		a.handle(http.MethodGet, "/jobs/j404", 404, coreEnvelope("resource-not-found", "Not found", "Requested job does not exist."))
		c := newCoreClient(t, a, WithLogger(logger), WithRetryPolicy(retryTestPolicy), WithAPIVersion(V2_1))
		ctx := context.Background()
		_, err := c.Connections.Get(ctx, "u1", "c1")
		require.NoError(t, err)
		_, _ = c.Jobs.SubmitMFA(ctx, "u1", "j9", []string{"secret-otp-4321"})
		_, _ = c.Jobs.Get(ctx, "j404")
		out := buf.String()
		for _, secret := range []string{coreAPIKey, "server-token-", "client-token-", "secret-otp-4321"} {
			assert.NotContains(t, out, secret)
		}
		assert.Contains(t, out, `"user_id":"u1"`)
		assert.Contains(t, out, `"connection_id":"c1"`)
		assert.Contains(t, out, `"job_id":"j9"`)
		assert.Contains(t, out, `"correlation_id":"corr-123"`)
		assert.Contains(t, out, `"msg":"basiq: retrying request"`)
		assert.Contains(t, out, `"status":503`)
		assert.Contains(t, out, `"attempt":1`)
	})
}

// ---------------------------------------------------------------------------
// Secrets

func TestSecretsRedacted(t *testing.T) {
	tok := Token{AccessToken: "eyJhbGciOiJIUzI1NiJ9.c2VjcmV0LXRva2Vu.sig", TokenType: "Bearer", Scope: ScopeClientAccess,
		UserID: "user-1", Version: V3, ExpiresAt: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
	cred := Credentials{InstitutionID: "AU00000", LoginID: "gavinBelson", Password: "hooli2016-pw", SecurityCode: "sec-9876", SecondaryLoginID: "second-5555"}
	upd := CredentialsUpdate{Password: "new-pw-1234", SecurityCode: "sec-4444", SecondaryLoginID: "second-3333"}
	secrets := []string{tok.AccessToken, cred.Password, cred.SecurityCode, cred.SecondaryLoginID, upd.Password, upd.SecurityCode, upd.SecondaryLoginID}

	values := map[string]any{
		"Token": tok, "*Token": &tok,
		"Credentials": cred, "*Credentials": &cred,
		"CredentialsUpdate": upd, "*CredentialsUpdate": &upd,
		"in a struct": struct {
			T Token
			C Credentials
			U CredentialsUpdate
		}{tok, cred, upd},
		"in a slice": []any{tok, cred, upd},
		"in a map":   map[string]any{"t": tok, "c": cred, "u": upd},
	}
	for name, v := range values {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
			out := fmt.Sprintf(verb, v)
			for _, s := range secrets {
				assert.NotContains(t, out, s, "%s formatted with %s", name, verb)
				assert.NotContains(t, strings.ToLower(out), strings.ToLower(fmt.Sprintf("%x", s)), "%s formatted with %s", name, verb)
			}
		}
	}
	assert.Contains(t, fmt.Sprint(tok), "[REDACTED]")
	assert.Contains(t, fmt.Sprint(tok), "user-1")
	assert.NotContains(t, fmt.Sprint(cred), "gavinBelson", "the login id is a customer number in real life")
	assert.Contains(t, fmt.Sprint(cred), "LoginID: ***son")
	assert.Contains(t, fmt.Sprint(cred), "AU00000")
	assert.Contains(t, fmt.Sprint(Credentials{LoginID: "x"}), `Password: ""`, "an empty secret shows as empty, not as redacted")

	for _, v := range []any{tok, cred, upd, &tok} {
		var buf bytes.Buffer
		for _, h := range []slog.Handler{slog.NewJSONHandler(&buf, nil), slog.NewTextHandler(&buf, nil)} {
			slog.New(h).Info("msg", "value", v, slog.Any("any", v), slog.Group("g", "v", v))
		}
		for _, s := range secrets {
			assert.NotContains(t, buf.String(), s)
		}
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("m", "token", tok)
	assert.Contains(t, buf.String(), `"scope":"CLIENT_ACCESS"`)
	assert.Contains(t, buf.String(), `"user_id":"user-1"`)

	// json.Marshal redacts it too (a token nested in a logged slice or
	// struct goes through encoding/json); a front end is handed
	// tok.AccessToken itself.
	b, err := json.Marshal(tok)
	require.NoError(t, err)
	assert.NotContains(t, string(b), tok.AccessToken)
	assert.Contains(t, string(b), `"AccessToken":"[REDACTED]"`)
}

func TestClientFormatHidesAPIKey(t *testing.T) {
	c, err := NewClient(coreAPIKey)
	require.NoError(t, err)
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		out := fmt.Sprintf(verb, c)
		assert.NotContains(t, out, coreAPIKey, verb)
		assert.Contains(t, out, "au-api.basiq.io", verb)
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("m", "client", c)
	assert.NotContains(t, buf.String(), coreAPIKey)
}

// wrappedTransport is http.DefaultTransport as an instrumented program has
// it (otelhttp and the like): an http.RoundTripper that is not an
// *http.Transport.
type wrappedTransport struct {
	next http.RoundTripper
	used atomic.Int32
}

func (w *wrappedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	w.used.Add(1)
	return w.next.RoundTrip(r)
}

// A program that wraps http.DefaultTransport can still make a client: with
// WithHTTPClient the default is not touched, and without it the client builds
// its own transport. This test replaces http.DefaultTransport, so it must not
// call t.Parallel.
func TestNewClientWithWrappedDefaultTransportDoesNotPanic(t *testing.T) {
	orig := http.DefaultTransport
	t.Cleanup(func() { http.DefaultTransport = orig })
	wrapped := &wrappedTransport{next: orig}
	http.DefaultTransport = wrapped

	t.Run("with WithHTTPClient", func(t *testing.T) {
		a := newCoreAPI(t)
		a.handle(http.MethodGet, "/users/u-1", 200, `{"type":"user","id":"u-1","email":"a@example.com"}`)
		var c *Client
		require.NotPanics(t, func() { c = newCoreClient(t, a) })
		u, err := c.Users.Get(t.Context(), "u-1")
		require.NoError(t, err)
		assert.Equal(t, "u-1", u.ID)
	})
	t.Run("without WithHTTPClient", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			switch r.URL.Path {
			case "/token":
				_, _ = io.WriteString(w, `{"access_token":"server-token-1","expires_in":3600,"token_type":"Bearer"}`)
			case "/users/u-1":
				_, _ = io.WriteString(w, `{"type":"user","id":"u-1","email":"a@example.com"}`)
			default:
				http.NotFound(w, r)
			}
		}))
		defer srv.Close()
		var c *Client
		var err error
		require.NotPanics(t, func() { c, err = NewClient(coreAPIKey, WithBaseURL(srv.URL)) })
		require.NoError(t, err)
		u, err := c.Users.Get(t.Context(), "u-1")
		require.NoError(t, err)
		assert.Equal(t, "u-1", u.ID)
	})
	assert.Zero(t, wrapped.used.Load(), "the client never went through the replaced default")
}

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

// redirectTarget counts what reaches a host the API redirected to.
type redirectTarget struct {
	srv    *httptest.Server
	hits   atomic.Int64
	mu     sync.Mutex
	bodies []string
	auths  []string
}

func newRedirectTarget(t *testing.T) *redirectTarget {
	rt := &redirectTarget{}
	rt.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rt.hits.Add(1)
		rt.mu.Lock()
		rt.bodies = append(rt.bodies, string(b))
		rt.auths = append(rt.auths, r.Header.Get("Authorization"))
		rt.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusAccepted)
		_, _ = io.WriteString(w, `{"type":"job","id":"stolen-job"}`)
	}))
	t.Cleanup(rt.srv.Close)
	return rt
}

// tokenAndRedirect serves POST /token, and answers everything else with a
// redirect to location.
func tokenAndRedirect(status int, location string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/token" {
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"access_token":"bearer-secret","expires_in":3600,"token_type":"Bearer"}`)
			return
		}
		w.Header().Set("Location", location+r.URL.Path)
		w.WriteHeader(status)
	}
}

func TestRedirectToAnotherHostDoesNotResendThePassword(t *testing.T) {
	for _, status := range []int{http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			target := newRedirectTarget(t)
			api := httptest.NewServer(tokenAndRedirect(status, target.srv.URL))
			defer api.Close()
			c, err := NewClient("a2V5OnNlY3JldA==", WithBaseURL(api.URL), WithAPIVersion(V2_1))
			require.NoError(t, err)

			job, err := c.Connections.Create(t.Context(), "user-1", Credentials{InstitutionID: "AU00000", LoginID: "gavin", Password: "hunter2-bank-password"})
			assert.Nil(t, job, "a redirect is not a created connection")
			var apiErr *APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, status, apiErr.StatusCode)
			assert.Zero(t, target.hits.Load(), "nothing reaches the redirect target: not the password, not the token")
		})
	}
}

func TestRedirectToPlainHTTPDoesNotCarryTheToken(t *testing.T) {
	target := newRedirectTarget(t)
	u, err := url.Parse(target.srv.URL)
	require.NoError(t, err)
	// The same host name as the https API, over plain http on another port.
	api := httptest.NewTLSServer(tokenAndRedirect(http.StatusFound, "http://127.0.0.1:"+u.Port()))
	defer api.Close()
	callers := api.Client() // the caller's own client (it trusts the test certificate)
	require.Nil(t, callers.CheckRedirect)
	c, err := NewClient("a2V5OnNlY3JldA==", WithBaseURL(api.URL), WithHTTPClient(callers))
	require.NoError(t, err)

	_, err = c.Jobs.Get(t.Context(), "job-1")
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusFound, apiErr.StatusCode)
	assert.Zero(t, target.hits.Load(), "the bearer token never goes over plain http")
	assert.Nil(t, callers.CheckRedirect, "the caller's client keeps its own redirect policy")
	assert.NotContains(t, err.Error(), "bearer-secret")
}

func TestZeroValuesDoNotPanic(t *testing.T) {
	ctx := t.Context()
	var zero Client
	var nilClient *Client
	for name, c := range map[string]*Client{"zero Client": &zero, "nil *Client": nilClient} {
		t.Run(name, func(t *testing.T) {
			_, err := c.Token(ctx)
			assert.ErrorIs(t, err, ErrInvalidInput)
			_, err = c.ClientToken(ctx, "user-1")
			assert.ErrorIs(t, err, ErrInvalidInput)
			assert.NotPanics(t, func() { _ = c.String(); _ = fmt.Sprintf("%v %+v %#v", c, c, c) })
		})
	}
	checks := map[string]func() error{
		"zero Client's nil Users":        func() error { _, err := zero.Users.Get(ctx, "u"); return err },
		"zero Client's nil Jobs.Get":     func() error { _, err := zero.Jobs.Get(ctx, "j"); return err },
		"zero Client's nil Jobs.Wait":    func() error { _, err := zero.Jobs.Wait(ctx, "j", nil); return err },
		"zero Client's nil Connections":  func() error { _, err := zero.Connections.Create(ctx, "u", Credentials{}); return err },
		"zero Client's nil Institutions": func() error { _, err := zero.Institutions.Availability(ctx, "AU00000"); return err },
		"zero Client's nil Connectors":   func() error { _, err := zero.Connectors.List(ctx, nil); return err },
		"zero JobsService Get":           func() error { _, err := (&JobsService{}).Get(ctx, "j"); return err },
		"zero JobsService Wait":          func() error { _, err := (&JobsService{}).Wait(ctx, "j", nil); return err },
		"zero JobsService Poller Wait":   func() error { _, err := (&JobsService{}).Poller("j", nil).Wait(ctx); return err },
		"nil JobsService Poller Steps":   func() error { return firstErr((*JobsService)(nil).Poller("j", nil).Steps(ctx)) },
		"zero Poller Wait":               func() error { _, err := (&Poller{}).Wait(ctx); return err },
		"zero Poller WaitForStep":        func() error { _, err := (&Poller{}).WaitForStep(ctx, StepVerifyCredentials); return err },
		"zero Poller Poll":               func() error { _, err := (&Poller{}).Poll(ctx); return err },
		"zero Poller ResumeToken":        func() error { _, err := (&Poller{}).ResumeToken(); return err },
		"nil Poller Wait":                func() error { _, err := (*Poller)(nil).Wait(ctx); return err },
		"zero ConnectionsService Health": func() error { _, err := (&ConnectionsService{}).Health(ctx, "u"); return err },
		"zero InstitutionsService List":  func() error { _, err := (&InstitutionsService{}).List(ctx, nil); return err },
		"zero UsersService Delete":       func() error { return (&UsersService{}).Delete(ctx, "u") },
		"zero ConnectionsService Update": func() error { _, err := (&ConnectionsService{}).Update(ctx, "u", "c", CredentialsUpdate{}); return err },
		"zero ConnectionsService Stale":  func() error { _, err := (&ConnectionsService{}).RefreshIfStale(ctx, "u", "c", time.Hour); return err },
		"zero JobsService ResumePoller": func() error {
			p, _ := (&JobsService{}).ResumePoller("bqpoll1.x.y", nil)
			_, err := p.Wait(ctx)
			return err
		},
		"zero JobsService SubmitMFA":       func() error { _, err := (&JobsService{}).SubmitMFA(ctx, "u", "j", []string{"1"}); return err },
		"zero ConnectorsService Get":       func() error { _, err := (&ConnectorsService{}).Get(ctx, "AU00000", "web"); return err },
		"zero InstitutionsService Get":     func() error { _, err := (&InstitutionsService{}).Get(ctx, "AU00000"); return err },
		"zero ConnectionsService RefreshA": func() error { _, err := (&ConnectionsService{}).RefreshAll(ctx, "u"); return err },
	}
	for name, call := range checks {
		t.Run(name, func(t *testing.T) {
			var err error
			require.NotPanics(t, func() { err = call() })
			assert.ErrorIs(t, err, ErrInvalidInput)
		})
	}
	var p *Poller
	assert.NotPanics(t, func() { _, _, _ = p.JobID(), p.Job(), p.Done() })
}

func firstErr(seq func(func(StepEvent, error) bool)) error {
	var out error
	for _, err := range seq {
		out = err
		break
	}
	return out
}
