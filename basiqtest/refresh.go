package basiqtest

import "net/http"

// Refreshing follows Basiq's "avoid duplicate jobs" rule: while a
// connection has a job queued or running, a refresh answers 200 with that job
// instead of starting another.

// runningJob returns the connection's most recent job that has not finished.
func (s *Server) runningJob(connID string) *job {
	if js := s.st.byConn[connID]; len(js) > 0 {
		return js[len(js)-1]
	}
	return nil
}

// refreshTarget returns the job a refresh of conn answers with: the
// connection's running job (reused, 200) or a new one (202). On 2.x a
// connection made invalid by its credentials cannot be refreshed until they
// are updated; one the bank blocked with a popup or new terms
// (account-not-accessible-requires-user-action, user-action-required) can:
// Basiq's job guidance says to refresh once the user has cleared it.
func (s *Server) refreshTarget(conn *connection, c *call) (j *job, reused bool, rp reply, ok bool) {
	if j := s.runningJob(conn.id); j != nil {
		return j, true, reply{}, true
	}
	if conn.stmt != nil { // nothing to log in to: a new statement is a new upload
		return nil, false, errorReply(http.StatusBadRequest, errNotValid(
			"A connection made from an uploaded statement cannot be refreshed; upload a newer statement.", "", "connectionId")), false
	}
	if conn.status == connInvalid && conn.invalidBy == "invalid-credentials" && c.version() != "3.0" {
		o := outcomeFor(StepVerifyCredentials, "invalid-credentials", "")
		e := newError(o.Code, o.Title, o.Detail)
		return nil, false, errorReply(http.StatusBadRequest, e), false
	}
	if rp, ok := s.refreshAllowed(conn, c.now); !ok { // openbanking.go: pre-init, CDR limit
		return nil, false, rp, false
	}
	return s.startJob(conn, opRefresh, c.now, false, origin{version: c.version()}), false, reply{}, true
}

// refreshConnection serves POST /users/{userId}/connections/{connectionId}/refresh.
func (s *Server) refreshConnection(c *call) reply {
	conn, rp, ok := s.lookupConnection(c)
	if !ok {
		return rp
	}
	j, reused, rp, ok := s.refreshTarget(conn, c)
	if !ok {
		return rp
	}
	if reused {
		return jsonReply(http.StatusOK, s.jobStub(j))
	}
	return jsonReply(http.StatusAccepted, s.jobStub(j))
}

// refreshAll serves POST /users/{userId}/connections/refresh: one job stub
// per connection that can be refreshed (running jobs are reused).
func (s *Server) refreshAll(c *call) reply {
	u, rp, ok := s.lookupUser(c)
	if !ok {
		return rp
	}
	out := struct {
		Type string    `json:"type"`
		Data []jobStub `json:"data"`
	}{Type: "list", Data: []jobStub{}}
	for _, id := range u.conns {
		if j, _, _, ok := s.refreshTarget(s.st.conns[id], c); ok {
			out.Data = append(out.Data, s.jobStub(j))
		}
	}
	return jsonReply(http.StatusAccepted, out)
}
