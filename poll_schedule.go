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
//   - while a step with a known average duration runs, until it is expected
//     to end (plus a little slack);
//   - otherwise MinInterval, growing by half each poll that shows no change,
//     up to MaxInterval.
//
// A random delay of up to 10% (at most 500 ms) is added so that many pollers
// do not poll in step.
func (p *Poller) delay(now time.Time) time.Duration {
	o := p.opts
	var d time.Duration
	switch {
	case p.lastErr != nil && p.retryHint > 0:
		d = max(p.retryHint, o.MinInterval)
	case p.lastErr != nil:
		d = p.backoff(p.unchanged)
	case p.followingRetry():
		d = o.RetryInterval
	default:
		if until, ok := p.expectedEnd(now); ok && until > 0 {
			d = min(max(until+pollSlack, o.MinInterval), o.MaxInterval)
		} else if ok {
			// The step is overdue: look again soon, then less often.
			d = p.backoff(max(p.unchanged-1, 0))
		} else {
			d = p.backoff(p.unchanged)
		}
	}
	return d + time.Duration(float64(min(d/10, maxJitter))*p.jitter())
}

// backoff grows from MinInterval by half for each of n unchanged polls.
func (p *Poller) backoff(n int) time.Duration {
	d := float64(p.opts.MinInterval)
	for i := 1; i < n && d < float64(p.opts.MaxInterval); i++ {
		d *= 1.5
	}
	return min(time.Duration(d), p.opts.MaxInterval)
}

// expectedEnd returns how long until the current step should end, when the
// institution's average for it is known. An MFA challenge waits on the user,
// so it has no expected end.
func (p *Poller) expectedEnd(now time.Time) (time.Duration, bool) {
	if p.job == nil {
		return 0, false
	}
	st, ok := p.job.CurrentStep()
	if !ok {
		return 0, false
	}
	avg := p.durations.For(st.Title)
	if avg <= 0 {
		return 0, false
	}
	start, ok := p.stepSeen[st.Title]
	if !ok {
		start = p.lastChange()
	}
	return start.Add(avg).Sub(now), true
}

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
	opts := DiagnoseOptions{Operation: p.opts.Operation, Attempt: p.opts.Attempt, InstitutionStatus: p.instStatus}
	return p.jobs.client().diagnose(ctx, job, opts, &p.instID)
}
