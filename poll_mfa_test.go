package basiq

import (
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// waitForVerified is the README's pattern: wait for verify-credentials,
// answering each MFA prompt with answer. It returns the job, the prompts
// seen, and the final error.
func waitForVerified(t *testing.T, c *Client, p *Poller, answer string) (*Job, []string, error) {
	t.Helper()
	var prompts []string
	for range 10 {
		job, err := p.WaitForStep(t.Context(), StepVerifyCredentials)
		var mfa *MFARequiredError
		if errors.As(err, &mfa) {
			require.NotNil(t, mfa.Prompt)
			prompts = append(prompts, mfa.Prompt.Description)
			_, serr := c.Jobs.SubmitMFA(t.Context(), fakeUserID, fakeJobID, []string{answer})
			require.NoError(t, serr)
			continue
		}
		return job, prompts, err
	}
	t.Fatal("WaitForStep kept asking")
	return nil, nil, nil
}

func TestWaitForStepReturnsMFARequiredThenReleases(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newJobFake(mfaAfterVerify())
		c := f.client()
		p := c.Jobs.Poller(fakeJobID, &PollOptions{Operation: OpCreate, InstitutionID: fakeInstID})

		job, err := p.WaitForStep(t.Context(), StepVerifyCredentials)
		require.ErrorIs(t, err, ErrMFARequired)
		var mfa *MFARequiredError
		require.ErrorAs(t, err, &mfa)
		assert.Same(t, job, mfa.Job)
		assert.Equal(t, []string{"OTP Password"}, mfa.Prompt.Input)
		assert.Equal(t, 2*time.Minute, mfa.Prompt.Expiry)
		assert.NotContains(t, err.Error(), "Enter code", "the bank's text stays out of the error string")
		mfa.Prompt.Input[0] = "changed" // the caller's copy is its own
		again, _ := p.Job().Step(StepMFAChallenge)
		assert.Equal(t, "OTP Password", again.Result.Input[0])

		_, err = c.Jobs.SubmitMFA(t.Context(), fakeUserID, fakeJobID, []string{"1234"})
		require.NoError(t, err)
		job, err = p.WaitForStep(t.Context(), StepVerifyCredentials)
		require.NoError(t, err)
		mfaStep, _ := job.Step(StepMFAChallenge)
		assert.Equal(t, StepSuccess, mfaStep.Status, "released once the bank accepted the answer")
		assert.Equal(t, JobRunning, job.Status(), "and before the job ends")

		job, err = p.Wait(t.Context())
		require.NoError(t, err)
		assert.Equal(t, JobSucceeded, job.Status())
	})
}

func TestWaitForStepWaitsWhileTheBankChecksTheAnswer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		steps := mfaAfterVerify()
		steps[1].dur, steps[1].lingers = 6*time.Second, 4*time.Second
		f := newJobFake(steps)
		c := f.client()
		p := c.Jobs.Poller(fakeJobID, &PollOptions{Operation: OpCreate, InstitutionID: fakeInstID})
		job, prompts, err := waitForVerified(t, c, p, "1234")
		require.NoError(t, err)
		assert.Equal(t, []string{"Enter code 1"}, prompts, "the answered prompt, still on show, is not reported again")
		mfaStep, _ := job.Step(StepMFAChallenge)
		assert.Equal(t, StepSuccess, mfaStep.Status)
	})
}

func TestWaitForStepReportsASecondPrompt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		steps := mfaAfterVerify()
		steps[1].rounds = 2
		f := newJobFake(steps)
		c := f.client()
		p := c.Jobs.Poller(fakeJobID, &PollOptions{Operation: OpCreate, InstitutionID: fakeInstID})
		_, prompts, err := waitForVerified(t, c, p, "1234")
		require.NoError(t, err)
		assert.Equal(t, []string{"Enter code 1", "Enter code 2"}, prompts)
	})
}

func TestWaitForStepAgainWithoutAnAnswerPollsFirst(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newJobFake(mfaAfterVerify())
		c := f.client()
		p := c.Jobs.Poller(fakeJobID, &PollOptions{Operation: OpCreate, InstitutionID: fakeInstID})
		_, err := p.WaitForStep(t.Context(), StepVerifyCredentials)
		require.ErrorIs(t, err, ErrMFARequired)
		gets, at := f.gets(), time.Now()
		_, err = p.WaitForStep(t.Context(), StepVerifyCredentials)
		require.ErrorIs(t, err, ErrMFARequired, "still unanswered")
		assert.Equal(t, gets+1, f.gets(), "one fresh poll, not a tight loop on the old job")
		assert.GreaterOrEqual(t, time.Since(at), time.Second, "at the poll interval")
	})
}

