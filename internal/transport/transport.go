// Package transport sends the SDK's HTTP requests with retries. It is the only
// package that imports go-retryablehttp; none of its types leave this package.
package transport

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

// ErrBodyTooLarge is returned when a response body exceeds the configured limit.
var ErrBodyTooLarge = errors.New("response body exceeds the size limit")

// Policy bounds the retries of one logical request.
type Policy struct {
	MaxAttempts int           // total attempts, including the first (at least 1)
	MinBackoff  time.Duration // base of the exponential backoff
	MaxBackoff  time.Duration // cap on any wait, including a server's Retry-After
}

// RetryEvent describes a retry about to happen, for logging.
type RetryEvent struct {
	Attempt    int           // the attempt that failed (1-based)
	StatusCode int           // 0 when the attempt failed without a response
	Err        error         // the transport error, if any
	Wait       time.Duration // how long until the next attempt
	Reason     string        // short machine-readable reason ("status", "network", "throttled")
}

// Request is one logical request. Body is resent unchanged on every attempt.
type Request struct {
	Method string
	URL    string
	// Header is sent as is (not copied): it must not change during Do.
	Header http.Header
	Body   []byte
	// Stream, when set instead of Body, is read once, as the request goes
	// out (not buffered): the request is sent once and never retried,
	// whatever the answer, since the body cannot be sent again.
	Stream io.Reader
	// StreamLength is Stream's length in bytes when known (> 0), sent as
	// the Content-Length; otherwise the stream goes out chunked.
	StreamLength int64
	// Replayable marks a non-GET/DELETE request that may be retried after a 5xx
	// or a network error because repeating it has no side effect (POST /token).
	Replayable bool
	// OnRetry, when set, is called before each retry wait.
	OnRetry func(RetryEvent)
}

// Response is a fully read response.
type Response struct {
	StatusCode int
	Header     http.Header
	Body       []byte
	Attempts   int
	// EarlierMayHaveActed reports that an attempt before this one may have
	// reached the server and been acted on (a 5xx, a connection lost after
	// the request went out, a body cut off), as opposed to refused before
	// acting (429, 403 throttling, a connection never made).
	EarlierMayHaveActed bool
}

// Transport performs requests with the SDK's retry policy (see checkRetry).
type Transport struct {
	hc        *http.Client
	policy    Policy
	bodyLimit int64
}

// New returns a Transport sending through hc (http.DefaultClient when nil).
//
// Redirects are never followed (see refuseRedirect). go-retryablehttp closes
// the client's idle connections when it gives up; hc is shared with its owner (its transport may be http.DefaultTransport), so
// the Transport sends through a copy of hc whose RoundTripper hides
// CloseIdleConnections, leaving other users' connections alone.
func New(hc *http.Client, p Policy, bodyLimit int64) *Transport {
	if hc == nil {
		hc = http.DefaultClient
	}
	if p.MaxAttempts < 1 {
		p.MaxAttempts = 1
	}
	own := *hc
	rt := hc.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	own.Transport = keepIdle{rt}
	// The API never redirects. Following one would re-send the request, with
	// its bearer token and body (a bank password, on a credential POST), to
	// wherever the Location header points, over plain http if it says so,
	// and report the redirect target's answer as the API's. The copy refuses
	// every redirect: the 3xx itself is the answer, and the caller's client
	// keeps its own policy.
	own.CheckRedirect = refuseRedirect
	return &Transport{hc: &own, policy: p, bodyLimit: bodyLimit}
}

// refuseRedirect makes http.Client return a redirect response as it is.
func refuseRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// keepIdle is a RoundTripper without CloseIdleConnections. It also refuses
// an answer that comes from another URL than the one asked: a caller's
// RoundTripper that is itself an HTTP client (go-retryablehttp's, say)
// follows redirects inside the transport, where CheckRedirect never applies.
type keepIdle struct{ rt http.RoundTripper }

