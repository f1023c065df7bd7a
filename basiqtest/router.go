package basiqtest

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// scope is a set of token scopes a route accepts.
type scope uint8

const (
	scopeServer scope = 1 << iota // SERVER_ACCESS
	scopeClient                   // CLIENT_ACCESS
	scopeAny    = scopeServer | scopeClient
)

// route is one endpoint of the fake.
type route struct {
	method   string
	pattern  string // the route template, e.g. "/jobs/{jobId}"
	segs     []string
	scopes   scope    // zero: no bearer token (POST /token)
	versions []string // API versions that have the route; nil: all
	pdf      bool     // it also answers Accept: application/pdf (GET /reports/{reportId})
	handle   func(*Server, *call) reply
}

// call is one authenticated request being handled.
type call struct {
	req    *http.Request
	params map[string]string
	body   []byte
	tok    *token    // nil on POST /token
	now    time.Time // the fake's clock when the request is served
}

func (c *call) param(name string) string { return c.params[name] }

// version is the API version of the caller's token.
func (c *call) version() string { return c.tok.version }

// newRoutes returns the endpoint table, with the token scopes Basiq's API
// reference gives each route.
func newRoutes() []route {
	v2 := []string{"2.0", "2.1"}
	mfa := []string{"2.1", "3.0"}
	v3 := []string{"3.0"}
	rs := []route{
		{method: "POST", pattern: "/token", handle: (*Server).postToken},
		{method: "POST", pattern: "/users", scopes: scopeServer, handle: (*Server).createUser},
		{method: "GET", pattern: "/users/{userId}", scopes: scopeAny, handle: (*Server).getUser},
		{method: "POST", pattern: "/users/{userId}", scopes: scopeServer, handle: (*Server).updateUser},
		{method: "DELETE", pattern: "/users/{userId}", scopes: scopeServer, handle: (*Server).deleteUser},
		{method: "GET", pattern: "/users/{userId}/jobs", scopes: scopeServer, handle: (*Server).listJobs},
		{method: "POST", pattern: "/users/{userId}/connections", scopes: scopeAny, versions: v2, handle: (*Server).createConnection},
		{method: "GET", pattern: "/users/{userId}/connections", scopes: scopeServer, handle: (*Server).listConnections},
		{method: "POST", pattern: "/users/{userId}/connections/refresh", scopes: scopeServer, handle: (*Server).refreshAll},
		{method: "GET", pattern: "/users/{userId}/connections/{connectionId}", scopes: scopeAny, handle: (*Server).getConnection},
		{method: "POST", pattern: "/users/{userId}/connections/{connectionId}", scopes: scopeAny, versions: v2, handle: (*Server).updateConnection},
		{method: "DELETE", pattern: "/users/{userId}/connections/{connectionId}", scopes: scopeServer, handle: (*Server).deleteConnection},
		{method: "POST", pattern: "/users/{userId}/connections/{connectionId}/refresh", scopes: scopeServer, handle: (*Server).refreshConnection},
		{method: "GET", pattern: "/users/{userId}/accounts", scopes: scopeServer, handle: (*Server).listAccounts},
		{method: "GET", pattern: "/users/{userId}/accounts/{accountId}", scopes: scopeServer, handle: (*Server).getAccount},
		{method: "GET", pattern: "/users/{userId}/transactions", scopes: scopeServer, handle: (*Server).listTransactions},
		{method: "GET", pattern: "/users/{userId}/transactions/{transactionId}", scopes: scopeServer, handle: (*Server).getTransaction},
		{method: "GET", pattern: "/jobs/{jobId}", scopes: scopeAny, handle: (*Server).getJob},
		{method: "POST", pattern: "/jobs/{jobId}/mfa", scopes: scopeClient, versions: mfa, handle: (*Server).postMFA},
		{method: "GET", pattern: "/institutions", scopes: scopeAny, handle: (*Server).listInstitutions},
		{method: "GET", pattern: "/institutions/{institutionId}", scopes: scopeAny, handle: (*Server).getInstitution},
		{method: "GET", pattern: "/connectors", scopes: scopeAny, handle: (*Server).listConnectors},
		{method: "GET", pattern: "/connectors/{connectorId}/{method}", scopes: scopeAny, handle: (*Server).getConnector},
		{method: "POST", pattern: "/users/{userId}/statements", scopes: scopeServer, handle: (*Server).createStatement},
		{method: "POST", pattern: "/users/{userId}/auth_link", scopes: scopeServer, handle: (*Server).createAuthLink},
		{method: "GET", pattern: "/users/{userId}/auth_link", scopes: scopeServer, handle: (*Server).getAuthLink},
		{method: "DELETE", pattern: "/users/{userId}/auth_link", scopes: scopeAny, handle: (*Server).deleteAuthLink},
		{method: "GET", pattern: "/users/{userId}/identities", scopes: scopeServer, versions: v3, handle: (*Server).listIdentities},
		{method: "GET", pattern: "/users/{userId}/identities/{identityId}", scopes: scopeServer, versions: v3, handle: (*Server).getIdentity},
		{method: "GET", pattern: "/enrich", scopes: scopeAny, handle: (*Server).getEnrich},
		{method: "POST", pattern: "/reports", scopes: scopeServer, versions: v3, handle: (*Server).createReport},
		{method: "GET", pattern: "/reports", scopes: scopeServer, versions: v3, handle: (*Server).listReports},
		{method: "GET", pattern: "/reports/types", scopes: scopeServer, versions: v3, handle: (*Server).listReportTypes},
		{method: "GET", pattern: "/reports/types/{reportTypeId}", scopes: scopeServer, versions: v3, handle: (*Server).getReportType},
		{method: "GET", pattern: "/reports/{reportId}", scopes: scopeServer, versions: v3, pdf: true, handle: (*Server).getReport},
		{method: "DELETE", pattern: "/reports/{reportId}", scopes: scopeServer, versions: v3, handle: (*Server).deleteReport},
		{method: "GET", pattern: "/reports/{reportId}/transactions", scopes: scopeServer, versions: v3, handle: (*Server).listReportTransactions},
	}
	for i := range rs {
		rs[i].segs = strings.Split(rs[i].pattern[1:], "/")
	}
	return rs
}

