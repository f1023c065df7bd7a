package webhook

import (
	"context"
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"math"
	"net/http"
	"time"
)

// Defaults of a Handler.
const (
	// DefaultCallbackTimeout bounds each call of a Handler's callback.
	DefaultCallbackTimeout = time.Minute
	// DefaultDedupeWindow is how long a Handler remembers a handled
	// webhook-id. Basiq's last retry comes about 27 h 35 min after the first
	// attempt (now, +5 s, +5 min, +30 min, +2 h, +5 h, +10 h, +10 h), so 48 h
	// covers every retry with room for clock skew.
	DefaultDedupeWindow = 48 * time.Hour
	// claimMargin is added to the callback timeout to make a claim's ttl, so
	// a claim outlives its callback and the Deduper calls around it.
	claimMargin = 30 * time.Second
	// bookkeepingTimeout bounds Complete and Release, which run after the
	// callback, detached from the request.
	bookkeepingTimeout = 10 * time.Second
)

// HandlerOption configures a Handler.
type HandlerOption func(*handlerConfig)

type handlerConfig struct {
	deduper Deduper
	logger  *slog.Logger
	timeout time.Duration
	window  time.Duration
}

// WithDeduper sets where handled webhook-ids are recorded (default: a new
// MemoryDeduper for this Handler, which dedupes this process only). Give
// every replica of a fleet the same shared Deduper. Nil means the default.
func WithDeduper(d Deduper) HandlerOption {
	return func(c *handlerConfig) { c.deduper = d }
}

// WithLogger logs what the Handler does with each delivery through l:
// refusals (warn), callback failures (error), duplicates and successes
// (debug), with the keys webhook_id, event_type, event_id, status and
// error. The secret and the body are never logged. The default logs nothing.
func WithLogger(l *slog.Logger) HandlerOption {
	return func(c *handlerConfig) { c.logger = l }
}

// WithCallbackTimeout bounds each call of the callback (default
// DefaultCallbackTimeout): its context is cancelled after d. The claim on
// the message's id lasts d plus 30 s (saturating: math.MaxInt64, the usual
// "no timeout", gives a callback without timeout and a claim that lasts
// while it runs), so a callback that ignores its context beyond that may run
// twice. Zero or negative means the default.
func WithCallbackTimeout(d time.Duration) HandlerOption {
	return func(c *handlerConfig) {
		if d > 0 {
			c.timeout = d
		}
	}
}

// WithDedupeWindow sets how long a handled webhook-id is remembered (default
// DefaultDedupeWindow, 48 h, which covers Basiq's whole retry schedule).
// Zero or negative means the default. The Handler remembers an id at least
// twice its Verifier's tolerance whatever d says (10 minutes with the
// default tolerance): a captured delivery verifies, and could be replayed,
// for as long as its timestamp is within the tolerance, and the timestamp
// may itself be up to the tolerance ahead when first handled.
func WithDedupeWindow(d time.Duration) HandlerOption {
	return func(c *handlerConfig) {
		if d > 0 {
			c.window = d
		}
	}
}

