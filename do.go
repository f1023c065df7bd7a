package basiq

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Request is a call to an endpoint the SDK does not wrap yet, for Client.Do.
type Request struct {
	// Method is the HTTP method: GET (the default when empty), POST, PUT,
	// PATCH or DELETE.
	Method string
	// Path is the endpoint's path below the base URL, such as
	// "/users/" + userID + "/auth_link". Each segment is escaped by Do, so
	// ids go in as they are; a segment already percent-escaped is first
	// unescaped, so it is not escaped twice (both forms send the same
	// bytes). Empty, "." and ".." segments, segments that unescape to a
	// "/", control characters, "?" and "#" (use Query) and a "%" that does
	// not start an escape are refused with ErrInvalidInput, before any
	// request is sent.
	Path string
	// Query is the query string; it is never logged.
	Query url.Values
	// Body, when not nil, is the request's body:
	//   - a []byte is sent as it is, with ContentType (required); it is
	//     retried like any body of its method;
	//   - an io.Reader (a file, a multipart form from an io.Pipe) is sent as
	//     it is, with ContentType (required), streamed as it is read (not
	//     after Do returns): the request is sent once and never retried, nor
	//     replayed after a rejected token, whatever the answer, as the reader
	//     cannot be read twice (read it into a []byte to have retries);
	//   - anything else is sent as JSON (encoding/json; pass a
	//     json.RawMessage for JSON you have already encoded).
	Body any
	// ContentType is the Content-Type of a []byte or io.Reader Body, such
	// as "application/pdf" or a multipart form's (mime/multipart's
	// Writer.FormDataContentType). With any other Body it replaces
	// "application/json" when set.
	ContentType string
	// Accept, when set, replaces the Accept header ("application/json"),
	// as an endpoint answering in another format needs (Accept:
	// application/pdf for a report's PDF). Pass a *[]byte as out to take
	// such an answer as it is.
	Accept string
	// UserID, when set, sends the request with the user's CLIENT_ACCESS
	// token instead of the SERVER_ACCESS token, as endpoints called for a
	// user from a front end need.
	UserID string
}

// Do sends r through the SDK's request path, with everything the services
// get: the cached SERVER_ACCESS token (or the user's CLIENT_ACCESS token
// when r.UserID is set), its replacement when the API rejects it, retries
// (GET and DELETE on network errors, 429 and 5xx; other methods only when
// the server cannot have acted, so a POST is never sent twice), the body
// size limit, typed errors (*APIError matching ErrNotFound and the other
// sentinels) and logging. A 2xx JSON body is decoded into out; out may be
// nil, a *json.RawMessage takes a JSON body as it is and a *[]byte takes
// any body as it is (within the response size limit).
//
// Logs and errors (APIError.Path) name the route with every segment that is
// not one of Basiq's path words (users, connections, auth_link, ...)
// replaced by a placeholder, so ids and anything else put in the path stay
// out of them; the user id is logged under user_id, as for every call.
func (c *Client) Do(ctx context.Context, r *Request, out any) error {
	if err := c.ready(); err != nil {
		return err
	}
	if r == nil {
		return invalidInput("nil *Request")
	}
	method := r.Method
	if method == "" {
		method = http.MethodGet
	}
	switch method {
	case http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
	default:
		return invalidInput("method %q is not GET, POST, PUT, PATCH or DELETE", clipLine(method, 16))
	}
	route, params, err := splitPath(r.Path)
	if err != nil {
		return err
	}
	req := apiRequest{method: method, route: route, params: params, query: r.Query, routeInErrors: true,
		contentType: r.ContentType, accept: r.Accept}
	if err := setRequestBody(&req, r.Body); err != nil {
		return err
	}
	if req.accept != "" && !validHeaderValue(req.accept) {
		return invalidInput("Request.Accept is not a valid header value")
	}
	if req.contentType != "" && !validHeaderValue(req.contentType) {
		return invalidInput("Request.ContentType is not a valid header value")
	}
	if b, ok := out.(*[]byte); ok {
		out = &rawOut{b: b}
	}
	if r.UserID != "" {
		if err := validateID("UserID", r.UserID); err != nil {
			return err
		}
		req.auth, req.userID = authClient, r.UserID
	}
	_, err = c.do(ctx, req, out)
	if body, ok := req.stream.(*sentReader); ok {
		body.close(ctx) // the caller's reader is theirs again
	}
	return err
}

