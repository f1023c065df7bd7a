package basiq

import (
	"context"
	"crypto/x509"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type seenEvent struct {
	step StepName
	prev StepStatus
	now  StepStatus
	at   time.Duration
}

func collect(t *testing.T, ctx context.Context, p *Poller, start time.Time, onEvent func(StepEvent)) []seenEvent {
	t.Helper()
	var out []seenEvent
	for ev, err := range p.Steps(ctx) {
		require.NoError(t, err)
		out = append(out, seenEvent{ev.Step.Title, ev.Previous, ev.Step.Status, time.Since(start)})
		if onEvent != nil {
			onEvent(ev)
		}
	}
	return out
}

func TestPollerStepsThreeSteps(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newJobFake(hooliSteps())
		c := f.client()
		start := time.Now()
		p := c.Jobs.Poller(fakeJobID, &PollOptions{Operation: OpCreate, InstitutionID: fakeInstID})
		got := collect(t, t.Context(), p, start, nil)
		want := []seenEvent{
			{StepVerifyCredentials, "", StepInProgress, 0},
			{StepVerifyCredentials, StepInProgress, StepSuccess, 0},
			{StepRetrieveAccounts, StepPending, StepInProgress, 0},
			{StepRetrieveAccounts, StepInProgress, StepSuccess, 0},
			{StepRetrieveTransactions, StepPending, StepInProgress, 0},
			{StepRetrieveTransactions, StepInProgress, StepSuccess, 0},
		}
		require.Len(t, got, len(want))
		for i := range want {
			assert.Equal(t, want[i].step, got[i].step, "event %d", i)
			assert.Equal(t, want[i].prev, got[i].prev, "event %d", i)
			assert.Equal(t, want[i].now, got[i].now, "event %d", i)
		}
		// Each completion is noticed within a second of happening.
		ends := f.ends(time.Now())
		assert.InDelta(t, ends[0].Sub(start).Seconds(), got[1].at.Seconds(), 1.0)
		assert.InDelta(t, ends[1].Sub(start).Seconds(), got[3].at.Seconds(), 1.0)
		assert.InDelta(t, ends[2].Sub(start).Seconds(), got[5].at.Seconds(), 1.0)
		assert.True(t, p.Done())
		assert.Equal(t, JobSucceeded, p.Job().Status())
		assert.LessOrEqual(t, f.gets(), 5, "polls guided by step averages")
	})
}

func TestPollerStepsWithMFA(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		steps := hooliSteps()
		steps = append(steps[:1], append([]fakeStep{{name: StepMFAChallenge, dur: time.Second, mfa: true}}, steps[1:]...)...)
		f := newJobFake(steps)
		c := f.client()
		p := c.Jobs.Poller(fakeJobID, &PollOptions{Operation: OpCreate, InstitutionID: fakeInstID})
		var prompts int
		got := collect(t, t.Context(), p, time.Now(), func(ev StepEvent) {
			if ev.Step.Title == StepMFAChallenge && ev.Step.Status == StepInProgress {
				require.NotNil(t, ev.Diagnosis)
				assert.Equal(t, ActionAnswerMFA, ev.Diagnosis.Action)
				require.True(t, ev.Step.Result.IsMFA())
				assert.Equal(t, []string{"OTP Password"}, ev.Step.Result.Input)
				prompts++
				time.Sleep(3 * time.Second) // the user types the code
				_, err := c.Jobs.SubmitMFA(t.Context(), fakeUserID, fakeJobID, []string{"1234"})
				require.NoError(t, err)
			}
		})
		assert.Equal(t, 1, prompts)
		var titles []StepName
		for _, e := range got {
			if e.now == StepSuccess {
				titles = append(titles, e.step)
			}
		}
		assert.Equal(t, []StepName{StepVerifyCredentials, StepMFAChallenge, StepRetrieveAccounts, StepRetrieveTransactions}, titles)
		assert.Equal(t, JobSucceeded, p.Job().Status())
	})
}

func TestPollerWaitForStepThenWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newJobFake(hooliSteps())
		c := f.client()
		start := time.Now()
		p := c.Jobs.Poller(fakeJobID, &PollOptions{Operation: OpCreate, InstitutionID: fakeInstID})
		job, err := p.WaitForStep(t.Context(), StepVerifyCredentials)
		require.NoError(t, err)
		assert.Equal(t, JobRunning, job.Status(), "released before the job ends")
		assert.Less(t, time.Since(start), 10*time.Second)
		assert.Equal(t, fakeConnID, job.ConnectionID())
		assert.False(t, p.Done())

		job, err = p.Wait(t.Context())
		require.NoError(t, err)
		assert.Equal(t, JobSucceeded, job.Status())
		assert.GreaterOrEqual(t, time.Since(start), 19*time.Second)
	})
}

func TestPollerFailureAtEachStep(t *testing.T) {
	cases := []struct {
		failAt int
		code   string
		status InstitutionStatus
		op     Operation
		action Action
	}{
		{0, "invalid-credentials", StatusOperational, OpCreate, ActionCheckCredentials},
		{0, "invalid-credentials", StatusOperational, OpRefresh, ActionUpdateCredentials},
		{1, "account-not-accessible-requires-user-action", StatusOperational, OpCreate, ActionResolveAtBank},
		{2, "service-unavailable", StatusMajorOutage, OpRefresh, ActionWaitForInstitution},
		{2, "service-unavailable", StatusOperational, OpRefresh, ActionRetryLater},
		{2, "service-unavailable", StatusOperational, OpUpdate, ActionWaitForBasiqRetry},
	}
	for _, tc := range cases {
		t.Run(tc.code+"/"+string(tc.op)+"/"+string(tc.status), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				steps := hooliSteps()
				steps[tc.failAt].fail = tc.code
				f := newJobFake(steps)
				f.status = tc.status
				c := f.client()
				job, err := c.Jobs.Poller(fakeJobID, &PollOptions{Operation: tc.op}).Wait(t.Context())
				var jfe *JobFailedError
				require.ErrorAs(t, err, &jfe)
				assert.Equal(t, job, jfe.Job)
				assert.Equal(t, steps[tc.failAt].name, jfe.Step.Title)
				assert.Equal(t, tc.code, jfe.Diagnosis.Code)
				assert.Equal(t, tc.action, jfe.Diagnosis.Action)
				assert.Equal(t, fakeUserID, jfe.Diagnosis.UserID)
				assert.Equal(t, fakeConnID, jfe.Diagnosis.ConnectionID)
				assert.Equal(t, fakeJobID, jfe.Diagnosis.JobID)
				if tc.code == "service-unavailable" && tc.op != OpUpdate {
					assert.Equal(t, 1, f.instGets, "institution status consulted once")
				}
			})
		})
	}
}

func TestPollerSurvivesTransientErrors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newJobFake(hooliSteps())
		f.faults[2] = fakeFault{status: 503}
		f.faults[3] = fakeFault{status: 429, retryAfter: "7"}
		c := f.client()
		job, err := c.Jobs.Poller(fakeJobID, &PollOptions{Operation: OpCreate, InstitutionID: fakeInstID}).Wait(t.Context())
		require.NoError(t, err)
		assert.Equal(t, JobSucceeded, job.Status())
		f.mu.Lock()
		defer f.mu.Unlock()
		require.GreaterOrEqual(t, len(f.jobGets), 4)
		assert.GreaterOrEqual(t, f.jobGets[3].Sub(f.jobGets[2]), 7*time.Second, "Retry-After honoured")
	})
}

