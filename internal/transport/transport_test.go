package transport

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
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

const testURL = "https://au-api.basiq.io/jobs/j1"

// server is an httpmock transport answering testURL (any method) with the
// given answers in turn, repeating the last, and recording request bodies.
type server struct {
	mt      *httpmock.MockTransport
	calls   atomic.Int64
	mu      sync.Mutex
	bodies  [][]byte
	headers []http.Header
}

type answer func() (*http.Response, error)

func newServer(t *testing.T, answers ...answer) *server {
	s := &server{mt: httpmock.NewMockTransport()}
	s.mt.RegisterNoResponder(func(req *http.Request) (*http.Response, error) {
		if req.URL.String() != testURL {
			t.Errorf("unexpected URL %s", req.URL)
		}
		var b []byte
		if req.Body != nil {
			b, _ = io.ReadAll(req.Body)
		}
		s.mu.Lock()
		s.bodies = append(s.bodies, b)
		s.headers = append(s.headers, req.Header.Clone())
		s.mu.Unlock()
		i := int(s.calls.Add(1)) - 1
		if i >= len(answers) {
			i = len(answers) - 1
		}
		return answers[i]()
	})
	return s
}

func (s *server) transport(p Policy, limit int64) *Transport {
	return New(&http.Client{Transport: s.mt}, p, limit)
}

func respond(status int, body string) answer {
	return func() (*http.Response, error) { return httpmock.NewStringResponse(status, body), nil }
}

func respondWith(status int, body string, header ...string) answer {
	return func() (*http.Response, error) {
		r := httpmock.NewStringResponse(status, body)
		for i := 0; i+1 < len(header); i += 2 {
			r.Header.Set(header[i], header[i+1])
		}
		return r, nil
	}
}

func fail(err error) answer {
	return func() (*http.Response, error) { return nil, err }
}

func truncated(status int) answer {
	return func() (*http.Response, error) {
		r := httpmock.NewStringResponse(status, "")
		r.Body = io.NopCloser(io.MultiReader(strings.NewReader(`{"partial":`), errReader{io.ErrUnexpectedEOF}))
		return r, nil
	}
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

var (
	dialErr  = &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}
	resetErr = &net.OpError{Op: "read", Net: "tcp", Err: errors.New("connection reset by peer")}
	dnsErr   = &net.DNSError{Err: "no such host", Name: "au-api.basiq.io", IsNotFound: true}
)

const throttledBody = `{"type":"list","data":[{"type":"error","code":"request-not-valid","title":"Invalid request","detail":"Invalid request"}]}`

// noWait retries at once: MinBackoff 0 gives zero waits.
var noWait = Policy{MaxAttempts: 2}

func TestRetryMatrix(t *testing.T) {
	type kind struct {
		name       string
		method     string
		replayable bool
	}
	get := kind{"GET", http.MethodGet, false}
	del := kind{"DELETE", http.MethodDelete, false}
	head := kind{"HEAD", http.MethodHead, false}
	post := kind{"POST", http.MethodPost, false}
	token := kind{"POST replayable", http.MethodPost, true}
	all := []kind{get, del, head, post, token}

	for _, tc := range []struct {
		name    string
		first   answer
		retried []kind // the others make exactly one attempt
	}{
		{"429", respond(429, ""), all},
		{"403 throttled", respond(403, throttledBody), all},
		{"500", respond(500, ""), []kind{get, del, head, token}},
		{"502", respond(502, "<html>"), []kind{get, del, head, token}},
		{"503", respond(503, ""), []kind{get, del, head, token}},
		{"504", respond(504, ""), []kind{get, del, head, token}},
		{"501", respond(501, ""), nil},
		{"400", respond(400, ""), nil},
		{"401", respond(401, ""), nil},
		{"403 access-denied", respond(403, `{"data":[{"code":"access-denied","title":"Invalid request"}]}`), nil},
		{"403 forbidden", respond(403, `{"data":[{"code":"forbidden-access","title":"Forbidden"}]}`), nil},
		{"404", respond(404, ""), nil},
		{"dial error", fail(dialErr), all},
		{"dns error", fail(dnsErr), all},
		{"reset after sending", fail(resetErr), []kind{get, del, head, token}},
		{"truncated 200 body", truncated(200), []kind{get, del, head, token}},
	} {
		for _, k := range all {
			t.Run(tc.name+"/"+k.name, func(t *testing.T) {
				s := newServer(t, tc.first, respond(200, `{"ok":true}`))
				tr := s.transport(noWait, 1<<20)
				var body []byte
				if k.method == http.MethodPost {
					body = []byte(`{"a":1}`)
				}
				resp, err := tr.Do(context.Background(), Request{Method: k.method, URL: testURL, Body: body, Replayable: k.replayable})
				want := 1
				for _, r := range tc.retried {
					if r == k {
						want = 2
					}
				}
				assert.EqualValues(t, want, s.calls.Load())
				if want == 2 {
					require.NoError(t, err)
					assert.Equal(t, 200, resp.StatusCode)
					assert.Equal(t, 2, resp.Attempts)
					if k.method != http.MethodHead {
						assert.Equal(t, `{"ok":true}`, string(resp.Body))
					}
					if body != nil {
						assert.Equal(t, s.bodies[0], s.bodies[1], "the body is resent unchanged")
						assert.Equal(t, body, s.bodies[1])
					}
				} else {
					assert.Equal(t, 1, resp.Attempts)
				}
			})
		}
	}
}

