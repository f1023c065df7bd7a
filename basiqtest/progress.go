package basiqtest

import (
	"container/heap"
	"slices"
	"strings"
	"time"
)

// Job progress is computed lazily: nothing runs in the background. Before
// every request and control call the fake replays, in time order, every job
// transition due by its clock (advance), so jobs move with time.Now inside a
// synctest bubble or with a test's own clock, and changes such as
// SetLoginOutcome take effect from the moment they are made.
//
// Jobs that may still change wait in a min-heap keyed by (time of their next
// change, creation order), so a request costs O(log n) in the number of
// running jobs, and replaying m transitions O(m log n). A job's next change
// depends only on the job itself (its step, its MFA answer, its retry), so
// whatever changes one of those reschedules the job (schedule); the entry
// queued before then goes stale and is skipped when it comes up.

// Basiq's fixed delays; the time scale does not apply to them.
const (
	duplicateHold = 6 * time.Minute    // a second connection with credentials in use waits this long
	retryEvery    = 2 * time.Hour      // Basiq's retry of an update that hit service-unavailable…
	retryWindow   = 7 * 24 * time.Hour // …for this long after the job started
)

// queued is a job's next change in the queue: stale once the job's gen has
// moved on.
type queued struct {
	at  time.Time
	seq int
	gen int
	j   *job
}

// jobQueue is a container/heap of queued changes, earliest first, ties in
// job creation order.
type jobQueue []queued

func (q jobQueue) Len() int { return len(q) }

func (q jobQueue) Less(a, b int) bool {
	if !q[a].at.Equal(q[b].at) {
		return q[a].at.Before(q[b].at)
	}
	return q[a].seq < q[b].seq
}

func (q jobQueue) Swap(a, b int) { q[a], q[b] = q[b], q[a] }

func (q *jobQueue) Push(x any) { *q = append(*q, x.(queued)) }

func (q *jobQueue) Pop() any {
	old := *q
	n := len(old) - 1
	e := old[n]
	old[n] = queued{}
	*q = old[:n]
	return e
}

// advance applies every job transition and fires every consent timer
// (consent_clock.go) due at or before now, earliest first (ties: job
// transitions first, in job creation order), so that effects on shared
// state (connection status) happen, and their events are recorded, in the
// order they would have.
func (s *Server) advance(now time.Time) {
	for {
		at, ok := s.nextConsentTimer()
		if !ok || at.After(now) {
			s.advanceJobs(now)
			return
		}
		s.advanceJobs(at)
		s.fireConsentTimer()
	}
}

// advanceJobs applies every job transition due at or before now, earliest
// first, ties in job creation order.
func (s *Server) advanceJobs(now time.Time) {
	q := &s.st.queue
	for q.Len() > 0 {
		s.st.work++
		e := (*q)[0]
		if e.gen != e.j.gen {
			heap.Pop(q)
			continue
		}
		if e.at.After(now) {
			return
		}
		heap.Pop(q)
		s.transition(e.j, e.at)
		s.schedule(e.j)
	}
}

// enqueue adds a new job to the running indexes and queues its first change.
func (s *Server) enqueue(j *job) {
	j.running = true
	if j.report != nil { // no connection, no login
		s.schedule(j)
		return
	}
	s.st.byConn[j.connID] = append(s.st.byConn[j.connID], j)
	s.st.byLogin[instLogin{j.instID, j.creds.loginID}]++
	s.schedule(j)
}

// schedule queues j's next change, making any entry queued for it before
// stale. A job that will not change any more leaves the running indexes.
func (s *Server) schedule(j *job) {
	j.gen++
	if t, ok := s.nextEvent(j); ok {
		heap.Push(&s.st.queue, queued{at: t, seq: j.seq, gen: j.gen, j: j})
		s.wake() // the background deliverer may want to look then (webhook_delivery.go)
		return
	}
	s.retire(j)
}

// retire takes j out of the running indexes and drops its queued change:
// it finished, or its user was deleted.
func (s *Server) retire(j *job) {
	j.gen++
	if !j.running {
		return
	}
	j.running = false
	if j.report != nil {
		return
	}
	if js := slices.DeleteFunc(s.st.byConn[j.connID], func(o *job) bool { return o == j }); len(js) > 0 {
		s.st.byConn[j.connID] = js
	} else {
		delete(s.st.byConn, j.connID)
	}
	k := instLogin{j.instID, j.creds.loginID}
	if s.st.byLogin[k]--; s.st.byLogin[k] <= 0 {
		delete(s.st.byLogin, k)
	}
}

// nextEvent returns when j next changes by itself, if it will.
func (s *Server) nextEvent(j *job) (time.Time, bool) {
	if j.cur >= len(j.steps) {
		return time.Time{}, false
	}
	st := j.steps[j.cur]
	switch st.status {
	case statusPending:
		return j.stepStart, true
	case statusInProgress:
		if st.title != StepMFAChallenge {
			return j.stepStart.Add(s.stepDuration(j.instID, st.title)), true
		}
		if j.answered {
			return j.answeredAt.Add(s.scaled(mfaProcessing)), true
		}
		return j.stepStart.Add(mfaExpiry), true
	case statusFailed:
		if !j.retryAt.IsZero() {
			return j.retryAt, true
		}
	}
	return time.Time{}, false
}

