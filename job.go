package basiq

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// StepName is a job step's title. Unknown titles are kept as they are.
type StepName string

// Step titles documented by Basiq. Others are kept as they are.
const (
	StepVerifyCredentials    StepName = "verify-credentials"
	StepMFAChallenge         StepName = "mfa-challenge"
	StepRetrieveAccounts     StepName = "retrieve-accounts"
	StepRetrieveTransactions StepName = "retrieve-transactions"
	StepRetrieveStatements   StepName = "retrieve-statements"
	StepCreateReport         StepName = "create-report"
)

// StepStatus is a job step's status. Unknown statuses are kept as they are.
type StepStatus string

// Step statuses ("skipped" is seen on intermittent-MFA banks).
const (
	StepPending    StepStatus = "pending"
	StepInProgress StepStatus = "in-progress"
	StepSuccess    StepStatus = "success"
	StepFailed     StepStatus = "failed"
	StepSkipped    StepStatus = "skipped"
)

// Done reports whether the status is final for the step (success, skipped or failed).
func (s StepStatus) Done() bool {
	return s == StepSuccess || s == StepSkipped || s == StepFailed
}

// JobStatus is a job's overall status, derived from its steps.
type JobStatus string

// Job statuses.
const (
	JobPending   JobStatus = "pending"   // no step has started
	JobRunning   JobStatus = "running"   // some step started, none failed, not all done
	JobSucceeded JobStatus = "succeeded" // every step succeeded or was skipped
	JobFailed    JobStatus = "failed"    // a step failed
)

// Terminal reports whether the job will not change any more.
func (s JobStatus) Terminal() bool { return s == JobSucceeded || s == JobFailed }

// Result types of a step result.
const (
	ResultTypeLink = "link"
	ResultTypeMFA  = "mfa"
)

// StepResult is a step's result: a link to what the step produced, a failure
// (Code, Title, Detail), or an MFA prompt (Method, Description, Input, Expiry,
// ResponseURL).
type StepResult struct {
	Type string // "link", "mfa", or "" for a failure

	URL string // success: a relative URL of what the step produced

	Code   string // failure: the error code, e.g. "invalid-credentials"
	Title  string // failure: a short title
	Detail string // failure: the message ("detail", or "details" in some schemas)

	Method      string        // MFA: "token" or "security-questions"
	Description string        // MFA: what to ask the user
	Input       []string      // MFA: one label per answer expected
	Expiry      time.Duration // MFA: how long the prompt stays open (expiryMs)
	ResponseURL string        // MFA: where answers go (links.response)
}

// IsMFA reports whether the result is an MFA prompt.
func (r *StepResult) IsMFA() bool { return r != nil && r.Type == ResultTypeMFA }

// UnmarshalJSON decodes any of the three variants; an array (seen in one
// Basiq document) decodes its first element; null leaves the result empty.
func (r *StepResult) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '[' {
		var items []json.RawMessage
		if json.Unmarshal(b, &items) != nil || len(items) == 0 {
			*r = StepResult{}
			return nil
		}
		b = items[0]
	}
	var aux struct {
		Type        lenientString   `json:"type"`
		URL         lenientString   `json:"url"`
		Code        lenientString   `json:"code"`
		Title       lenientString   `json:"title"`
		Detail      lenientString   `json:"detail"`
		Details     json.RawMessage `json:"details"`
		Method      lenientString   `json:"method"`
		Description lenientString   `json:"description"`
		Input       []lenientString `json:"input"`
		ExpiryMs    lenientInt      `json:"expiryMs"`
		Links       struct {
			Response lenientString `json:"response"`
		} `json:"links"`
	}
	if json.Unmarshal(b, &aux) != nil {
		*r = StepResult{}
		return nil
	}
	*r = StepResult{
		Type: string(aux.Type), URL: string(aux.URL),
		Code: string(aux.Code), Title: string(aux.Title), Detail: string(aux.Detail),
		Method: string(aux.Method), Description: string(aux.Description),
		Expiry: time.Duration(aux.ExpiryMs) * time.Millisecond, ResponseURL: string(aux.Links.Response),
	}
	if r.Detail == "" {
		r.Detail = detailsText(aux.Details)
	}
	for _, in := range aux.Input {
		r.Input = append(r.Input, string(in))
	}
	return nil
}

