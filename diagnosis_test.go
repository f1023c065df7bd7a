package basiq_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banklink-go/basiq"
)

// Ids in the form Basiq uses (taken from the shape of CORE3's job examples).
const (
	diagUserID = "bfa52043-e154-4adf-94d1-7f0544affc45"
	diagConnID = "05b14a4a-189a-412a-a8c3-88adf2fc47f4"
	diagJobID  = "57d6ab28-1fd4-4851-b9d2-81ca2884de21"
)

// Secrets planted in the API's title and detail texts: none may reach
// UserMessage, String, LogValue or JobFailedError.Error.
const (
	plantedPassword = "hooli2016-S3cr3t!pw"
	plantedToken    = "eyJhbGciOiJIUzI1NiJ9.eyJzY29wZSI6IlNFUlZFUl9BQ0NFU1MifQ.planted-sig"
)

var plantedSecrets = []string{plantedPassword, plantedToken}

// diagWithSecrets appends the planted secrets to an API text (as a careless bank
// message might echo what it was sent).
func diagWithSecrets(s string) string {
	return s + " [login " + plantedPassword + " token " + plantedToken + "]"
}

// diagJobSpec describes a job to build as the JSON GET /jobs/{id} returns.
type diagJobSpec struct {
	failAt   basiq.StepName // the failed step; "" for none
	result   any            // the failed step's result: a map, or nil for JSON null
	noSource bool           // leave out links.source (ids then come from the verify-credentials URL)
	steps    []any          // explicit steps, replacing failAt/result
}

var diagConnectionSteps = []basiq.StepName{
	basiq.StepVerifyCredentials, basiq.StepRetrieveAccounts, basiq.StepRetrieveTransactions,
}

func diagFailure(code, title, detail string) map[string]any {
	return map[string]any{"code": code, "title": title, "detail": detail}
}

func diagSuccessStep(name basiq.StepName) map[string]any {
	var url string
	switch name {
	case basiq.StepVerifyCredentials:
		url = "/users/" + diagUserID + "/connections/" + diagConnID
	case basiq.StepRetrieveAccounts:
		url = "/users/" + diagUserID + "/accounts?filter=institution.id.eq('AU00000')"
	default:
		url = "/users/" + diagUserID + "/transactions?filter=institution.id.eq('AU00000')"
	}
	return map[string]any{"title": name, "status": "success", "result": map[string]any{"type": "link", "url": url}}
}

func diagPendingStep(name basiq.StepName) map[string]any {
	return map[string]any{"title": name, "status": "pending", "result": nil}
}

// diagBuildJob renders spec as the API's JSON and decodes it like the client does.
func diagBuildJob(t *testing.T, spec diagJobSpec) *basiq.Job {
	t.Helper()
	steps := spec.steps
	if steps == nil {
		seen := false
		for _, name := range diagConnectionSteps {
			switch {
			case name == spec.failAt:
				steps = append(steps, map[string]any{"title": name, "status": "failed", "result": spec.result})
				seen = true
			case seen || spec.failAt == "":
				if spec.failAt == "" {
					steps = append(steps, diagSuccessStep(name))
				} else {
					steps = append(steps, diagPendingStep(name))
				}
			default:
				steps = append(steps, diagSuccessStep(name))
			}
		}
		require.True(t, seen || spec.failAt == "", "unknown failAt %q", spec.failAt)
	}
	links := map[string]any{"self": "https://au-api.basiq.io/jobs/" + diagJobID}
	if !spec.noSource {
		links["source"] = "https://au-api.basiq.io/users/" + diagUserID + "/connections/" + diagConnID
	}
	raw, err := json.Marshal(map[string]any{
		"type": "job", "id": diagJobID, "jobType": "connection",
		"created": "2024-09-25T04:40:41Z", "updated": "2024-09-25T04:40:50Z",
		"steps": steps, "links": links,
	})
	require.NoError(t, err)
	var job basiq.Job
	require.NoError(t, json.Unmarshal(raw, &job))
	return &job
}

type diagnoseCase struct {
	name string
	spec diagJobSpec
	opts basiq.DiagnoseOptions

	action      basiq.Action
	step        basiq.StepName
	code        string
	retryAfter  time.Duration
	retryEvery  time.Duration
	giveUpAfter time.Duration
	noIDs       bool // the job reveals no user or connection id
}

const (
	diagVerify = basiq.StepVerifyCredentials
	diagAccts  = basiq.StepRetrieveAccounts
	diagTxns   = basiq.StepRetrieveTransactions
	diagMFA    = basiq.StepMFAChallenge
)

var diagAllOps = []basiq.Operation{basiq.OpCreate, basiq.OpRefresh, basiq.OpUpdate, basiq.OpUnknown}

