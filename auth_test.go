package basiq

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ---------------------------------------------------------------------------
// The token request

func TestTokenServerAccess(t *testing.T) {
	for _, v := range []APIVersion{V3, V2_1} {
		t.Run(string(v), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				a := newCoreAPI(t)
				c := newCoreClient(t, a, WithAPIVersion(v))
				start := time.Now()
				tok, err := c.Token(context.Background())
				require.NoError(t, err)
				assert.Equal(t, "server-token-1", tok.AccessToken)
				assert.Equal(t, "Bearer", tok.TokenType)
				assert.Equal(t, ScopeServerAccess, tok.Scope)
				assert.Equal(t, v, tok.Version)
				assert.Empty(t, tok.UserID)
				assert.Equal(t, start.Add(time.Hour), tok.ExpiresAt, "expiry = request start + expires_in")

				reqs := a.tokenRequests()
				require.Len(t, reqs, 1)
				assertTokenRequest(t, reqs[0], v, "scope=SERVER_ACCESS")

				again, err := c.Token(context.Background())
				require.NoError(t, err)
				assert.Equal(t, tok, again)
				assert.Equal(t, 1, a.nTokens(), "the token is cached")
			})
		})
	}
}

func TestClientTokenPerVersion(t *testing.T) {
	for _, tc := range []struct {
		version  APIVersion
		wantBody string
		wantTok  string
	}{
		{V3, "scope=CLIENT_ACCESS&userId=user-1", "client-token-user-1-1"},
		{V2_1, "scope=CLIENT_ACCESS", "client-token--1"},
	} {
		t.Run(string(tc.version), func(t *testing.T) {
			a := newCoreAPI(t)
			c := newCoreClient(t, a, WithAPIVersion(tc.version))
			tok, err := c.ClientToken(context.Background(), "user-1")
			require.NoError(t, err)
			assert.Equal(t, tc.wantTok, tok.AccessToken)
			assert.Equal(t, ScopeClientAccess, tok.Scope)
			assert.Equal(t, "user-1", tok.UserID)
			assert.Equal(t, tc.version, tok.Version)
			reqs := a.tokenRequests()
			require.Len(t, reqs, 1)
			assertTokenRequest(t, reqs[0], tc.version, tc.wantBody)

			// cached per user; a different user, and the server token, are separate
			again, err := c.ClientToken(context.Background(), "user-1")
			require.NoError(t, err)
			assert.Equal(t, tok.AccessToken, again.AccessToken)
			_, err = c.ClientToken(context.Background(), "user-2")
			require.NoError(t, err)
			srv, err := c.Token(context.Background())
			require.NoError(t, err)
			assert.Equal(t, ScopeServerAccess, srv.Scope)
			reqs = a.tokenRequests()
			require.Len(t, reqs, 3)
			if tc.version == V3 {
				assert.Equal(t, "scope=CLIENT_ACCESS&userId=user-2", string(reqs[1].Body))
			}
			assert.Equal(t, "scope=SERVER_ACCESS", string(reqs[2].Body))
		})
	}
}

func TestTokenResponseVariants(t *testing.T) {
	for _, tc := range []struct {
		name    string
		body    string
		ok      bool
		wantTTL time.Duration
	}{
		{"missing expires_in defaults to an hour", `{"access_token":"abc","token_type":"Bearer"}`, true, time.Hour},
		{"short lifetime", `{"access_token":"abc","expires_in":60,"token_type":"Bearer"}`, true, time.Minute},
		{"no access_token", `{"expires_in":3600,"token_type":"Bearer"}`, false, 0},
		{"not JSON", `<html>ok</html>`, false, 0},
		{"empty", ``, false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				a := newCoreAPI(t)
				a.onToken(func(*http.Request) (*http.Response, error) { return coreJSON(200, tc.body), nil })
				c := newCoreClient(t, a)
				start := time.Now()
				tok, err := c.Token(context.Background())
				if !tc.ok {
					var authErr *AuthError
					require.ErrorAs(t, err, &authErr)
					assert.Equal(t, 200, authErr.StatusCode)
					assert.NotErrorIs(t, err, ErrUnauthorized, "a malformed answer says nothing about the key")
					assert.Equal(t, 1, a.nTokens())
					return
				}
				require.NoError(t, err)
				assert.Equal(t, "abc", tok.AccessToken)
				assert.Equal(t, start.Add(tc.wantTTL), tok.ExpiresAt)
			})
		})
	}
}

// ---------------------------------------------------------------------------
// Concurrency

