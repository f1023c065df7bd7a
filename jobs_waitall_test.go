package basiq

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// multiJobs serves GET /jobs/{id} for several jobs, each running one step
// for its duration from the fake's creation (on the synctest clock), then
// succeeding, or failing with fail's code.
type multiJobs struct {
	start time.Time
	dur   map[string]time.Duration
	fail  map[string]string
	gets  atomic.Int64
}

func (m *multiJobs) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Path == "/token" {
		return jsonResponse(r, 200, map[string]any{"access_token": "t", "expires_in": 3600, "token_type": "Bearer"}, nil), nil
	}
	id, ok := strings.CutPrefix(r.URL.Path, "/jobs/")
	d, known := m.dur[id]
	if !ok || !known {
		return jsonResponse(r, 404, map[string]any{"type": "list", "data": []any{map[string]any{"code": "resource-not-found", "title": "Not found"}}}, nil), nil
	}
	m.gets.Add(1)
	status, result := "in-progress", any(nil)
	if time.Since(m.start) >= d {
		status, result = "success", map[string]any{"type": "link", "url": "/users/u-1/connections/c-" + id}
		if code := m.fail[id]; code != "" {
			status, result = "failed", map[string]any{"code": code, "title": "Failed"}
		}
	}
	return jsonResponse(r, 200, map[string]any{"type": "job", "id": id,
		"steps": []any{map[string]any{"title": "verify-credentials", "status": status, "result": result}}}, nil), nil
}

func newMultiJobs() (*multiJobs, *Client) {
	m := &multiJobs{start: time.Now(),
		dur:  map[string]time.Duration{"j1": 5 * time.Second, "j2": 9 * time.Second, "j3": 12 * time.Second},
		fail: map[string]string{"j2": "invalid-credentials"}}
	c, err := NewClient("a2V5OnNlY3JldA==", WithHTTPClient(&http.Client{Transport: m}), WithRetryPolicy(RetryPolicy{MaxAttempts: 1}))
	if err != nil {
		panic(err)
	}
	c.jobs.jitter = func() float64 { return 0.5 }
	return m, c
}

func TestJobsWaitAll(t *testing.T) {
	var all, separate, shared int64
	synctest.Test(t, func(t *testing.T) {
		m, c := newMultiJobs()
		out, err := c.Jobs.WaitAll(t.Context(), []string{"j1", "j2", "j3", "nope"}, &PollOptions{Operation: OpCreate})
		require.NoError(t, err, "a job's failure is its own outcome")
		require.Len(t, out, 4)
		assert.Equal(t, []string{"j1", "j2", "j3", "nope"}, []string{out[0].JobID, out[1].JobID, out[2].JobID, out[3].JobID}, "in order")
		assert.NoError(t, out[0].Err)
		assert.Equal(t, JobSucceeded, out[0].Job.Status())
		f, failed := out[1].Failed()
		require.True(t, failed)
		assert.Equal(t, ActionCheckCredentials, f.Diagnosis.Action)
		assert.NoError(t, out[2].Err)
		assert.ErrorIs(t, out[3].Err, ErrNotFound)
		assert.Nil(t, out[3].Job)
		all = m.gets.Load() // the 404 is not counted
	})
	synctest.Test(t, func(t *testing.T) {
		m, c := newMultiJobs()
		var wg sync.WaitGroup
		for _, id := range []string{"j1", "j2", "j3"} {
			wg.Go(func() { _, _ = c.Jobs.Wait(t.Context(), id, &PollOptions{Operation: OpCreate}) })
		}
		wg.Wait()
		separate = m.gets.Load()
	})
	synctest.Test(t, func(t *testing.T) {
		m, c := newMultiJobs()
		var wg sync.WaitGroup
		wg.Go(func() {
			_, _ = c.Jobs.WaitAll(t.Context(), []string{"j1", "j2", "j3"}, &PollOptions{Operation: OpCreate})
		})
		wg.Go(func() { _, _ = c.Jobs.Wait(t.Context(), "j2", nil) }) // a Wait on the same job at the same time
		wg.Wait()
		shared = m.gets.Load()
	})
	t.Logf("GETs: WaitAll %d, three Waits %d, WaitAll beside a Wait %d", all, separate, shared)
	assert.LessOrEqual(t, all, separate, "no more GETs than separate Waits")
	assert.Equal(t, all, shared, "a concurrent Wait on the same job shares the loop")
}

func TestJobsWaitAllContextEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, c := newMultiJobs()
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		out, err := c.Jobs.WaitAll(ctx, []string{"j1", "j2", "j3"}, nil)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		require.Len(t, out, 3)
		assert.NoError(t, out[0].Err, "j1 ended in time")
		assert.ErrorIs(t, out[2].Err, context.DeadlineExceeded, "j3 did not")
		synctest.Wait()
	})
}

// A job that timed out, or that PollOptions.UserID refused, is not a
// success: its outcome has an error, Succeeded is false, and it is not
// "failed" either (issue: "timed-out and refused jobs are read as
// successes").
func TestTimedOutOrRefusedJobIsNeverReadAsASuccess(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, c := newMultiJobs()
		outs, err := c.Jobs.WaitAll(t.Context(), []string{"j1", "j3"}, &PollOptions{Timeout: 8 * time.Second})
		require.NoError(t, err)
		assert.True(t, outs[0].Succeeded(), "j1 ends in 5 s: %v", outs[0].Err)
		assert.False(t, outs[1].Succeeded(), "j3 needs 12 s: timed out")
		assert.ErrorIs(t, outs[1].Err, ErrPollTimeout)
		_, failed := outs[1].Failed()
		assert.False(t, failed, "a timeout is not a failure with a Diagnosis")

		_, c = newMultiJobs()
		outs, err = c.Jobs.WaitAll(t.Context(), []string{"j1"}, &PollOptions{UserID: "u-2"})
		require.NoError(t, err)
		assert.False(t, outs[0].Succeeded(), "j1 is user u-1's")
		assert.ErrorIs(t, outs[0].Err, ErrInvalidInput)

		ctx, cancel := context.WithCancel(t.Context())
		_, c = newMultiJobs()
		time.AfterFunc(time.Second, cancel)
		outs, err = c.Jobs.WaitAll(ctx, []string{"j1"}, nil)
		assert.ErrorIs(t, err, context.Canceled)
		assert.False(t, outs[0].Succeeded(), "cancelled")
		assert.False(t, JobOutcome{JobID: "x"}.Succeeded(), "the zero outcome")
		assert.False(t, JobOutcome{JobID: "x", Job: &Job{ID: "x"}}.Succeeded(), "no error, but no finished job")
	})
}

func TestReportJobsGoThroughWaitAndWaitAll(t *testing.T) {
	success, failure, running := v3ExampleCore(t, "Report-success"), v3ExampleCore(t, "Report-failed"), v3ExampleCore(t, "Report-in-progress")
	synctest.Test(t, func(t *testing.T) {
		rj := &reportJobs{start: time.Now(), success: success, failure: failure, inProgress: running}
		c, err := NewClient(coreAPIKey, WithHTTPClient(&http.Client{Transport: rj}), WithRetryPolicy(RetryPolicy{MaxAttempts: 1}))
		require.NoError(t, err)
		c.jobs.jitter = func() float64 { return 0.5 }

		job, err := c.Jobs.Wait(t.Context(), "b1824ad0-73f1-0138-3700-0a58a9feac09", nil)
		require.NoError(t, err)
		assert.Equal(t, JobSucceeded, job.Status())
		assert.Equal(t, "b1824ad0-73f1-0138-3700-0a58a9feac09", job.ReportID())
		assert.GreaterOrEqual(t, time.Since(rj.start), 20*time.Second)

		out, err := c.Jobs.WaitAll(t.Context(), []string{"failing"}, nil)
		require.NoError(t, err)
		f, failed := out[0].Failed()
		require.True(t, failed)
		assert.Equal(t, StepCreateReport, f.Step.Title)
		assert.Equal(t, ActionRetry, f.Diagnosis.Action, "a report that failed without a reason is created again")
		assert.Contains(t, f.Diagnosis.UserMessage, "report")

		_, err = c.Jobs.Wait(t.Context(), "failing", nil)
		var jf *JobFailedError
		require.ErrorAs(t, err, &jf)
		assert.Equal(t, ActionRetry, jf.Diagnosis.Action)

		rj.mu.Lock()
		defer rj.mu.Unlock()
		for _, p := range rj.paths {
			assert.True(t, strings.HasPrefix(p, "/jobs/"), "a report job needs no institution nor connection: %s", p)
		}
	})
}
