package basiq

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"iter"
	"strings"
	"time"

	"github.com/banklink-go/basiq/internal/transport"
)

// lastPollReserve bounds the last look at a job: the round trip of the poll
// at a Timeout's deadline, and the most time left for the last poll before
// a context's deadline.
const lastPollReserve = 5 * time.Second

// ErrPollTimeout is returned when a job has not finished within
// PollOptions.Timeout.
var ErrPollTimeout = errors.New("basiq: job did not finish in time")

// Default polling bounds.
const (
	DefaultMinInterval = time.Second
	DefaultMaxInterval = 30 * time.Second
	DefaultPollTimeout = 10 * time.Minute
)

// PollOptions tune a Poller. The zero value (or nil) gives the defaults.
type PollOptions struct {
	// Operation is what started the job; it changes the Diagnosis of a failure.
	Operation Operation
	// InstitutionID, when known (it is the Credentials.InstitutionID of a
	// create), lets the poller use the institution's average step durations
	// from the first poll, and its status when diagnosing a failure.
	InstitutionID string
	// Attempt is how many times this operation has been tried (1-based), for
	// the Diagnosis's escalation to support.
	Attempt int
	// UserID, when set, is the user the job must belong to: a job that
	// turns out to be another user's (its links.source names them) ends the
	// wait with an error matching ErrInvalidInput. Set it when the job id
	// came from outside, as a Consent UI redirect's do: a tampered redirect
	// could name any job.
	UserID string
	// MinInterval and MaxInterval bound the wait between polls
	// (defaults 1 s and 30 s).
	MinInterval, MaxInterval time.Duration
	// Timeout bounds the whole wait (default 10 minutes; with
	// FollowBasiqRetries, 7 days and an hour). A wait that runs out of time
	// returns at its deadline, not before: a poll due after the deadline is
	// taken at it instead, as a last look, and the wait returns after that
	// poll's round trip (at most 5 s more), with ErrPollTimeout and the real
	// elapsed time.
	Timeout time.Duration
	// FollowBasiqRetries keeps waiting when an update failed with
	// service-unavailable, which Basiq retries every 2 hours for up to 7 days,
	// polling every RetryInterval (default 15 minutes) until the job succeeds
	// or the window closes.
	FollowBasiqRetries bool
	// RetryInterval is the poll interval while following Basiq's retries.
	RetryInterval time.Duration
}

func (o *PollOptions) normalized() PollOptions {
	var p PollOptions
	if o != nil {
		p = *o
	}
	if p.MinInterval <= 0 {
		p.MinInterval = DefaultMinInterval
	}
	if p.MaxInterval <= 0 {
		p.MaxInterval = DefaultMaxInterval
	}
	if p.MaxInterval < p.MinInterval {
		p.MaxInterval = p.MinInterval
	}
	if p.RetryInterval <= 0 {
		p.RetryInterval = 15 * time.Minute
	}
	if p.Timeout <= 0 {
		p.Timeout = DefaultPollTimeout
		if p.FollowBasiqRetries {
			p.Timeout = basiqRetryWindow + time.Hour
		}
	}
	if p.Attempt <= 0 {
		p.Attempt = 1
	}
	return p
}

// StepEvent is one observed change of a job step: it started, succeeded,
// failed, or (for mfa-challenge) asks for answers.
type StepEvent struct {
	Step     Step       // the step as now observed
	Previous StepStatus // its status at the previous observation ("" if never seen)
	Job      *Job       // the whole job as now observed
	// Diagnosis is set when the step failed, or is an MFA prompt to answer.
	Diagnosis *Diagnosis
}

// Poller follows one job. Create it with Jobs.Poller or Jobs.ResumePoller.
// A Poller is not safe for concurrent use; to wait on one job from several
// goroutines use Jobs.Wait, which shares one poll loop.
type Poller struct {
	jobs  *JobsService
	jobID string
	opts  PollOptions

	job        *Job
	seen       map[StepName]StepStatus
	prompted   map[StepName]string    // per step, the signature of the MFA prompt on show
	promptAt   map[StepName]time.Time // per step, when this poller first saw that prompt
	told       map[StepName]string    // per step, the signature of the last prompt handed to the caller
	polls      int
	started    time.Time              // first poll
	lastPoll   time.Time              // last successful poll
	stepSeen   map[StepName]time.Time // when each step was first seen in progress
	unchanged  int                    // polls since the last change
	retryHint  time.Duration          // a server's Retry-After from the last poll error
	lastErr    error                  // the last transient poll error
	failedAt   time.Time              // when a followed Basiq retry was first seen failing
	lastLook   time.Time              // the deadline the last look was scheduled for (the next poll after it is none)
	durations  StepDurations
	instID     string
	instStatus InstitutionStatus // the institution's status, when already looked up
	instTried  bool
	connTried  bool           // the job's connection was looked up for its institution
	begun      time.Time      // when this client started the job, if it did
	jitter     func() float64 // in [0,1); replaced in simulations
}