func TestTokenFirstCallsShareOneRequest(t *testing.T) {
	const callers = 1000
	t.Run("all waiting on one flight", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			a := newCoreAPI(t)
			release := make(chan struct{})
			a.onToken(func(req *http.Request) (*http.Response, error) {
				<-release
				return a.mintToken(req), nil
			})
			a.handle(http.MethodGet, "/jobs/job-1", 200, coreJobJSON)
			c := newCoreClient(t, a)
			errs := make([]error, callers)
			var wg sync.WaitGroup
			for i := range callers {
				wg.Go(func() { _, errs[i] = c.Jobs.Get(context.Background(), "job-1") })
			}
			synctest.Wait() // every caller is now blocked, waiting for a token
			assert.Equal(t, 1, a.nTokens(), "one token request while %d callers wait", callers)
			assert.Empty(t, a.apiRequests())
			close(release)
			wg.Wait()
			for _, err := range errs {
				require.NoError(t, err)
			}
			assert.Equal(t, 1, a.nTokens())
			api := a.apiRequests()
			assert.Len(t, api, callers)
			for _, r := range api {
				assert.Equal(t, "Bearer server-token-1", r.Header.Get("Authorization"))
			}
		})
	})
	t.Run("real scheduling", func(t *testing.T) {
		a := newCoreAPI(t)
		a.handle(http.MethodGet, "/jobs/job-1", 200, coreJobJSON)
		c := newCoreClient(t, a)
		start := make(chan struct{})
		errs := make([]error, callers)
		var wg sync.WaitGroup
		for i := range callers {
			wg.Go(func() {
				<-start
				_, errs[i] = c.Jobs.Get(context.Background(), "job-1")
			})
		}
		close(start)
		wg.Wait()
		for _, err := range errs {
			require.NoError(t, err)
		}
		assert.EqualValues(t, 1, a.tokenCalls.Load())
		assert.Len(t, a.apiRequests(), callers)
	})
}

func TestTokenExpiresUnderLoad(t *testing.T) {
	// The shared TokenCache is not what keeps this to one request: with no
	// cache, or a failing one, the client's own copy must do it.
	for name, cache := range map[string]TokenCache{
		"memory cache":  NewMemoryTokenCache(),
		"no cache":      nopTokenCache{},
		"failing cache": failingTokenCache{},
	} {
		t.Run(name, func(t *testing.T) { testTokenExpiresUnderLoad(t, cache) })
	}
}

func testTokenExpiresUnderLoad(t *testing.T, cache TokenCache) {
	const callers = 1000
	a := newCoreAPI(t)
	var expired atomic.Bool
	var denied atomic.Int64
	a.handleFunc(http.MethodGet, "/jobs/job-1", func(req *http.Request) (*http.Response, error) {
		if expired.Load() && req.Header.Get("Authorization") == "Bearer server-token-1" {
			denied.Add(1)
			return coreJSON(http.StatusForbidden, accessDenied), nil
		}
		return coreJSON(200, coreJobJSON), nil
	})
	c := newCoreClient(t, a, WithTokenCache(cache))
	_, err := c.Jobs.Get(context.Background(), "job-1")
	require.NoError(t, err)
	require.EqualValues(t, 1, a.tokenCalls.Load())

	expired.Store(true) // the server now rejects server-token-1
	start := make(chan struct{})
	errs := make([]error, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() {
			<-start
			_, errs[i] = c.Jobs.Get(context.Background(), "job-1")
		})
	}
	close(start)
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err, "every call succeeds across the expiry")
	}
	assert.EqualValues(t, 2, a.tokenCalls.Load(), "exactly one more token request")
	assert.Positive(t, denied.Load())
	tok, err := c.Token(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "server-token-2", tok.AccessToken)
}

func TestCancelledCallerDoesNotFailOthers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := newCoreAPI(t)
		entered := make(chan struct{})
		release := make(chan struct{})
		var once sync.Once
		a.onToken(func(req *http.Request) (*http.Response, error) {
			once.Do(func() { close(entered) })
			<-release
			return a.mintToken(req), nil
		})
		a.handle(http.MethodGet, "/jobs/job-1", 200, coreJobJSON)
		c := newCoreClient(t, a)

		ctxA, cancelA := context.WithCancel(context.Background())
		doneA := make(chan error, 1)
		go func() { _, err := c.Jobs.Get(ctxA, "job-1"); doneA <- err }()
		<-entered // the token request started on A's behalf

		doneB := make(chan error, 1)
		go func() { _, err := c.Jobs.Get(context.Background(), "job-1"); doneB <- err }()
		synctest.Wait() // B waits on the same token request

		cancelA()
		errA := <-doneA // A returns while the token request is still blocked
		assert.ErrorIs(t, errA, context.Canceled)
		synctest.Wait()
		select {
		case err := <-doneB:
			t.Fatalf("B returned before the token arrived: %v", err)
		default:
		}

		close(release)
		require.NoError(t, <-doneB, "A's cancellation must not fail B")
		assert.Equal(t, 1, a.nTokens())
		api := a.apiRequests()
		require.Len(t, api, 1, "A never sent its request")
		assert.Equal(t, "Bearer server-token-1", api[0].Header.Get("Authorization"))

		// the token fetched for A and B is cached for everyone
		_, err := c.Jobs.Get(context.Background(), "job-1")
		require.NoError(t, err)
		assert.Equal(t, 1, a.nTokens())
	})
}

