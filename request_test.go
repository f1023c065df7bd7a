package basiq_test

// The request path (Client.do) under injected faults and hostile input, from
// outside package basiq. Every fault test runs the in-memory fake inside a
// testing/synctest bubble, so retries, backoff and polling run in virtual
// time, and asserts the outcome, how many requests the fake received, and
// that no goroutine is left behind (synctest refuses to finish a bubble with
// blocked goroutines; goleak checks the rest of the process). Bad input: ids
// never change the requested path (they are escaped or rejected with
// ErrInvalidInput before any request), and response bodies are read with a
// limit.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/banklink-go/basiq"
	"github.com/banklink-go/basiq/basiqtest"
)

// hardGaps returns the time between consecutive requests.
func hardGaps(reqs []basiqtest.Request) []time.Duration {
	var gaps []time.Duration
	for i := 1; i < len(reqs); i++ {
		gaps = append(gaps, reqs[i].Time.Sub(reqs[i-1].Time))
	}
	return gaps
}

func hardAPIError(t *testing.T, err error, status int) *basiq.APIError {
	t.Helper()
	var apiErr *basiq.APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("error %v (%T) is not an *APIError", err, err)
	}
	if apiErr.StatusCode != status {
		t.Errorf("APIError.StatusCode = %d, want %d", apiErr.StatusCode, status)
	}
	return apiErr
}

// hardThrottleBody is Basiq's 403 throttling answer ("Invalid request").
const hardThrottleBody = `{"type":"list","correlationId":"hard-403","data":[{"type":"error","code":"request-not-valid","title":"Invalid request","detail":"Invalid request"}]}`

// hardGatewayHTML is what a gateway in front of the API sends on a 502.
const hardGatewayHTML = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n"

func TestHardFaultConnectionReset(t *testing.T) {
	t.Run("GET recovers after two resets", func(t *testing.T) {
		hardBubble(t, func(t *testing.T) {
			e := hardSetup(t, nil, nil)
			e.srv.InjectFault(basiqtest.Fault{Method: http.MethodGet, Path: "/jobs/*", Reset: true, Count: 2})
			job, err := e.c.Jobs.Get(t.Context(), e.jobID)
			if err != nil {
				t.Fatalf("Jobs.Get: %v", err)
			}
			if job.ID != e.jobID {
				t.Errorf("job id %q, want %q", job.ID, e.jobID)
			}
			hardWantCount(t, e.srv, http.MethodGet, hardRouteJob, 3)
			if got := hardStatuses(hardLog(e.srv, http.MethodGet, hardRouteJob)); got[0] != 0 || got[1] != 0 || got[2] != 200 {
				t.Errorf("statuses %v, want [0 0 200]", got)
			}
		})
	})
	t.Run("GET gives up after MaxAttempts with the network error", func(t *testing.T) {
		hardBubble(t, func(t *testing.T) {
			e := hardSetup(t, nil, nil)
			e.srv.InjectFault(basiqtest.Fault{Method: http.MethodGet, Path: "/jobs/*", Reset: true, Count: -1})
			_, err := e.c.Jobs.Get(t.Context(), e.jobID)
			if !errors.Is(err, syscall.ECONNRESET) {
				t.Fatalf("error %v does not match ECONNRESET", err)
			}
			var netErr net.Error
			if !errors.As(err, &netErr) {
				t.Errorf("error %v is not a net.Error", err)
			}
			var apiErr *basiq.APIError
			if errors.As(err, &apiErr) {
				t.Errorf("a reset produced an *APIError: %v", apiErr)
			}
			hardWantCount(t, e.srv, http.MethodGet, hardRouteJob, hardPolicy.MaxAttempts)
		})
	})
	t.Run("Jobs.Wait rides out resets", func(t *testing.T) {
		hardBubble(t, func(t *testing.T) {
			e := hardSetup(t, nil, nil)
			e.srv.InjectFault(basiqtest.Fault{Method: http.MethodGet, Path: "/jobs/*", Reset: true, Count: 6})
			job, err := e.c.Jobs.Wait(t.Context(), e.jobID, &basiq.PollOptions{Operation: basiq.OpCreate})
			if err != nil {
				t.Fatalf("Jobs.Wait: %v", err)
			}
			if job.Status() != basiq.JobSucceeded {
				t.Errorf("job %s, want succeeded", job.Status())
			}
			resets := 0
			for _, s := range hardStatuses(hardLog(e.srv, http.MethodGet, hardRouteJob)) {
				if s == 0 {
					resets++
				}
			}
			if resets != 6 {
				t.Errorf("%d polls were reset, want 6", resets)
			}
		})
	})
}

func TestHardFaultTimeout(t *testing.T) {
	t.Run("http.Client timeout: the GET is retried", func(t *testing.T) {
		hardBubble(t, func(t *testing.T) {
			e := hardSetup(t, &http.Client{Timeout: 2 * time.Second}, nil)
			e.srv.InjectFault(basiqtest.Fault{Method: http.MethodGet, Path: "/jobs/*", Delay: 10 * time.Second})
			start := time.Now()
			if _, err := e.c.Jobs.Get(t.Context(), e.jobID); err != nil {
				t.Fatalf("Jobs.Get: %v", err)
			}
			// 2 s timeout, then a backoff of at most MinBackoff.
			if d := time.Since(start); d < 2*time.Second || d > 2*time.Second+hardPolicy.MinBackoff {
				t.Errorf("took %v, want 2s..3s", d)
			}
			hardWantCount(t, e.srv, http.MethodGet, hardRouteJob, 2)
		})
	})
	t.Run("http.Client timeout on every attempt", func(t *testing.T) {
		hardBubble(t, func(t *testing.T) {
			e := hardSetup(t, &http.Client{Timeout: 2 * time.Second}, nil)
			e.srv.InjectFault(basiqtest.Fault{Method: http.MethodGet, Path: "/jobs/*", Delay: time.Minute, Count: -1})
			_, err := e.c.Jobs.Get(t.Context(), e.jobID)
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("error %v does not match context.DeadlineExceeded", err)
			}
			var netErr net.Error
			if !errors.As(err, &netErr) || !netErr.Timeout() {
				t.Errorf("error %v is not a net.Error with Timeout()", err)
			}
			hardWantCount(t, e.srv, http.MethodGet, hardRouteJob, hardPolicy.MaxAttempts)
		})
	})
	t.Run("context deadline: one attempt, no retry", func(t *testing.T) {
		hardBubble(t, func(t *testing.T) {
			e := hardSetup(t, nil, nil)
			e.srv.InjectFault(basiqtest.Fault{Method: http.MethodGet, Path: "/jobs/*", Delay: time.Minute, Count: -1})
			ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
			defer cancel()
			start := time.Now()
			_, err := e.c.Jobs.Get(ctx, e.jobID)
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("error %v does not match context.DeadlineExceeded", err)
			}
			if d := time.Since(start); d != 3*time.Second {
				t.Errorf("returned after %v, want exactly the 3s deadline", d)
			}
			hardWantCount(t, e.srv, http.MethodGet, hardRouteJob, 1)
		})
	})
	t.Run("context deadline during Jobs.Wait", func(t *testing.T) {
		hardBubble(t, func(t *testing.T) {
			e := hardSetup(t, nil, nil)
			e.srv.InjectFault(basiqtest.Fault{Method: http.MethodGet, Path: "/jobs/*", Delay: time.Hour, Count: -1})
			// The client started the job, so its first poll waits for
			// verify-credentials' expected end; the deadline comes after it.
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			start := time.Now()
			_, err := e.c.Jobs.Wait(ctx, e.jobID, nil)
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("error %v does not match context.DeadlineExceeded", err)
			}
			if d := time.Since(start); d != time.Minute {
				t.Errorf("returned after %v, want exactly the 1 min deadline", d)
			}
			synctest.Wait() // the shared poll loop stops once its last waiter left
			hardWantCount(t, e.srv, http.MethodGet, hardRouteJob, 1)
			if st := hardStatuses(hardLog(e.srv, http.MethodGet, hardRouteJob)); st[0] != 0 {
				t.Errorf("the delayed poll was answered (%d); it should have been abandoned", st[0])
			}
		})
	})
}

