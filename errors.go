package basiq

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode"

	"github.com/banklink-go/basiq/internal/transport"
)

// Sentinel errors for errors.Is. An *APIError matches the sentinel of its
// category; validation failures before any request wrap ErrInvalidInput.
var (
	// ErrInvalidInput: a caller argument was rejected before sending, or the API answered 400.
	ErrInvalidInput = errors.New("basiq: invalid input")
	// ErrUnauthorized: the API answered 401, or the token endpoint refused the
	// API key (an *AuthError; see AuthError.Is).
	ErrUnauthorized = errors.New("basiq: unauthorized")
	// ErrForbidden: the API answered 403 for a reason other than an expired token or throttling.
	ErrForbidden = errors.New("basiq: forbidden")
	// ErrTokenExpired: the API answered 403 access-denied ("Token has expired").
	ErrTokenExpired = errors.New("basiq: token expired")
	// ErrNotFound: the API answered 404.
	ErrNotFound = errors.New("basiq: not found")
	// ErrRateLimited: the API answered 429, or 403 "Invalid request" (Basiq's throttling).
	ErrRateLimited = errors.New("basiq: rate limited")
	// ErrUnavailable: the API answered 500, 502, 503 or 504.
	ErrUnavailable = errors.New("basiq: service unavailable")
	// ErrUnsupportedVersion: the call does not exist in the configured API version,
	// either known before sending or answered 404 "Route not found for this API version".
	ErrUnsupportedVersion = errors.New("basiq: not supported by this API version")
	// ErrResponseTooLarge: a response body exceeded the SDK's size limit.
	ErrResponseTooLarge = errors.New("basiq: response too large")
)

// maxErrorBody bounds the copy of an error response body kept in an APIError.
const maxErrorBody = 4 << 10

// ErrorSource points at the part of the request an error is about.
type ErrorSource struct {
	Pointer   string `json:"pointer,omitempty"`
	Parameter string `json:"parameter,omitempty"`
}

// ErrorDetail is one entry of Basiq's error envelope.
type ErrorDetail struct {
	Code   string       `json:"code"`
	Title  string       `json:"title"`
	Detail string       `json:"detail,omitempty"`
	Source *ErrorSource `json:"source,omitempty"`
}

// APIError is an error response from the Basiq API. Bodies that are not
// Basiq's envelope (a gateway's HTML, say) still produce an APIError, with
// Errors empty and Body holding the start of what was received.
type APIError struct {
	StatusCode    int
	CorrelationID string
	Errors        []ErrorDetail
	Method        string
	Path          string        // the request path, without query
	RetryAfter    time.Duration // from a Retry-After header, when present
	Body          []byte        // at most 4 KiB of the response body
	Attempts      int           // how many attempts were made before this answer

	earlierMayHaveActed bool // an earlier attempt may have been acted on (transport.Response)
}

// Code returns the first error code, or "" when the body had none.
func (e *APIError) Code() string {
	if len(e.Errors) == 0 {
		return ""
	}
	return e.Errors[0].Code
}

// Error formats the status, code, message and correlation id.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "basiq: %s %s: %d %s", e.Method, e.Path, e.StatusCode, http.StatusText(e.StatusCode))
	if len(e.Errors) > 0 {
		d := e.Errors[0]
		if d.Code != "" {
			fmt.Fprintf(&b, ": %s", oneLine(d.Code))
		}
		msg := d.Detail
		if msg == "" {
			msg = d.Title
		}
		if msg != "" {
			fmt.Fprintf(&b, ": %s", oneLine(msg))
		}
	} else if snippet := bodySnippet(e.Body); snippet != "" {
		fmt.Fprintf(&b, ": %q", snippet)
	}
	if e.CorrelationID != "" {
		fmt.Fprintf(&b, " (correlationId %s)", oneLine(e.CorrelationID))
	}
	return b.String()
}

// maxErrorText bounds the server text quoted in an error string.
const maxErrorText = 300

// oneLine makes server-supplied text safe to put in an error string that may
// end up in a plain-text log: control characters (newlines included) become
// spaces, and the text is cut at maxErrorText bytes.
func oneLine(s string) string { return clipLine(s, maxErrorText) }

// clipLine is oneLine with a limit of n bytes.
func clipLine(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(s, "?"))
	if len(s) > n {
		s = strings.ToValidUTF8(s[:n], "") + "…"
	}
	return s
}

func bodySnippet(body []byte) string {
	return clipLine(strings.Join(strings.Fields(string(body)), " "), 120)
}

// Is matches the sentinel of the error's category.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrInvalidInput:
		return e.StatusCode == http.StatusBadRequest
	case ErrUnauthorized:
		return e.StatusCode == http.StatusUnauthorized
	case ErrTokenExpired:
		return e.tokenExpired()
	case ErrRateLimited:
		return transport.IsThrottled(e.StatusCode, e.Body)
	case ErrForbidden:
		return e.StatusCode == http.StatusForbidden && !e.tokenExpired() && !transport.IsThrottled(e.StatusCode, e.Body)
	case ErrNotFound:
		// 410 Gone (resource-no-longer-available: an auth link that expired
		// or was deleted) is a resource that is not there any more.
		return e.StatusCode == http.StatusGone || e.StatusCode == http.StatusNotFound && !e.routeMissing()
	case ErrUnsupportedVersion:
		return e.routeMissing()
	case ErrUnavailable:
		switch e.StatusCode {
		case 500, 502, 503, 504:
			return true
		}
	}
	return false
}

