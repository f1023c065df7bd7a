package basiq_test

// Hardening: injected faults (issue "Hardening: faults, bad input and
// secrets, proven by tests"). Every test runs the in-memory fake inside a
// testing/synctest bubble, so retries, backoff and polling run in virtual
// time, and asserts the outcome, how many requests the fake received, and
// that no goroutine is left behind (synctest refuses to finish a bubble with
// blocked goroutines; goleak checks the rest of the process).

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/goleak"

	"github.com/banklink-go/basiq"
	"github.com/banklink-go/basiq/basiqtest"
)

// Routes of the fake, as its request log names them.
const (
	hardRouteJob         = "/jobs/{jobId}"
	hardRouteToken       = "/token"
	hardRouteUsers       = "/users"
	hardRouteConnections = "/users/{userId}/connections"
	hardRouteConnection  = "/users/{userId}/connections/{connectionId}"
)

// hardPolicy is the retry policy of most tests: 4 attempts, backoff ceilings
// of 1 s, 2 s and 4 s, any wait capped at 8 s.
var hardPolicy = basiq.RetryPolicy{MaxAttempts: 4, MinBackoff: time.Second, MaxBackoff: 8 * time.Second}

// hardBubble runs f in a synctest bubble and then checks that the process has
// no goroutine the test started and left running.
func hardBubble(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	ignore := goleak.IgnoreCurrent()
	synctest.Test(t, f)
	goleak.VerifyNone(t, ignore)
}

