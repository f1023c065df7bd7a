package basiq

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPartialOutageEscalatesAfterACoupleOfRetries(t *testing.T) {
	job := &Job{ID: "j", Steps: []Step{{Title: StepRetrieveTransactions, Status: StepFailed, Result: &StepResult{Code: "service-unavailable"}}}}
	for attempt, want := range map[int]Action{1: ActionRetryLater, 2: ActionRetryLater, 3: ActionContactSupport, 9: ActionContactSupport} {
		d := Diagnose(job, DiagnoseOptions{Operation: OpRefresh, InstitutionStatus: StatusPartialOutage, Attempt: attempt})
		assert.Equal(t, want, d.Action, "attempt %d", attempt)
	}
}

func TestDiagnoseReportAndStatementJobs(t *testing.T) {
	for _, tc := range []struct {
		example    string
		attempt    int
		action     Action
		step       StepName
		code       string
		userPhrase string
	}{
		{"Report-failed", 1, ActionRetry, StepCreateReport, "", "report"},
		{"Report-failed", 3, ActionContactSupport, StepCreateReport, "", "report"},
		{"Report-in-progress", 1, ActionNone, StepCreateReport, "", "preparing your report"},
		{"Report-success", 1, ActionNone, "", "", "report is ready"},
		{"statement-failed", 1, ActionCheckStatement, StepVerifyCredentials, "bank-statement-not-supported", "statement"},
	} {
		var job Job
		require.NoError(t, json.Unmarshal([]byte(v3ExampleCore(t, tc.example)), &job))
		d := Diagnose(&job, DiagnoseOptions{Attempt: tc.attempt})
		assert.Equal(t, tc.action, d.Action, tc.example)
		assert.Equal(t, tc.step, d.Step, tc.example)
		assert.Equal(t, tc.code, d.Code, tc.example)
		assert.Contains(t, d.UserMessage, tc.userPhrase, tc.example)
		assert.Nil(t, d.Consent, "%s: nothing to fix in the Consent UI", tc.example)
		assert.Equal(t, tc.action != ActionNone, d.ProblemID != "", "%s: a failure is a problem, notified once", tc.example)
	}
	// A report whose filters named what could not be used: the application
	// fixes them; the institution's status plays no part.
	job := &Job{ID: "j1", JobType: "report", Steps: []Step{{Title: StepCreateReport, Status: StepFailed,
		Result: &StepResult{Code: "invalid-field-value", Detail: "Account a9 is not an account of the report's users"}}}}
	d := Diagnose(job, DiagnoseOptions{InstitutionStatus: StatusMajorOutage})
	assert.Equal(t, ActionCheckReportFilters, d.Action)
	assert.Equal(t, "Account a9 is not an account of the report's users", d.Detail)
	assert.False(t, ActionCheckReportFilters.UserMustAct(), "the application acts")
	assert.False(t, statusMatters(job, DiagnoseOptions{}))
	// Any other reason goes to support.
	job.Steps[0].Result = &StepResult{Code: "report-engine-error", Detail: "Internal"}
	assert.Equal(t, ActionContactSupport, Diagnose(job, DiagnoseOptions{}).Action)
	assert.True(t, ActionCheckStatement.UserMustAct())
	for _, code := range []string{"bank-statement-invalid", "bank-statement-parsing-error", "empty-file", "invalid-field-value", "row-count-exceeded"} {
		job := &Job{ID: "j2", Steps: []Step{{Title: StepVerifyCredentials, Status: StepFailed, Result: &StepResult{Code: code}}}}
		assert.Equal(t, ActionCheckStatement, Diagnose(job, DiagnoseOptions{}).Action, code)
	}
}