func TestExhaustedRetriesReturnLastResponse(t *testing.T) {
	s := newServer(t, respond(502, "first"), respond(503, "second"), respondWith(504, "third", "X-Which", "last"))
	resp, err := s.transport(Policy{MaxAttempts: 3}, 1<<20).Do(context.Background(), Request{Method: http.MethodGet, URL: testURL})
	require.NoError(t, err, "a status is not an error at this level")
	assert.Equal(t, 504, resp.StatusCode)
	assert.Equal(t, "third", string(resp.Body))
	assert.Equal(t, "last", resp.Header.Get("X-Which"))
	assert.Equal(t, 3, resp.Attempts)
	assert.EqualValues(t, 3, s.calls.Load())
}

func TestExhaustedThrottleKeepsBody(t *testing.T) {
	s := newServer(t, respond(403, throttledBody))
	resp, err := s.transport(Policy{MaxAttempts: 3}, 1<<20).Do(context.Background(), Request{Method: http.MethodPost, URL: testURL, Body: []byte("x")})
	require.NoError(t, err)
	assert.Equal(t, 403, resp.StatusCode)
	assert.Equal(t, throttledBody, string(resp.Body), "the peeked body is put back in full")
	assert.EqualValues(t, 3, s.calls.Load())
}

func TestExhaustedNetworkError(t *testing.T) {
	s := newServer(t, fail(resetErr))
	resp, err := s.transport(Policy{MaxAttempts: 3}, 1<<20).Do(context.Background(), Request{Method: http.MethodGet, URL: testURL})
	var op *net.OpError
	require.ErrorAs(t, err, &op)
	assert.Equal(t, "read", op.Op)
	require.NotNil(t, resp)
	assert.Equal(t, 3, resp.Attempts)
}

func TestStaleBodyErrorIsForgotten(t *testing.T) {
	s := newServer(t, truncated(200), respond(503, "down"))
	resp, err := s.transport(Policy{MaxAttempts: 3}, 1<<20).Do(context.Background(), Request{Method: http.MethodGet, URL: testURL})
	require.NoError(t, err, "the first attempt's broken body must not mask the final 503")
	assert.Equal(t, 503, resp.StatusCode)
	assert.Equal(t, "down", string(resp.Body))
}

func TestTruncatedBodyOnLastAttempt(t *testing.T) {
	s := newServer(t, truncated(200))
	resp, err := s.transport(Policy{MaxAttempts: 2}, 1<<20).Do(context.Background(), Request{Method: http.MethodGet, URL: testURL})
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
	assert.Contains(t, err.Error(), "reading response body")
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, 2, resp.Attempts)

	s = newServer(t, truncated(202))
	_, err = s.transport(Policy{MaxAttempts: 2}, 1<<20).Do(context.Background(), Request{Method: http.MethodPost, URL: testURL, Body: []byte("x")})
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
	assert.EqualValues(t, 1, s.calls.Load(), "a POST whose answer broke off is not resent")
}

