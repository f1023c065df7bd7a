package basiq

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// RefreshIfStale refreshes a connection only when Basiq has not refreshed it
// within maxAge and no job is already working on it, so an app can call it at
// every login without loading the bank (Basiq's best practices: avoid ad hoc
// and bulk refreshes; check lastUsed and the user's jobs first). It returns:
//
//   - (nil, nil) when the connection is fresh: its lastUsed, or the end of its
//     latest successful job, is within maxAge. One request (GET connection)
//     when lastUsed alone shows it fresh, two otherwise.
//   - (job, nil) with job.Reused set when a job for the connection is pending
//     or running: that job, to poll instead of starting another. Two requests.
//   - (job, nil) with a new refresh job otherwise (never used, or stale, and
//     idle). Three requests.
//
// An open-banking connection has 20 refreshes a day: when its jobs of the
// last 24 hours already number 20, RefreshIfStale sends no refresh and
// returns a *RefreshLimitError (matching ErrRateLimited) saying when the next
// one is possible.
//
// maxAge must be positive. Errors from any request are returned as they are.
func (s *ConnectionsService) RefreshIfStale(ctx context.Context, userID, connectionID string, maxAge time.Duration) (*Job, error) {
	if maxAge <= 0 {
		return nil, invalidInput("maxAge must be positive")
	}
	conn, err := s.Get(ctx, userID, connectionID)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	if fresh(conn.LastUsed, now, maxAge) {
		return nil, nil
	}
	jobs, err := s.client().jobs.List(ctx, userID, &JobFilter{ConnectionID: connectionID})
	if err != nil {
		return nil, err
	}
	var lastDone time.Time
	for i := range jobs {
		j := &jobs[i]
		if id := j.ConnectionID(); id != "" && id != connectionID {
			continue // the filter should have done this; do not trust it blindly
		}
		switch j.Status() {
		case JobPending, JobRunning:
			running := *j
			running.Reused = true
			return &running, nil
		case JobSucceeded:
			if j.Updated.After(lastDone) {
				lastDone = j.Updated
			}
		}
	}
	if fresh(lastDone, now, maxAge) {
		return nil, nil
	}
	if err := checkRefreshLimit(conn, jobs, now); err != nil {
		return nil, err
	}
	return s.Refresh(ctx, userID, connectionID)
}

// Basiq allows an open-banking connection 20 refreshes a day (the CDR's
// limit). The SDK counts the connection's jobs over the last 24 hours
// (Basiq lists 7 days of them): rolling, since Basiq does not say when its
// day starts, so a refresh the SDK allows is never the 21st.
const (
	cdrRefreshesPerDay = 20
	cdrRefreshWindow   = 24 * time.Hour
)

// RefreshLimitError is returned by Connections.RefreshIfStale, without any
// refresh request, when an open-banking connection has used its 20 refreshes
// of the last 24 hours. It matches ErrRateLimited.
type RefreshLimitError struct {
	ConnectionID string
	Used, Limit  int       // jobs of the connection in the window, and the limit
	RetryAt      time.Time // when the oldest of them leaves the window
}

// Error describes the limit.
func (e *RefreshLimitError) Error() string {
	return oneLine(fmt.Sprintf("basiq: connection %s used %d of its %d open-banking refreshes in 24 hours; next one possible at %s",
		orUnknown(e.ConnectionID), e.Used, e.Limit, e.RetryAt.UTC().Format(time.RFC3339)))
}

// Is matches ErrRateLimited.
func (e *RefreshLimitError) Is(target error) bool { return target == ErrRateLimited }

// isOpenBanking reports an open-banking connection (Basiq spells the method
// "open-banking" and "openbanking").
func isOpenBanking(method string) bool {
	m := strings.ToLower(strings.ReplaceAll(strings.TrimSpace(method), "-", ""))
	return m == "openbanking"
}

