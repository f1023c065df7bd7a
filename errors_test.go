package basiq

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banklink-go/basiq/internal/transport"
)

func TestAPIErrorSentinels(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		body   string
		want   error
	}{
		{"400 parameter-not-valid", 400, coreEnvelope("parameter-not-valid", "Required parameter not valid", "Job ID value is not valid"), ErrInvalidInput},
		{"400 non-envelope", 400, `bad request`, ErrInvalidInput},
		{"401 unauthorized-access", 401, coreEnvelope("unauthorized-access", "Unauthorized", "You are not authorized to access this resource"), ErrUnauthorized},
		{"401 invalid-authorization-token", 401, coreEnvelope("invalid-authorization-token", "Invalid authorization token.", ""), ErrUnauthorized},
		{"403 access-denied", 403, accessDenied, ErrTokenExpired},
		{"403 forbidden-access", 403, coreEnvelope("forbidden-access", "Forbidden", "Access to this resource is forbidden"), ErrForbidden},
		{"403 no-production-access", 403, coreEnvelope("no-production-access", "Forbidden", "Please contact us to have your API key enabled for Connections."), ErrForbidden},
		{"403 account disabled", 403, coreEnvelope("access-denied-disabled", "Forbidden", "Your account has been disabled"), ErrForbidden},
		{"403 gateway body", 403, `{"message":"Missing Authentication Token"}`, ErrForbidden},
		{"403 Invalid request (throttling)", 403, coreEnvelope("request-not-valid", "Invalid request", "Invalid request."), ErrRateLimited},
		{"403 Invalid request, gateway body", 403, `{"message":"Invalid request"}`, ErrRateLimited},
		{"403 Invalid request, plain text", 403, "Invalid request", ErrRateLimited},
		{"403 forbidden-access titled Invalid request", 403, coreEnvelope("forbidden-access", "Invalid request", "Invalid request"), ErrForbidden},
		{"404 resource-not-found", 404, coreEnvelope("resource-not-found", "Requested resource is not found", "Requested user does not exist."), ErrNotFound},
		{"404 empty body", 404, ``, ErrNotFound},
		{"404 route not found", 404, coreEnvelope("resource-not-found", "Requested resource is not found", "Route not found for this API version"), ErrUnsupportedVersion},
		{"404 route not found in title", 404, `{"type":"list","data":[{"code":"resource-not-found","title":"Route not found for this API version"}]}`, ErrUnsupportedVersion},
		{"429", 429, coreEnvelope("too-many-requests", "Too many requests.", "Query limit reached."), ErrRateLimited},
		{"500", 500, coreEnvelope("internal-server-error", "Internal Server error", ""), ErrUnavailable},
		{"502 HTML", 502, "<html><body>Bad Gateway</body></html>", ErrUnavailable},
		{"503", 503, coreEnvelope("service-unavailable", "Service Unavailable", "try again later"), ErrUnavailable},
		{"504", 504, "", ErrUnavailable},
		{"405", 405, coreEnvelope("method-not-allowed", "Method not allowed", ""), nil},
		{"410", 410, coreEnvelope("resource-no-longer-available", "Gone", ""), ErrNotFound}, // no longer there: as good as not found
		{"415", 415, coreEnvelope("unsupported-content-type", "Unsupported", ""), nil},
		{"501", 501, "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newAPIError(http.MethodGet, "/jobs/j1", &transport.Response{StatusCode: tc.status, Body: []byte(tc.body), Header: http.Header{}})
			assertOnlySentinel(t, e, tc.want)
			// wrapped, the category still shows
			assertOnlySentinel(t, fmt.Errorf("context: %w", e), tc.want)
		})
	}
}

