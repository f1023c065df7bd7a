package basiqtest

import "net/http"

// apiError is one member of Basiq's error envelope.
type apiError struct {
	Type   string     `json:"type"`
	Code   string     `json:"code"`
	Title  string     `json:"title"`
	Detail string     `json:"detail,omitempty"`
	Source *errSource `json:"source,omitempty"`
}

// errSource points at the request element an error is about. An empty
// errSource marshals as {} (as in Basiq's "One of 'email' or 'mobile'" error).
type errSource struct {
	Pointer   string `json:"pointer,omitempty"`
	Parameter string `json:"parameter,omitempty"`
}

// envelope is Basiq's error body: a list of errors with a fresh correlation id.
type envelope struct {
	Type          string     `json:"type"`
	CorrelationID string     `json:"correlationId"`
	Data          []apiError `json:"data"`
}

// errorReply answers status with the error envelope.
func errorReply(status int, errs ...apiError) reply {
	return jsonReply(status, envelope{Type: "list", CorrelationID: newUUID(), Data: errs})
}

func newError(code, title, detail string) apiError {
	return apiError{Type: "error", Code: code, Title: title, Detail: detail}
}

func (e apiError) withSource(pointer, parameter string) apiError {
	e.Source = &errSource{Pointer: pointer, Parameter: parameter}
	return e
}

func errInvalidToken() apiError {
	return newError("invalid-authorization-token", "Invalid authorization token.", "")
}

func errTokenExpired() apiError {
	return newError("access-denied", "Access denied.", "Token has expired")
}

func errForbidden() apiError {
	return newError("forbidden-access", "Forbidden access", "Access to this resource is forbidden")
}

func errWrongUser() apiError {
	return newError("unauthorized-access", "Unauthorized Access", "You are not authorized to access this resource")
}

func errNotFound(detail string) apiError {
	return newError("resource-not-found", "Requested resource is not found", detail)
}

func errRouteNotForVersion() apiError {
	return errNotFound("Route not found for this API version")
}

func errNotSupplied(detail, pointer, parameter string) apiError {
	return newError("parameter-not-supplied", "Required parameter not supplied", detail).withSource(pointer, parameter)
}

func errNotValid(detail, pointer, parameter string) apiError {
	return newError("parameter-not-valid", "Parameter value is not valid", detail).withSource(pointer, parameter)
}

func errBadFilter() apiError {
	return errNotValid("The provided filter parameter is in invalid format or unsupported", "", "filter")
}

func errInvalidContent(detail string) apiError {
	return newError("invalid-content", "Invalid request content", detail)
}

func errUnsupportedContentType() apiError {
	return newError("unsupported-content-type", "Unsupported content type", "Requested content type is not supported.")
}

func errUnsupportedAccept() apiError {
	return newError("unsupported-accept", "Unsupported accept type", "Accept type is not supported.")
}

func errMethodNotAllowed() apiError {
	return newError("method-not-allowed", "Method not allowed", "Requested method is not allowed.")
}

// statusError is the default body of an injected fault with the given status.
func statusError(status int) apiError {
	switch {
	case status == http.StatusBadRequest:
		return newError("parameter-not-valid", "Parameter value is not valid", "Parameter value is not valid.")
	case status == http.StatusUnauthorized:
		return errInvalidToken()
	case status == http.StatusForbidden:
		return newError("forbidden-access", "Forbidden access", "Invalid request")
	case status == http.StatusNotFound:
		return errNotFound("Requested resource is not found.")
	case status == http.StatusTooManyRequests:
		return newError("too-many-requests", "Too many requests", "Query limit reached.")
	case status == http.StatusServiceUnavailable:
		return newError("service-unavailable", "Service unavailable", "Service is currently unavailable. Please try again later.")
	case status >= 500:
		return newError("internal-server-error", "Internal server error", "Internal server error.")
	default:
		return newError("request-not-valid", http.StatusText(status), "Request could not be processed.")
	}
}
