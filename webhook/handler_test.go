package webhook_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banklink-go/basiq"
	"github.com/banklink-go/basiq/webhook"
	"github.com/banklink-go/basiq/webhook/webhooktest"
)

const thinBody = `{"eventTypeId":"connection.invalidated","eventId":"ev1",` +
	`"links":{"event":"https://au-api.basiq.io/events/ev1","eventEntity":"https://au-api.basiq.io/users/u1/connections/c1"}}`

func newVerifier(t *testing.T, opts ...webhook.Option) *webhook.Verifier {
	t.Helper()
	v, err := webhook.NewVerifier(testSecret(), opts...)
	require.NoError(t, err)
	return v
}

// deliver sends one signed delivery of id at the current time.
func deliver(h http.Handler, t *testing.T, id, body string) *httptest.ResponseRecorder {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, webhooktest.NewRequest(t, testSecret(), "/basiq", id, time.Now(), []byte(body)))
	return w
}

// failingDeduper fails every call.
type failingDeduper struct{}

func (failingDeduper) Claim(context.Context, string, string, time.Duration) (webhook.ClaimStatus, error) {
	return 0, errors.New("redis: connection refused")
}
func (failingDeduper) Complete(context.Context, string, time.Duration) error {
	return errors.New("redis: connection refused")
}
func (failingDeduper) Release(context.Context, string, string) error {
	return errors.New("redis: connection refused")
}

func TestHandlerStatusCodes(t *testing.T) {
	signed := func(id, body string) func(t *testing.T) *http.Request {
		return func(t *testing.T) *http.Request {
			return webhooktest.NewRequest(t, testSecret(), "/basiq", id, time.Now(), []byte(body))
		}
	}
	mutate := func(id string, f func(r *http.Request)) func(t *testing.T) *http.Request {
		return func(t *testing.T) *http.Request {
			r := signed(id, thinBody)(t)
			f(r)
			return r
		}
	}
	const internal = "database password is hunter2"
	cases := []struct {
		name     string
		req      func(t *testing.T) *http.Request
		fnErr    error
		deduper  webhook.Deduper
		status   int
		callback bool
	}{
		{"delivered", signed("m1", thinBody), nil, nil, http.StatusOK, true},
		{"GET", mutate("m1", func(r *http.Request) { r.Method = http.MethodGet }), nil, nil, http.StatusMethodNotAllowed, false},
		{"PUT", mutate("m1", func(r *http.Request) { r.Method = http.MethodPut }), nil, nil, http.StatusMethodNotAllowed, false},
		{"missing webhook-id", mutate("m1", func(r *http.Request) { r.Header.Del("webhook-id") }), nil, nil, http.StatusBadRequest, false},
		{"missing signature", mutate("m1", func(r *http.Request) { r.Header.Del("webhook-signature") }), nil, nil, http.StatusBadRequest, false},
		{"missing timestamp", mutate("m1", func(r *http.Request) { r.Header.Del("webhook-timestamp") }), nil, nil, http.StatusBadRequest, false},
		{"bad signature", mutate("m1", func(r *http.Request) { r.Header.Set("webhook-signature", wrongSig) }), nil, nil, http.StatusBadRequest, false},
		{"signature for another body", mutate("m1", func(r *http.Request) {
			r.Body = io.NopCloser(strings.NewReader(strings.Replace(thinBody, "ev1", "ev2", 1)))
		}), nil, nil, http.StatusBadRequest, false},
		{"replay after 10 min", func(t *testing.T) *http.Request {
			return webhooktest.NewRequest(t, testSecret(), "/basiq", "m1", time.Now().Add(-10*time.Minute), []byte(thinBody))
		}, nil, nil, http.StatusBadRequest, false},
		{"oversized, with Content-Length", signed("m1", `{"pad":"`+strings.Repeat("x", webhook.DefaultMaxBodySize)+`"}`), nil, nil, http.StatusRequestEntityTooLarge, false},
		{"oversized, chunked", mutate("m1", func(r *http.Request) {
			r.ContentLength = -1
			r.Body = io.NopCloser(io.MultiReader(strings.NewReader(`{"pad":"`), strings.NewReader(strings.Repeat("x", webhook.DefaultMaxBodySize))))
		}), nil, nil, http.StatusRequestEntityTooLarge, false},
		{"signed, not JSON", signed("m1", "<xml>hello</xml>"), nil, nil, http.StatusUnprocessableEntity, false},
		{"callback fails", signed("m1", thinBody), errors.New(internal), nil, http.StatusInternalServerError, true},
		{"deduper down", signed("m1", thinBody), nil, failingDeduper{}, http.StatusServiceUnavailable, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var calls atomic.Int32
			var logs bytes.Buffer
			h := webhook.Handler(newVerifier(t), func(ctx context.Context, m webhook.Message) error {
				calls.Add(1)
				assert.Equal(t, basiq.EventConnectionInvalidated, m.Type)
				return c.fnErr
			}, webhook.WithDeduper(c.deduper), webhook.WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
			w := httptest.NewRecorder()
			h.ServeHTTP(w, c.req(t))
			assert.Equal(t, c.status, w.Code, "body %q", w.Body.String())
			assert.Equal(t, c.callback, calls.Load() == 1, "callback called %d times", calls.Load())
			assert.NotContains(t, w.Body.String(), internal, "the response carries the callback's error")
			assert.NotContains(t, w.Body.String(), "redis")
			if c.status == http.StatusMethodNotAllowed {
				assert.Equal(t, http.MethodPost, w.Header().Get("Allow"))
			}
			assert.Contains(t, logs.String(), fmt.Sprintf("status=%d", c.status))
			assert.NotContains(t, logs.String(), "xxxxxxxx", "the body was logged")
			assert.NotContains(t, logs.String(), "users/u1", "the body was logged")
			assertNoSecretIn(t, logs.String())
		})
	}
}