// hardRecord is one request as it left the client.
type hardRecord struct {
	Method      string
	EscapedPath string
	RawQuery    string
	Err         error // the transport's error, if it failed
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

// hardEnv is a fake Basiq and a client on it, with a user and a connection
// job already made (on Hooli, which never asks for MFA).
type hardEnv struct {
	srv    *basiqtest.Server
	rec    *hardRecorder
	c      *basiq.Client
	userID string
	jobID  string
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

// hardGaps returns the time between consecutive requests.
func hardGaps(reqs []basiqtest.Request) []time.Duration {
	var gaps []time.Duration
	for i := 1; i < len(reqs); i++ {
		gaps = append(gaps, reqs[i].Time.Sub(reqs[i-1].Time))
	}
	return gaps
}

// hardStatuses returns the status the fake sent for each request (0: none).
func hardStatuses(reqs []basiqtest.Request) []int {
	out := make([]int, len(reqs))
	for i, r := range reqs {
		out[i] = r.Status
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

func hardAPIError(t *testing.T, err error, status int) *basiq.APIError {
	t.Helper()
	var apiErr *basiq.APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("error %v (%T) is not an *APIError", err, err)
	}
	if apiErr.StatusCode != status {
		t.Errorf("APIError.StatusCode = %d, want %d", apiErr.StatusCode, status)
	}
	return apiErr
}

// hardThrottleBody is Basiq's 403 throttling answer ("Invalid request").
const hardThrottleBody = `{"type":"list","correlationId":"hard-403","data":[{"type":"error","code":"request-not-valid","title":"Invalid request","detail":"Invalid request"}]}`

// hardGatewayHTML is what a gateway in front of the API sends on a 502.
const hardGatewayHTML = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n"

func TestHardFaultConnectionReset(t *testing.T) {
	t.Run("GET recovers after two resets", func(t *testing.T) {
		hardBubble(t, func(t *testing.T) {
			e := hardSetup(t, nil, nil)
			e.srv.InjectFault(basiqtest.Fault{Method: http.MethodGet, Path: "/jobs/*", Reset: true, Count: 2})
			job, err := e.c.Jobs.Get(t.Context(), e.jobID)
			if err != nil {
				t.Fatalf("Jobs.Get: %v", err)
			}
			if job.ID != e.jobID {
				t.Errorf("job id %q, want %q", job.ID, e.jobID)
			}
			hardWantCount(t, e.srv, http.MethodGet, hardRouteJob, 3)
			if got := hardStatuses(hardLog(e.srv, http.MethodGet, hardRouteJob)); got[0] != 0 || got[1] != 0 || got[2] != 200 {
				t.Errorf("statuses %v, want [0 0 200]", got)
			}
		})
	})
	t.Run("GET gives up after MaxAttempts with the network error", func(t *testing.T) {
		hardBubble(t, func(t *testing.T) {
			e := hardSetup(t, nil, nil)
			e.srv.InjectFault(basiqtest.Fault{Method: http.MethodGet, Path: "/jobs/*", Reset: true, Count: -1})
			_, err := e.c.Jobs.Get(t.Context(), e.jobID)
			if !errors.Is(err, syscall.ECONNRESET) {
				t.Fatalf("error %v does not match ECONNRESET", err)
			}
			var netErr net.Error
			if !errors.As(err, &netErr) {
				t.Errorf("error %v is not a net.Error", err)
			}
			var apiErr *basiq.APIError
			if errors.As(err, &apiErr) {
				t.Errorf("a reset produced an *APIError: %v", apiErr)
			}
			hardWantCount(t, e.srv, http.MethodGet, hardRouteJob, hardPolicy.MaxAttempts)
		})
	})
	t.Run("Jobs.Wait rides out resets", func(t *testing.T) {
		hardBubble(t, func(t *testing.T) {
			e := hardSetup(t, nil, nil)
			e.srv.InjectFault(basiqtest.Fault{Method: http.MethodGet, Path: "/jobs/*", Reset: true, Count: 6})
			job, err := e.c.Jobs.Wait(t.Context(), e.jobID, &basiq.PollOptions{Operation: basiq.OpCreate})
			if err != nil {
				t.Fatalf("Jobs.Wait: %v", err)
			}
			if job.Status() != basiq.JobSucceeded {
				t.Errorf("job %s, want succeeded", job.Status())
			}
			resets := 0
			for _, s := range hardStatuses(hardLog(e.srv, http.MethodGet, hardRouteJob)) {
				if s == 0 {
					resets++
				}
			}
			if resets != 6 {
				t.Errorf("%d polls were reset, want 6", resets)
			}
		})
	})
}

func TestHardFaultTimeout(t *testing.T) {
	t.Run("http.Client timeout: the GET is retried", func(t *testing.T) {
		hardBubble(t, func(t *testing.T) {
			e := hardSetup(t, &http.Client{Timeout: 2 * time.Second}, nil)
			e.srv.InjectFault(basiqtest.Fault{Method: http.MethodGet, Path: "/jobs/*", Delay: 10 * time.Second})
			start := time.Now()
			if _, err := e.c.Jobs.Get(t.Context(), e.jobID); err != nil {
				t.Fatalf("Jobs.Get: %v", err)
			}
			// 2 s timeout, then a backoff of at most MinBackoff.
			if d := time.Since(start); d < 2*time.Second || d > 2*time.Second+hardPolicy.MinBackoff {
				t.Errorf("took %v, want 2s..3s", d)
			}
			hardWantCount(t, e.srv, http.MethodGet, hardRouteJob, 2)
		})
	})
	t.Run("http.Client timeout on every attempt", func(t *testing.T) {
		hardBubble(t, func(t *testing.T) {
			e := hardSetup(t, &http.Client{Timeout: 2 * time.Second}, nil)
			e.srv.InjectFault(basiqtest.Fault{Method: http.MethodGet, Path: "/jobs/*", Delay: time.Minute, Count: -1})
			_, err := e.c.Jobs.Get(t.Context(), e.jobID)
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("error %v does not match context.DeadlineExceeded", err)
			}
			var netErr net.Error
			if !errors.As(err, &netErr) || !netErr.Timeout() {
				t.Errorf("error %v is not a net.Error with Timeout()", err)
			}
			hardWantCount(t, e.srv, http.MethodGet, hardRouteJob, hardPolicy.MaxAttempts)
		})
	})
	t.Run("context deadline: one attempt, no retry", func(t *testing.T) {
		hardBubble(t, func(t *testing.T) {
			e := hardSetup(t, nil, nil)
			e.srv.InjectFault(basiqtest.Fault{Method: http.MethodGet, Path: "/jobs/*", Delay: time.Minute, Count: -1})
			ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
			defer cancel()
			start := time.Now()
			_, err := e.c.Jobs.Get(ctx, e.jobID)
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("error %v does not match context.DeadlineExceeded", err)
			}
			if d := time.Since(start); d != 3*time.Second {
				t.Errorf("returned after %v, want exactly the 3s deadline", d)
			}
			hardWantCount(t, e.srv, http.MethodGet, hardRouteJob, 1)
		})
	})
	t.Run("context deadline during Jobs.Wait", func(t *testing.T) {
		hardBubble(t, func(t *testing.T) {
			e := hardSetup(t, nil, nil)
			e.srv.InjectFault(basiqtest.Fault{Method: http.MethodGet, Path: "/jobs/*", Delay: time.Hour, Count: -1})
			// The client started the job, so its first poll waits for
			// verify-credentials' expected end; the deadline comes after it.
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			start := time.Now()
			_, err := e.c.Jobs.Wait(ctx, e.jobID, nil)
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("error %v does not match context.DeadlineExceeded", err)
			}
			if d := time.Since(start); d != time.Minute {
				t.Errorf("returned after %v, want exactly the 1 min deadline", d)
			}
			synctest.Wait() // the shared poll loop stops once its last waiter left
			hardWantCount(t, e.srv, http.MethodGet, hardRouteJob, 1)
			if st := hardStatuses(hardLog(e.srv, http.MethodGet, hardRouteJob)); st[0] != 0 {
				t.Errorf("the delayed poll was answered (%d); it should have been abandoned", st[0])
			}
		})
	})
}