// transition applies j's next change, due at at.
func (s *Server) transition(j *job, at time.Time) {
	st := &j.steps[j.cur]
	j.updated = at
	switch st.status {
	case statusPending, statusFailed: // start, or Basiq's retry of a failed step
		st.status, st.result = statusInProgress, nil
		j.stepStart, j.retryAt = at, time.Time{}
		if st.title == StepMFAChallenge {
			st.result = s.mfaPrompt(j)
			j.answered, j.answer = false, nil
		}
	case statusInProgress:
		if j.report != nil {
			s.endReportStep(j, st, at)
			return
		}
		if e := s.stepFailure(j, st.title); e != nil {
			st.status, st.result = statusFailed, *e
			s.failed(j, e.Code, at)
			return
		}
		st.status = statusSuccess
		s.succeeded(j, st, at)
		j.cur++
		j.stepStart = at
		if j.cur == len(j.steps) {
			if conn := s.st.conns[j.connID]; conn != nil {
				conn.lastUsed = at
				s.connEvent(at, "updated", conn)
			}
		}
	}
}

// succeeded records a step's success: its result and its effect on the
// connection.
func (s *Server) succeeded(j *job, st *jobStep, at time.Time) {
	conn := s.st.conns[j.connID]
	userPath := "/users/" + j.userID
	filter := "?filter=institution.id.eq('" + j.instID + "')"
	switch st.title {
	case StepVerifyCredentials:
		st.result = linkResult{Type: "link", URL: userPath + "/connections/" + j.connID}
		j.verified = true
		if conn != nil {
			conn.invalidBy = ""
			p := profile{last: j.creds.loginID}
			if j.stmt != nil {
				p = profile{} // a statement names no holder the fake reads
			}
			if l := s.st.logins[j.creds.loginID]; l != nil {
				p = l.profile
			}
			conn.profile = profileOf(p)
			s.setConnStatus(conn, connActive, at)
		}
	case StepMFAChallenge:
		// The prompt stays as the result, as Basiq shows it.
	case StepRetrieveAccounts:
		st.result = linkResult{Type: "link", URL: userPath + "/accounts" + filter}
		if conn != nil {
			if conn.accounts == nil && conn.stmt != nil {
				conn.accounts = conn.stmt.accounts(s.st.instByID[j.instID], conn.seq)
			}
			if conn.accounts == nil {
				conn.accounts = newAccounts(s.st.instByID[j.instID], conn.seq)
				if conn.profile != nil {
					for i := range conn.accounts {
						conn.accounts[i].holder = strings.ToUpper(conn.profile.FullName)
					}
				}
			}
			for i := range conn.accounts {
				conn.accounts[i].lastUpdated = at
			}
		}
	default:
		st.result = linkResult{Type: "link", URL: userPath + "/transactions" + filter}
		if conn != nil && st.title == StepRetrieveTransactions {
			conn.txAsOf = at
			conn.txRetrievals = append(conn.txRetrievals, at) // a new generation (transactions_evolve.go)
			conn.purged = false                               // the transactions are back (purge.go)
			s.transactionsEvent(at, conn)
		}
	}
}

// failed records a step's failure: the connection turns invalid when the
// user must act, and an update that hit service-unavailable is retried every
// two hours for up to seven days.
func (s *Server) failed(j *job, code string, at time.Time) {
	if conn := s.st.conns[j.connID]; conn != nil && j.stmt != nil { // the file could not be read
		conn.invalidBy = code
		s.setConnStatus(conn, connInvalid, at)
		return
	}
	switch code {
	case "invalid-credentials", "account-not-accessible-requires-user-action", "user-action-required":
		if conn := s.st.conns[j.connID]; conn != nil {
			conn.invalidBy = code
			s.setConnStatus(conn, connInvalid, at)
		}
	case "service-unavailable":
		if next := at.Add(retryEvery); j.op == opUpdate && !next.After(j.created.Add(retryWindow)) {
			j.retryAt = next
		}
	}
}

// stepFailure decides, as the step ends, whether it fails: wrong
// credentials, an unanswered or wrongly answered MFA prompt, or the
// login's forced outcome.
func (s *Server) stepFailure(j *job, title string) *stepError {
	if j.stmt != nil {
		return j.stmt.failure(title)
	}
	switch title {
	case StepVerifyCredentials:
		if l := s.st.logins[j.creds.loginID]; l == nil || l.password != j.creds.password {
			o := outcomeFor(title, "invalid-credentials", "")
			return &stepError{o.Code, o.Title, o.Detail}
		}
	case StepMFAChallenge:
		if e := mfaFailure(j); e != nil {
			return e
		}
	}
	if o := s.st.outcomes[j.creds.loginID]; o.Code != "" && s.failureStep(j, o) == title {
		return &stepError{o.Code, o.Title, o.Detail}
	}
	return nil
}

// failureStep is the step a forced outcome fails j on: the outcome's step,
// verify-credentials when it names none or one j does not have.
func (s *Server) failureStep(j *job, o Outcome) string {
	if o.Step == "" || !j.hasStep(o.Step) {
		return StepVerifyCredentials
	}
	return o.Step
}

// stepDuration is how long a step takes at an institution: its
// stats.averageDurationMs (Hooli's when it has none), times the time scale.
func (s *Server) stepDuration(instID, title string) time.Duration {
	d := hooliStats()
	if inst := s.st.instByID[instID]; inst != nil && inst.Stats != nil {
		d = *inst.Stats
	}
	ms := 1000
	switch title {
	case StepVerifyCredentials:
		ms = d.VerifyCredentials
	case StepRetrieveAccounts:
		ms = d.RetrieveAccounts
	case StepRetrieveTransactions:
		ms = d.RetrieveTransactions
	case StepCreateReport:
		ms = reportMillis
	}
	return s.scaled(time.Duration(ms) * time.Millisecond)
}

func (s *Server) scaled(d time.Duration) time.Duration {
	return time.Duration(float64(d) * s.cfg.timeScale)
}
