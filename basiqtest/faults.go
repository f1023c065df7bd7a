package basiqtest

import (
	"context"
	"encoding/json"
	"net/http"
	"path"
	"slices"
	"time"
)

// Fault is a failure the fake injects into the next matching requests, before
// any normal handling (no authentication, no state change unless Truncate).
// Faulted requests are logged and counted like any other.
type Fault struct {
	// Method is the HTTP method to match; empty matches any.
	Method string
	// Path is a path.Match pattern over the request path, such as "/jobs/*";
	// empty matches any path.
	Path string
	// Count is how many matching requests the fault applies to: 0 means one,
	// a negative count means every matching request until ClearFaults.
	Count int
	// Status, when non-zero, answers with this status instead of handling the
	// request. The body is Body, or else Basiq's error envelope with a code
	// fitting the status (429 too-many-requests, 503 service-unavailable, …).
	Status int
	// RetryAfter, when set, is sent as the Retry-After header with Status.
	RetryAfter string
	// Body replaces the default body sent with Status, verbatim (JSON or not,
	// e.g. a gateway's HTML page).
	Body string
	// Delay holds the request this long before anything else happens. It
	// stops early, with no response, when the request's context is done or
	// the Server is closed.
	Delay time.Duration
	// Reset drops the connection without a response: the in-memory transport
	// returns an error from RoundTrip; the socket server closes the connection.
	// It wins over Status and Truncate.
	Reset bool
	// Truncate handles the request normally (state changes included) but
	// sends a 200 header with the full Content-Length and then only half of
	// the body before cutting the connection, so reading the body fails with
	// io.ErrUnexpectedEOF. The header is 200 whatever the real status: a 404
	// goes out as 200 with half of its error envelope. It is ignored when
	// Status is set (Status wins: the request is answered with Status, whole,
	// and not handled), and the request log records status 200.
	Truncate bool
}

// faultSlot is an injected fault and how many more requests it may take.
type faultSlot struct {
	f    Fault
	left int // negative: unlimited
}

// InjectFault queues f. Faults apply in the order injected; one request takes
// at most one fault. It panics if f.Path is not a valid path.Match pattern.
func (s *Server) InjectFault(f Fault) {
	if _, err := path.Match(f.Path, "/"); err != nil {
		panic("basiqtest: InjectFault: bad Path pattern " + f.Path + ": " + err.Error())
	}
	left := f.Count
	if left == 0 {
		left = 1
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &faultSlot{f: f, left: left})
}

// ClearFaults removes every fault not yet used up.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// takeFault returns the first fault matching the request, using up one of
// its requests, or nil.
func (s *Server) takeFault(method, p string) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, slot := range s.faults {
		if slot.f.Method != "" && slot.f.Method != method {
			continue
		}
		if ok, _ := path.Match(slot.f.Path, p); slot.f.Path != "" && !ok {
			continue
		}
		if slot.left > 0 {
			slot.left--
			if slot.left == 0 {
				s.faults = slices.Delete(s.faults, i, i+1)
			}
		}
		f := slot.f
		return &f
	}
	return nil
}

// reply is the response of a fault with a Status.
func (f *Fault) reply() reply {
	var rp reply
	if f.Body == "" {
		rp = errorReply(f.Status, statusError(f.Status))
	} else {
		body := []byte(f.Body)
		ct := "application/json"
		if !json.Valid(body) {
			ct = http.DetectContentType(body)
		}
		rp = reply{status: f.Status, body: body, header: http.Header{"Content-Type": {ct}}}
	}
	if f.RetryAfter != "" {
		if rp.header == nil {
			rp.header = http.Header{}
		}
		rp.header.Set("Retry-After", f.RetryAfter)
	}
	return rp
}

// sleep waits for d, or until ctx is done or the server is closed; it
// reports whether d elapsed.
func (s *Server) sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	case <-s.done:
		return false
	}
}

// writeTruncated sends a 200 header announcing all of rp's body, half of the
// body, and then aborts the response (the connection is cut).
func writeTruncated(w http.ResponseWriter, rp reply) {
	rp.prepare(w)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(rp.body[:len(rp.body)/2])
	_ = http.NewResponseController(w).Flush()
	panic(http.ErrAbortHandler)
}
