package basiqtest

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Delivering webhook messages on the fake's clock. Nothing is sent in the
// background unless StartWebhookDelivery is running: a message's attempt
// falls due by the fake's clock, and DeliverWebhooks makes every attempt
// due when it is called, without holding the server's lock while it sends
// (a receiver may call the fake back).
//
// Basiq's schedule (its "Delivery schedule and retries" page): the first attempt
// when the event happens, then, each after the previous attempt, +5 s,
// +5 min, +30 min, +2 h, +5 h, +10 h and +10 h: eight attempts. After the
// eighth failure the message is given up. The fake leaves the webhook
// active (Basiq says an endpoint "may be removed or disabled", and its
// webhook statuses have no disabled value).

const (
	maxAttempts       = 8
	attemptTimeout    = 15 * time.Second // an attempt with no answer by then fails
	maxResponseRead   = 64 << 10         // of a receiver's body, read and dropped
	maxParallelSends  = 16               // webhooks delivered to at once
	deliveryPollLimit = time.Second      // the background deliverer looks at the clock at least this often while work is scheduled
)

// retryDelay is the wait after the n-th failed attempt (1 to 7) before the
// next.
func retryDelay(n int) time.Duration {
	switch n {
	case 1:
		return 5 * time.Second
	case 2:
		return 5 * time.Minute
	case 3:
		return 30 * time.Minute
	case 4:
		return 2 * time.Hour
	case 5:
		return 5 * time.Hour
	default:
		return 10 * time.Hour
	}
}

// WithWebhookClient sets the http.Client that delivers webhook messages,
// for instance one whose Transport is HandlerTransport(receiver), which
// reaches a receiver's handler in memory (inside a testing/synctest bubble
// too). Its redirect policy is replaced: a delivery never follows a
// redirect (a 3xx answer is a failed attempt); its other settings are kept.
// By default the fake uses its own client: no proxy, no keep-alive, a
// 15-second timeout.
func WithWebhookClient(hc *http.Client) Option {
	return func(c *config) { c.webhookClient = hc }
}

// SetWebhookClient sets the http.Client that delivers webhook messages from
// now on, as WithWebhookClient does at start: a receiver built after the
// server (it needs the server's URL, for its SDK client) is wired in
// afterwards, with no circular set-up. Its redirect policy is replaced (a
// delivery never follows a redirect). A nil hc goes back to the fake's own
// client. Deliveries already being sent finish with the client they
// started with.
func (s *Server) SetWebhookClient(hc *http.Client) {
	if s == nil || s.st == nil {
		return
	}
	c, tr := newWebhookClient(hc)
	s.whMu.Lock()
	old := s.whTransport
	s.whClient, s.whTransport = c, tr
	s.whMu.Unlock()
	if old != nil {
		old.CloseIdleConnections()
	}
}

// SetWebhookReceiver delivers webhook messages from now on to h in memory,
// with no sockets (inside a testing/synctest bubble too), whatever URL the
// webhook was registered with: SetWebhookClient with a client whose
// transport is HandlerTransport(h). It is the way to wire an application's
// webhook handler to the fake when the handler needs the fake first:
//
//	srv := basiqtest.NewServer(basiqtest.InMemory())
//	app := newApp(srv.URL, srv.Client()) // the app's own basiq.Client
//	srv.SetWebhookReceiver(app.Routes())
func (s *Server) SetWebhookReceiver(h http.Handler) {
	s.SetWebhookClient(&http.Client{Transport: HandlerTransport(h)})
}

// webhookClient is the client deliveries go through now.
func (s *Server) webhookClient() *http.Client {
	s.whMu.Lock()
	defer s.whMu.Unlock()
	return s.whClient
}

// refuseRedirect is the delivery clients' redirect policy.
func refuseRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// newWebhookClient is the client deliveries go through, and the transport
// the fake made for it (nil for a caller's client), whose connections Close
// closes.
func newWebhookClient(given *http.Client) (*http.Client, *http.Transport) {
	if given != nil {
		c := *given
		c.CheckRedirect = refuseRedirect
		return &c, nil
	}
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
		TLSHandshakeTimeout: 10 * time.Second,
		DisableKeepAlives:   true,
	}
	return &http.Client{Transport: tr, Timeout: attemptTimeout, CheckRedirect: refuseRedirect}, tr
}

