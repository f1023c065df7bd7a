package basiqtest

import "time"

// JobState is a snapshot of a job inside the fake, for assertions and for
// tests that drive a fake clock.
type JobState struct {
	ID            string
	UserID        string
	ConnectionID  string
	InstitutionID string
	// Operation is what started the job: "create", "refresh", "update",
	// "statement" (an uploaded statement) or "report" (POST /reports).
	Operation string
	Created   time.Time
	Updated   time.Time
	Steps     []StepState
	// Done reports that the job will not change any more: every step
	// succeeded, or one failed with no Basiq retry to come.
	Done bool
	// NextChange is when the job next changes by the clock (a step starting
	// or ending, an MFA prompt expiring, Basiq's next retry); zero when Done.
	NextChange time.Time
}

// StepState is one step of a JobState.
type StepState struct {
	Title  string
	Status string
	// Code and Detail are the failure's result.code and detail, if failed.
	Code   string
	Detail string
}

// Job returns a snapshot of the job with that id, brought up to date with
// the fake's clock.
func (s *Server) Job(id string) (JobState, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance(s.cfg.now())
	j := s.st.jobs[id]
	if j == nil {
		return JobState{}, false
	}
	js := JobState{
		ID: j.id, UserID: j.userID, ConnectionID: j.connID, InstitutionID: j.instID,
		Operation: j.op, Created: j.created, Updated: j.updated, Done: j.finished(),
	}
	if t, ok := s.nextEvent(j); ok {
		js.NextChange = t
	}
	for _, st := range j.steps {
		ss := StepState{Title: st.title, Status: st.status}
		if e, ok := st.result.(stepError); ok {
			ss.Code, ss.Detail = e.Code, e.Detail
		}
		js.Steps = append(js.Steps, ss)
	}
	return js, true
}
