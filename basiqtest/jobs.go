package basiqtest

import (
	"net/http"
	"slices"
	"time"
)

// Job step titles, in the order a connection job runs them.
const (
	// StepVerifyCredentials is the first step: logging in to the bank.
	StepVerifyCredentials = "verify-credentials"
	// StepMFAChallenge follows verify-credentials when the bank asks for MFA.
	StepMFAChallenge = "mfa-challenge"
	// StepRetrieveAccounts fetches the accounts.
	StepRetrieveAccounts = "retrieve-accounts"
	// StepRetrieveTransactions fetches the transactions; the job's last step.
	StepRetrieveTransactions = "retrieve-transactions"
	// StepCreateReport is the only step of a report job (POST /reports).
	StepCreateReport = "create-report"
)

// Step statuses.
const (
	statusPending    = "pending"
	statusInProgress = "in-progress"
	statusSuccess    = "success"
	statusFailed     = "failed"
)

// Operations that start jobs.
const (
	opCreate    = "create"
	opRefresh   = "refresh"
	opUpdate    = "update"
	opStatement = "statement" // POST /users/{userId}/statements (statements.go)
	opReport    = "report"    // POST /reports (reports.go)
)

// job is a connection job. Its steps change only in advance (progress.go),
// from timestamps and the fake's clock. Whatever changes when it next
// changes by itself (cur, stepStart, answered, answeredAt, retryAt) must
// reschedule it (Server.schedule).
type job struct {
	id, userID, connID, instID string
	seq                        int
	op                         string
	version                    string      // API version of the token that started it ("3.0" for Connect)
	creds                      credentials // as when the job started
	created, updated           time.Time
	steps                      []jobStep
	cur                        int       // index of the step running or next to run
	stepStart                  time.Time // when steps[cur] started (or will start)
	challenge                  mfaChallenge
	answer                     []string
	answered                   bool
	answeredAt                 time.Time
	retryAt                    time.Time // a failed update's next Basiq retry; zero: none
	verified                   bool      // verify-credentials succeeded
	running                    bool      // in the running indexes (progress.go)
	gen                        int       // bumped at every reschedule; older queue entries are stale

	report *reportJob     // a report job (report_jobs.go); nil for connection jobs
	stmt   *statementFile // a statement upload's file (statements.go); nil otherwise
}

type jobStep struct {
	title  string
	status string
	result any // nil (null), linkResult, stepError or mfaResult
}

// linkResult is a successful step's result.
type linkResult struct {
	Type string `json:"type"`
	URL  string `json:"url"`
}

// stepError is a failed step's result.
type stepError struct {
	Code   string `json:"code"`
	Title  string `json:"title"`
	Detail string `json:"detail"`
}

// finished reports whether j will not change any more by itself: every step
// succeeded, or one failed with no Basiq retry to come.
func (j *job) finished() bool {
	return j.cur >= len(j.steps) || j.steps[j.cur].status == statusFailed && j.retryAt.IsZero()
}

func (j *job) hasStep(title string) bool {
	return slices.ContainsFunc(j.steps, func(st jobStep) bool { return st.title == title })
}

// origin is what started a job: a request with a token of some API
// version, or the Consent UI (Server.Connect).
type origin struct {
	version   string
	consentUI bool
	statement bool // an uploaded statement: a file to read, no bank to ask for MFA
}

// startJob starts a job of op on conn, held for six minutes when hold is set.
//
// When the bank asks for MFA (asksMFA) the job gets an mfa-challenge step,
// except that MFA exists only from API 2.1 (a job started with a 2.0 token
// runs as if the bank did not ask, and takes no intermittent turn), and
// that the Consent UI asks for and checks the answer itself before it hands
// the job back (a Connect job has no mfa-challenge step, though the bank
// took its turn and the connection is mfaEnabled). Open-banking
// connections never get the step: the bank's own authorisation replaces it.
func (s *Server) startJob(conn *connection, op string, now time.Time, hold bool, o origin) *job {
	j := &job{
		id: newUUID(), seq: s.st.next(), op: op, version: o.version,
		userID: conn.userID, connID: conn.id, instID: conn.instID, creds: conn.creds,
		created: now, updated: now, stepStart: now,
	}
	if hold {
		j.stepStart = now.Add(duplicateHold)
	}
	titles := []string{StepVerifyCredentials}
	if o.version != "2.0" && !conn.openBanking() && !o.statement && s.asksMFA(conn) {
		conn.mfaEnabled = true
		if !o.consentUI {
			titles = append(titles, StepMFAChallenge)
			j.challenge = tokenChallenge()
			if l := s.st.logins[conn.creds.loginID]; l != nil {
				j.challenge = l.challenge
			}
		}
	}
	titles = append(titles, StepRetrieveAccounts, StepRetrieveTransactions)
	for _, t := range titles {
		j.steps = append(j.steps, jobStep{title: t, status: statusPending})
	}
	s.st.jobs[j.id] = j
	s.enqueue(j)
	u := s.st.users[conn.userID]
	u.jobs = append(u.jobs, j.id)
	return j
}