func (k keepIdle) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := k.rt.RoundTrip(r)
	if err == nil && resp != nil && resp.Request != nil && resp.Request.URL != nil &&
		resp.Request.URL.String() != r.URL.String() {
		resp.Body.Close()
		return nil, ErrRedirected
	}
	return resp, err
}

// ErrRedirected is returned when the HTTP client's transport followed a
// redirect on its own: the answer came from another URL than the one asked.
// The request may have been sent there; it is never retried.
var ErrRedirected = errors.New("the HTTP client's transport followed a redirect to another URL (the API never redirects)")

// attempt tracks one logical request across its attempts.
type attempt struct {
	idempotent   bool
	bodyLimit    int64
	count        int
	onRetry      func(RetryEvent)
	pending      RetryEvent // the last retry decision, completed by backoff
	mayHaveActed bool       // an attempt retried may have been acted on
	bodyErr      error      // the last attempt's body could not be read in full
	body         []byte     // the last attempt's body, when buffered (at most bodyLimit+1 bytes)
	buffered     bool       // body holds the last attempt's whole body
}

// Do sends r, retrying per the policy, and returns the last response read in
// full. A non-2xx status is not an error at this level.
func (t *Transport) Do(ctx context.Context, r Request) (*Response, error) {
	if err := ctx.Err(); err != nil {
		return &Response{}, err
	}
	st := &attempt{
		idempotent: r.Method == http.MethodGet || r.Method == http.MethodDelete || r.Method == http.MethodHead || r.Replayable,
		bodyLimit:  t.bodyLimit,
		onRetry:    r.OnRetry,
	}
	rc := &retryablehttp.Client{
		HTTPClient:   t.hc,
		RetryWaitMin: t.policy.MinBackoff,
		RetryWaitMax: t.policy.MaxBackoff,
		RetryMax:     t.policy.MaxAttempts - 1,
		CheckRetry: func(ctx context.Context, resp *http.Response, err error) (bool, error) {
			return st.check(ctx, resp, err)
		},
		Backoff: func(min, max time.Duration, n int, resp *http.Response) time.Duration {
			return st.backoff(min, max, n, resp)
		},
		ErrorHandler:   retryablehttp.PassthroughErrorHandler,
		RequestLogHook: func(retryablehttp.Logger, *http.Request, int) { st.count++ },
	}
	var body any
	switch {
	case r.Stream != nil:
		// retryablehttp calls a ReaderFunc to learn the length, once per
		// attempt, and again when net/http asks to rewind the body (GetBody,
		// after a reused connection failed): the stream is handed out until
		// it has been read from, and never after, so a rewind fails the
		// request instead of sending what is left of the stream. The wrapper
		// shows no Close, and there is one attempt only.
		s := &onceStream{r: r.Stream, n: r.StreamLength}
		body = retryablehttp.ReaderFunc(s.open)
		rc.RetryMax = 0
	case r.Body != nil:
		body = r.Body
	}
	req, err := retryablehttp.NewRequestWithContext(ctx, r.Method, r.URL, body)
	if err != nil {
		return nil, err
	}
	if r.Header != nil {
		req.Header = r.Header
	}
	resp, err := rc.Do(req)
	if err != nil {
		if resp != nil {
			resp.Body.Close()
		}
		err = withoutURL(err)
		if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
			err = fmt.Errorf("%w (last error: %v)", cerr, err)
		}
		return &Response{Attempts: st.count}, err
	}
	defer resp.Body.Close()
	if st.bodyErr != nil {
		return &Response{StatusCode: resp.StatusCode, Header: resp.Header, Attempts: st.count},
			fmt.Errorf("reading response body: %w", st.bodyErr)
	}
	var data []byte
	if st.buffered { // read in full by check already
		data, err = overLimit(st.body, t.bodyLimit)
	} else {
		data, err = readLimited(resp.Body, resp.ContentLength, t.bodyLimit)
	}
	return &Response{StatusCode: resp.StatusCode, Header: resp.Header, Body: data, Attempts: st.count,
		EarlierMayHaveActed: st.mayHaveActed}, err
}

