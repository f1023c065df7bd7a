package basiqtest

import (
	"slices"
	"time"
)

// WebhookMessage is a snapshot of one webhook message inside the fake: an
// event's delivery to one webhook, with its attempts so far. The
// management API shows the same (GET
// /notifications/webhooks/{webhookId}/messages); this needs no token.
type WebhookMessage struct {
	// ID is the message id, sent as webhook-id on every attempt.
	ID        string
	WebhookID string
	// URL is the webhook's URL now (attempts record the URL each went to).
	URL       string
	EventID   string
	EventType string
	// Body is the JSON body every attempt sends.
	Body []byte
	// Created is when the event happened, by the fake's clock: when the
	// first attempt fell due.
	Created  time.Time
	Attempts []WebhookAttempt
	// Delivered reports that an attempt succeeded; GivenUp that all eight
	// failed. NextAttempt is when the next attempt falls due, zero when
	// neither more attempts will be made (delivered, given up, or the
	// webhook deleted).
	Delivered   bool
	GivenUp     bool
	NextAttempt time.Time
}

// WebhookAttempt is one delivery attempt of a WebhookMessage.
type WebhookAttempt struct {
	ID string
	// Time is when the attempt was made by the fake's clock, sent as
	// webhook-timestamp (in Unix seconds).
	Time time.Time
	URL  string
	// StatusCode is the receiver's status (500 for an injected failure); 0
	// when it sent none (a transport error or a timeout). Response is the
	// status text or what went wrong.
	StatusCode int
	Response   string
	Success    bool
	// Injected reports an attempt failed by FailWebhookDeliveries.
	Injected bool
}

// WebhookMessages returns a snapshot of every message of every webhook the
// fake keeps, oldest first. Deleting a webhook forgets its messages.
func (s *Server) WebhookMessages() []WebhookMessage {
	if s == nil || s.st == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance(s.cfg.now())
	var all []*message
	for _, w := range s.st.webhooks {
		all = append(all, w.messages...)
	}
	slices.SortFunc(all, func(a, b *message) int { return a.seq - b.seq })
	out := make([]WebhookMessage, 0, len(all))
	for _, m := range all {
		wm := WebhookMessage{ID: m.id, WebhookID: m.wh.id, URL: m.wh.url, EventID: m.eventID, EventType: m.eventType,
			Body: slices.Clone(m.body), Created: m.created.Round(0), Delivered: m.delivered, NextAttempt: m.next.Round(0),
			GivenUp: !m.delivered && len(m.attempts) >= maxAttempts}
		for _, a := range m.attempts {
			wm.Attempts = append(wm.Attempts, WebhookAttempt{ID: a.id, Time: a.at.Round(0), URL: a.url, StatusCode: a.status,
				Response: a.response, Success: a.ok, Injected: a.injected})
		}
		out = append(out, wm)
	}
	return out
}

// NextWebhookAttempt returns when the earliest delivery attempt still to
// be made falls due by the fake's clock (it may already have), and false
// when none is scheduled. Move the clock there and call DeliverWebhooks to
// make it.
func (s *Server) NextWebhookAttempt() (time.Time, bool) {
	if s == nil || s.st == nil {
		return time.Time{}, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance(s.cfg.now())
	var next time.Time
	for _, m := range s.st.pending {
		if next.IsZero() || m.next.Before(next) {
			next = m.next
		}
	}
	return next.Round(0), !next.IsZero()
}