// checkRefreshLimit declines a refresh that would exceed the CDR limit of an
// open-banking connection, counting its jobs in the window.
func checkRefreshLimit(conn *Connection, jobs []Job, now time.Time) error {
	if !isOpenBanking(conn.Method) {
		return nil
	}
	var in []time.Time
	for i := range jobs {
		if id := jobs[i].ConnectionID(); id != "" && id != conn.ID {
			continue
		}
		if at := jobTime(&jobs[i]); !at.IsZero() && now.Sub(at) < cdrRefreshWindow {
			in = append(in, at)
		}
	}
	if len(in) < cdrRefreshesPerDay {
		return nil
	}
	slices.SortFunc(in, func(a, b time.Time) int { return a.Compare(b) })
	// The refresh becomes possible when enough of them have left the window.
	return &RefreshLimitError{ConnectionID: conn.ID, Used: len(in), Limit: cdrRefreshesPerDay,
		RetryAt: in[len(in)-cdrRefreshesPerDay].Add(cdrRefreshWindow)}
}

func fresh(t, now time.Time, maxAge time.Duration) bool {
	return !t.IsZero() && now.Sub(t) < maxAge
}

// ConnectionHealth is one connection's state, as Connections.Health reports it.
type ConnectionHealth struct {
	Connection Connection
	// LatestJob is the connection's most recent job in the user's job list
	// (Basiq lists jobs of the last 7 days on API 3.0), or nil.
	LatestJob *Job
	// Refreshing is true while a job for the connection is pending or
	// running: LatestJob, or, when the job does not yet name its connection
	// and the user has several connections at its institution, a job that
	// may be this connection's (LatestJob then stays the last one known).
	Refreshing bool
	// NeedsUserAction is true when the connection is invalid or the latest job
	// failed in a way only the user can fix (see Action.UserMustAct), and no
	// job that might fix it is running (Refreshing is false): ask again when
	// it ends.
	NeedsUserAction bool
	// Diagnosis is set when LatestJob failed. Its Operation is inferred: the
	// connection's first job (created with it) is a create, later ones
	// refreshes; its Attempt is how many of the latest jobs failed the same
	// way, so that after an application's retries it escalates as theirs did. On API 3.0 it is also set for an invalid connection with no
	// failed job to read (an open-banking authorisation that lapsed, a job
	// older than Basiq's 7 days): ActionReconnect, in place through the
	// Consent UI. Its remedy (Consent) is always on this connection, and its
	// ProblemID is the one Jobs.Wait, Jobs.WaitAll and Events.Advise report
	// for the same failure. When this is an invalid web connection and the
	// user now has a working open-banking connection at the same institution
	// (Basiq's migration from web to open banking: it allows no active web
	// connection beside an open-banking one), RemoveConnectionID names this
	// one: delete it; NeedsUserAction is then false. A second connection of
	// the same kind at the same bank is never taken for a replacement (it
	// may be a second login).
	Diagnosis *Diagnosis
}