func TestHardFaultTruncatedJSON(t *testing.T) {
	t.Run("body cut off once: the GET is retried", func(t *testing.T) {
		hardBubble(t, func(t *testing.T) {
			e := hardSetup(t, nil, nil)
			e.srv.InjectFault(basiqtest.Fault{Method: http.MethodGet, Path: "/jobs/*", Truncate: true})
			job, err := e.c.Jobs.Get(t.Context(), e.jobID)
			if err != nil {
				t.Fatalf("Jobs.Get: %v", err)
			}
			if job.ID != e.jobID || len(job.Steps) == 0 {
				t.Errorf("job %+v, want %s with steps", job, e.jobID)
			}
			hardWantCount(t, e.srv, http.MethodGet, hardRouteJob, 2)
		})
	})
	t.Run("body cut off every time", func(t *testing.T) {
		hardBubble(t, func(t *testing.T) {
			e := hardSetup(t, nil, nil)
			e.srv.InjectFault(basiqtest.Fault{Method: http.MethodGet, Path: "/jobs/*", Truncate: true, Count: -1})
			job, err := e.c.Jobs.Get(t.Context(), e.jobID)
			if !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("error %v does not match io.ErrUnexpectedEOF", err)
			}
			if job != nil {
				t.Errorf("got a job from a truncated body: %+v", job)
			}
			hardWantCount(t, e.srv, http.MethodGet, hardRouteJob, hardPolicy.MaxAttempts)
		})
	})
	t.Run("complete response with truncated JSON", func(t *testing.T) {
		hardBubble(t, func(t *testing.T) {
			e := hardSetup(t, nil, nil)
			e.srv.InjectFault(basiqtest.Fault{Method: http.MethodGet, Path: "/jobs/*", Status: http.StatusOK,
				Body: `{"type":"job","id":"` + e.jobID + `","steps":[{"title":"verify-cre`})
			_, err := e.c.Jobs.Get(t.Context(), e.jobID)
			var syntaxErr *json.SyntaxError
			if !errors.As(err, &syntaxErr) {
				t.Fatalf("error %v (%T) is not a *json.SyntaxError", err, err)
			}
			hardWantCount(t, e.srv, http.MethodGet, hardRouteJob, 1)
		})
	})
}

func TestHardFaultGatewayHTML502(t *testing.T) {
	fault := func(count int) basiqtest.Fault {
		return basiqtest.Fault{Method: http.MethodGet, Path: "/jobs/*", Status: http.StatusBadGateway, Body: hardGatewayHTML, Count: count}
	}
	t.Run("GET recovers", func(t *testing.T) {
		hardBubble(t, func(t *testing.T) {
			e := hardSetup(t, nil, nil)
			e.srv.InjectFault(fault(2))
			if _, err := e.c.Jobs.Get(t.Context(), e.jobID); err != nil {
				t.Fatalf("Jobs.Get: %v", err)
			}
			hardWantCount(t, e.srv, http.MethodGet, hardRouteJob, 3)
		})
	})
	t.Run("GET gives up with an APIError", func(t *testing.T) {
		hardBubble(t, func(t *testing.T) {
			e := hardSetup(t, nil, nil)
			e.srv.InjectFault(fault(-1))
			_, err := e.c.Jobs.Get(t.Context(), e.jobID)
			apiErr := hardAPIError(t, err, http.StatusBadGateway)
			if !errors.Is(err, basiq.ErrUnavailable) {
				t.Errorf("error %v does not match ErrUnavailable", err)
			}
			if len(apiErr.Errors) != 0 || apiErr.Code() != "" {
				t.Errorf("HTML body decoded as errors %+v", apiErr.Errors)
			}
			if !bytes.Contains(apiErr.Body, []byte("502 Bad Gateway")) {
				t.Errorf("Body %q does not keep the gateway page", apiErr.Body)
			}
			if apiErr.Attempts != hardPolicy.MaxAttempts {
				t.Errorf("Attempts = %d, want %d", apiErr.Attempts, hardPolicy.MaxAttempts)
			}
			if msg := err.Error(); !strings.Contains(msg, "502") || !strings.Contains(msg, "Bad Gateway") || strings.Contains(msg, "\n") {
				t.Errorf("Error() = %q, want the status and a one-line snippet", msg)
			}
			hardWantCount(t, e.srv, http.MethodGet, hardRouteJob, hardPolicy.MaxAttempts)
		})
	})
	t.Run("POST is not retried", func(t *testing.T) {
		hardBubble(t, func(t *testing.T) {
			e := hardSetup(t, nil, nil)
			e.srv.InjectFault(basiqtest.Fault{Method: http.MethodPost, Path: "/users", Status: http.StatusBadGateway, Body: hardGatewayHTML, Count: -1})
			_, err := e.c.Users.Create(t.Context(), basiq.UserParams{Email: "gw@example.com"})
			hardAPIError(t, err, http.StatusBadGateway)
			hardWantCount(t, e.srv, http.MethodPost, hardRouteUsers, 1)
		})
	})
}

