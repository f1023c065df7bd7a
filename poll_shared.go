package basiq

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// waitLoops lets concurrent Jobs.Wait calls on one job share a poll loop.
type waitLoops struct {
	mu    sync.Mutex
	loops map[waitKey]*sharedWait
}

// waitKey names a loop: waiters share one only if it stops when they would.
// Whether a failed job is final depends on FollowBasiqRetries, and then on
// the Operation (only updates are retried by Basiq); whether a job is
// refused, on PollOptions.UserID.
type waitKey struct {
	jobID  string
	follow bool
	op     Operation // set only when follow is
	userID string    // PollOptions.UserID: the loop checks whose job it is
}

func newWaitKey(jobID string, o PollOptions) waitKey {
	k := waitKey{jobID: jobID, follow: o.FollowBasiqRetries, userID: o.UserID}
	if k.follow {
		k.op = o.Operation
	}
	return k
}

// sharedWait is one poll loop and the callers waiting on it.
type sharedWait struct {
	done   chan struct{}
	cancel context.CancelFunc
	refs   int // guarded by waitLoops.mu

	mu       sync.Mutex
	deadline time.Time // the latest deadline of any waiter: the loop polls until then
	byCtx    bool      // that deadline is a waiter's context's: no poll can outlast it
	latest   *Job      // the job as last observed, for a waiter whose own deadline passes

	// Set before done is closed.
	job    *Job
	err    error
	instID string            // the job's institution, once known
	status InstitutionStatus // its status when the job failed, if the loop needed it
}

// extend makes the loop poll until at least d (a context's deadline when
// byCtx).
func (sw *sharedWait) extend(d time.Time, byCtx bool) {
	sw.mu.Lock()
	defer sw.mu.Unlock()
	if d.After(sw.deadline) {
		sw.deadline, sw.byCtx = d, byCtx
	}
}

func (sw *sharedWait) until() time.Time {
	sw.mu.Lock()
	defer sw.mu.Unlock()
	return sw.deadline
}

// untilByCtx is until, and whether that deadline is a context's.
func (sw *sharedWait) untilByCtx() (time.Time, bool) {
	sw.mu.Lock()
	defer sw.mu.Unlock()
	return sw.deadline, sw.byCtx
}

func (sw *sharedWait) observed(job *Job) {
	sw.mu.Lock()
	defer sw.mu.Unlock()
	sw.latest = job
}

func (sw *sharedWait) snapshot() *Job {
	sw.mu.Lock()
	defer sw.mu.Unlock()
	return sw.latest.clone()
}

// Wait polls jobID until it finishes, like Poller.Wait, but concurrent Waits
// on the same job id (and the same FollowBasiqRetries choice) share one poll
// loop, so a hundred waiters make the requests of one. Each caller keeps its
// own deadline (its ctx, and its opts' Timeout) and gets its own copy of the
// job; its opts' Operation and Attempt apply to its answer. The loop polls as
// long as its longest-waiting caller needs, at the first caller's intervals,
// and stops when the job finishes or when every waiter has gone. A caller
// whose time runs out gets its error at its deadline, not before (after the
// loop's last look at the job, when the loop ends for that deadline), naming
// the real elapsed time.
//
// Wait does not return for an MFA prompt (a 2.1 job, or a refresh of a bank
// that uses MFA, on 3.0 too): someone may answer it (Jobs.SubmitMFA) while
// it waits, and a prompt nobody answers expires (in about two minutes) and
// fails the job. To be told about a prompt, and to refresh such a bank while
// the user is there to answer, use a Poller's WaitForStep or Steps.
func (s *JobsService) Wait(ctx context.Context, jobID string, opts *PollOptions) (*Job, error) {
	if err := s.client().ready(); err != nil {
		return nil, err
	}
	if ctx == nil {
		return nil, invalidInput("nil context")
	}
	if err := validateID("jobId", jobID); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	o := opts.normalized()
	// The waiter's deadline is its Timeout's or its context's, whichever
	// comes first: the loop fits its polls (a last look at it, or just
	// before a context's) to it.
	start := time.Now()
	deadline, ctxBound := start.Add(o.Timeout), false
	if cd, ok := ctx.Deadline(); ok && cd.Before(deadline) {
		deadline, ctxBound = cd, true
	}
	key := newWaitKey(jobID, o)
	sw := s.join(ctx, key, opts, deadline, ctxBound)
	var expired <-chan time.Time // the Timeout's; a context's deadline is its Done
	if !ctxBound {
		timer := time.NewTimer(time.Until(deadline))
		defer timer.Stop()
		expired = timer.C
	}
	timedOut := func() (*Job, error) {
		job := sw.snapshot()
		status := "unknown"
		if job != nil {
			status = string(job.Status())
		}
		elapsed := time.Since(start).Round(time.Millisecond)
		if ctxBound {
			return job, fmt.Errorf("basiq: job %s still %s at the context's deadline, after %s: %w", jobID, status, elapsed, context.DeadlineExceeded)
		}
		return job, fmt.Errorf("%w: job %s still %s after %s (Timeout %s)", ErrPollTimeout, jobID, status, elapsed, o.Timeout)
	}
	select {
	case <-sw.done:
		s.leave(key, sw)
	case <-ctx.Done():
		s.leave(key, sw)
		if ctxBound && errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return timedOut()
		}
		return nil, ctx.Err()
	case <-expired:
		if sw.until().After(deadline) {
			// The loop goes on for a later waiter: this one ends now, with
			// the job as last seen.
			s.leave(key, sw)
			return timedOut()
		}
		// The loop ends for this waiter: its last look is being taken at
		// this deadline; wait for that poll's round trip (bounded as the
		// poll is), and answer with what it saw.
		grace := time.NewTimer(lastPollReserve)
		defer grace.Stop()
		select {
		case <-sw.done:
			s.leave(key, sw)
		case <-ctx.Done():
			s.leave(key, sw)
			return timedOut()
		case <-grace.C:
			s.leave(key, sw)
			return timedOut()
		}
	}
	if errors.Is(sw.err, ErrPollTimeout) || errors.Is(sw.err, context.DeadlineExceeded) {
		// The loop gave up at the latest deadline, this waiter's: say so
		// in its own terms.
		return timedOut()
	}
	job := sw.job.clone()
	if sw.err != nil {
		return job, sw.err
	}
	p := s.Poller(jobID, opts)
	p.job, p.instID, p.instStatus = job, sw.instID, sw.status
	// The Diagnosis's look-ups (the loop made them once for every waiter;
	// a waiter whose Operation needs another) stay within this wait.
	dctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	return p.result(dctx)
}

