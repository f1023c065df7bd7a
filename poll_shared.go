package basiq

import (
	"context"
	"sync"
)

// waitLoops lets concurrent Jobs.Wait calls on one job share a poll loop.
type waitLoops struct {
	mu    sync.Mutex
	loops map[waitKey]*sharedWait
}

// waitKey names a loop: waiters share one only if it stops when they would.
// Whether a failed job is final depends on FollowBasiqRetries, and then on
// the Operation (only updates are retried by Basiq).
type waitKey struct {
	jobID  string
	follow bool
	op     Operation // set only when follow is
}

func newWaitKey(jobID string, o PollOptions) waitKey {
	k := waitKey{jobID: jobID, follow: o.FollowBasiqRetries}
	if k.follow {
		k.op = o.Operation
	}
	return k
}

// sharedWait is one poll loop and the callers waiting on it.
type sharedWait struct {
	done   chan struct{}
	job    *Job
	err    error
	instID string            // the job's institution, once known
	status InstitutionStatus // its status when the job failed, if the loop needed it
	refs   int
	cancel context.CancelFunc
}

// Wait polls jobID until it finishes, like Poller.Wait, but concurrent Waits
// on the same job id (and the same FollowBasiqRetries choice) share one poll
// loop, so a hundred waiters make the requests of one. The loop stops when it
// finishes or when every waiter has gone. Each caller's own ctx, and its
// opts' Operation and Attempt, apply to its answer (each gets its own copy of
// the job); the first caller's intervals and timeout drive the loop.
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
	key := newWaitKey(jobID, opts.normalized())
	sw := s.join(ctx, key, opts)
	select {
	case <-sw.done:
		s.leave(key, sw)
	case <-ctx.Done():
		s.leave(key, sw)
		return nil, ctx.Err()
	}
	job := sw.job.clone()
	if sw.err != nil {
		return job, sw.err
	}
	p := s.Poller(jobID, opts)
	p.job, p.instID, p.instStatus = job, sw.instID, sw.status
	return p.result(ctx)
}

func (s *JobsService) join(ctx context.Context, key waitKey, opts *PollOptions) *sharedWait {
	s.waits.mu.Lock()
	defer s.waits.mu.Unlock()
	if sw, ok := s.waits.loops[key]; ok {
		sw.refs++
		return sw
	}
	loopCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	sw := &sharedWait{done: make(chan struct{}), refs: 1, cancel: cancel}
	if s.waits.loops == nil {
		s.waits.loops = make(map[waitKey]*sharedWait)
	}
	s.waits.loops[key] = sw
	p := s.Poller(key.jobID, opts)
	go func() {
		defer cancel()
		for !p.Done() {
			if _, err := p.next(loopCtx); err != nil {
				sw.err = err
				break
			}
		}
		if sw.err == nil && p.job.Status() == JobFailed &&
			statusMatters(p.job, DiagnoseOptions{Operation: p.opts.Operation}) {
			// Look the institution's status up once for every waiter.
			sw.status = p.jobs.client().institutionStatus(loopCtx, p.job, &p.instID)
		}
		sw.job, sw.instID = p.job, p.instID
		s.waits.mu.Lock()
		if s.waits.loops[key] == sw {
			delete(s.waits.loops, key)
		}
		s.waits.mu.Unlock()
		close(sw.done)
	}()
	return sw
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