// readLimited reads all of r, failing with ErrBodyTooLarge past limit bytes.
func readLimited(r io.Reader, contentLength, limit int64) ([]byte, error) {
	data, err := readBody(r, contentLength, limit)
	if err != nil {
		return data, err
	}
	return overLimit(data, limit)
}

func overLimit(data []byte, limit int64) ([]byte, error) {
	if limit > 0 && int64(len(data)) > limit {
		return data[:limit], fmt.Errorf("%w (%d bytes)", ErrBodyTooLarge, limit)
	}
	return data, nil
}

// maxPrealloc bounds the buffer allocated up front from a Content-Length.
const maxPrealloc = 1 << 20

// readBody reads r to its end, or to limit+1 bytes when limit > 0 (so that
// the caller sees the overflow). A Content-Length, when given, sizes the
// buffer up front so a typical body is read without regrowing it.
func readBody(r io.Reader, contentLength, limit int64) ([]byte, error) {
	if limit > 0 {
		r = io.LimitReader(r, limit+1)
	}
	size := int64(512)
	if contentLength > 0 {
		size = contentLength + 1 // room to read the EOF without growing
	}
	if limit > 0 && size > limit+1 {
		size = limit + 1
	}
	if size > maxPrealloc {
		size = maxPrealloc
	}
	buf := make([]byte, 0, size)
	for {
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err != nil {
			if err == io.EOF {
				err = nil
			}
			return buf, err
		}
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)] // let append pick the next size
		}
	}
}

// peekBody reads resp's body (bounded) and puts an equivalent reader back.
func peekBody(resp *http.Response, limit int64) []byte {
	if limit <= 0 || limit > 64<<10 {
		limit = 64 << 10
	}
	data, _ := io.ReadAll(io.LimitReader(resp.Body, limit))
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(data), resp.Body), resp.Body}
	return data
}

// withoutURL strips the request URL from a transport error: net/http's
// *url.Error quotes it whole, query and path ids included, and this error
// ends up in error strings and log lines. The cause is kept (errors.Is and
// errors.As still see it).
func withoutURL(err error) error {
	var ue *url.Error
	if !errors.As(err, &ue) {
		return err
	}
	return &requestError{op: ue.Op, err: ue.Err}
}

// requestError is a *url.Error without the URL.
type requestError struct {
	op  string
	err error
}

func (e *requestError) Error() string { return e.op + " request: " + withoutURL(e.err).Error() }
func (e *requestError) Unwrap() error { return e.err }

// Timeout reports whether the cause was a timeout, as *url.Error does.
func (e *requestError) Timeout() bool {
	var t interface{ Timeout() bool }
	return errors.As(e.err, &t) && t.Timeout()
}

// ErrStreamRewound is the error of a streamed request that net/http asked
// to send again after part of its body was read: the rest is not sent.
var ErrStreamRewound = errors.New("the request body is a stream already read: it cannot be sent again")

// onceStream hands out a stream until it has been read from.
type onceStream struct {
	r    io.Reader
	n    int64
	read atomic.Bool
}

func (s *onceStream) open() (io.Reader, error) {
	if s.read.Load() {
		return nil, ErrStreamRewound
	}
	if s.n > 0 {
		return sizedReader{s}, nil
	}
	return plainReader{s}, nil
}

func (s *onceStream) Read(p []byte) (int, error) {
	s.read.Store(true)
	return s.r.Read(p)
}

// plainReader shows a stream with no length.
type plainReader struct{ s *onceStream }

func (p plainReader) Read(b []byte) (int, error) { return p.s.Read(b) }

// sizedReader shows a stream with its length (retryablehttp's LenReader).
type sizedReader struct{ s *onceStream }

func (p sizedReader) Read(b []byte) (int, error) { return p.s.Read(b) }
func (p sizedReader) Len() int                   { return int(p.s.n) }
