package basiq

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestPartialOutageEscalatesAfterACoupleOfRetries(t *testing.T) {
	job := &Job{ID: "j", Steps: []Step{{Title: StepRetrieveTransactions, Status: StepFailed, Result: &StepResult{Code: "service-unavailable"}}}}
	for attempt, want := range map[int]Action{1: ActionRetryLater, 2: ActionRetryLater, 3: ActionContactSupport, 9: ActionContactSupport} {
		d := Diagnose(job, DiagnoseOptions{Operation: OpRefresh, InstitutionStatus: StatusPartialOutage, Attempt: attempt})
		assert.Equal(t, want, d.Action, "attempt %d", attempt)
	}
}