func TestHardFaultTruncatedJSON(t *testing.T) {
	t.Run("body cut off once: the GET is retried", func(t *testing.T) {
		hardBubble(t, func(t *testing.T) {
			e := hardSetup(t, nil, nil)
			e.srv.InjectFault(basiqtest.Fault{Method: http.MethodGet, Path: "/jobs/*", Truncate: true})
			job, err := e.c.Jobs.Get(t.Context(), e.jobID)
			if err != nil {
				t.Fatalf("Jobs.Get: %v", err)
			}
			if job.ID != e.jobID || len(job.Steps) == 0 {
				t.Errorf("job %+v, want %s with steps", job, e.jobID)
			}
			hardWantCount(t, e.srv, http.MethodGet, hardRouteJob, 2)
		})
	})
	t.Run("body cut off every time", func(t *testing.T) {
		hardBubble(t, func(t *testing.T) {
			e := hardSetup(t, nil, nil)
			e.srv.InjectFault(basiqtest.Fault{Method: http.MethodGet, Path: "/jobs/*", Truncate: true, Count: -1})
			job, err := e.c.Jobs.Get(t.Context(), e.jobID)
			if !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("error %v does not match io.ErrUnexpectedEOF", err)
			}
			if job != nil {
				t.Errorf("got a job from a truncated body: %+v", job)
			}
			hardWantCount(t, e.srv, http.MethodGet, hardRouteJob, hardPolicy.MaxAttempts)
		})
	})
	t.Run("complete response with truncated JSON", func(t *testing.T) {
		hardBubble(t, func(t *testing.T) {
			e := hardSetup(t, nil, nil)
			e.srv.InjectFault(basiqtest.Fault{Method: http.MethodGet, Path: "/jobs/*", Status: http.StatusOK,
				Body: `{"type":"job","id":"` + e.jobID + `","steps":[{"title":"verify-cre`})
			_, err := e.c.Jobs.Get(t.Context(), e.jobID)
			var syntaxErr *json.SyntaxError
			if !errors.As(err, &syntaxErr) {
				t.Fatalf("error %v (%T) is not a *json.SyntaxError", err, err)
			}
			hardWantCount(t, e.srv, http.MethodGet, hardRouteJob, 1)
		})
	})
}

func TestHardFaultGatewayHTML502(t *testing.T) {
	fault := func(count int) basiqtest.Fault {
		return basiqtest.Fault{Method: http.MethodGet, Path: "/jobs/*", Status: http.StatusBadGateway, Body: hardGatewayHTML, Count: count}
	}
	t.Run("GET recovers", func(t *testing.T) {
		hardBubble(t, func(t *testing.T) {
			e := hardSetup(t, nil, nil)
			e.srv.InjectFault(fault(2))
			if _, err := e.c.Jobs.Get(t.Context(), e.jobID); err != nil {
				t.Fatalf("Jobs.Get: %v", err)
			}
			hardWantCount(t, e.srv, http.MethodGet, hardRouteJob, 3)
		})
	})
	t.Run("GET gives up with an APIError", func(t *testing.T) {
		hardBubble(t, func(t *testing.T) {
			e := hardSetup(t, nil, nil)
			e.srv.InjectFault(fault(-1))
			_, err := e.c.Jobs.Get(t.Context(), e.jobID)
			apiErr := hardAPIError(t, err, http.StatusBadGateway)
			if !errors.Is(err, basiq.ErrUnavailable) {
				t.Errorf("error %v does not match ErrUnavailable", err)
			}
			if len(apiErr.Errors) != 0 || apiErr.Code() != "" {
				t.Errorf("HTML body decoded as errors %+v", apiErr.Errors)
			}
			if !bytes.Contains(apiErr.Body, []byte("502 Bad Gateway")) {
				t.Errorf("Body %q does not keep the gateway page", apiErr.Body)
			}
			if apiErr.Attempts != hardPolicy.MaxAttempts {
				t.Errorf("Attempts = %d, want %d", apiErr.Attempts, hardPolicy.MaxAttempts)
			}
			if msg := err.Error(); !strings.Contains(msg, "502") || !strings.Contains(msg, "Bad Gateway") || strings.Contains(msg, "\n") {
				t.Errorf("Error() = %q, want the status and a one-line snippet", msg)
			}
			hardWantCount(t, e.srv, http.MethodGet, hardRouteJob, hardPolicy.MaxAttempts)
		})
	})
	t.Run("POST is not retried", func(t *testing.T) {
		hardBubble(t, func(t *testing.T) {
			e := hardSetup(t, nil, nil)
			e.srv.InjectFault(basiqtest.Fault{Method: http.MethodPost, Path: "/users", Status: http.StatusBadGateway, Body: hardGatewayHTML, Count: -1})
			_, err := e.c.Users.Create(t.Context(), basiq.UserParams{Email: "gw@example.com"})
			hardAPIError(t, err, http.StatusBadGateway)
			hardWantCount(t, e.srv, http.MethodPost, hardRouteUsers, 1)
		})
	})
}

