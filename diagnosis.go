package basiq

import (
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// Operation is what started a job: creating a connection, refreshing it, or
// updating its credentials. The same step failure calls for a different
// action depending on it: invalid-credentials on a create means the user
// mistyped, on a refresh that they probably changed their password.
type Operation string

// Operations. OpUnknown is the zero value; Diagnose treats any value it does
// not list (including "unknown") as OpUnknown.
const (
	OpUnknown Operation = ""
	OpCreate  Operation = "create"  // Connections.Create
	OpRefresh Operation = "refresh" // Connections.Refresh, RefreshAll, RefreshIfStale
	OpUpdate  Operation = "update"  // Connections.Update (new credentials)
)

// String returns the operation's name, "unknown" for OpUnknown.
func (o Operation) String() string {
	if n := o.normalize(); n != OpUnknown {
		return string(n)
	}
	return "unknown"
}

// normalize maps o onto one of the four constants, ignoring case and space.
func (o Operation) normalize() Operation {
	switch n := Operation(strings.ToLower(strings.TrimSpace(string(o)))); n {
	case OpCreate, OpRefresh, OpUpdate:
		return n
	}
	return OpUnknown
}

// Action is what an application should do about a job, as recommended by
// Diagnose.
type Action string

// Actions, following Basiq's guidance on handling jobs (see Diagnose).
const (
	// ActionNone: nothing to do; the job succeeded or is still running.
	ActionNone Action = "none"
	// ActionCheckCredentials: the bank rejected the login details the user has
	// just entered. Ask them to check and re-enter them; it can help to first
	// log in through the bank's web site (not its app) to confirm they work.
	ActionCheckCredentials Action = "check-credentials"
	// ActionUpdateCredentials: saved login details stopped working, most likely
	// because the user changed their password. When the user next returns,
	// ask for their current details: on API 2.1 call Connections.Update; on
	// 3.0 send them to the Consent UI with the connection's id
	// (Diagnosis.Consent, Consents.URL), where they enter them.
	ActionUpdateCredentials Action = "update-credentials"
	// ActionDisableMFA: the bank asked for a kind of multi-factor
	// authentication Basiq does not support. The user tries logging in
	// without it at the bank's web site, then connects again.
	ActionDisableMFA Action = "disable-mfa"
	// ActionRetry: a generic failure with no detail; retry the operation now.
	ActionRetry Action = "retry"
	// ActionResolveAtBank: the bank shows a popup or new terms that only the
	// user can accept. The user logs in to internet banking, opens their
	// accounts and transactions, clears whatever is asked, then the
	// application refreshes the connection.
	ActionResolveAtBank Action = "resolve-at-bank"
	// ActionWaitForBasiqRetry: Basiq itself retries the job every 2 hours for
	// up to 7 days (service-unavailable on an update). Do not retry; poll the
	// job slowly and tell the user you will let them know when the data is
	// ready.
	ActionWaitForBasiqRetry Action = "wait-for-basiq-retry"
	// ActionWaitForInstitution: the bank is in a major outage. Tell the user
	// their bank is having problems, and defer by 1 to 3 hours or retry
	// every hour.
	ActionWaitForInstitution Action = "wait-for-institution"
	// ActionRetryLater: the bank could not serve the request; retry after
	// Diagnosis.RetryAfter. Nobody retries unless the application does:
	// neither the SDK nor Basiq retries a failed create or refresh (Basiq's
	// own 2-hourly retries are for updates: ActionWaitForBasiqRetry). Retry
	// with Connections.Refresh(ctx, userID, ConnectionID) once RetryAfter has
	// passed, counting the attempt (DiagnoseOptions.Attempt, PollOptions.Attempt):
	// from attempt 3 the Diagnosis says ActionContactSupport instead. On a
	// create or an update the UserMessage promises nothing; on a refresh (the
	// application's own, usually with nobody there) it says "we'll try
	// again", which is true only if the application does. On API 3.0, when
	// the connection's bank asks for MFA (DiagnoseOptions.MFA), the retry
	// needs the user: Diagnosis.Consent is set (the Consent UI on the
	// connection, where the user answers the bank), and a background refresh
	// must not be tried.
	ActionRetryLater Action = "retry-later"
	// ActionReconnect: the bank refused access in a consent (open banking)
	// flow; send the user through the consent flow again.
	ActionReconnect Action = "reconnect"
	// ActionAnswerMFA: the bank sent a multi-factor challenge
	// (Diagnosis.MFA). Collect one answer per MFA.Input label and call
	// Jobs.SubmitMFA before the prompt expires.
	ActionAnswerMFA Action = "answer-mfa"
	// ActionContactSupport: nothing the user or a retry can fix. Report the
	// user, connection and job ids (and Diagnosis.Detail) to Basiq support.
	ActionContactSupport Action = "contact-support"
	// ActionCheckStatement: Basiq could not read an uploaded statement
	// (Statements.Upload), or does not support statements of that bank.
	// Ask the user for their bank's official PDF statement (or a CSV in
	// Basiq's format) of the institution it was uploaded for, and upload
	// it again; Diagnosis.Detail says what was wrong.
	ActionCheckStatement Action = "check-statement"
	// ActionCheckReportFilters: a report could not be made from what its
	// filters name (a user or account without retrieved data, a period
	// with none, a filter the type does not take). Fix the filters
	// (Reports.Types lists each type's), connect or refresh the data if
	// it is missing, and create the report again; Diagnosis.Detail says
	// what was wrong. The application acts, not its user.
	ActionCheckReportFilters Action = "check-report-filters"
)

// UserMustAct reports whether only the end user can move things on: true for
// ActionCheckCredentials, ActionUpdateCredentials, ActionDisableMFA,
// ActionResolveAtBank, ActionReconnect, ActionAnswerMFA and
// ActionCheckStatement. Retrying
// without the user's help will not fix these, and only loads the bank.
func (a Action) UserMustAct() bool {
	switch a {
	case ActionCheckCredentials, ActionUpdateCredentials, ActionDisableMFA,
		ActionResolveAtBank, ActionReconnect, ActionAnswerMFA, ActionCheckStatement:
		return true
	}
	return false
}

// Timings from Basiq's guidance (seeds "Handling jobs" and "Connector status").
const (
	// basiqRetryEvery is the interval of Basiq's own retry of an update that
	// failed with service-unavailable.
	basiqRetryEvery = 2 * time.Hour
	// basiqRetryWindow is how long Basiq keeps retrying it.
	basiqRetryWindow = 7 * 24 * time.Hour
	// escalateAttempt is the attempt from which a failure that retrying has
	// not cleared goes to support ("after a couple of retries").
	escalateAttempt = 3
)

// Error codes Diagnose recognises (from Basiq's error code pages and job
// guidance). Codes are compared
// without regard to case.
const (
	codeInvalidCredentials    = "invalid-credentials"
	codeInvalidUsernameOrPass = "invalid-username-or-password" // a sub-case of invalid-credentials
	codeLockedAccount         = "locked-account"               // the bank locked the user out
	codeAccountNotAccessible  = "account-not-accessible-requires-user-action"
	codeUserActionRequired    = "user-action-required"
	// codeConnectionInvalid is not Basiq's: it is the Code of the Diagnosis
	// Connections.Health gives an invalid connection with no failed job.
	codeConnectionInvalid       = "connection-invalid"
	codeConnectionPreInit       = "connection-pre-init" // likewise, for a pre-init one
	codeServiceUnavailable      = "service-unavailable"
	codeMaintenance             = "maintenance"
	codeSystemUnavailable       = "system-unavailable"
	codeConnectorError          = "connector-error"
	codeInstitutionNotAvailable = "institution-not-available"
	codeAuthorizationFailed     = "authorization-failed"
	codeUnknownError            = "unknown-error"
	prefixStatement             = "bank-statement-" // an uploaded PDF: -invalid, -not-supported, -parsing-error, -new-product
	codeNone                    = ""
)

// User messages, one per action (two for ActionRetryLater).
const (
	userMessageNoneRunning       = "We're fetching your data from your bank."
	userMessageNoneDone          = "Your data has been fetched from your bank."
	userMessageCheckCredentials  = "Your bank didn't accept those login details. Please check them and try again; it can help to first log in on your bank's website (not its app) to make sure they work."
	userMessageUpdateCredentials = "We couldn't log in to your bank with your saved details. If you've changed your internet banking password, please enter your current login details."
	userMessageDisableMFA        = "Your bank asked for a kind of multi-factor authentication we can't use. Please try logging in to your bank's website without it, then connect again here."
	userMessageRetry             = "Something went wrong while connecting to your bank. Please try again."
	userMessageResolveAtBank     = "Your bank needs you to do something first: log in to your internet banking, open your accounts and transactions, and respond to any message or new terms shown there. Then we can try again."
	userMessageWaitForBasiqRetry = "There's a problem fetching data from your bank. We'll keep trying and let you know when your data is ready."
	userMessageWaitForInst       = "Your bank is having problems at the moment, so we couldn't fetch your data. We'll try again later and let you know when your data is ready."
	userMessagePartialOutage     = "Your bank is having some problems at the moment. We'll try again in an hour and let you know when your data is ready."
	userMessageRetryLater        = "There was a problem fetching data from your bank. We'll try again shortly and let you know when your data is ready."
	userMessageWaitForInstUser   = "Your bank is having problems at the moment, so we couldn't fetch your data. This can take an hour or more to clear."
	userMessageRetryLaterUser    = "We couldn't reach your bank just now. This usually clears up within minutes."
	userMessagePartialOutageUser = "Your bank is having some problems at the moment. This usually clears up within the hour."
	userMessageReconnect         = "Your bank didn't give us access to your data. Please connect your bank again and approve access when asked."
	userMessageFinishConnecting  = "You didn't finish connecting your bank. Please connect it again and approve access at your bank when asked."
	userMessageReconnectInvalid  = "Your bank connection has stopped working. Please reconnect your bank to keep your data up to date."
	userMessageAnswerMFA         = "Your bank has sent a security check. Please enter the code or answers it asks for to continue."
	userMessageMFARejectedV3     = "Your bank's security check wasn't answered, or the answer wasn't accepted. Please reconnect your bank and answer the check when your bank asks."
	userMessageMFARejected       = "Your bank didn't accept the answer to its security check, or it wasn't given in time. Please try again, and enter the code or answers it asks for when it asks."
	userMessageContactSupport    = "We couldn't fetch your data from your bank. We're looking into it and will let you know when it's fixed."
	userMessageCheckStatement    = "We couldn't read that statement. Please upload the official PDF statement from your bank's website, for the bank you chose."
	userMessageReportRunning     = "We're preparing your report."
	userMessageReportDone        = "Your report is ready."
	userMessageReportRetry       = "We couldn't prepare your report this time. Please try again in a few minutes."
	userMessageReportSupport     = "We couldn't prepare your report. We're looking into it and will let you know when it's ready."
	userMessageReportFilters     = "We couldn't prepare your report from the accounts and dates chosen. Please check that your bank is connected and try again."
)

// DiagnoseOptions is what Diagnose needs to know beyond the job itself.
type DiagnoseOptions struct {
	// APIVersion is the API version the job runs under; zero means V3, the
	// default. On 3.0 every remedy that needs the user's credentials or
	// consent goes through the Consent UI (Diagnosis.Consent), and the user
	// messages speak of reconnecting the bank.
	APIVersion APIVersion
	// InstitutionID is the job's institution, when known (a v3 job does not
	// name it); it goes into Diagnosis.Consent for a new connection.
	InstitutionID string
	// ConnectionID is the connection the job is for, when the caller knows
	// it and the job does not name it yet (Connections.Health attributes such
	// jobs by institution). The job's own links.source wins.
	ConnectionID string
	// MFA says the connection's bank asks for multi-factor authentication
	// at every login (Connection.MFAEnabled). On API 3.0 a remedy that needs
	// a new job (a retry, a refresh after the user cleared a message at the
	// bank) then goes through the Consent UI on the connection, where the
	// user answers the bank: a refresh with nobody there to answer would
	// expire and make the connection invalid. Jobs.Wait and
	// Connections.Health fill it in from the connection.
	MFA bool
	// mfaKnown: MFA was read from the connection (Connections.Health), so
	// the client need not look it up.
	mfaKnown bool
	// Operation is what started the job; OpUnknown when not known.
	Operation Operation
	// InstitutionStatus is the institution's current status (from
	// Institutions.Get or Connectors.Get). It matters only for
	// institution-side failures; "" when not checked.
	InstitutionStatus InstitutionStatus
	// Attempt is how many times this operation has been tried for this
	// connection, counting this job: 1 for the first try (0 also means 1).
	// Failures that retrying should clear go to support from attempt 3.
	Attempt int
}

// Diagnosis is Diagnose's verdict on a job: the failure (or MFA prompt) it
// found, the recommended Action, its timing, a message for the end user, and
// the ids Basiq support asks for.
//
// Log it with slog (it implements slog.LogValuer): the record carries the
// user_id, connection_id and job_id keys, the code, step, action and
// operation, and never Detail or UserMessage.
type Diagnosis struct {
	// Code is the failed step's error code as the API sent it
	// (e.g. "invalid-credentials"); "" when the job did not fail or the
	// failure carried no code.
	Code string
	// Step is the failed step, the step with the MFA prompt, or, when nothing
	// is wrong, the step in progress; "" when none.
	Step StepName
	// Operation is DiagnoseOptions.Operation, normalized.
	Operation Operation
	// Action is what to do.
	Action Action
	// RetryAfter is how long to wait before acting: before retrying
	// (ActionRetryLater, ActionWaitForInstitution) or before polling the job
	// again (ActionWaitForBasiqRetry). For ActionAnswerMFA it is the
	// lifetime of the prompt instead (expiryMs): the answers must be
	// submitted within it. Zero means now, or not applicable.
	RetryAfter time.Duration
	// RetryEvery is the interval of repeated attempts: 2 hours for Basiq's
	// own retries (ActionWaitForBasiqRetry), 1 hour in a major outage.
	RetryEvery time.Duration
	// GiveUpAfter is when to stop waiting: 7 days for Basiq's own retries,
	// and the prompt's lifetime for ActionAnswerMFA. Zero means no limit
	// was given.
	GiveUpAfter time.Duration
	// UserMessage is one or two short plain sentences an application may
	// show its end user. It is fixed text chosen by the action (and the
	// institution's status), and never repeats text from the bank or Basiq.
	UserMessage string
	// Detail is the API's description of the failure (its "detail", or its
	// "title" when there is no detail), for support staff. Basiq writes it
	// to be passed on to users in some cases, such as invalid credentials,
	// so an application may show it; it is not logged by LogValue.
	Detail string
	// InstitutionStatus is DiagnoseOptions.InstitutionStatus, as given.
	InstitutionStatus InstitutionStatus
	// UserID, ConnectionID and JobID identify the job for logs and support;
	// the first two are "" while the job does not reveal them.
	UserID, ConnectionID, JobID string
	// MFA is the prompt to answer when Action is ActionAnswerMFA (a copy);
	// nil otherwise.
	MFA *StepResult
	// Consent, on API 3.0, is the Consent UI link's options that let the
	// user fix the problem (pass them to Consents.Link): whenever the job
	// names its connection (or DiagnoseOptions.ConnectionID does), the fix
	// is made in place on that connection (ConnectionID set, no action: a
	// credential update for a web connection, a re-authorisation for an
	// open-banking one), so no second connection is made; only when no
	// connection is known, ConsentConnect with the institution. Nil when the
	// fix needs no Consent UI, and always on API 2.1.
	Consent *ConsentURLOptions
	// RemoveConnectionID names a failed connection that a new one has
	// replaced: delete it (Connections.Delete) now that the new one works,
	// so that nothing stays invalid for ever. Remedies fix a connection in
	// place, so this is rare: Connections.Health sets it for an invalid web
	// connection when the user has a working open-banking connection at the
	// same institution (Basiq allows no active web connection beside one);
	// the user then has nothing to do. It never guesses from a second
	// connection of the same kind, which may be a second login. "" otherwise.
	RemoveConnectionID string
	// ProblemID names the problem this diagnosis is about, the same whichever
	// path reports it: a Jobs.Wait error, a Jobs.WaitAll outcome, an
	// EventAdvice, Connections.Health. It is the connection and the failure
	// code ("<connectionId>:<code>"), or, when the job names no connection,
	// the job ("job:<jobId>:<code>"), so repeated failed refreshes of one
	// connection are one problem. Notify the user once per ProblemID, and
	// forget it when Connections.Health reports the connection healthy
	// again (or when the user follows its remedy, so that a remedy that
	// fails too is heard of). Basiq lists a user's jobs for 7 days: an
	// invalid connection whose failed job is no longer listed is reported by
	// Health as "<connectionId>:connection-invalid", a new problem, which
	// makes a reminder. "" when nothing failed.
	ProblemID string
}

// Diagnose reads a job and recommends what to do, following Basiq's
// guidance on handling jobs (https://api.basiq.io/docs/handling-jobs):
//
//   - invalid-credentials: on a create (and on an update, where the user has
//     just typed new details) ActionCheckCredentials; on a refresh, and when
//     the operation is unknown, ActionUpdateCredentials. At the mfa-challenge
//     step it is the answer to the bank's security check that failed (wrong,
//     or too late): ActionCheckCredentials, with a message about the check. When the title or
//     detail says multi-factor authentication is not supported,
//     ActionDisableMFA whatever the operation. The code
//     invalid-username-or-password, which Basiq lists as a sub-case of
//     invalid credentials, is treated the same; locked-account gives
//     ActionCheckCredentials on every operation, since the user must first
//     make sure they can log in at the bank's web site.
//   - account-not-accessible-requires-user-action, user-action-required:
//     ActionResolveAtBank.
//   - service-unavailable on an update: ActionWaitForBasiqRetry (Basiq
//     retries every 2 hours for up to 7 days).
//   - service-unavailable, maintenance, system-unavailable, connector-error,
//     institution-not-available otherwise: by the institution's status,
//     ActionWaitForInstitution in a major outage (retry every hour),
//     ActionRetryLater after 1 hour in a partial outage, and otherwise
//     (including an unknown or unchecked status) ActionRetryLater after 10
//     minutes; with any status but a major outage, ActionContactSupport from
//     attempt 3 (a couple of retries have not cleared it).
//   - a failure with no code (or unknown-error) and no detail, Basiq's
//     generic error: on a create or an update ActionRetry, from attempt 3
//     ActionContactSupport; on a refresh or an unknown operation, where
//     nobody is waiting and refreshes load the bank, it is handled like
//     service-unavailable above.
//   - authorization-failed: ActionReconnect.
//   - any other code, or a failure with a detail but no code:
//     ActionContactSupport. Unknown codes are never retried.
//   - a statement Basiq could not read: a PDF (bank-statement-invalid,
//     -not-supported, -parsing-error, -new-product and any other
//     bank-statement-... code) or a CSV (missing-required-field,
//     missing-required-field-value, invalid-field-value, invalid-csv-row,
//     row-count-exceeded, account-data-differs, empty-file):
//     ActionCheckStatement.
//   - a failed create-report step (a report job, Reports.Create): with no
//     code (or unknown-error) and no detail, Basiq's generic failure,
//     ActionRetry (create the report again), from attempt 3
//     ActionContactSupport; a code saying the request named what could not
//     be used (parameter-not-valid, parameter-not-supplied,
//     invalid-field-value, missing-required-field,
//     missing-required-field-value, invalid-content)
//     ActionCheckReportFilters; any other code or a detail,
//     ActionContactSupport.
//     The institution's status does not matter to a report, and the user
//     messages speak of the report.
//   - no failed step, but a step not yet finished holds an MFA prompt:
//     ActionAnswerMFA, with the prompt in MFA and its lifetime in RetryAfter
//     and GiveUpAfter.
//   - otherwise (the job succeeded, is pending or running, or is nil):
//     ActionNone.
//
// Diagnose makes no request; the caller supplies the institution's status.
// A nil job gives ActionNone with no ids and an empty UserMessage.
func Diagnose(job *Job, opts DiagnoseOptions) Diagnosis {
	d := Diagnosis{
		Operation:         opts.Operation.normalize(),
		Action:            ActionNone,
		InstitutionStatus: opts.InstitutionStatus,
	}
	if job == nil {
		return d
	}
	d.JobID, d.UserID, d.ConnectionID = job.ID, job.UserID(), job.ConnectionID()
	if d.ConnectionID == "" {
		d.ConnectionID = opts.ConnectionID
	}
	attempt := max(opts.Attempt, 1)

	report := job.isReport()
	if step, ok := job.FailedStep(); ok {
		d.Step = step.Title
		if report {
			d.diagnoseReport(step.Result, attempt)
			d.ProblemID = problemID("", d.JobID, d.Code)
			return d
		}
		d.diagnoseFailure(step.Result, opts.InstitutionStatus, attempt)
		if opts.APIVersion != V2_1 {
			d.throughConsentUI(opts.InstitutionID, opts.MFA)
		}
		if step.Title == StepMFAChallenge && (d.Action == ActionCheckCredentials || d.Action == ActionUpdateCredentials) {
			d.mfaRejected()
		}
		d.ProblemID = problemID(d.ConnectionID, d.JobID, d.Code)
		return d
	}
	for _, s := range job.Steps {
		if !s.Status.Done() && s.Result.IsMFA() {
			prompt := *s.Result
			prompt.Input = append([]string(nil), s.Result.Input...)
			d.Step, d.Action, d.MFA = s.Title, ActionAnswerMFA, &prompt
			d.RetryAfter, d.GiveUpAfter = prompt.Expiry, prompt.Expiry
			d.UserMessage = userMessageAnswerMFA
			return d
		}
	}
	if job.Status() == JobSucceeded {
		d.UserMessage = userMessageNoneDone
		if report {
			d.UserMessage = userMessageReportDone
		}
		return d
	}
	if cur, ok := job.CurrentStep(); ok {
		d.Step = cur.Title
	}
	d.UserMessage = userMessageNoneRunning
	if report {
		d.UserMessage = userMessageReportRunning
	}
	return d
}

// isReport reports whether j makes a report: its jobType says so, or it
// has a create-report step.
func (j *Job) isReport() bool {
	if strings.EqualFold(j.JobType, "report") {
		return true
	}
	_, ok := j.Step(StepCreateReport)
	return ok
}

// diagnoseReport fills d for a report job's failed step (result r, nil
// allowed).
func (d *Diagnosis) diagnoseReport(r *StepResult, attempt int) {
	var title, detail string
	if r != nil {
		d.Code = strings.TrimSpace(r.Code)
		title, detail = strings.TrimSpace(r.Title), strings.TrimSpace(r.Detail)
	}
	d.Detail = detail
	if d.Detail == "" {
		d.Detail = title
	}
	switch code := strings.ToLower(d.Code); {
	case (code == codeNone || code == codeUnknownError) && detail == "" && attempt < escalateAttempt:
		d.set(ActionRetry, userMessageReportRetry)
	case code == "parameter-not-valid" || code == "parameter-not-supplied" || code == "invalid-field-value" ||
		code == "missing-required-field" || code == "missing-required-field-value" || code == "invalid-content":
		d.set(ActionCheckReportFilters, userMessageReportFilters)
	default:
		d.set(ActionContactSupport, userMessageReportSupport)
	}
}

// diagnoseFailure fills d for a failed step with result r (nil allowed).
func (d *Diagnosis) diagnoseFailure(r *StepResult, status InstitutionStatus, attempt int) {
	var title, detail string
	if r != nil {
		d.Code = strings.TrimSpace(r.Code)
		title, detail = strings.TrimSpace(r.Title), strings.TrimSpace(r.Detail)
	}
	d.Detail = detail
	if d.Detail == "" {
		d.Detail = title
	}
	code := strings.ToLower(d.Code)

	switch code {
	case codeInvalidCredentials, codeInvalidUsernameOrPass, codeLockedAccount:
		switch {
		case mfaUnsupported(title, detail):
			d.set(ActionDisableMFA, userMessageDisableMFA)
		case d.Operation == OpCreate || d.Operation == OpUpdate || code == codeLockedAccount:
			d.set(ActionCheckCredentials, userMessageCheckCredentials)
		default:
			d.set(ActionUpdateCredentials, userMessageUpdateCredentials)
		}
	case codeAccountNotAccessible, codeUserActionRequired:
		d.set(ActionResolveAtBank, userMessageResolveAtBank)
	case codeAuthorizationFailed:
		d.set(ActionReconnect, userMessageReconnect)
	case "missing-required-field", "missing-required-field-value", "invalid-field-value", "invalid-csv-row",
		"row-count-exceeded", "account-data-differs", "empty-file": // an uploaded CSV
		d.set(ActionCheckStatement, userMessageCheckStatement)
	case codeServiceUnavailable, codeMaintenance, codeSystemUnavailable, codeConnectorError, codeInstitutionNotAvailable:
		if code == codeServiceUnavailable && d.Operation == OpUpdate {
			d.set(ActionWaitForBasiqRetry, userMessageWaitForBasiqRetry)
			d.RetryAfter, d.RetryEvery, d.GiveUpAfter = basiqRetryEvery, basiqRetryEvery, basiqRetryWindow
			return
		}
		d.diagnoseOutage(status, attempt)
	case codeNone, codeUnknownError:
		switch {
		case code == codeNone && mfaUnsupported(title, detail):
			d.set(ActionDisableMFA, userMessageDisableMFA)
		case detail != "":
			d.set(ActionContactSupport, userMessageContactSupport)
		case d.Operation == OpRefresh || d.Operation == OpUnknown:
			d.diagnoseOutage(status, attempt)
		case attempt >= escalateAttempt:
			d.set(ActionContactSupport, userMessageContactSupport)
		default:
			d.set(ActionRetry, userMessageRetry)
		}
	default:
		if strings.HasPrefix(code, prefixStatement) {
			d.set(ActionCheckStatement, userMessageCheckStatement)
			return
		}
		d.set(ActionContactSupport, userMessageContactSupport)
	}
}

// diagnoseOutage fills d for an institution-side failure, by the
// institution's status and the attempt.
func (d *Diagnosis) diagnoseOutage(status InstitutionStatus, attempt int) {
	advice := status.Advice()
	switch advice.Status {
	case StatusMajorOutage:
		d.set(ActionWaitForInstitution, d.byOperation(userMessageWaitForInst, userMessageWaitForInstUser))
		d.RetryAfter, d.RetryEvery = advice.RetryAfter, advice.RetryAfter
	case StatusPartialOutage:
		// Basiq's job guidance: with any status but major-outage, a failure
		// that a couple of retries have not cleared goes to support.
		if attempt >= escalateAttempt {
			d.set(ActionContactSupport, userMessageContactSupport)
			return
		}
		d.set(ActionRetryLater, d.byOperation(userMessagePartialOutage, userMessagePartialOutageUser))
		d.RetryAfter = advice.RetryAfter
	default:
		if attempt >= escalateAttempt {
			d.set(ActionContactSupport, userMessageContactSupport)
			return
		}
		d.set(ActionRetryLater, d.byOperation(userMessageRetryLater, userMessageRetryLaterUser))
		d.RetryAfter = statusRetrySoon
	}
}

// mfaRejected adapts a login failure at the mfa-challenge step: the answer
// to the bank's security check was wrong or came too late (often a refresh
// that nobody was there to answer), not the password. The user tries again
// and answers when asked: on API 3.0 through the Consent UI on the
// connection (Consent, kept whatever the operation), which asks the bank's
// question with the user there; on 2.1 with Jobs.SubmitMFA during a refresh
// the user starts.
func (d *Diagnosis) mfaRejected() {
	msg := userMessageMFARejected
	if d.Consent != nil {
		msg = userMessageMFARejectedV3
	}
	d.set(ActionCheckCredentials, msg)
}

// byOperation picks the user message of a failure the application must
// retry: on a create or an update, where the user is there and started it,
// one that asks them to try again later; on a refresh, the application's
// own, one that says it will retry (see ActionRetryLater).
func (d *Diagnosis) byOperation(appRetries, userRetries string) string {
	if d.Operation == OpCreate || d.Operation == OpUpdate {
		return userRetries
	}
	return appRetries
}

// problemID is Diagnosis.ProblemID: the connection and the failure code,
// or the job when it names no connection.
func problemID(connectionID, jobID, code string) string {
	code = strings.ToLower(strings.TrimSpace(code))
	if code == "" {
		code = "failed"
	}
	if connectionID != "" {
		return connectionID + ":" + code
	}
	return "job:" + jobID + ":" + code
}

func (d *Diagnosis) set(a Action, userMessage string) {
	d.Action, d.UserMessage = a, userMessage
}

// mfaUnsupported reports whether a failure's title or detail says that
// multi-factor authentication is not supported.
func mfaUnsupported(title, detail string) bool {
	text := strings.ToLower(title + " \n " + detail)
	mfa := containsWord(text, "mfa") || containsWord(text, "2fa") || containsAny(text,
		"multi-factor", "multifactor", "multi factor", "two-factor", "two factor",
		"2-factor", "2 factor", "second factor", "two-step", "two step", "2-step")
	return mfa && containsAny(text,
		"unsupported", "not supported", "not currently supported", "not yet supported",
		"isn't supported", "is not supported", "no longer supported", "does not support",
		"doesn't support", "do not support", "don't support", "cannot support", "can't support",
		"not able to support", "unable to support")
}

func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// containsWord reports whether word occurs in s not joined to letters or
// digits on either side (so "mfa" matches "MFA-challenge" but not "comfat").
func containsWord(s, word string) bool {
	for i := 0; ; {
		j := strings.Index(s[i:], word)
		if j < 0 {
			return false
		}
		start, end := i+j, i+j+len(word)
		if (start == 0 || !isAlnum(s[start-1])) && (end == len(s) || !isAlnum(s[end])) {
			return true
		}
		i = start + 1
	}
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// LogValue implements slog.LogValuer: a group with the stable keys user_id,
// connection_id and job_id (always present, "" when unknown), then action,
// operation, code and step, and the timings and institution status when
// set. It leaves out Detail, UserMessage and the MFA prompt.
func (d Diagnosis) LogValue() slog.Value {
	attrs := make([]slog.Attr, 0, 11)
	attrs = append(attrs,
		slog.String(logKeyUserID, d.UserID),
		slog.String(logKeyConnectionID, d.ConnectionID),
		slog.String(logKeyJobID, d.JobID),
		slog.String("action", string(d.actionOrNone())),
		slog.String("operation", d.Operation.String()),
	)
	if d.Code != "" {
		attrs = append(attrs, slog.String("code", d.Code))
	}
	if d.Step != "" {
		attrs = append(attrs, slog.String("step", string(d.Step)))
	}
	if d.RetryAfter > 0 {
		attrs = append(attrs, slog.Duration("retry_after", d.RetryAfter))
	}
	if d.RetryEvery > 0 {
		attrs = append(attrs, slog.Duration("retry_every", d.RetryEvery))
	}
	if d.GiveUpAfter > 0 {
		attrs = append(attrs, slog.Duration("give_up_after", d.GiveUpAfter))
	}
	if d.InstitutionStatus != "" {
		attrs = append(attrs, slog.String("institution_status", string(d.InstitutionStatus)))
	}
	return slog.GroupValue(attrs...)
}

// String summarises the diagnosis on one line for logs and support: the ids,
// step, code, operation, action and retry delay. Like LogValue it leaves out
// Detail and UserMessage.
func (d Diagnosis) String() string {
	var b strings.Builder
	b.WriteString("job ")
	b.WriteString(orUnknown(d.JobID))
	if d.UserID != "" || d.ConnectionID != "" {
		fmt.Fprintf(&b, " (user %s, connection %s)", orUnknown(d.UserID), orUnknown(d.ConnectionID))
	}
	if d.Step != "" {
		fmt.Fprintf(&b, ": step %s", d.Step)
	}
	if d.Code != "" {
		fmt.Fprintf(&b, ": %s", d.Code)
	}
	fmt.Fprintf(&b, " on %s: %s", d.Operation, d.actionOrNone())
	if d.RetryAfter > 0 {
		fmt.Fprintf(&b, " (after %s)", d.RetryAfter)
	}
	return oneLine(b.String()) // the ids, step and code come from the server
}

func (d Diagnosis) actionOrNone() Action {
	if d.Action == "" {
		return ActionNone
	}
	return d.Action
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