// Poller returns a Poller for jobID; opts may be nil. No request is made
// until it is used.
func (s *JobsService) Poller(jobID string, opts *PollOptions) *Poller {
	o := opts.normalized()
	jitter := defaultJitter
	if s != nil && s.jitter != nil {
		jitter = s.jitter
	}
	return &Poller{
		jobs: s, jobID: jobID, opts: o, instID: o.InstitutionID,
		seen: make(map[StepName]StepStatus), stepSeen: make(map[StepName]time.Time), prompted: make(map[StepName]string),
		promptAt: make(map[StepName]time.Time), told: make(map[StepName]string),
		jitter: jitter,
	}
}

// ready reports whether p was made by Jobs.Poller or Jobs.ResumePoller of a
// Client made by NewClient.
func (p *Poller) ready() error {
	if p == nil || p.seen == nil {
		return errNotInitialized()
	}
	return p.jobs.client().ready()
}

// JobID returns the id of the job being polled.
func (p *Poller) JobID() string {
	if p == nil {
		return ""
	}
	return p.jobID
}

// Job returns the job as last observed (nil before the first poll).
func (p *Poller) Job() *Job {
	if p == nil {
		return nil
	}
	return p.job
}

// Done reports whether the job has finished: every step succeeded (or was
// skipped), or a step failed (unless it is a Basiq retry being followed).
func (p *Poller) Done() bool {
	if p == nil || p.job == nil {
		return false
	}
	switch p.job.Status() {
	case JobSucceeded:
		return true
	case JobFailed:
		return !p.followingRetry()
	}
	return false
}

// Poll fetches the job once and records what changed. It returns the job as
// fetched; a failed job is returned without error (see Wait).
func (p *Poller) Poll(ctx context.Context) (*Job, error) {
	if err := p.ready(); err != nil {
		return nil, err
	}
	_, err := p.poll(ctx)
	return p.job, err
}

// poll fetches the job and returns the step events it shows.
func (p *Poller) poll(ctx context.Context) ([]StepEvent, error) {
	if err := p.ready(); err != nil {
		return nil, err
	}
	now := time.Now()
	if p.started.IsZero() {
		p.started = now
	}
	p.polls++
	job, err := p.jobs.Get(ctx, p.jobID)
	if err != nil {
		p.lastErr = err
		p.retryHint = 0
		var apiErr *APIError
		if errors.As(err, &apiErr) {
			p.retryHint = apiErr.RetryAfter
		}
		return nil, err
	}
	if owner := job.UserID(); p.opts.UserID != "" && owner != "" && owner != p.opts.UserID {
		return nil, invalidInput("job %s belongs to another user than PollOptions.UserID", clipLine(p.jobID, 80))
	}
	p.lastErr = nil
	p.retryHint = 0
	p.job = job
	if p.instID == "" && job.Institution != nil {
		p.instID = job.Institution.ID
	}
	var events []StepEvent
	for i, st := range job.Steps {
		prev, known := p.seen[st.Title]
		// An MFA prompt is an event even when it appears on a step already
		// seen in progress.
		newPrompt := false
		if prompt, ok := st.MFAPrompt(); ok {
			sig := promptSignature(prompt)
			newPrompt = p.prompted[st.Title] != sig
			p.prompted[st.Title] = sig
			if _, ok := p.promptAt[st.Title]; newPrompt || !ok {
				p.promptAt[st.Title] = now
			}
		} else if _, ok := p.prompted[st.Title]; ok && !st.Status.Done() {
			// The prompt was withdrawn (answered, or replaced by a wait): the
			// same prompt shown again is a new prompt.
			delete(p.prompted, st.Title)
			delete(p.promptAt, st.Title)
		}
		if prev == st.Status && !newPrompt {
			continue
		}
		p.seen[st.Title] = st.Status
		if st.Status == StepSuccess && prev == StepInProgress {
			p.learnStep(st.Title, now)
		}
		if st.Status == StepInProgress || (st.Status.Done() && !known) {
			if _, ok := p.stepSeen[st.Title]; !ok {
				p.stepSeen[st.Title] = p.estimateStart(job, i, now)
			}
		}
		if !known && st.Status == StepPending {
			continue
		}
		events = append(events, StepEvent{Step: st, Previous: prev, Job: job})
	}
	if len(events) > 0 {
		p.unchanged = 0
	} else {
		p.unchanged++
	}
	p.lastPoll = now
	if job.Status() == JobFailed {
		if p.failedAt.IsZero() {
			p.failedAt = now
		}
	} else {
		p.failedAt = time.Time{}
	}
	return events, nil
}