func TestHardFault429Storm(t *testing.T) {
	fault := func(count int, retryAfter string) basiqtest.Fault {
		return basiqtest.Fault{Method: http.MethodGet, Path: "/jobs/*", Status: http.StatusTooManyRequests, RetryAfter: retryAfter, Count: count}
	}
	wantGaps := func(t *testing.T, srv *basiqtest.Server, want time.Duration, n int) {
		t.Helper()
		gaps := hardGaps(hardLog(srv, http.MethodGet, hardRouteJob))
		if len(gaps) != n {
			t.Fatalf("%d gaps between requests, want %d", len(gaps), n)
		}
		for i, g := range gaps {
			if g != want {
				t.Errorf("wait %d was %v, want %v", i+1, g, want)
			}
		}
	}
	t.Run("Retry-After in seconds is honoured", func(t *testing.T) {
		hardBubble(t, func(t *testing.T) {
			e := hardSetup(t, nil, nil)
			e.srv.InjectFault(fault(3, "7"))
			start := time.Now()
			if _, err := e.c.Jobs.Get(t.Context(), e.jobID); err != nil {
				t.Fatalf("Jobs.Get: %v", err)
			}
			if d := time.Since(start); d != 21*time.Second {
				t.Errorf("took %v, want 3 × 7s", d)
			}
			hardWantCount(t, e.srv, http.MethodGet, hardRouteJob, 4)
			wantGaps(t, e.srv, 7*time.Second, 3)
		})
	})
	t.Run("Retry-After is capped at MaxBackoff", func(t *testing.T) {
		hardBubble(t, func(t *testing.T) {
			e := hardSetup(t, nil, nil)
			e.srv.InjectFault(fault(2, "120"))
			if _, err := e.c.Jobs.Get(t.Context(), e.jobID); err != nil {
				t.Fatalf("Jobs.Get: %v", err)
			}
			hardWantCount(t, e.srv, http.MethodGet, hardRouteJob, 3)
			wantGaps(t, e.srv, hardPolicy.MaxBackoff, 2)
		})
	})
	t.Run("Retry-After as an HTTP date is capped at MaxBackoff", func(t *testing.T) {
		hardBubble(t, func(t *testing.T) {
			e := hardSetup(t, nil, nil)
			e.srv.InjectFault(fault(1, time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)))
			if _, err := e.c.Jobs.Get(t.Context(), e.jobID); err != nil {
				t.Fatalf("Jobs.Get: %v", err)
			}
			hardWantCount(t, e.srv, http.MethodGet, hardRouteJob, 2)
			wantGaps(t, e.srv, hardPolicy.MaxBackoff, 1)
		})
	})
	t.Run("storm without Retry-After: bounded backoff, then ErrRateLimited", func(t *testing.T) {
		hardBubble(t, func(t *testing.T) {
			e := hardSetup(t, nil, nil)
			e.srv.InjectFault(fault(-1, ""))
			_, err := e.c.Jobs.Get(t.Context(), e.jobID)
			apiErr := hardAPIError(t, err, http.StatusTooManyRequests)
			if !errors.Is(err, basiq.ErrRateLimited) {
				t.Errorf("error %v does not match ErrRateLimited", err)
			}
			if apiErr.Attempts != 4 || apiErr.RetryAfter != 0 {
				t.Errorf("Attempts %d RetryAfter %v, want 4 and 0", apiErr.Attempts, apiErr.RetryAfter)
			}
			hardWantCount(t, e.srv, http.MethodGet, hardRouteJob, 4)
			// Full jitter under ceilings of MinBackoff doubled per retry.
			ceilings := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second}
			for i, g := range hardGaps(hardLog(e.srv, http.MethodGet, hardRouteJob)) {
				if g > ceilings[i] {
					t.Errorf("wait %d was %v, over its ceiling %v", i+1, g, ceilings[i])
				}
			}
		})
	})
	t.Run("storm with Retry-After: the last answer's hint is kept", func(t *testing.T) {
		hardBubble(t, func(t *testing.T) {
			e := hardSetup(t, nil, nil)
			e.srv.InjectFault(fault(-1, "3"))
			_, err := e.c.Jobs.Get(t.Context(), e.jobID)
			apiErr := hardAPIError(t, err, http.StatusTooManyRequests)
			if apiErr.RetryAfter != 3*time.Second || apiErr.Code() != "too-many-requests" {
				t.Errorf("RetryAfter %v code %q, want 3s too-many-requests", apiErr.RetryAfter, apiErr.Code())
			}
			hardWantCount(t, e.srv, http.MethodGet, hardRouteJob, 4)
			wantGaps(t, e.srv, 3*time.Second, 3)
		})
	})
	t.Run("Jobs.Wait waits out a long storm", func(t *testing.T) {
		hardBubble(t, func(t *testing.T) {
			e := hardSetup(t, nil, nil)
			e.srv.InjectFault(fault(10, "5"))
			job, err := e.c.Jobs.Wait(t.Context(), e.jobID, &basiq.PollOptions{Operation: basiq.OpCreate})
			if err != nil {
				t.Fatalf("Jobs.Wait: %v", err)
			}
			if job.Status() != basiq.JobSucceeded {
				t.Errorf("job %s", job.Status())
			}
			log := hardLog(e.srv, http.MethodGet, hardRouteJob)
			for i, g := range hardGaps(log[:11]) {
				if g < 5*time.Second {
					t.Errorf("poll %d came %v after a 429 with Retry-After 5", i+2, g)
				}
			}
		})
	})
}

func TestHardFault503Burst(t *testing.T) {
	fault := func(count int) basiqtest.Fault {
		return basiqtest.Fault{Method: http.MethodGet, Path: "/jobs/*", Status: http.StatusServiceUnavailable, Count: count}
	}
	t.Run("burst within the retry budget", func(t *testing.T) {
		hardBubble(t, func(t *testing.T) {
			e := hardSetup(t, nil, nil)
			e.srv.InjectFault(fault(3))
			if _, err := e.c.Jobs.Get(t.Context(), e.jobID); err != nil {
				t.Fatalf("Jobs.Get: %v", err)
			}
			hardWantCount(t, e.srv, http.MethodGet, hardRouteJob, 4)
		})
	})
	t.Run("burst beyond the retry budget", func(t *testing.T) {
		hardBubble(t, func(t *testing.T) {
			e := hardSetup(t, nil, nil)
			e.srv.InjectFault(fault(5))
			_, err := e.c.Jobs.Get(t.Context(), e.jobID)
			apiErr := hardAPIError(t, err, http.StatusServiceUnavailable)
			if !errors.Is(err, basiq.ErrUnavailable) || apiErr.Code() != "service-unavailable" {
				t.Errorf("error %v: want ErrUnavailable with code service-unavailable", err)
			}
			hardWantCount(t, e.srv, http.MethodGet, hardRouteJob, 4)
			// One fault left: the next call's first attempt meets it and the second succeeds.
			if _, err := e.c.Jobs.Get(t.Context(), e.jobID); err != nil {
				t.Fatalf("Jobs.Get after the burst: %v", err)
			}
			hardWantCount(t, e.srv, http.MethodGet, hardRouteJob, 6)
		})
	})
	t.Run("Jobs.Wait rides out a burst", func(t *testing.T) {
		hardBubble(t, func(t *testing.T) {
			e := hardSetup(t, nil, nil)
			e.srv.InjectFault(fault(12))
			job, err := e.c.Jobs.Wait(t.Context(), e.jobID, nil)
			if err != nil {
				t.Fatalf("Jobs.Wait: %v", err)
			}
			if job.Status() != basiq.JobSucceeded {
				t.Errorf("job %s", job.Status())
			}
			if n := e.srv.RequestCount(http.MethodGet, hardRouteJob); n < 13 {
				t.Errorf("%d polls, want the 12 faults and at least one success", n)
			}
		})
	})
}

