package basiqtest

import (
	"context"
	"crypto/rand"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// memoryURL is Server.URL when the fake has no listener.
const memoryURL = "https://basiq.test"

// maxBody is the largest request body the fake reads.
const maxBody = 1 << 20

// Server is an in-process fake of the Basiq API (token, users, connections,
// jobs, institutions and connectors), speaking the real wire format. Create
// one with NewServer and Close it when done. All methods are safe for
// concurrent use.
type Server struct {
	// URL is the fake's base URL, without a trailing slash: a loopback
	// http://127.0.0.1:port, or "https://basiq.test" with InMemory. Absolute
	// links in responses (links.self and so on) start with it.
	URL string

	cfg      config
	routes   []route
	hs       *httptest.Server
	client   *http.Client
	closed   atomic.Bool
	done     chan struct{} // closed by Close: ends injected delays
	tokenKey []byte        // signs the tokens the fake issues

	// Webhook deliveries (webhook_delivery.go). whClient is set by
	// NewServer and SetWebhookClient, read by send: guarded by whMu.
	whMu        sync.Mutex
	whClient    *http.Client
	whTransport *http.Transport    // the fake's own delivery transport, if it made one
	closeCtx    context.Context    // done when Close is called: ends deliveries
	closeCancel context.CancelFunc //
	wakeCh      chan struct{}      // wakes StartWebhookDelivery's goroutine
	bg          sync.WaitGroup     // that goroutine

	mu     sync.Mutex
	st     *state
	faults []*faultSlot
	log    []Request
	counts map[string]int
}

// NewServer starts a fake Basiq API. Unless InMemory is given it listens on
// a loopback port, like httptest.NewServer.
func NewServer(opts ...Option) *Server {
	cfg := defaultConfig()
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	if cfg.apiKey == "" {
		cfg.apiKey = newAPIKey()
	}
	routes := slices.Concat(newRoutes(), consentRoutes(), eventRoutes())
	s := &Server{cfg: cfg, routes: routes, st: newState(cfg), counts: map[string]int{},
		done: make(chan struct{}), tokenKey: make([]byte, 32), wakeCh: make(chan struct{}, 1)}
	s.closeCtx, s.closeCancel = context.WithCancel(context.Background())
	s.whClient, s.whTransport = newWebhookClient(cfg.webhookClient)
	_, _ = rand.Read(s.tokenKey) // crypto/rand.Read never fails (Go 1.24+).
	if cfg.inMemory {
		s.URL = memoryURL
	} else {
		s.hs = httptest.NewUnstartedServer(s.Handler())
		s.URL = "http://" + s.hs.Listener.Addr().String() // set before any handler runs
		s.hs.Start()
	}
	s.client = &http.Client{Transport: s.Transport()}
	return s
}

// Close shuts the listener down, if there is one, and waits for requests
// being served to end. Requests held by an injected Delay end at once, with
// no response (the connection is cut; the in-memory transport returns an
// error). Webhook deliveries in progress are cut short (not recorded), and
// Close waits for StartWebhookDelivery's goroutine to end (so a receiver
// that the background deliverer is delivering to must not call Close
// itself). Afterwards the in-memory transport fails every request, and
// DeliverWebhooks returns an error.
func (s *Server) Close() {
	if s == nil || s.st == nil {
		return
	}
	// Under the lock, so that StartWebhookDelivery either sees closed or
	// has added its goroutine to bg before Close waits for it.
	s.mu.Lock()
	already := s.closed.Swap(true)
	s.mu.Unlock()
	if already {
		return
	}
	s.closeCancel()
	close(s.done)
	s.bg.Wait()
	if s.hs != nil {
		s.hs.Close()
	}
	s.whMu.Lock()
	tr := s.whTransport
	s.whMu.Unlock()
	if tr != nil {
		tr.CloseIdleConnections()
	}
}

// APIKey returns the API key the fake accepts. It is already in the form of a
// Basiq key (base64): send it verbatim after "Basic ".
func (s *Server) APIKey() string { return s.cfg.apiKey }

// Handler returns the fake as an http.Handler, for mounting in a server of
// your own. Absolute links in its responses still start with Server.URL.
// Injected Reset and Truncate faults abort the response with
// panic(http.ErrAbortHandler), which net/http servers turn into a cut
// connection.
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

// Transport returns an http.RoundTripper that calls the fake's handler
// directly: no sockets, no goroutines, so it works inside testing/synctest
// bubbles. It serves every request whatever its host, so a client hard-wired
// to https://au-api.basiq.io reaches the fake once given this transport.
// It does so even when the fake has a listener: unlike the transport of
// httptest.Server.Client, it never dials Server.URL, so requests through it
// do not exercise the socket server (use a plain http.Client for that). It
// reads at most 1 MiB of a request body, like the socket server, and answers
// a larger body the same way (400 invalid-content "Request body is too
// large.").
func (s *Server) Transport() http.RoundTripper {
	return memTransport{h: s.Handler(), closed: &s.closed}
}

// Client returns an http.Client that uses Transport: it reaches the handler
// in memory even when the fake has a listener, unlike
// httptest.Server.Client, which connects to the listener.
func (s *Server) Client() *http.Client { return s.client }

// serveHTTP is the fake's handler: log, injected faults, routing, then the
// endpoint.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == consentPagePath { // the Consent UI, not the API: no log, no faults
		s.serveConsentPage(w, r)
		return
	}
	entry := Request{
		Method: r.Method,
		Path:   r.URL.Path,
		Query:  r.URL.Query(),
		Time:   s.cfg.now(),
		Header: r.Header.Clone(),
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	tooLarge := len(body) > maxBody
	if tooLarge {
		body = body[:maxBody]
	}
	entry.Body = body
	rt, params, allow := matchRoute(s.routes, r.Method, r.URL)
	if rt != nil {
		entry.Route = rt.pattern
	}
	defer func() { s.record(entry) }()

	f := s.takeFault(r.Method, r.URL.Path)
	if f != nil {
		if f.Delay > 0 && !s.sleep(r.Context(), f.Delay) {
			panic(http.ErrAbortHandler)
		}
		if f.Reset {
			panic(http.ErrAbortHandler)
		}
		if f.Status != 0 {
			rp := f.reply()
			entry.Status = rp.status
			rp.write(w)
			return
		}
	}

	var rp reply
	switch {
	case err != nil:
		rp = errorReply(http.StatusBadRequest, errInvalidContent("Request body could not be read."))
	case rt == nil && len(allow) > 0:
		rp = errorReply(http.StatusMethodNotAllowed, errMethodNotAllowed())
		rp.header = http.Header{"Allow": {strings.Join(allow, ", ")}}
	case rt == nil:
		rp = errorReply(http.StatusNotFound, errNotFound("Route not found."))
	case tooLarge:
		rp = errorReply(http.StatusBadRequest, errInvalidContent("Request body is too large."))
	default:
		rp = s.dispatch(rt, &call{req: r, params: params, body: body})
	}
	if f != nil && f.Truncate {
		entry.Status = http.StatusOK
		writeTruncated(w, rp)
	}
	entry.Status = rp.status
	rp.write(w)
}