func TestPollerCancelAndResume(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newJobFake(hooliSteps())
		c := f.client()
		p := c.Jobs.Poller(fakeJobID, &PollOptions{Operation: OpRefresh, InstitutionID: fakeInstID})
		ctx, cancel := context.WithCancel(t.Context())
		var before []seenEvent
		start := time.Now()
		go func() {
			time.Sleep(10 * time.Second)
			cancel()
		}()
		var stopErr error
		for ev, err := range p.Steps(ctx) {
			if err != nil {
				stopErr = err
				break
			}
			before = append(before, seenEvent{ev.Step.Title, ev.Previous, ev.Step.Status, 0})
		}
		assert.ErrorIs(t, stopErr, context.Canceled)
		assert.Equal(t, 10*time.Second, time.Since(start), "returns as soon as cancelled")
		tok, err := p.ResumeToken()
		require.NoError(t, err)
		assert.NotContains(t, tok, "a2V5OnNlY3JldA==")

		p2, err := c.Jobs.ResumePoller(tok, nil)
		require.NoError(t, err)
		assert.Equal(t, OpRefresh, p2.opts.Operation)
		var after []seenEvent
		for ev, err := range p2.Steps(t.Context()) {
			require.NoError(t, err)
			after = append(after, seenEvent{ev.Step.Title, ev.Previous, ev.Step.Status, 0})
		}
		all := append(before, after...)
		require.Len(t, all, 6, "every change reported exactly once across the two pollers: %v", all)
		assert.Equal(t, seenEvent{StepRetrieveTransactions, StepInProgress, StepSuccess, 0}, all[5])
		for _, e := range after {
			assert.NotEqual(t, StepVerifyCredentials, e.step, "nothing reported twice")
		}
	})
}

func TestResumeTokenValidation(t *testing.T) {
	c := newJobFake(hooliSteps()).client()
	p := c.Jobs.Poller("job-9", &PollOptions{Operation: OpUpdate, Attempt: 2})
	tok, err := p.ResumeToken()
	require.NoError(t, err)
	p2, err := c.Jobs.ResumePoller(tok, nil)
	require.NoError(t, err)
	assert.Equal(t, "job-9", p2.JobID())
	assert.Equal(t, 2, p2.opts.Attempt)

	for name, bad := range map[string]string{
		"empty":     "",
		"foreign":   "eyJhbGciOiJIUzI1NiJ9.e30.x",
		"truncated": tok[:len(tok)-3],
		"garbled":   tok[:12] + "A" + tok[13:],
		"future":    "bqpoll9." + tok[len(resumePrefix):],
	} {
		_, err := c.Jobs.ResumePoller(bad, nil)
		assert.ErrorIs(t, err, ErrInvalidInput, name)
	}
}

func TestJobsWaitSharesOnePollLoop(t *testing.T) {
	count := func(waiters int) int {
		var gets int
		synctest.Test(t, func(t *testing.T) {
			f := newJobFake(hooliSteps())
			c := f.client()
			c.Jobs.jitter = func() float64 { return 0.5 }
			var wg sync.WaitGroup
			for range waiters {
				wg.Go(func() {
					job, err := c.Jobs.Wait(t.Context(), fakeJobID, &PollOptions{InstitutionID: fakeInstID})
					assert.NoError(t, err)
					assert.Equal(t, JobSucceeded, job.Status())
				})
			}
			wg.Wait()
			gets = f.gets()
		})
		return gets
	}
	one := count(1)
	hundred := count(100)
	assert.Equal(t, one, hundred, "100 waiters make the GETs of one")
	assert.Positive(t, one)
}

func TestJobsWaitLastWaiterLeavingStopsLoop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newJobFake(hooliSteps())
		c := f.client()
		ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
		defer cancel()
		_, err := c.Jobs.Wait(ctx, fakeJobID, nil)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		synctest.Wait() // the loop goroutine has stopped: synctest would report it otherwise
		gets := f.gets()
		time.Sleep(time.Minute)
		assert.Equal(t, gets, f.gets(), "no polling after every waiter left")
	})
}

func TestPollerTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		steps := []fakeStep{{name: StepVerifyCredentials, dur: time.Hour}}
		f := newJobFake(steps)
		c := f.client()
		start := time.Now()
		_, err := c.Jobs.Poller(fakeJobID, &PollOptions{Timeout: 2 * time.Minute}).Wait(t.Context())
		assert.ErrorIs(t, err, ErrPollTimeout)
		// The wait returns at its deadline, not before (the fake answers at
		// once: no round trip after it), saying how long it waited.
		assert.Equal(t, 2*time.Minute, time.Since(start))
		assert.ErrorContains(t, err, "still running after 2m0s")
		f.mu.Lock()
		last := f.jobGets[len(f.jobGets)-1]
		f.mu.Unlock()
		// The last wait is cut to fit: the last look is taken at the deadline.
		assert.Equal(t, 2*time.Minute, last.Sub(start), "the last look at the deadline")
	})
}

