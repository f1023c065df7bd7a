package basiq_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/banklink-go/basiq"
	"github.com/banklink-go/basiq/basiqtest"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// hardSpecExamples returns every file of Basiq's recorded responses
// (testdata/README.md).
func hardSpecExamples(tb testing.TB) [][]byte {
	dir := filepath.Join("testdata", "basiq-spec", "v2.1", "examples")
	entries, err := os.ReadDir(dir)
	if err != nil {
		tb.Fatalf("recorded Basiq responses missing from testdata: %v", err)
	}
	var out [][]byte
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			tb.Fatalf("reading %s: %v", e.Name(), err)
		}
		out = append(out, b)
	}
	return out
}

// fakeV21 is an in-memory fake and a 2.1 client on it.
func fakeV21(t *testing.T, opts ...basiqtest.Option) (*basiqtest.Server, *basiq.Client) {
	srv := basiqtest.NewServer(append([]basiqtest.Option{basiqtest.InMemory()}, opts...)...)
	t.Cleanup(srv.Close)
	c, err := basiq.NewClient(srv.APIKey(), basiq.WithBaseURL(srv.URL), basiq.WithHTTPClient(srv.Client()), basiq.WithAPIVersion(basiq.V2_1))
	require.NoError(t, err)
	return srv, c
}

// v3Fake is an in-memory fake whose jobs finish at once, a 3.0 client for
// it, and a user.
func v3Fake(t *testing.T, opts ...basiqtest.Option) (*basiqtest.Server, *basiq.Client, string) {
	t.Helper()
	srv := basiqtest.NewServer(append([]basiqtest.Option{basiqtest.InMemory(), basiqtest.WithTimeScale(0)}, opts...)...)
	t.Cleanup(srv.Close)
	c, err := basiq.NewClient(srv.APIKey(), basiq.WithBaseURL(srv.URL), basiq.WithHTTPClient(srv.Client()))
	require.NoError(t, err)
	u, err := c.Users.Create(t.Context(), basiq.UserParams{Email: "gavin@hooli.com"})
	require.NoError(t, err)
	return srv, c, u.ID
}

// consentAs plays the user in the fake's Consent UI on link and returns the
// redirect back, parsed.
func consentAs(t *testing.T, srv *basiqtest.Server, link string, logins ...basiqtest.ConsentLogin) basiq.ConsentRedirect {
	t.Helper()
	back, err := srv.CompleteConsent(link, basiqtest.WithConsentLogins(logins...))
	require.NoError(t, err)
	u, err := url.Parse(back)
	require.NoError(t, err)
	rd, err := basiq.ParseConsentRedirect(u)
	require.NoError(t, err)
	return rd
}

// failBighead connects bighead (who always fails with invalid-credentials)
// and returns the failure.
func failBighead(t *testing.T, srv *basiqtest.Server, c *basiq.Client, userID string) *basiq.JobFailedError {
	t.Helper()
	link, err := c.Consents.Link(t.Context(), userID, nil)
	require.NoError(t, err)
	rd := consentAs(t, srv, link.URL, bighead)
	require.True(t, rd.StateMatches(link.State))
	outs, err := c.Jobs.WaitAll(t.Context(), rd.JobIDs, &basiq.PollOptions{UserID: userID})
	require.NoError(t, err)
	require.Len(t, outs, 1)
	f, failed := outs[0].Failed()
	require.True(t, failed, "bighead fails: %v", outs[0].Err)
	return f
}

// Routes of the fake, as its request log names them.
const (
	hardRouteJob         = "/jobs/{jobId}"
	hardRouteToken       = "/token"
	hardRouteUsers       = "/users"
	hardRouteConnections = "/users/{userId}/connections"
	hardRouteConnection  = "/users/{userId}/connections/{connectionId}"
)

// hardBubble runs f in a synctest bubble and then checks that the process has
// no goroutine the test started and left running.
func hardBubble(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	ignore := goleak.IgnoreCurrent()
	synctest.Test(t, f)
	goleak.VerifyNone(t, ignore)
}