func TestHardFault403Throttling(t *testing.T) {
	for _, tc := range []struct{ name, body string }{
		{"Basiq envelope", hardThrottleBody},
		{"gateway message", `{"message":"Invalid request"}`},
	} {
		t.Run(tc.name+": recovers", func(t *testing.T) {
			hardBubble(t, func(t *testing.T) {
				e := hardSetup(t, nil, nil)
				e.srv.InjectFault(basiqtest.Fault{Method: http.MethodGet, Path: "/jobs/*", Status: http.StatusForbidden, Body: tc.body, Count: 2})
				if _, err := e.c.Jobs.Get(t.Context(), e.jobID); err != nil {
					t.Fatalf("Jobs.Get: %v", err)
				}
				hardWantCount(t, e.srv, http.MethodGet, hardRouteJob, 3)
				if n := e.srv.TokenRequests(); n != 0 {
					t.Errorf("throttling made %d token requests; it is not an auth failure", n)
				}
			})
		})
		t.Run(tc.name+": gives up with ErrRateLimited", func(t *testing.T) {
			hardBubble(t, func(t *testing.T) {
				e := hardSetup(t, nil, nil)
				e.srv.InjectFault(basiqtest.Fault{Method: http.MethodGet, Path: "/jobs/*", Status: http.StatusForbidden, Body: tc.body, Count: -1})
				_, err := e.c.Jobs.Get(t.Context(), e.jobID)
				hardAPIError(t, err, http.StatusForbidden)
				if !errors.Is(err, basiq.ErrRateLimited) || errors.Is(err, basiq.ErrForbidden) ||
					errors.Is(err, basiq.ErrTokenExpired) || errors.Is(err, basiq.ErrUnauthorized) {
					t.Errorf("error %v: want ErrRateLimited only", err)
				}
				hardWantCount(t, e.srv, http.MethodGet, hardRouteJob, 4)
				if n := e.srv.TokenRequests(); n != 0 {
					t.Errorf("throttling made %d token requests", n)
				}
			})
		})
	}
	t.Run("403 forbidden-access is not throttling", func(t *testing.T) {
		// The fake's default 403 body is code forbidden-access (wrong scope)
		// titled "Forbidden access": a refusal, not rate limiting.
		hardBubble(t, func(t *testing.T) {
			e := hardSetup(t, nil, nil)
			e.srv.InjectFault(basiqtest.Fault{Method: http.MethodGet, Path: "/jobs/*", Status: http.StatusForbidden, Count: -1})
			_, err := e.c.Jobs.Get(t.Context(), e.jobID)
			hardAPIError(t, err, http.StatusForbidden)
			if !errors.Is(err, basiq.ErrForbidden) || errors.Is(err, basiq.ErrRateLimited) {
				t.Errorf("error %v: want ErrForbidden, not ErrRateLimited", err)
			}
			hardWantCount(t, e.srv, http.MethodGet, hardRouteJob, 1)
		})
	})
}

// hardTokenDown makes POST /token answer 503 until cleared.
func hardTokenDown(srv *basiqtest.Server) {
	srv.InjectFault(basiqtest.Fault{Method: http.MethodPost, Path: "/token", Status: http.StatusServiceUnavailable, Count: -1})
}

// hardBearers returns the distinct bearer tokens the fake saw on API calls.
func hardBearers(srv *basiqtest.Server) []string {
	seen := map[string]bool{}
	var out []string
	for _, r := range srv.Requests() {
		if b, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok && !seen[b] {
			seen[b] = true
			out = append(out, b)
		}
	}
	return out
}

func TestHardTokenEndpointDownWhileTokenValid(t *testing.T) {
	hardBubble(t, func(t *testing.T) {
		srv := hardServer(t, basiqtest.WithTokenTTL(time.Hour))
		c, _ := hardNewClient(t, srv, nil, basiq.WithRetryPolicy(basiq.RetryPolicy{MaxAttempts: 3, MinBackoff: time.Second, MaxBackoff: 4 * time.Second}))
		ctx := t.Context()
		start := time.Now()
		user, err := c.Users.Create(ctx, basiq.UserParams{Email: "down@example.com"})
		if err != nil {
			t.Fatal(err)
		}
		if n := srv.TokenRequests(); n != 1 {
			t.Fatalf("%d token requests, want 1", n)
		}
		hardTokenDown(srv)

		// Before the early-refresh window (the last 5 minutes): nothing to do.
		time.Sleep(30 * time.Minute)
		if _, err := c.Users.Get(ctx, user.ID); err != nil {
			t.Fatalf("Users.Get at 30 min: %v", err)
		}
		if n := srv.TokenRequests(); n != 1 {
			t.Errorf("%d token requests at 30 min, want 1", n)
		}

		// In the window: background refreshes fail; calls keep the cached token.
		time.Sleep(time.Until(start.Add(56 * time.Minute)))
		calls := 0
		for time.Since(start) < 59*time.Minute+55*time.Second {
			if _, err := c.Users.Get(ctx, user.ID); err != nil {
				t.Fatalf("Users.Get at %v, token still valid: %v", time.Since(start), err)
			}
			calls++
			synctest.Wait()
			time.Sleep(10 * time.Second)
		}
		time.Sleep(time.Minute) // let the last background refresh finish
		if got := hardBearers(srv); len(got) != 1 {
			t.Errorf("API calls used %d different tokens, want the one cached token", len(got))
		}
		// Background attempts (3 requests each) are spaced by at least 30 s
		// after a failure: over the 4-minute window at most 8 of them.
		early := srv.TokenRequests() - 1
		t.Logf("%d calls in the early-refresh window made %d token requests", calls, early)
		if early < 3 || early > 8*3 || early%3 != 0 {
			t.Errorf("%d token requests in the early-refresh window, want a multiple of 3 in [3, 24]", early)
		}
	})
}

