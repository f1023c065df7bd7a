package basiq

import (
	"context"
	"sync"
)

// waitLoops lets concurrent Jobs.Wait calls on one job share a poll loop.
type waitLoops struct {
	mu    sync.Mutex
	loops map[string]*sharedWait
}

// sharedWait is one poll loop and the callers waiting on it.
type sharedWait struct {
	done   chan struct{}
	job    *Job
	err    error
	refs   int
	cancel context.CancelFunc
}

// Wait polls jobID until it finishes, like Poller.Wait, but concurrent Waits
// on the same job id share one poll loop, so a hundred waiters make the
// requests of one. The loop stops when it finishes or when every waiter has
// gone. Each caller's own ctx, and its opts' Operation and Attempt, apply to
// its answer; the first caller's intervals and timeout drive the loop.
func (s *JobsService) Wait(ctx context.Context, jobID string, opts *PollOptions) (*Job, error) {
	if ctx == nil {
		return nil, invalidInput("nil context")
	}
	if err := validateID("jobId", jobID); err != nil {
		return nil, err
	}
	sw := s.join(ctx, jobID, opts)
	select {
	case <-sw.done:
		s.leave(jobID, sw)
	case <-ctx.Done():
		s.leave(jobID, sw)
		return nil, ctx.Err()
	}
	if sw.err != nil {
		return sw.job, sw.err
	}
	p := s.Poller(jobID, opts)
	p.job = sw.job
	return p.result(ctx)
}

func (s *JobsService) join(ctx context.Context, jobID string, opts *PollOptions) *sharedWait {
	s.waits.mu.Lock()
	defer s.waits.mu.Unlock()
	if sw, ok := s.waits.loops[jobID]; ok {
		sw.refs++
		return sw
	}
	loopCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	sw := &sharedWait{done: make(chan struct{}), refs: 1, cancel: cancel}
	if s.waits.loops == nil {
		s.waits.loops = make(map[string]*sharedWait)
	}
	s.waits.loops[jobID] = sw
	p := s.Poller(jobID, opts)
	go func() {
		defer cancel()
		for !p.Done() {
			if _, err := p.next(loopCtx); err != nil {
				sw.err = err
				break
			}
		}
		sw.job = p.job
		s.waits.mu.Lock()
		if s.waits.loops[jobID] == sw {
			delete(s.waits.loops, jobID)
		}
		s.waits.mu.Unlock()
		close(sw.done)
	}()
	return sw
}

// leave drops a waiter; the last one to leave an unfinished loop stops it.
func (s *JobsService) leave(jobID string, sw *sharedWait) {
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
		if s.waits.loops[jobID] == sw {
			delete(s.waits.loops, jobID)
		}
	}
}