func TestHandlerMisuse(t *testing.T) {
	fn := func(context.Context, webhook.Message) error { return nil }
	for name, h := range map[string]http.Handler{
		"nil verifier":  webhook.Handler(nil, fn),
		"zero verifier": webhook.Handler(&webhook.Verifier{}, fn),
		"nil callback":  webhook.Handler(newVerifier(t), nil),
	} {
		w := deliver(h, t, "m1", thinBody)
		assert.Equal(t, http.StatusInternalServerError, w.Code, name)
	}
	// nil options are skipped; zero durations mean the defaults.
	h := webhook.Handler(newVerifier(t), fn, nil, webhook.WithCallbackTimeout(0), webhook.WithDedupeWindow(-1), webhook.WithDeduper(nil))
	assert.Equal(t, http.StatusOK, deliver(h, t, "m1", thinBody).Code)
	assert.Equal(t, http.StatusOK, deliver(h, t, "m1", thinBody).Code)
}

// basiqSchedule is Basiq's delivery schedule: the gap before each attempt
// (basiq-api-v3.md §6.5).
var basiqSchedule = []time.Duration{0, 5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour}

// TestRetrySchedule plays Basiq's schedule for 50 events in virtual time.
// The callback fails the first 3 deliveries of each event; every event is
// delivered all 8 times regardless (as if Basiq never got the 2xx). The
// callback must succeed exactly once per event, and every delivery after
// that success is dropped with a 200.
func TestRetrySchedule(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const events = 50
		var mu sync.Mutex
		calls := map[string]int{}
		successes := map[string]int{}
		h := webhook.Handler(newVerifier(t), func(_ context.Context, m webhook.Message) error {
			mu.Lock()
			defer mu.Unlock()
			calls[m.ID]++
			if calls[m.ID] <= 3 {
				return errors.New("downstream unavailable")
			}
			successes[m.ID]++
			return nil
		})
		statuses := make([][]int, events)
		for _, gap := range basiqSchedule {
			time.Sleep(gap)
			for e := range events {
				id := fmt.Sprintf("msg_%02d", e)
				statuses[e] = append(statuses[e], deliver(h, t, id, thinBody).Code)
			}
		}
		want := []int{500, 500, 500, 200, 200, 200, 200, 200}
		totalCalls, totalSuccesses, dropped := 0, 0, 0
		for e := range events {
			id := fmt.Sprintf("msg_%02d", e)
			assert.Equal(t, want, statuses[e], id)
			assert.Equal(t, 1, successes[id], "%s succeeded %d times", id, successes[id])
			assert.Equal(t, 4, calls[id], id)
			totalCalls += calls[id]
			totalSuccesses += successes[id]
			dropped += len(basiqSchedule) - calls[id]
		}
		t.Logf("%d events × %d deliveries over %s: %d callbacks, %d successes, %d duplicates dropped",
			events, len(basiqSchedule), sum(basiqSchedule), totalCalls, totalSuccesses, dropped)
	})
}

