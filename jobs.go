package basiq

import (
	"context"
	"net/http"
	"time"
)

// JobsService reads jobs, answers MFA challenges and polls jobs.
type JobsService struct {
	c        *Client
	waits    waitLoops            // concurrent Waits on one job share a poll loop
	mfa      jobLedger[struct{}]  // when this client last answered each job's MFA prompt
	started  jobLedger[jobOrigin] // the jobs this client started (not reused ones), and when
	learned  stepLearner          // step durations observed by this client's pollers
	connInst connInstitutions     // institution of each connection pollers looked up
	jitter   func() float64       // the pollers' jitter source; nil for math/rand
}

func newJobsService(c *Client) *JobsService {
	return &JobsService{c: c}
}

// JobFilter narrows Jobs.List.
type JobFilter struct {
	ConnectionID string // only jobs of this connection
	// Where adds statements beyond ConnectionID, ANDed with it. Basiq
	// documents connection.id (eq, and ne as its filter grammar allows).
	Where []Condition
}

// Get returns a job with its steps (GET /jobs/{jobId}).
func (s *JobsService) Get(ctx context.Context, jobID string) (*Job, error) {
	var job Job
	_, err := s.client().do(ctx, apiRequest{method: http.MethodGet, route: "/jobs/{jobId}", params: []string{jobID}}, &job)
	if err != nil {
		return nil, err
	}
	return &job, nil
}

// List returns a user's jobs, newest first as the API orders them
// (GET /users/{userId}/jobs). On API version 3.0 only jobs from the last 7
// days are returned. filter may be nil.
func (s *JobsService) List(ctx context.Context, userID string, filter *JobFilter) ([]Job, error) {
	var statements []string
	if filter != nil {
		if filter.ConnectionID != "" {
			s, err := filterExpr("connection.id", []string{filter.ConnectionID})
			if err != nil {
				return nil, err
			}
			statements = append(statements, s)
		}
		more, err := conditions("JobFilter", jobVocab, filter.Where)
		if err != nil {
			return nil, err
		}
		statements = append(statements, more...)
	}
	var list listOf[Job]
	_, err := s.client().do(ctx, apiRequest{method: http.MethodGet, route: "/users/{userId}/jobs", params: []string{userID}, query: filterQuery(statements...)}, &list)
	if err != nil {
		return nil, err
	}
	return list.Data, nil
}

// SubmitMFA answers a job's MFA challenge (POST /jobs/{jobId}/mfa) with one
// answer per prompt input. It uses the user's CLIENT_ACCESS token, as the API
// requires. The answers are never logged. Pollers of this client then treat
// the prompt as answered (Poller.WaitForStep waits for the bank's verdict
// instead of reporting the prompt again).
func (s *JobsService) SubmitMFA(ctx context.Context, userID, jobID string, answers []string) (*Job, error) {
	if err := validateID("userId", userID); err != nil {
		return nil, err
	}
	if len(answers) == 0 {
		return nil, invalidInput("no MFA answers")
	}
	var job Job
	_, err := s.client().do(ctx, apiRequest{
		method: http.MethodPost, route: "/jobs/{jobId}/mfa", params: []string{jobID},
		body: mfaBody{Response: answers}, auth: authClient, userID: userID,
	}, &job)
	if err != nil {
		return nil, err
	}
	s.mfa.record(jobID, time.Now(), struct{}{})
	return &job, nil
}

type mfaBody struct {
	Response []string `json:"mfa-response"`
}