func TestHardTokenEndpointDownAfterExpiry(t *testing.T) {
	policy := basiq.RetryPolicy{MaxAttempts: 3, MinBackoff: time.Second, MaxBackoff: 4 * time.Second}
	setup := func(t *testing.T) (*basiqtest.Server, *basiq.Client, string) {
		srv := hardServer(t, basiqtest.WithTokenTTL(time.Hour))
		c, _ := hardNewClient(t, srv, nil, basiq.WithRetryPolicy(policy))
		user, err := c.Users.Create(t.Context(), basiq.UserParams{Email: "expired@example.com"})
		if err != nil {
			t.Fatal(err)
		}
		hardTokenDown(srv)
		time.Sleep(61 * time.Minute)
		srv.ResetCounters()
		return srv, c, user.ID
	}
	wantAuthError := func(t *testing.T, err error) {
		t.Helper()
		var authErr *basiq.AuthError
		if !errors.As(err, &authErr) {
			t.Fatalf("error %v (%T) is not an *AuthError", err, err)
		}
		// The key is fine: an outage is ErrUnavailable (through the 503), not ErrUnauthorized.
		if errors.Is(err, basiq.ErrUnauthorized) || !errors.Is(err, basiq.ErrUnavailable) {
			t.Errorf("error %v: want ErrUnavailable (through the 503) and not ErrUnauthorized", err)
		}
		if authErr.StatusCode != http.StatusServiceUnavailable || authErr.Scope != basiq.ScopeServerAccess {
			t.Errorf("AuthError %+v, want SERVER_ACCESS 503", authErr)
		}
		if !strings.Contains(err.Error(), "token request failed") {
			t.Errorf("Error() = %q does not say the token request failed", err)
		}
	}
	t.Run("sequential calls", func(t *testing.T) {
		hardBubble(t, func(t *testing.T) {
			srv, c, userID := setup(t)
			for i := 1; i <= 5; i++ {
				_, err := c.Users.Get(t.Context(), userID)
				wantAuthError(t, err)
				if n := srv.TokenRequests(); n != i*policy.MaxAttempts {
					t.Errorf("after %d calls: %d token requests, want %d", i, n, i*policy.MaxAttempts)
				}
			}
			hardWantCount(t, srv, http.MethodGet, "/users/{userId}", 0)
		})
	})
	t.Run("concurrent calls share one token request", func(t *testing.T) {
		hardBubble(t, func(t *testing.T) {
			srv, c, userID := setup(t)
			var wg sync.WaitGroup
			errs := make([]error, 50)
			for i := range errs {
				wg.Go(func() { _, errs[i] = c.Users.Get(t.Context(), userID) })
			}
			wg.Wait()
			for _, err := range errs {
				wantAuthError(t, err)
			}
			if n := srv.TokenRequests(); n != policy.MaxAttempts {
				t.Errorf("50 concurrent calls made %d token requests, want %d", n, policy.MaxAttempts)
			}
		})
	})
	t.Run("server says expired, endpoint down", func(t *testing.T) {
		hardBubble(t, func(t *testing.T) {
			srv := hardServer(t)
			c, _ := hardNewClient(t, srv, nil, basiq.WithRetryPolicy(policy))
			user, err := c.Users.Create(t.Context(), basiq.UserParams{Email: "expired@example.com"})
			if err != nil {
				t.Fatal(err)
			}
			srv.ExpireTokens()
			hardTokenDown(srv)
			srv.ResetCounters()
			_, err = c.Users.Get(t.Context(), user.ID)
			wantAuthError(t, err)
			hardWantCount(t, srv, http.MethodGet, "/users/{userId}", 1)
			if n := srv.TokenRequests(); n != policy.MaxAttempts {
				t.Errorf("%d token requests, want %d", n, policy.MaxAttempts)
			}
		})
	})
	t.Run("Jobs.Wait backs off, then times out", func(t *testing.T) {
		hardBubble(t, func(t *testing.T) {
			srv, c, _ := setup(t)
			start := time.Now()
			_, err := c.Jobs.Wait(t.Context(), "job-while-down", &basiq.PollOptions{Timeout: 2 * time.Minute})
			if !errors.Is(err, basiq.ErrPollTimeout) {
				t.Fatalf("error %v does not match ErrPollTimeout", err)
			}
			// At its deadline, not before, and no later than the last look's
			// round trip after it (bounded at 5 s).
			if d := time.Since(start); d < 2*time.Minute || d > 2*time.Minute+5*time.Second {
				t.Errorf("Wait returned after %v, not at its 2m timeout", d)
			}
			if d := time.Since(start).Round(time.Millisecond); !strings.Contains(err.Error(), "after "+d.String()) {
				t.Errorf("error %q does not state the real elapsed time %v", err, d)
			}
			// A token request runs detached from any one caller (so that one
			// caller's deadline fails nobody else), and is abandoned when
			// every caller has left: nothing more is sent after Wait returns.
			synctest.Wait()
			n := srv.TokenRequests()
			time.Sleep(time.Minute)
			if m := srv.TokenRequests(); m != n {
				t.Errorf("%d token requests after Wait returned, want none", m-n)
			}
			t.Logf("2 minutes of polling with the token endpoint down: %d token requests", n)
			// Polls back off to MaxInterval (30 s): about 9 polls of at most 3
			// attempts (the last poll's cut short by the timeout).
			if n == 0 || n > 12*policy.MaxAttempts {
				t.Errorf("%d token requests in 2 minutes, want some, at most %d", n, 12*policy.MaxAttempts)
			}
			hardWantCount(t, srv, http.MethodGet, hardRouteJob, 0)
		})
	})
}