// hardRecorder is an http.RoundTripper in front of another: it keeps the
// exact escaped path of every request, and the access tokens handed out by
// POST /token.
type hardRecorder struct {
	next http.RoundTripper
	// before, when set, may answer a request instead of next.
	before func(*http.Request) (*http.Response, error, bool)

	mu     sync.Mutex
	recs   []hardRecord
	tokens []string
}

func (r *hardRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	var resp *http.Response
	var err error
	handled := false
	if r.before != nil {
		resp, err, handled = r.before(req)
	}
	if !handled {
		resp, err = r.next.RoundTrip(req)
	}
	rec := hardRecord{Method: req.Method, EscapedPath: req.URL.EscapedPath(), RawQuery: req.URL.RawQuery, Err: err}
	var tok string
	if err == nil && strings.HasSuffix(req.URL.Path, "/token") && resp.StatusCode == http.StatusOK {
		body, rerr := io.ReadAll(resp.Body)
		resp.Body.Close()
		resp.Body = io.NopCloser(bytes.NewReader(body))
		var tr struct {
			AccessToken string `json:"access_token"`
		}
		if rerr == nil && json.Unmarshal(body, &tr) == nil {
			tok = tr.AccessToken
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.recs = append(r.recs, rec)
	if tok != "" {
		r.tokens = append(r.tokens, tok)
	}
	return resp, err
}

// records returns what was sent, leaving out POST /token unless withToken.
func (r *hardRecorder) records(withToken bool) []hardRecord {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []hardRecord
	for _, rec := range r.recs {
		if !withToken && strings.HasSuffix(rec.EscapedPath, "/token") {
			continue
		}
		out = append(out, rec)
	}
	return out
}

func (r *hardRecorder) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.recs = nil
}

func (r *hardRecorder) issued() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.tokens...)
}

// hardServer starts an in-memory fake, closed when the test ends.
func hardServer(t testing.TB, opts ...basiqtest.Option) *basiqtest.Server {
	t.Helper()
	srv := basiqtest.NewServer(append([]basiqtest.Option{basiqtest.InMemory()}, opts...)...)
	t.Cleanup(srv.Close)
	return srv
}

// hardNewClient returns a client for srv on API version 2.1 with hardPolicy,
// sending through a recorder (and hc's timeout, when hc is given).
func hardNewClient(t testing.TB, srv *basiqtest.Server, hc *http.Client, opts ...basiq.Option) (*basiq.Client, *hardRecorder) {
	t.Helper()
	rec := &hardRecorder{next: srv.Transport()}
	if hc == nil {
		hc = &http.Client{}
	}
	hc.Transport = rec
	all := append([]basiq.Option{
		basiq.WithBaseURL(srv.URL), basiq.WithHTTPClient(hc), basiq.WithAPIVersion(basiq.V2_1),
		basiq.WithRetryPolicy(hardPolicy),
	}, opts...)
	c, err := basiq.NewClient(srv.APIKey(), all...)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return c, rec
}

// hardSetup makes a fake, a client, a user and a Hooli connection job, then
// clears the fake's counters so that a test counts only its own requests.
func hardSetup(t *testing.T, hc *http.Client, srvOpts []basiqtest.Option, opts ...basiq.Option) *hardEnv {
	t.Helper()
	srv := hardServer(t, srvOpts...)
	c, rec := hardNewClient(t, srv, hc, opts...)
	ctx := t.Context()
	user, err := c.Users.Create(ctx, basiq.UserParams{Email: "hard@example.com"})
	if err != nil {
		t.Fatalf("Users.Create: %v", err)
	}
	job, err := c.Connections.Create(ctx, user.ID, basiq.Credentials{InstitutionID: "AU00000", LoginID: "gavinBelson", Password: "hooli2016"})
	if err != nil {
		t.Fatalf("Connections.Create: %v", err)
	}
	srv.ResetCounters()
	rec.reset()
	return &hardEnv{srv: srv, rec: rec, c: c, userID: user.ID, jobID: job.ID}
}

// hardLog returns the fake's log entries for method and route.
func hardLog(srv *basiqtest.Server, method, route string) []basiqtest.Request {
	var out []basiqtest.Request
	for _, r := range srv.Requests() {
		if r.Method == method && r.Route == route {
			out = append(out, r)
		}
	}
	return out
}

