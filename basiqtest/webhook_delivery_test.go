package basiqtest_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banklink-go/basiq/basiqtest"
)

// TestWebhookSignatureVectors: the fake signs like the Standard Webhooks
// reference libraries (the two published test vectors), and like a plain
// HMAC written here.
func TestWebhookSignatureVectors(t *testing.T) {
	for _, tv := range []struct{ secret, id, ts, body, want string }{
		{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", `{"test": 2432232314}`,
			"v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="},
		{"whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD", "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk", "1649367553",
			`{"email":"test@example.com","username":"test_user"}`, "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw="},
	} {
		assert.Equal(t, tv.want, basiqtest.SignWebhook(tv.secret, tv.id, tv.ts, []byte(tv.body)))
		verifySignature(t, tv.secret, delivery{ID: tv.id, Timestamp: tv.ts, Signature: tv.want, Body: []byte(tv.body)})
	}
	assert.NotEqual(t, "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=",
		basiqtest.SignWebhook("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", []byte(`{"test": 2432232314}`)))
}

func TestWebhookDeliverySigned(t *testing.T) {
	e := newHookEnv(t)
	h := e.createWebhook("https://app.example/hooks/basiq", "user.created")
	uid := e.createUser(e.tok)
	assert.Equal(t, 1, e.deliver())
	assert.Zero(t, e.deliver(), "delivered once")

	got := e.rcv.deliveries()
	require.Len(t, got, 1)
	d := got[0]
	assert.Equal(t, "/hooks/basiq", d.Path)
	assert.Equal(t, "application/json", d.Header.Get("Content-Type"))
	assert.Equal(t, strconv.FormatInt(e.clk.Now().Unix(), 10), d.Timestamp)
	msgs := e.srv.WebhookMessages()
	require.Len(t, msgs, 1)
	assert.Equal(t, msgs[0].ID, d.ID)
	assert.Equal(t, msgs[0].Body, d.Body)
	verifySignature(t, h.Secret, d)
	// A signature by another secret does not verify.
	other := e.createWebhook("https://other.example/")
	mac := hmac.New(sha256.New, []byte(other.Secret))
	mac.Write(d.Body)
	assert.NotEqual(t, "v1,"+base64.StdEncoding.EncodeToString(mac.Sum(nil)), d.Signature)

	ev := e.lastEvent(uid, "user.created")
	p := d.payload(t)
	assert.Equal(t, map[string]any{"eventTypeId": "user.created", "eventId": ev["id"],
		"links": map[string]any{"event": e.srv.URL + "/events/" + ev["id"].(string), "eventEntity": e.srv.URL + "/users/" + uid}}, p)
	assert.Equal(t, `{"eventTypeId":"user.created","eventId":"`+ev["id"].(string)+`","links":{"event":"`+e.srv.URL+
		`/events/`+ev["id"].(string)+`","eventEntity":"`+e.srv.URL+`/users/`+uid+`"}}`, string(d.Body), "the thin payload, in this order")
	r := e.send("GET", strings.TrimPrefix(p["links"].(map[string]any)["event"].(string), e.srv.URL), e.tok, nil)
	require.Equal(t, http.StatusOK, r.Status)
	assert.Equal(t, ev, r.JSON(t), "links.event is the event")
	assert.Equal(t, ev["dataRef"], p["links"].(map[string]any)["eventEntity"])
}