// join adds a waiter with the given deadline (its context's when byCtx) to
// the loop for key, starting the loop if there is none.
func (s *JobsService) join(ctx context.Context, key waitKey, opts *PollOptions, deadline time.Time, byCtx bool) *sharedWait {
	s.waits.mu.Lock()
	defer s.waits.mu.Unlock()
	if sw, ok := s.waits.loops[key]; ok {
		sw.refs++
		sw.extend(deadline, byCtx)
		return sw
	}
	loopCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	sw := &sharedWait{done: make(chan struct{}), refs: 1, cancel: cancel, deadline: deadline, byCtx: byCtx}
	if s.waits.loops == nil {
		s.waits.loops = make(map[waitKey]*sharedWait)
	}
	s.waits.loops[key] = sw
	p := s.Poller(key.jobID, opts)
	go s.run(loopCtx, key, sw, p)
	return sw
}

// run is the shared loop: it polls until the job is done, the latest
// waiter's deadline passes, or every waiter has left (loopCtx cancelled).
func (s *JobsService) run(loopCtx context.Context, key waitKey, sw *sharedWait, p *Poller) {
	defer sw.cancel()
	p.started = time.Now()
	for !p.Done() {
		until, byCtx := sw.untilByCtx()
		p.opts.Timeout = until.Sub(p.started)
		// A context's deadline is the loop's context's too, so that the
		// poller takes its last look before it (no poll can outlast a
		// context), not at it (the Timeout's last look).
		nctx, cancel := loopCtx, context.CancelFunc(func() {})
		if byCtx {
			nctx, cancel = context.WithDeadline(loopCtx, until)
		}
		_, err := p.next(nctx)
		cancel()
		if err == nil {
			sw.observed(p.job)
			continue
		}
		timedOut := errors.Is(err, ErrPollTimeout) || (byCtx && errors.Is(err, context.DeadlineExceeded))
		if timedOut && loopCtx.Err() == nil && !s.retire(key, sw, until) {
			// A waiter with a later deadline joined while this wait was
			// ending at the old one: keep going for it.
			continue
		}
		sw.err = err
		break
	}
	if sw.err == nil && p.job.Status() == JobFailed {
		lctx, cancel := context.WithDeadline(loopCtx, sw.until())
		p.discoverInstitution(lctx) // for every waiter's Diagnosis
		if statusMatters(p.job, DiagnoseOptions{Operation: p.opts.Operation}) {
			// Look the institution's status up once for every waiter.
			sw.status = p.jobs.client().institutionStatus(lctx, p.job, &p.instID)
		}
		cancel()
	}
	sw.job, sw.instID = p.job, p.instID
	s.waits.mu.Lock()
	if s.waits.loops[key] == sw {
		delete(s.waits.loops, key)
	}
	s.waits.mu.Unlock()
	close(sw.done)
}

// retire takes a loop whose deadline (until) has passed out of the map, so
// that no waiter joins it any more, unless a waiter has meanwhile pushed its
// deadline later; it reports whether it did. Deciding and removing under the
// one lock leaves no moment in which a waiter could join a loop that is
// ending for someone else's deadline.
func (s *JobsService) retire(key waitKey, sw *sharedWait, until time.Time) bool {
	s.waits.mu.Lock()
	defer s.waits.mu.Unlock()
	if sw.until().After(until) {
		return false
	}
	if s.waits.loops[key] == sw {
		delete(s.waits.loops, key)
	}
	return true
}

// leave drops a waiter; the last one to leave an unfinished loop stops it.
func (s *JobsService) leave(key waitKey, sw *sharedWait) {
	s.waits.mu.Lock()
	defer s.waits.mu.Unlock()
	sw.refs--
	if sw.refs > 0 {
		return
	}
	select {
	case <-sw.done:
	default:
		sw.cancel()
		if s.waits.loops[key] == sw {
			delete(s.waits.loops, key)
		}
	}
}