func TestBodyLimit(t *testing.T) {
	for _, tc := range []struct {
		name   string
		method string
		status int
		body   string
		limit  int64
		tooBig bool
	}{
		{"GET under", http.MethodGet, 200, "12345", 6, false},
		{"GET at", http.MethodGet, 200, "123456", 6, false},
		{"GET over", http.MethodGet, 200, "1234567", 6, true},
		{"POST over", http.MethodPost, 202, "1234567", 6, true},
		{"error status over", http.MethodGet, 404, "1234567", 6, true},
		{"no limit", http.MethodGet, 200, strings.Repeat("x", 1<<16), 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newServer(t, respond(tc.status, tc.body))
			resp, err := s.transport(Policy{MaxAttempts: 3}, tc.limit).Do(context.Background(), Request{Method: tc.method, URL: testURL})
			assert.EqualValues(t, 1, s.calls.Load(), "size is not a reason to retry")
			require.NotNil(t, resp)
			assert.Equal(t, tc.status, resp.StatusCode)
			if tc.tooBig {
				assert.ErrorIs(t, err, ErrBodyTooLarge)
				assert.Len(t, resp.Body, int(tc.limit))
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.body, string(resp.Body))
		})
	}
}

func TestRequestHeadersAndBody(t *testing.T) {
	s := newServer(t, respond(200, "{}"))
	h := http.Header{"Accept": {"application/json"}, "Authorization": {"Bearer t"}, "Content-Type": {"application/json"}}
	_, err := s.transport(noWait, 0).Do(context.Background(), Request{Method: http.MethodPost, URL: testURL, Header: h, Body: []byte(`{"x":1}`)})
	require.NoError(t, err)
	assert.Equal(t, "Bearer t", s.headers[0].Get("Authorization"))
	assert.Equal(t, "application/json", s.headers[0].Get("Content-Type"))
	assert.Equal(t, `{"x":1}`, string(s.bodies[0]))
	assert.Equal(t, "Bearer t", h.Get("Authorization"), "the caller's header is not modified")
	assert.Len(t, h, 3)
}

func TestRetryEventsAndBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newServer(t,
			respondWith(429, "", "Retry-After", "7"),
			respondWith(503, "", "Retry-After", "3600"),
			respond(403, throttledBody),
			fail(resetErr),
			truncated(200),
			respond(200, "done"),
		)
		var events []RetryEvent
		p := Policy{MaxAttempts: 6, MinBackoff: time.Second, MaxBackoff: 10 * time.Second}
		start := time.Now()
		resp, err := s.transport(p, 1<<20).Do(context.Background(), Request{Method: http.MethodGet, URL: testURL,
			OnRetry: func(ev RetryEvent) { events = append(events, ev) }})
		elapsed := time.Since(start)
		require.NoError(t, err)
		assert.Equal(t, "done", string(resp.Body))
		assert.Equal(t, 6, resp.Attempts)
		require.Len(t, events, 5)

		assert.Equal(t, RetryEvent{Attempt: 1, StatusCode: 429, Reason: "status", Wait: 7 * time.Second}, events[0], "Retry-After honoured")
		assert.Equal(t, RetryEvent{Attempt: 2, StatusCode: 503, Reason: "status", Wait: 10 * time.Second}, events[1], "Retry-After capped at MaxBackoff")
		assert.Equal(t, 3, events[2].Attempt)
		assert.Equal(t, "throttled", events[2].Reason)
		assert.Equal(t, 403, events[2].StatusCode)
		assert.LessOrEqual(t, events[2].Wait, 4*time.Second, "jitter within min·2^2")
		assert.Equal(t, "network", events[3].Reason)
		assert.Zero(t, events[3].StatusCode)
		assert.ErrorIs(t, events[3].Err, resetErr)
		assert.LessOrEqual(t, events[3].Wait, 8*time.Second)
		assert.Equal(t, "body", events[4].Reason)
		assert.LessOrEqual(t, events[4].Wait, 10*time.Second)

		var sum time.Duration
		for _, ev := range events {
			sum += ev.Wait
		}
		assert.Equal(t, sum, elapsed, "the transport waits exactly what it reports")
	})
}