// TestWebhookRetrySchedule: a receiver that always fails gets Basiq's
// eight attempts, each when the previous plus the schedule's delay comes,
// with the same webhook-id and the attempt's own timestamp; then the
// message is given up and the webhook stays active.
func TestWebhookRetrySchedule(t *testing.T) {
	e := newHookEnv(t)
	h := e.createWebhook("https://app.example/hooks", "user.created")
	e.rcv.answer = func(int, delivery) int { return http.StatusServiceUnavailable }
	e.createUser(e.tok)
	t0 := e.clk.Now()

	var offsets []time.Duration
	for {
		next, ok := e.srv.NextWebhookAttempt()
		if !ok {
			break
		}
		require.Less(t, len(offsets), 8, "at most 8 attempts")
		if next.After(e.clk.Now()) {
			e.clk.Set(next.Add(-time.Second))
			assert.Zero(t, e.deliver(), "a second before attempt %d", len(offsets)+1)
			e.clk.Set(next)
		}
		assert.Equal(t, 1, e.deliver())
		offsets = append(offsets, e.clk.Now().Sub(t0))
	}
	assert.Equal(t, []time.Duration{0, 5 * time.Second, 5*time.Minute + 5*time.Second, 35*time.Minute + 5*time.Second,
		2*time.Hour + 35*time.Minute + 5*time.Second, 7*time.Hour + 35*time.Minute + 5*time.Second,
		17*time.Hour + 35*time.Minute + 5*time.Second, 27*time.Hour + 35*time.Minute + 5*time.Second}, offsets)

	got := e.rcv.deliveries()
	require.Len(t, got, 8)
	for i, d := range got {
		assert.Equal(t, got[0].ID, d.ID, "webhook-id is the same on every retry")
		assert.Equal(t, strconv.FormatInt(t0.Add(offsets[i]).Unix(), 10), d.Timestamp, "webhook-timestamp is the attempt's")
		verifySignature(t, h.Secret, d)
	}
	msgs := e.srv.WebhookMessages()
	require.Len(t, msgs, 1)
	assert.True(t, msgs[0].GivenUp)
	assert.False(t, msgs[0].Delivered)
	assert.True(t, msgs[0].NextAttempt.IsZero())
	require.Len(t, msgs[0].Attempts, 8)
	for i, a := range msgs[0].Attempts {
		assert.Equal(t, t0.Add(offsets[i]), a.Time)
		assert.Equal(t, http.StatusServiceUnavailable, a.StatusCode)
		assert.Equal(t, "Service Unavailable", a.Response)
		assert.False(t, a.Success)
	}

	e.clk.Add(30 * 24 * time.Hour)
	assert.Zero(t, e.deliver(), "given up: no ninth attempt")
	assert.Equal(t, "active", e.send("GET", "/notifications/webhooks/"+h.ID, e.tok, nil).JSON(t)["status"])
	e.rcv.answer = nil
	e.createUser(e.tok)
	assert.Equal(t, 1, e.deliver(), "the webhook still gets new messages")
}

// TestWebhookFourthAttemptSucceeds: with the first three attempts failed
// (FailWebhookDeliveries: sent, then counted as a 500), the fourth succeeds
// and no more are made. The receiver saw all four, with one webhook-id.
func TestWebhookFourthAttemptSucceeds(t *testing.T) {
	e := newHookEnv(t)
	h := e.createWebhook("https://app.example/hooks", "user.created")
	e.srv.FailWebhookDeliveries(3)
	e.createUser(e.tok)
	t0 := e.clk.Now()
	for i := range 6 {
		next, ok := e.srv.NextWebhookAttempt()
		if !ok {
			assert.Equal(t, 4, i, "no attempt after the successful fourth")
			break
		}
		e.clk.Set(next)
		assert.Equal(t, 1, e.deliver())
	}
	assert.Equal(t, 35*time.Minute+5*time.Second, e.clk.Now().Sub(t0), "the fourth attempt is at 35 min 5 s")
	got := e.rcv.deliveries()
	require.Len(t, got, 4)
	for _, d := range got {
		assert.Equal(t, got[0].ID, d.ID)
		verifySignature(t, h.Secret, d)
	}
	m := e.srv.WebhookMessages()[0]
	assert.True(t, m.Delivered)
	require.Len(t, m.Attempts, 4)
	for _, a := range m.Attempts[:3] {
		assert.True(t, a.Injected)
		assert.Equal(t, 500, a.StatusCode)
		assert.Contains(t, a.Response, "the receiver answered: OK")
	}
	assert.True(t, m.Attempts[3].Success)
	assert.False(t, m.Attempts[3].Injected)

	e.clk.Add(48 * time.Hour)
	assert.Zero(t, e.deliver())
	assert.Len(t, e.rcv.deliveries(), 4)

	// A receiver that fails by itself three times is retried the same way.
	e.rcv.answer = func(n int, _ delivery) int {
		if n < 4+3 {
			return http.StatusBadGateway
		}
		return http.StatusAccepted
	}
	e.createUser(e.tok)
	for range 4 {
		next, ok := e.srv.NextWebhookAttempt()
		require.True(t, ok)
		e.clk.Set(next)
		e.deliver()
	}
	_, ok := e.srv.NextWebhookAttempt()
	assert.False(t, ok)
	m = e.srv.WebhookMessages()[1]
	assert.True(t, m.Delivered)
	assert.Len(t, m.Attempts, 4)
	assert.Equal(t, 202, m.Attempts[3].StatusCode)
}