func (e *APIError) tokenExpired() bool {
	return e.StatusCode == http.StatusForbidden && e.hasCode("access-denied")
}

func (e *APIError) routeMissing() bool {
	if e.StatusCode != http.StatusNotFound {
		return false
	}
	for _, d := range e.Errors {
		if strings.Contains(strings.ToLower(d.Detail+" "+d.Title), "route not found") {
			return true
		}
	}
	return false
}

func (e *APIError) hasCode(code string) bool {
	for _, d := range e.Errors {
		if d.Code == code {
			return true
		}
	}
	return false
}

// newAPIError builds an APIError from a response, tolerating any body.
func newAPIError(method, path string, resp *transport.Response) *APIError {
	e := &APIError{StatusCode: resp.StatusCode, Method: method, Path: path, Attempts: resp.Attempts,
		earlierMayHaveActed: resp.EarlierMayHaveActed}
	body := resp.Body
	if len(body) > maxErrorBody {
		body = body[:maxErrorBody]
	}
	e.Body = append([]byte(nil), body...)
	if ra, ok := transport.RetryAfter(resp.Header, time.Now()); ok {
		e.RetryAfter = ra
	}
	var env struct {
		CorrelationID string            `json:"correlationId"`
		Data          []json.RawMessage `json:"data"`
	}
	if json.Unmarshal(resp.Body, &env) == nil {
		e.CorrelationID = env.CorrelationID
		for _, raw := range env.Data {
			var d ErrorDetail
			if json.Unmarshal(raw, &d) == nil && (d.Code != "" || d.Title != "" || d.Detail != "") {
				e.Errors = append(e.Errors, d)
			}
		}
	}
	return e
}

// AuthError reports that the SDK could not obtain an access token: the API key
// was rejected (never retried), or the token endpoint failed after retries.
// It matches ErrUnauthorized and unwraps to the underlying *APIError or
// network error.
type AuthError struct {
	Scope      string // SERVER_ACCESS or CLIENT_ACCESS
	StatusCode int    // 0 when no response was received
	Err        error
}

// Error describes the failure without revealing the API key.
func (e *AuthError) Error() string {
	if e.StatusCode == http.StatusNotFound || e.StatusCode == http.StatusBadRequest {
		return fmt.Sprintf("basiq: %s token request rejected (check the API key and version): %v", e.Scope, e.Err)
	}
	return fmt.Sprintf("basiq: %s token request failed: %v", e.Scope, e.Err)
}

// Unwrap returns the underlying error.
func (e *AuthError) Unwrap() error { return e.Err }

// Is reports that an AuthError whose token request was refused (400, 401,
// 404, or a 403 that is not throttling: a bad key, version or account)
// matches ErrUnauthorized. A token endpoint that failed (network, 429, 5xx)
// does not: that error matches ErrUnavailable or ErrRateLimited through the
// wrapped error instead.
func (e *AuthError) Is(target error) bool {
	if target != ErrUnauthorized {
		return false
	}
	switch e.StatusCode {
	case http.StatusBadRequest, http.StatusUnauthorized, http.StatusNotFound:
		return true
	case http.StatusForbidden:
		return !errors.Is(e.Err, ErrRateLimited)
	}
	return false
}

// invalidInput returns an error wrapping ErrInvalidInput.
func invalidInput(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidInput, fmt.Sprintf(format, args...))
}

// JobFailedError is returned by Poller.Wait and Jobs.Wait when a step of the
// job failed. Diagnosis says what to do and what to tell the user; Step is
// the failed step, with the API's error code and detail in Step.Result.
//
// Its Error text names the job, step, code and recommended action, and never
// the bank's or Basiq's detail text.
type JobFailedError struct {
	Job       *Job
	Step      Step
	Diagnosis Diagnosis
}

// Error formats the job id, failed step, error code and recommended action.
func (e *JobFailedError) Error() string {
	jobID := e.Diagnosis.JobID
	if jobID == "" && e.Job != nil {
		jobID = e.Job.ID
	}
	step := e.Step.Title
	if step == "" {
		step = e.Diagnosis.Step
	}
	code := e.Diagnosis.Code
	if code == "" && e.Step.Result != nil {
		code = e.Step.Result.Code
	}
	if code == "" {
		code = "no error code"
	}
	// Every part but the action comes from the server: keep it to one line.
	return oneLine(fmt.Sprintf("basiq: job %s failed at step %s: %s (action: %s)",
		orUnknown(jobID), orUnknown(string(step)), code, e.Diagnosis.actionOrNone()))
}
