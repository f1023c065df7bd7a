package basiq

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/banklink-go/basiq/internal/transport"
)

// authKind says which token a request carries.
type authKind int

const (
	authServer authKind = iota // SERVER_ACCESS
	authClient                 // CLIENT_ACCESS bound to userID
)

// apiRequest is one call to the API: every service goes through Client.do.
type apiRequest struct {
	method string
	route  string   // template with {placeholders}, e.g. "/jobs/{jobId}"; logged as is
	params []string // values for the placeholders, in order; escaped here
	query  url.Values
	body   any // JSON-encoded when non-nil
	// rawBody, when non-nil, is sent as is (instead of body), with
	// contentType; it is retried like any body of its method.
	rawBody []byte
	// stream, when non-nil, is sent as is (instead of body), with
	// contentType, read once as it goes out: never retried, never replayed
	// with a new token.
	stream      io.Reader
	streamLen   int64  // stream's length when known (> 0): its Content-Length
	contentType string // the Content-Type of rawBody or stream; JSON by default
	accept      string // the Accept header; JSON by default
	auth        authKind
	userID      string // the user a CLIENT_ACCESS token is bound to
	// next, when set, is where the request goes instead of route, params
	// and query: an absolute URL from a response's links.next, already
	// checked by checkNextLink. route and params still name the request in
	// logs and errors.
	next *nextLink
	// routeInErrors names the request in errors by its route template, not
	// its path (Client.Do: the caller's segments may be anything).
	routeInErrors bool
}

// maxIDLen bounds any id taken from a caller.
const maxIDLen = 256

// validateID rejects ids that are empty or could change the requested path
// in ways escaping cannot undo ("." and ".."), and control characters.
func validateID(name, v string) error {
	switch {
	case v == "":
		return invalidInput("%s is empty", name)
	case len(v) > maxIDLen:
		return invalidInput("%s is longer than %d bytes", name, maxIDLen)
	case v == "." || v == "..":
		return invalidInput("%s %q is not a valid id", name, v)
	case !utf8.ValidString(v):
		return invalidInput("%s is not valid UTF-8", name)
	}
	for _, r := range v {
		if unicode.IsControl(r) {
			return invalidInput("%s contains a control character", name)
		}
	}
	return nil
}

// expandRoute substitutes escaped params into route's placeholders, after
// validating each.
func expandRoute(route string, params []string) (string, error) {
	var b strings.Builder
	i := 0
	err := walkRoute(route, func(literal, name string) error {
		b.WriteString(literal)
		if name == "" {
			return nil
		}
		if i >= len(params) {
			return fmt.Errorf("basiq: internal error: too few params for route %q", route)
		}
		if err := validateID(name, params[i]); err != nil {
			return err
		}
		b.WriteString(url.PathEscape(params[i]))
		i++
		return nil
	})
	if err != nil {
		return "", err
	}
	if i != len(params) {
		return "", fmt.Errorf("basiq: internal error: %d params for route %q", len(params), route)
	}
	return b.String(), nil
}

// placeholders returns the names of route's placeholders, in order.
func placeholders(route string) []string {
	var names []string
	_ = walkRoute(route, func(_, name string) error {
		if name != "" {
			names = append(names, name)
		}
		return nil
	})
	return names
}

// walkRoute calls visit for each literal part of a route template and the
// placeholder name after it ("" after the last part).
func walkRoute(route string, visit func(literal, name string) error) error {
	rest := route
	for {
		literal, after, found := strings.Cut(rest, "{")
		if !found {
			return visit(rest, "")
		}
		name, tail, closed := strings.Cut(after, "}")
		if !closed {
			return fmt.Errorf("basiq: internal error: bad route %q", route)
		}
		if err := visit(literal, name); err != nil {
			return err
		}
		rest = tail
	}
}