// Handler returns an http.Handler for Basiq's webhook deliveries. For each
// request it:
//
//   - answers 405 to anything but POST;
//   - reads the body up to v's size limit (413 beyond it);
//   - verifies it with v (400 for a missing or malformed header, a timestamp
//     outside the tolerance or an invalid signature; 422 for a signed body
//     that is not a JSON object), without calling fn;
//   - claims the webhook-id in the Deduper: a message already handled is
//     answered 200 without calling fn; one being handled by another delivery
//     right now is answered 409 (Basiq retries later); a Deduper error is
//     answered 503 (Basiq retries later);
//   - calls fn, and answers 200 only once it returned nil (the id is then
//     remembered), or 500 when it returned an error or panicked (the claim
//     is released, so Basiq's next retry calls fn again; a panic is
//     re-raised after the release).
//
// fn's context carries the request's values but is not cancelled when Basiq
// hangs up: fn runs to completion or until the callback timeout. Keep fn
// quick (enqueue work rather than do it) so that Basiq, which does not
// document its timeout, is answered in a few seconds. Response bodies are
// short fixed texts, never fn's error.
//
// fn may keep m.Body: the Handler does not reuse it. Serve the Handler from
// an http.Server with read timeouts (ReadHeaderTimeout, ReadTimeout): the
// body is read before anything is verified.
//
// A nil v or fn is a misuse that answers 500 to every request, so Basiq keeps
// retrying until it is fixed.
func Handler(v *Verifier, fn func(ctx context.Context, m Message) error, opts ...HandlerOption) http.Handler {
	cfg := handlerConfig{timeout: DefaultCallbackTimeout, window: DefaultDedupeWindow}
	for _, opt := range opts {
		if opt != nil {
			opt(&cfg)
		}
	}
	if cfg.deduper == nil {
		cfg.deduper = NewMemoryDeduper(0)
	}
	return &handler{v: v, fn: fn, cfg: cfg}
}

type handler struct {
	v   *Verifier
	fn  func(ctx context.Context, m Message) error
	cfg handlerConfig
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if !h.v.ready() || h.fn == nil {
		h.log(ctx, slog.LevelError, "webhook: handler misconfigured: nil Verifier or callback", http.StatusInternalServerError, nil, nil)
		http.Error(w, "webhook: handler not configured", http.StatusInternalServerError)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		h.log(ctx, slog.LevelDebug, "webhook: method not allowed", http.StatusMethodNotAllowed, nil, nil)
		http.Error(w, "webhook: POST only", http.StatusMethodNotAllowed)
		return
	}
	body, err := readBody(w, r, h.v.MaxBodySize())
	if err != nil {
		status := http.StatusBadRequest
		if errors.Is(err, ErrBodyTooLarge) {
			status = http.StatusRequestEntityTooLarge
		}
		h.refuse(ctx, w, status, nil, err)
		return
	}
	m, err := h.v.Verify(r.Header, body)
	if err != nil {
		status := http.StatusBadRequest
		switch {
		case errors.Is(err, ErrBodyTooLarge):
			status = http.StatusRequestEntityTooLarge
		case errors.Is(err, ErrInvalidPayload):
			status = http.StatusUnprocessableEntity
		}
		h.refuse(ctx, w, status, &m, err)
		return
	}
	h.handle(ctx, w, m)
}

// handle dedupes and calls back for a verified message.
func (h *handler) handle(ctx context.Context, w http.ResponseWriter, m Message) {
	token := rand.Text()
	status, err := h.cfg.deduper.Claim(ctx, m.ID, token, addDurations(h.cfg.timeout, claimMargin))
	switch {
	case err != nil:
		h.log(ctx, slog.LevelWarn, "webhook: deduper failed; asking Basiq to retry", http.StatusServiceUnavailable, &m, err)
		http.Error(w, "webhook: try again later", http.StatusServiceUnavailable)
		return
	case status == Done:
		h.log(ctx, slog.LevelDebug, "webhook: duplicate dropped", http.StatusOK, &m, nil)
		w.WriteHeader(http.StatusOK)
		return
	case status != Claimed:
		h.log(ctx, slog.LevelDebug, "webhook: another delivery is being handled; asking Basiq to retry", http.StatusConflict, &m, nil)
		http.Error(w, "webhook: already being handled", http.StatusConflict)
		return
	}

	bookkeeping := func() (context.Context, context.CancelFunc) {
		return context.WithTimeout(context.WithoutCancel(ctx), bookkeepingTimeout)
	}
	release := func() {
		bctx, cancel := bookkeeping()
		defer cancel()
		if err := h.cfg.deduper.Release(bctx, m.ID, token); err != nil {
			h.log(ctx, slog.LevelWarn, "webhook: deduper release failed; the claim lapses on its own", 0, &m, err)
		}
	}
	if err := h.call(ctx, m, release); err != nil {
		release()
		h.log(ctx, slog.LevelError, "webhook: callback failed; asking Basiq to retry", http.StatusInternalServerError, &m, err)
		http.Error(w, "webhook: handler failed", http.StatusInternalServerError)
		return
	}
	bctx, cancel := bookkeeping()
	defer cancel()
	if err := h.cfg.deduper.Complete(bctx, m.ID, h.keep()); err != nil {
		// The callback succeeded: answer 200 all the same, or Basiq would
		// retry a message that was handled.
		h.log(ctx, slog.LevelWarn, "webhook: deduper complete failed; a lost answer could be handled again", http.StatusOK, &m, err)
	} else {
		h.log(ctx, slog.LevelDebug, "webhook: handled", http.StatusOK, &m, nil)
	}
	w.WriteHeader(http.StatusOK)
}