// promptSignature identifies an MFA prompt, so that a second, different
// prompt on a step still in progress (a new question, a new code) is
// reported too.
func promptSignature(r *StepResult) string {
	sum := sha256.Sum256([]byte(r.Method + "\x1f" + r.Description + "\x1f" + strings.Join(r.Input, "\x1e") + "\x1f" + r.ResponseURL))
	return base64.RawURLEncoding.EncodeToString(sum[:6])
}

// estimateStart estimates when step i started, knowing it started after the
// last poll and by now: when the previous step's expected end (from the
// institution's averages) falls in that window it is the best guess, else now.
//
// A step seen ending only at a poll after its expected end (its end is
// known to lie between the last poll and now) is taken to have ended
// halfway between them.
func (p *Poller) estimateStart(job *Job, i int, now time.Time) time.Time {
	if i == 0 && !p.begun.IsZero() && p.begun.Before(now) {
		return p.begun // this client started the job
	}
	if i == 0 || p.lastPoll.IsZero() {
		return now
	}
	prev := job.Steps[i-1].Title
	began, ok := p.stepSeen[prev]
	avg := p.expectedDuration(prev)
	if !ok || avg <= 0 {
		return now
	}
	est := began.Add(avg)
	if est.Before(p.lastPoll) {
		return p.lastPoll.Add(now.Sub(p.lastPoll) / 2)
	}
	if est.After(now) {
		est = now
	}
	return est
}

// Steps polls until the job finishes and yields every step change, in the
// caller's goroutine: a step starting, succeeding or failing, and each MFA
// prompt (also one that appears on a step already in progress). A failed
// step's event and an MFA prompt's carry a Diagnosis. A failure ends the
// sequence, unless FollowBasiqRetries keeps it going through Basiq's retries
// of an update, whose later step changes are yielded too. Transient poll
// errors (429, 5xx, network) are retried, not yielded; an error that ends
// polling (the context, the timeout, a 404) is yielded once with a zero
// StepEvent. Breaking out of the loop stops polling.
//
// A range that starts after this Poller already saw the job (Poll,
// WaitForStep, an earlier range) does not repeat starts and successes it
// reported, but it does begin with what still needs the caller: an MFA
// prompt not yet answered through this client's Jobs.SubmitMFA, and, on a
// job that has already failed, the failed step's event. A range never ends
// silently on a failed job.
func (p *Poller) Steps(ctx context.Context) iter.Seq2[StepEvent, error] {
	return func(yield func(StepEvent, error) bool) {
		if err := p.ready(); err != nil {
			yield(StepEvent{}, err)
			return
		}
		for _, ev := range p.carriedOver() {
			if !p.yieldEvent(ctx, ev, yield) {
				return
			}
		}
		for !p.Done() {
			events, err := p.next(ctx)
			if err != nil {
				yield(StepEvent{}, err)
				return
			}
			for _, ev := range events {
				if !p.yieldEvent(ctx, ev, yield) {
					return
				}
			}
		}
	}
}

// carriedOver returns the events a new Steps range starts with: the failed
// step of a job already failed, or a still-unanswered MFA prompt.
func (p *Poller) carriedOver() []StepEvent {
	if p.job == nil {
		return nil
	}
	if p.Done() {
		if st, failed := p.job.FailedStep(); failed {
			return []StepEvent{{Step: st, Previous: st.Status, Job: p.job}}
		}
		return nil
	}
	if st, _, ok := p.unansweredPrompt(); ok {
		return []StepEvent{{Step: st, Previous: st.Status, Job: p.job}}
	}
	return nil
}

// yieldEvent adds the Diagnosis a failure or an MFA prompt carries, and
// yields ev.
func (p *Poller) yieldEvent(ctx context.Context, ev StepEvent, yield func(StepEvent, error) bool) bool {
	prompt, mfa := ev.Step.MFAPrompt()
	if mfa || ev.Step.Status == StepFailed {
		d := p.diagnose(ctx, ev.Job)
		ev.Diagnosis = &d
	}
	if mfa {
		p.told[ev.Step.Title] = promptSignature(prompt)
	}
	return yield(ev, nil)
}