func TestAPIErrorSentinelsThroughClient(t *testing.T) {
	// one call per category, end to end, with retries and the token replay off the table
	for _, tc := range []struct {
		status int
		body   string
		want   error
	}{
		{400, coreEnvelope("parameter-not-valid", "Required parameter not valid", "Job ID value is not valid"), ErrInvalidInput},
		{403, coreEnvelope("forbidden-access", "Forbidden", "Access to this resource is forbidden"), ErrForbidden},
		{404, coreEnvelope("resource-not-found", "Requested resource is not found", "Requested job does not exist."), ErrNotFound},
		{404, coreEnvelope("resource-not-found", "Requested resource is not found", "Route not found for this API version"), ErrUnsupportedVersion},
		{429, coreEnvelope("too-many-requests", "Too many requests.", ""), ErrRateLimited},
		{503, coreEnvelope("service-unavailable", "Service Unavailable", ""), ErrUnavailable},
	} {
		t.Run(fmt.Sprint(tc.status, " ", tc.want), func(t *testing.T) {
			a := newCoreAPI(t)
			a.handle(http.MethodGet, "/jobs/j1", tc.status, tc.body)
			c := newCoreClient(t, a, WithRetryPolicy(RetryPolicy{MaxAttempts: 1}))
			_, err := c.Jobs.Get(context.Background(), "j1")
			assertOnlySentinel(t, err, tc.want)
			var apiErr *APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, "corr-123", apiErr.CorrelationID)
			assert.Equal(t, tc.status, apiErr.StatusCode)
			assert.Equal(t, 1, apiErr.Attempts)
		})
	}
}

func TestAPIErrorFields(t *testing.T) {
	body := `{"type":"list","correlationId":"bd1183d9-c9d8-11e7-909a-6789bfc80ac5","data":[
	  {"type":"error","code":"parameter-not-supplied","title":"Required parameter not supplied","detail":"Institution ID  parameter is required.",
	   "source":{"pointer":"connection/institution/id","parameter":"id"}},
	  {"type":"error","code":"parameter-not-valid","title":"Second","source":null},
	  "not an object",
	  {"type":"error"}]}`
	h := http.Header{}
	h.Set("Retry-After", "120")
	e := newAPIError(http.MethodPost, "/users/u1/connections", &transport.Response{StatusCode: 400, Body: []byte(body), Header: h, Attempts: 2})
	assert.Equal(t, 400, e.StatusCode)
	assert.Equal(t, "bd1183d9-c9d8-11e7-909a-6789bfc80ac5", e.CorrelationID)
	assert.Equal(t, "parameter-not-supplied", e.Code())
	assert.Equal(t, http.MethodPost, e.Method)
	assert.Equal(t, "/users/u1/connections", e.Path)
	assert.Equal(t, 2*time.Minute, e.RetryAfter)
	assert.Equal(t, 2, e.Attempts)
	assert.Equal(t, body, string(e.Body))
	require.Len(t, e.Errors, 2, "entries that are not errors are skipped")
	assert.Equal(t, ErrorDetail{Code: "parameter-not-supplied", Title: "Required parameter not supplied",
		Detail: "Institution ID  parameter is required.", Source: &ErrorSource{Pointer: "connection/institution/id", Parameter: "id"}}, e.Errors[0])
	assert.Equal(t, ErrorDetail{Code: "parameter-not-valid", Title: "Second"}, e.Errors[1])
	assert.Equal(t, "basiq: POST /users/u1/connections: 400 Bad Request: parameter-not-supplied: Institution ID  parameter is required. (correlationId bd1183d9-c9d8-11e7-909a-6789bfc80ac5)", e.Error())

	t.Run("title when no detail", func(t *testing.T) {
		e := newAPIError(http.MethodGet, "/institutions", &transport.Response{StatusCode: 401, Header: http.Header{},
			Body: []byte(`{"correlationId":"c1","data":[{"code":"invalid-authorization-token","title":"Invalid authorization token.","type":"error"}],"type":"list"}`)})
		assert.Equal(t, "basiq: GET /institutions: 401 Unauthorized: invalid-authorization-token: Invalid authorization token. (correlationId c1)", e.Error())
	})
	t.Run("non-envelope snippet", func(t *testing.T) {
		html := "<html>\n  <body>" + strings.Repeat("gateway ", 40) + "</body>\n</html>"
		e := newAPIError(http.MethodGet, "/jobs/j1", &transport.Response{StatusCode: 502, Header: http.Header{}, Body: []byte(html)})
		assert.Empty(t, e.Errors)
		assert.Empty(t, e.Code())
		assert.Empty(t, e.CorrelationID)
		msg := e.Error()
		assert.True(t, strings.HasPrefix(msg, `basiq: GET /jobs/j1: 502 Bad Gateway: "<html> <body>gateway gateway`), msg)
		assert.Contains(t, msg, "…", "long bodies are cut")
		assert.Less(t, len(msg), 200)
	})
	t.Run("empty body", func(t *testing.T) {
		e := newAPIError(http.MethodDelete, "/users/u1", &transport.Response{StatusCode: 503, Header: http.Header{}})
		assert.Equal(t, "basiq: DELETE /users/u1: 503 Service Unavailable", e.Error())
	})
	t.Run("body copy bounded", func(t *testing.T) {
		big := strings.Repeat("x", 10<<10)
		e := newAPIError(http.MethodGet, "/jobs/j1", &transport.Response{StatusCode: 500, Header: http.Header{}, Body: []byte(big)})
		assert.Len(t, e.Body, maxErrorBody)
	})
	t.Run("retry-after date", func(t *testing.T) {
		h := http.Header{}
		h.Set("Retry-After", time.Now().Add(time.Hour).UTC().Format(http.TimeFormat))
		e := newAPIError(http.MethodGet, "/jobs/j1", &transport.Response{StatusCode: 429, Header: h})
		assert.InDelta(t, time.Hour.Seconds(), e.RetryAfter.Seconds(), 2)
	})
}

