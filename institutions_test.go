package basiq_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/banklink-go/basiq"
)

func TestInstitutionStatusAdvice(t *testing.T) {
	tests := []struct {
		status     basiq.InstitutionStatus
		normalized basiq.InstitutionStatus
		known      bool
		want       basiq.StatusAdvice // Summary checked separately
		summary    string             // a substring of Summary
	}{
		{basiq.StatusOperational, basiq.StatusOperational, true,
			basiq.StatusAdvice{Usable: true, RetryOnFailure: true, RetryAfter: 10 * time.Minute}, "Operational"},
		{basiq.StatusUnderMaintenance, basiq.StatusUnderMaintenance, true,
			basiq.StatusAdvice{Usable: true, RetryOnFailure: true, RetryAfter: 10 * time.Minute}, "beta"},
		{basiq.StatusScheduledMaintenance, basiq.StatusUnderMaintenance, true,
			basiq.StatusAdvice{Usable: true, RetryOnFailure: true, RetryAfter: 10 * time.Minute}, "Under maintenance"},
		{basiq.StatusUnderImprovement, basiq.StatusUnderMaintenance, true,
			basiq.StatusAdvice{Usable: true, RetryOnFailure: true, RetryAfter: 10 * time.Minute}, "Under maintenance"},
		{basiq.StatusDegradedPerformance, basiq.StatusDegradedPerformance, true,
			basiq.StatusAdvice{Usable: true, RetryOnFailure: true, RetryAfter: 10 * time.Minute}, "most jobs succeed"},
		{basiq.StatusPartialOutage, basiq.StatusPartialOutage, true,
			basiq.StatusAdvice{Usable: true, RetryOnFailure: true, RetryAfter: time.Hour}, "retry in 1 hour"},
		{basiq.StatusMajorOutage, basiq.StatusMajorOutage, true,
			basiq.StatusAdvice{Usable: false, RetryOnFailure: true, RetryAfter: time.Hour,
				DeferMin: time.Hour, DeferMax: 3 * time.Hour, TellUserFirst: true}, "defer"},
		// Spelling variants fold onto the documented values.
		{" Major-Outage ", basiq.StatusMajorOutage, true,
			basiq.StatusAdvice{Usable: false, RetryOnFailure: true, RetryAfter: time.Hour,
				DeferMin: time.Hour, DeferMax: 3 * time.Hour, TellUserFirst: true}, "Major outage"},
		{"Partial Outage", basiq.StatusPartialOutage, true,
			basiq.StatusAdvice{Usable: true, RetryOnFailure: true, RetryAfter: time.Hour}, "Partial outage"},
		{"scheduled_maintenance", basiq.StatusUnderMaintenance, true,
			basiq.StatusAdvice{Usable: true, RetryOnFailure: true, RetryAfter: 10 * time.Minute}, "Under maintenance"},
		// Unknown values: go ahead with caution, raw value kept.
		{"on-fire", "on-fire", false,
			basiq.StatusAdvice{Usable: true, RetryOnFailure: true, RetryAfter: 10 * time.Minute}, `Unknown status "on-fire"`},
		{"", "", false,
			basiq.StatusAdvice{Usable: true, RetryOnFailure: true, RetryAfter: 10 * time.Minute}, "not reported"},
	}
	for _, tc := range tests {
		t.Run(string(tc.status), func(t *testing.T) {
			assert.Equal(t, tc.normalized, tc.status.Normalize(), "Normalize")
			assert.Equal(t, tc.known, tc.status.Known(), "Known")

			got := tc.status.Advice()
			assert.Contains(t, got.Summary, tc.summary)
			got.Summary = ""
			tc.want.Status = tc.normalized
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestInstitutionStatusAdviceUnknownIsBounded(t *testing.T) {
	long := basiq.InstitutionStatus(strings.Repeat("x", 500))
	a := long.Advice()
	assert.Equal(t, long, a.Status, "the raw value is kept in Status")
	assert.Less(t, len(a.Summary), 200, "Summary repeats at most a bounded prefix")
	assert.True(t, a.Usable)
	assert.False(t, long.Known())
}

// TestAdviceAgreesWithDiagnose checks that Diagnose's retry timing for an
// institution-side failure is the status's advice.
func TestAdviceAgreesWithDiagnose(t *testing.T) {
	for _, status := range []basiq.InstitutionStatus{
		basiq.StatusOperational, basiq.StatusUnderMaintenance, basiq.StatusScheduledMaintenance, basiq.StatusUnderImprovement,
		basiq.StatusDegradedPerformance, basiq.StatusPartialOutage, basiq.StatusMajorOutage, "", "on-fire",
	} {
		job := diagBuildJob(t, diagJobSpec{failAt: diagAccts, result: diagFailure("service-unavailable", "", "")})
		d := basiq.Diagnose(job, basiq.DiagnoseOptions{Operation: basiq.OpRefresh, InstitutionStatus: status})
		a := status.Advice()
		assert.Equal(t, a.RetryAfter, d.RetryAfter, "%q", status)
		assert.Equal(t, a.TellUserFirst, d.Action == basiq.ActionWaitForInstitution, "%q", status)
	}
}