func hardWantCount(t *testing.T, srv *basiqtest.Server, method, route string, want int) {
	t.Helper()
	if got := srv.RequestCount(method, route); got != want {
		t.Errorf("fake received %d %s %s requests, want %d (statuses %v)", got, method, route, want,
			hardStatuses(hardLog(srv, method, route)))
	}
}

// hardJobSeeds are job bodies in the documented shape and in the odd shapes
// Basiq's sources show (basiq-api.md §11).
var hardJobSeeds = []string{
	`{"type":"job","id":"j1","created":"2020-09-09T11:06:52Z","updated":"2020-09-09T11:07:39Z","steps":[{"title":"verify-credentials","status":"success","result":{"type":"link","url":"/users/u1/connections/c1"}},{"title":"retrieve-accounts","status":"in-progress","result":null},{"title":"retrieve-transactions","status":"pending","result":null}],"links":{"self":"https://au-api.basiq.io/jobs/j1","source":"https://au-api.basiq.io/users/u1/connections/c1"}}`,
	`{"id":"j2","steps":[{"title":"verify-credentials","status":"failed","result":{"code":"invalid-credentials","title":"Cannot login","detail":"Cannot login to target institution using supplied credentials."}}]}`,
	`{"id":"j3","steps":[{"title":"verify-credentials","status":"failed","result":{"code":"service-unavailable","details":["a","b"]}}]}`,
	`{"id":"j4","steps":[{"title":"verify-credentials","status":"success","result":[{"type":"link","url":"/users/u/connections/c"}]},{"title":"mfa-challenge","status":"in-progress","result":{"type":"mfa","method":"token","description":"Enter the code","input":["OTP"],"expiryMs":"120000","links":{"response":"/jobs/j4/mfa"}}}]}`,
	`{"id":42,"createdDate":"2024-01-02 03:04:05","updatedDate":1700000000,"steps":[{"title":"create-report","status":"skipped"},{"title":"x","status":"weird"}],"institution":{"type":"institution","id":"AU00000","links":{"self":"/institutions/AU00000"}}}`,
	`{"id":"j6","steps":[{"title":"verify-credentials","status":"failed","result":{"code":"","title":"","detail":""}}],"links":{"source":"https://x/users/%zz/connections/%2F"}}`,
	`{"id":"j7","steps":[{"title":"verify-credentials","status":"failed","result":{"code":"invalid-credentials","detail":"MFA is not supported"}}],"links":{"source":"/users//connections/"}}`,
	`{"id":"j8","steps":[{"status":"failed"}],"links":{"self":null,"source":{"a":1}}}`,
	`{"steps":null,"links":null,"institution":null}`,
	`{"steps":[{"title":"verify-credentials","status":"success","result":{"type":"link","url":"users/u/accounts?x=1"}}]}`,
	`{"steps":[{"result":{"expiryMs":1e300,"input":[1,true,null]}}]}`,
	`[]`, `null`, `""`, `{"steps":"nope"}`, `{"steps":[1,2]}`, `{"id":"\u0000\ud800"}`,
}

var bighead = basiqtest.ConsentLogin{InstitutionID: "AU00004", LoginID: "bighead", Password: "password"}

// hardPolicy is the retry policy of most tests: 4 attempts, backoff ceilings
// of 1 s, 2 s and 4 s, any wait capped at 8 s.
var hardPolicy = basiq.RetryPolicy{MaxAttempts: 4, MinBackoff: time.Second, MaxBackoff: 8 * time.Second}

// hardRecord is one request as it left the client.
type hardRecord struct {
	Method      string
	EscapedPath string
	RawQuery    string
	Err         error // the transport's error, if it failed
}

// hardEnv is a fake Basiq and a client on it, with a user and a connection
// job already made (on Hooli, which never asks for MFA).
type hardEnv struct {
	srv    *basiqtest.Server
	rec    *hardRecorder
	c      *basiq.Client
	userID string
	jobID  string
}

// hardStatuses returns the status the fake sent for each request (0: none).
func hardStatuses(reqs []basiqtest.Request) []int {
	out := make([]int, len(reqs))
	for i, r := range reqs {
		out[i] = r.Status
	}
	return out
}
