package basiqtest

import (
	"bytes"
	"net/http"
	"net/url"
	"time"
)

// Request is one request the fake received, as kept in its log.
type Request struct {
	Method string
	Path   string
	// Route is the matched route template, e.g. "/jobs/{jobId}"; empty when
	// no route matched.
	Route string
	Query url.Values
	// Status is the status sent; 0 when no response was sent (an injected
	// connection reset, or a request cancelled during an injected delay).
	Status int
	// Time is when the request arrived, by the fake's clock.
	Time   time.Time
	Body   []byte
	Header http.Header
}

// clone returns a deep copy of r.
func (r Request) clone() Request {
	r.Query = url.Values(http.Header(r.Query).Clone())
	r.Header = r.Header.Clone()
	r.Body = bytes.Clone(r.Body)
	return r
}

// record adds a finished request to the log and the counters.
func (s *Server) record(r Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counts[r.Method+" "+r.Route]++
	limit := s.cfg.logLimit
	if limit == 0 {
		return
	}
	if len(s.log) >= 2*limit {
		n := copy(s.log, s.log[len(s.log)-limit+1:])
		clear(s.log[n:])
		s.log = s.log[:n]
	}
	s.log = append(s.log, r)
}

// Requests returns a copy of the request log, oldest first (at most the
// WithRequestLogLimit most recent requests).
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	log := s.log[max(0, len(s.log)-s.cfg.logLimit):]
	out := make([]Request, len(log))
	for i, r := range log {
		out[i] = r.clone()
	}
	return out
}

// RequestCount returns how many requests with method were routed to the
// route template, e.g. RequestCount("GET", "/jobs/{jobId}"). Unrouted
// requests count under the route "".
func (s *Server) RequestCount(method, route string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts[method+" "+route]
}

// TokenRequests returns how many requests POST /token received, successful
// or not.
func (s *Server) TokenRequests() int {
	return s.RequestCount(http.MethodPost, "/token")
}

// ResetCounters empties the request log and sets every counter to zero.
func (s *Server) ResetCounters() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.log = nil
	clear(s.counts)
}