func TestFailWebhookDeliveriesCounts(t *testing.T) {
	e := newHookEnv(t)
	e.createWebhook("https://app.example/hooks", "user.created")
	e.srv.FailWebhookDeliveries(5)
	e.srv.FailWebhookDeliveries(2) // replaces
	for range 3 {
		e.createUser(e.tok)
	}
	require.Equal(t, 3, e.deliver())
	var injected []bool
	for _, m := range e.srv.WebhookMessages() {
		injected = append(injected, m.Attempts[0].Injected)
	}
	assert.Equal(t, []bool{true, true, false}, injected, "the oldest messages' attempts first")
	e.srv.FailWebhookDeliveries(4)
	e.srv.FailWebhookDeliveries(0)
	e.clk.Add(5 * time.Second)
	require.Equal(t, 2, e.deliver())
	for _, m := range e.srv.WebhookMessages() {
		assert.True(t, m.Delivered, "cleared")
	}
}

// TestWebhookRedirectNotFollowed: a 3xx is a failed attempt, on the fake's
// own client and on a caller's client that would follow it.
func TestWebhookRedirectNotFollowed(t *testing.T) {
	var targetHits atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("/hooks", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/elsewhere", http.StatusTemporaryRedirect)
	})
	mux.HandleFunc("/elsewhere", func(http.ResponseWriter, *http.Request) { targetHits.Add(1) })
	rcv := httptest.NewServer(mux)
	defer rcv.Close()

	for name, opts := range map[string][]basiqtest.Option{
		"default client": nil,
		"caller's client": {basiqtest.WithWebhookClient(&http.Client{
			CheckRedirect: func(*http.Request, []*http.Request) error { return nil }})},
	} {
		t.Run(name, func(t *testing.T) {
			srv := basiqtest.NewServer(append([]basiqtest.Option{basiqtest.InMemory()}, opts...)...)
			defer srv.Close()
			a := newAPI(t, srv)
			tok := a.serverToken("3.0")
			r := a.send("POST", "/notifications/webhooks", tok, map[string]any{"url": rcv.URL + "/hooks", "subscribedEvents": "user.created"})
			require.Equal(t, http.StatusCreated, r.Status, "body: %s", r.Body)
			a.createUser(tok)
			n, err := srv.DeliverWebhooks(t.Context())
			require.NoError(t, err)
			assert.Equal(t, 1, n)
			m := srv.WebhookMessages()[0]
			assert.Equal(t, http.StatusTemporaryRedirect, m.Attempts[0].StatusCode)
			assert.False(t, m.Attempts[0].Success)
			assert.False(t, m.NextAttempt.IsZero(), "retried later")
			assert.Zero(t, targetHits.Load(), "the redirect was not followed")
		})
	}
}

// TestWebhookTransportErrorAndTimeout: a receiver that cannot be reached,
// and one that never answers (15 s, in virtual time), fail the attempt.
func TestWebhookTransportErrorAndTimeout(t *testing.T) {
	t.Run("refused", func(t *testing.T) {
		gone := httptest.NewServer(http.NotFoundHandler())
		gone.Close()
		srv := basiqtest.NewServer(basiqtest.InMemory())
		defer srv.Close()
		a := newAPI(t, srv)
		tok := a.serverToken("3.0")
		r := a.send("POST", "/notifications/webhooks", tok, map[string]any{"url": gone.URL, "subscribedEvents": "user.created"})
		require.Equal(t, http.StatusCreated, r.Status)
		a.createUser(tok)
		n, err := srv.DeliverWebhooks(t.Context())
		require.NoError(t, err)
		assert.Equal(t, 1, n)
		at := srv.WebhookMessages()[0].Attempts[0]
		assert.Zero(t, at.StatusCode)
		assert.False(t, at.Success)
		assert.NotEmpty(t, at.Response)
		assert.NotContains(t, at.Response, "\n")
	})
	t.Run("timeout", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			hang := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
			srv := basiqtest.NewServer(basiqtest.InMemory(),
				basiqtest.WithWebhookClient(&http.Client{Transport: basiqtest.HandlerTransport(hang)}))
			defer srv.Close()
			a := newAPI(t, srv)
			tok := a.serverToken("3.0")
			r := a.send("POST", "/notifications/webhooks", tok, map[string]any{"url": "https://hang.example/", "subscribedEvents": "user.created"})
			require.Equal(t, http.StatusCreated, r.Status)
			a.createUser(tok)
			start := time.Now()
			n, err := srv.DeliverWebhooks(t.Context())
			require.NoError(t, err)
			assert.Equal(t, 1, n)
			assert.Equal(t, 15*time.Second, time.Since(start), "the attempt gave up after 15 s")
			m := srv.WebhookMessages()[0]
			assert.Equal(t, "Timeout: no answer within 15s", m.Attempts[0].Response)
			assert.Equal(t, start.Add(5*time.Second), m.NextAttempt, "the retry is 5 s after the attempt began")
		})
	})
}

// TestWebhookReceiverCallsBack: a receiver that, while handling a delivery,
// reads the event from the fake, creates a user (a new event) and even
// delivers, does not deadlock; its new event waits for the next call.
func TestWebhookReceiverCallsBack(t *testing.T) {
	e := newHookEnv(t)
	e.createWebhook("https://app.example/hooks", "user.created")
	var fetched []string
	var calls atomic.Int32
	e.rcv.onRequest = func(r *http.Request, d delivery) {
		if calls.Add(1) > 1 {
			return
		}
		link := d.payload(e.t)["links"].(map[string]any)["event"].(string)
		req, _ := http.NewRequestWithContext(r.Context(), "GET", link, nil)
		req.Header.Set("Authorization", "Bearer "+e.tok)
		res, err := e.srv.Client().Do(req)
		if err == nil {
			fetched = append(fetched, res.Status)
			res.Body.Close()
		}
		e.createUser(e.tok)
		n, err := e.srv.DeliverWebhooks(r.Context())
		fetched = append(fetched, fmt.Sprint(n, err))
	}
	e.createUser(e.tok)
	assert.Equal(t, 1, e.deliver())
	assert.Equal(t, []string{"200 OK", "0 <nil>"}, fetched, "the nested call leaves the webhook being delivered to alone")
	assert.Equal(t, 1, e.deliver(), "the receiver's own event, on the next call")
	assert.Len(t, e.rcv.deliveries(), 2)
	for _, m := range e.srv.WebhookMessages() {
		assert.True(t, m.Delivered)
	}
}

