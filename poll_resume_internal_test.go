package basiq

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestResumeTokenKeepsFollowBasiqRetries(t *testing.T) {
	c, err := NewClient("a2V5OnNlY3JldA==")
	require.NoError(t, err)
	p := c.Jobs.Poller("job-1", &PollOptions{Operation: OpUpdate, FollowBasiqRetries: true, RetryInterval: 30 * time.Minute})
	tok, err := p.ResumeToken()
	require.NoError(t, err)

	resumed, err := c.Jobs.ResumePoller(tok, nil) // another process, knowing only the token
	require.NoError(t, err)
	assert.True(t, resumed.opts.FollowBasiqRetries, "a resumed poller keeps following Basiq's 7-day retry")
	assert.Equal(t, 30*time.Minute, resumed.opts.RetryInterval)
	assert.Equal(t, basiqRetryWindow+time.Hour, resumed.opts.Timeout)

	// A service-unavailable failure of the update is then not the end.
	resumed.job = &Job{ID: "job-1", Steps: []Step{{Title: StepVerifyCredentials, Status: StepFailed,
		Result: &StepResult{Code: "service-unavailable"}}}}
	assert.False(t, resumed.Done())
}
