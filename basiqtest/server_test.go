package basiqtest_test

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banklink-go/basiq/basiqtest"
)

func TestSocketServer(t *testing.T) {
	srv := basiqtest.NewServer(basiqtest.WithTimeScale(0))
	defer srv.Close()
	assert.True(t, strings.HasPrefix(srv.URL, "http://127.0.0.1:"), srv.URL)
	assert.False(t, strings.HasSuffix(srv.URL, "/"))

	a := &api{t: t, srv: srv, http: &http.Client{}}
	tok := a.serverToken("2.1")
	userID := a.createUser(tok)

	// Many clients at once, as a backend would.
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			jobID := a.connect(tok, userID, "AU00000", "gavinBelson", "hooli2016")
			assert.Equal(t, "success", a.job(tok, jobID).step(t, "retrieve-transactions").Status)
		})
	}
	wg.Wait()
	assert.Equal(t, 16, srv.RequestCount("POST", "/users/{userId}/connections"))
	assert.Equal(t, 16, srv.RequestCount("GET", "/jobs/{jobId}"))
}

func TestInMemoryServer(t *testing.T) {
	srv := basiqtest.NewServer(basiqtest.InMemory())
	assert.Equal(t, "https://basiq.test", srv.URL)
	a := newAPI(t, srv)
	tok := a.serverToken("3.0")

	// The transport serves any host, so code hard-wired to Basiq's URL works.
	req, err := http.NewRequest("GET", "https://au-api.basiq.io/institutions/AU00000", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+tok)
	res, err := srv.Client().Do(req)
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, "application/json", res.Header.Get("Content-Type"))

	srv.Close()
	_, err = srv.Client().Get(srv.URL + "/institutions")
	assert.Error(t, err)
}

func TestRoutingErrors(t *testing.T) {
	srv := basiqtest.NewServer(basiqtest.InMemory())
	defer srv.Close()
	a := newAPI(t, srv)
	tok := a.serverToken("3.0")

	e1 := requireError(t, a.send("GET", "/accounts", tok, nil), http.StatusNotFound, "resource-not-found")
	e2 := requireError(t, a.send("GET", "/accounts", tok, nil), http.StatusNotFound, "resource-not-found")
	assert.NotEqual(t, e1.CorrelationID, e2.CorrelationID, "a fresh correlationId each time")

	r := a.send("PUT", "/users/8cda72db-b11f-4b8e-a4ca-3c5b1de4e4b5", tok, nil)
	requireError(t, r, http.StatusMethodNotAllowed, "method-not-allowed")
	assert.Equal(t, "DELETE, GET, POST", r.Header.Get("Allow"))
	requireError(t, a.send("GET", "/token", "", nil), http.StatusMethodNotAllowed, "method-not-allowed")

	requireError(t, a.send("GET", "/institutions", tok, nil, "Accept", "text/html"), http.StatusBadRequest, "unsupported-accept")
	assert.Equal(t, http.StatusOK, a.send("GET", "/institutions", tok, nil, "Accept", "application/json").Status)
}

func TestRequestLog(t *testing.T) {
	srv := basiqtest.NewServer(basiqtest.InMemory(), basiqtest.WithRequestLogLimit(3))
	defer srv.Close()
	a := newAPI(t, srv)
	tok := a.serverToken("3.0")
	a.send("GET", "/institutions?filter=institution.tier.eq('1')", tok, nil, "User-Agent", "my-app/1.0")

	reqs := srv.Requests()
	require.Len(t, reqs, 2)
	assert.Equal(t, "/token", reqs[0].Route)
	assert.Equal(t, "scope=SERVER_ACCESS", string(reqs[0].Body))
	assert.Equal(t, "3.0", reqs[0].Header.Get("basiq-version"))
	got := reqs[1]
	assert.Equal(t, "GET", got.Method)
	assert.Equal(t, "/institutions", got.Path)
	assert.Equal(t, "/institutions", got.Route)
	assert.Equal(t, "institution.tier.eq('1')", got.Query.Get("filter"))
	assert.Equal(t, http.StatusOK, got.Status)
	assert.Equal(t, "my-app/1.0", got.Header.Get("User-Agent"))
	assert.False(t, got.Time.IsZero())

	got.Header.Set("User-Agent", "changed")
	assert.Equal(t, "my-app/1.0", srv.Requests()[1].Header.Get("User-Agent"), "Requests returns copies")

	for range 5 {
		a.send("GET", "/nowhere", tok, nil)
	}
	reqs = srv.Requests()
	assert.Len(t, reqs, 3, "the log keeps the most recent requests")
	assert.Equal(t, "/nowhere", reqs[2].Path)
	assert.Equal(t, "", reqs[2].Route)
	assert.Equal(t, 5, srv.RequestCount("GET", ""), "counters are exact")

	srv.ResetCounters()
	assert.Empty(t, srv.Requests())
	assert.Zero(t, srv.TokenRequests())
	assert.Zero(t, srv.RequestCount("GET", "/institutions"))
}

// countingReader is an endless request body that counts what is read of it.
type countingReader struct{ n int }

func (r *countingReader) Read(p []byte) (int, error) {
	clear(p)
	r.n += len(p)
	return len(p), nil
}

// The in-memory transport reads no more of a body than the socket server
// (1 MiB and a byte), and answers a larger body the same way.
func TestRequestBodyLimit(t *testing.T) {
	post := func(t *testing.T, srv *basiqtest.Server, hc *http.Client, body io.Reader) {
		a := &api{t: t, srv: srv, http: hc}
		tok := a.serverToken("2.1")
		req, err := http.NewRequest("POST", srv.URL+"/users", body)
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+tok)
		res, err := hc.Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		raw, err := io.ReadAll(res.Body)
		require.NoError(t, err)
		r := resp{Status: res.StatusCode, Header: res.Header, Body: raw}
		requireError(t, r, http.StatusBadRequest, "invalid-content", "Request body is too large.")
	}
	const limit = 1 << 20
	t.Run("in memory", func(t *testing.T) {
		srv := basiqtest.NewServer(basiqtest.InMemory())
		defer srv.Close()
		body := &countingReader{}
		post(t, srv, srv.Client(), io.LimitReader(body, 64<<20))
		assert.Equal(t, limit+1, body.n, "bytes of the body read")
	})
	t.Run("socket", func(t *testing.T) {
		srv := basiqtest.NewServer()
		defer srv.Close()
		post(t, srv, &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}, bytes.NewReader(make([]byte, limit+10)))
	})
}

// Server.Client reaches the handler in memory even when the fake listens,
// unlike httptest.Server.Client: it never dials, whatever the host.
func TestClientIsInMemoryWithAListener(t *testing.T) {
	srv := basiqtest.NewServer()
	defer srv.Close()
	a := newAPI(t, srv)
	tok := a.serverToken("2.1")
	req, err := http.NewRequest("GET", "http://192.0.2.1:1/institutions/AU00000", nil) // TEST-NET-1: unroutable
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+tok)
	res, err := srv.Client().Do(req)
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusOK, res.StatusCode)
}
