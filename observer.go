package basiq

import (
	"context"
	"errors"
	"log/slog"
	"time"
)

// Observer sees each operation a Client performs, once it has finished:
// what a tracing or metrics adapter needs (see the module
// github.com/banklink-go/basiq/contrib/otel). Set one with WithObserver.
//
// An operation is one logical API call: one service method call such as
// Users.Get, one Client.Do, or one page of a list (a list that walks three
// pages is three operations, each with the list's route template). Its
// retries and its one replay after a rejected token are part of it, and so
// is the wait for a token. Consents.URL and the other methods that send no
// request are not operations.
//
// ObserveOperation is called synchronously on the caller's goroutine, after
// the response was read and decoded and before the method returns, with the
// caller's context (which may be done by then). Keep it quick, and safe for
// concurrent use: a Client is. A panic in ObserveOperation is recovered and
// logged at error level through WithLogger's logger, and never changes the
// call's result.
type Observer interface {
	ObserveOperation(ctx context.Context, op OperationInfo)
}

// ObserverFunc adapts a function to an Observer. A nil ObserverFunc
// observes nothing.
type ObserverFunc func(ctx context.Context, op OperationInfo)

// ObserveOperation calls f.
func (f ObserverFunc) ObserveOperation(ctx context.Context, op OperationInfo) {
	if f != nil {
		f(ctx, op)
	}
}

// OperationInfo describes one finished operation. It holds no ids, tokens or
// bodies: Route is the route template, never the path sent.
type OperationInfo struct {
	// Method is the HTTP method: "GET", "POST", "DELETE"...
	Method string
	// Route is the route template, such as
	// "/users/{userId}/connections/{connectionId}": the same for every
	// user and connection, so it names the operation in spans and metrics.
	// For Client.Do it is the template Client.Do made of the caller's path
	// (Basiq's path words kept, every other segment a placeholder).
	Route string
	// Attempts counts the HTTP requests sent: the first, its retries, and
	// the replay (and its retries) after a rejected token. 0 when nothing was
	// sent (invalid input, no token).
	Attempts int
	// StatusCode is the status of the final answer; 0 when none came (a
	// connection failure, a cancelled context, nothing sent).
	StatusCode int
	// Duration runs from the call's start to its end: token waits, every
	// attempt, the waits between them, and decoding.
	Duration time.Duration
	// TokenMints counts the tokens minted (POST /token) that the operation
	// waited for: 0 normally, 1 when its token had to be minted, 2 when it
	// was rejected and the replay's was minted too. A mint that concurrent
	// operations share counts in each of them; a background refresh before
	// expiry counts in none.
	TokenMints int
	// Category classifies Err; "" when the operation succeeded.
	Category ErrorCategory
	// Err is the error the call returned, or nil. Its text never holds a
	// secret.
	Err error
}

// Retries returns the attempts beyond the first.
func (op OperationInfo) Retries() int { return max(0, op.Attempts-1) }

// ErrorCategory is a short, stable name for the kind of error an operation
// ended with: a value for a metric's attribute or a span's status.
type ErrorCategory string

// The categories, from the most specific match down. An *APIError is
// classified by the sentinel it matches.
const (
	CategoryNone               ErrorCategory = ""                    // success
	CategoryInvalidInput       ErrorCategory = "invalid_input"       // refused before sending (ErrInvalidInput, not an *APIError)
	CategoryCanceled           ErrorCategory = "canceled"            // the caller's context was cancelled
	CategoryTimeout            ErrorCategory = "timeout"             // the caller's context's deadline passed
	CategoryAuth               ErrorCategory = "auth"                // no token could be minted (*AuthError), or 401
	CategoryForbidden          ErrorCategory = "forbidden"           // ErrForbidden
	CategoryNotFound           ErrorCategory = "not_found"           // ErrNotFound
	CategoryRateLimited        ErrorCategory = "rate_limited"        // ErrRateLimited, after the retries
	CategoryUnsupportedVersion ErrorCategory = "unsupported_version" // ErrUnsupportedVersion
	CategoryUnavailable        ErrorCategory = "unavailable"         // ErrUnavailable (500, 502, 503, 504), after the retries
	CategoryAPI                ErrorCategory = "api"                 // any other *APIError (a 400, a 409, a 3xx...)
	CategoryResponseTooLarge   ErrorCategory = "response_too_large"  // ErrResponseTooLarge
	CategoryTransport          ErrorCategory = "transport"           // no complete response (connection refused or reset, timeout of an attempt)
	CategoryDecode             ErrorCategory = "decode"              // a 2xx whose body could not be decoded
	CategoryOther              ErrorCategory = "other"
)

// categorize returns err's category; decodeFailed marks a 2xx body that
// could not be decoded.
func categorize(err error, decodeFailed bool) ErrorCategory {
	var apiErr *APIError
	var authErr *AuthError
	switch {
	case err == nil:
		return CategoryNone
	case decodeFailed:
		return CategoryDecode
	case errors.Is(err, context.Canceled):
		return CategoryCanceled
	case errors.Is(err, context.DeadlineExceeded):
		return CategoryTimeout
	case errors.As(err, &authErr):
		return CategoryAuth
	case errors.Is(err, ErrResponseTooLarge):
		return CategoryResponseTooLarge
	case errors.As(err, &apiErr):
		return apiCategory(apiErr)
	case errors.Is(err, ErrInvalidInput):
		return CategoryInvalidInput
	case errors.Is(err, errTransportFailure):
		return CategoryTransport
	}
	return CategoryOther
}

func apiCategory(e *APIError) ErrorCategory {
	for _, c := range []struct {
		sentinel error
		category ErrorCategory
	}{
		{ErrRateLimited, CategoryRateLimited},
		{ErrUnauthorized, CategoryAuth},
		{ErrTokenExpired, CategoryAuth},
		{ErrForbidden, CategoryForbidden},
		{ErrUnsupportedVersion, CategoryUnsupportedVersion},
		{ErrNotFound, CategoryNotFound},
		{ErrUnavailable, CategoryUnavailable},
	} {
		if errors.Is(e, c.sentinel) {
			return c.category
		}
	}
	return CategoryAPI
}

// WithObserver calls o once per operation (see Observer), after its retries
// and token replay. The SDK itself depends on no tracing or metrics library:
// contrib/otel adapts an Observer to OpenTelemetry. A nil o is an error
// matching ErrInvalidInput; given twice, the last one is used.
func WithObserver(o Observer) Option {
	return func(c *config) error {
		if o == nil {
			return invalidInput("nil Observer")
		}
		c.observer = o
		return nil
	}
}

// operation is what Client.do gathers about one operation for the Observer.
type operation struct {
	start    time.Time
	attempts int
	status   int
	mints    int
	decode   bool // the 2xx body could not be decoded
}

// observe reports a finished operation to the client's Observer, if any.
func (c *Client) observe(ctx context.Context, r apiRequest, op *operation, err error) {
	if c.observer == nil {
		return
	}
	info := OperationInfo{
		Method:     r.method,
		Route:      r.route,
		Attempts:   op.attempts,
		StatusCode: op.status,
		Duration:   time.Since(op.start),
		TokenMints: op.mints,
		Category:   categorize(err, op.decode),
		Err:        err,
	}
	defer func() {
		if p := recover(); p != nil && c.logger != nil {
			c.logger.LogAttrs(ctx, slog.LevelError, "basiq: observer panicked; the call's result is unchanged",
				slog.String("method", r.method), slog.String("route", r.route), slog.Any("panic", p))
		}
	}()
	c.observer.ObserveOperation(ctx, info)
}