// endpoint returns the absolute URL of an escaped path below the base URL.
func (c *Client) endpoint(escapedPath string, q url.Values) string {
	u := *c.baseURL
	u.RawPath = strings.TrimRight(c.baseURL.EscapedPath(), "/") + escapedPath
	if p, err := url.PathUnescape(u.RawPath); err == nil {
		u.Path = p
	}
	if len(q) > 0 {
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// requestTarget returns the escaped path of r (for errors) and the URL it
// goes to.
func (c *Client) requestTarget(r apiRequest) (path, target string, err error) {
	if r.next != nil {
		return r.next.path, r.next.url, nil
	}
	if path, err = expandRoute(r.route, r.params); err != nil {
		return "", "", err
	}
	target = c.endpoint(path, r.query)
	if r.routeInErrors {
		path = r.route
	}
	return path, target, nil
}

// do sends r and decodes a 2xx JSON body into out (when non-nil). It returns
// the HTTP status of the final answer. A token rejected as expired (403
// access-denied) or invalid (401) is replaced once and the request replayed once.
func (c *Client) do(ctx context.Context, r apiRequest, out any) (int, error) {
	if err := c.ready(); err != nil {
		return 0, err
	}
	if ctx == nil {
		return 0, invalidInput("nil context")
	}
	path, target, err := c.requestTarget(r)
	if err != nil {
		return 0, err
	}
	var body []byte
	switch {
	case r.rawBody != nil:
		body = r.rawBody
	case r.stream != nil:
	case r.body != nil:
		if body, err = json.Marshal(r.body); err != nil {
			return 0, fmt.Errorf("basiq: encoding request: %w", err)
		}
	}
	start := time.Now()
	resp, err := c.sendAuthorized(ctx, r, target, path, body)
	if err != nil {
		return 0, err
	}
	status := resp.StatusCode
	if status >= 300 {
		apiErr := newAPIError(r.method, path, resp)
		c.logRequest(ctx, r, status, resp.Attempts, start, apiErr.CorrelationID)
		return status, apiErr
	}
	c.logRequest(ctx, r, status, resp.Attempts, start, "")
	recordListTotals(ctx, r.method, resp.Body)
	if out != nil && len(bytes.TrimSpace(resp.Body)) > 0 {
		var err error
		if d, ok := out.(directDecoder); ok {
			err = d.decodeJSON(resp.Body)
		} else {
			err = json.Unmarshal(resp.Body, out)
		}
		if memberTypeError(err) {
			// A member of an unexpected JSON type (a number where Basiq
			// documents a string, say) is left empty; the rest is decoded.
			err = nil
		}
		if err != nil {
			return status, fmt.Errorf("basiq: %s %s: decoding response: %w", r.method, path, err)
		}
	}
	return status, nil
}

// directDecoder is implemented by response types that decode a whole body
// faster than json.Unmarshal would through their UnmarshalJSON (which
// encoding/json calls only after scanning the body twice).
type directDecoder interface {
	decodeJSON(body []byte) error
}

// sendAuthorized attaches a token, sends, and on a rejected token replaces it
// and replays once.
func (c *Client) sendAuthorized(ctx context.Context, r apiRequest, target, path string, body []byte) (*transport.Response, error) {
	var onRetry func(transport.RetryEvent)
	if c.logger != nil {
		onRetry = func(ev transport.RetryEvent) { c.logRetry(ctx, r, ev) }
	}
	for replay := 0; ; replay++ {
		tok, err := c.tokenFor(ctx, r)
		if err != nil {
			return nil, err
		}
		// A fresh header per attempt: the transport hands it to net/http as is.
		h := http.Header{
			"Accept":        c.jsonHeader,
			"User-Agent":    c.userAgentHeader,
			"Authorization": {"Bearer " + tok.AccessToken},
		}
		if r.accept != "" {
			h["Accept"] = []string{r.accept}
		}
		if body != nil || r.stream != nil {
			h["Content-Type"] = c.jsonHeader
			if r.contentType != "" {
				h["Content-Type"] = []string{r.contentType}
			}
		}
		resp, err := c.http.Do(ctx, transport.Request{
			Method: r.method, URL: target, Header: h, Body: body, Stream: r.stream, StreamLength: r.streamLen, OnRetry: onRetry,
		})
		if err != nil {
			return nil, c.transportError(r.method, path, resp, err)
		}
		// A streamed body is gone once sent: a rejected token is replaced
		// for the next request, but this one is not replayed.
		if replay == 0 && tokenRejected(resp) && r.stream != nil {
			c.tokens.invalidate(r.auth, r.userID, tok.AccessToken)
			return resp, nil
		}
		if replay == 0 && tokenRejected(resp) {
			c.warn(ctx, "basiq: token rejected, re-authenticating", r,
				slog.Int("status", resp.StatusCode))
			c.tokens.invalidate(r.auth, r.userID, tok.AccessToken)
			continue
		}
		return resp, nil
	}
}

func (c *Client) tokenFor(ctx context.Context, r apiRequest) (Token, error) {
	if r.auth == authClient {
		return c.ClientToken(ctx, r.userID)
	}
	return c.Token(ctx)
}

// tokenRejected reports a 401, or a 403 access-denied (Basiq's "Token has expired").
func tokenRejected(resp *transport.Response) bool {
	switch resp.StatusCode {
	case http.StatusUnauthorized:
		return true
	case http.StatusForbidden:
		// The same reading of the body as APIError's ErrTokenExpired.
		return newAPIError("", "", resp).tokenExpired()
	}
	return false
}

// transportError wraps a failure that produced no usable response.
func (c *Client) transportError(method, path string, resp *transport.Response, err error) error {
	if errors.Is(err, transport.ErrBodyTooLarge) {
		return fmt.Errorf("basiq: %s %s: %w: %v", method, path, ErrResponseTooLarge, err)
	}
	attempts := 0
	if resp != nil {
		attempts = resp.Attempts
	}
	return fmt.Errorf("basiq: %s %s: %w after %d attempts: %w", method, path, errTransportFailure, attempts, err)
}

// errTransportFailure marks errors where no complete response was received
// (connection refused or reset, timeout, truncated body).
var errTransportFailure = errors.New("request failed")

// remove sends a DELETE. A 404 to a retry counts as success when an earlier
// attempt may have deleted the resource already (a 5xx, a connection lost
// after the request went out); not after attempts the server refused
// (throttling): then the resource never existed.
func (c *Client) remove(ctx context.Context, r apiRequest) error {
	r.method = http.MethodDelete
	_, err := c.do(ctx, r, nil)
	var apiErr *APIError
	if errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusNotFound && apiErr.earlierMayHaveActed {
		return nil
	}
	return err
}
