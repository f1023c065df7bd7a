package basiqtest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync/atomic"
	"syscall"
)

// memTransport is the in-memory http.RoundTripper: it runs the handler in the
// caller's goroutine and hands back what it wrote. closed, when set, tells
// that the fake was closed.
type memTransport struct {
	h          http.Handler
	closed     *atomic.Bool
	recoverAll bool // a panicking handler cuts the connection, as with net/http's server
	// detach serves in a goroutine of its own, so that the request's
	// context ending ends RoundTrip even while the handler goes on (a
	// caller's handler may ignore its context); the fake's own handler
	// honours its context, and is served in the caller's goroutine.
	detach bool
}

func (t memTransport) isClosed() bool { return t.closed != nil && t.closed.Load() }

// HandlerTransport returns an http.RoundTripper that serves every request
// with h, with no sockets, whatever the request's host: what
// Server.Transport does for the fake itself, for any handler. Each request
// is served in a goroutine of its own, so that when the request's context
// ends (DeliverWebhooks' context, Server.Close, the 15-second attempt
// timeout) RoundTrip returns that error at once, as a client hanging up
// would; the handler's request context is cancelled then, and a handler
// that ignores it finishes in the background. Given to WithWebhookClient
// (&http.Client{Transport: basiqtest.HandlerTransport(receiver)}), it brings
// webhook deliveries to a receiver's handler inside a testing/synctest
// bubble. A handler that
// panics cuts the connection, as net/http's server does: RoundTrip fails
// (naming the panic, unless it is http.ErrAbortHandler), or, when the
// status was already written, reading the body fails.
func HandlerTransport(h http.Handler) http.RoundTripper {
	if h == nil {
		h = http.NotFoundHandler()
	}
	return memTransport{h: h, recoverAll: true, detach: true}
}

// errClosed is returned by the in-memory transport after Server.Close.
func errClosed() error { return errors.New("basiqtest: server closed") }

// errReset is what an injected connection reset looks like to a client.
func errReset() error {
	return &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}
}

// RoundTrip implements http.RoundTripper.
func (t memTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		// As much as the socket server reads: one byte over maxBody is
		// enough for the handler to answer that the body is too large.
		var err error
		body, err = io.ReadAll(io.LimitReader(req.Body, maxBody+1))
		req.Body.Close()
		if err != nil {
			return nil, err
		}
	}
	if t.isClosed() {
		return nil, errClosed()
	}
	ctx := req.Context()
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	in := req.Clone(ctx)
	in.Body = io.NopCloser(bytes.NewReader(body))
	in.ContentLength = int64(len(body))
	in.RequestURI = req.URL.RequestURI()
	in.RemoteAddr = "192.0.2.1:49152"
	if in.Host == "" {
		in.Host = req.URL.Host
	}
	w := &memWriter{header: http.Header{}}
	var aborted bool
	var panicked any
	if t.detach {
		done := make(chan struct{})
		go func() {
			defer close(done)
			aborted, panicked = serveRecovering(t.h, w, in, t.recoverAll)
		}()
		select {
		case <-done:
		case <-ctx.Done():
			return nil, ctx.Err() // w is the handler's until it returns: not read
		}
	} else {
		aborted, panicked = serveRecovering(t.h, w, in, t.recoverAll)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if aborted && w.status == 0 {
		if t.isClosed() {
			return nil, errClosed() // Close ended an injected delay
		}
		if panicked != nil {
			return nil, fmt.Errorf("basiqtest: the handler panicked: %v", panicked)
		}
		return nil, errReset()
	}
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	resp := &http.Response{
		Status:        fmt.Sprintf("%d %s", w.status, http.StatusText(w.status)),
		StatusCode:    w.status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        w.sent,
		Request:       req,
		ContentLength: int64(w.body.Len()),
	}
	if aborted {
		// Headers went out, then the connection was cut mid-body.
		if n, err := strconv.ParseInt(w.sent.Get("Content-Length"), 10, 64); err == nil {
			resp.ContentLength = n
		}
		resp.Body = io.NopCloser(io.MultiReader(&w.body, errReader{io.ErrUnexpectedEOF}))
		return resp, nil
	}
	resp.Body = io.NopCloser(&w.body)
	return resp, nil
}

// serveRecovering runs h and reports whether it aborted the response with
// http.ErrAbortHandler, the fake's way to cut a connection. With
// recoverAll, any other panic aborts it too, and is returned.
func serveRecovering(h http.Handler, w http.ResponseWriter, r *http.Request, recoverAll bool) (aborted bool, panicked any) {
	defer func() {
		if v := recover(); v != nil {
			if v != http.ErrAbortHandler {
				if !recoverAll {
					panic(v)
				}
				panicked = v
			}
			aborted = true
		}
	}()
	h.ServeHTTP(w, r)
	return false, nil
}

// memWriter is the http.ResponseWriter of the in-memory transport.
type memWriter struct {
	header http.Header
	sent   http.Header // header as of WriteHeader
	status int
	body   bytes.Buffer
}

func (w *memWriter) Header() http.Header { return w.header }

func (w *memWriter) WriteHeader(code int) {
	if w.status != 0 {
		return
	}
	w.status = code
	w.sent = w.header.Clone()
}

func (w *memWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	return w.body.Write(p)
}

// Flush implements http.Flusher; everything is already "sent".
func (w *memWriter) Flush() {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
}

// errReader fails every read with err.
type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }
