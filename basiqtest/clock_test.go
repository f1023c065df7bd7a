package basiqtest_test

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/banklink-go/basiq/basiqtest"
)

func TestClockMovesOnlyWhenTold(t *testing.T) {
	t0 := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	c := basiqtest.NewClock(t0)
	assert.Equal(t, t0, c.Now())
	assert.Equal(t, t0.Add(5*time.Second), c.Advance(5*time.Second))
	assert.Equal(t, t0.Add(5*time.Second), c.Advance(-time.Hour), "never backwards")
	assert.Equal(t, t0.Add(5*time.Second), c.Set(t0), "never backwards")
	assert.Equal(t, t0.Add(time.Hour), c.Set(t0.Add(time.Hour)))

	var zero basiqtest.Clock
	assert.True(t, zero.Now().IsZero())
	zero.Advance(time.Second)
	assert.Equal(t, time.Time{}.Add(time.Second), zero.Now())
	var nilClock *basiqtest.Clock
	assert.True(t, nilClock.Now().IsZero(), "a nil Clock does not panic")
	nilClock.Advance(time.Second)
	nilClock.Set(t0)
}

func TestClockIsSafeForConcurrentUse(t *testing.T) {
	c := basiqtest.NewClock(time.Time{})
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				c.Advance(time.Millisecond)
				_ = c.Now()
			}
		})
	}
	wg.Wait()
	assert.Equal(t, time.Time{}.Add(800*time.Millisecond), c.Now())
}

// An application's webhook handler is usually built after the fake (it needs
// the fake's URL for its own client): SetWebhookReceiver wires it in then.
func TestWebhookReceiverSetAfterTheServer(t *testing.T) {
	clk := basiqtest.NewClock(time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC))
	srv := basiqtest.NewServer(basiqtest.InMemory(), basiqtest.WithTimeScale(0), basiqtest.WithClock(clk.Now),
		basiqtest.WithTokenTTL(1000*24*time.Hour))
	t.Cleanup(srv.Close)
	a := newAPI(t, srv)
	tok := a.serverToken("3.0")
	r := a.send("POST", "/notifications/webhooks", tok, map[string]any{"url": "https://app.example/basiq/webhooks",
		"subscribedEvents": []string{"user.created"}})
	assert.Equal(t, 201, r.Status, "body: %s", r.Body)

	first := &receiver{answer: func(int, delivery) int { return 500 }}
	srv.SetWebhookReceiver(first)
	a.createUser(tok)
	n, err := srv.DeliverWebhooks(t.Context())
	assert.NoError(t, err)
	assert.Equal(t, 1, n)
	assert.Len(t, first.deliveries(), 1, "the receiver set after NewServer got the delivery")

	second := &receiver{}
	srv.SetWebhookReceiver(second)
	n, _ = srv.DeliverWebhooks(t.Context())
	assert.Zero(t, n, "the retry is not due before the clock moves")
	clk.Advance(5 * time.Second)
	n, _ = srv.DeliverWebhooks(t.Context())
	assert.Equal(t, 1, n, "Basiq's second attempt, 5 s later, on the test clock")
	assert.Len(t, second.deliveries(), 1, "to the receiver set last")
	assert.Len(t, first.deliveries(), 1)
	assert.Equal(t, first.deliveries()[0].ID, second.deliveries()[0].ID, "the same message")

	srv.SetWebhookClient(nil) // back to the fake's own client: no panic
	var nilSrv *basiqtest.Server
	nilSrv.SetWebhookReceiver(second)
}