func TestHardFault429Storm(t *testing.T) {
	fault := func(count int, retryAfter string) basiqtest.Fault {
		return basiqtest.Fault{Method: http.MethodGet, Path: "/jobs/*", Status: http.StatusTooManyRequests, RetryAfter: retryAfter, Count: count}
	}
	wantGaps := func(t *testing.T, srv *basiqtest.Server, want time.Duration, n int) {
		t.Helper()
		gaps := hardGaps(hardLog(srv, http.MethodGet, hardRouteJob))
		if len(gaps) != n {
			t.Fatalf("%d gaps between requests, want %d", len(gaps), n)
		}
		for i, g := range gaps {
			if g != want {
				t.Errorf("wait %d was %v, want %v", i+1, g, want)
			}
		}
	}
	t.Run("Retry-After in seconds is honoured", func(t *testing.T) {
		hardBubble(t, func(t *testing.T) {
			e := hardSetup(t, nil, nil)
			e.srv.InjectFault(fault(3, "7"))
			start := time.Now()
			if _, err := e.c.Jobs.Get(t.Context(), e.jobID); err != nil {
				t.Fatalf("Jobs.Get: %v", err)
			}
			if d := time.Since(start); d != 21*time.Second {
				t.Errorf("took %v, want 3 × 7s", d)
			}
			hardWantCount(t, e.srv, http.MethodGet, hardRouteJob, 4)
			wantGaps(t, e.srv, 7*time.Second, 3)
		})
	})
	t.Run("Retry-After is capped at MaxBackoff", func(t *testing.T) {
		hardBubble(t, func(t *testing.T) {
			e := hardSetup(t, nil, nil)
			e.srv.InjectFault(fault(2, "120"))
			if _, err := e.c.Jobs.Get(t.Context(), e.jobID); err != nil {
				t.Fatalf("Jobs.Get: %v", err)
			}
			hardWantCount(t, e.srv, http.MethodGet, hardRouteJob, 3)
			wantGaps(t, e.srv, hardPolicy.MaxBackoff, 2)
		})
	})
	t.Run("Retry-After as an HTTP date is capped at MaxBackoff", func(t *testing.T) {
		hardBubble(t, func(t *testing.T) {
			e := hardSetup(t, nil, nil)
			e.srv.InjectFault(fault(1, time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)))
			if _, err := e.c.Jobs.Get(t.Context(), e.jobID); err != nil {
				t.Fatalf("Jobs.Get: %v", err)
			}
			hardWantCount(t, e.srv, http.MethodGet, hardRouteJob, 2)
			wantGaps(t, e.srv, hardPolicy.MaxBackoff, 1)
		})
	})
	t.Run("storm without Retry-After: bounded backoff, then ErrRateLimited", func(t *testing.T) {
		hardBubble(t, func(t *testing.T) {
			e := hardSetup(t, nil, nil)
			e.srv.InjectFault(fault(-1, ""))
			_, err := e.c.Jobs.Get(t.Context(), e.jobID)
			apiErr := hardAPIError(t, err, http.StatusTooManyRequests)
			if !errors.Is(err, basiq.ErrRateLimited) {
				t.Errorf("error %v does not match ErrRateLimited", err)
			}
			if apiErr.Attempts != 4 || apiErr.RetryAfter != 0 {
				t.Errorf("Attempts %d RetryAfter %v, want 4 and 0", apiErr.Attempts, apiErr.RetryAfter)
			}
			hardWantCount(t, e.srv, http.MethodGet, hardRouteJob, 4)
			// Full jitter under ceilings of MinBackoff doubled per retry.
			ceilings := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second}
			for i, g := range hardGaps(hardLog(e.srv, http.MethodGet, hardRouteJob)) {
				if g > ceilings[i] {
					t.Errorf("wait %d was %v, over its ceiling %v", i+1, g, ceilings[i])
				}
			}
		})
	})
	t.Run("storm with Retry-After: the last answer's hint is kept", func(t *testing.T) {
		hardBubble(t, func(t *testing.T) {
			e := hardSetup(t, nil, nil)
			e.srv.InjectFault(fault(-1, "3"))
			_, err := e.c.Jobs.Get(t.Context(), e.jobID)
			apiErr := hardAPIError(t, err, http.StatusTooManyRequests)
			if apiErr.RetryAfter != 3*time.Second || apiErr.Code() != "too-many-requests" {
				t.Errorf("RetryAfter %v code %q, want 3s too-many-requests", apiErr.RetryAfter, apiErr.Code())
			}
			hardWantCount(t, e.srv, http.MethodGet, hardRouteJob, 4)
			wantGaps(t, e.srv, 3*time.Second, 3)
		})
	})
	t.Run("Jobs.Wait waits out a long storm", func(t *testing.T) {
		hardBubble(t, func(t *testing.T) {
			e := hardSetup(t, nil, nil)
			e.srv.InjectFault(fault(10, "5"))
			job, err := e.c.Jobs.Wait(t.Context(), e.jobID, &basiq.PollOptions{Operation: basiq.OpCreate})
			if err != nil {
				t.Fatalf("Jobs.Wait: %v", err)
			}
			if job.Status() != basiq.JobSucceeded {
				t.Errorf("job %s", job.Status())
			}
			log := hardLog(e.srv, http.MethodGet, hardRouteJob)
			for i, g := range hardGaps(log[:11]) {
				if g < 5*time.Second {
					t.Errorf("poll %d came %v after a 429 with Retry-After 5", i+2, g)
				}
			}
		})
	})
}

