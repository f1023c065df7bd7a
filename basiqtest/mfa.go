package basiqtest

import (
	"net/http"
	"slices"
	"strings"
	"time"
)

// MFA: institutions with authorization "user-mfa" challenge every job,
// "user-mfa-intermittent" ones every other job of a connection. The
// mfa-challenge step shows its prompt while in progress and waits for POST
// /jobs/{jobId}/mfa; the answer is checked against the login's challenge
// (sandbox.go). Jobs started with a 2.0 token or by Connect have no
// mfa-challenge step (startJob).

const (
	mfaExpiry     = 120 * time.Second       // an MFA prompt's life (expiryMs); not time-scaled
	mfaProcessing = 1500 * time.Millisecond // checking an answer, before time scaling
)

// mfaResult is the MFA prompt of an mfa-challenge step.
type mfaResult struct {
	Type        string   `json:"type"`
	Method      string   `json:"method"`
	Description string   `json:"description"`
	Input       []string `json:"input"`
	ExpiryMs    int      `json:"expiryMs"`
	Links       struct {
		Response string `json:"response"`
	} `json:"links"`
}

// asksMFA decides whether the connection's institution challenges its next
// job: always for user-mfa; for user-mfa-intermittent every other job of
// the connection, starting with its first, so that connections (and tests
// running in parallel) do not depend on one another; never otherwise.
func (s *Server) asksMFA(conn *connection) bool {
	switch s.st.instByID[conn.instID].Authorization {
	case "user-mfa":
		return true
	case "user-mfa-intermittent":
		turn := conn.mfaTurns
		conn.mfaTurns++
		return turn%2 == 0
	}
	return false
}

// awaitingMFA reports whether j shows an MFA prompt not yet answered.
func (j *job) awaitingMFA() bool {
	return j.cur < len(j.steps) && j.steps[j.cur].title == StepMFAChallenge &&
		j.steps[j.cur].status == statusInProgress && !j.answered
}

// mfaPrompt is the in-progress result of j's mfa-challenge step.
func (s *Server) mfaPrompt(j *job) mfaResult {
	r := mfaResult{
		Type: "mfa", Method: j.challenge.method, Description: j.challenge.description,
		Input: slices.Clone(j.challenge.input), ExpiryMs: int(mfaExpiry / time.Millisecond),
	}
	r.Links.Response = s.jobURL(j.id) + "/mfa"
	return r
}

// postMFA serves POST /jobs/{jobId}/mfa (CLIENT_ACCESS, 2.1 and 3.0).
func (s *Server) postMFA(c *call) reply {
	j, rp, ok := s.lookupJob(c)
	if !ok {
		return rp
	}
	var in struct {
		Response []string `json:"mfa-response"`
	}
	if rp, ok := decodeJSON(c, &in, "Posted MFA response is not in valid format."); !ok {
		return rp
	}
	if len(in.Response) == 0 {
		return errorReply(http.StatusBadRequest, errNotSupplied("MFA response is required.", "mfa-response", "mfa-response"))
	}
	if !j.awaitingMFA() {
		return errorReply(http.StatusBadRequest, errNotValid("Job is not waiting for an MFA response.", "mfa-response", "mfa-response"))
	}
	j.answer = make([]string, len(in.Response))
	for i, a := range in.Response {
		j.answer[i] = strings.TrimSpace(a)
	}
	j.answered, j.answeredAt = true, c.now
	s.schedule(j)
	return jsonReply(http.StatusAccepted, s.jobStub(j))
}

// mfaFailure is how an mfa-challenge step ends when it ends: failed if
// unanswered (it expired) or answered wrongly, else nil.
func mfaFailure(j *job) *stepError {
	const title = "Cannot login to target institution, check credentials."
	if !j.answered {
		return &stepError{"invalid-credentials", title, "The MFA challenge expired: no response was received within 120 seconds."}
	}
	if !slices.Equal(j.answer, j.challenge.answers) {
		return &stepError{"invalid-credentials", title, "The MFA response was not correct. Please try again."}
	}
	return nil
}