// keep is how long a handled id is remembered: the dedupe window, raised to
// twice the Verifier's tolerance when shorter. A delivery verifies while its
// timestamp is within the tolerance of the clock, so a captured one can be
// replayed up to the tolerance after its timestamp, which itself may be up
// to the tolerance ahead of the clock when it was first handled.
func (h *handler) keep() time.Duration {
	return max(h.cfg.window, addDurations(h.v.tolerance, h.v.tolerance))
}

// addDurations is a+b for non-negative durations, saturating at the
// largest Duration instead of overflowing (a "no timeout" written
// math.MaxInt64 plus the claim's margin would otherwise be negative).
func addDurations(a, b time.Duration) time.Duration {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

// call runs the callback with its timeout, releasing the claim before
// re-raising a panic.
func (h *handler) call(ctx context.Context, m Message, release func()) error {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), h.cfg.timeout)
	defer cancel()
	completed := false
	defer func() {
		if !completed {
			release() // fn panicked (or called runtime.Goexit)
		}
	}()
	err := h.fn(cctx, m)
	completed = true
	return err
}

func (h *handler) refuse(ctx context.Context, w http.ResponseWriter, status int, m *Message, err error) {
	h.log(ctx, slog.LevelWarn, "webhook: delivery refused", status, m, err)
	http.Error(w, refusalText(err), status)
}

// refusalText is the response body for a refused delivery: the sentinel's
// fixed text, never details.
func refusalText(err error) string {
	for _, s := range []error{ErrBodyTooLarge, ErrMissingHeader, ErrTimestamp, ErrInvalidSignature, ErrInvalidPayload} {
		if errors.Is(err, s) {
			return s.Error()
		}
	}
	return "webhook: bad request"
}

func (h *handler) log(ctx context.Context, level slog.Level, msg string, status int, m *Message, err error) {
	if h.cfg.logger == nil || !h.cfg.logger.Enabled(ctx, level) {
		return
	}
	attrs := make([]slog.Attr, 0, 5)
	if m != nil && m.ID != "" {
		attrs = append(attrs, slog.String("webhook_id", m.ID))
		if m.Type != "" {
			attrs = append(attrs, slog.String("event_type", string(m.Type)))
		}
		if m.EventID != "" {
			attrs = append(attrs, slog.String("event_id", m.EventID))
		}
	}
	if status != 0 {
		attrs = append(attrs, slog.Int("status", status))
	}
	if err != nil {
		attrs = append(attrs, slog.String("error", err.Error()))
	}
	h.cfg.logger.LogAttrs(ctx, level, msg, attrs...)
}

// readBody reads at most limit bytes of the request body.
func readBody(w http.ResponseWriter, r *http.Request, limit int) ([]byte, error) {
	if r.ContentLength > int64(limit) {
		return nil, ErrBodyTooLarge
	}
	if r.Body == nil {
		return nil, nil
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, int64(limit)))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return nil, ErrBodyTooLarge
	}
	return body, err
}
