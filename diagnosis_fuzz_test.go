package basiq_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/banklink-go/basiq"
)

// hardDiagnoseSeeds are failing jobs for each row of DESIGN.md §4.4.
func hardDiagnoseSeeds() []string {
	failing := func(code, detail string) string {
		return fmt.Sprintf(`{"id":"j","links":{"source":"/users/u/connections/c"},"steps":[{"title":"verify-credentials","status":"failed","result":{"code":%q,"title":"t","detail":%q}}]}`, code, detail)
	}
	return []string{
		failing("invalid-credentials", ""), failing("invalid-credentials", "MFA is not supported"),
		failing("", ""), failing("", "something"), failing("unknown-error", ""),
		failing("account-not-accessible-requires-user-action", ""), failing("user-action-required", ""),
		failing("service-unavailable", ""), failing("maintenance", ""), failing("connector-error", ""),
		failing("institution-not-available", ""), failing("authorization-failed", ""), failing("locked-account", ""),
		failing("never-heard-of-it", "x"), failing("INVALID-CREDENTIALS", " "),
		hardJobSeeds[3], hardJobSeeds[0], `{"steps":[{"title":"a","status":"failed","result":null}]}`,
	}
}

func FuzzDiagnose(f *testing.F) {
	ops := []string{"create", "refresh", "update", "", "unknown", " Refresh "}
	statuses := []string{"operational", "major-outage", "partial-outage", "degraded-performance", "under-maintenance", "", "weird"}
	for i, s := range hardDiagnoseSeeds() {
		f.Add([]byte(s), ops[i%len(ops)], statuses[i%len(statuses)], i%5-1)
	}
	for i, b := range hardSpecExamples(f) {
		f.Add(b, ops[i%len(ops)], statuses[i%len(statuses)], 3)
	}
	f.Fuzz(func(t *testing.T, data []byte, op, status string, attempt int) {
		var job *basiq.Job
		var decoded basiq.Job
		if json.Unmarshal(data, &decoded) == nil {
			job = &decoded
		}
		var before basiq.Job
		if job != nil {
			_ = json.Unmarshal(data, &before)
		}
		opts := basiq.DiagnoseOptions{Operation: basiq.Operation(op), InstitutionStatus: basiq.InstitutionStatus(status), Attempt: attempt}
		d := basiq.Diagnose(job, opts)
		if !reflect.DeepEqual(d, basiq.Diagnose(job, opts)) {
			t.Fatal("Diagnose is not deterministic")
		}
		if job != nil && !reflect.DeepEqual(*job, before) {
			t.Fatal("Diagnose changed the job")
		}
		if d.Action == "" {
			t.Fatal("no action")
		}
		if d.RetryAfter < 0 || d.RetryEvery < 0 || d.GiveUpAfter < 0 {
			t.Fatalf("negative timing %+v", d)
		}
		if job == nil {
			if d.Action != basiq.ActionNone {
				t.Fatalf("nil job: action %s", d.Action)
			}
			return
		}
		if step, failed := job.FailedStep(); failed {
			if d.UserMessage == "" || d.Action == basiq.ActionNone || d.Step != step.Title {
				t.Fatalf("failed job: action %q step %q message %q", d.Action, d.Step, d.UserMessage)
			}
		}
		if d.Action == basiq.ActionAnswerMFA && (d.MFA == nil || d.UserMessage == "") {
			t.Fatalf("MFA action without a prompt or message: %+v", d)
		}
		if d.JobID != job.ID || d.UserID != job.UserID() || d.ConnectionID != job.ConnectionID() {
			t.Fatalf("ids %q %q %q, job says %q %q %q", d.JobID, d.UserID, d.ConnectionID, job.ID, job.UserID(), job.ConnectionID())
		}
		_ = d.Action.UserMustAct()
		_ = d.String()
		_ = d.LogValue().Resolve().String()
		if step, failed := job.FailedStep(); failed {
			jfe := &basiq.JobFailedError{Job: job, Step: step, Diagnosis: d}
			if msg := jfe.Error(); !strings.Contains(msg, "failed at step") {
				t.Fatalf("JobFailedError.Error() = %q", msg)
			}
		}
	})
}
