package basiq

import (
	"context"
	"net/http"
	"time"
)

// ConnectionsService creates, reads, refreshes, updates and deletes a user's
// bank connections.
type ConnectionsService struct {
	c *Client
}

// ConnectionFilter narrows Connections.List (server-side filter).
type ConnectionFilter struct {
	Status        ConnectionStatus // e.g. ConnectionActive
	InstitutionID string           // e.g. "AU00000"
	ID            string           // id: one connection
	// Where adds statements beyond the fields (every operator, ne
	// included), ANDed with them. Basiq documents, for this list: id, status and institution.id, with eq and ne.
	Where []Condition
}

// Create starts a connection job with the user's bank credentials
// (POST /users/{userId}/connections, API version 2.1 only; on 3.0 connections
// are made through Basiq's Consent UI and this returns ErrUnsupportedVersion
// without sending anything). The returned job is a stub: poll it with
// Jobs.Poller or Jobs.Wait. The request is never retried after the server may
// have acted on it: a duplicate would pause the connection and risk locking the
// user out of their bank.
func (s *ConnectionsService) Create(ctx context.Context, userID string, cr Credentials) (*Job, error) {
	if s.client().APIVersion() != V2_1 {
		return nil, s.client().errUnsupported("Connections.Create")
	}
	if err := validateID("userId", userID); err != nil {
		return nil, err
	}
	switch {
	case cr.InstitutionID == "":
		return nil, invalidInput("Credentials.InstitutionID is empty")
	case cr.LoginID == "":
		return nil, invalidInput("Credentials.LoginID is empty")
	case cr.Password == "":
		return nil, invalidInput("Credentials.Password is empty")
	}
	body := credentialsBody{
		LoginID: cr.LoginID, Password: cr.Password, SecurityCode: cr.SecurityCode,
		SecondaryLoginID: cr.SecondaryLoginID, Institution: institutionRef{ID: cr.InstitutionID},
	}
	return s.startJob(ctx, apiRequest{method: http.MethodPost, route: "/users/{userId}/connections", params: []string{userID}, body: body},
		jobOrigin{instID: cr.InstitutionID})
}

// Get returns a connection with its accounts and profile.
func (s *ConnectionsService) Get(ctx context.Context, userID, connectionID string) (*Connection, error) {
	var conn Connection
	_, err := s.client().do(ctx, apiRequest{method: http.MethodGet, route: "/users/{userId}/connections/{connectionId}", params: []string{userID, connectionID}}, &conn)
	if err != nil {
		return nil, err
	}
	return &conn, nil
}

// List returns a user's connections; filter may be nil.
func (s *ConnectionsService) List(ctx context.Context, userID string, filter *ConnectionFilter) ([]Connection, error) {
	var statements []string
	if filter != nil {
		for _, f := range []struct{ prop, value string }{
			{"id", filter.ID},
			{"status", string(filter.Status)},
			{"institution.id", filter.InstitutionID},
		} {
			if f.value == "" {
				continue
			}
			expr, err := filterExpr(f.prop, []string{f.value})
			if err != nil {
				return nil, err
			}
			statements = append(statements, expr)
		}
		more, err := conditions("ConnectionFilter", connectionVocab, filter.Where)
		if err != nil {
			return nil, err
		}
		statements = append(statements, more...)
	}
	var list listOf[Connection]
	_, err := s.client().do(ctx, apiRequest{method: http.MethodGet, route: "/users/{userId}/connections", params: []string{userID}, query: filterQuery(statements...)}, &list)
	if err != nil {
		return nil, err
	}
	return list.Data, nil
}

// Refresh starts a job that fetches the connection's latest data. If a job is
// already queued or running for the connection, the API returns that job
// (status 200) instead of a new one, and the returned job has Reused set.
// Prefer RefreshIfStale: Basiq asks integrators to keep ad hoc refreshes to a minimum.
func (s *ConnectionsService) Refresh(ctx context.Context, userID, connectionID string) (*Job, error) {
	return s.startJob(ctx, apiRequest{method: http.MethodPost, route: "/users/{userId}/connections/{connectionId}/refresh", params: []string{userID, connectionID}},
		jobOrigin{userID: userID, connID: connectionID})
}

// RefreshAll starts a refresh job for each of the user's connections.
func (s *ConnectionsService) RefreshAll(ctx context.Context, userID string) ([]Job, error) {
	var list listOf[Job]
	_, err := s.client().do(ctx, apiRequest{method: http.MethodPost, route: "/users/{userId}/connections/refresh", params: []string{userID}}, &list)
	if err != nil {
		return nil, err
	}
	return list.Data, nil
}

// Update replaces a connection's credentials and starts a job to verify them
// (POST /users/{userId}/connections/{connectionId}, API version 2.1 only).
// Like Create, it is never retried after the server may have acted on it.
func (s *ConnectionsService) Update(ctx context.Context, userID, connectionID string, u CredentialsUpdate) (*Job, error) {
	if s.client().APIVersion() != V2_1 {
		return nil, s.client().errUnsupported("Connections.Update")
	}
	if u.Password == "" {
		return nil, invalidInput("CredentialsUpdate.Password is empty")
	}
	body := updateBody(u)
	return s.startJob(ctx, apiRequest{method: http.MethodPost, route: "/users/{userId}/connections/{connectionId}", params: []string{userID, connectionID}, body: body},
		jobOrigin{userID: userID, connID: connectionID})
}

// Delete removes a connection. Data already fetched stays on the user. If an
// attempt fails and the retry finds the connection gone, the first attempt
// did it, and Delete succeeds.
func (s *ConnectionsService) Delete(ctx context.Context, userID, connectionID string) error {
	return s.client().remove(ctx, apiRequest{route: "/users/{userId}/connections/{connectionId}", params: []string{userID, connectionID}})
}

// Purge removes the accounts and transactions the connection brought to the
// user (POST /users/{userId}/connections/{connectionId}/purge), keeping the
// connection: a later refresh fetches them again (the way to pick up
// updated enrichment). Basiq purges only active connections. To remove the
// connection too, Purge and then Delete. API version 3.0 only.
func (s *ConnectionsService) Purge(ctx context.Context, userID, connectionID string) error {
	c := s.client()
	if c.APIVersion() != V3 {
		return c.errUnsupported("Connections.Purge")
	}
	_, err := c.do(ctx, apiRequest{method: http.MethodPost, route: "/users/{userId}/connections/{connectionId}/purge", params: []string{userID, connectionID}}, nil)
	return err
}

// jobOrigin is what this client knows of a job it started: its institution
// (a create), or its user and connection (a refresh or an update).
type jobOrigin struct {
	instID, userID, connID string
}

// startJob sends a request answered with a job stub; 200 marks it Reused.
func (s *ConnectionsService) startJob(ctx context.Context, r apiRequest, origin jobOrigin) (*Job, error) {
	var job Job
	status, err := s.client().do(ctx, r, &job)
	if err != nil {
		return nil, err
	}
	job.Reused = status == http.StatusOK
	if !job.Reused && job.ID != "" {
		// A job this client has just started: its pollers know its state.
		// (It started before this answer came back: a poller waiting from
		// now on never looks too early.)
		s.client().jobs.started.record(job.ID, time.Now(), origin)
	}
	return &job, nil
}