// POST safety (DESIGN.md §4.2): Connections.Create and Update are never
// resent once the server may have acted on them.
func TestHardPostNeverResentAfterServerMayHaveActed(t *testing.T) {
	type op struct {
		name, path, route string
		call              func(ctx context.Context, e *hardEnv, connID string) (*basiq.Job, error)
	}
	ops := []op{
		{"Connections.Create", "/users/*/connections", hardRouteConnections,
			func(ctx context.Context, e *hardEnv, _ string) (*basiq.Job, error) {
				return e.c.Connections.Create(ctx, e.userID, basiq.Credentials{InstitutionID: "AU00000", LoginID: "Whistler", Password: "ShowBox"})
			}},
		{"Connections.Update", "/users/*/connections/*", hardRouteConnection,
			func(ctx context.Context, e *hardEnv, connID string) (*basiq.Job, error) {
				return e.c.Connections.Update(ctx, e.userID, connID, basiq.CredentialsUpdate{Password: "hooli2016"})
			}},
	}
	faults := []struct {
		name  string
		fault basiqtest.Fault
		ctx   time.Duration // a context deadline, when set
		check func(t *testing.T, err error)
	}{
		{"500", basiqtest.Fault{Status: 500}, 0, func(t *testing.T, err error) {
			hardAPIError(t, err, 500)
			if !errors.Is(err, basiq.ErrUnavailable) {
				t.Errorf("error %v does not match ErrUnavailable", err)
			}
		}},
		{"503", basiqtest.Fault{Status: 503}, 0, func(t *testing.T, err error) {
			if a := hardAPIError(t, err, 503); a.Attempts != 1 {
				t.Errorf("Attempts = %d, want 1", a.Attempts)
			}
		}},
		{"502 gateway HTML", basiqtest.Fault{Status: 502, Body: hardGatewayHTML}, 0, func(t *testing.T, err error) { hardAPIError(t, err, 502) }},
		{"504", basiqtest.Fault{Status: 504}, 0, func(t *testing.T, err error) { hardAPIError(t, err, 504) }},
		{"reset after the body was read", basiqtest.Fault{Reset: true}, 0, func(t *testing.T, err error) {
			if !errors.Is(err, syscall.ECONNRESET) {
				t.Errorf("error %v does not match ECONNRESET", err)
			}
		}},
		{"response cut off (the server acted)", basiqtest.Fault{Truncate: true}, 0, func(t *testing.T, err error) {
			if !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Errorf("error %v does not match io.ErrUnexpectedEOF", err)
			}
		}},
		{"no answer before the context deadline", basiqtest.Fault{Delay: time.Hour}, 5 * time.Second, func(t *testing.T, err error) {
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("error %v does not match context.DeadlineExceeded", err)
			}
		}},
	}
	for _, o := range ops {
		for _, f := range faults {
			t.Run(o.name+"/"+f.name, func(t *testing.T) {
				hardBubble(t, func(t *testing.T) {
					e := hardSetup(t, nil, nil)
					job, err := e.c.Jobs.Wait(t.Context(), e.jobID, nil)
					if err != nil {
						t.Fatal(err)
					}
					connID := job.ConnectionID()
					e.srv.ResetCounters()
					e.rec.reset()
					fault := f.fault
					fault.Method, fault.Path, fault.Count = http.MethodPost, o.path, -1
					e.srv.InjectFault(fault)
					ctx := t.Context()
					if f.ctx > 0 {
						var cancel context.CancelFunc
						ctx, cancel = context.WithTimeout(ctx, f.ctx)
						defer cancel()
					}
					got, err := o.call(ctx, e, connID)
					if err == nil {
						t.Fatalf("%s succeeded (%+v) through a %s", o.name, got, f.name)
					}
					f.check(t, err)
					hardWantCount(t, e.srv, http.MethodPost, o.route, 1)
					if n := len(e.rec.records(false)); n != 1 {
						t.Errorf("the client sent %d requests, want 1", n)
					}
				})
			})
		}
	}
}

// POSTs the server refused before acting (429, 403 throttling) or that never
// left the client (a failed dial) are resent.
func TestHardPostRetriedWhenServerCannotHaveActed(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fault *basiqtest.Fault
		dial  bool
	}{
		{"429", &basiqtest.Fault{Status: 429, RetryAfter: "2"}, false},
		{"403 Invalid request", &basiqtest.Fault{Status: 403, Body: hardThrottleBody}, false},
		{"dial failure", nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hardBubble(t, func(t *testing.T) {
				e := hardSetup(t, nil, nil)
				if tc.fault != nil {
					f := *tc.fault
					f.Method, f.Path = http.MethodPost, "/users/*/connections"
					e.srv.InjectFault(f)
				}
				if tc.dial {
					failed := false
					e.rec.before = func(req *http.Request) (*http.Response, error, bool) {
						if req.Method == http.MethodPost && !failed && strings.HasSuffix(req.URL.Path, "/connections") {
							failed = true
							return nil, &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}, true
						}
						return nil, nil, false
					}
				}
				job, err := e.c.Connections.Create(t.Context(), e.userID, basiq.Credentials{InstitutionID: "AU00000", LoginID: "Whistler", Password: "ShowBox"})
				if err != nil {
					t.Fatalf("Connections.Create: %v", err)
				}
				if job.ID == "" {
					t.Error("no job id")
				}
				wantAtFake := 2
				if tc.dial {
					wantAtFake = 1 // the first attempt never reached it
				}
				hardWantCount(t, e.srv, http.MethodPost, hardRouteConnections, wantAtFake)
				if n := len(e.rec.records(false)); n != 2 {
					t.Errorf("the client made %d attempts, want 2", n)
				}
			})
		})
	}
}

// hardErrorSeeds are error bodies: Basiq's envelope and what else comes back.
var hardErrorSeeds = []struct {
	status     int
	body       string
	retryAfter string
}{
	{400, `{"type":"list","correlationId":"c1","data":[{"type":"error","code":"parameter-not-valid","title":"Parameter value is not valid","detail":"x","source":{"pointer":"a","parameter":"b"}}]}`, ""},
	{403, `{"type":"list","correlationId":"c2","data":[{"type":"error","code":"access-denied","title":"Access denied.","detail":"Token has expired","source":null}]}`, ""},
	{403, `{"type":"list","data":[{"type":"error","code":"request-not-valid","title":"Invalid request","detail":"Invalid request"}]}`, "5"},
	{403, `{"message":"Missing Authentication Token"}`, ""},
	{404, `{"data":[{"code":"resource-not-found","title":"Route not found for this API version"}]}`, ""},
	{429, `{"data":[{"code":"too-many-requests"}]}`, "Wed, 21 Oct 2015 07:28:00 GMT"},
	{502, "<html><head><title>502 Bad Gateway</title></head></html>", ""},
	{503, "", "-1"},
	{500, `{"data":"nope","correlationId":7}`, "99999999999999999999"},
	{401, `{"data":[null,1,"x",{"code":null}]}`, ""},
	{418, strings.Repeat("é", 3000), " 3 "},
}