// splitPath turns a caller's path into a route template and its parameters:
// Basiq's path words stay literal (and are what logs show), every other
// segment becomes a placeholder whose value Client.do validates and escapes.
// A placeholder after users, connections or jobs is named like the SDK's
// own ({userId}, ...), so logs carry it under the stable keys.
func splitPath(p string) (string, []string, error) {
	if !strings.HasPrefix(p, "/") {
		return "", nil, invalidInput("Request.Path must start with /")
	}
	if strings.ContainsAny(p, "?#") {
		return "", nil, invalidInput("Request.Path contains ? or #: put the query in Request.Query")
	}
	segs := strings.Split(p[1:], "/")
	var route strings.Builder
	var params []string
	prev := ""
	for _, raw := range segs {
		seg, err := url.PathUnescape(raw)
		if err != nil {
			return "", nil, invalidInput("Request.Path has a %% that does not start an escape")
		}
		switch {
		case seg == "":
			return "", nil, invalidInput("Request.Path has an empty segment")
		case strings.Contains(seg, "/"):
			return "", nil, invalidInput("Request.Path has a segment with an escaped /")
		}
		if err := validateID("Request.Path segment", seg); err != nil {
			return "", nil, err
		}
		route.WriteByte('/')
		if pathWords[seg] {
			route.WriteString(seg)
		} else {
			route.WriteString("{" + placeholderAfter(prev) + "}")
			params = append(params, seg)
		}
		prev = seg
	}
	return route.String(), params, nil
}

func placeholderAfter(collection string) string {
	switch collection {
	case "users":
		return "userId"
	case "connections":
		return "connectionId"
	case "jobs":
		return "jobId"
	}
	return "id"
}

// pathWords are the literal segments of Basiq's documented paths; any
// other segment is treated as an id. Read-only.
var pathWords = map[string]bool{
	"users": true, "connections": true, "jobs": true, "mfa": true, "refresh": true, "purge": true,
	"accounts": true, "transactions": true, "statements": true, "institutions": true, "connectors": true,
	"public": true, "token": true, "auth_link": true, "consents": true, "events": true, "types": true,
	"notifications": true, "webhooks": true, "messages": true, "test": true, "policies": true,
	"affordability": true, "expenses": true, "income": true, "reports": true, "identities": true,
	"enrich": true, "insights": true, "payments": true, "payouts": true, "payrequests": true,
	"transfers": true, "payers": true, "payees": true, "web": true, "open-banking": true, "openbanking": true,
	"pdf": true, "csv": true,
}

// setRequestBody puts a Request's Body into r: raw bytes, a stream, or a
// value to encode as JSON.
func setRequestBody(r *apiRequest, body any) error {
	switch b := body.(type) {
	case nil:
		return nil
	case json.RawMessage:
		r.body = b
		return nil
	case []byte:
		if r.contentType == "" {
			return invalidInput("Request.ContentType is required with a []byte Body")
		}
		if b == nil {
			b = []byte{}
		}
		r.rawBody = b
		return nil
	case io.Reader:
		if r.contentType == "" {
			return invalidInput("Request.ContentType is required with an io.Reader Body")
		}
		r.stream = newSentReader(b)
		if n := readerLen(b); n > 0 {
			r.streamLen = n
		}
		return nil
	}
	r.body = body
	return nil
}

// validHeaderValue reports whether v can travel as a header value: no
// control characters (a CR or LF would start another header).
func validHeaderValue(v string) bool {
	for _, c := range v {
		if c < ' ' || c == 0x7f {
			return false
		}
	}
	return len(v) <= 256
}

// rawOut takes a response body as it is (Client.Do's *[]byte out).
type rawOut struct{ b *[]byte }

func (o *rawOut) decodeJSON(body []byte) error {
	*o.b = append([]byte(nil), body...)
	return nil
}