// WaitForStep polls until the named step has succeeded (or been skipped) and
// returns the job at that moment; the Poller can then keep going (Wait,
// Steps). It is the "keep the user until their credentials are verified,
// then release them" wait.
//
// The bank's MFA challenge comes right after verify-credentials, and a user
// the bank is still challenging must not be released. So while the job has
// an mfa-challenge step that is not finished, WaitForStep goes on until that
// step succeeds or is skipped; and whenever an MFA prompt is waiting for
// answers, before or right after the step waited for, it returns the job and
// an *MFARequiredError (matching ErrMFARequired) carrying the prompt.
// Collect the answers, call Jobs.SubmitMFA, then call WaitForStep again: a
// prompt answered through this client's Jobs.SubmitMFA is not reported
// again, and a new prompt (a second question) is. A prompt already reported
// is reported again only after a fresh poll still shows it unanswered.
//
// It returns *JobFailedError if the job has failed by the time it looks
// (even when the step waited for had itself succeeded: the job is over), and
// the job with a nil error if the job finishes without that step.
func (p *Poller) WaitForStep(ctx context.Context, name StepName) (*Job, error) {
	if err := p.ready(); err != nil {
		return nil, err
	}
	fresh := false // p.job was fetched by this call
	for {
		if p.job != nil {
			if st, prompt, ok := p.unansweredPrompt(); ok && (fresh || p.told[st.Title] != promptSignature(prompt)) {
				p.told[st.Title] = promptSignature(prompt)
				return p.job, &MFARequiredError{Job: p.job, Prompt: clonePrompt(prompt)}
			}
			if p.Done() {
				return p.result(ctx)
			}
			if stepReached(p.job, name) {
				return p.job, nil
			}
		}
		if _, err := p.next(ctx); err != nil {
			return p.job, err
		}
		fresh = true
	}
}

// Wait polls until the job finishes. It returns the job when every step
// succeeded, and *JobFailedError (with the job, the failed step and a
// Diagnosis that consulted the institution's current status when relevant)
// when a step failed.
func (p *Poller) Wait(ctx context.Context) (*Job, error) {
	if err := p.ready(); err != nil {
		return nil, err
	}
	for !p.Done() {
		if _, err := p.next(ctx); err != nil {
			return p.job, err
		}
	}
	return p.result(ctx)
}

// result turns a finished job into Wait's answer.
func (p *Poller) result(ctx context.Context) (*Job, error) {
	step, failed := p.job.FailedStep()
	if !failed {
		return p.job, nil
	}
	return p.job, &JobFailedError{Job: p.job, Step: step, Diagnosis: p.diagnose(ctx, p.job)}
}