func FuzzErrorEnvelope(f *testing.F) {
	for _, s := range hardErrorSeeds {
		f.Add(s.status, []byte(s.body), s.retryAfter)
	}
	for i, b := range hardSpecExamples(f) {
		f.Add(400+i%200, b, "")
	}
	f.Fuzz(func(t *testing.T, status int, body []byte, retryAfter string) {
		if status < 0 {
			status = -(status + 1)
		}
		status = 400 + status%200
		calls := 0
		rt := hardRoundTripper(func(req *http.Request) (*http.Response, error) {
			if strings.HasSuffix(req.URL.Path, "/token") {
				return hardJSONResponse(req, 200, http.Header{}, []byte(`{"access_token":"tok","expires_in":3600,"token_type":"Bearer"}`)), nil
			}
			calls++
			h := http.Header{}
			if retryAfter != "" {
				h["Retry-After"] = []string{retryAfter}
			}
			return hardJSONResponse(req, status, h, body), nil
		})
		c, err := basiq.NewClient("a2V5", basiq.WithBaseURL("https://basiq.test"), basiq.WithHTTPClient(&http.Client{Transport: rt}),
			basiq.WithRetryPolicy(basiq.RetryPolicy{MaxAttempts: 1}))
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Jobs.Get(context.Background(), "job")
		var apiErr *basiq.APIError
		if !errors.As(err, &apiErr) {
			t.Fatalf("status %d: error %v (%T) is not an *APIError", status, err, err)
		}
		if apiErr.StatusCode != status || apiErr.Method != http.MethodGet || apiErr.Path != "/jobs/job" {
			t.Fatalf("APIError %d %s %s, want %d GET /jobs/job", apiErr.StatusCode, apiErr.Method, apiErr.Path, status)
		}
		if calls < 1 || calls > 2 {
			t.Fatalf("%d requests: one, or two after a rejected token", calls)
		}
		if len(apiErr.Body) > 4<<10 || !bytes.HasPrefix(body, apiErr.Body) {
			t.Fatalf("Body is not a bounded prefix of the response (%d bytes)", len(apiErr.Body))
		}
		if apiErr.RetryAfter < 0 {
			t.Fatalf("negative RetryAfter %v", apiErr.RetryAfter)
		}
		msg := apiErr.Error()
		if !strings.HasPrefix(msg, "basiq: GET /jobs/job: "+strconv.Itoa(status)) {
			t.Fatalf("Error() = %q", msg)
		}
		if len(apiErr.Errors) > 0 && apiErr.Code() != apiErr.Errors[0].Code {
			t.Fatalf("Code() %q, first error %q", apiErr.Code(), apiErr.Errors[0].Code)
		}
		if len(apiErr.Errors) == 0 && apiErr.Code() != "" {
			t.Fatalf("Code() %q without errors", apiErr.Code())
		}
		is := func(target error) bool { return errors.Is(err, target) }
		switch {
		case is(basiq.ErrNotFound) && is(basiq.ErrUnsupportedVersion):
			t.Fatal("both ErrNotFound and ErrUnsupportedVersion")
		case is(basiq.ErrForbidden) && (is(basiq.ErrRateLimited) || is(basiq.ErrTokenExpired)):
			t.Fatal("ErrForbidden together with ErrRateLimited or ErrTokenExpired")
		case is(basiq.ErrTokenExpired) && status != 403,
			is(basiq.ErrForbidden) && status != 403,
			is(basiq.ErrRateLimited) && status != 403 && status != 429,
			is(basiq.ErrInvalidInput) != (status == 400),
			is(basiq.ErrUnavailable) != (status == 500 || status == 502 || status == 503 || status == 504):
			t.Fatalf("status %d matched the wrong sentinels: %v", status, err)
		}
		_ = fmt.Sprintf("%v %+v %#v", apiErr, apiErr, apiErr)
	})
}

type hardRoundTripper func(*http.Request) (*http.Response, error)

func (f hardRoundTripper) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, r.Body)
		r.Body.Close()
	}
	return f(r)
}

func hardJSONResponse(req *http.Request, status int, h http.Header, body []byte) *http.Response {
	if h.Get("Content-Type") == "" {
		h.Set("Content-Type", "application/json")
	}
	return &http.Response{StatusCode: status, Header: h, Body: io.NopCloser(bytes.NewReader(body)),
		ContentLength: int64(len(body)), Request: req}
}

// hardBadIDs are the ids of the issue, with the escaped path segment each
// must become, or "" when it must be rejected before any request.
var hardBadIDs = []struct{ id, escaped string }{
	{"", ""},
	{"/", "%2F"},
	{"a/b", "a%2Fb"},
	{"..", ""},
	{".", ""},
	{"?x", "%3Fx"},
	{"#x", "%23x"},
	{"a b", "a%20b"},
	{"ü", "%C3%BC"},
	{"\x00", ""},
	{"\n", ""},
	// and a few more of the same kind
	{"../users", "..%2Fusers"},
	{"%2F", "%252F"},
	{"a;b", "a%3Bb"},
	{"\t", ""},
	{"\u2028", "%E2%80%A8"},
	{strings.Repeat("x", 257), ""},
}