func TestHardFault503Burst(t *testing.T) {
	fault := func(count int) basiqtest.Fault {
		return basiqtest.Fault{Method: http.MethodGet, Path: "/jobs/*", Status: http.StatusServiceUnavailable, Count: count}
	}
	t.Run("burst within the retry budget", func(t *testing.T) {
		hardBubble(t, func(t *testing.T) {
			e := hardSetup(t, nil, nil)
			e.srv.InjectFault(fault(3))
			if _, err := e.c.Jobs.Get(t.Context(), e.jobID); err != nil {
				t.Fatalf("Jobs.Get: %v", err)
			}
			hardWantCount(t, e.srv, http.MethodGet, hardRouteJob, 4)
		})
	})
	t.Run("burst beyond the retry budget", func(t *testing.T) {
		hardBubble(t, func(t *testing.T) {
			e := hardSetup(t, nil, nil)
			e.srv.InjectFault(fault(5))
			_, err := e.c.Jobs.Get(t.Context(), e.jobID)
			apiErr := hardAPIError(t, err, http.StatusServiceUnavailable)
			if !errors.Is(err, basiq.ErrUnavailable) || apiErr.Code() != "service-unavailable" {
				t.Errorf("error %v: want ErrUnavailable with code service-unavailable", err)
			}
			hardWantCount(t, e.srv, http.MethodGet, hardRouteJob, 4)
			// One fault left: the next call's first attempt meets it and the second succeeds.
			if _, err := e.c.Jobs.Get(t.Context(), e.jobID); err != nil {
				t.Fatalf("Jobs.Get after the burst: %v", err)
			}
			hardWantCount(t, e.srv, http.MethodGet, hardRouteJob, 6)
		})
	})
	t.Run("Jobs.Wait rides out a burst", func(t *testing.T) {
		hardBubble(t, func(t *testing.T) {
			e := hardSetup(t, nil, nil)
			e.srv.InjectFault(fault(12))
			job, err := e.c.Jobs.Wait(t.Context(), e.jobID, nil)
			if err != nil {
				t.Fatalf("Jobs.Wait: %v", err)
			}
			if job.Status() != basiq.JobSucceeded {
				t.Errorf("job %s", job.Status())
			}
			if n := e.srv.RequestCount(http.MethodGet, hardRouteJob); n < 13 {
				t.Errorf("%d polls, want the 12 faults and at least one success", n)
			}
		})
	})
}

func TestHardFault403Throttling(t *testing.T) {
	for _, tc := range []struct{ name, body string }{
		{"Basiq envelope", hardThrottleBody},
		{"gateway message", `{"message":"Invalid request"}`},
	} {
		t.Run(tc.name+": recovers", func(t *testing.T) {
			hardBubble(t, func(t *testing.T) {
				e := hardSetup(t, nil, nil)
				e.srv.InjectFault(basiqtest.Fault{Method: http.MethodGet, Path: "/jobs/*", Status: http.StatusForbidden, Body: tc.body, Count: 2})
				if _, err := e.c.Jobs.Get(t.Context(), e.jobID); err != nil {
					t.Fatalf("Jobs.Get: %v", err)
				}
				hardWantCount(t, e.srv, http.MethodGet, hardRouteJob, 3)
				if n := e.srv.TokenRequests(); n != 0 {
					t.Errorf("throttling made %d token requests; it is not an auth failure", n)
				}
			})
		})
		t.Run(tc.name+": gives up with ErrRateLimited", func(t *testing.T) {
			hardBubble(t, func(t *testing.T) {
				e := hardSetup(t, nil, nil)
				e.srv.InjectFault(basiqtest.Fault{Method: http.MethodGet, Path: "/jobs/*", Status: http.StatusForbidden, Body: tc.body, Count: -1})
				_, err := e.c.Jobs.Get(t.Context(), e.jobID)
				hardAPIError(t, err, http.StatusForbidden)
				if !errors.Is(err, basiq.ErrRateLimited) || errors.Is(err, basiq.ErrForbidden) ||
					errors.Is(err, basiq.ErrTokenExpired) || errors.Is(err, basiq.ErrUnauthorized) {
					t.Errorf("error %v: want ErrRateLimited only", err)
				}
				hardWantCount(t, e.srv, http.MethodGet, hardRouteJob, 4)
				if n := e.srv.TokenRequests(); n != 0 {
					t.Errorf("throttling made %d token requests", n)
				}
			})
		})
	}
	t.Run("403 forbidden-access is not throttling", func(t *testing.T) {
		// The fake's default 403 body is code forbidden-access (wrong scope)
		// titled "Forbidden access": a refusal, not rate limiting.
		hardBubble(t, func(t *testing.T) {
			e := hardSetup(t, nil, nil)
			e.srv.InjectFault(basiqtest.Fault{Method: http.MethodGet, Path: "/jobs/*", Status: http.StatusForbidden, Count: -1})
			_, err := e.c.Jobs.Get(t.Context(), e.jobID)
			hardAPIError(t, err, http.StatusForbidden)
			if !errors.Is(err, basiq.ErrForbidden) || errors.Is(err, basiq.ErrRateLimited) {
				t.Errorf("error %v: want ErrForbidden, not ErrRateLimited", err)
			}
			hardWantCount(t, e.srv, http.MethodGet, hardRouteJob, 1)
		})
	})
}

