package basiqtest

import (
	"encoding/json"
	"mime"
	"net/http"
	"strconv"
	"time"
)

// reply is a response computed under the server lock and written after it is
// released, so a slow client never holds up the fake.
type reply struct {
	status int
	header http.Header
	body   []byte // nil: no body
}

// jsonReply marshals v as the body. v is always one of the fake's own wire
// types, which cannot fail to marshal.
func jsonReply(status int, v any) reply {
	b, err := json.Marshal(v)
	if err != nil {
		panic("basiqtest: marshal reply: " + err.Error())
	}
	return reply{status: status, body: b}
}

// emptyReply answers status with no body (204 on deletes).
func emptyReply(status int) reply {
	return reply{status: status}
}

// prepare sets the headers of rp on w: its own, then Content-Type (JSON unless
// already set) and Content-Length of the full body.
func (rp reply) prepare(w http.ResponseWriter) {
	h := w.Header()
	for k, vs := range rp.header {
		h[k] = append([]string(nil), vs...)
	}
	if rp.body != nil {
		if h.Get("Content-Type") == "" {
			h.Set("Content-Type", "application/json")
		}
		h.Set("Content-Length", strconv.Itoa(len(rp.body)))
	}
}

// write sends rp on w.
func (rp reply) write(w http.ResponseWriter) {
	rp.prepare(w)
	w.WriteHeader(rp.status)
	if len(rp.body) > 0 {
		_, _ = w.Write(rp.body)
	}
}

// decodeJSON enforces Basiq's JSON body rules: Content-Type application/json
// (else 415) and a body that decodes into v (else 400 invalid-content with
// badBody as the detail).
func decodeJSON(c *call, v any, badBody string) (reply, bool) {
	mt, _, err := mime.ParseMediaType(c.req.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return errorReply(http.StatusUnsupportedMediaType, errUnsupportedContentType()), false
	}
	if err := json.Unmarshal(c.body, v); err != nil {
		return errorReply(http.StatusBadRequest, errInvalidContent(badBody)), false
	}
	return reply{}, true
}

// nullableStamp renders t as a timestamp, or JSON null when t is zero.
func nullableStamp(t time.Time) any {
	if t.IsZero() {
		return json.RawMessage("null")
	}
	return stamp(t)
}
