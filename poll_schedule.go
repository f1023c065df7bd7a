package basiq

import (
	"context"
	"math/rand/v2"
	"time"
)

// pollSlack is how long after a step's expected end the poller looks, so
// that a step finishing on time is seen on the first look.
const pollSlack = 150 * time.Millisecond

// maxJitter caps the random delay added to each wait.
const maxJitter = 500 * time.Millisecond

func defaultJitter() float64 { return rand.Float64() }

// delay is the wait before the next poll:
//   - after a failed poll, the server's Retry-After, else a backoff;
//   - while following Basiq's retries of an update, RetryInterval;
//   - while a step with an expected duration runs, until it is expected to
//     end (plus a little slack); once it is overdue, every MinInterval (or a
//     tenth of the step's duration, if longer) for half its duration more,
//     since steps end around their average, then backing off;
//   - otherwise MinInterval, growing by half each poll that shows no change,
//     up to MaxInterval.
//
// A random delay is added so that many pollers do not poll in step: up to
// 10% of the wait, at most 500 ms, or at most the slack when the wait aims
// at a step's expected end.
func (p *Poller) delay(now time.Time) time.Duration {
	o := p.opts
	var d time.Duration
	jitterCap := maxJitter
	switch {
	case p.lastErr != nil && p.retryHint > 0:
		d = max(p.retryHint, o.MinInterval)
	case p.lastErr != nil:
		d = p.backoff(p.unchanged)
	case p.followingRetry():
		d = o.RetryInterval
	default:
		until, avg, ok := p.expectedEnd(now)
		switch {
		case ok && until > 0:
			d = min(max(until+pollSlack, o.MinInterval), o.MaxInterval)
			jitterCap = pollSlack
		case ok && -until < avg/2:
			// Overdue, but within the usual spread of the step's duration.
			d = min(max(avg/10, o.MinInterval), o.MaxInterval)
		case ok:
			d = p.backoff(max(p.unchanged-1, 0))
		default:
			d = p.backoff(p.unchanged)
		}
	}
	return d + time.Duration(float64(min(d/10, jitterCap))*p.jitter())
}

// backoff grows from MinInterval by half for each of n unchanged polls.
func (p *Poller) backoff(n int) time.Duration {
	d := float64(p.opts.MinInterval)
	for i := 1; i < n && d < float64(p.opts.MaxInterval); i++ {
		d *= 1.5
	}
	return min(time.Duration(d), p.opts.MaxInterval)
}

// expectedEnd returns how long until the current step should end, and its
// expected duration, when one is known. An MFA challenge waits on the user,
// so it has no expected end.
func (p *Poller) expectedEnd(now time.Time) (until, avg time.Duration, ok bool) {
	if p.job == nil {
		return 0, 0, false
	}
	st, ok := p.job.CurrentStep()
	if !ok || st.Title == StepMFAChallenge {
		return 0, 0, false
	}
	avg = p.expectedDuration(st.Title)
	if avg <= 0 && !p.durations.Reported {
		return 0, 0, false
	}
	start, ok := p.stepSeen[st.Title]
	if !ok {
		start = p.lastChange()
	}
	return start.Add(avg).Sub(now), avg, true
}

// firstWait is how long to wait before the first poll of a job this client
// has just started (Connections.Create, Refresh, Update). Until
// verify-credentials' expected end it can only be verifying credentials, so
// an earlier look shows nothing new, save one early look at
// earlyLookShare of a long step's expected duration: steps end around their
// average, and an early look halves how late an early finish is seen (and
// anchors the steps after it). The job's institution comes from how it was
// started (the create's institution, the refreshed connection's). Zero for
// any other job: it may have finished long ago.
func (p *Poller) firstWait(ctx context.Context) time.Duration {
	began, origin, ok := p.jobs.started.get(p.jobID)
	if !ok {
		return 0
	}
	ctx, cancel := p.bounded(ctx)
	defer cancel()
	p.begun = began
	if p.instID == "" && origin.instID != "" {
		p.instID = origin.instID
	}
	if p.instID == "" && origin.connID != "" {
		if id, err := p.jobs.institutionOf(ctx, origin.userID, origin.connID); err == nil {
			p.instID = id
		}
		p.connTried = true
	}
	p.loadDurations(ctx)
	avg := p.expectedDuration(StepVerifyCredentials)
	if avg >= earlyLookMin {
		return time.Until(began.Add(time.Duration(earlyLookShare * float64(avg))))
	}
	return time.Until(began.Add(avg + pollSlack))
}

// An early look at a step is taken at this share of its expected duration,
// for steps expected to take at least earlyLookMin (shorter ones leave no
// room for it before the expected end, MinInterval apart).
const (
	earlyLookShare = 0.85
	earlyLookMin   = 6 * time.Second
)

// lastChange is when the last step change was seen (or polling started).
func (p *Poller) lastChange() time.Time {
	last := p.started
	for _, t := range p.stepSeen {
		if t.After(last) {
			last = t
		}
	}
	return last
}

// loadDurations fetches the institution's step averages once.
func (p *Poller) loadDurations(ctx context.Context) {
	p.discoverInstitution(ctx)
	if p.instTried || p.instID == "" {
		return
	}
	p.instTried = true
	if inst, err := p.jobs.client().institutions.cached(ctx, p.instID); err == nil {
		p.durations = inst.AverageDuration
	}
}

// followingRetry reports a failed update that Basiq is still retrying and the
// options ask to follow.
func (p *Poller) followingRetry() bool {
	if !p.opts.FollowBasiqRetries || p.job == nil || p.job.Status() != JobFailed {
		return false
	}
	if Diagnose(p.job, DiagnoseOptions{Operation: p.opts.Operation}).Action != ActionWaitForBasiqRetry {
		return false
	}
	return p.failedAt.IsZero() || time.Since(p.failedAt) < basiqRetryWindow
}

// diagnose diagnoses job for this poller, remembering the institution found.
func (p *Poller) diagnose(ctx context.Context, job *Job) Diagnosis {
	ctx, cancel := p.bounded(ctx)
	defer cancel()
	// The institution goes into a Consent UI remedy (and the status lookup):
	// learn it from the job's connection if nothing said it yet.
	p.discoverInstitution(ctx)
	opts := DiagnoseOptions{Operation: p.opts.Operation, Attempt: p.opts.Attempt, InstitutionStatus: p.instStatus}
	return p.jobs.client().diagnose(ctx, job, opts, &p.instID)
}
