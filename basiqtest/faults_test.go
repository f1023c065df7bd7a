package basiqtest_test

import (
	"context"
	"io"
	"net/http"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banklink-go/basiq"
	"github.com/banklink-go/basiq/basiqtest"
)

func TestFaultStatusAndRetryAfter(t *testing.T) {
	srv := basiqtest.NewServer(basiqtest.InMemory())
	defer srv.Close()
	a := newAPI(t, srv)
	tok := a.serverToken("3.0")

	srv.InjectFault(basiqtest.Fault{Method: "GET", Path: "/institutions", Count: 2, Status: http.StatusServiceUnavailable, RetryAfter: "7"})
	for range 2 {
		r := a.send("GET", "/institutions", tok, nil)
		requireError(t, r, http.StatusServiceUnavailable, "service-unavailable")
		assert.Equal(t, "7", r.Header.Get("Retry-After"))
	}
	assert.Equal(t, http.StatusOK, a.send("GET", "/institutions", tok, nil).Status, "the fault is used up")
	assert.Equal(t, 3, srv.RequestCount("GET", "/institutions"))

	var statuses []int
	for _, r := range srv.Requests() {
		if r.Route == "/institutions" {
			statuses = append(statuses, r.Status)
		}
	}
	assert.Equal(t, []int{503, 503, 200}, statuses)

	// 429 gets Basiq's too-many-requests; faults need no valid token.
	srv.InjectFault(basiqtest.Fault{Status: http.StatusTooManyRequests})
	requireError(t, a.send("GET", "/institutions", "", nil), http.StatusTooManyRequests, "too-many-requests")
}

func TestFaultMatching(t *testing.T) {
	srv := basiqtest.NewServer(basiqtest.InMemory())
	defer srv.Close()
	a := newAPI(t, srv)
	tok := a.serverToken("3.0")
	jobPath := "/jobs/00000000-0000-4000-8000-000000000000"

	srv.InjectFault(basiqtest.Fault{Method: "GET", Path: "/jobs/*", Count: -1, Status: http.StatusBadGateway,
		Body: "<html><body>502 Bad Gateway</body></html>"})
	for range 3 {
		r := a.send("GET", jobPath, tok, nil)
		assert.Equal(t, http.StatusBadGateway, r.Status)
		assert.Equal(t, "text/html; charset=utf-8", r.Header.Get("Content-Type"))
		assert.Contains(t, string(r.Body), "Bad Gateway")
	}
	// Other methods and paths are handled normally (here: MFA needs a CLIENT_ACCESS token).
	requireError(t, a.send("POST", jobPath+"/mfa", tok, map[string]any{"mfa-response": []string{"1"}}), http.StatusForbidden, "forbidden-access")
	assert.Equal(t, http.StatusOK, a.send("GET", "/institutions", tok, nil).Status)
	srv.ClearFaults()
	requireError(t, a.send("GET", jobPath, tok, nil), http.StatusNotFound, "resource-not-found")

	assert.Panics(t, func() { srv.InjectFault(basiqtest.Fault{Path: "/jobs/["}) })
}

func TestFaultReset(t *testing.T) {
	t.Run("in memory", func(t *testing.T) {
		srv := basiqtest.NewServer(basiqtest.InMemory())
		defer srv.Close()
		srv.InjectFault(basiqtest.Fault{Path: "/institutions", Reset: true})
		_, err := srv.Client().Get(srv.URL + "/institutions")
		require.Error(t, err)
		assert.ErrorIs(t, err, syscall.ECONNRESET)
		reqs := srv.Requests()
		require.Len(t, reqs, 1)
		assert.Equal(t, 0, reqs[0].Status)
		assert.Equal(t, "/institutions", reqs[0].Route)
	})
	t.Run("socket", func(t *testing.T) {
		srv := basiqtest.NewServer()
		defer srv.Close()
		hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
		srv.InjectFault(basiqtest.Fault{Path: "/institutions", Reset: true})
		_, err := hc.Get(srv.URL + "/institutions")
		require.Error(t, err)
		assert.Equal(t, 1, srv.RequestCount("GET", "/institutions"))
	})
}