// detailsText renders a "details" member, a string or anything else, as text.
func detailsText(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var parts []string
	if json.Unmarshal(raw, &parts) == nil {
		return strings.Join(parts, "; ")
	}
	return string(raw)
}

// Step is one step of a job.
type Step struct {
	Title  StepName    `json:"title"`
	Status StepStatus  `json:"status"`
	Result *StepResult `json:"result"` // nil while pending or in progress
}

// MFAPrompt returns the step's MFA prompt while it waits for answers (an
// in-progress step whose result is an MFA prompt).
func (s Step) MFAPrompt() (*StepResult, bool) {
	if s.Status == StepInProgress && s.Result.IsMFA() {
		return s.Result, true
	}
	return nil, false
}

// JobLinks are a job's links.
type JobLinks struct {
	Self   string `json:"self"`
	Source string `json:"source"` // the resource that started the job (a connection URL)
}

// Job is an asynchronous Basiq operation: creating, refreshing or updating a
// connection, among others. POST endpoints return a job stub (ID and Links
// only); Jobs.Get returns it with its steps.
type Job struct {
	Type    string
	ID      string
	JobType string // v3: "connection", "report", ...
	// PartnerID, ApplicationID and ReportStatus come with v3 report jobs
	// (ReportStatus is their job-level status, e.g. "success"; connection
	// jobs have none: see Status). SourceID names the statement or report a
	// v3 statement job works on, when Basiq sends it.
	PartnerID     string
	ApplicationID string
	ReportStatus  string
	SourceID      string
	Created       time.Time
	Updated       time.Time
	Steps         []Step
	Links         JobLinks
	Institution   *ResourceRef // present on items of Jobs.List only
	// Reused is true when the API answered a refresh with 200 and a job that was
	// already running for the connection, instead of starting a new one.
	Reused bool
}

// UnmarshalJSON decodes a job leniently (created/createdDate, updated/updatedDate).
// A job in its documented shape takes the fast path (one decoding pass into
// plain types); anything else falls back to field-by-field lenient decoding,
// with the same result for every input both accept.
func (j *Job) UnmarshalJSON(b []byte) error { return j.decodeJSON(b) }

// decodeJSON is UnmarshalJSON; Client.do calls it directly (directDecoder).
func (j *Job) decodeJSON(b []byte) error {
	var w jobWire
	if json.Unmarshal(b, &w) == nil {
		w.decodeInto(j)
		return nil
	}
	return j.unmarshalLenient(b)
}

// jobWire is a job as documented, with plain field types and no custom
// decoders below it, so that encoding/json decodes it in one pass.
type jobWire struct {
	Type          string     `json:"type"`
	ID            string     `json:"id"`
	JobType       string     `json:"jobType"`
	PartnerID     string     `json:"partnerId"`
	ApplicationID string     `json:"applicationId"`
	Status        string     `json:"status"`
	SourceID      string     `json:"sourceId"`
	Created       string     `json:"created"`
	CreatedDate   string     `json:"createdDate"`
	Updated       string     `json:"updated"`
	UpdatedDate   string     `json:"updatedDate"`
	Steps         []stepWire `json:"steps"`
	Links         struct {
		Self   string `json:"self"`
		Source string `json:"source"`
	} `json:"links"`
	Institution *struct {
		Type  string `json:"type"`
		ID    string `json:"id"`
		Links struct {
			Self string `json:"self"`
		} `json:"links"`
	} `json:"institution"`
}

type stepWire struct {
	Title  StepName    `json:"title"`
	Status StepStatus  `json:"status"`
	Result *resultWire `json:"result"`
}

type resultWire struct {
	Type        string          `json:"type"`
	URL         string          `json:"url"`
	Code        string          `json:"code"`
	Title       string          `json:"title"`
	Detail      string          `json:"detail"`
	Details     json.RawMessage `json:"details"`
	Method      string          `json:"method"`
	Description string          `json:"description"`
	Input       []string        `json:"input"`
	ExpiryMs    json.Number     `json:"expiryMs"`
	Links       struct {
		Response string `json:"response"`
	} `json:"links"`
}