func TestErrorMessagesCarryNoSecrets(t *testing.T) {
	a := newCoreAPI(t)
	a.handle(http.MethodPost, "/users/u1/connections", 400, coreEnvelope("invalid-content", "Invalid content", "Posted connection is not in valid format."))
	a.handle(http.MethodPost, "/jobs/j1/mfa", 500, coreEnvelope("internal-server-error", "Internal", ""))
	a.handle(http.MethodGet, "/jobs/j1", 404, coreEnvelope("resource-not-found", "Not found", ""))
	c := newCoreClient(t, a, WithAPIVersion(V2_1), WithRetryPolicy(RetryPolicy{MaxAttempts: 1}))
	ctx := context.Background()
	var errs []error
	_, err := c.Connections.Create(ctx, "u1", Credentials{InstitutionID: "AU00000", LoginID: "login", Password: "pw-secret-1", SecurityCode: "code-secret-2"})
	errs = append(errs, err)
	_, err = c.Jobs.SubmitMFA(ctx, "u1", "j1", []string{"otp-secret-3"})
	errs = append(errs, err)
	_, err = c.Jobs.Get(ctx, "j1")
	errs = append(errs, err)
	tokens := []string{}
	for _, r := range a.apiRequests() {
		tokens = append(tokens, strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
	}
	require.Len(t, tokens, 3)

	bad := newCoreAPI(t)
	bad.onToken(func(*http.Request) (*http.Response, error) {
		return coreJSON(404, coreEnvelope("parameter-not-valid", "We have encountered an error", "Unable to authenticate. Please, check your API key")), nil
	})
	cb := newCoreClient(t, bad)
	_, err = cb.Token(ctx)
	errs = append(errs, err)

	for _, err := range errs {
		require.Error(t, err)
		for _, form := range []string{err.Error(), fmt.Sprintf("%v", err), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
			for _, secret := range append([]string{coreAPIKey, "pw-secret-1", "code-secret-2", "otp-secret-3"}, tokens...) {
				assert.NotContains(t, form, secret)
			}
		}
	}
}

func TestAuthErrorText(t *testing.T) {
	apiErr := newAPIError(http.MethodPost, "/token", &transport.Response{StatusCode: 404, Header: http.Header{},
		Body: []byte(coreEnvelope("parameter-not-valid", "We have encountered an error", "Unable to authenticate. Please, check your API key"))})
	e := &AuthError{Scope: ScopeServerAccess, StatusCode: 404, Err: apiErr}
	assert.Equal(t, "basiq: SERVER_ACCESS token request rejected (check the API key and version): "+apiErr.Error(), e.Error())
	assert.ErrorIs(t, e, ErrUnauthorized)
	assert.ErrorIs(t, e, ErrNotFound, "the underlying API error stays reachable")
	var got *APIError
	require.ErrorAs(t, e, &got)
	assert.Same(t, apiErr, got)

	e = &AuthError{Scope: ScopeClientAccess, StatusCode: 0, Err: errors.New("dial tcp: connection refused")}
	assert.Equal(t, "basiq: CLIENT_ACCESS token request failed: dial tcp: connection refused", e.Error())
	assert.NotErrorIs(t, e, ErrUnauthorized, "an unreachable token endpoint is not a bad key")

	throttled := newAPIError(http.MethodPost, "/token", &transport.Response{StatusCode: 403, Header: http.Header{},
		Body: []byte(coreEnvelope("request-not-valid", "Invalid request", "Invalid request"))})
	assert.NotErrorIs(t, &AuthError{Scope: ScopeServerAccess, StatusCode: 403, Err: throttled}, ErrUnauthorized)
	disabled := newAPIError(http.MethodPost, "/token", &transport.Response{StatusCode: 403, Header: http.Header{},
		Body: []byte(coreEnvelope("forbidden-access", "Forbidden", "Your account has been disabled"))})
	assert.ErrorIs(t, &AuthError{Scope: ScopeServerAccess, StatusCode: 403, Err: disabled}, ErrUnauthorized)
	assert.NotErrorIs(t, &AuthError{StatusCode: 401}, ErrForbidden)
}

func TestInvalidInputAndUnsupportedWrap(t *testing.T) {
	err := invalidInput("userId %q is empty", "")
	assert.ErrorIs(t, err, ErrInvalidInput)
	assert.Equal(t, `basiq: invalid input: userId "" is empty`, err.Error())
	c, err := NewClient("key")
	require.NoError(t, err)
	err = c.errUnsupported("Connections.Update")
	assert.ErrorIs(t, err, ErrUnsupportedVersion)
	assert.Equal(t, "basiq: not supported by this API version: Connections.Update is not available on API version 3.0", err.Error())
}

func TestAPIErrorTextIsOneLine(t *testing.T) {
	e := &APIError{StatusCode: 400, Method: "GET", Path: "/users/u", CorrelationID: "c",
		Errors: []ErrorDetail{{Code: "bad\ncode", Detail: "line one\nlevel=ERROR msg=forged\r\x1b[31m" + strings.Repeat("x", 1000)}}}
	msg := e.Error()
	assert.NotContains(t, msg, "\n")
	assert.NotContains(t, msg, "\r")
	assert.NotContains(t, msg, "\x1b")
	assert.Less(t, len(msg), 500)
	assert.Contains(t, msg, "line one level=ERROR msg=forged")
}

func TestServerTextStaysOnOneLine(t *testing.T) {
	job := &Job{ID: "job\n1", Steps: []Step{{Title: "verify\r\ncredentials", Status: StepFailed,
		Result: &StepResult{Code: "bad\ncode\x1b[2J", Detail: "x"}}}}
	d := Diagnose(job, DiagnoseOptions{Operation: OpCreate})
	e := &JobFailedError{Job: job, Step: job.Steps[0], Diagnosis: d}
	api := &APIError{StatusCode: 502, Method: "GET", Path: "/jobs/x", CorrelationID: "c\nid", Body: []byte("<html>\n" + strings.Repeat("é", 200))}
	for _, s := range []string{e.Error(), d.String(), api.Error()} {
		assert.NotContains(t, s, "\n")
		assert.NotContains(t, s, "\r")
		assert.NotContains(t, s, "\x1b")
		assert.True(t, utf8.ValidString(s), "%q", s)
	}
}

// An auth link that expired or was deleted answers 410 Gone: it matches
// ErrNotFound, as AuthLinks.Get's doc says.
func TestGoneMatchesErrNotFound(t *testing.T) {
	e := &APIError{StatusCode: http.StatusGone}
	assert.ErrorIs(t, e, ErrNotFound)
	assert.NotErrorIs(t, e, ErrUnavailable)
}
