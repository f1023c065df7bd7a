package basiq_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banklink-go/basiq"
	"github.com/banklink-go/basiq/basiqtest"
)

// One failure, one notice: of the events a failed connection brings
// (created, invalidated, and a later activated), only invalidated asks the
// user to act, with the ProblemID the callback's wait saw and Health reports
// (issue: "one failure, three notices").
func TestOneFailureAsksTheUserOnceAcrossCallbackWebhooksAndHealth(t *testing.T) {
	srv, c, userID := v3Fake(t)
	f := failBighead(t, srv, c, userID)
	problem := f.Diagnosis.ProblemID
	require.NotEmpty(t, problem)
	assert.Equal(t, f.Diagnosis.ConnectionID+":invalid-credentials", problem)

	asks := map[string]int{} // ProblemID → events that ask the user
	var types []basiq.EventType
	for ev, err := range c.Events.All(t.Context(), &basiq.EventFilter{UserID: userID}) {
		require.NoError(t, err)
		a, err := c.Events.Advise(t.Context(), &ev)
		require.NoError(t, err)
		types = append(types, ev.Type)
		if a.NeedsUserAction {
			asks[a.Diagnosis.ProblemID]++
		}
	}
	assert.Contains(t, types, basiq.EventConnectionCreated)
	assert.Contains(t, types, basiq.EventConnectionInvalidated)
	assert.Equal(t, map[string]int{problem: 1}, asks, "one event asks, about the callback's problem")

	health, err := c.Connections.Health(t.Context(), userID)
	require.NoError(t, err)
	require.Len(t, health, 1)
	require.NotNil(t, health[0].Diagnosis)
	assert.Equal(t, problem, health[0].Diagnosis.ProblemID, "Health names the same problem")

	// Fixed: activated asks nothing, and invalidated, read late, asks nothing either.
	followBigheadsRemedy(t, srv, c, userID, f.Diagnosis)
	for ev, err := range c.Events.All(t.Context(), &basiq.EventFilter{UserID: userID}) {
		require.NoError(t, err)
		a, err := c.Events.Advise(t.Context(), &ev)
		require.NoError(t, err)
		assert.False(t, a.NeedsUserAction, "%s after the fix", ev.Type)
	}
}

// A failed create's remedy fixes that connection: it names the connection,
// and following it leaves one connection, active, and Health asking nothing
// (issue: "following a failed create's remedy leaves a dead connection for
// ever").
func TestFailedCreatesRemedyFixesTheSameConnection(t *testing.T) {
	srv, c, userID := v3Fake(t)
	f := failBighead(t, srv, c, userID)
	failedConn := f.Job.ConnectionID()
	require.NotEmpty(t, failedConn)
	require.NotNil(t, f.Diagnosis.Consent)
	assert.Equal(t, failedConn, f.Diagnosis.Consent.ConnectionID, "the remedy is on the failed connection")
	assert.Empty(t, f.Diagnosis.Consent.Action, "no action: action=update would delete every connection")

	fixed := followBigheadsRemedy(t, srv, c, userID, f.Diagnosis)
	assert.Equal(t, failedConn, fixed.ConnectionID(), "a new job on the same connection")

	health, err := c.Connections.Health(t.Context(), userID)
	require.NoError(t, err)
	require.Len(t, health, 1, "no second connection")
	assert.Equal(t, basiq.ConnectionActive, health[0].Connection.Status)
	assert.False(t, health[0].NeedsUserAction)
	assert.Nil(t, health[0].Diagnosis)
}