func diagnoseCases() []diagnoseCase {
	const badLogin = "Cannot login to target institution using supplied credentials. Please check credentials and try again."
	invalidCreds := func(title, detail string) diagJobSpec {
		return diagJobSpec{failAt: diagVerify, result: diagFailure("invalid-credentials", diagWithSecrets(title), diagWithSecrets(detail))}
	}
	cs := []diagnoseCase{
		// invalid-credentials, by operation.
		{name: "invalid-credentials/create", spec: invalidCreds("Cannot login to target institution, check credentials.", badLogin),
			opts: basiq.DiagnoseOptions{Operation: basiq.OpCreate}, action: basiq.ActionCheckCredentials, step: diagVerify, code: "invalid-credentials"},
		{name: "invalid-credentials/update: the user just typed them", spec: invalidCreds("Cannot login", badLogin),
			opts: basiq.DiagnoseOptions{Operation: basiq.OpUpdate}, action: basiq.ActionCheckCredentials, step: diagVerify, code: "invalid-credentials"},
		{name: "invalid-credentials/refresh: password changed", spec: invalidCreds("Cannot login", badLogin),
			opts: basiq.DiagnoseOptions{Operation: basiq.OpRefresh}, action: basiq.ActionUpdateCredentials, step: diagVerify, code: "invalid-credentials"},
		{name: "invalid-credentials/unknown op behaves like refresh", spec: invalidCreds("Cannot login", badLogin),
			opts: basiq.DiagnoseOptions{}, action: basiq.ActionUpdateCredentials, step: diagVerify, code: "invalid-credentials"},
		{name: "invalid-credentials/op spelled unknown", spec: invalidCreds("Cannot login", badLogin),
			opts: basiq.DiagnoseOptions{Operation: "unknown"}, action: basiq.ActionUpdateCredentials, step: diagVerify, code: "invalid-credentials"},
		{name: "invalid-credentials/op in capitals", spec: invalidCreds("Cannot login", badLogin),
			opts: basiq.DiagnoseOptions{Operation: "CREATE"}, action: basiq.ActionCheckCredentials, step: diagVerify, code: "invalid-credentials"},
		{name: "invalid-credentials/code in capitals", spec: diagJobSpec{failAt: diagVerify, result: diagFailure("Invalid-Credentials", "Cannot login", diagWithSecrets(badLogin))},
			opts: basiq.DiagnoseOptions{Operation: basiq.OpCreate}, action: basiq.ActionCheckCredentials, step: diagVerify, code: "Invalid-Credentials"},
		{name: "invalid-credentials/status does not matter", spec: invalidCreds("Cannot login", badLogin),
			opts:   basiq.DiagnoseOptions{Operation: basiq.OpRefresh, InstitutionStatus: basiq.StatusMajorOutage, Attempt: 5},
			action: basiq.ActionUpdateCredentials, step: diagVerify, code: "invalid-credentials"},
		{name: "invalid-username-or-password/refresh", spec: diagJobSpec{failAt: diagVerify, result: diagFailure("invalid-username-or-password", "Bad login", diagWithSecrets("wrong password"))},
			opts: basiq.DiagnoseOptions{Operation: basiq.OpRefresh}, action: basiq.ActionUpdateCredentials, step: diagVerify, code: "invalid-username-or-password"},
		{name: "locked-account/refresh: confirm at the bank's site", spec: diagJobSpec{failAt: diagVerify, result: diagFailure("locked-account", "Locked", diagWithSecrets("The user is locked out of internet banking"))},
			opts: basiq.DiagnoseOptions{Operation: basiq.OpRefresh}, action: basiq.ActionCheckCredentials, step: diagVerify, code: "locked-account"},

		// invalid-credentials whose text says MFA is not supported: any operation.
		{name: "mfa-unsupported/detail/refresh", spec: invalidCreds("Cannot login", "MFA is not supported for this account."),
			opts: basiq.DiagnoseOptions{Operation: basiq.OpRefresh}, action: basiq.ActionDisableMFA, step: diagVerify, code: "invalid-credentials"},
		{name: "mfa-unsupported/title/create", spec: invalidCreds("Multi-Factor Authentication not supported", "Cannot login."),
			opts: basiq.DiagnoseOptions{Operation: basiq.OpCreate}, action: basiq.ActionDisableMFA, step: diagVerify, code: "invalid-credentials"},
		{name: "mfa-unsupported/2fa unsupported/update", spec: invalidCreds("Cannot login", "Two-factor authentication (2FA) is unsupported."),
			opts: basiq.DiagnoseOptions{Operation: basiq.OpUpdate}, action: basiq.ActionDisableMFA, step: diagVerify, code: "invalid-credentials"},
		{name: "mfa-unsupported/2FA not currently supported/unknown op", spec: invalidCreds("Cannot login", "2FA NOT CURRENTLY SUPPORTED"),
			opts: basiq.DiagnoseOptions{}, action: basiq.ActionDisableMFA, step: diagVerify, code: "invalid-credentials"},
		{name: "mfa-unsupported/multifactor unsupported/create", spec: invalidCreds("multi-factor-authentication", "This type of multifactor login is unsupported"),
			opts: basiq.DiagnoseOptions{Operation: basiq.OpCreate}, action: basiq.ActionDisableMFA, step: diagVerify, code: "invalid-credentials"},
		{name: "mfa-unsupported/the bank does not support/refresh", spec: invalidCreds("Cannot login", "Basiq does not support the two-step verification on this account"),
			opts: basiq.DiagnoseOptions{Operation: basiq.OpRefresh}, action: basiq.ActionDisableMFA, step: diagVerify, code: "invalid-credentials"},
		{name: "mfa-unsupported/no code, detail only/create", spec: diagJobSpec{failAt: diagVerify, result: diagFailure("", "", diagWithSecrets("The MFA challenge presented is not supported"))},
			opts: basiq.DiagnoseOptions{Operation: basiq.OpCreate}, action: basiq.ActionDisableMFA, step: diagVerify},
		{name: "mfa mentioned but supported/create", spec: invalidCreds("Cannot login", "Invalid MFA code entered."),
			opts: basiq.DiagnoseOptions{Operation: basiq.OpCreate}, action: basiq.ActionCheckCredentials, step: diagVerify, code: "invalid-credentials"},
		{name: "unsupported without mfa/refresh", spec: invalidCreds("Cannot login", "Unsupported account type."),
			opts: basiq.DiagnoseOptions{Operation: basiq.OpRefresh}, action: basiq.ActionUpdateCredentials, step: diagVerify, code: "invalid-credentials"},
		{name: "mfa inside a word is not mfa/create", spec: invalidCreds("Cannot login", "Comfa and comfast logins are not supported."),
			opts: basiq.DiagnoseOptions{Operation: basiq.OpCreate}, action: basiq.ActionCheckCredentials, step: diagVerify, code: "invalid-credentials"},

		// Generic failure with no detail (secrets only in the title, which is ignored).
		{name: "generic/create attempt 0 (=1)", spec: diagJobSpec{failAt: diagVerify, result: diagFailure("", diagWithSecrets("Error"), "")},
			opts: basiq.DiagnoseOptions{Operation: basiq.OpCreate}, action: basiq.ActionRetry, step: diagVerify},
		{name: "generic/create attempt 2", spec: diagJobSpec{failAt: diagVerify, result: diagFailure("", diagWithSecrets("Error"), "")},
			opts: basiq.DiagnoseOptions{Operation: basiq.OpCreate, Attempt: 2}, action: basiq.ActionRetry, step: diagVerify},
		{name: "generic/create attempt 3 escalates", spec: diagJobSpec{failAt: diagVerify, result: diagFailure("", diagWithSecrets("Error"), "")},
			opts: basiq.DiagnoseOptions{Operation: basiq.OpCreate, Attempt: 3}, action: basiq.ActionContactSupport, step: diagVerify},
		{name: "generic/update", spec: diagJobSpec{failAt: diagVerify, result: diagFailure("", "", "")},
			opts: basiq.DiagnoseOptions{Operation: basiq.OpUpdate, Attempt: 1}, action: basiq.ActionRetry, step: diagVerify},
		{name: "generic/null result on a failed step/create", spec: diagJobSpec{failAt: diagAccts, result: nil},
			opts: basiq.DiagnoseOptions{Operation: basiq.OpCreate}, action: basiq.ActionRetry, step: diagAccts},
		{name: "generic/unknown-error without detail/create", spec: diagJobSpec{failAt: diagVerify, result: diagFailure("unknown-error", diagWithSecrets("Unknown error"), "  ")},
			opts: basiq.DiagnoseOptions{Operation: basiq.OpCreate}, action: basiq.ActionRetry, step: diagVerify, code: "unknown-error"},
		{name: "generic/refresh operational: retry in 10 min", spec: diagJobSpec{failAt: diagTxns, result: diagFailure("", "", "")},
			opts: basiq.DiagnoseOptions{Operation: basiq.OpRefresh, InstitutionStatus: basiq.StatusOperational}, action: basiq.ActionRetryLater, step: diagTxns, retryAfter: 10 * time.Minute},
		{name: "generic/refresh attempt 3 escalates", spec: diagJobSpec{failAt: diagTxns, result: diagFailure("", "", "")},
			opts: basiq.DiagnoseOptions{Operation: basiq.OpRefresh, Attempt: 3}, action: basiq.ActionContactSupport, step: diagTxns},
		{name: "generic/refresh major outage", spec: diagJobSpec{failAt: diagTxns, result: diagFailure("", "", "")},
			opts: basiq.DiagnoseOptions{Operation: basiq.OpRefresh, InstitutionStatus: basiq.StatusMajorOutage}, action: basiq.ActionWaitForInstitution, step: diagTxns, retryAfter: time.Hour, retryEvery: time.Hour},
		{name: "generic/unknown op partial outage", spec: diagJobSpec{failAt: diagTxns, result: diagFailure("", "", "")},
			opts: basiq.DiagnoseOptions{InstitutionStatus: basiq.StatusPartialOutage}, action: basiq.ActionRetryLater, step: diagTxns, retryAfter: time.Hour},
		{name: "no code but a detail/create", spec: diagJobSpec{failAt: diagAccts, result: diagFailure("", "", diagWithSecrets("Something specific happened"))},
			opts: basiq.DiagnoseOptions{Operation: basiq.OpCreate}, action: basiq.ActionContactSupport, step: diagAccts},

		// Popup / T&Cs at the bank: any operation, any step.
		{name: "account-not-accessible/create", spec: diagJobSpec{failAt: diagAccts, result: diagFailure("account-not-accessible-requires-user-action", "Action required", diagWithSecrets("Accept the new terms"))},
			opts: basiq.DiagnoseOptions{Operation: basiq.OpCreate}, action: basiq.ActionResolveAtBank, step: diagAccts, code: "account-not-accessible-requires-user-action"},
		{name: "account-not-accessible/refresh major outage", spec: diagJobSpec{failAt: diagTxns, result: diagFailure("account-not-accessible-requires-user-action", "Action required", diagWithSecrets("Accept the new terms"))},
			opts: basiq.DiagnoseOptions{Operation: basiq.OpRefresh, InstitutionStatus: basiq.StatusMajorOutage, Attempt: 4}, action: basiq.ActionResolveAtBank, step: diagTxns, code: "account-not-accessible-requires-user-action"},
		{name: "account-not-accessible/unknown op", spec: diagJobSpec{failAt: diagVerify, result: diagFailure("account-not-accessible-requires-user-action", "", "")},
			opts: basiq.DiagnoseOptions{}, action: basiq.ActionResolveAtBank, step: diagVerify, code: "account-not-accessible-requires-user-action"},
		{name: "user-action-required/update", spec: diagJobSpec{failAt: diagAccts, result: diagFailure("user-action-required", "User action required", diagWithSecrets("Popup"))},
			opts: basiq.DiagnoseOptions{Operation: basiq.OpUpdate}, action: basiq.ActionResolveAtBank, step: diagAccts, code: "user-action-required"},

		// service-unavailable on an update: Basiq's 2-hourly retry for 7 days, whatever the status or attempt.
		{name: "service-unavailable/update", spec: diagJobSpec{failAt: diagAccts, result: diagFailure("service-unavailable", "Service unavailable", diagWithSecrets("The bank is down"))},
			opts: basiq.DiagnoseOptions{Operation: basiq.OpUpdate, InstitutionStatus: basiq.StatusOperational}, action: basiq.ActionWaitForBasiqRetry, step: diagAccts, code: "service-unavailable",
			retryAfter: 2 * time.Hour, retryEvery: 2 * time.Hour, giveUpAfter: 7 * 24 * time.Hour},
		{name: "service-unavailable/update major outage attempt 5", spec: diagJobSpec{failAt: diagVerify, result: diagFailure("service-unavailable", "", "")},
			opts: basiq.DiagnoseOptions{Operation: basiq.OpUpdate, InstitutionStatus: basiq.StatusMajorOutage, Attempt: 5}, action: basiq.ActionWaitForBasiqRetry, step: diagVerify, code: "service-unavailable",
			retryAfter: 2 * time.Hour, retryEvery: 2 * time.Hour, giveUpAfter: 7 * 24 * time.Hour},
		{name: "maintenance/update is not Basiq's retry", spec: diagJobSpec{failAt: diagVerify, result: diagFailure("maintenance", "", "")},
			opts: basiq.DiagnoseOptions{Operation: basiq.OpUpdate}, action: basiq.ActionRetryLater, step: diagVerify, code: "maintenance", retryAfter: 10 * time.Minute},

		// Consent flows.
		{name: "MFA prompt with ids only in links.source", spec: diagJobSpec{steps: []any{
			map[string]any{"title": diagVerify, "status": "success", "result": map[string]any{"type": "link", "url": "/users/" + diagUserID + "/connections/" + diagConnID}},
			map[string]any{"title": diagMFA, "status": "in-progress", "result": map[string]any{
				"type": "mfa", "method": "token", "description": "A SMS code has been sent to your device, please enter valid number.",
				"input": []string{"We sent a code by SMS to your mobile number XXXX XXX 178."}, "expiryMs": 120000,
				"links": map[string]any{"response": "https://au-api.basiq.io/jobs/" + diagJobID + "/mfa"}}},
			diagPendingStep(diagAccts), diagPendingStep(diagTxns)}},
			opts: basiq.DiagnoseOptions{Operation: basiq.OpCreate}, action: basiq.ActionAnswerMFA, step: diagMFA, retryAfter: 2 * time.Minute, giveUpAfter: 2 * time.Minute},
		{name: "answered MFA prompt (step succeeded) needs nothing", spec: diagJobSpec{steps: []any{
			diagSuccessStep(diagVerify),
			map[string]any{"title": diagMFA, "status": "success", "result": map[string]any{"type": "mfa", "method": "token", "input": []string{"Code"}, "expiryMs": 120000}},
			diagSuccessStep(diagAccts), map[string]any{"title": diagTxns, "status": "in-progress", "result": nil}}},
			opts: basiq.DiagnoseOptions{Operation: basiq.OpCreate}, action: basiq.ActionNone, step: diagTxns},
		{name: "a failure wins over an MFA prompt", spec: diagJobSpec{steps: []any{
			diagSuccessStep(diagVerify),
			map[string]any{"title": diagMFA, "status": "in-progress", "result": map[string]any{"type": "mfa", "input": []string{"Code"}, "expiryMs": 60000}},
			map[string]any{"title": diagAccts, "status": "failed", "result": diagFailure("job-timed-out", "", diagWithSecrets("timed out"))}}},
			opts: basiq.DiagnoseOptions{Operation: basiq.OpCreate}, action: basiq.ActionContactSupport, step: diagAccts, code: "job-timed-out"},

		// Anything else is terminal: support, never retried.
		{name: "job-timed-out/refresh", spec: diagJobSpec{failAt: diagTxns, result: diagFailure("job-timed-out", "Job timed out", diagWithSecrets("Job exceeded the time limit"))},
			opts: basiq.DiagnoseOptions{Operation: basiq.OpRefresh, InstitutionStatus: basiq.StatusOperational}, action: basiq.ActionContactSupport, step: diagTxns, code: "job-timed-out"},
		{name: "unknown code/create attempt 1", spec: diagJobSpec{failAt: diagVerify, result: diagFailure("brand-new-code", diagWithSecrets("New"), diagWithSecrets("New failure"))},
			opts: basiq.DiagnoseOptions{Operation: basiq.OpCreate, Attempt: 1}, action: basiq.ActionContactSupport, step: diagVerify, code: "brand-new-code"},
		{name: "institution-disabled/update", spec: diagJobSpec{failAt: diagVerify, result: diagFailure("institution-disabled", "", "")},
			opts: basiq.DiagnoseOptions{Operation: basiq.OpUpdate}, action: basiq.ActionContactSupport, step: diagVerify, code: "institution-disabled"},
		{name: "invalid-connection/unknown op", spec: diagJobSpec{failAt: diagVerify, result: diagFailure("invalid-connection", "", "Connection is invalid")},
			opts: basiq.DiagnoseOptions{}, action: basiq.ActionContactSupport, step: diagVerify, code: "invalid-connection"},

		// Nothing wrong.
		{name: "succeeded", spec: diagJobSpec{},
			opts: basiq.DiagnoseOptions{Operation: basiq.OpRefresh}, action: basiq.ActionNone},
		{name: "running", spec: diagJobSpec{steps: []any{diagSuccessStep(diagVerify), map[string]any{"title": diagAccts, "status": "in-progress", "result": nil}, diagPendingStep(diagTxns)}},
			opts: basiq.DiagnoseOptions{Operation: basiq.OpCreate}, action: basiq.ActionNone, step: diagAccts},
		{name: "pending, before links.source is known", spec: diagJobSpec{noSource: true, steps: []any{diagPendingStep(diagVerify), diagPendingStep(diagAccts), diagPendingStep(diagTxns)}},
			opts: basiq.DiagnoseOptions{Operation: basiq.OpCreate}, action: basiq.ActionNone, step: diagVerify, noIDs: true},
		{name: "ids from the verify-credentials result when links.source is missing", spec: diagJobSpec{noSource: true, failAt: diagTxns, result: diagFailure("user-action-required", "", "")},
			opts: basiq.DiagnoseOptions{Operation: basiq.OpRefresh}, action: basiq.ActionResolveAtBank, step: diagTxns, code: "user-action-required"},
	}

	for _, op := range diagAllOps {
		cs = append(cs, diagnoseCase{name: "authorization-failed/" + op.String(),
			spec: diagJobSpec{failAt: diagVerify, result: diagFailure("authorization-failed", "Authorization failed", diagWithSecrets("access_denied"))},
			opts: basiq.DiagnoseOptions{Operation: op, InstitutionStatus: basiq.StatusOperational}, action: basiq.ActionReconnect, step: diagVerify, code: "authorization-failed"})
	}

	// Institution-side codes on every operation but update (and the other
	// codes on update too): the institution's status and the attempt decide.
	outageCodes := []string{"service-unavailable", "maintenance", "system-unavailable", "connector-error", "institution-not-available"}
	type statusRow struct {
		status     basiq.InstitutionStatus
		attempt    int
		action     basiq.Action
		retryAfter time.Duration
		retryEvery time.Duration
	}
	statusRows := []statusRow{
		{basiq.StatusMajorOutage, 1, basiq.ActionWaitForInstitution, time.Hour, time.Hour},
		{basiq.StatusMajorOutage, 5, basiq.ActionWaitForInstitution, time.Hour, time.Hour},
		{"Major Outage", 1, basiq.ActionWaitForInstitution, time.Hour, time.Hour},
		{basiq.StatusPartialOutage, 1, basiq.ActionRetryLater, time.Hour, 0},
		{basiq.StatusPartialOutage, 2, basiq.ActionRetryLater, time.Hour, 0},
		{basiq.StatusPartialOutage, 3, basiq.ActionContactSupport, 0, 0}, // seed 001: any status but major-outage escalates
		{basiq.StatusPartialOutage, 4, basiq.ActionContactSupport, 0, 0},
		{basiq.StatusOperational, 0, basiq.ActionRetryLater, 10 * time.Minute, 0},
		{basiq.StatusOperational, 1, basiq.ActionRetryLater, 10 * time.Minute, 0},
		{basiq.StatusOperational, 2, basiq.ActionRetryLater, 10 * time.Minute, 0},
		{basiq.StatusOperational, 3, basiq.ActionContactSupport, 0, 0},
		{basiq.StatusOperational, 4, basiq.ActionContactSupport, 0, 0},
		{basiq.StatusDegradedPerformance, 2, basiq.ActionRetryLater, 10 * time.Minute, 0},
		{basiq.StatusDegradedPerformance, 3, basiq.ActionContactSupport, 0, 0},
		{basiq.StatusUnderMaintenance, 1, basiq.ActionRetryLater, 10 * time.Minute, 0},
		{basiq.StatusScheduledMaintenance, 1, basiq.ActionRetryLater, 10 * time.Minute, 0},
		{basiq.StatusUnderImprovement, 3, basiq.ActionContactSupport, 0, 0},
		{"", 1, basiq.ActionRetryLater, 10 * time.Minute, 0},
		{"", 3, basiq.ActionContactSupport, 0, 0},
		{"on-fire", 2, basiq.ActionRetryLater, 10 * time.Minute, 0},
		{"on-fire", 3, basiq.ActionContactSupport, 0, 0},
	}
	for _, code := range outageCodes {
		for _, op := range diagAllOps {
			if op == basiq.OpUpdate && code == "service-unavailable" {
				continue // Basiq's own retry, above
			}
			for _, row := range statusRows {
				cs = append(cs, diagnoseCase{
					name:   fmt.Sprintf("%s/%s/status=%q/attempt=%d", code, op, row.status, row.attempt),
					spec:   diagJobSpec{failAt: diagAccts, result: diagFailure(code, diagWithSecrets("Unavailable"), diagWithSecrets("The institution could not serve the request"))},
					opts:   basiq.DiagnoseOptions{Operation: op, InstitutionStatus: row.status, Attempt: row.attempt},
					action: row.action, step: diagAccts, code: code, retryAfter: row.retryAfter, retryEvery: row.retryEvery,
				})
			}
		}
	}
	return cs
}

