package basiq_test

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/banklink-go/basiq"
)

// FuzzJobDecodeMethods checks what the Job methods make of any decoded job
// (FuzzJobDecode in decode_test.go checks that the fast and the lenient job
// decoders agree). Seeds are the cases of hardJobSeeds plus every recorded
// Basiq response in testdata/basiq-spec/v2.1/examples. The other fuzz targets
// on what the network hands the SDK: FuzzErrorEnvelope (request_test.go),
// FuzzResumeToken (poll_resume_test.go), FuzzDiagnose (diagnosis_test.go).
// Run one at a time, e.g.:
//
//	go test -run '^$' -fuzz '^FuzzJobDecodeMethods$' -fuzztime 60s .
func FuzzJobDecodeMethods(f *testing.F) {
	for _, s := range hardJobSeeds {
		f.Add([]byte(s))
	}
	for _, b := range hardSpecExamples(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var j basiq.Job
		if err := json.Unmarshal(data, &j); err != nil {
			return
		}
		// Decoding is deterministic and replaces everything, even in a reused value.
		stale := basiq.Job{ID: "stale", Type: "stale", Reused: true, Steps: []basiq.Step{{Title: "stale"}},
			Institution: &basiq.ResourceRef{ID: "stale"}, Created: time.Unix(1, 0)}
		if err := json.Unmarshal(data, &stale); err != nil {
			t.Fatalf("second decode failed: %v", err)
		}
		if !reflect.DeepEqual(j, stale) {
			t.Fatalf("decoding into a used Job kept old fields:\n fresh %+v\n reused %+v", j, stale)
		}

		status := j.Status()
		failed, isFailed := j.FailedStep()
		current, hasCurrent := j.CurrentStep()
		if isFailed != (status == basiq.JobFailed) {
			t.Fatalf("Status %s but FailedStep found=%v", status, isFailed)
		}
		if isFailed && failed.Status != basiq.StepFailed {
			t.Fatalf("FailedStep returned a %s step", failed.Status)
		}
		if status == basiq.JobSucceeded && (hasCurrent || len(j.Steps) == 0) {
			t.Fatalf("succeeded job with a current step %+v (steps %d)", current, len(j.Steps))
		}
		if hasCurrent && current.Status.Done() {
			t.Fatalf("CurrentStep %+v is finished", current)
		}
		if status == basiq.JobPending {
			for _, s := range j.Steps {
				if s.Status != basiq.StepPending {
					t.Fatalf("pending job has a %q step", s.Status)
				}
			}
		}
		if status.Terminal() != (status == basiq.JobSucceeded || status == basiq.JobFailed) {
			t.Fatalf("Terminal() wrong for %s", status)
		}
		for _, s := range j.Steps {
			got, ok := j.Step(s.Title)
			if !ok || got.Title != s.Title {
				t.Fatalf("Step(%q) = %+v, %v", s.Title, got, ok)
			}
			_ = s.Result.IsMFA()
		}
		conn, user := j.ConnectionID(), j.UserID()
		if conn != "" && user == "" {
			t.Fatalf("connection %q without a user", conn)
		}
		var nilJob *basiq.Job
		if nilJob.Status() != basiq.JobPending || nilJob.ConnectionID() != "" || nilJob.UserID() != "" {
			t.Fatal("nil job methods")
		}
	})
}