func TestTokenEarlyRefresh(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := newCoreAPI(t)
		release := make(chan struct{})
		a.onToken(func(req *http.Request) (*http.Response, error) {
			if a.tokenCalls.Load() >= 1 {
				<-release // hold the background refresh open
			}
			return a.mintToken(req), nil
		})
		a.handle(http.MethodGet, "/jobs/job-1", 200, coreJobJSON)
		c := newCoreClient(t, a) // default: refresh 5 minutes before expiry
		ctx := context.Background()
		t0 := time.Now()
		tok1, err := c.Token(ctx)
		require.NoError(t, err)
		require.Equal(t, t0.Add(time.Hour), tok1.ExpiresAt)

		time.Sleep(54 * time.Minute)
		got, err := c.Token(ctx)
		require.NoError(t, err)
		assert.Equal(t, tok1.AccessToken, got.AccessToken)
		synctest.Wait()
		assert.Equal(t, 1, a.nTokens(), "no refresh before the window")

		time.Sleep(time.Minute + time.Second) // 55m01s: inside the 5-minute window
		refreshStart := time.Now()
		cctx, cancel := context.WithCancel(ctx)
		got, err = c.Token(cctx)
		cancel() // the refresh does not depend on the caller that triggered it
		require.NoError(t, err)
		assert.Equal(t, tok1.AccessToken, got.AccessToken, "the caller gets the current token at once")
		synctest.Wait()
		assert.Equal(t, 2, a.nTokens(), "one background refresh")

		for range 50 {
			got, err := c.Token(ctx)
			require.NoError(t, err)
			assert.Equal(t, tok1.AccessToken, got.AccessToken, "callers keep the old token while the refresh runs")
			_, err = c.Jobs.Get(ctx, "job-1")
			require.NoError(t, err)
		}
		synctest.Wait()
		assert.Equal(t, 2, a.nTokens(), "still exactly one refresh")

		close(release)
		synctest.Wait()
		tok2, err := c.Token(ctx)
		require.NoError(t, err)
		assert.Equal(t, "server-token-2", tok2.AccessToken)
		assert.Equal(t, refreshStart.Add(time.Hour), tok2.ExpiresAt)
		_, err = c.Jobs.Get(ctx, "job-1")
		require.NoError(t, err)
		api := a.apiRequests()
		assert.Equal(t, "Bearer server-token-1", api[0].Header.Get("Authorization"))
		assert.Equal(t, "Bearer server-token-2", api[len(api)-1].Header.Get("Authorization"))
		assert.Equal(t, 2, a.nTokens())
	})
}

func TestTokenEarlyRefreshFailureBacksOff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := newCoreAPI(t)
		var failing atomic.Bool
		a.onToken(func(req *http.Request) (*http.Response, error) {
			if failing.Load() {
				return coreJSON(500, coreEnvelope("internal-server-error", "Internal", "")), nil
			}
			return a.mintToken(req), nil
		})
		c := newCoreClient(t, a, WithRetryPolicy(RetryPolicy{MaxAttempts: 1}))
		ctx := context.Background()
		tok1, err := c.Token(ctx)
		require.NoError(t, err)

		failing.Store(true)
		time.Sleep(56 * time.Minute)
		got, err := c.Token(ctx)
		require.NoError(t, err)
		assert.Equal(t, tok1.AccessToken, got.AccessToken)
		synctest.Wait()
		assert.Equal(t, 2, a.nTokens())

		for range 10 {
			got, err = c.Token(ctx)
			require.NoError(t, err, "a failed background refresh does not fail callers while the token is valid")
			assert.Equal(t, tok1.AccessToken, got.AccessToken)
		}
		synctest.Wait()
		assert.Equal(t, 2, a.nTokens(), "no retry within 30s of a failed refresh")

		time.Sleep(31 * time.Second)
		failing.Store(false)
		_, err = c.Token(ctx)
		require.NoError(t, err)
		synctest.Wait()
		assert.Equal(t, 3, a.nTokens())
		got, err = c.Token(ctx)
		require.NoError(t, err)
		assert.Equal(t, "server-token-2", got.AccessToken)
	})
}

func TestExpiredTokenOneSharedRefresh(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := newCoreAPI(t)
		a.onToken(func(req *http.Request) (*http.Response, error) {
			time.Sleep(100 * time.Millisecond) // a slow token endpoint keeps the flight open
			return a.mintToken(req), nil
		})
		a.handle(http.MethodGet, "/jobs/job-1", 200, coreJobJSON)
		c := newCoreClient(t, a)
		_, err := c.Token(context.Background())
		require.NoError(t, err)
		time.Sleep(time.Hour + time.Second) // expired, nobody refreshed early
		var wg sync.WaitGroup
		errs := make([]error, 200)
		for i := range errs {
			wg.Go(func() { _, errs[i] = c.Jobs.Get(context.Background(), "job-1") })
		}
		wg.Wait()
		for _, err := range errs {
			require.NoError(t, err)
		}
		assert.Equal(t, 2, a.nTokens())
		for _, r := range a.apiRequests() {
			assert.Equal(t, "Bearer server-token-2", r.Header.Get("Authorization"))
		}
	})
}

// ---------------------------------------------------------------------------
// Rejected tokens and bad keys