func TestHardIDsNeverChangeThePath(t *testing.T) {
	type call struct {
		name   string
		method string
		route  string                    // the fake's route the request must land on
		path   func(u, id string) string // the escaped path it must have, for a user id u
		do     func(ctx context.Context, c *basiq.Client, u, id string) error
	}
	calls := []call{
		{"Jobs.Get", "GET", hardRouteJob, func(_, id string) string { return "/jobs/" + id },
			func(ctx context.Context, c *basiq.Client, _, id string) error {
				_, err := c.Jobs.Get(ctx, id)
				return err
			}},
		{"Jobs.Wait", "GET", hardRouteJob, func(_, id string) string { return "/jobs/" + id },
			func(ctx context.Context, c *basiq.Client, _, id string) error {
				_, err := c.Jobs.Wait(ctx, id, nil)
				return err
			}},
		{"Jobs.Poller.Wait", "GET", hardRouteJob, func(_, id string) string { return "/jobs/" + id },
			func(ctx context.Context, c *basiq.Client, _, id string) error {
				_, err := c.Jobs.Poller(id, nil).Wait(ctx)
				return err
			}},
		{"Jobs.SubmitMFA", "POST", "/jobs/{jobId}/mfa", func(_, id string) string { return "/jobs/" + id + "/mfa" },
			func(ctx context.Context, c *basiq.Client, u, id string) error {
				_, err := c.Jobs.SubmitMFA(ctx, u, id, []string{"1234"})
				return err
			}},
		{"Jobs.List", "GET", "/users/{userId}/jobs", func(_, id string) string { return "/users/" + id + "/jobs" },
			func(ctx context.Context, c *basiq.Client, _, id string) error {
				_, err := c.Jobs.List(ctx, id, nil)
				return err
			}},
		{"Users.Get", "GET", "/users/{userId}", func(_, id string) string { return "/users/" + id },
			func(ctx context.Context, c *basiq.Client, _, id string) error {
				_, err := c.Users.Get(ctx, id)
				return err
			}},
		{"Users.Delete", "DELETE", "/users/{userId}", func(_, id string) string { return "/users/" + id },
			func(ctx context.Context, c *basiq.Client, _, id string) error { return c.Users.Delete(ctx, id) }},
		{"Connections.Get", "GET", hardRouteConnection, func(u, id string) string { return "/users/" + u + "/connections/" + id },
			func(ctx context.Context, c *basiq.Client, u, id string) error {
				_, err := c.Connections.Get(ctx, u, id)
				return err
			}},
		{"Connections.Delete(user id)", "DELETE", hardRouteConnection, func(_, id string) string { return "/users/" + id + "/connections/c1" },
			func(ctx context.Context, c *basiq.Client, _, id string) error {
				return c.Connections.Delete(ctx, id, "c1")
			}},
		{"Connections.Refresh", "POST", "/users/{userId}/connections/{connectionId}/refresh",
			func(u, id string) string { return "/users/" + u + "/connections/" + id + "/refresh" },
			func(ctx context.Context, c *basiq.Client, u, id string) error {
				_, err := c.Connections.Refresh(ctx, u, id)
				return err
			}},
		{"Connections.Update", "POST", hardRouteConnection, func(u, id string) string { return "/users/" + u + "/connections/" + id },
			func(ctx context.Context, c *basiq.Client, u, id string) error {
				_, err := c.Connections.Update(ctx, u, id, basiq.CredentialsUpdate{Password: "new-password"})
				return err
			}},
		{"Connections.RefreshAll", "POST", "/users/{userId}/connections/refresh", func(_, id string) string { return "/users/" + id + "/connections/refresh" },
			func(ctx context.Context, c *basiq.Client, _, id string) error {
				_, err := c.Connections.RefreshAll(ctx, id)
				return err
			}},
		{"Institutions.Get", "GET", "/institutions/{institutionId}", func(_, id string) string { return "/institutions/" + id },
			func(ctx context.Context, c *basiq.Client, _, id string) error {
				_, err := c.Institutions.Get(ctx, id)
				return err
			}},
		{"Connectors.Get", "GET", "/connectors/{connectorId}/{method}", func(_, id string) string { return "/connectors/" + id + "/web" },
			func(ctx context.Context, c *basiq.Client, _, id string) error {
				_, err := c.Connectors.Get(ctx, id, "web")
				return err
			}},
		{"Accounts.Get", "GET", "/users/{userId}/accounts/{accountId}", func(u, id string) string { return "/users/" + u + "/accounts/" + id },
			func(ctx context.Context, c *basiq.Client, u, id string) error {
				_, err := c.Accounts.Get(ctx, u, id)
				return err
			}},
		{"Transactions.Get", "GET", "/users/{userId}/transactions/{transactionId}", func(u, id string) string { return "/users/" + u + "/transactions/" + id },
			func(ctx context.Context, c *basiq.Client, u, id string) error {
				_, err := c.Transactions.Get(ctx, u, id)
				return err
			}},
	}
	for _, cl := range calls {
		t.Run(cl.name, func(t *testing.T) {
			hardBubble(t, func(t *testing.T) {
				e := hardSetup(t, nil, nil)
				for _, tc := range hardBadIDs {
					e.srv.ResetCounters()
					e.rec.reset()
					err := cl.do(t.Context(), e.c, e.userID, tc.id)
					recs := e.rec.records(false)
					if tc.escaped == "" {
						if !errors.Is(err, basiq.ErrInvalidInput) {
							t.Errorf("id %q: error %v, want ErrInvalidInput", tc.id, err)
						}
						if len(recs) != 0 || len(e.srv.Requests()) != 0 {
							t.Errorf("id %q: %d requests sent, want none", tc.id, len(recs))
						}
						continue
					}
					want := cl.path(e.userID, tc.escaped)
					if len(recs) != 1 {
						t.Errorf("id %q: %d requests sent, want 1: %+v", tc.id, len(recs), recs)
						continue
					}
					if recs[0].EscapedPath != want || recs[0].RawQuery != "" || recs[0].Method != cl.method {
						t.Errorf("id %q: sent %s %s?%s, want %s %s", tc.id, recs[0].Method, recs[0].EscapedPath, recs[0].RawQuery, cl.method, want)
					}
					if n := e.srv.RequestCount(cl.method, cl.route); n != 1 {
						t.Errorf("id %q: the fake routed %d requests to %s %s, want 1 (log %+v)", tc.id, n, cl.method, cl.route, e.srv.Requests())
					}
					// The fake knows no such resource: a typed API error, never a transport one.
					var apiErr *basiq.APIError
					if !errors.As(err, &apiErr) || apiErr.StatusCode < 400 || apiErr.StatusCode >= 500 {
						t.Errorf("id %q: error %v (%T), want a 4xx *APIError", tc.id, err, err)
					}
				}
			})
		})
	}
}

// hardBigBody is a JSON object of exactly n bytes.
func hardBigBody(n int) io.Reader {
	head, tail := `{"type":"job","id":"big","pad":"`, `"}`
	return io.MultiReader(strings.NewReader(head), io.LimitReader(hardRepeat('x'), int64(n-len(head)-len(tail))), strings.NewReader(tail))
}

type hardRepeat byte

func (r hardRepeat) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(r)
	}
	return len(p), nil
}

func TestHardResponseBodyLimit(t *testing.T) {
	const limit = 10 << 20
	for _, tc := range []struct {
		name   string
		method string
		status int
		size   int
		ok     bool
	}{
		{"GET 200 at the limit", "GET", 200, limit, true},
		{"GET 200 one byte over", "GET", 200, limit + 1, false},
		{"GET 200 far over", "GET", 200, 64 << 20, false},
		{"POST 202 over", "POST", 202, limit + 1, false},
		{"GET 404 over", "GET", 404, limit + 1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hardBubble(t, func(t *testing.T) {
				e := hardSetup(t, nil, nil)
				attempts := 0
				e.rec.before = func(req *http.Request) (*http.Response, error, bool) {
					if strings.HasPrefix(req.URL.Path, "/jobs/") || strings.HasSuffix(req.URL.Path, "/refresh") {
						attempts++
						return &http.Response{StatusCode: tc.status, Header: http.Header{"Content-Type": {"application/json"}},
							Body: io.NopCloser(hardBigBody(tc.size)), Request: req}, nil, true
					}
					return nil, nil, false
				}
				var err error
				if tc.method == "GET" {
					var job *basiq.Job
					job, err = e.c.Jobs.Get(t.Context(), "big")
					if tc.ok && (err != nil || job.ID != "big") {
						t.Fatalf("Jobs.Get of a body at the limit: %v", err)
					}
				} else {
					_, err = e.c.Connections.Refresh(t.Context(), e.userID, "big")
				}
				if tc.ok {
					return
				}
				if !errors.Is(err, basiq.ErrResponseTooLarge) {
					t.Fatalf("error %v, want ErrResponseTooLarge", err)
				}
				if len(err.Error()) > 512 {
					t.Errorf("error message is %d bytes long", len(err.Error()))
				}
				if attempts != 1 {
					t.Errorf("%d attempts, want 1: an oversized body is not retried", attempts)
				}
			})
		})
	}
}