func TestDiagnoseTable(t *testing.T) {
	for _, tc := range diagnoseCases() {
		t.Run(tc.name, func(t *testing.T) {
			job := diagBuildJob(t, tc.spec)
			d := basiq.Diagnose(job, tc.opts)

			assert.Equal(t, tc.action, d.Action, "action")
			assert.Equal(t, tc.step, d.Step, "step")
			assert.Equal(t, tc.code, d.Code, "code")
			assert.Equal(t, tc.retryAfter, d.RetryAfter, "RetryAfter")
			assert.Equal(t, tc.retryEvery, d.RetryEvery, "RetryEvery")
			assert.Equal(t, tc.giveUpAfter, d.GiveUpAfter, "GiveUpAfter")
			assert.Equal(t, tc.opts.InstitutionStatus, d.InstitutionStatus, "InstitutionStatus is kept as given")
			assert.Contains(t, diagAllOps, d.Operation, "operation is normalized")

			assert.Equal(t, diagJobID, d.JobID)
			if tc.noIDs {
				assert.Empty(t, d.UserID)
				assert.Empty(t, d.ConnectionID)
			} else {
				assert.Equal(t, diagUserID, d.UserID)
				assert.Equal(t, diagConnID, d.ConnectionID)
			}

			if tc.action == basiq.ActionAnswerMFA {
				require.NotNil(t, d.MFA)
				assert.Equal(t, "token", d.MFA.Method)
				assert.Equal(t, []string{"We sent a code by SMS to your mobile number XXXX XXX 178."}, d.MFA.Input)
				assert.Equal(t, "https://au-api.basiq.io/jobs/"+diagJobID+"/mfa", d.MFA.ResponseURL)
				assert.True(t, d.Action.UserMustAct())
			} else {
				assert.Nil(t, d.MFA)
			}

			// What an app shows or logs never carries the bank's text.
			assert.NotEmpty(t, d.UserMessage)
			logged := diagLogJSON(t, d)
			failedErr := (&basiq.JobFailedError{Job: job, Diagnosis: d}).Error()
			for _, secret := range plantedSecrets {
				assert.NotContains(t, d.UserMessage, secret, "UserMessage")
				assert.NotContains(t, d.String(), secret, "String")
				assert.NotContains(t, logged, secret, "LogValue")
				assert.NotContains(t, failedErr, secret, "JobFailedError")
			}
			// ...while Detail keeps it for support.
			if step, ok := job.FailedStep(); ok && step.Result != nil {
				want := strings.TrimSpace(step.Result.Detail)
				if want == "" {
					want = strings.TrimSpace(step.Result.Title)
				}
				assert.Equal(t, want, d.Detail)
			}

			// The three ids ride along in every log record.
			var rec struct {
				Diagnosis map[string]any `json:"diagnosis"`
			}
			require.NoError(t, json.Unmarshal([]byte(logged), &rec))
			assert.Equal(t, d.UserID, rec.Diagnosis["user_id"])
			assert.Equal(t, d.ConnectionID, rec.Diagnosis["connection_id"])
			assert.Equal(t, diagJobID, rec.Diagnosis["job_id"])
			assert.Equal(t, string(tc.action), rec.Diagnosis["action"])
			assert.Equal(t, d.Operation.String(), rec.Diagnosis["operation"])
			if tc.code != "" {
				assert.Equal(t, tc.code, rec.Diagnosis["code"])
			} else {
				assert.NotContains(t, rec.Diagnosis, "code")
			}
			if tc.step != "" {
				assert.Equal(t, string(tc.step), rec.Diagnosis["step"])
			}
		})
	}
}