func TestRetryAfterDateHonoured(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		at := time.Now().Add(9 * time.Second).UTC().Format(http.TimeFormat)
		s := newServer(t, respondWith(429, "", "Retry-After", at), respond(200, "ok"))
		start := time.Now()
		_, err := s.transport(Policy{MaxAttempts: 2, MinBackoff: time.Second, MaxBackoff: time.Minute}, 0).Do(context.Background(), Request{Method: http.MethodGet, URL: testURL})
		require.NoError(t, err)
		assert.Equal(t, 9*time.Second, time.Since(start))
	})
}

func TestContextEndsTheWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newServer(t, respondWith(503, "", "Retry-After", "30"))
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		start := time.Now()
		resp, err := s.transport(Policy{MaxAttempts: 3, MinBackoff: time.Second, MaxBackoff: time.Minute}, 0).Do(ctx, Request{Method: http.MethodGet, URL: testURL})
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Equal(t, 2*time.Second, time.Since(start))
		assert.Equal(t, 1, resp.Attempts)
		assert.EqualValues(t, 1, s.calls.Load())
	})
	t.Run("already cancelled", func(t *testing.T) {
		s := newServer(t, respond(200, "ok"))
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := s.transport(noWait, 0).Do(ctx, Request{Method: http.MethodGet, URL: testURL})
		assert.ErrorIs(t, err, context.Canceled)
	})
}

func TestBadRequestURL(t *testing.T) {
	tr := New(nil, Policy{}, 0)
	_, err := tr.Do(context.Background(), Request{Method: "BAD METHOD", URL: testURL})
	assert.Error(t, err)
	_, err = tr.Do(context.Background(), Request{Method: http.MethodGet, URL: "://nope"})
	assert.Error(t, err)
}

func TestNewDefaults(t *testing.T) {
	tr := New(nil, Policy{MaxAttempts: 0}, 5)
	assert.Equal(t, keepIdle{http.DefaultTransport}, tr.hc.Transport, "http.DefaultClient's transport, minus CloseIdleConnections")
	assert.Equal(t, 1, tr.policy.MaxAttempts)
	assert.EqualValues(t, 5, tr.bodyLimit)
}