// signWebhook is the webhook-signature header of a delivery (Standard
// Webhooks v1): "v1," and the standard base64 of HMAC-SHA256 keyed with the
// secret's key over "<webhook-id>.<webhook-timestamp>.<body>".
func signWebhook(key []byte, id, timestamp string, body []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id))
	m.Write([]byte{'.'})
	m.Write([]byte(timestamp))
	m.Write([]byte{'.'})
	m.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// FailWebhookDeliveries makes the next n delivery attempts fail: each is
// really sent, signed as usual, and then counted as failed whatever the
// receiver answers, recorded with status 500 (its response says what the
// receiver really answered). The message is retried on Basiq's schedule with
// the same webhook-id, so a receiver sees the repeat of a delivery it may
// already have handled, as when Basiq misses an answer. Attempts are
// counted in the order they are taken up, oldest message first. n replaces
// any count not used up yet; n <= 0 clears it.
func (s *Server) FailWebhookDeliveries(n int) {
	if s == nil || s.st == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.failNext = max(n, 0)
}

// claim is a due attempt taken up by one DeliverWebhooks call.
type claim struct {
	m        *message
	url      string
	key      []byte
	injected bool
}

// claimDue takes up every attempt due at now, oldest message first, for
// the webhooks no other call is delivering to, and marks those webhooks as
// being delivered to: a webhook gets one request at a time, in order.
func (s *Server) claimDue(now time.Time) []claim {
	var out []claim
	var mine []*webhook
	for _, m := range s.st.pending {
		if m.inflight || m.next.After(now) || m.wh.sending && !slices.Contains(mine, m.wh) {
			continue
		}
		if !m.wh.sending {
			m.wh.sending = true
			mine = append(mine, m.wh)
		}
		m.inflight = true
		c := claim{m: m, url: m.wh.url, key: m.wh.key}
		if s.st.failNext > 0 {
			s.st.failNext--
			c.injected = true
		}
		out = append(out, c)
	}
	return out
}

// outcome is what one attempt came to.
type outcome struct {
	at        time.Time
	status    int
	response  string
	ok        bool
	cancelled bool // by the caller's context or Close: not an attempt
}

// DeliverWebhooks makes, now, every webhook delivery attempt due by the
// fake's clock: first attempts of messages for events that happened up to
// now, and retries whose time has come. It returns the number of attempts
// made, successful or not. It brings the fake up to its clock first, so
// events that come with time (a job step ending, a consent's warning) are
// delivered too. A webhook gets one request at a time: its messages go one
// after the other, oldest first, and a webhook another call (or
// StartWebhookDelivery) is delivering to is left to that call; different
// webhooks are delivered to at the same time. Attempts that fall due while
// it runs, such as those of events a receiver causes by calling the fake
// back, wait for the next call.
//
// Each attempt is a POST of the message's JSON body to the webhook's URL,
// signed with the webhook's secret (headers webhook-id, webhook-timestamp,
// webhook-signature), through WithWebhookClient's client. A 2xx answer is
// a success; anything else, a transport error, a redirect or no answer
// within 15 seconds is a failure, retried on Basiq's schedule after the
// attempt: +5 s, +5 min, +30 min, +2 h, +5 h, +10 h, +10 h; the eighth
// failure gives the message up.
//
// When ctx ends, or the Server is closed, attempts not finished are not
// recorded: they stay due (a receiver may have seen them; the retry carries
// the same webhook-id) and the error is ctx's error or the server-closed
// error. A test drives deliveries by moving the fake's clock (WithClock, or
// time inside a testing/synctest bubble) and calling DeliverWebhooks;
// NextWebhookAttempt tells when the next attempt falls due. webhook-timestamp
// is the fake's clock too: a receiver that checks it against its own clock
// (Standard Webhooks allows 5 minutes) must be given the fake's.
func (s *Server) DeliverWebhooks(ctx context.Context) (attempts int, err error) {
	if s == nil || s.st == nil {
		return 0, errNotNewServer("DeliverWebhooks")
	}
	if ctx == nil {
		return 0, errors.New("basiqtest: DeliverWebhooks with a nil context")
	}
	if s.closed.Load() {
		return 0, errClosed()
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.mu.Lock()
	now := s.cfg.now()
	s.advance(now)
	claims := s.claimDue(now)
	s.mu.Unlock()
	if len(claims) == 0 {
		return 0, nil
	}

	sendCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(s.closeCtx, cancel)
	defer stop()
	var made atomic.Int64
	var wg sync.WaitGroup
	sem := make(chan struct{}, maxParallelSends)
	for _, group := range byWebhook(claims) {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			for _, cl := range group {
				o := outcome{cancelled: true}
				if sendCtx.Err() == nil && s.stillDue(cl) {
					o = s.send(sendCtx, cl)
				}
				if s.recordAttempt(cl, o) {
					made.Add(1)
				}
			}
			s.mu.Lock()
			group[0].m.wh.sending = false
			s.mu.Unlock()
			s.wake() // its messages that fell due meanwhile
		})
	}
	wg.Wait()
	switch {
	case ctx.Err() != nil:
		return int(made.Load()), ctx.Err()
	case s.closed.Load():
		return int(made.Load()), errClosed()
	}
	return int(made.Load()), nil
}