// diagLogJSON logs d as slog's JSON handler renders it.
func diagLogJSON(t *testing.T, d basiq.Diagnosis) string {
	t.Helper()
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("job diagnosed", "diagnosis", d)
	return buf.String()
}

func TestDiagnoseLogValueKeys(t *testing.T) {
	job := diagBuildJob(t, diagJobSpec{failAt: diagAccts, result: diagFailure("service-unavailable", "", diagWithSecrets("down"))})
	d := basiq.Diagnose(job, basiq.DiagnoseOptions{Operation: basiq.OpUpdate, InstitutionStatus: basiq.StatusPartialOutage})

	var rec struct {
		Diagnosis map[string]any `json:"diagnosis"`
	}
	require.NoError(t, json.Unmarshal([]byte(diagLogJSON(t, d)), &rec))
	assert.Equal(t, map[string]any{
		"user_id":            diagUserID,
		"connection_id":      diagConnID,
		"job_id":             diagJobID,
		"code":               "service-unavailable",
		"step":               "retrieve-accounts",
		"action":             "wait-for-basiq-retry",
		"operation":          "update",
		"retry_after":        float64(2 * time.Hour),
		"retry_every":        float64(2 * time.Hour),
		"give_up_after":      float64(7 * 24 * time.Hour),
		"institution_status": "partial-outage",
	}, rec.Diagnosis)
}