// hardTokenDown makes POST /token answer 503 until cleared.
func hardTokenDown(srv *basiqtest.Server) {
	srv.InjectFault(basiqtest.Fault{Method: http.MethodPost, Path: "/token", Status: http.StatusServiceUnavailable, Count: -1})
}

// hardBearers returns the distinct bearer tokens the fake saw on API calls.
func hardBearers(srv *basiqtest.Server) []string {
	seen := map[string]bool{}
	var out []string
	for _, r := range srv.Requests() {
		if b, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok && !seen[b] {
			seen[b] = true
			out = append(out, b)
		}
	}
	return out
}

func TestHardTokenEndpointDownWhileTokenValid(t *testing.T) {
	hardBubble(t, func(t *testing.T) {
		srv := hardServer(t, basiqtest.WithTokenTTL(time.Hour))
		c, _ := hardNewClient(t, srv, nil, basiq.WithRetryPolicy(basiq.RetryPolicy{MaxAttempts: 3, MinBackoff: time.Second, MaxBackoff: 4 * time.Second}))
		ctx := t.Context()
		start := time.Now()
		user, err := c.Users.Create(ctx, basiq.UserParams{Email: "down@example.com"})
		if err != nil {
			t.Fatal(err)
		}
		if n := srv.TokenRequests(); n != 1 {
			t.Fatalf("%d token requests, want 1", n)
		}
		hardTokenDown(srv)

		// Before the early-refresh window (the last 5 minutes): nothing to do.
		time.Sleep(30 * time.Minute)
		if _, err := c.Users.Get(ctx, user.ID); err != nil {
			t.Fatalf("Users.Get at 30 min: %v", err)
		}
		if n := srv.TokenRequests(); n != 1 {
			t.Errorf("%d token requests at 30 min, want 1", n)
		}

		// In the window: background refreshes fail; calls keep the cached token.
		time.Sleep(time.Until(start.Add(56 * time.Minute)))
		calls := 0
		for time.Since(start) < 59*time.Minute+55*time.Second {
			if _, err := c.Users.Get(ctx, user.ID); err != nil {
				t.Fatalf("Users.Get at %v, token still valid: %v", time.Since(start), err)
			}
			calls++
			synctest.Wait()
			time.Sleep(10 * time.Second)
		}
		time.Sleep(time.Minute) // let the last background refresh finish
		if got := hardBearers(srv); len(got) != 1 {
			t.Errorf("API calls used %d different tokens, want the one cached token", len(got))
		}
		// Background attempts (3 requests each) are spaced by at least 30 s
		// after a failure: over the 4-minute window at most 8 of them.
		early := srv.TokenRequests() - 1
		t.Logf("%d calls in the early-refresh window made %d token requests", calls, early)
		if early < 3 || early > 8*3 || early%3 != 0 {
			t.Errorf("%d token requests in the early-refresh window, want a multiple of 3 in [3, 24]", early)
		}
	})
}