func TestStepsAfterAnAnsweredPromptDoesNotRepeatIt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newJobFake(mfaAfterVerify())
		c := f.client()
		p := c.Jobs.Poller(fakeJobID, &PollOptions{Operation: OpCreate, InstitutionID: fakeInstID})
		_, err := p.WaitForStep(t.Context(), StepVerifyCredentials)
		require.ErrorIs(t, err, ErrMFARequired)
		_, err = c.Jobs.SubmitMFA(t.Context(), fakeUserID, fakeJobID, []string{"1234"})
		require.NoError(t, err)
		var titles []string
		for ev, err := range p.Steps(t.Context()) {
			require.NoError(t, err)
			_, prompting := ev.Step.MFAPrompt()
			assert.False(t, prompting, "an answered prompt is not yielded again")
			titles = append(titles, string(ev.Step.Title)+" "+string(ev.Step.Status))
		}
		assert.Contains(t, titles, "mfa-challenge success")
		assert.Equal(t, JobSucceeded, p.Job().Status())
	})
}

func TestWaitForStepOnTheMFAStepItself(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newJobFake(mfaAfterVerify())
		c := f.client()
		p := c.Jobs.Poller(fakeJobID, nil)
		_, err := p.WaitForStep(t.Context(), StepMFAChallenge)
		require.ErrorIs(t, err, ErrMFARequired)
		_, err = c.Jobs.SubmitMFA(t.Context(), fakeUserID, fakeJobID, []string{"1234"})
		require.NoError(t, err)
		job, err := p.WaitForStep(t.Context(), StepMFAChallenge)
		require.NoError(t, err)
		st, _ := job.Step(StepMFAChallenge)
		assert.Equal(t, StepSuccess, st.Status)
	})
}

func TestStepReached(t *testing.T) {
	job := func(statuses ...StepStatus) *Job {
		names := []StepName{StepVerifyCredentials, StepMFAChallenge, StepRetrieveAccounts}
		j := &Job{}
		for i, s := range statuses {
			j.Steps = append(j.Steps, Step{Title: names[i], Status: s})
		}
		return j
	}
	assert.False(t, stepReached(job(StepSuccess, StepPending, StepPending), StepVerifyCredentials), "MFA still to come")
	assert.False(t, stepReached(job(StepSuccess, StepInProgress, StepPending), StepVerifyCredentials))
	assert.True(t, stepReached(job(StepSuccess, StepSuccess, StepPending), StepVerifyCredentials))
	assert.True(t, stepReached(job(StepSuccess, StepSkipped, StepPending), StepVerifyCredentials), "intermittent MFA skipped")
	assert.True(t, stepReached(&Job{Steps: []Step{{Title: StepVerifyCredentials, Status: StepSuccess}, {Title: StepRetrieveAccounts}}}, StepVerifyCredentials))
	assert.False(t, stepReached(job(StepInProgress, StepPending, StepPending), StepVerifyCredentials))
	assert.False(t, stepReached(job(StepSuccess), StepRetrieveAccounts), "a step the job does not have")
}

func TestJobLedgerIsBounded(t *testing.T) {
	var l jobLedger[struct{}]
	now := time.Now()
	for i := range jobLedgerMax + 100 {
		l.record(string(rune('a'+i%26))+time.Duration(i).String(), now.Add(time.Duration(i)*time.Second), struct{}{})
	}
	assert.LessOrEqual(t, len(l.m), jobLedgerMax)
}

// mfaAfterVerify is a job whose bank challenges right after
// verify-credentials, as every MFA bank does.
func mfaAfterVerify() []fakeStep {
	steps := hooliSteps()
	return append(steps[:1], append([]fakeStep{{name: StepMFAChallenge, dur: time.Second, mfa: true}}, steps[1:]...)...)
}

func TestReadmePatternDoesNotReleaseAUserTheBankIsChallenging(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newJobFake(mfaAfterVerify())
		c := f.client()
		p := c.Jobs.Poller(fakeJobID, &PollOptions{Operation: OpCreate, InstitutionID: fakeInstID})
		job, err := p.WaitForStep(t.Context(), StepVerifyCredentials)
		require.Error(t, err, "the user must not be released while the bank asks for MFA answers")
		require.NotNil(t, job)
		mfa, ok := job.Step(StepMFAChallenge)
		require.True(t, ok)
		_, prompting := mfa.MFAPrompt()
		assert.True(t, prompting)
	})
}

func TestStepsAfterWaitForStepYieldsTheUnansweredPrompt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newJobFake(mfaAfterVerify())
		c := f.client()
		p := c.Jobs.Poller(fakeJobID, &PollOptions{Operation: OpCreate, InstitutionID: fakeInstID})
		_, _ = p.WaitForStep(t.Context(), StepVerifyCredentials)
		for ev, err := range p.Steps(t.Context()) {
			require.NoError(t, err)
			_, prompting := ev.Step.MFAPrompt()
			require.True(t, prompting, "the first event of a new range is the prompt still waiting for answers, got %s %s", ev.Step.Title, ev.Step.Status)
			require.NotNil(t, ev.Diagnosis)
			assert.Equal(t, ActionAnswerMFA, ev.Diagnosis.Action)
			break
		}
	})
}