func sum(ds []time.Duration) time.Duration {
	var total time.Duration
	for _, d := range ds {
		total += d
	}
	return total
}

// TestConcurrentDuplicates: many deliveries of one message at once (a slow
// callback and Basiq's retries): exactly one callback; the others are asked
// to retry (409); once it succeeded, later deliveries are dropped (200).
func TestConcurrentDuplicates(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var calls atomic.Int32
		release := make(chan struct{})
		h := webhook.Handler(newVerifier(t), func(ctx context.Context, m webhook.Message) error {
			calls.Add(1)
			<-release
			return nil
		})
		const n = 20
		codes := make(chan int, n)
		for range n {
			go func() { codes <- deliver(h, t, "msg_dup", thinBody).Code }()
		}
		synctest.Wait() // one delivery is in the callback; the others answered
		assert.Equal(t, int32(1), calls.Load())
		require.Len(t, codes, n-1)
		for range n - 1 {
			assert.Equal(t, http.StatusConflict, <-codes)
		}
		close(release)
		assert.Equal(t, http.StatusOK, <-codes)
		assert.Equal(t, http.StatusOK, deliver(h, t, "msg_dup", thinBody).Code)
		assert.Equal(t, int32(1), calls.Load())
	})
}

// TestSlowCallbackThenRetries: Basiq's +5 s retry arrives while a slow
// first callback still runs (409, no callback); the +5 min retry finds it
// done (200, no callback).
func TestSlowCallbackThenRetries(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var calls atomic.Int32
		h := webhook.Handler(newVerifier(t), func(ctx context.Context, m webhook.Message) error {
			calls.Add(1)
			time.Sleep(20 * time.Second)
			return nil
		})
		first := make(chan int, 1)
		go func() { first <- deliver(h, t, "msg_slow", thinBody).Code }()
		time.Sleep(5 * time.Second)
		assert.Equal(t, http.StatusConflict, deliver(h, t, "msg_slow", thinBody).Code)
		assert.Equal(t, http.StatusOK, <-first)
		time.Sleep(5 * time.Minute)
		assert.Equal(t, http.StatusOK, deliver(h, t, "msg_slow", thinBody).Code)
		assert.Equal(t, int32(1), calls.Load())
	})
}

// TestCallbackTimeout: a callback that outlives its timeout sees its context
// end; the delivery fails (500) and the next one calls back again.
func TestCallbackTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var calls atomic.Int32
		h := webhook.Handler(newVerifier(t), func(ctx context.Context, m webhook.Message) error {
			if calls.Add(1) == 1 {
				<-ctx.Done()
				return ctx.Err()
			}
			return nil
		}, webhook.WithCallbackTimeout(10*time.Second))
		start := time.Now()
		assert.Equal(t, http.StatusInternalServerError, deliver(h, t, "msg_t", thinBody).Code)
		assert.Equal(t, 10*time.Second, time.Since(start))
		assert.Equal(t, http.StatusOK, deliver(h, t, "msg_t", thinBody).Code)
		assert.Equal(t, int32(2), calls.Load())
	})
}

// TestCallbackContextOutlivesRequest: Basiq hanging up does not cancel the
// callback, which carries the request's values.
func TestCallbackContextOutlivesRequest(t *testing.T) {
	type key struct{}
	var sawCancel, sawValue bool
	ctx, cancel := context.WithCancel(context.WithValue(context.Background(), key{}, "v"))
	r := webhooktest.NewRequest(t, testSecret(), "/basiq", "msg_c", time.Now(), []byte(thinBody)).WithContext(ctx)
	// Cancelled after the claim: the client left while the callback runs.
	d := &cancelAfterClaim{Deduper: webhook.NewMemoryDeduper(0), cancel: cancel}
	h := webhook.Handler(newVerifier(t), func(ctx context.Context, m webhook.Message) error {
		sawCancel = ctx.Err() != nil
		sawValue = ctx.Value(key{}) == "v"
		return nil
	}, webhook.WithDeduper(d))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	assert.Equal(t, http.StatusOK, w.Code)
	assert.False(t, sawCancel, "the callback's context was cancelled with the request")
	assert.True(t, sawValue)
	s, err := d.Claim(context.Background(), "msg_c", "x", time.Minute)
	require.NoError(t, err)
	assert.Equal(t, webhook.Done, s, "completed despite the cancelled request")
}