func TestRetryAfterParsing(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		value string
		want  time.Duration
		ok    bool
	}{
		{"", 0, false},
		{"5", 5 * time.Second, true},
		{" 12 ", 12 * time.Second, true},
		{"0", 0, true},
		{"-3", 0, false},
		{"soon", 0, false},
		{"1.5", 0, false},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0, true},
	} {
		t.Run(tc.value, func(t *testing.T) {
			h := http.Header{}
			if tc.value != "" {
				h.Set("Retry-After", tc.value)
			}
			got, ok := RetryAfter(h, now)
			assert.Equal(t, tc.ok, ok)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestIsThrottled(t *testing.T) {
	for _, tc := range []struct {
		status int
		body   string
		want   bool
	}{
		{429, "", true},
		{429, "anything", true},
		{403, throttledBody, true},
		{403, `{"data":[{"code":"x","title":"Forbidden","detail":"invalid request."}]}`, true},
		{403, `{"data":[{"code":"x","title":"  INVALID REQUEST  "}]}`, true},
		{403, `{"message":"Invalid request"}`, true},
		{403, "Invalid request", true},
		{403, "Invalid request.\n", true},
		{403, `{"data":[{"code":"access-denied","title":"Invalid request"}]}`, false},
		{403, `{"data":[{"code":"forbidden-access","title":"Invalid request"}]}`, false},
		{403, `{"data":[{"code":"request-not-valid","title":"Invalid request parameters"}]}`, false},
		{403, `{"message":"Missing Authentication Token"}`, false},
		{403, "", false},
		{403, "<html>Forbidden</html>", false},
		{400, throttledBody, false},
		{503, "Invalid request", false},
	} {
		assert.Equal(t, tc.want, IsThrottled(tc.status, []byte(tc.body)), "%d %s", tc.status, tc.body)
	}
}

func TestFullJitter(t *testing.T) {
	assert.Zero(t, fullJitter(0, time.Second, 3))
	for _, tc := range []struct {
		min, max time.Duration
		attempt  int
		ceil     time.Duration
	}{
		{time.Second, 30 * time.Second, 0, time.Second},
		{time.Second, 30 * time.Second, 1, 2 * time.Second},
		{time.Second, 30 * time.Second, 3, 8 * time.Second},
		{time.Second, 30 * time.Second, 10, 30 * time.Second},
		{time.Second, 30 * time.Second, 1000, 30 * time.Second},
		{time.Second, 0, 4, 16 * time.Second},
	} {
		t.Run(fmt.Sprint(tc.attempt, tc.max), func(t *testing.T) {
			var highest time.Duration
			for range 2000 {
				d := fullJitter(tc.min, tc.max, tc.attempt)
				require.GreaterOrEqual(t, d, time.Duration(0))
				require.LessOrEqual(t, d, tc.ceil)
				highest = max(highest, d)
			}
			assert.Greater(t, highest, tc.ceil/2, "waits spread over the whole range")
		})
	}
}

func TestNotSent(t *testing.T) {
	assert.True(t, notSent(dialErr))
	assert.True(t, notSent(fmt.Errorf("wrapped: %w", dialErr)))
	assert.True(t, notSent(dnsErr))
	assert.False(t, notSent(resetErr))
	assert.False(t, notSent(io.ErrUnexpectedEOF))
	assert.False(t, notSent(context.DeadlineExceeded))
}

func TestPeekBodyRestores(t *testing.T) {
	resp := &http.Response{Body: io.NopCloser(strings.NewReader("hello world"))}
	assert.Equal(t, []byte("hello world"), peekBody(resp, 0))
	rest, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Equal(t, "hello world", string(rest))

	big := bytes.Repeat([]byte("a"), 100<<10)
	resp = &http.Response{Body: io.NopCloser(bytes.NewReader(big))}
	assert.Len(t, peekBody(resp, 10), 10)
	rest, err = io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Equal(t, big, rest, "nothing is lost past the peek")
	assert.NoError(t, resp.Body.Close())
}

func TestReadLimited(t *testing.T) {
	b, err := readLimited(strings.NewReader("abc"), -1, 3)
	require.NoError(t, err)
	assert.Equal(t, "abc", string(b))
	b, err = readLimited(strings.NewReader("abcd"), -1, 3)
	assert.ErrorIs(t, err, ErrBodyTooLarge)
	assert.Equal(t, "abc", string(b))
	assert.Contains(t, err.Error(), "3 bytes")
	b, err = readLimited(strings.NewReader("abcd"), 4, -1)
	require.NoError(t, err)
	assert.Equal(t, "abcd", string(b))
	_, err = readLimited(io.MultiReader(strings.NewReader("ab"), errReader{io.ErrUnexpectedEOF}), 10, 100)
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
}

// oneByteReader returns one byte per Read, to exercise buffer growth.
type oneByteReader struct{ r io.Reader }

func (o oneByteReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	return o.r.Read(p[:1])
}

func TestReadBody(t *testing.T) {
	body := strings.Repeat("0123456789", 300) // 3000 bytes
	for _, tc := range []struct {
		name          string
		contentLength int64
		limit         int64
		want          int // bytes returned
	}{
		{"exact content length", 3000, 0, 3000},
		{"content length too small", 100, 0, 3000},
		{"content length too large", 1 << 40, 0, 3000},
		{"unknown length", -1, 0, 3000},
		{"limit below body", 3000, 1000, 1001},
		{"limit below body, unknown length", -1, 1000, 1001},
		{"limit above body", 3000, 5000, 3000},
		{"limit equals body", 3000, 3000, 3000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, r := range []io.Reader{strings.NewReader(body), oneByteReader{strings.NewReader(body)}} {
				got, err := readBody(r, tc.contentLength, tc.limit)
				require.NoError(t, err)
				assert.Equal(t, body[:tc.want], string(got))
				assert.LessOrEqual(t, cap(got), 2*maxPrealloc, "a huge Content-Length does not allocate")
			}
		})
	}
	got, err := readBody(strings.NewReader(""), 0, 0)
	require.NoError(t, err)
	assert.Empty(t, got)
}

func TestReadBodyAllocs(t *testing.T) {
	body := strings.Repeat("x", 1000)
	allocs := testing.AllocsPerRun(50, func() {
		_, _ = readBody(strings.NewReader(body), 1000, 1<<20)
	})
	// the strings.Reader, the limit reader and one buffer: a sized body never regrows
	assert.LessOrEqual(t, allocs, 3.0)
}

// closeCounter counts CloseIdleConnections calls reaching the caller's transport.
type closeCounter struct {
	http.RoundTripper
	closes int
}

func (c *closeCounter) CloseIdleConnections() { c.closes++ }

func TestGivingUpLeavesCallersIdleConnectionsAlone(t *testing.T) {
	rt := &closeCounter{RoundTripper: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: 503, Body: http.NoBody, Header: http.Header{}, Request: r}, nil
	})}
	tr := New(&http.Client{Transport: rt}, Policy{MaxAttempts: 2}, 0)
	resp, err := tr.Do(context.Background(), Request{Method: http.MethodGet, URL: "https://example.test/x"})
	if err != nil || resp.StatusCode != 503 {
		t.Fatalf("Do = %v, %v", resp, err)
	}
	if rt.closes != 0 {
		t.Errorf("the caller's transport had its idle connections closed %d times", rt.closes)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestAnswerArrivingAsContextEndsIsKept(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	calls := 0
	rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		calls++
		cancel() // the caller's deadline passes while the answer is on its way
		return &http.Response{StatusCode: 202, Body: io.NopCloser(strings.NewReader(`{"id":"job-1"}`)),
			Header: http.Header{}, Request: r}, nil
	})
	tr := New(&http.Client{Transport: rt}, Policy{MaxAttempts: 3}, 0)
	resp, err := tr.Do(ctx, Request{Method: http.MethodPost, URL: "https://example.test/users/u/connections", Body: []byte(`{}`)})
	if err != nil {
		t.Fatalf("a POST the server accepted was reported failed: %v", err)
	}
	if resp.StatusCode != 202 || string(resp.Body) != `{"id":"job-1"}` || calls != 1 {
		t.Errorf("got %d %q after %d calls", resp.StatusCode, resp.Body, calls)
	}
}