func TestPollerFollowsBasiqRetries(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		steps := hooliSteps()
		steps[2].fail = "service-unavailable"
		f := newJobFake(steps)
		c := f.client()
		p := c.Jobs.Poller(fakeJobID, &PollOptions{Operation: OpUpdate, FollowBasiqRetries: true})
		go func() {
			time.Sleep(5 * time.Hour) // Basiq's third retry succeeds
			f.mu.Lock()
			f.steps[2].fail = ""
			f.mu.Unlock()
		}()
		job, err := p.Wait(t.Context())
		require.NoError(t, err)
		assert.Equal(t, JobSucceeded, job.Status())
		assert.Less(t, f.gets(), 40, "polls slowly while Basiq retries")
	})
}

func TestPollerPermanentErrorEndsWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newJobFake(hooliSteps())
		c := f.client()
		_, err := c.Jobs.Poller("no-such-job", nil).Wait(t.Context())
		assert.ErrorIs(t, err, ErrNotFound)
		var apiErr *APIError
		assert.True(t, errors.As(err, &apiErr))
	})
}

func TestPollerReportsLateMFAPrompt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		steps := hooliSteps()
		steps = append(steps[:1], append([]fakeStep{{name: StepMFAChallenge, dur: time.Second, mfa: true, promptAfter: 3 * time.Second}}, steps[1:]...)...)
		f := newJobFake(steps)
		c := f.client()
		p := c.Jobs.Poller(fakeJobID, &PollOptions{Operation: OpCreate, InstitutionID: fakeInstID})
		var prompts, inProgress int
		for ev, err := range p.Steps(t.Context()) {
			require.NoError(t, err)
			if ev.Step.Title != StepMFAChallenge || ev.Step.Status != StepInProgress {
				continue
			}
			inProgress++
			if _, ok := ev.Step.MFAPrompt(); ok {
				prompts++
				require.NotNil(t, ev.Diagnosis)
				assert.Equal(t, ActionAnswerMFA, ev.Diagnosis.Action)
				assert.Equal(t, StepInProgress, ev.Previous, "the step was already in progress")
				tok, err := p.ResumeToken()
				require.NoError(t, err)
				resumed, err := c.Jobs.ResumePoller(tok, nil)
				require.NoError(t, err)
				assert.Equal(t, p.prompted[StepMFAChallenge], resumed.prompted[StepMFAChallenge], "a resumed poller does not report the prompt again")
				assert.NotEmpty(t, resumed.prompted[StepMFAChallenge])
				_, err = c.Jobs.SubmitMFA(t.Context(), fakeUserID, fakeJobID, []string{"1234"})
				require.NoError(t, err)
			}
		}
		assert.Equal(t, 1, prompts, "the prompt is reported once")
		assert.Equal(t, 2, inProgress, "started, then prompted")
		assert.Equal(t, JobSucceeded, p.Job().Status())
	})
}

type errTransport struct {
	err   error
	calls int
}

func (e *errTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Path == "/token" {
		return jsonResponse(r, 200, map[string]any{"access_token": "t", "expires_in": 3600, "token_type": "Bearer"}, nil), nil
	}
	e.calls++
	return nil, e.err
}

func TestPollerStopsOnPermanentTransportErrors(t *testing.T) {
	for name, cause := range map[string]error{
		"untrusted certificate": x509.UnknownAuthorityError{},
		"bad scheme":            errors.New("unsupported protocol scheme \"ftp\""),
	} {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				rt := &errTransport{err: cause}
				c, err := NewClient("a2V5OnNlY3JldA==", WithHTTPClient(&http.Client{Transport: rt}), WithRetryPolicy(RetryPolicy{MaxAttempts: 1}))
				require.NoError(t, err)
				start := time.Now()
				_, err = c.Jobs.Poller("job-1", nil).Wait(t.Context())
				require.Error(t, err)
				assert.NotErrorIs(t, err, ErrPollTimeout)
				assert.Equal(t, time.Duration(0), time.Since(start), "no polling on after an error polling cannot cure")
				assert.Equal(t, 1, rt.calls)
			})
		})
	}
	synctest.Test(t, func(t *testing.T) {
		rt := &errTransport{err: errors.New("connection reset by peer")}
		c, err := NewClient("a2V5OnNlY3JldA==", WithHTTPClient(&http.Client{Transport: rt}), WithRetryPolicy(RetryPolicy{MaxAttempts: 1}))
		require.NoError(t, err)
		_, err = c.Jobs.Poller("job-1", &PollOptions{Timeout: time.Minute}).Wait(t.Context())
		assert.ErrorIs(t, err, ErrPollTimeout, "a passing network failure is polled through until the timeout")
		assert.Greater(t, rt.calls, 5)
	})
}