func TestFaultTruncate(t *testing.T) {
	check := func(t *testing.T, srv *basiqtest.Server, hc *http.Client) {
		a := &api{t: t, srv: srv, http: hc}
		tok := a.serverToken("2.1")
		userID := a.createUser(tok)
		srv.InjectFault(basiqtest.Fault{Method: "POST", Path: "/users/*/connections", Truncate: true})

		req, err := http.NewRequest("POST", srv.URL+"/users/"+userID+"/connections",
			jsonBody(`{"loginId":"gavinBelson","password":"hooli2016","institution":{"id":"AU00000"}}`))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+tok)
		res, err := hc.Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		assert.Equal(t, http.StatusOK, res.StatusCode)
		assert.Positive(t, res.ContentLength)
		body, err := io.ReadAll(res.Body)
		assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
		assert.Equal(t, int(res.ContentLength)/2, len(body))

		// The server did act: the connection exists.
		conns := a.send("GET", "/users/"+userID+"/connections", tok, nil).JSON(t)["data"].([]any)
		assert.Len(t, conns, 1)
	}
	t.Run("in memory", func(t *testing.T) {
		srv := basiqtest.NewServer(basiqtest.InMemory())
		defer srv.Close()
		check(t, srv, srv.Client())
	})
	t.Run("socket", func(t *testing.T) {
		srv := basiqtest.NewServer()
		defer srv.Close()
		check(t, srv, &http.Client{Transport: &http.Transport{DisableKeepAlives: true}})
	})
}

func TestFaultDelay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := basiqtest.NewServer(basiqtest.InMemory())
		defer srv.Close()
		a := newAPI(t, srv)
		tok := a.serverToken("3.0")

		srv.InjectFault(basiqtest.Fault{Path: "/institutions", Delay: 30 * time.Second})
		start := time.Now()
		assert.Equal(t, http.StatusOK, a.send("GET", "/institutions", tok, nil).Status)
		assert.Equal(t, 30*time.Second, time.Since(start))

		// A delay stops when the caller gives up.
		srv.InjectFault(basiqtest.Fault{Path: "/institutions", Delay: time.Minute})
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, "GET", srv.URL+"/institutions", nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+tok)
		start = time.Now()
		_, err = srv.Client().Do(req)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Equal(t, 5*time.Second, time.Since(start))
		reqs := srv.Requests()
		assert.Equal(t, 0, reqs[len(reqs)-1].Status)

		// Delay and status combine.
		srv.InjectFault(basiqtest.Fault{Delay: time.Second, Status: http.StatusInternalServerError})
		start = time.Now()
		requireError(t, a.send("GET", "/institutions", tok, nil), http.StatusInternalServerError, "internal-server-error")
		assert.Equal(t, time.Second, time.Since(start))
	})
}

// Close ends a request held by an injected Delay at once, on a socket (where
// httptest.Server.Close would otherwise wait for the handler) and in memory.
func TestCloseEndsInjectedDelay(t *testing.T) {
	t.Run("socket", func(t *testing.T) {
		srv := basiqtest.NewServer()
		srv.InjectFault(basiqtest.Fault{Path: "/institutions", Delay: time.Hour})
		failed := make(chan error, 1)
		go func() {
			res, err := (&http.Client{Transport: &http.Transport{DisableKeepAlives: true}}).Get(srv.URL + "/institutions")
			if err == nil {
				res.Body.Close()
			}
			failed <- err
		}()
		for srv.PendingFaults() > 0 { // the handler has taken the fault: it is in the delay
			runtime.Gosched()
		}
		closed := make(chan struct{})
		go func() { srv.Close(); close(closed) }()
		select {
		case <-closed:
		case <-time.After(30 * time.Second): // a deadline for the failure, not a wait for the fake
			t.Fatal("Close is still waiting for the delayed request")
		}
		assert.Error(t, <-failed, "the delayed request is cut")
		reqs := srv.Requests()
		require.Len(t, reqs, 1)
		assert.Equal(t, 0, reqs[0].Status)
	})
	t.Run("in memory", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			srv := basiqtest.NewServer(basiqtest.InMemory())
			srv.InjectFault(basiqtest.Fault{Path: "/institutions", Delay: time.Hour})
			start := time.Now()
			failed := make(chan error, 1)
			go func() {
				_, err := srv.Client().Get(srv.URL + "/institutions")
				failed <- err
			}()
			synctest.Wait()
			srv.Close()
			err := <-failed
			require.Error(t, err)
			assert.Contains(t, err.Error(), "server closed")
			assert.Zero(t, time.Since(start))
		})
	})
}