// Health reports each of the user's connections with its latest job and, when
// that job failed, a Diagnosis: Basiq's "check the user's jobs once a day and
// at login" routine in one call. It makes two requests (the user's
// connections and jobs), plus, only for availability failures, one cached
// GET /institutions/{id} per institution involved.
//
// Given connection ids, it reports those connections only, in that order
// (one GET per connection instead of the list, and the list too when one of
// them failed, to tell whether the user has connected that bank again):
// the answer to a webhook's connection.invalidated (see Events.Advise).
//
// A job that has not yet named its connection (early in verify-credentials,
// Basiq's job shows no links.source) is attributed by its institution when
// the user has one connection there; with several, each of them is reported
// Refreshing while the job runs.
func (s *ConnectionsService) Health(ctx context.Context, userID string, connectionIDs ...string) ([]ConnectionHealth, error) {
	var conns []Connection
	if len(connectionIDs) == 0 {
		var err error
		if conns, err = s.List(ctx, userID, nil); err != nil {
			return nil, err
		}
	} else {
		if err := validateID("userId", userID); err != nil {
			return nil, err
		}
		for _, id := range connectionIDs {
			if err := validateID("connectionId", id); err != nil {
				return nil, err
			}
		}
		for _, id := range connectionIDs {
			cn, err := s.Get(ctx, userID, id)
			if err != nil {
				return nil, err
			}
			conns = append(conns, *cn)
		}
	}
	jobs, err := s.client().jobs.List(ctx, userID, nil)
	if err != nil {
		return nil, err
	}
	all := conns
	if len(connectionIDs) > 0 {
		// Attribution by institution needs all of the user's connections;
		// the jobs list tells which connections the user has at the
		// institutions involved.
		all = append(conns, connectionsOfJobs(jobs, conns)...)
	}
	byConn, byInst := attributeJobs(all, jobs)
	out := make([]ConnectionHealth, 0, len(conns))
	everyConn := conns // for replaced: all of the user's connections
	for _, cn := range conns {
		h := s.healthOf(ctx, userID, cn, byConn[cn.ID], byInst[cn.Institution.ID])
		if h.Diagnosis != nil && !h.Refreshing && cn.Status == ConnectionInvalid && !isOpenBanking(cn.Method) {
			if len(connectionIDs) > 0 && len(everyConn) == len(conns) {
				// Given ids: the user's other connections are needed once,
				// with their institutions and methods.
				if everyConn, err = s.List(ctx, userID, nil); err != nil {
					return nil, err
				}
			}
			if replaced(cn, everyConn) {
				h.Diagnosis.RemoveConnectionID, h.Diagnosis.Consent = cn.ID, nil
				h.NeedsUserAction = false
			}
		}
		out = append(out, h)
	}
	return out, nil
}

// replaced reports whether a failed web connection has been replaced by an
// open-banking one at the same institution that works: Basiq lets a user
// hold no active web connection beside an open-banking one to the same
// institution, so the open-banking one is the web one's successor (the
// migration Basiq documents). Nothing else counts: a second connection of
// the same kind at the same bank may be a second login, which the API cannot
// tell from a replacement.
func replaced(cn Connection, all []Connection) bool {
	if isOpenBanking(cn.Method) || cn.Status != ConnectionInvalid {
		return false
	}
	return slices.ContainsFunc(all, func(other Connection) bool {
		return other.ID != cn.ID && other.Institution.ID == cn.Institution.ID &&
			isOpenBanking(other.Method) && other.Status == ConnectionActive
	})
}

// connectionsOfJobs returns stand-ins for the connections the jobs name
// that are not in known, with the institution of a job list item: enough to
// tell whether a job that names no connection could be another one's.
func connectionsOfJobs(jobs []Job, known []Connection) []Connection {
	have := make(map[string]bool, len(known))
	for _, cn := range known {
		have[cn.ID] = true
	}
	var out []Connection
	for i := range jobs {
		id := jobs[i].ConnectionID()
		if id == "" || have[id] || jobs[i].Institution == nil {
			continue
		}
		have[id] = true
		out = append(out, Connection{ID: id, Institution: ResourceRef{ID: jobs[i].Institution.ID}})
	}
	return out
}

// healthOf is one connection's health from its jobs (cj) and the running
// jobs at its institution that name no connection (maybe).
func (s *ConnectionsService) healthOf(ctx context.Context, userID string, cn Connection, cj, maybe []*Job) ConnectionHealth {
	h := ConnectionHealth{Connection: cn, NeedsUserAction: cn.Status == ConnectionInvalid}
	sort.SliceStable(cj, func(a, b int) bool { return jobTime(cj[a]).After(jobTime(cj[b])) })
	if len(cj) > 0 {
		latest := *cj[0]
		h.LatestJob = &latest
		switch latest.Status() {
		case JobPending, JobRunning:
			h.Refreshing = true
		case JobFailed:
			op := OpRefresh
			if len(cj) == 1 && createdWith(cn, &latest) {
				op = OpCreate
			}
			instID := cn.Institution.ID
			opts := DiagnoseOptions{Operation: op, ConnectionID: cn.ID, MFA: cn.MFAEnabled, mfaKnown: true,
				Attempt: failedInARow(cj)}
			d := s.client().diagnose(ctx, &latest, opts, &instID)
			h.Diagnosis = &d
			// A remedy through the Consent UI needs the user too (a retry
			// on a bank that asks for MFA).
			h.NeedsUserAction = h.NeedsUserAction || d.Action.UserMustAct() || d.Consent != nil
		}
	}
	for _, j := range maybe {
		if h.LatestJob == nil || jobTime(j).After(jobTime(h.LatestJob)) {
			h.Refreshing = true
		}
	}
	if h.Refreshing {
		h.NeedsUserAction = false
	}
	if cn.Status == ConnectionPreInit && !h.Refreshing {
		// An open-banking authorisation the user left unfinished: they
		// finish it in the Consent UI, on the connection (no delete needed).
		h.NeedsUserAction = true
	}
	if h.NeedsUserAction && h.Diagnosis == nil && s.client().version == V3 {
		h.Diagnosis = invalidConnectionDiagnosis(userID, cn)
	}
	return h
}