func TestDiagnoseNilAndEmptyJobs(t *testing.T) {
	var d basiq.Diagnosis
	require.NotPanics(t, func() {
		d = basiq.Diagnose(nil, basiq.DiagnoseOptions{Operation: basiq.OpRefresh, InstitutionStatus: basiq.StatusMajorOutage, Attempt: 9})
	})
	assert.Equal(t, basiq.ActionNone, d.Action)
	assert.Equal(t, basiq.OpRefresh, d.Operation)
	assert.Empty(t, d.JobID+d.UserID+d.ConnectionID+d.Code+string(d.Step)+d.UserMessage)
	assert.NotEmpty(t, d.String())
	assert.Contains(t, diagLogJSON(t, d), `"job_id":""`)

	// A job stub, as POST /connections returns it.
	var stub basiq.Job
	require.NoError(t, json.Unmarshal([]byte(`{"type":"job","id":"`+diagJobID+`","links":{"self":"https://au-api.basiq.io/jobs/`+diagJobID+`"}}`), &stub))
	d = basiq.Diagnose(&stub, basiq.DiagnoseOptions{Operation: basiq.OpCreate})
	assert.Equal(t, basiq.ActionNone, d.Action)
	assert.Equal(t, diagJobID, d.JobID)
	assert.NotEmpty(t, d.UserMessage)

	// The zero Diagnosis formats and logs without panicking.
	var zero basiq.Diagnosis
	assert.Contains(t, zero.String(), "none")
	assert.Contains(t, diagLogJSON(t, zero), `"action":"none"`)
}