func TestStreamIsSentOnceWhateverTheAnswer(t *testing.T) {
	for _, status := range []int{http.StatusServiceUnavailable, http.StatusTooManyRequests, http.StatusAccepted} {
		var calls atomic.Int32
		var got []string
		hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			calls.Add(1)
			b, _ := io.ReadAll(r.Body)
			got = append(got, string(b))
			return &http.Response{StatusCode: status, Body: http.NoBody, Header: http.Header{}, Request: r}, nil
		})}
		tr := New(hc, Policy{MaxAttempts: 5}, 1<<20)
		resp, err := tr.Do(context.Background(), Request{Method: http.MethodPost, URL: testURL, Stream: strings.NewReader("file bytes"), StreamLength: 10})
		require.NoError(t, err)
		assert.Equal(t, status, resp.StatusCode)
		assert.EqualValues(t, 1, calls.Load(), "status %d: one attempt", status)
		assert.Equal(t, []string{"file bytes"}, got)
	}
}

func TestStreamLengthAndRewind(t *testing.T) {
	s := &onceStream{r: strings.NewReader("abcdef"), n: 6}
	r, err := s.open() // retryablehttp's look at the length
	require.NoError(t, err)
	assert.Equal(t, 6, r.(interface{ Len() int }).Len())
	r, err = s.open() // the attempt
	require.NoError(t, err)
	buf := make([]byte, 2)
	_, err = r.Read(buf)
	require.NoError(t, err)
	_, err = s.open() // net/http's rewind after part was read: refused
	assert.ErrorIs(t, err, ErrStreamRewound)

	u := &onceStream{r: strings.NewReader("x")}
	r, err = u.open()
	require.NoError(t, err)
	_, hasLen := r.(interface{ Len() int })
	assert.False(t, hasLen, "an unknown length is not claimed")
}