type cancelAfterClaim struct {
	webhook.Deduper
	cancel func()
}

func (c *cancelAfterClaim) Claim(ctx context.Context, id, token string, ttl time.Duration) (webhook.ClaimStatus, error) {
	s, err := c.Deduper.Claim(ctx, id, token, ttl)
	c.cancel()
	return s, err
}

// TestCallbackPanics: the claim is released and the panic goes on to
// net/http; the next delivery calls back again.
func TestCallbackPanics(t *testing.T) {
	var calls atomic.Int32
	h := webhook.Handler(newVerifier(t), func(ctx context.Context, m webhook.Message) error {
		if calls.Add(1) == 1 {
			panic("boom")
		}
		return nil
	})
	assert.PanicsWithValue(t, "boom", func() { deliver(h, t, "msg_p", thinBody) })
	assert.Equal(t, http.StatusOK, deliver(h, t, "msg_p", thinBody).Code)
	assert.Equal(t, int32(2), calls.Load())
}

// TestCompleteFailureStillOK: the callback succeeded, so the answer is 200
// even when the Deduper cannot record it.
func TestCompleteFailureStillOK(t *testing.T) {
	d := &flakyComplete{Deduper: webhook.NewMemoryDeduper(0)}
	h := webhook.Handler(newVerifier(t), func(context.Context, webhook.Message) error { return nil }, webhook.WithDeduper(d))
	assert.Equal(t, http.StatusOK, deliver(h, t, "msg_f", thinBody).Code)
}

type flakyComplete struct{ webhook.Deduper }

func (flakyComplete) Complete(context.Context, string, time.Duration) error {
	return errors.New("store unavailable")
}

// TestHandlerOverLoopback runs the handler behind a real server, as Basiq
// reaches it, with a secret rotation: the header carries two signatures.
func TestHandlerOverLoopback(t *testing.T) {
	got := make(chan webhook.Message, 1)
	srv := httptest.NewServer(webhook.Handler(newVerifier(t), func(ctx context.Context, m webhook.Message) error {
		got <- m
		return nil
	}))
	defer srv.Close()
	now := time.Now()
	sig, err := webhook.Sign(testSecret(), "msg_l", now, []byte(thinBody))
	require.NoError(t, err)
	oldSig, err := webhook.Sign("whsec_"+base64Encode([]byte("the previous secret")), "msg_l", now, []byte(thinBody))
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(thinBody))
	require.NoError(t, err)
	req.Header.Set("webhook-id", "msg_l")
	req.Header.Set("webhook-timestamp", fmt.Sprint(now.Unix()))
	req.Header.Set("webhook-signature", oldSig+" "+sig)
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	m := <-got
	assert.Equal(t, "u1", m.UserID())
	assert.Equal(t, "c1", m.ConnectionID())
	assert.Equal(t, thinBody, string(m.Body))
}

// "No timeout" is usually written math.MaxInt64: the callback must run, and
// a redelivery while it runs must still be answered 409, not run it again.
func TestNoCallbackTimeoutStillCallsBack(t *testing.T) {
	for _, opts := range [][]webhook.HandlerOption{
		{webhook.WithCallbackTimeout(math.MaxInt64)},
		{webhook.WithCallbackTimeout(math.MaxInt64), webhook.WithDedupeWindow(math.MaxInt64)},
		{webhook.WithCallbackTimeout(math.MaxInt64 - 10*time.Second)},
	} {
		synctest.Test(t, func(t *testing.T) {
			release := make(chan struct{})
			var calls atomic.Int32
			h := webhook.Handler(newVerifier(t, webhook.WithTolerance(math.MaxInt64)), func(ctx context.Context, m webhook.Message) error {
				calls.Add(1)
				<-release
				return nil
			}, opts...)
			first := make(chan *httptest.ResponseRecorder)
			go func() { first <- deliver(h, t, "msg_forever", thinBody) }()
			synctest.Wait()
			select {
			case w := <-first:
				t.Fatalf("%d callbacks; the delivery was answered %d %q", calls.Load(), w.Code, strings.TrimSpace(w.Body.String()))
			default:
			}
			require.EqualValues(t, 1, calls.Load(), "the callback runs")
			assert.Equal(t, http.StatusConflict, deliver(h, t, "msg_forever", thinBody).Code, "a redelivery while it runs")
			close(release)
			assert.Equal(t, http.StatusOK, (<-first).Code)
			assert.Equal(t, http.StatusOK, deliver(h, t, "msg_forever", thinBody).Code, "a duplicate afterwards")
			assert.EqualValues(t, 1, calls.Load())
		})
	}
}