func TestRejectedTokenReplayedOnce(t *testing.T) {
	for _, tc := range []struct {
		name     string
		status   int
		body     string
		sentinel error
	}{
		{"403 access-denied", 403, accessDenied, ErrTokenExpired},
		{"401", 401, coreEnvelope("unauthorized-access", "Unauthorized", "You are not authorized to access this resource"), ErrUnauthorized},
	} {
		t.Run(tc.name+" then ok", func(t *testing.T) {
			a := newCoreAPI(t)
			h, n := sequence(status(tc.status, tc.body), status(200, coreJobJSON))
			a.handleFunc(http.MethodGet, "/jobs/job-1", h)
			c := newCoreClient(t, a)
			job, err := c.Jobs.Get(context.Background(), "job-1")
			require.NoError(t, err)
			assert.Equal(t, "job-1", job.ID)
			assert.EqualValues(t, 2, n.Load())
			api := a.apiRequests()
			assert.Equal(t, "Bearer server-token-1", api[0].Header.Get("Authorization"))
			assert.Equal(t, "Bearer server-token-2", api[1].Header.Get("Authorization"))
			assert.Equal(t, 2, a.nTokens())
		})
		t.Run(tc.name+" always", func(t *testing.T) {
			a := newCoreAPI(t)
			h, n := sequence(status(tc.status, tc.body))
			a.handleFunc(http.MethodGet, "/jobs/job-1", h)
			c := newCoreClient(t, a)
			_, err := c.Jobs.Get(context.Background(), "job-1")
			assert.ErrorIs(t, err, tc.sentinel)
			var apiErr *APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, tc.status, apiErr.StatusCode)
			assert.EqualValues(t, 2, n.Load(), "replayed once, never looped")
			assert.Equal(t, 2, a.nTokens())
		})
	}
	t.Run("403 forbidden-access is not replayed", func(t *testing.T) {
		a := newCoreAPI(t)
		h, n := sequence(status(403, coreEnvelope("forbidden-access", "Forbidden", "Access to this resource is forbidden")))
		a.handleFunc(http.MethodGet, "/jobs/job-1", h)
		c := newCoreClient(t, a)
		_, err := c.Jobs.Get(context.Background(), "job-1")
		assert.ErrorIs(t, err, ErrForbidden)
		assert.EqualValues(t, 1, n.Load())
		assert.Equal(t, 1, a.nTokens())
	})
	t.Run("POST replayed after access-denied", func(t *testing.T) {
		a := newCoreAPI(t)
		h, n := sequence(status(403, accessDenied), status(202, `{"type":"job","id":"j-r"}`))
		a.handleFunc(http.MethodPost, "/users/u1/connections/c1/refresh", h)
		c := newCoreClient(t, a)
		job, err := c.Connections.Refresh(context.Background(), "u1", "c1")
		require.NoError(t, err)
		assert.Equal(t, "j-r", job.ID)
		assert.False(t, job.Reused)
		assert.EqualValues(t, 2, n.Load())
	})
	t.Run("client token replaced for SubmitMFA", func(t *testing.T) {
		a := newCoreAPI(t)
		h, n := sequence(status(401, coreEnvelope("invalid-authorization-token", "Invalid authorization token.", "")), status(202, `{"type":"job","id":"j-m"}`))
		a.handleFunc(http.MethodPost, "/jobs/j-m/mfa", h)
		c := newCoreClient(t, a)
		srv, err := c.Token(context.Background())
		require.NoError(t, err)
		_, err = c.Jobs.SubmitMFA(context.Background(), "u1", "j-m", []string{"1234"})
		require.NoError(t, err)
		assert.EqualValues(t, 2, n.Load())
		api := a.apiRequests()
		assert.Equal(t, "Bearer client-token-u1-2", api[0].Header.Get("Authorization"))
		assert.Equal(t, "Bearer client-token-u1-3", api[1].Header.Get("Authorization"))
		again, err := c.Token(context.Background())
		require.NoError(t, err)
		assert.Equal(t, srv.AccessToken, again.AccessToken, "the server token is untouched")
	})
}

func TestBadAPIKey(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		body   string
		code   string
	}{
		// as recorded in token__postTokenNotFound.json: a bad key is a 404
		{"404", 404, `{"correlationId":"1c16f75c-36fb-421f-98a5-bf18a0b6583c","data":[{"code":"parameter-not-valid","detail":"Unable to authenticate. Please, check your API key","title":"We have encountered an error","type":"error"}],"type":"list"}`, "parameter-not-valid"},
		{"400", 400, coreEnvelope("parameter-not-valid", "Required parameter not valid", "Invalid authorization header"), "parameter-not-valid"},
		{"401", 401, coreEnvelope("unauthorized-access", "Unauthorized", ""), "unauthorized-access"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				a := newCoreAPI(t)
				a.onToken(func(*http.Request) (*http.Response, error) { return coreJSON(tc.status, tc.body), nil })
				a.handle(http.MethodGet, "/jobs/job-1", 200, coreJobJSON)
				c := newCoreClient(t, a, WithRetryPolicy(retryTestPolicy))
				_, err := c.Jobs.Get(context.Background(), "job-1")
				var authErr *AuthError
				require.ErrorAs(t, err, &authErr)
				assert.Equal(t, tc.status, authErr.StatusCode)
				assert.Equal(t, ScopeServerAccess, authErr.Scope)
				assert.ErrorIs(t, err, ErrUnauthorized)
				var apiErr *APIError
				require.ErrorAs(t, err, &apiErr)
				assert.Equal(t, tc.code, apiErr.Code())
				assert.Equal(t, "/token", apiErr.Path)
				assert.Equal(t, 1, a.nTokens(), "a rejected key is never retried")
				assert.Empty(t, a.apiRequests())
				assert.NotContains(t, err.Error(), coreAPIKey)
				assert.NotContains(t, fmt.Sprintf("%+v %#v", err, err), coreAPIKey)

				_, err = c.ClientToken(context.Background(), "u1")
				require.ErrorAs(t, err, &authErr)
				assert.Equal(t, ScopeClientAccess, authErr.Scope)
			})
		})
	}
}