func TestJobsWaitSharesTheFailureDiagnosis(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		steps := hooliSteps()
		steps[1].fail = "service-unavailable"
		f := newJobFake(steps)
		f.status = StatusMajorOutage
		c := f.client()
		var wg sync.WaitGroup
		jobs := make(chan *Job, 50)
		for range 50 {
			wg.Go(func() {
				_, err := c.Jobs.Wait(t.Context(), fakeJobID, &PollOptions{Operation: OpRefresh})
				var jfe *JobFailedError
				if assert.ErrorAs(t, err, &jfe) {
					assert.Equal(t, ActionWaitForInstitution, jfe.Diagnosis.Action)
					jobs <- jfe.Job
				}
			})
		}
		wg.Wait()
		close(jobs)
		first := <-jobs
		for j := range jobs {
			assert.NotSame(t, first, j, "each waiter gets its own copy of the job")
			assert.Equal(t, first, j)
		}
		assert.Equal(t, 1, f.connGets, "the connection is looked up once for all waiters")
		assert.Equal(t, 1, f.instGets, "the institution's status is fetched once")
	})
}

func TestJobsWaitLoopsFollowTheirWaitersChoice(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		steps := hooliSteps()
		steps[2].fail = "service-unavailable"
		f := newJobFake(steps)
		c := f.client()
		go func() {
			time.Sleep(3 * time.Hour) // Basiq's retry succeeds
			f.mu.Lock()
			f.steps[2].fail = ""
			f.mu.Unlock()
		}()
		var wg sync.WaitGroup
		wg.Go(func() {
			job, err := c.Jobs.Wait(t.Context(), fakeJobID, &PollOptions{Operation: OpUpdate, FollowBasiqRetries: true})
			assert.NoError(t, err, "a follower waits through Basiq's retries")
			assert.Equal(t, JobSucceeded, job.Status())
		})
		wg.Go(func() {
			_, err := c.Jobs.Wait(t.Context(), fakeJobID, &PollOptions{Operation: OpUpdate})
			var jfe *JobFailedError
			assert.ErrorAs(t, err, &jfe, "a waiter that does not follow gets the failure at once")
			assert.Less(t, time.Since(f.start), time.Minute)
		})
		wg.Wait()
	})
}

func TestPollerReportsASecondMFAPrompt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		steps := hooliSteps()
		steps = append(steps[:1], append([]fakeStep{{name: StepMFAChallenge, dur: time.Second, mfa: true, rounds: 2}}, steps[1:]...)...)
		f := newJobFake(steps)
		c := f.client()
		p := c.Jobs.Poller(fakeJobID, &PollOptions{Operation: OpCreate, InstitutionID: fakeInstID})
		var asked []string
		for ev, err := range p.Steps(t.Context()) {
			require.NoError(t, err)
			if prompt, ok := ev.Step.MFAPrompt(); ok {
				asked = append(asked, prompt.Description)
				_, err := c.Jobs.SubmitMFA(t.Context(), fakeUserID, fakeJobID, []string{"1234"})
				require.NoError(t, err)
			}
		}
		assert.Equal(t, []string{"Enter code 1", "Enter code 2"}, asked, "each prompt reported once, the second one too")
		assert.Equal(t, JobSucceeded, p.Job().Status())
	})
}

