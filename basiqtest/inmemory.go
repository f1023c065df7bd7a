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
	"syscall"
)

// memTransport is the in-memory http.RoundTripper: it runs the handler in the
// caller's goroutine and hands back what it wrote.
type memTransport struct {
	s *Server
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
	if t.s.closed.Load() {
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
	aborted := serveRecovering(t.s.Handler(), w, in)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if aborted && w.status == 0 {
		if t.s.closed.Load() {
			return nil, errClosed() // Close ended an injected delay
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
// http.ErrAbortHandler, the fake's way to cut a connection.
func serveRecovering(h http.Handler, w http.ResponseWriter, r *http.Request) (aborted bool) {
	defer func() {
		if v := recover(); v != nil {
			if v != http.ErrAbortHandler {
				panic(v)
			}
			aborted = true
		}
	}()
	h.ServeHTTP(w, r)
	return false
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