func TestTokenEndpointTransientFailures(t *testing.T) {
	t.Run("503 then ok", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			a := newCoreAPI(t)
			var n atomic.Int64
			a.onToken(func(req *http.Request) (*http.Response, error) {
				if n.Add(1) == 1 {
					return coreJSON(503, ""), nil
				}
				return a.mintToken(req), nil
			})
			c := newCoreClient(t, a, WithRetryPolicy(retryTestPolicy))
			tok, err := c.Token(context.Background())
			require.NoError(t, err)
			assert.Equal(t, "server-token-1", tok.AccessToken)
			reqs := a.tokenRequests()
			require.Len(t, reqs, 2, "POST /token has no side effect: it is retried")
			assert.Equal(t, reqs[0].Body, reqs[1].Body)
		})
	})
	t.Run("throttled 403 then ok", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			a := newCoreAPI(t)
			var n atomic.Int64
			a.onToken(func(req *http.Request) (*http.Response, error) {
				if n.Add(1) == 1 {
					return coreJSON(403, coreEnvelope("request-not-valid", "Invalid request", "Invalid request")), nil
				}
				return a.mintToken(req), nil
			})
			c := newCoreClient(t, a, WithRetryPolicy(retryTestPolicy))
			_, err := c.Token(context.Background())
			require.NoError(t, err)
			assert.Equal(t, 2, a.nTokens())
		})
	})
	t.Run("exhausted 503", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			a := newCoreAPI(t)
			a.onToken(func(*http.Request) (*http.Response, error) { return coreJSON(503, ""), nil })
			c := newCoreClient(t, a, WithRetryPolicy(retryTestPolicy))
			_, err := c.Token(context.Background())
			var authErr *AuthError
			require.ErrorAs(t, err, &authErr)
			assert.Equal(t, 503, authErr.StatusCode)
			assert.ErrorIs(t, err, ErrUnavailable)
			assert.Equal(t, 4, a.nTokens())
		})
	})
	t.Run("network error", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			a := newCoreAPI(t)
			a.onToken(func(*http.Request) (*http.Response, error) {
				return nil, &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}
			})
			c := newCoreClient(t, a, WithRetryPolicy(retryTestPolicy))
			_, err := c.Token(context.Background())
			var authErr *AuthError
			require.ErrorAs(t, err, &authErr)
			assert.Zero(t, authErr.StatusCode)
			var op *net.OpError
			assert.ErrorAs(t, err, &op)
			assert.Equal(t, 4, a.nTokens())
		})
	})
}

// ---------------------------------------------------------------------------
// Caches

func TestClientTokenCacheIsBoundedLRU(t *testing.T) {
	a := newCoreAPI(t)
	c := newCoreClient(t, a, WithTokenCache(nopTokenCache{}))
	c.tokens.maxUsers = 2
	ctx := context.Background()
	get := func(user string) string {
		tok, err := c.ClientToken(ctx, user)
		require.NoError(t, err)
		return tok.AccessToken
	}
	users := func() []string {
		c.tokens.mu.Lock()
		defer c.tokens.mu.Unlock()
		var out []string
		for u := range c.tokens.clients {
			out = append(out, u)
		}
		sort.Strings(out)
		assert.Equal(t, len(out), c.tokens.lru.Len())
		return out
	}
	t1 := get("u1")
	get("u2")
	assert.Equal(t, t1, get("u1"), "cached; and u1 becomes the most recent")
	assert.Equal(t, 2, a.nTokens())
	get("u3") // evicts u2, the least recently used
	assert.Equal(t, []string{"u1", "u3"}, users())
	assert.Equal(t, t1, get("u1"), "u1 survived")
	assert.Equal(t, 3, a.nTokens())
	get("u2") // evicted: fetched again
	assert.Equal(t, 4, a.nTokens())
	assert.Equal(t, []string{"u1", "u2"}, users())

	c.tokens.maxUsers = 16
	for i := range 500 {
		get(fmt.Sprintf("user-%d", i))
	}
	assert.Len(t, users(), 16, "thousands of users do not grow the cache")
	srv, err := c.Token(ctx)
	require.NoError(t, err)
	assert.Equal(t, ScopeServerAccess, srv.Scope, "the server token is not in the LRU")
}

// nopTokenCache stores nothing.
type nopTokenCache struct{}

func (nopTokenCache) Get(context.Context, string) (Token, bool, error) { return Token{}, false, nil }
func (nopTokenCache) Set(context.Context, string, Token) error         { return nil }

// recordingTokenCache is a MemoryTokenCache that records keys.
type recordingTokenCache struct {
	*MemoryTokenCache
	mu   sync.Mutex
	keys []string
}