func TestPollerTimeoutBoundsItsLookUps(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/token" {
				select { // every API answer takes 20 s
				case <-time.After(20 * time.Second):
				case <-r.Context().Done():
					return
				}
			}
			w.Header().Set("Content-Type", "application/json")
			switch {
			case r.URL.Path == "/token":
				_, _ = io.WriteString(w, `{"access_token":"t","expires_in":3600}`)
			case strings.HasPrefix(r.URL.Path, "/jobs/"):
				_, _ = io.WriteString(w, `{"type":"job","id":"j","steps":[{"title":"verify-credentials","status":"success","result":{"type":"link","url":"/users/u/connections/c"}},`+
					`{"title":"retrieve-accounts","status":"in-progress"}],"links":{"source":"https://x/users/u/connections/c"}}`)
			default:
				_, _ = io.WriteString(w, `{"type":"connection","id":"c","institution":{"id":"AU00000"}}`)
			}
		})
		c, err := NewClient("a2V5OnNlY3JldA==", WithHTTPClient(&http.Client{Transport: handlerRoundTripper{slow}}), WithRetryPolicy(RetryPolicy{MaxAttempts: 1}))
		require.NoError(t, err)
		start := time.Now()
		_, err = c.Jobs.Poller("j", &PollOptions{Timeout: 30 * time.Second}).WaitForStep(context.Background(), StepRetrieveTransactions)
		assert.Error(t, err)
		assert.LessOrEqual(t, time.Since(start), 30*time.Second, "the look-ups beside the polls keep to the timeout too")
		synctest.Wait()
	})
}

// handlerRoundTripper serves requests with a handler in the caller's
// goroutine, honouring the request's context.
type handlerRoundTripper struct{ h http.Handler }

func (h handlerRoundTripper) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	h.h.ServeHTTP(rec, r)
	if err := r.Context().Err(); err != nil {
		return nil, err
	}
	resp := rec.Result()
	resp.Request = r
	return resp, nil
}

func TestPollOptionsUserIDRefusesAnotherUsersJob(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newJobFake(hooliSteps()) // a job of user-1
		c := f.client()
		_, err := c.Jobs.Wait(t.Context(), fakeJobID, &PollOptions{UserID: "someone-else"})
		assert.ErrorIs(t, err, ErrInvalidInput)
		assert.Contains(t, err.Error(), "another user")
		assert.Equal(t, 1, f.gets(), "the first look said so: no more polling")

		job, err := c.Jobs.Wait(t.Context(), fakeJobID, &PollOptions{UserID: fakeUserID})
		require.NoError(t, err)
		assert.Equal(t, JobSucceeded, job.Status())
	})
}

func TestStepsOnAJobThatAlreadyFailedDoesNotEndSilently(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		steps := hooliSteps()
		steps[1].fail = "account-not-accessible-requires-user-action"
		f := newJobFake(steps)
		c := f.client()
		p := c.Jobs.Poller(fakeJobID, &PollOptions{Operation: OpCreate, InstitutionID: fakeInstID})
		_, err := p.WaitForStep(t.Context(), StepRetrieveTransactions)
		var failed *JobFailedError
		require.ErrorAs(t, err, &failed)

		var events []StepEvent
		for ev, err := range p.Steps(t.Context()) {
			require.NoError(t, err)
			events = append(events, ev)
		}
		require.Len(t, events, 1, "a range never ends silently on a failed job")
		assert.Equal(t, StepRetrieveAccounts, events[0].Step.Title)
		assert.Equal(t, StepFailed, events[0].Step.Status)
		require.NotNil(t, events[0].Diagnosis)
		assert.Equal(t, ActionResolveAtBank, events[0].Diagnosis.Action)
	})
}

func TestReplacedServiceFieldsDoNotCrashTheWaitLoop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		steps := hooliSteps()
		steps[2].fail = "service-unavailable"
		f := newJobFake(steps)
		c := f.client()
		// A user stubbing the client's services, as they may.
		jobs := c.Jobs
		c.Institutions, c.Connections, c.Jobs = nil, nil, &JobsService{}
		_, err := jobs.Wait(t.Context(), fakeJobID, &PollOptions{Operation: OpRefresh})
		var failed *JobFailedError
		require.ErrorAs(t, err, &failed)
		assert.Equal(t, ActionRetryLater, failed.Diagnosis.Action)
		assert.Equal(t, StatusOperational, failed.Diagnosis.InstitutionStatus, "the status was still looked up")
	})
}
