package transport

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

// checkRetry decides whether an attempt is retried:
//   - GET/DELETE (and replayable requests): network errors, 429, 500, 502, 503, 504
//     and 403 throttling;
//   - any other request: 429 and 403 throttling (the server refused before acting),
//     and network errors that happened before a connection was made.
func (st *attempt) check(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if cerr := ctx.Err(); cerr != nil {
		if err != nil {
			return false, cerr
		}
		// An answer arrived as the context ended: keep it rather than report
		// a failure. A POST that did succeed must not look failed, or the
		// caller may send the credentials again.
		return false, nil
	}
	// A buffered body, or a body error, belongs to the attempt that produced
	// it: forget an earlier attempt's, or it would mask this attempt's.
	st.bodyErr, st.body, st.buffered = nil, nil, false
	idempotent := st.idempotent
	ev := RetryEvent{Err: withoutURL(err), Attempt: st.count}
	retry := false
	if errors.Is(err, ErrRedirected) {
		return false, nil // a transport that follows redirects does so again
	}
	if err != nil {
		ev.Reason = "network"
		if idempotent {
			retry, _ = retryablehttp.DefaultRetryPolicy(ctx, nil, err)
		} else {
			retry = notSent(err)
		}
	} else {
		ev.StatusCode = resp.StatusCode
		ev.Reason = "status"
		if idempotent && resp.StatusCode < 300 && !st.buffer(resp) {
			// The body broke off (reset, truncated): a GET can simply be asked again.
			ev.Reason = "body"
			st.pending = ev
			st.mayHaveActed = true
			return true, nil
		}
		switch resp.StatusCode {
		case http.StatusTooManyRequests:
			retry = true
		case http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
			retry = idempotent
		case http.StatusForbidden:
			if IsThrottled(resp.StatusCode, peekBody(resp, st.bodyLimit)) {
				retry = true
				ev.Reason = "throttled"
			}
		}
	}
	if retry {
		st.pending = ev
		switch {
		case err != nil:
			st.mayHaveActed = st.mayHaveActed || !notSent(err)
		case resp.StatusCode >= 500:
			st.mayHaveActed = true
		}
	}
	return retry, nil
}

// buffer reads a successful response's body in full (bounded) so that a body
// cut off mid-way can be retried; it reports false when reading failed.
func (st *attempt) buffer(resp *http.Response) bool {
	data, err := readBody(resp.Body, resp.ContentLength, st.bodyLimit)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(data))
	st.body, st.buffered, st.bodyErr = data, err == nil, err
	return err == nil
}

// NotSent reports whether err proves the request never reached the server:
// the connection could not be established.
func NotSent(err error) bool { return notSent(err) }

func notSent(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	var dns *net.DNSError
	return errors.As(err, &dns)
}

// IsThrottled reports whether a response is Basiq's rate limiting: 429, or a
// 403 whose error says "Invalid request" (Basiq throttles with both).
func IsThrottled(status int, body []byte) bool {
	if status == http.StatusTooManyRequests {
		return true
	}
	if status != http.StatusForbidden {
		return false
	}
	var env struct {
		Data []struct {
			Code   string `json:"code"`
			Title  string `json:"title"`
			Detail string `json:"detail"`
		} `json:"data"`
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &env) != nil {
		return isInvalidRequest(string(body))
	}
	for _, d := range env.Data {
		if d.Code == "access-denied" || d.Code == "forbidden-access" {
			return false
		}
		if isInvalidRequest(d.Title) || isInvalidRequest(d.Detail) {
			return true
		}
	}
	return isInvalidRequest(env.Message)
}

func isInvalidRequest(s string) bool {
	s = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s), "."))
	return strings.EqualFold(s, "invalid request")
}

// backoff is exponential with full jitter; a Retry-After header wins, capped at max.
func (st *attempt) backoff(min, max time.Duration, n int, resp *http.Response) time.Duration {
	wait := fullJitter(min, max, n)
	if resp != nil {
		if ra, ok := RetryAfter(resp.Header, time.Now()); ok {
			wait = ra
			if max > 0 && wait > max {
				wait = max
			}
		}
	}
	if st.onRetry != nil {
		ev := st.pending
		ev.Wait = wait
		st.onRetry(ev)
	}
	return wait
}

func fullJitter(min, max time.Duration, attempt int) time.Duration {
	if min <= 0 {
		return 0
	}
	ceil := min
	for i := 0; i < attempt && (max <= 0 || ceil < max); i++ {
		ceil *= 2
	}
	if max > 0 && ceil > max {
		ceil = max
	}
	return time.Duration(rand.Int64N(int64(ceil) + 1))
}

// RetryAfter parses a Retry-After header (seconds or an HTTP date) relative to now.
func RetryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		return time.Duration(secs) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		d := t.Sub(now)
		if d < 0 {
			d = 0
		}
		return d, true
	}
	return 0, false
}