func TestDiagnoseMFAPromptIsACopy(t *testing.T) {
	job := diagBuildJob(t, diagJobSpec{steps: []any{
		diagSuccessStep(diagVerify),
		map[string]any{"title": diagMFA, "status": "in-progress", "result": map[string]any{"type": "mfa", "method": "security-questions",
			"description": "Answer your security questions", "input": []string{"First pet?", "First school?"}, "expiryMs": 90000}},
	}})
	d := basiq.Diagnose(job, basiq.DiagnoseOptions{Operation: basiq.OpRefresh})
	require.Equal(t, basiq.ActionAnswerMFA, d.Action)
	require.NotNil(t, d.MFA)
	assert.Equal(t, 90*time.Second, d.RetryAfter)
	assert.Equal(t, 90*time.Second, d.GiveUpAfter)
	assert.Equal(t, []string{"First pet?", "First school?"}, d.MFA.Input)

	d.MFA.Input[0] = "changed"
	step, _ := job.Step(diagMFA)
	assert.Equal(t, "First pet?", step.Result.Input[0], "the job's prompt is not shared")
}

func TestDiagnosisString(t *testing.T) {
	job := diagBuildJob(t, diagJobSpec{failAt: diagTxns, result: diagFailure("service-unavailable", "", diagWithSecrets("down"))})
	d := basiq.Diagnose(job, basiq.DiagnoseOptions{Operation: basiq.OpRefresh, InstitutionStatus: basiq.StatusOperational})
	assert.Equal(t,
		"job "+diagJobID+" (user "+diagUserID+", connection "+diagConnID+"): step retrieve-transactions: service-unavailable on refresh: retry-later (after 10m0s)",
		d.String())
}