// failedInARow counts the latest jobs (newest first) that failed with the
// same code as the latest: the attempts an application's retries have made,
// so that Health escalates as the retries' own Diagnoses do.
func failedInARow(newestFirst []*Job) int {
	code := func(j *Job) (string, bool) {
		st, ok := j.FailedStep()
		if !ok {
			return "", false
		}
		if st.Result == nil {
			return "", true
		}
		return strings.ToLower(strings.TrimSpace(st.Result.Code)), true
	}
	first, _ := code(newestFirst[0])
	n := 0
	for _, j := range newestFirst {
		if c, failed := code(j); !failed || c != first {
			break
		}
		n++
	}
	return n
}

// invalidConnectionDiagnosis is the Diagnosis of an invalid (or pre-init)
// connection with no failed job to read, on API 3.0: the user reconnects it
// in place.
func invalidConnectionDiagnosis(userID string, cn Connection) *Diagnosis {
	code, msg := codeConnectionInvalid, userMessageReconnectInvalid
	if cn.Status == ConnectionPreInit {
		code, msg = codeConnectionPreInit, userMessageFinishConnecting
	}
	return &Diagnosis{
		Code: code, Operation: OpRefresh, Action: ActionReconnect,
		UserMessage: msg, UserID: userID, ConnectionID: cn.ID,
		Consent:   &ConsentURLOptions{ConnectionID: cn.ID},
		ProblemID: problemID(cn.ID, "", code),
	}
}

// attributeJobs files the user's jobs by connection. A job that names no
// connection yet goes to the one connection at its institution; when there
// are several, running ones are returned by institution instead, and
// finished ones (which always name their connection) are left out.
func attributeJobs(conns []Connection, jobs []Job) (byConn, byInst map[string][]*Job) {
	atInst := make(map[string][]string)
	for _, cn := range conns {
		atInst[cn.Institution.ID] = append(atInst[cn.Institution.ID], cn.ID)
	}
	byConn, byInst = make(map[string][]*Job), make(map[string][]*Job)
	for i := range jobs {
		j := &jobs[i]
		id := j.ConnectionID()
		if id == "" && j.Institution != nil && j.Institution.ID != "" {
			switch ids := atInst[j.Institution.ID]; {
			case len(ids) == 1:
				id = ids[0]
			case len(ids) > 1 && !j.Status().Terminal():
				byInst[j.Institution.ID] = append(byInst[j.Institution.ID], j)
			}
		}
		if id != "" {
			byConn[id] = append(byConn[id], j)
		}
	}
	return byConn, byInst
}

func jobTime(j *Job) time.Time {
	if !j.Created.IsZero() {
		return j.Created
	}
	return j.Updated
}

// createdWith reports whether job started when the connection was created.
func createdWith(cn Connection, job *Job) bool {
	if cn.CreatedDate.IsZero() || job.Created.IsZero() {
		return false
	}
	d := job.Created.Sub(cn.CreatedDate)
	return d > -2*time.Minute && d < 2*time.Minute
}
