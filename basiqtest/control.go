package basiqtest

import (
	"errors"
	"strings"
)

// Outcome forces how jobs for a login end. The zero Outcome means success.
type Outcome struct {
	// Step is the step title that fails, e.g. StepRetrieveAccounts. Empty
	// means the login's WithFailureStep, else verify-credentials; a step the
	// job does not have (mfa-challenge on a bank without MFA) also means
	// verify-credentials.
	Step string
	// Code is the failed step's result.code, e.g. "invalid-credentials",
	// "service-unavailable". Empty means success.
	Code string
	// Title and Detail are the failed step's result title and detail;
	// empty ones get Basiq's usual text for Code.
	Title  string
	Detail string
}

// SetLoginOutcome forces every job step of loginID that ends from now on,
// including steps of jobs already running, to follow o: fail with o.Code at
// o.Step, or, with the zero Outcome, succeed (this also clears the failures of
// the sandbox's bighead, erlich and jianYang). Credentials are still checked
// first: a wrong password fails verify-credentials whatever o says.
//
// To simulate "the user changed their bank password", use SetLoginPassword
// instead: jobs using the old password then fail with invalid-credentials
// until the connection's credentials are updated.
func (s *Server) SetLoginOutcome(loginID string, o Outcome) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance(s.cfg.now())
	if o.Code == "" {
		delete(s.st.outcomes, loginID)
		return
	}
	if o.Step == "" {
		o.Step = s.cfg.failureSteps[loginID]
	}
	s.st.outcomes[loginID] = o.withDefaults()
}

// SetLoginPassword sets the password the fake banks accept for loginID,
// adding the login if the sandbox does not have it (every institution knows
// every login). Jobs verify credentials when verify-credentials ends, so a
// running job that carries the old password fails.
func (s *Server) SetLoginPassword(loginID, password string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance(s.cfg.now())
	if l := s.st.logins[loginID]; l != nil {
		l.password = password
		return
	}
	s.st.logins[loginID] = &login{id: loginID, password: password, challenge: tokenChallenge(),
		profile: profile{last: loginID}}
}

// Connect creates a connection for userID as if the end user had finished
// Basiq's Consent UI with these bank credentials, and returns the id of its
// job (what the Consent UI hands back in ?jobIds=). It is the short form of
// CompleteConsent's default flow with one login: the user's active consent
// is reused, or one is made, and on an open-banking institution the
// connection is an open-banking one. This is how tests on API version 3.0
// get connections, since 3.0 has no credential POST. The job runs like one
// started by POST /users/{userId}/connections, except for MFA: the real
// Consent UI asks the end user for the bank's MFA answer and checks it
// before it hands back the job ids, so a Connect job has no mfa-challenge
// step even on a bank that asks (the connection still reports mfaEnabled,
// and on a user-mfa-intermittent bank the job counts as one that asked).
// Later refreshes of a web connection do get the step, answered with POST
// /jobs/{jobId}/mfa, as with Basiq.
func (s *Server) Connect(userID, institutionID, loginID, password string) (jobID string, err error) {
	if strings.TrimSpace(loginID) == "" || password == "" {
		return "", errors.New("basiqtest: Connect needs a login id and a password")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.cfg.now()
	s.advance(now)
	u := s.st.users[userID]
	if u == nil {
		return "", errors.New("basiqtest: unknown user " + userID)
	}
	inst := s.st.instByID[institutionID]
	if inst == nil {
		return "", errors.New("basiqtest: unknown institution " + institutionID)
	}
	plans, err := s.planLogins(u, inst, []ConsentLogin{{LoginID: loginID, Password: password}}, false)
	if err != nil {
		return "", err
	}
	c := s.activeConsent(u, now)
	if c == nil {
		c = s.newConsent(u, now)
	}
	return s.consentConnect(u, c, plans[0], now).id, nil
}