// next waits as the schedule says (not before the first poll), then polls,
// absorbing transient errors until the timeout.
func (p *Poller) next(ctx context.Context) ([]StepEvent, error) {
	if err := p.ready(); err != nil {
		return nil, err
	}
	if ctx == nil {
		return nil, invalidInput("nil context")
	}
	if p.started.IsZero() {
		p.started = time.Now()
	}
	if p.polls == 0 {
		if err := p.wait(ctx, p.firstWait(ctx)); err != nil {
			return nil, err
		}
	}
	for {
		if p.polls > 0 {
			if err := p.sleep(ctx); err != nil {
				return nil, err
			}
		}
		// The poll itself (its retries, a token fetch) must not carry the
		// wait past its timeout either, save the last look, taken at the
		// deadline, which gets its round trip.
		pd := p.started.Add(p.opts.Timeout)
		if p.lastLook.Equal(pd) {
			pd = pd.Add(lastPollReserve)
		}
		pctx, cancel := context.WithDeadline(ctx, pd)
		events, err := p.poll(pctx)
		timedOut := pctx.Err() != nil
		cancel()
		if err == nil {
			return events, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if timedOut {
			return nil, p.timeoutErr(ctx, false)
		}
		if !transient(err) {
			return nil, err
		}
		p.unchanged++
	}
}

// wait sleeps for d (nothing when d <= 0) before the first poll, no longer
// than the deadline: a first poll due after it is the last look, at it.
func (p *Poller) wait(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	deadline := p.started.Add(p.opts.Timeout)
	last := d >= time.Until(deadline)
	if last {
		d = time.Until(deadline)
	}
	if cd, ok := ctx.Deadline(); ok {
		// A caller's deadline shorter than the first wait still gets its
		// look at the job, before it, as sleep's last look gives it.
		remaining := time.Until(cd)
		if c := remaining - min(remaining/2, lastPollReserve); c < d {
			d, last = c, false
		}
	}
	if last {
		p.lastLook = deadline
	}
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// bounded returns ctx cut at the poller's deadline (started + Timeout): the
// look-ups a poller makes beside its polls (an institution, a connection)
// must not carry the wait past its timeout either.
func (p *Poller) bounded(ctx context.Context) (context.Context, context.CancelFunc) {
	if p.started.IsZero() {
		return context.WithCancel(ctx)
	}
	return context.WithDeadline(ctx, p.started.Add(p.opts.Timeout))
}

// sleep waits for the next poll, fitting the last wait to the deadline, and
// returns the wait's timeout error at the deadline, not before.
//
// With the Timeout's deadline, a poll due after it is taken at it instead
// (the last look; next gives it its round trip), and the wait ends after
// it. With a context's deadline, which no poll can outlast, the last look
// comes a little before it, leaving the poll (and a token fetch it may need)
// time to finish, and the wait then ends when the context does.
func (p *Poller) sleep(ctx context.Context) error {
	lctx, cancel := p.bounded(ctx)
	p.loadDurations(lctx)
	cancel()
	d := p.delay(time.Now())
	deadline := p.started.Add(p.opts.Timeout)
	ctxBound := false
	if cd, ok := ctx.Deadline(); ok && !cd.After(deadline) {
		deadline, ctxBound = cd, true
	}
	remaining := time.Until(deadline)
	if d >= remaining {
		looked := !p.lastLook.IsZero() && !p.lastLook.Before(deadline)
		switch {
		case looked || remaining < p.opts.MinInterval:
			// No look fits any more (the last was taken, or one was taken
			// less than MinInterval ago): the wait ends at the deadline.
			if ctxBound {
				<-ctx.Done() // the context's own deadline, exactly
			} else if err := sleepCtx(ctx, remaining); err != nil {
				return err
			}
			return p.timeoutErr(ctx, ctxBound)
		case ctxBound:
			d = remaining - min(remaining/2, lastPollReserve)
		default:
			d = remaining
		}
		p.lastLook = deadline
	}
	return sleepCtx(ctx, d)
}

// sleepCtx sleeps for d (nothing when d <= 0), or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// timeoutErr is the error of a wait that ran out of time, stating the real
// elapsed time: ErrPollTimeout for the Timeout, context.DeadlineExceeded for
// a context's deadline (any other end of the context is its own error).
func (p *Poller) timeoutErr(ctx context.Context, ctxBound bool) error {
	status := "unknown"
	if p.job != nil {
		status = string(p.job.Status())
	}
	elapsed := time.Since(p.started).Round(time.Millisecond)
	if err := ctx.Err(); err != nil {
		if ctxBound && errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("basiq: job %s still %s at the context's deadline, after %s: %w", p.jobID, status, elapsed, err)
		}
		return err
	}
	err := fmt.Errorf("%w: job %s still %s after %s (Timeout %s)", ErrPollTimeout, p.jobID, status, elapsed, p.opts.Timeout)
	if p.lastErr != nil {
		err = fmt.Errorf("%w (last poll error: %v)", err, p.lastErr)
	}
	return err
}

// transient reports a poll error worth polling again after: throttling,
// server errors and network failures.
func transient(err error) bool {
	if errors.Is(err, ErrRateLimited) || errors.Is(err, ErrUnavailable) {
		return true
	}
	var apiErr *APIError
	if errors.As(err, &apiErr) || !errors.Is(err, errTransportFailure) {
		return false
	}
	return !permanentTransportError(err)
}

// permanentTransportError reports transport failures that polling again
// cannot cure: a certificate the client does not trust, a redirect loop, a
// URL scheme the transport does not speak.
func permanentTransportError(err error) bool {
	var unknownAuthority x509.UnknownAuthorityError
	var invalidCert x509.CertificateInvalidError
	var hostname x509.HostnameError
	var verify *tls.CertificateVerificationError
	if errors.As(err, &unknownAuthority) || errors.As(err, &invalidCert) || errors.As(err, &hostname) || errors.As(err, &verify) {
		return true
	}
	if errors.Is(err, transport.ErrRedirected) {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "stopped after") || strings.Contains(msg, "unsupported protocol scheme")
}
