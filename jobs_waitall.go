package basiq

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// JobOutcome is how one job of Jobs.WaitAll ended. Check Err first: only a
// nil Err is a success. A job that timed out, was refused by
// PollOptions.UserID, was cancelled or could not be read has a non-nil Err
// and no Diagnosis; its Job may be nil or unfinished, and its ConnectionID
// may be "" (never read data filtered by it).
type JobOutcome struct {
	JobID string
	// Job is the job as last observed (nil if it was never fetched).
	Job *Job
	// Err is nil when every step succeeded; a *JobFailedError (with its
	// Diagnosis) when a step failed; otherwise what ended the wait (an error
	// matching ErrPollTimeout, ErrInvalidInput for another user's job, an
	// API error such as a 404, the context's error).
	Err error
}

// Succeeded reports whether the job succeeded: Err is nil and the job, as
// last observed, has every step done. It is the only outcome whose data may
// be read.
func (o JobOutcome) Succeeded() bool {
	return o.Err == nil && o.Job != nil && o.Job.Status() == JobSucceeded
}

// Failed returns the job's failure, when a step failed: its Diagnosis says
// what to tell the user and how to fix it. A job that did not succeed for
// another reason (a timeout, a refused job, the context) is not "failed":
// Failed reports false, and Err still says the job did not succeed.
func (o JobOutcome) Failed() (*JobFailedError, bool) {
	var failed *JobFailedError
	ok := errors.As(o.Err, &failed)
	return failed, ok
}

// WaitAll waits for every job concurrently (typically the job ids a Consent
// UI redirect carries: ParseConsentRedirect) and returns one outcome per id,
// in the order given. Each job is waited on as by Jobs.Wait, through the
// shared poll loops: WaitAll makes no more requests than separate Waits
// would, and shares loops with any concurrent Wait on the same ids. A job's
// failure is its own outcome's Err; WaitAll itself fails only on bad input
// (no ids, an invalid id, a context already done: nothing is polled) or
// when ctx ends while it waits, and then still returns the outcomes, the
// unfinished ones with ctx's error.
//
// The jobs of a Consent UI redirect make new connections (or, for a link
// with a ConnectionID, fix one the user has just entered details for), so a
// failure is diagnosed as a create unless opts says otherwise: a wrong
// password is ActionCheckCredentials, not ActionUpdateCredentials.
func (s *JobsService) WaitAll(ctx context.Context, jobIDs []string, opts *PollOptions) ([]JobOutcome, error) {
	if err := s.client().ready(); err != nil {
		return nil, err
	}
	if ctx == nil {
		return nil, invalidInput("nil context")
	}
	if len(jobIDs) == 0 {
		return nil, invalidInput("no job ids to wait for")
	}
	for _, id := range jobIDs {
		if err := validateID("jobId", id); err != nil {
			return nil, err
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	o := PollOptions{Operation: OpCreate}
	if opts != nil {
		o = *opts
		if o.Operation == OpUnknown {
			o.Operation = OpCreate
		}
	}
	out := make([]JobOutcome, len(jobIDs))
	var wg sync.WaitGroup
	for i, id := range jobIDs {
		wg.Go(func() {
			job, err := s.Wait(ctx, id, &o)
			if err == nil && (job == nil || job.Status() != JobSucceeded) {
				err = fmt.Errorf("basiq: job %s ended without succeeding", id)
			}
			out[i] = JobOutcome{JobID: id, Job: job, Err: err}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return out, err
	}
	// A wait bound by ctx's deadline ends with it (an error matching
	// context.DeadlineExceeded): that is WaitAll's end too.
	for _, o := range out {
		if errors.Is(o.Err, context.DeadlineExceeded) {
			return out, o.Err
		}
	}
	return out, nil
}