// TestWebhookSubscribedEvents: each webhook gets the types it subscribes
// to and nothing else; connection.updated is never delivered; a changed
// subscription applies to later events.
func TestWebhookSubscribedEvents(t *testing.T) {
	e := newHookEnv(t)
	users := e.createWebhook("https://app.example/users", "user.created", "user.deleted")
	conns := e.createWebhook("https://app.example/connections", "connection.created", "connection.activated", "connection.invalidated")
	e.createWebhook("https://app.example/all")
	uid := e.createUser(e.tok)
	_, err := e.srv.Connect(uid, "AU00000", "erlich", "aviato")
	require.NoError(t, err)
	e.deliver()

	byPath := map[string][]string{}
	for _, d := range e.rcv.deliveries() {
		byPath[d.Path] = append(byPath[d.Path], d.payload(t)["eventTypeId"].(string))
	}
	assert.Equal(t, []string{"user.created"}, byPath["/users"])
	assert.Equal(t, []string{"connection.created", "connection.activated", "connection.invalidated"}, byPath["/connections"])
	assert.Equal(t, []string{"user.created", "consent.created", "connection.created", "connection.activated", "connection.invalidated"},
		byPath["/all"], "connection.updated, recorded in between, is never delivered")
	assert.Contains(t, e.userEvents(uid), "connection.updated")

	r := e.send("POST", "/notifications/webhooks/"+users.ID, e.tok, map[string]any{"url": "https://app.example/users",
		"subscribedEvents": []string{"user.updated"}})
	require.Equal(t, http.StatusOK, r.Status)
	require.Equal(t, http.StatusOK, e.send("POST", "/users/"+uid, e.tok, map[string]string{"lastName": "Bachman"}).Status)
	require.Equal(t, http.StatusNoContent, e.send("DELETE", "/users/"+uid, e.tok, nil).Status)
	require.Equal(t, http.StatusNoContent, e.send("DELETE", "/notifications/webhooks/"+conns.ID, e.tok, nil).Status)
	e.deliver()
	later := map[string][]string{} // webhooks are delivered to at the same time: no order between them
	for _, d := range e.rcv.deliveries()[9:] {
		later[d.Path] = append(later[d.Path], d.payload(t)["eventTypeId"].(string))
	}
	assert.Equal(t, map[string][]string{"/users": {"user.updated"}, "/all": {"user.updated", "user.deleted"}}, later)
}

// TestWebhookConcurrentDeliveries: users created from many goroutines while
// several goroutines deliver at once: every message reaches its webhook
// exactly once, in order per webhook, and nothing races.
func TestWebhookConcurrentDeliveries(t *testing.T) {
	e := newHookEnv(t)
	const hooks, writers, perWriter = 4, 8, 25
	for i := range hooks {
		e.createWebhook(fmt.Sprintf("https://app.example/%d", i), "user.created")
	}
	var wg sync.WaitGroup
	var attempts atomic.Int64
	stop := make(chan struct{})
	for range 3 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				n, err := e.srv.DeliverWebhooks(context.Background())
				assert.NoError(t, err)
				attempts.Add(int64(n))
			}
		})
	}
	var writersWG sync.WaitGroup
	for range writers {
		writersWG.Go(func() {
			a := newAPI(t, e.srv)
			for range perWriter {
				a.createUser(e.tok)
			}
		})
	}
	writersWG.Wait()
	close(stop)
	wg.Wait()
	n, err := e.srv.DeliverWebhooks(t.Context())
	require.NoError(t, err)
	attempts.Add(int64(n))

	const total = hooks * writers * perWriter
	assert.EqualValues(t, total, attempts.Load())
	seen := map[string]int{}
	perPath := map[string][]string{}
	for _, d := range e.rcv.deliveries() {
		seen[d.Path+" "+d.ID]++
		perPath[d.Path] = append(perPath[d.Path], d.ID)
	}
	assert.Len(t, seen, total)
	for k, c := range seen {
		assert.Equal(t, 1, c, "%s delivered %d times", k, c)
	}
	msgs := e.srv.WebhookMessages()
	order := map[string][]string{}
	for _, m := range msgs {
		assert.True(t, m.Delivered)
		u := strings.TrimPrefix(m.URL, "https://app.example")
		order[u] = append(order[u], m.ID)
	}
	for p, ids := range perPath {
		assert.Equal(t, order[p], ids, "%s got its messages oldest first", p)
	}
}