func TestHardTokenEndpointDownAfterExpiry(t *testing.T) {
	policy := basiq.RetryPolicy{MaxAttempts: 3, MinBackoff: time.Second, MaxBackoff: 4 * time.Second}
	setup := func(t *testing.T) (*basiqtest.Server, *basiq.Client, string) {
		srv := hardServer(t, basiqtest.WithTokenTTL(time.Hour))
		c, _ := hardNewClient(t, srv, nil, basiq.WithRetryPolicy(policy))
		user, err := c.Users.Create(t.Context(), basiq.UserParams{Email: "expired@example.com"})
		if err != nil {
			t.Fatal(err)
		}
		hardTokenDown(srv)
		time.Sleep(61 * time.Minute)
		srv.ResetCounters()
		return srv, c, user.ID
	}
	wantAuthError := func(t *testing.T, err error) {
		t.Helper()
		var authErr *basiq.AuthError
		if !errors.As(err, &authErr) {
			t.Fatalf("error %v (%T) is not an *AuthError", err, err)
		}
		// The key is fine: an outage is ErrUnavailable (through the 503), not ErrUnauthorized.
		if errors.Is(err, basiq.ErrUnauthorized) || !errors.Is(err, basiq.ErrUnavailable) {
			t.Errorf("error %v: want ErrUnavailable (through the 503) and not ErrUnauthorized", err)
		}
		if authErr.StatusCode != http.StatusServiceUnavailable || authErr.Scope != basiq.ScopeServerAccess {
			t.Errorf("AuthError %+v, want SERVER_ACCESS 503", authErr)
		}
		if !strings.Contains(err.Error(), "token request failed") {
			t.Errorf("Error() = %q does not say the token request failed", err)
		}
	}
	t.Run("sequential calls", func(t *testing.T) {
		hardBubble(t, func(t *testing.T) {
			srv, c, userID := setup(t)
			for i := 1; i <= 5; i++ {
				_, err := c.Users.Get(t.Context(), userID)
				wantAuthError(t, err)
				if n := srv.TokenRequests(); n != i*policy.MaxAttempts {
					t.Errorf("after %d calls: %d token requests, want %d", i, n, i*policy.MaxAttempts)
				}
			}
			hardWantCount(t, srv, http.MethodGet, "/users/{userId}", 0)
		})
	})
	t.Run("concurrent calls share one token request", func(t *testing.T) {
		hardBubble(t, func(t *testing.T) {
			srv, c, userID := setup(t)
			var wg sync.WaitGroup
			errs := make([]error, 50)
			for i := range errs {
				wg.Go(func() { _, errs[i] = c.Users.Get(t.Context(), userID) })
			}
			wg.Wait()
			for _, err := range errs {
				wantAuthError(t, err)
			}
			if n := srv.TokenRequests(); n != policy.MaxAttempts {
				t.Errorf("50 concurrent calls made %d token requests, want %d", n, policy.MaxAttempts)
			}
		})
	})
	t.Run("server says expired, endpoint down", func(t *testing.T) {
		hardBubble(t, func(t *testing.T) {
			srv := hardServer(t)
			c, _ := hardNewClient(t, srv, nil, basiq.WithRetryPolicy(policy))
			user, err := c.Users.Create(t.Context(), basiq.UserParams{Email: "expired@example.com"})
			if err != nil {
				t.Fatal(err)
			}
			srv.ExpireTokens()
			hardTokenDown(srv)
			srv.ResetCounters()
			_, err = c.Users.Get(t.Context(), user.ID)
			wantAuthError(t, err)
			hardWantCount(t, srv, http.MethodGet, "/users/{userId}", 1)
			if n := srv.TokenRequests(); n != policy.MaxAttempts {
				t.Errorf("%d token requests, want %d", n, policy.MaxAttempts)
			}
		})
	})
	t.Run("Jobs.Wait backs off, then times out", func(t *testing.T) {
		hardBubble(t, func(t *testing.T) {
			srv, c, _ := setup(t)
			start := time.Now()
			_, err := c.Jobs.Wait(t.Context(), "job-while-down", &basiq.PollOptions{Timeout: 2 * time.Minute})
			if !errors.Is(err, basiq.ErrPollTimeout) {
				t.Fatalf("error %v does not match ErrPollTimeout", err)
			}
			// At its deadline, not before, and no later than the last look's
			// round trip after it (bounded at 5 s).
			if d := time.Since(start); d < 2*time.Minute || d > 2*time.Minute+5*time.Second {
				t.Errorf("Wait returned after %v, not at its 2m timeout", d)
			}
			if d := time.Since(start).Round(time.Millisecond); !strings.Contains(err.Error(), "after "+d.String()) {
				t.Errorf("error %q does not state the real elapsed time %v", err, d)
			}
			// A token request runs detached from any one caller (so that one
			// caller's deadline fails nobody else), and is abandoned when
			// every caller has left: nothing more is sent after Wait returns.
			synctest.Wait()
			n := srv.TokenRequests()
			time.Sleep(time.Minute)
			if m := srv.TokenRequests(); m != n {
				t.Errorf("%d token requests after Wait returned, want none", m-n)
			}
			t.Logf("2 minutes of polling with the token endpoint down: %d token requests", n)
			// Polls back off to MaxInterval (30 s): about 9 polls of at most 3
			// attempts (the last poll's cut short by the timeout).
			if n == 0 || n > 12*policy.MaxAttempts {
				t.Errorf("%d token requests in 2 minutes, want some, at most %d", n, 12*policy.MaxAttempts)
			}
			hardWantCount(t, srv, http.MethodGet, hardRouteJob, 0)
		})
	})
}