// stillDue reports whether a claimed message is still to be sent: a
// receiver may have deleted its webhook (or the test forgotten the
// message) while earlier messages of the claim were being delivered.
func (s *Server) stillDue(cl claim) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !cl.m.next.IsZero()
}

// byWebhook groups claims by webhook, keeping their order within a group.
func byWebhook(claims []claim) [][]claim {
	var groups [][]claim
	index := map[*webhook]int{}
	for _, c := range claims {
		i, ok := index[c.m.wh]
		if !ok {
			i = len(groups)
			index[c.m.wh] = i
			groups = append(groups, nil)
		}
		groups[i] = append(groups[i], c)
	}
	return groups
}

// send makes one attempt. It reads only what does not change after a
// message is made, so it needs no lock.
func (s *Server) send(ctx context.Context, cl claim) outcome {
	at := s.cfg.now()
	ts := strconv.FormatInt(at.Unix(), 10)
	actx, cancel := context.WithTimeout(ctx, attemptTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodPost, cl.url, bytes.NewReader(cl.m.body))
	if err != nil {
		return outcome{at: at, response: "the webhook's URL cannot be requested"}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "basiqtest-webhooks/1")
	req.Header.Set("webhook-id", cl.m.id)
	req.Header.Set("webhook-timestamp", ts)
	req.Header.Set("webhook-signature", signWebhook(cl.key, cl.m.id, ts, cl.m.body))
	res, err := s.webhookClient().Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return outcome{cancelled: true}
		}
		if errors.Is(err, context.DeadlineExceeded) || isTimeout(err) {
			return outcome{at: at, response: "Timeout: no answer within " + attemptTimeout.String()}
		}
		return outcome{at: at, response: oneLine(err.Error())}
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, maxResponseRead))
	res.Body.Close()
	if ctx.Err() != nil {
		return outcome{cancelled: true}
	}
	o := outcome{at: at, status: res.StatusCode, ok: res.StatusCode >= 200 && res.StatusCode < 300}
	o.response = http.StatusText(res.StatusCode)
	if o.response == "" {
		o.response = "Status " + strconv.Itoa(res.StatusCode)
	}
	return o
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// oneLine cuts text to its first line and 200 bytes.
func oneLine(text string) string {
	text, _, _ = strings.Cut(text, "\n")
	if len(text) > 200 {
		text = strings.ToValidUTF8(text[:200], "") + "…"
	}
	return text
}