// A full MemoryDeduper never forgets a delivery whose callback is running:
// a new message then gets 503 (Basiq retries it later), and a redelivery of
// a running one gets 409, never a second concurrent callback.
func TestFullDeduperNeverRunsACallbackTwiceAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		var mu sync.Mutex
		running, most := map[string]int{}, 0
		calls := map[string]int{}
		h := webhook.Handler(newVerifier(t), func(ctx context.Context, m webhook.Message) error {
			mu.Lock()
			calls[m.ID]++
			running[m.ID]++
			most = max(most, running[m.ID])
			mu.Unlock()
			<-release
			mu.Lock()
			running[m.ID]--
			mu.Unlock()
			return nil
		}, webhook.WithDeduper(webhook.NewMemoryDeduper(2)))
		codes := make(chan int, 8)
		for _, id := range []string{"msg_a", "msg_b"} {
			go func() { codes <- deliver(h, t, id, thinBody).Code }()
		}
		synctest.Wait() // both callbacks running: the deduper is full of claims
		codeC := make(chan int, 1)
		go func() { codeC <- deliver(h, t, "msg_c", thinBody).Code }()
		synctest.Wait()
		select {
		case c := <-codeC:
			assert.Equal(t, http.StatusServiceUnavailable, c, "a new message while full of running claims: Basiq retries it")
		default:
			t.Error("msg_c's callback runs: a running claim was evicted to make room")
		}
		for _, id := range []string{"msg_a", "msg_b"} {
			go func() { codes <- deliver(h, t, id, thinBody).Code }()
		}
		synctest.Wait()
		close(release)
		got := map[int]int{}
		for range 4 {
			got[<-codes]++
		}
		assert.Equal(t, map[int]int{http.StatusOK: 2, http.StatusConflict: 2}, got, "two handled, two redeliveries refused while running")
		mu.Lock()
		assert.Equal(t, 1, most, "never two callbacks of one message at once")
		assert.Equal(t, map[string]int{"msg_a": 1, "msg_b": 1}, calls)
		mu.Unlock()
		select {
		case <-codeC:
		default:
		}
		assert.Equal(t, http.StatusOK, deliver(h, t, "msg_c", thinBody).Code, "Basiq's retry, once there is room")
	})
}

// A captured delivery replayed later verifies for as long as its timestamp
// is within the Verifier's tolerance: the Handler must remember its id at
// least that long, whatever a shorter dedupe window says.
func TestReplayWithinToleranceAfterShortDedupeWindowIsDropped(t *testing.T) {
	for _, c := range []struct {
		name   string
		stamp  time.Duration // the timestamp, from the first delivery
		replay time.Duration // the replay, from the first delivery
	}{
		{"timestamp now, replayed 4m later", 0, 4 * time.Minute},
		{"timestamp 4m ahead, replayed 8m later", 4 * time.Minute, 8 * time.Minute},
		{"timestamp 4m59s ahead, replayed 9m58s later", 4*time.Minute + 59*time.Second, 9*time.Minute + 58*time.Second},
	} {
		t.Run(c.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var calls atomic.Int32
				h := webhook.Handler(newVerifier(t), func(context.Context, webhook.Message) error {
					calls.Add(1)
					return nil
				}, webhook.WithDedupeWindow(time.Minute)) // tolerance: the default 5 minutes
				stamp := time.Now().Add(c.stamp)
				captured := func() *httptest.ResponseRecorder {
					w := httptest.NewRecorder()
					h.ServeHTTP(w, webhooktest.NewRequest(t, testSecret(), "/basiq", "msg_replayed", stamp, []byte(thinBody)))
					return w
				}
				require.Equal(t, http.StatusOK, captured().Code)
				time.Sleep(c.replay)
				assert.Equal(t, http.StatusOK, captured().Code, "the replay verifies and is acknowledged")
				assert.EqualValues(t, 1, calls.Load(), "but the callback does not run again")
			})
		})
	}
}