// TestWebhookDeliveryCancelled: an attempt cut by the caller's context is
// not recorded; the message stays due and the next call makes it, with the
// same webhook-id.
func TestWebhookDeliveryCancelled(t *testing.T) {
	e := newHookEnv(t)
	e.createWebhook("https://app.example/hooks", "user.created")
	ctx, cancel := context.WithCancel(t.Context())
	e.rcv.onRequest = func(*http.Request, delivery) { cancel() }
	e.createUser(e.tok)
	n, err := e.srv.DeliverWebhooks(ctx)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Zero(t, n)
	m := e.srv.WebhookMessages()[0]
	assert.Empty(t, m.Attempts)
	assert.Equal(t, e.clk.Now(), m.NextAttempt)

	n, err = e.srv.DeliverWebhooks(ctx)
	assert.ErrorIs(t, err, context.Canceled, "a done context makes no attempt")
	assert.Zero(t, n)

	e.rcv.onRequest = nil
	assert.Equal(t, 1, e.deliver())
	got := e.rcv.deliveries()
	require.Len(t, got, 2)
	assert.Equal(t, got[0].ID, got[1].ID)
	assert.True(t, e.srv.WebhookMessages()[0].Delivered)
}

func TestWebhookDeleteStopsRetries(t *testing.T) {
	e := newHookEnv(t)
	h := e.createWebhook("https://app.example/hooks", "user.created")
	e.rcv.answer = func(int, delivery) int { return http.StatusInternalServerError }
	e.createUser(e.tok)
	require.Equal(t, 1, e.deliver())
	require.Equal(t, http.StatusNoContent, e.send("DELETE", "/notifications/webhooks/"+h.ID, e.tok, nil).Status)
	_, ok := e.srv.NextWebhookAttempt()
	assert.False(t, ok)
	e.clk.Add(time.Hour)
	assert.Zero(t, e.deliver())
	assert.Empty(t, e.srv.WebhookMessages())
}

// A receiver that deletes its webhook while later messages of the same
// DeliverWebhooks run wait: they are not sent (review 2).
func TestWebhookDeletedDuringARunGetsNoMoreAttempts(t *testing.T) {
	e := newHookEnv(t)
	h := e.createWebhook("https://app.example/hooks", "user.created")
	first := true
	e.rcv.onRequest = func(*http.Request, delivery) {
		if first {
			first = false
			require.Equal(t, http.StatusNoContent, e.send("DELETE", "/notifications/webhooks/"+h.ID, e.tok, nil).Status)
		}
	}
	for range 5 {
		e.createUser(e.tok)
	}
	assert.Equal(t, 1, e.deliver(), "the attempt in progress counts, no other is made")
	assert.Len(t, e.rcv.deliveries(), 1)
}

// Close, and DeliverWebhooks' context, cut short a delivery through
// HandlerTransport to a receiver that has not answered (review 2).
func TestCloseCutsADeliveryToABlockedReceiver(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		entered := make(chan struct{})
		recv := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			close(entered)
			<-release // blocked on the test, ignoring its context
		})
		srv := basiqtest.NewServer(basiqtest.InMemory(), basiqtest.WithWebhookClient(&http.Client{Transport: basiqtest.HandlerTransport(recv)}))
		e := &hookEnv{api: newAPI(t, srv)}
		e.tok = e.serverToken("3.0")
		e.createWebhook("https://app.example/hooks", "user.created")
		e.createUser(e.tok)
		done := make(chan error, 1)
		go func() { _, err := srv.DeliverWebhooks(context.Background()); done <- err }()
		<-entered
		start := time.Now()
		srv.Close() // would wait for the receiver forever
		assert.Less(t, time.Since(start), time.Second)
		assert.Error(t, <-done, "the run reports the server closed")
		close(release)
	})
}