// jobStub is what POSTs that start jobs answer.
type jobStub struct {
	Type  string   `json:"type"`
	ID    string   `json:"id"`
	Links selfLink `json:"links"`
}

func (s *Server) jobURL(id string) string { return s.URL + "/jobs/" + id }

func (s *Server) jobStub(j *job) jobStub {
	return jobStub{Type: "job", ID: j.id, Links: selfLink{Self: s.jobURL(j.id)}}
}

// jobView is the wire form of a job (GET /jobs/{jobId}, and items of GET /users/{userId}/jobs).
type jobView struct {
	Type        string          `json:"type"`
	ID          string          `json:"id"`
	Created     string          `json:"created"`
	Updated     string          `json:"updated"`
	JobType     string          `json:"jobType,omitempty"`
	Institution *institutionRef `json:"institution,omitempty"`
	Steps       []stepView      `json:"steps"`
	Links       jobLinks        `json:"links"`
}

type stepView struct {
	Title  string `json:"title"`
	Status string `json:"status"`
	Result any    `json:"result"`
}

type jobLinks struct {
	Self   string `json:"self"`
	Source string `json:"source,omitempty"`
}

// jobView renders j; list items carry the institution, 3.0 adds jobType.
func (s *Server) jobView(j *job, version string, listItem bool) jobView {
	v := jobView{
		Type: "job", ID: j.id, Created: stamp(j.created), Updated: stamp(j.updated),
		Links: jobLinks{Self: s.jobURL(j.id)},
	}
	if version == "3.0" {
		v.JobType = "connection"
		if j.report != nil {
			v.JobType = "report"
		}
	}
	if j.report != nil { // CORE3's report job examples: the report's link from the start
		for _, st := range j.steps {
			v.Steps = append(v.Steps, stepView{Title: st.title, Status: st.status, Result: st.result})
		}
		v.Links.Source = s.reportURL(j.id)
		return v
	}
	if listItem {
		ref := s.institutionRef(j.instID)
		v.Institution = &ref
	}
	for _, st := range j.steps {
		v.Steps = append(v.Steps, stepView{Title: st.title, Status: st.status, Result: st.result})
	}
	// links.source is missing while credentials are being checked (CORE3's
	// data-in-progress example) and present once that step has ended either
	// way (its data-failed example).
	if j.verified || (len(j.steps) > 0 && j.steps[0].status == "failed") {
		v.Links.Source = s.URL + "/users/" + j.userID + "/connections/" + j.connID
	}
	return v
}

// lookupJob returns the job of the path, or a 404 or 401 reply.
func (s *Server) lookupJob(c *call) (*job, reply, bool) {
	j := s.st.jobs[c.param("jobId")]
	if j == nil {
		return nil, errorReply(http.StatusNotFound, errNotFound("Requested job does not exist.")), false
	}
	if !c.tok.mayActFor(j.userID) {
		return nil, errorReply(http.StatusUnauthorized, errWrongUser()), false
	}
	return j, reply{}, true
}

// getJob serves GET /jobs/{jobId}.
func (s *Server) getJob(c *call) reply {
	j, rp, ok := s.lookupJob(c)
	if !ok {
		return rp
	}
	return jsonReply(http.StatusOK, s.jobView(j, c.version(), false))
}

// jobFields are the filterable properties of GET /users/{userId}/jobs.
func jobFields() map[string]func(*job) string {
	return map[string]func(*job) string{
		"connection.id":  func(j *job) string { return j.connID },
		"institution.id": func(j *job) string { return j.instID },
		"job.id":         func(j *job) string { return j.id },
	}
}

// listJobs serves GET /users/{userId}/jobs, newest first. On 3.0 only jobs
// younger than seven days are listed.
func (s *Server) listJobs(c *call) reply {
	u, rp, ok := s.lookupUser(c)
	if !ok {
		return rp
	}
	keep, ok := compileFilter(c.req.URL.Query().Get("filter"), jobFields())
	if !ok {
		return errorReply(http.StatusBadRequest, errBadFilter())
	}
	out := struct {
		Type  string    `json:"type"`
		Size  int       `json:"size"`
		Data  []jobView `json:"data"`
		Links selfLink  `json:"links"`
	}{Type: "list", Data: []jobView{}, Links: selfLink{Self: s.userURL(u.id) + "/jobs"}}
	for _, id := range slices.Backward(u.jobs) {
		j := s.st.jobs[id]
		if c.version() == "3.0" && !j.created.After(c.now.Add(-7*24*time.Hour)) {
			continue
		}
		if keep(j) {
			out.Data = append(out.Data, s.jobView(j, c.version(), true))
		}
	}
	out.Size = len(out.Data)
	return jsonReply(http.StatusOK, out)
}