// POST safety (DESIGN.md §4.2): Connections.Create and Update are never
// resent once the server may have acted on them.
func TestHardPostNeverResentAfterServerMayHaveActed(t *testing.T) {
	type op struct {
		name, path, route string
		call              func(ctx context.Context, e *hardEnv, connID string) (*basiq.Job, error)
	}
	ops := []op{
		{"Connections.Create", "/users/*/connections", hardRouteConnections,
			func(ctx context.Context, e *hardEnv, _ string) (*basiq.Job, error) {
				return e.c.Connections.Create(ctx, e.userID, basiq.Credentials{InstitutionID: "AU00000", LoginID: "Whistler", Password: "ShowBox"})
			}},
		{"Connections.Update", "/users/*/connections/*", hardRouteConnection,
			func(ctx context.Context, e *hardEnv, connID string) (*basiq.Job, error) {
				return e.c.Connections.Update(ctx, e.userID, connID, basiq.CredentialsUpdate{Password: "hooli2016"})
			}},
	}
	faults := []struct {
		name  string
		fault basiqtest.Fault
		ctx   time.Duration // a context deadline, when set
		check func(t *testing.T, err error)
	}{
		{"500", basiqtest.Fault{Status: 500}, 0, func(t *testing.T, err error) {
			hardAPIError(t, err, 500)
			if !errors.Is(err, basiq.ErrUnavailable) {
				t.Errorf("error %v does not match ErrUnavailable", err)
			}
		}},
		{"503", basiqtest.Fault{Status: 503}, 0, func(t *testing.T, err error) {
			if a := hardAPIError(t, err, 503); a.Attempts != 1 {
				t.Errorf("Attempts = %d, want 1", a.Attempts)
			}
		}},
		{"502 gateway HTML", basiqtest.Fault{Status: 502, Body: hardGatewayHTML}, 0, func(t *testing.T, err error) { hardAPIError(t, err, 502) }},
		{"504", basiqtest.Fault{Status: 504}, 0, func(t *testing.T, err error) { hardAPIError(t, err, 504) }},
		{"reset after the body was read", basiqtest.Fault{Reset: true}, 0, func(t *testing.T, err error) {
			if !errors.Is(err, syscall.ECONNRESET) {
				t.Errorf("error %v does not match ECONNRESET", err)
			}
		}},
		{"response cut off (the server acted)", basiqtest.Fault{Truncate: true}, 0, func(t *testing.T, err error) {
			if !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Errorf("error %v does not match io.ErrUnexpectedEOF", err)
			}
		}},
		{"no answer before the context deadline", basiqtest.Fault{Delay: time.Hour}, 5 * time.Second, func(t *testing.T, err error) {
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("error %v does not match context.DeadlineExceeded", err)
			}
		}},
	}
	for _, o := range ops {
		for _, f := range faults {
			t.Run(o.name+"/"+f.name, func(t *testing.T) {
				hardBubble(t, func(t *testing.T) {
					e := hardSetup(t, nil, nil)
					job, err := e.c.Jobs.Wait(t.Context(), e.jobID, nil)
					if err != nil {
						t.Fatal(err)
					}
					connID := job.ConnectionID()
					e.srv.ResetCounters()
					e.rec.reset()
					fault := f.fault
					fault.Method, fault.Path, fault.Count = http.MethodPost, o.path, -1
					e.srv.InjectFault(fault)
					ctx := t.Context()
					if f.ctx > 0 {
						var cancel context.CancelFunc
						ctx, cancel = context.WithTimeout(ctx, f.ctx)
						defer cancel()
					}
					got, err := o.call(ctx, e, connID)
					if err == nil {
						t.Fatalf("%s succeeded (%+v) through a %s", o.name, got, f.name)
					}
					f.check(t, err)
					hardWantCount(t, e.srv, http.MethodPost, o.route, 1)
					if n := len(e.rec.records(false)); n != 1 {
						t.Errorf("the client sent %d requests, want 1", n)
					}
				})
			})
		}
	}
}

// POSTs the server refused before acting (429, 403 throttling) or that never
// left the client (a failed dial) are resent.
func TestHardPostRetriedWhenServerCannotHaveActed(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fault *basiqtest.Fault
		dial  bool
	}{
		{"429", &basiqtest.Fault{Status: 429, RetryAfter: "2"}, false},
		{"403 Invalid request", &basiqtest.Fault{Status: 403, Body: hardThrottleBody}, false},
		{"dial failure", nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hardBubble(t, func(t *testing.T) {
				e := hardSetup(t, nil, nil)
				if tc.fault != nil {
					f := *tc.fault
					f.Method, f.Path = http.MethodPost, "/users/*/connections"
					e.srv.InjectFault(f)
				}
				if tc.dial {
					failed := false
					e.rec.before = func(req *http.Request) (*http.Response, error, bool) {
						if req.Method == http.MethodPost && !failed && strings.HasSuffix(req.URL.Path, "/connections") {
							failed = true
							return nil, &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}, true
						}
						return nil, nil, false
					}
				}
				job, err := e.c.Connections.Create(t.Context(), e.userID, basiq.Credentials{InstitutionID: "AU00000", LoginID: "Whistler", Password: "ShowBox"})
				if err != nil {
					t.Fatalf("Connections.Create: %v", err)
				}
				if job.ID == "" {
					t.Error("no job id")
				}
				wantAtFake := 2
				if tc.dial {
					wantAtFake = 1 // the first attempt never reached it
				}
				hardWantCount(t, e.srv, http.MethodPost, hardRouteConnections, wantAtFake)
				if n := len(e.rec.records(false)); n != 2 {
					t.Errorf("the client made %d attempts, want 2", n)
				}
			})
		})
	}
}