// recordAttempt records an attempt's outcome on its message and schedules
// the next one; it reports whether an attempt was made. A cancelled attempt
// is not recorded: the message stays due.
func (s *Server) recordAttempt(cl claim, o outcome) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := cl.m
	m.inflight = false
	if o.cancelled {
		if cl.injected {
			s.st.failNext++
		}
		return false
	}
	a := attempt{id: newUUID(), at: o.at, url: cl.url, status: o.status, response: o.response, ok: o.ok}
	if cl.injected {
		a.ok, a.injected, a.status = false, true, http.StatusInternalServerError
		a.response = "Internal Server Error (FailWebhookDeliveries; the receiver answered: " + o.response + ")"
	}
	m.attempts = append(m.attempts, a)
	if m.next.IsZero() { // the webhook was deleted, or the message forgotten, meanwhile
		return true
	}
	switch {
	case a.ok:
		m.delivered, m.next = true, time.Time{}
	case len(m.attempts) >= maxAttempts:
		m.next = time.Time{}
	default:
		m.next = a.at.Add(retryDelay(len(m.attempts)))
		return true
	}
	s.st.pending = slices.DeleteFunc(s.st.pending, func(p *message) bool { return p == m })
	return true
}

// wake tells the background deliverer that something new may be due.
func (s *Server) wake() {
	select {
	case s.wakeCh <- struct{}{}:
	default:
	}
}

// StartWebhookDelivery starts delivering webhook messages in the
// background, for demos and programs that run against the fake: a goroutine
// calls DeliverWebhooks whenever an attempt falls due, a job changes or a
// consent timer fires by the fake's clock (and at least every second while
// any of those is scheduled, so that a test clock that jumps is noticed),
// and at once when an event is recorded. It stops when ctx ends or the
// Server is closed; Close waits for it. Tests that want to know when
// deliveries happen call DeliverWebhooks themselves instead. It returns an
// error when delivery is already running or the Server is closed.
func (s *Server) StartWebhookDelivery(ctx context.Context) error {
	if s == nil || s.st == nil {
		return errNotNewServer("StartWebhookDelivery")
	}
	if ctx == nil {
		return errors.New("basiqtest: StartWebhookDelivery with a nil context")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closed.Load():
		return errClosed()
	case s.st.delivering:
		return errors.New("basiqtest: webhook delivery is already running")
	}
	s.st.delivering = true
	s.bg.Add(1)
	go s.deliverLoop(ctx)
	return nil
}

// deliverLoop is StartWebhookDelivery's goroutine.
func (s *Server) deliverLoop(ctx context.Context) {
	defer s.bg.Done()
	defer func() {
		s.mu.Lock()
		s.st.delivering = false
		s.mu.Unlock()
	}()
	for {
		_, _ = s.DeliverWebhooks(ctx)
		var timer *time.Timer
		var tick <-chan time.Time
		if wait, ok := s.untilNextChange(); ok {
			timer = time.NewTimer(wait)
			tick = timer.C
		}
		select {
		case <-ctx.Done():
		case <-s.done:
		case <-s.wakeCh:
		case <-tick:
		}
		if timer != nil {
			timer.Stop()
		}
		if ctx.Err() != nil || s.closed.Load() {
			return
		}
	}
}

// untilNextChange is how long the background deliverer may sleep: until
// the next attempt, job change or consent timer by the fake's clock, at
// most deliveryPollLimit, at least a millisecond. ok is false when nothing
// is scheduled.
func (s *Server) untilNextChange() (time.Duration, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var next time.Time
	consider := func(t time.Time) {
		if next.IsZero() || t.Before(next) {
			next = t
		}
	}
	for _, m := range s.st.pending {
		if !m.inflight && !m.wh.sending { // a call delivering to the webhook wakes the loop when done
			consider(m.next)
		}
	}
	if len(s.st.queue) > 0 {
		consider(s.st.queue[0].at)
	}
	if t, ok := s.nextConsentTimer(); ok {
		consider(t)
	}
	if next.IsZero() {
		return 0, false
	}
	return min(max(next.Sub(s.cfg.now()), time.Millisecond), deliveryPollLimit), true
}