// When a fault sets both Status and Truncate, Status wins: the status goes
// out whole, and the request is not handled.
func TestFaultStatusBeatsTruncate(t *testing.T) {
	srv := basiqtest.NewServer(basiqtest.InMemory())
	defer srv.Close()
	a := newAPI(t, srv)
	tok := a.serverToken("2.1")
	srv.InjectFault(basiqtest.Fault{Method: "POST", Path: "/users", Status: http.StatusServiceUnavailable, Truncate: true})
	requireError(t, a.send("POST", "/users", tok, map[string]string{"email": "a@b.co"}), http.StatusServiceUnavailable, "service-unavailable")

	// Truncate alone sends a 200 whatever the real status, with half the
	// real body (here half of a 404 envelope).
	srv.InjectFault(basiqtest.Fault{Path: "/jobs/*", Truncate: true})
	req, err := http.NewRequest("GET", srv.URL+"/jobs/00000000-0000-4000-8000-000000000000", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+tok)
	res, err := srv.Client().Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	assert.Equal(t, http.StatusOK, res.StatusCode)
	body, err := io.ReadAll(res.Body)
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
	assert.Contains(t, string(body), `"type":"list"`)
	assert.Equal(t, int(res.ContentLength)/2, len(body))
	reqs := srv.Requests()
	assert.Equal(t, http.StatusOK, reqs[len(reqs)-1].Status)
}

func TestSDKFaultInjection(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := basiqtest.NewServer(basiqtest.InMemory())
		defer srv.Close()
		c := sdkClient(t, srv)
		user := sdkUser(t, c)

		srv.InjectFault(basiqtest.Fault{Method: "GET", Path: "/users/*", Count: 2, Status: 503})
		_, err := c.Users.Get(t.Context(), user)
		require.NoError(t, err, "two 503s are retried away")
		assert.Equal(t, 3, srv.RequestCount("GET", "/users/{userId}"))

		srv.InjectFault(basiqtest.Fault{Method: "GET", Path: "/users/*", Count: 1, Status: 429, RetryAfter: "3"})
		start := time.Now()
		_, err = c.Users.Get(t.Context(), user)
		require.NoError(t, err)
		assert.Equal(t, 3*time.Second, time.Since(start), "Retry-After honoured")

		srv.InjectFault(basiqtest.Fault{Method: "POST", Path: "/users/*/connections", Count: 1, Reset: true})
		_, err = c.Connections.Create(t.Context(), user, basiq.Credentials{InstitutionID: "AU00000", LoginID: "gavinBelson", Password: "hooli2016"})
		require.Error(t, err, "a reset after sending is not retried")
		assert.Equal(t, 1, srv.RequestCount("POST", "/users/{userId}/connections"))

		srv.InjectFault(basiqtest.Fault{Method: "GET", Path: "/users/*", Count: 1, Truncate: true})
		_, err = c.Users.Get(t.Context(), user)
		require.NoError(t, err, "a truncated GET body is asked for again")
	})
}

// jsonBody is a request body.
func jsonBody(s string) io.Reader { return strings.NewReader(s) }
