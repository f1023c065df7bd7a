package basiqtest

import (
	"sync"
	"time"
)

// Clock is a manual clock for tests: time stands still until the test moves
// it. Give its Now to WithClock, and jobs, tokens, consents and webhook
// retries on the fake move only when the test calls Advance or Set:
//
//	clock := basiqtest.NewClock(time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC))
//	srv := basiqtest.NewServer(basiqtest.InMemory(), basiqtest.WithClock(clock.Now))
//	...
//	clock.Advance(5 * time.Second) // Basiq's second webhook attempt is due
//	srv.DeliverWebhooks(ctx)
//
// The SDK's own waits (a Poller's sleeps) still use real time, or the
// virtual time of a testing/synctest bubble; a test that drives jobs by a
// Clock reads them with Jobs.Get, or runs the fake with WithTimeScale(0).
// A Clock is safe for concurrent use. The zero Clock starts at the zero
// time.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a Clock set to start.
func NewClock(start time.Time) *Clock {
	return &Clock{now: start}
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	if c == nil {
		return time.Time{}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d (a negative d is ignored: the fake's
// time never runs backwards) and returns the new time.
func (c *Clock) Advance(d time.Duration) time.Time {
	if c == nil {
		return time.Time{}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if d > 0 {
		c.now = c.now.Add(d)
	}
	return c.now
}

// Set moves the clock to t, if t is later than its time, and returns the
// clock's time.
func (c *Clock) Set(t time.Time) time.Time {
	if c == nil {
		return time.Time{}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.After(c.now) {
		c.now = t
	}
	return c.now
}