func (w *jobWire) decodeInto(j *Job) {
	*j = Job{
		Type: w.Type, ID: w.ID, JobType: w.JobType,
		PartnerID: w.PartnerID, ApplicationID: w.ApplicationID, ReportStatus: w.Status, SourceID: w.SourceID,
		Created: firstParsed(w.Created, w.CreatedDate), Updated: firstParsed(w.Updated, w.UpdatedDate),
		Links: JobLinks{Self: w.Links.Self, Source: w.Links.Source},
	}
	if w.Steps != nil {
		j.Steps = make([]Step, len(w.Steps))
		for i, s := range w.Steps {
			j.Steps[i] = Step{Title: s.Title, Status: s.Status}
			if r := s.Result; r != nil {
				j.Steps[i].Result = r.stepResult()
			}
		}
	}
	if in := w.Institution; in != nil && in.ID != "" {
		j.Institution = &ResourceRef{Type: in.Type, ID: in.ID, Self: in.Links.Self}
	}
}

func (r *resultWire) stepResult() *StepResult {
	out := &StepResult{
		Type: r.Type, URL: r.URL, Code: r.Code, Title: r.Title, Detail: r.Detail,
		Method: r.Method, Description: r.Description, ResponseURL: r.Links.Response,
	}
	if r.ExpiryMs != "" {
		if f, err := strconv.ParseFloat(string(r.ExpiryMs), 64); err == nil {
			out.Expiry = time.Duration(int64(f)) * time.Millisecond
		}
	}
	if out.Detail == "" {
		out.Detail = detailsText(r.Details)
	}
	if len(r.Input) > 0 {
		out.Input = r.Input
	}
	return out
}

func firstParsed(values ...string) time.Time {
	for _, v := range values {
		if v == "" {
			continue
		}
		if t := parseTime(v); !t.IsZero() {
			return t
		}
	}
	return time.Time{}
}

// unmarshalLenient decodes a job whose fields may have undocumented shapes.
func (j *Job) unmarshalLenient(b []byte) error {
	var aux struct {
		Type        lenientString `json:"type"`
		ID          lenientString `json:"id"`
		JobType     lenientString `json:"jobType"`
		PartnerID   lenientString `json:"partnerId"`
		AppID       lenientString `json:"applicationId"`
		Status      lenientString `json:"status"`
		SourceID    lenientString `json:"sourceId"`
		Created     lenientTime   `json:"created"`
		CreatedDate lenientTime   `json:"createdDate"`
		Updated     lenientTime   `json:"updated"`
		UpdatedDate lenientTime   `json:"updatedDate"`
		Steps       []Step        `json:"steps"`
		Links       struct {
			Self   lenientString `json:"self"`
			Source lenientString `json:"source"`
		} `json:"links"`
		Institution *ResourceRef `json:"institution"`
	}
	if err := json.Unmarshal(b, &aux); err != nil {
		if isTypeError(err) {
			// Unlike other resources, a job whose steps (or links) cannot
			// be read is no job at all: a poller would wait on it for
			// nothing. (Not a member type error: the request fails.)
			return fmt.Errorf("malformed job: %s", err.Error())
		}
		return err
	}
	*j = Job{
		Type: string(aux.Type), ID: string(aux.ID), JobType: string(aux.JobType),
		PartnerID: string(aux.PartnerID), ApplicationID: string(aux.AppID), ReportStatus: string(aux.Status), SourceID: string(aux.SourceID),
		Created: firstTime(aux.Created, aux.CreatedDate), Updated: firstTime(aux.Updated, aux.UpdatedDate),
		Steps: aux.Steps,
		Links: JobLinks{Self: string(aux.Links.Self), Source: string(aux.Links.Source)},
	}
	if aux.Institution != nil && aux.Institution.ID != "" {
		j.Institution = aux.Institution
	}
	return nil
}