// BenchmarkHandlerVsStdlib is the target of DESIGN §16: webhook.Handler end
// to end (defaults: the in-memory Deduper, a unique webhook-id per message)
// against a receiver written by hand with the standard library (read the
// body, compute the HMAC, compare, json.Unmarshal into a small struct,
// answer 200), both served the same requests. They run interleaved in
// alternating blocks, so that a busy machine slows both alike; it prints
// each one's median ns per message and the median of the blocks' ratios
// (target: ≤ 1.5).
func BenchmarkHandlerVsStdlib(b *testing.B) {
	for _, s := range benchSizes[:2] { // 1 KiB and 64 KiB
		b.Run(s.name, func(b *testing.B) {
			body := benchBody(s.size, s.dense)
			key := mustKeyB(b)
			v, err := webhook.NewVerifier(tv1.secret, fixedClock(tv1.at()))
			if err != nil {
				b.Fatal(err)
			}
			handler := webhook.Handler(v, func(context.Context, webhook.Message) error { return nil })
			stdlib := stdlibReceiver(key)

			block := max(1, (32<<10)/len(body))
			reqs := make([]*http.Request, block)
			next := 0
			// prepare signs a block of requests with fresh ids (outside the
			// timed part).
			prepare := func() {
				for i := range reqs {
					id := fmt.Sprintf("msg_%010d", next)
					next++
					reqs[i] = &http.Request{
						Method:        http.MethodPost,
						Header:        headers(id, tv1.timestamp, sign(key, id, tv1.timestamp, body)),
						Body:          io.NopCloser(bytes.NewReader(body)),
						ContentLength: int64(len(body)),
					}
				}
			}
			run := func(h http.Handler) time.Duration {
				prepare()
				w := &discardWriter{}
				t0 := time.Now()
				for _, r := range reqs {
					w.status = 0
					h.ServeHTTP(w, r)
					if w.status != http.StatusOK {
						b.Fatalf("status %d", w.status)
					}
				}
				return time.Since(t0)
			}
			var hNs, sNs, ratios []float64
			odd := false
			for b.Loop() {
				var th, ts time.Duration
				if odd {
					ts = run(stdlib)
					th = run(handler)
				} else {
					th = run(handler)
					ts = run(stdlib)
				}
				odd = !odd
				hNs = append(hNs, float64(th.Nanoseconds())/float64(block))
				sNs = append(sNs, float64(ts.Nanoseconds())/float64(block))
				ratios = append(ratios, float64(th)/float64(ts))
			}
			mh, ms, mr := median(hNs), median(sNs), median(ratios)
			b.ReportMetric(mh, "handler-ns/msg")
			b.ReportMetric(ms, "stdlib-ns/msg")
			b.ReportMetric(mr, "ratio")
			b.ReportMetric(0, "ns/op")
			b.Logf("%s: Handler %.0f ns/msg, stdlib receiver %.0f ns/msg (medians of %d blocks of %d); median ratio %.2f× (target ≤ 1.5×)",
				s.name, mh, ms, len(ratios), block, mr)
		})
	}
}

// stdlibReceiver is the receiver a user would write by hand with the
// standard library: read the body, compute the HMAC, compare it with the
// v1 signature, json.Unmarshal the payload into a small struct, answer 200.
func stdlibReceiver(key []byte) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		mac := hmac.New(sha256.New, key)
		mac.Write([]byte(r.Header.Get("webhook-id") + "." + r.Header.Get("webhook-timestamp") + "."))
		mac.Write(body)
		want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
		if !hmac.Equal([]byte(r.Header.Get("webhook-signature")), []byte(want)) {
			http.Error(w, "bad signature", http.StatusBadRequest)
			return
		}
		var event struct {
			EventTypeID string `json:"eventTypeId"`
			EventID     string `json:"eventId"`
			Links       struct {
				Event       string `json:"event"`
				EventEntity string `json:"eventEntity"`
			} `json:"links"`
		}
		if err := json.Unmarshal(body, &event); err != nil || event.EventTypeID == "" {
			http.Error(w, "bad payload", http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
}

// discardWriter is a ResponseWriter that keeps only the status.
type discardWriter struct {
	h      http.Header
	status int
}

func (w *discardWriter) Header() http.Header {
	if w.h == nil {
		w.h = http.Header{}
	}
	return w.h
}

func (w *discardWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return len(p), nil
}

func (w *discardWriter) WriteHeader(status int) { w.status = status }

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}
