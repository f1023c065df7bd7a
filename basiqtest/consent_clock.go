package basiqtest

import (
	"container/heap"
	"time"
)

// Consent events that come with time: consent.warning seven days before a
// consent expires, consent.expired when it does, and consent.reminder 90
// days after it was last updated. Like job progress, nothing runs in the
// background: advance fires every timer due by the fake's clock, in time
// order with job transitions, and each event is dated when it fell due, not
// when it was noticed.
//
// A consent's timers are re-armed when it changes: extending it (or
// action=update with the same scopes) moves its expiry, so a new warning
// comes seven days before the new expiry and a new reminder 90 days after
// the change. A consent that lasts seven days or less gets its warning at
// once. Revoked and deleted consents, and those of deleted users, get none.

const (
	consentWarningBefore = 7 * 24 * time.Hour
	consentReminderAfter = 90 * 24 * time.Hour
)

// consentClock is a consent's timer bookkeeping; it is embedded in consent.
type consentClock struct {
	gen         int       // bumped at every reschedule; older queue entries are stale
	warnedFor   time.Time // the expiry whose warning was recorded
	remindedFor time.Time // the update whose reminder was recorded
	expiredSent bool
}

// consentTimer is a consent's next timed event in the queue.
type consentTimer struct {
	at     time.Time
	seq    int
	gen    int
	u      *user
	c      *consent
	action string // "warning", "expired" or "reminder"
}

// consentQueue is a container/heap of consent timers, earliest first, ties
// in the order they were queued.
type consentQueue []consentTimer

func (q consentQueue) Len() int { return len(q) }

func (q consentQueue) Less(a, b int) bool {
	if !q[a].at.Equal(q[b].at) {
		return q[a].at.Before(q[b].at)
	}
	return q[a].seq < q[b].seq
}

func (q consentQueue) Swap(a, b int) { q[a], q[b] = q[b], q[a] }

func (q *consentQueue) Push(x any) { *q = append(*q, x.(consentTimer)) }

func (q *consentQueue) Pop() any {
	old := *q
	n := len(old) - 1
	e := old[n]
	old[n] = consentTimer{}
	*q = old[:n]
	return e
}

// nextConsentEvent is when c next has a timed event, and which.
func nextConsentEvent(c *consent) (time.Time, string, bool) {
	if !c.revoked.IsZero() || c.expiredSent {
		return time.Time{}, "", false
	}
	at, action := c.expiry, "expired"
	if !c.warnedFor.Equal(c.expiry) {
		if w := later(c.updated, c.expiry.Add(-consentWarningBefore)); w.Before(at) {
			at, action = w, "warning"
		}
	}
	if !c.remindedFor.Equal(c.updated) {
		if r := c.updated.Add(consentReminderAfter); r.Before(at) {
			at, action = r, "reminder"
		}
	}
	return at, action, true
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// scheduleConsent queues c's next timed event, making any entry queued for
// it before stale.
func (s *Server) scheduleConsent(u *user, c *consent) {
	c.gen++
	if at, action, ok := nextConsentEvent(c); ok {
		heap.Push(&s.st.consentTimers, consentTimer{at: at, seq: s.st.nextEventSeq(), gen: c.gen, u: u, c: c, action: action})
		s.wake()
	}
}

// nextConsentTimer returns when the earliest live consent timer falls due,
// dropping stale ones.
func (s *Server) nextConsentTimer() (time.Time, bool) {
	q := &s.st.consentTimers
	for q.Len() > 0 {
		e := (*q)[0]
		if e.gen == e.c.gen && s.st.users[e.u.id] == e.u {
			return e.at, true
		}
		heap.Pop(q)
	}
	return time.Time{}, false
}

// fireConsentTimer records the earliest consent timer's event, dated when
// it fell due, and queues the consent's next one. nextConsentTimer must
// have found it live.
func (s *Server) fireConsentTimer() {
	e := heap.Pop(&s.st.consentTimers).(consentTimer)
	switch e.action {
	case "warning":
		e.c.warnedFor = e.c.expiry
	case "reminder":
		e.c.remindedFor = e.c.updated
	default:
		e.c.expiredSent = true
	}
	s.consentEvent(e.at, e.action, e.u, e.c)
	s.scheduleConsent(e.u, e.c)
}