// matchRoute finds the route for method and u. When the path matches but the
// method does not, it returns no route and the methods that would match.
// Literal segments beat parameters ("/connections/refresh" over
// "/connections/{connectionId}").
func matchRoute(rs []route, method string, u *url.URL) (*route, map[string]string, []string) {
	raw := strings.Split(strings.TrimPrefix(u.EscapedPath(), "/"), "/")
	segs := make([]string, len(raw))
	for i, s := range raw {
		v, err := url.PathUnescape(s)
		if err != nil {
			return nil, nil, nil
		}
		segs[i] = v
	}
	var best *route
	var bestParams map[string]string
	bestScore := -1
	var allow []string
	for i := range rs {
		params, score, ok := matchSegs(rs[i].segs, segs)
		if !ok {
			continue
		}
		if rs[i].method != method {
			allow = append(allow, rs[i].method)
			continue
		}
		if score > bestScore {
			best, bestParams, bestScore = &rs[i], params, score
		}
	}
	if best != nil {
		return best, bestParams, nil
	}
	slices.Sort(allow)
	return nil, nil, slices.Compact(allow)
}

// matchSegs matches a template against path segments, returning the path
// parameters and how many literal segments matched.
func matchSegs(tmpl, segs []string) (map[string]string, int, bool) {
	if len(tmpl) != len(segs) {
		return nil, 0, false
	}
	var params map[string]string
	score := 0
	for i, t := range tmpl {
		if name, ok := strings.CutPrefix(t, "{"); ok {
			if segs[i] == "" {
				return nil, 0, false
			}
			if params == nil {
				params = map[string]string{}
			}
			params[strings.TrimSuffix(name, "}")] = segs[i]
			continue
		}
		if t != segs[i] {
			return nil, 0, false
		}
		score++
	}
	return params, score, true
}

// checkParam validates a path parameter's format.
func checkParam(name, v string) (apiError, bool) {
	var detail string
	valid := true
	switch name {
	case "userId":
		detail, valid = "User ID value is not valid", isUUID(v)
	case "connectionId":
		detail, valid = "Connection ID value is not valid", isUUID(v)
	case "jobId":
		detail, valid = "Job ID value is not valid", isUUID(v)
	case "institutionId":
		detail, valid = "Institution ID value is not valid", isInstitutionID(v)
	case "reportId":
		detail, valid = "Report ID value is not valid", isUUID(v)
	case "connectorId":
		detail, valid = "Connector ID value is not valid", isInstitutionID(v)
	case "webhookId": // WH3 answers this one with path-parameter-not-valid
		if !isUUID(v) {
			return newError("path-parameter-not-valid", "Path parameter not valid", "Webhook ID value is not valid").
				withSource("", name), false
		}
	}
	if valid {
		return apiError{}, true
	}
	return newError("parameter-not-valid", "Parameter value is not valid", detail).withSource("", name), false
}

// acceptsJSON reports whether an Accept header allows a JSON answer.
func acceptsJSON(accept string) bool {
	if strings.TrimSpace(accept) == "" {
		return true
	}
	for part := range strings.SplitSeq(accept, ",") {
		mt, _, _ := strings.Cut(part, ";")
		switch strings.ToLower(strings.TrimSpace(mt)) {
		case "application/json", "application/*", "*/*":
			return true
		}
	}
	return false
}

// acceptsPDF reports whether an Accept header asks for a PDF.
func acceptsPDF(accept string) bool {
	for part := range strings.SplitSeq(accept, ",") {
		mt, _, _ := strings.Cut(part, ";")
		if strings.EqualFold(strings.TrimSpace(mt), "application/pdf") {
			return true
		}
	}
	return false
}

// dispatch authenticates c against rt's rules and runs its handler. It holds
// the server lock, reads the clock under it (so concurrent requests see time
// in the order they are served) and first brings every job up to that time.
func (s *Server) dispatch(rt *route, c *call) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	c.now = s.cfg.now()
	s.advance(c.now)
	if accept := c.req.Header.Get("Accept"); !acceptsJSON(accept) && !(rt.pdf && acceptsPDF(accept)) {
		return errorReply(http.StatusBadRequest, errUnsupportedAccept())
	}
	if rt.scopes == 0 {
		return rt.handle(s, c)
	}
	tok, rp, ok := s.authenticate(c.req, c.now)
	if !ok {
		return rp
	}
	c.tok = tok
	if rt.versions != nil && !slices.Contains(rt.versions, tok.version) {
		return errorReply(http.StatusNotFound, errRouteNotForVersion())
	}
	if rt.scopes&tok.scope == 0 {
		return errorReply(http.StatusForbidden, errForbidden())
	}
	for _, seg := range rt.segs {
		if name, ok := strings.CutPrefix(seg, "{"); ok {
			name = strings.TrimSuffix(name, "}")
			if e, ok := checkParam(name, c.param(name)); !ok {
				return errorReply(http.StatusBadRequest, e)
			}
		}
	}
	if uid := c.param("userId"); uid != "" && !tok.mayActFor(uid) {
		return errorReply(http.StatusUnauthorized, errWrongUser())
	}
	return rt.handle(s, c)
}