func (r *recordingTokenCache) Set(ctx context.Context, key string, tok Token) error {
	r.mu.Lock()
	r.keys = append(r.keys, key)
	r.mu.Unlock()
	return r.MemoryTokenCache.Set(ctx, key, tok)
}

func TestSharedTokenCache(t *testing.T) {
	a := newCoreAPI(t)
	cache := &recordingTokenCache{MemoryTokenCache: NewMemoryTokenCache()}
	ctx := context.Background()
	c1 := newCoreClient(t, a, WithTokenCache(cache))
	c2 := newCoreClient(t, a, WithTokenCache(cache))
	t1, err := c1.Token(ctx)
	require.NoError(t, err)
	t2, err := c2.Token(ctx)
	require.NoError(t, err)
	assert.Equal(t, t1.AccessToken, t2.AccessToken, "a second client (or process) reuses the shared token")
	assert.Equal(t, 1, a.nTokens())

	c3 := newCoreClient(t, a, WithTokenCache(cache), WithAPIVersion(V2_1))
	t3, err := c3.Token(ctx)
	require.NoError(t, err)
	assert.NotEqual(t, t1.AccessToken, t3.AccessToken, "tokens are per API version")

	c4, err := NewClient("b3RoZXIta2V5", WithHTTPClient(&http.Client{Transport: a.mt}), WithBaseURL(coreBaseURL), WithTokenCache(cache))
	require.NoError(t, err)
	t4, err := c4.Token(ctx)
	require.NoError(t, err)
	assert.NotEqual(t, t1.AccessToken, t4.AccessToken, "tokens are per API key")

	_, err = c1.ClientToken(ctx, "user-9")
	require.NoError(t, err)
	_, err = c2.ClientToken(ctx, "user-9")
	require.NoError(t, err)
	assert.Equal(t, 4, a.nTokens())
	assert.Equal(t, 4, cache.Len())

	cache.mu.Lock()
	defer cache.mu.Unlock()
	require.Len(t, cache.keys, 4)
	for _, k := range cache.keys {
		assert.NotContains(t, k, coreAPIKey)
		assert.True(t, strings.HasPrefix(k, "basiq:token:"), k)
	}
	assert.True(t, strings.HasSuffix(cache.keys[0], ":3.0:SERVER_ACCESS"), cache.keys[0])
	assert.True(t, strings.HasSuffix(cache.keys[1], ":2.1:SERVER_ACCESS"), cache.keys[1])
	assert.True(t, strings.HasSuffix(cache.keys[3], ":3.0:CLIENT_ACCESS:user-9"), cache.keys[3])
	assert.NotEqual(t, cache.keys[0], cache.keys[2], "different API keys never share a cache key")
}

// staticTokenCache always returns one token.
type staticTokenCache struct{ tok Token }

func (s staticTokenCache) Get(context.Context, string) (Token, bool, error) { return s.tok, true, nil }
func (staticTokenCache) Set(context.Context, string, Token) error           { return nil }

func TestTokenCacheContents(t *testing.T) {
	t.Run("expired entry ignored", func(t *testing.T) {
		a := newCoreAPI(t)
		c := newCoreClient(t, a, WithTokenCache(staticTokenCache{Token{AccessToken: "stale", ExpiresAt: time.Now().Add(-time.Minute)}}))
		tok, err := c.Token(context.Background())
		require.NoError(t, err)
		assert.Equal(t, "server-token-1", tok.AccessToken)
	})
	t.Run("valid entry used without a request", func(t *testing.T) {
		a := newCoreAPI(t)
		c := newCoreClient(t, a, WithTokenCache(staticTokenCache{Token{AccessToken: "shared", Scope: ScopeServerAccess, ExpiresAt: time.Now().Add(time.Hour)}}))
		tok, err := c.Token(context.Background())
		require.NoError(t, err)
		assert.Equal(t, "shared", tok.AccessToken)
		assert.Empty(t, a.tokenRequests())
	})
	t.Run("rejected entry ignored", func(t *testing.T) {
		a := newCoreAPI(t)
		h, _ := sequence(status(403, accessDenied), status(200, coreJobJSON))
		a.handleFunc(http.MethodGet, "/jobs/job-1", h)
		c := newCoreClient(t, a, WithTokenCache(staticTokenCache{Token{AccessToken: "shared", ExpiresAt: time.Now().Add(time.Hour)}}))
		_, err := c.Jobs.Get(context.Background(), "job-1")
		require.NoError(t, err)
		api := a.apiRequests()
		require.Len(t, api, 2)
		assert.Equal(t, "Bearer shared", api[0].Header.Get("Authorization"))
		assert.Equal(t, "Bearer server-token-1", api[1].Header.Get("Authorization"), "the shared cache still holds the rejected token; it is not reused")
	})
}

// failingTokenCache fails every operation.
type failingTokenCache struct{}

func (failingTokenCache) Get(context.Context, string) (Token, bool, error) {
	return Token{}, false, errors.New("redis: connection refused")
}
func (failingTokenCache) Set(context.Context, string, Token) error {
	return errors.New("redis: connection refused")
}