// TestStartWebhookDelivery: the background deliverer, in virtual time,
// delivers events as they happen, including those that come with time (a
// job's steps), retries on schedule, and stops on Close.
func TestStartWebhookDelivery(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rcv := &receiver{answer: func(n int, _ delivery) int {
			if n == 0 {
				return http.StatusServiceUnavailable
			}
			return http.StatusOK
		}}
		srv := basiqtest.NewServer(basiqtest.InMemory(),
			basiqtest.WithWebhookClient(&http.Client{Transport: basiqtest.HandlerTransport(rcv)}))
		defer srv.Close()
		require.NoError(t, srv.StartWebhookDelivery(t.Context()))
		require.Error(t, srv.StartWebhookDelivery(t.Context()), "already running")
		a := newAPI(t, srv)
		tok := a.serverToken("3.0")
		r := a.send("POST", "/notifications/webhooks", tok, map[string]any{"url": "https://app.example/",
			"subscribedEvents": []string{"user.created", "transactions.updated"}})
		require.Equal(t, http.StatusCreated, r.Status)

		start := time.Now()
		uid := a.createUser(tok)
		synctest.Wait()
		require.Len(t, rcv.deliveries(), 1, "the first attempt at once")
		time.Sleep(5 * time.Second)
		synctest.Wait()
		require.Len(t, rcv.deliveries(), 2, "the retry 5 s later")

		// Hooli's steps take 8.2 s + 3.8 s + 7.1 s: transactions.updated
		// is delivered when the last one ends, with no request to the fake.
		_, err := srv.Connect(uid, "AU00000", "gavinBelson", "hooli2016")
		require.NoError(t, err)
		connected := time.Now()
		synctest.Wait()
		assert.Len(t, rcv.deliveries(), 2)
		time.Sleep(20 * time.Second)
		synctest.Wait()
		got := rcv.deliveries()
		require.Len(t, got, 3)
		assert.Equal(t, "transactions.updated", got[2].payload(t)["eventTypeId"])
		ts, _ := strconv.ParseInt(got[2].Timestamp, 10, 64)
		assert.Equal(t, connected.Add(19100*time.Millisecond).Unix(), ts, "sent when the job's last step ended")
		assert.Equal(t, start.Unix(), mustUnix(t, got[0].Timestamp))

		srv.Close()
		assert.ErrorContains(t, srv.StartWebhookDelivery(t.Context()), "closed")
		_, err = srv.DeliverWebhooks(t.Context())
		assert.ErrorContains(t, err, "closed")
	})
}

// TestStartWebhookDeliveryStopsWithContext: the deliverer ends with its
// context and can be started again.
func TestStartWebhookDeliveryStopsWithContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rcv := &receiver{}
		srv := basiqtest.NewServer(basiqtest.InMemory(),
			basiqtest.WithWebhookClient(&http.Client{Transport: basiqtest.HandlerTransport(rcv)}))
		defer srv.Close()
		a := newAPI(t, srv)
		tok := a.serverToken("3.0")
		a.send("POST", "/notifications/webhooks", tok, map[string]any{"url": "https://app.example/", "subscribedEvents": "user.created"})
		ctx, cancel := context.WithCancel(t.Context())
		require.NoError(t, srv.StartWebhookDelivery(ctx))
		cancel()
		synctest.Wait()
		a.createUser(tok)
		synctest.Wait()
		assert.Empty(t, rcv.deliveries(), "stopped")
		require.NoError(t, srv.StartWebhookDelivery(t.Context()), "may start again")
		synctest.Wait()
		assert.Len(t, rcv.deliveries(), 1)
	})
}

func mustUnix(t *testing.T, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	require.NoError(t, err)
	return n
}

// TestWebhookMisuse: zero values, nil contexts and a closed server return
// errors, never panic.
func TestWebhookMisuse(t *testing.T) {
	var zero basiqtest.Server
	_, err := zero.DeliverWebhooks(t.Context())
	assert.Error(t, err)
	assert.Error(t, zero.StartWebhookDelivery(t.Context()))
	zero.FailWebhookDeliveries(3)
	assert.Nil(t, zero.WebhookMessages())
	_, ok := zero.NextWebhookAttempt()
	assert.False(t, ok)
	zero.Close()
	var nilSrv *basiqtest.Server
	_, err = nilSrv.DeliverWebhooks(t.Context())
	assert.Error(t, err)

	srv := basiqtest.NewServer(basiqtest.InMemory())
	var nilCtx context.Context
	_, err = srv.DeliverWebhooks(nilCtx)
	assert.Error(t, err)
	assert.Error(t, srv.StartWebhookDelivery(nilCtx))
	srv.Close()
	srv.Close()
	_, err = srv.DeliverWebhooks(t.Context())
	assert.True(t, err != nil && !errors.Is(err, context.Canceled))
}