func TestDiagnosisActionUserMustAct(t *testing.T) {
	mustAct := map[basiq.Action]bool{
		basiq.ActionNone:               false,
		basiq.ActionCheckCredentials:   true,
		basiq.ActionUpdateCredentials:  true,
		basiq.ActionDisableMFA:         true,
		basiq.ActionRetry:              false,
		basiq.ActionResolveAtBank:      true,
		basiq.ActionWaitForBasiqRetry:  false,
		basiq.ActionWaitForInstitution: false,
		basiq.ActionRetryLater:         false,
		basiq.ActionReconnect:          true,
		basiq.ActionAnswerMFA:          true,
		basiq.ActionContactSupport:     false,
		basiq.ActionCheckStatement:     true,
		basiq.ActionCheckReportFilters: false,
		"":                             false,
		"something-new":                false,
	}
	for a, want := range mustAct {
		assert.Equal(t, want, a.UserMustAct(), "%q", a)
	}
}

func TestDiagnosisOperationString(t *testing.T) {
	for op, want := range map[basiq.Operation]string{
		basiq.OpCreate: "create", basiq.OpRefresh: "refresh", basiq.OpUpdate: "update",
		basiq.OpUnknown: "unknown", "unknown": "unknown", "Refresh": "refresh", "delete": "unknown",
	} {
		assert.Equal(t, want, op.String(), "%q", op)
	}
}