func firstTime(ts ...lenientTime) time.Time {
	for _, t := range ts {
		if !time.Time(t).IsZero() {
			return time.Time(t)
		}
	}
	return time.Time{}
}

// clone returns a deep copy of j (nil for nil), so that callers sharing one
// observed job cannot disturb each other.
func (j *Job) clone() *Job {
	if j == nil {
		return nil
	}
	out := *j
	if j.Steps != nil {
		out.Steps = make([]Step, len(j.Steps))
	}
	for i, st := range j.Steps {
		if st.Result != nil {
			r := *st.Result
			r.Input = append([]string(nil), st.Result.Input...)
			st.Result = &r
		}
		out.Steps[i] = st
	}
	if j.Institution != nil {
		in := *j.Institution
		out.Institution = &in
	}
	return &out
}

// Status derives the job's status from its steps: failed if any step failed,
// succeeded if every step succeeded or was skipped, pending if none started,
// running otherwise (unknown step statuses count as running).
func (j *Job) Status() JobStatus {
	if j == nil || len(j.Steps) == 0 {
		return JobPending
	}
	done, pending := 0, 0
	for _, s := range j.Steps {
		switch s.Status {
		case StepFailed:
			return JobFailed
		case StepSuccess, StepSkipped:
			done++
		case StepPending:
			pending++
		}
	}
	switch {
	case done == len(j.Steps):
		return JobSucceeded
	case pending == len(j.Steps):
		return JobPending
	}
	return JobRunning
}

// Step returns the step with the given title.
func (j *Job) Step(name StepName) (Step, bool) {
	if j == nil {
		return Step{}, false
	}
	for _, s := range j.Steps {
		if s.Title == name {
			return s, true
		}
	}
	return Step{}, false
}

// FailedStep returns the first failed step.
func (j *Job) FailedStep() (Step, bool) {
	if j == nil {
		return Step{}, false
	}
	for _, s := range j.Steps {
		if s.Status == StepFailed {
			return s, true
		}
	}
	return Step{}, false
}

// CurrentStep returns the first step that is not finished (the one in
// progress, or next to start), or false when every step is finished.
func (j *Job) CurrentStep() (Step, bool) {
	if j == nil {
		return Step{}, false
	}
	for _, s := range j.Steps {
		if !s.Status.Done() {
			return s, true
		}
	}
	return Step{}, false
}

// ConnectionID returns the id of the connection the job works on, from
// links.source or the verify-credentials result; "" while unknown.
func (j *Job) ConnectionID() string {
	_, conn := j.owner()
	return conn
}

// UserID returns the id of the user the job belongs to, from links.source or
// the verify-credentials result; "" while unknown.
func (j *Job) UserID() string {
	user, _ := j.owner()
	return user
}

func (j *Job) owner() (user, conn string) {
	if j == nil {
		return "", ""
	}
	if u, c := parseConnectionURL(j.Links.Source); u != "" {
		return u, c
	}
	if s, ok := j.Step(StepVerifyCredentials); ok && s.Result != nil && s.Result.Type != ResultTypeMFA {
		if u, c := parseConnectionURL(s.Result.URL); u != "" {
			return u, c
		}
	}
	for _, s := range j.Steps {
		if s.Result != nil {
			if u, _ := parseConnectionURL(s.Result.URL); u != "" {
				return u, ""
			}
		}
	}
	return "", ""
}

// parseConnectionURL extracts ids from ".../users/{u}/connections/{c}" (absolute
// or relative); it returns only the user for other ".../users/{u}/..." URLs.
func parseConnectionURL(raw string) (user, conn string) {
	if raw == "" {
		return "", ""
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", ""
	}
	parts := strings.Split(strings.Trim(u.EscapedPath(), "/"), "/")
	for i := 0; i+1 < len(parts); i++ {
		if parts[i] != "users" {
			continue
		}
		user, _ = url.PathUnescape(parts[i+1])
		if i+3 < len(parts) && parts[i+2] == "connections" {
			conn, _ = url.PathUnescape(parts[i+3])
		}
		return user, conn
	}
	return "", ""
}