// TestWebhookSecretsStayOut: a webhook's secret never shows in the fake's
// formatted forms, its inspection values or anything but create and update.
func TestWebhookSecretsStayOut(t *testing.T) {
	e := newHookEnv(t)
	h := e.createWebhook("https://app.example/hooks", "user.created")
	e.srv.FailWebhookDeliveries(1)
	e.createUser(e.tok)
	e.deliver()
	key := strings.TrimPrefix(h.Secret, "whsec_")
	for _, s := range []string{fmt.Sprintf("%v %+v %#v %s", e.srv, e.srv, e.srv, e.srv), fmt.Sprintf("%+v %#v", e.srv.WebhookMessages(), e.srv.WebhookMessages())} {
		assert.NotContains(t, s, key)
	}
	for _, p := range []string{"/notifications/webhooks", "/notifications/webhooks/" + h.ID, "/notifications/webhooks/" + h.ID + "/messages", "/events"} {
		assert.NotContains(t, string(e.send("GET", p, e.tok, nil).Body), key, p)
	}
	for _, d := range e.rcv.deliveries() {
		for k, vs := range d.Header {
			assert.NotContains(t, strings.Join(vs, " "), key, k)
		}
	}
}

// TestHandlerTransportPanics: a receiver that panics cuts the connection,
// as net/http's server would: the attempt fails, naming the panic, and the
// test goes on.
func TestHandlerTransportPanics(t *testing.T) {
	e := newHookEnv(t)
	e.createWebhook("https://app.example/hooks", "user.created")
	e.rcv.onRequest = func(*http.Request, delivery) { panic("receiver bug") }
	e.createUser(e.tok)
	require.Equal(t, 1, e.deliver())
	a := e.srv.WebhookMessages()[0].Attempts[0]
	assert.False(t, a.Success)
	assert.Zero(t, a.StatusCode)
	assert.Contains(t, a.Response, "receiver bug")

	_, err := basiqtest.HandlerTransport(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic(http.ErrAbortHandler) })).
		RoundTrip(httptest.NewRequest("GET", "https://x.example/", nil))
	assert.Error(t, err)
	res, err := basiqtest.HandlerTransport(nil).RoundTrip(httptest.NewRequest("GET", "https://x.example/", nil))
	require.NoError(t, err)
	assert.Equal(t, http.StatusNotFound, res.StatusCode)
}

// BenchmarkWebhookDelivery: one event (a user created through the
// in-memory API) and its delivery to each webhook, signed, through
// HandlerTransport. "0 webhooks" is the event alone.
func BenchmarkWebhookDelivery(b *testing.B) {
	for _, hooks := range []int{0, 1, 4} {
		b.Run(fmt.Sprintf("%d webhooks", hooks), func(b *testing.B) {
			rcv := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
			srv := basiqtest.NewServer(basiqtest.InMemory(),
				basiqtest.WithWebhookClient(&http.Client{Transport: basiqtest.HandlerTransport(rcv)}))
			defer srv.Close()
			a := newAPI(b, srv)
			tok := a.serverToken("3.0")
			for i := range hooks {
				r := a.send("POST", "/notifications/webhooks", tok, map[string]any{"url": fmt.Sprintf("https://app.example/%d", i),
					"subscribedEvents": "user.created"})
				require.Equal(b, http.StatusCreated, r.Status)
			}
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				a.createUser(tok)
				n, err := srv.DeliverWebhooks(ctx)
				if err != nil || n != hooks {
					b.Fatalf("%d attempts, %v", n, err)
				}
			}
		})
	}
}