func TestDiagnoseUserMessagesDifferByAction(t *testing.T) {
	// Each action tells the user something of its own (RetryLater has two:
	// a partial outage names the bank's problems).
	seen := map[string]basiq.Action{}
	for _, tc := range diagnoseCases() {
		d := basiq.Diagnose(diagBuildJob(t, tc.spec), tc.opts)
		if prev, ok := seen[d.UserMessage]; ok {
			assert.Equal(t, prev, d.Action, "message %q shared by two actions", d.UserMessage)
		}
		seen[d.UserMessage] = d.Action
	}
	partial := basiq.Diagnose(diagBuildJob(t, diagJobSpec{failAt: diagAccts, result: diagFailure("service-unavailable", "", "")}),
		basiq.DiagnoseOptions{Operation: basiq.OpRefresh, InstitutionStatus: basiq.StatusPartialOutage})
	major := basiq.Diagnose(diagBuildJob(t, diagJobSpec{failAt: diagAccts, result: diagFailure("service-unavailable", "", "")}),
		basiq.DiagnoseOptions{Operation: basiq.OpRefresh, InstitutionStatus: basiq.StatusMajorOutage})
	assert.Contains(t, partial.UserMessage, "bank is having")
	assert.Contains(t, major.UserMessage, "bank is having problems")
}

func TestDiagnosisJobFailedError(t *testing.T) {
	job := diagBuildJob(t, diagJobSpec{failAt: diagVerify, result: diagFailure("invalid-credentials", diagWithSecrets("Cannot login"), diagWithSecrets("bad login"))})
	step, ok := job.FailedStep()
	require.True(t, ok)
	d := basiq.Diagnose(job, basiq.DiagnoseOptions{Operation: basiq.OpRefresh})

	var err error = &basiq.JobFailedError{Job: job, Step: step, Diagnosis: d}
	assert.Equal(t, "basiq: job "+diagJobID+" failed at step verify-credentials: invalid-credentials (action: update-credentials)", err.Error())

	var jf *basiq.JobFailedError
	require.True(t, errors.As(fmt.Errorf("waiting: %w", err), &jf))
	assert.Equal(t, basiq.ActionUpdateCredentials, jf.Diagnosis.Action)

	// Without a Diagnosis it still names the job, step and code.
	bare := &basiq.JobFailedError{Job: job, Step: step}
	assert.Equal(t, "basiq: job "+diagJobID+" failed at step verify-credentials: invalid-credentials (action: none)", bare.Error())
	assert.Equal(t, "basiq: job unknown failed at step unknown: no error code (action: none)", (&basiq.JobFailedError{}).Error())
}