// When the user connects another login at the bank where a connection
// failed, the failed connection is not taken for a replaced one (it may be a
// second account): Health still asks for its remedy, and names nothing for
// deletion.
func TestASecondLoginAtAFailedBankIsNotTakenForAReplacement(t *testing.T) {
	clock := basiqtest.NewClock(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
	srv, c, userID := v3Fake(t, basiqtest.WithClock(clock.Now), basiqtest.WithTokenTTL(24*time.Hour))
	f := failBighead(t, srv, c, userID)
	failedConn := f.Job.ConnectionID()
	clock.Advance(time.Hour)
	link, err := c.Consents.Link(t.Context(), userID, &basiq.ConsentURLOptions{Action: basiq.ConsentConnect})
	require.NoError(t, err)
	rd := consentAs(t, srv, link.URL, basiqtest.ConsentLogin{InstitutionID: "AU00004", LoginID: "gavinBelson", Password: "hooli2016"})
	outs, err := c.Jobs.WaitAll(t.Context(), rd.JobIDs, &basiq.PollOptions{UserID: userID})
	require.NoError(t, err)
	require.True(t, outs[0].Succeeded(), "%v", outs[0].Err)

	for _, ids := range [][]string{nil, {failedConn}} {
		health, err := c.Connections.Health(t.Context(), userID, ids...)
		require.NoError(t, err)
		for _, h := range health {
			if h.Connection.ID != failedConn {
				continue
			}
			assert.True(t, h.NeedsUserAction, "ids %v: bighead's connection still needs its remedy", ids)
			require.NotNil(t, h.Diagnosis)
			assert.Empty(t, h.Diagnosis.RemoveConnectionID, "ids %v", ids)
			assert.Equal(t, &basiq.ConsentURLOptions{ConnectionID: failedConn}, h.Diagnosis.Consent)
		}
	}
}

// On a create, where the user is there and nobody will retry unless the
// application does, ActionRetryLater promises nothing.
func TestRetryLaterOnACreatePromisesNoRetry(t *testing.T) {
	job := &basiq.Job{ID: "j", Steps: []basiq.Step{{Title: basiq.StepRetrieveTransactions, Status: basiq.StepFailed,
		Result: &basiq.StepResult{Code: "service-unavailable"}}}}
	for _, status := range []basiq.InstitutionStatus{basiq.StatusOperational, basiq.StatusPartialOutage, "", basiq.StatusMajorOutage} {
		d := basiq.Diagnose(job, basiq.DiagnoseOptions{Operation: basiq.OpCreate, InstitutionStatus: status})
		if status == basiq.StatusMajorOutage {
			assert.Equal(t, basiq.ActionWaitForInstitution, d.Action)
		} else {
			assert.Equal(t, basiq.ActionRetryLater, d.Action)
		}
		assert.NotContains(t, d.UserMessage, "try again", "%s: nobody retries a create", status)
		assert.NotContains(t, d.UserMessage, "let you know", status)
		r := basiq.Diagnose(job, basiq.DiagnoseOptions{Operation: basiq.OpRefresh, InstitutionStatus: status})
		assert.Contains(t, r.UserMessage, "try again", "a refresh is the application's own: it retries")
	}
}

// followBigheadsRemedy lets bighead log in again, follows the remedy through
// Consents.Link and the fake's Consent UI, and returns the job it started,
// which must succeed.
func followBigheadsRemedy(t *testing.T, srv *basiqtest.Server, c *basiq.Client, userID string, d basiq.Diagnosis) *basiq.Job {
	t.Helper()
	srv.SetLoginOutcome("bighead", basiqtest.Outcome{})
	remedy, err := c.Consents.Link(t.Context(), userID, d.Consent)
	require.NoError(t, err)
	rd := consentAs(t, srv, remedy.URL, basiqtest.ConsentLogin{LoginID: "bighead", Password: "password"})
	require.True(t, rd.StateMatches(remedy.State))
	outs, err := c.Jobs.WaitAll(t.Context(), rd.JobIDs, &basiq.PollOptions{UserID: userID})
	require.NoError(t, err)
	require.True(t, outs[0].Succeeded(), "%v", outs[0].Err)
	return outs[0].Job
}

// An open-banking authorisation the user left unfinished (pre-init) is not
// left for ever: Health asks the user to finish it, in place.
func TestAbandonedOpenBankingAuthorisationAsksTheUserToFinishIt(t *testing.T) {
	srv, c, userID := v3Fake(t)
	link, err := c.Consents.Link(t.Context(), userID, nil)
	require.NoError(t, err)
	rd := consentAs(t, srv, link.URL, basiqtest.ConsentLogin{InstitutionID: "AU10001", LoginID: "gavinBelson", Password: "hooli2016", Abandon: true})
	assert.Empty(t, rd.JobIDs)
	health, err := c.Connections.Health(t.Context(), userID)
	require.NoError(t, err)
	require.Len(t, health, 1)
	h := health[0]
	assert.Equal(t, basiq.ConnectionPreInit, h.Connection.Status)
	assert.True(t, h.NeedsUserAction)
	require.NotNil(t, h.Diagnosis)
	assert.Equal(t, basiq.ActionReconnect, h.Diagnosis.Action)
	assert.Equal(t, &basiq.ConsentURLOptions{ConnectionID: h.Connection.ID}, h.Diagnosis.Consent)
	assert.Equal(t, h.Connection.ID+":connection-pre-init", h.Diagnosis.ProblemID)

	remedy, err := c.Consents.Link(t.Context(), userID, h.Diagnosis.Consent)
	require.NoError(t, err)
	rd = consentAs(t, srv, remedy.URL, basiqtest.ConsentLogin{LoginID: "gavinBelson", Password: "hooli2016"})
	require.True(t, rd.StateMatches(remedy.State))
	outs, err := c.Jobs.WaitAll(t.Context(), rd.JobIDs, &basiq.PollOptions{UserID: userID})
	require.NoError(t, err)
	require.True(t, outs[0].Succeeded(), "%v", outs[0].Err)
	health, err = c.Connections.Health(t.Context(), userID)
	require.NoError(t, err)
	assert.Equal(t, basiq.ConnectionActive, health[0].Connection.Status)
	assert.False(t, health[0].NeedsUserAction)
}
