package basiq

import (
	"errors"
	"fmt"
	"sync"
	"time"
)

// ErrMFARequired matches an *MFARequiredError: the bank is waiting for the
// user's answers to an MFA prompt.
var ErrMFARequired = errors.New("basiq: the bank asks for MFA answers")

// MFARequiredError is returned by Poller.WaitForStep while the job waits for
// the user's answers to an MFA prompt. Show Prompt.Description and one input
// per Prompt.Input label, send the answers with Jobs.SubmitMFA before
// Prompt.Expiry runs out, then call WaitForStep again.
//
// Its Error text names the job, the prompt's method and its number of inputs,
// never the bank's description of the prompt.
type MFARequiredError struct {
	Job    *Job        // the job as last observed
	Prompt *StepResult // the MFA prompt (a copy)
}

// Error describes the pending prompt.
func (e *MFARequiredError) Error() string {
	jobID, method, inputs := "", "", 0
	if e.Job != nil {
		jobID = e.Job.ID
	}
	if e.Prompt != nil {
		method, inputs = e.Prompt.Method, len(e.Prompt.Input)
	}
	return oneLine(fmt.Sprintf("basiq: job %s waits for MFA answers (method %s, %d input(s))",
		orUnknown(jobID), orUnknown(method), inputs))
}

// Is matches ErrMFARequired.
func (e *MFARequiredError) Is(target error) bool { return target == ErrMFARequired }

// unansweredPrompt returns the unfinished step of the last observed job that
// shows an MFA prompt, unless this client's Jobs.SubmitMFA answered the job
// after the poller first saw that prompt (the bank may show it for a moment
// longer while it checks the answer).
func (p *Poller) unansweredPrompt() (Step, *StepResult, bool) {
	if p.job == nil {
		return Step{}, nil, false
	}
	for _, st := range p.job.Steps {
		prompt, ok := st.MFAPrompt()
		if !ok {
			continue
		}
		seen, ok := p.promptAt[st.Title]
		if ok {
			if answered, _, ok := p.jobs.mfa.get(p.jobID); ok && !answered.Before(seen) {
				return Step{}, nil, false
			}
		}
		return st, prompt, true
	}
	return Step{}, nil, false
}

// stepReached reports whether name has succeeded (or was skipped) and no
// mfa-challenge step right after it is still unfinished: a user the bank is
// still challenging has not been released.
func stepReached(job *Job, name StepName) bool {
	for i, st := range job.Steps {
		if st.Title != name {
			continue
		}
		if st.Status != StepSuccess && st.Status != StepSkipped {
			return false
		}
		for _, next := range job.Steps[i+1:] {
			if next.Title != StepMFAChallenge {
				break
			}
			if next.Status != StepSuccess && next.Status != StepSkipped {
				return false
			}
		}
		return true
	}
	return false
}

// clonePrompt copies an MFA prompt so the caller's copy is its own.
func clonePrompt(r *StepResult) *StepResult {
	c := *r
	c.Input = append([]string(nil), r.Input...)
	return &c
}

// jobLedger remembers something per job id: when this client last answered
// a job's MFA prompt (so that pollers do not report a prompt the bank is
// still checking), or how this client started a job (so that pollers need
// not look at a job they know has only just begun). It is bounded: entries
// older than jobLedgerTTL go first when it is full.
type jobLedger[V any] struct {
	mu sync.Mutex
	m  map[string]ledgerEntry[V]
}

type ledgerEntry[V any] struct {
	at time.Time
	v  V
}

const (
	jobLedgerMax = 4096
	// jobLedgerTTL outlives any MFA prompt (Basiq's last two minutes) and the
	// first step of any job.
	jobLedgerTTL = 15 * time.Minute
)

func (l *jobLedger[V]) record(jobID string, at time.Time, v V) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.m == nil {
		l.m = make(map[string]ledgerEntry[V])
	}
	if _, ok := l.m[jobID]; !ok && len(l.m) >= jobLedgerMax {
		for id, e := range l.m {
			if at.Sub(e.at) > jobLedgerTTL {
				delete(l.m, id)
			}
		}
		for id := range l.m {
			if len(l.m) < jobLedgerMax {
				break
			}
			delete(l.m, id)
		}
	}
	l.m[jobID] = ledgerEntry[V]{at, v}
}

func (l *jobLedger[V]) get(jobID string) (time.Time, V, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e, ok := l.m[jobID]
	return e.at, e.v, ok
}