func TestTokenCacheErrorsDoNotFailCalls(t *testing.T) {
	var buf syncBuffer
	a := newCoreAPI(t)
	a.handle(http.MethodGet, "/jobs/job-1", 200, coreJobJSON)
	c := newCoreClient(t, a, WithTokenCache(failingTokenCache{}), WithLogger(slog.New(slog.NewJSONHandler(&buf, nil))))
	for range 3 {
		_, err := c.Jobs.Get(context.Background(), "job-1")
		require.NoError(t, err)
	}
	assert.Equal(t, 1, a.nTokens(), "the client's own copy is used")
	assert.Contains(t, buf.String(), "token cache failed")
	assert.Contains(t, buf.String(), `"op":"get"`)
	assert.Contains(t, buf.String(), `"op":"set"`)
	assert.NotContains(t, buf.String(), "server-token-1")
}

func TestMemoryTokenCache(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	m := NewMemoryTokenCache()
	m.mu.Lock()
	m.state().now = func() time.Time { return now }
	m.mu.Unlock()
	_, ok, err := m.Get(ctx, "k")
	require.NoError(t, err)
	assert.False(t, ok)
	require.NoError(t, m.Set(ctx, "k", Token{AccessToken: "a", ExpiresAt: now.Add(time.Minute)}))
	tok, ok, err := m.Get(ctx, "k")
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, "a", tok.AccessToken)
	now = now.Add(2 * time.Minute)
	_, ok, _ = m.Get(ctx, "k")
	assert.False(t, ok, "expired entries are not returned")
	assert.Equal(t, 0, m.Len(), "and are dropped")

	// bounded: the entry closest to expiry goes first
	for i := range memoryTokenCacheMax {
		require.NoError(t, m.Set(ctx, fmt.Sprint("k", i), Token{AccessToken: "x", ExpiresAt: now.Add(time.Hour + time.Duration(i)*time.Second)}))
	}
	assert.Equal(t, memoryTokenCacheMax, m.Len())
	require.NoError(t, m.Set(ctx, "new", Token{AccessToken: "n", ExpiresAt: now.Add(time.Hour)}))
	assert.Equal(t, memoryTokenCacheMax, m.Len())
	_, ok, _ = m.Get(ctx, "k0")
	assert.False(t, ok, "the soonest to expire was evicted")
	_, ok, _ = m.Get(ctx, "new")
	assert.True(t, ok)
	require.NoError(t, m.Set(ctx, "new", Token{AccessToken: "n2", ExpiresAt: now.Add(time.Hour)}))
	assert.Equal(t, memoryTokenCacheMax, m.Len(), "overwriting does not evict")
}

func TestTokenExpiryFollowsInjectedClock(t *testing.T) {
	a := newCoreAPI(t)
	c := newCoreClient(t, a, WithTokenCache(nopTokenCache{}), WithTokenRefreshBefore(0))
	clock := &fakeClock{now: time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC)}
	c.tokens.now = clock.Now
	ctx := context.Background()

	tok, err := c.Token(ctx)
	require.NoError(t, err)
	assert.Equal(t, clock.Now().Add(time.Hour), tok.ExpiresAt, "expiry is measured on the manager's clock")
	for range 3 {
		again, err := c.Token(ctx)
		require.NoError(t, err)
		assert.Equal(t, tok.AccessToken, again.AccessToken)
	}
	assert.Equal(t, 1, a.nTokens())

	clock.Advance(59 * time.Minute)
	_, err = c.Token(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, a.nTokens())

	clock.Advance(time.Minute)
	tok2, err := c.Token(ctx)
	require.NoError(t, err)
	assert.Equal(t, "server-token-2", tok2.AccessToken)
	assert.Equal(t, 2, a.nTokens())
}

func TestLateFlightTakesTheStoredToken(t *testing.T) {
	// A caller that found no usable token can start its own flight just after
	// another flight stored one; with no shared cache to catch it, the
	// client's own copy must, or an expiry under load mints extra tokens.
	a := newCoreAPI(t)
	c := newCoreClient(t, a, WithTokenCache(nopTokenCache{}))
	ctx := context.Background()
	tok, err := c.Token(ctx)
	require.NoError(t, err)
	late, err := c.tokens.shared(ctx, authServer, "", time.Time{})
	require.NoError(t, err)
	assert.Equal(t, tok.AccessToken, late.AccessToken)
	assert.Equal(t, 1, a.nTokens())

	// but an early refresh asks for a newer token than the one it holds
	fresh, err := c.tokens.shared(ctx, authServer, "", tok.ExpiresAt)
	require.NoError(t, err)
	assert.Equal(t, "server-token-2", fresh.AccessToken)
	assert.Equal(t, 2, a.nTokens())
}

func TestInvalidateOnlyTheRejectedToken(t *testing.T) {
	a := newCoreAPI(t)
	c := newCoreClient(t, a, WithTokenCache(nopTokenCache{}))
	ctx := context.Background()
	_, err := c.Token(ctx)
	require.NoError(t, err)
	c.tokens.invalidate(authServer, "", "server-token-1")
	tok2, err := c.Token(ctx)
	require.NoError(t, err)
	assert.Equal(t, "server-token-2", tok2.AccessToken)

	// a straggler still holding the old token reports it rejected: the new
	// token stays
	c.tokens.invalidate(authServer, "", "server-token-1")
	again, err := c.Token(ctx)
	require.NoError(t, err)
	assert.Equal(t, tok2.AccessToken, again.AccessToken)
	assert.Equal(t, 2, a.nTokens())

	// client tokens likewise, per user; an unknown user is a no-op
	ct, err := c.ClientToken(ctx, "u1")
	require.NoError(t, err)
	c.tokens.invalidate(authClient, "u1", "something-else")
	c.tokens.invalidate(authClient, "nobody", ct.AccessToken)
	again, err = c.ClientToken(ctx, "u1")
	require.NoError(t, err)
	assert.Equal(t, ct.AccessToken, again.AccessToken)
	c.tokens.invalidate(authClient, "u1", ct.AccessToken)
	again, err = c.ClientToken(ctx, "u1")
	require.NoError(t, err)
	assert.NotEqual(t, ct.AccessToken, again.AccessToken)
	assert.Equal(t, 4, a.nTokens())
}

// TestTokenRefreshSpreadAcrossFleet: replicas sharing a token through a
// TokenCache refresh it at different moments, so most find the first one's
// new token in the cache instead of minting their own.
func TestTokenRefreshSpreadAcrossFleet(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := newCoreAPI(t)
		a.onToken(func(req *http.Request) (*http.Response, error) {
			time.Sleep(300 * time.Millisecond) // the token endpoint is across a network
			return a.mintToken(req), nil
		})
		cache := NewMemoryTokenCache()
		var fleet []*Client
		for i := range 10 {
			c := newCoreClient(t, a, WithTokenCache(cache))
			c.tokens.spread = func() float64 { return float64(i) / 10 }
			fleet = append(fleet, c)
		}
		ctx := context.Background()
		for _, c := range fleet {
			_, err := c.Token(ctx)
			require.NoError(t, err)
		}
		require.Equal(t, 1, a.nTokens(), "the fleet starts on one token")
		// Every replica is busy: each asks for its token every 10 seconds.
		for range 6 * 60 {
			time.Sleep(10 * time.Second)
			for _, c := range fleet {
				_, err := c.Token(ctx)
				require.NoError(t, err)
			}
			synctest.Wait()
		}
		assert.Equal(t, 2, a.nTokens(), "one refresh for the whole fleet in the hour")
	})
}

// hangingTokenCache blocks every call until its context ends, like a Redis
// behind a network partition.
type hangingTokenCache struct{ gets, sets atomic.Int64 }

func (h *hangingTokenCache) Get(ctx context.Context, _ string) (Token, bool, error) {
	h.gets.Add(1)
	<-ctx.Done()
	return Token{}, false, ctx.Err()
}

func (h *hangingTokenCache) Set(ctx context.Context, _ string, _ Token) error {
	h.sets.Add(1)
	<-ctx.Done()
	return ctx.Err()
}

func TestTokenCacheThatHangsDoesNotStopCalls(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newJobFake(hooliSteps())
		cache := &hangingTokenCache{}
		c, err := NewClient("a2V5OnNlY3JldA==", WithHTTPClient(&http.Client{Transport: f}), WithTokenCache(cache))
		require.NoError(t, err)
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()
		start := time.Now()
		_, err = c.Jobs.Get(ctx, fakeJobID)
		require.NoError(t, err, "a hanging cache costs a moment, not the call")
		assert.LessOrEqual(t, time.Since(start), 2*time.Second)
		assert.Equal(t, 1, f.tokens, "the SDK minted its own token")
		assert.Equal(t, int64(1), cache.gets.Load())
		time.Sleep(time.Second) // virtual: the background Set gives up on its own deadline
		synctest.Wait()
		assert.Equal(t, int64(1), cache.sets.Load())
	})
}

func TestTokenExpiresInAsFloatOrStringIsAccepted(t *testing.T) {
	for _, expiresIn := range []string{`3600.0`, `"3600"`, `3600`} {
		t.Run(expiresIn, func(t *testing.T) {
			a := newCoreAPI(t)
			a.onToken(func(*http.Request) (*http.Response, error) {
				return coreJSON(200, `{"access_token":"tok-1","expires_in":`+expiresIn+`,"token_type":"Bearer"}`), nil
			})
			c := newCoreClient(t, a)
			start := time.Now()
			tok, err := c.Token(t.Context())
			require.NoError(t, err)
			assert.Equal(t, "tok-1", tok.AccessToken)
			assert.WithinDuration(t, start.Add(time.Hour), tok.ExpiresAt, time.Minute)
		})
	}
	t.Run("a malformed answer names the real problem", func(t *testing.T) {
		a := newCoreAPI(t)
		a.onToken(func(*http.Request) (*http.Response, error) {
			return coreJSON(200, `{"access_token":["tok-secret"],"expires_in":3600}`), nil
		})
		c := newCoreClient(t, a)
		_, err := c.Token(t.Context())
		require.Error(t, err)
		assert.NotContains(t, err.Error(), "has no access_token")
		assert.Contains(t, err.Error(), "cannot unmarshal", "the decoder's own error")
		assert.NotContains(t, err.Error(), "tok-secret")
	})
}
