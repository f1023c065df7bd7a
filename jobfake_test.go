package basiq

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// jobFake is a scripted Basiq for poller tests: one job whose steps take
// fixed durations on the (virtual) clock, optional failures, an MFA step
// that waits for answers, and faults on chosen job GETs.
type jobFake struct {
	mu         sync.Mutex
	start      time.Time
	steps      []fakeStep
	answeredAt time.Time   // when the MFA step got its last answer
	answers    int         // MFA answers received
	jobGets    []time.Time // when each GET /jobs/{id} arrived
	instGets   int
	connGets   int
	tokens     int
	status     InstitutionStatus
	avg        map[StepName]time.Duration
	faults     map[int]fakeFault // by 1-based index of the job GET
	// v3 makes the job look like an API 3.0 job straight from the Consent
	// UI: links.source (the connection) appears only once
	// verify-credentials has ended, and jobType is "connection".
	v3 bool
}

type fakeStep struct {
	name StepName
	dur  time.Duration
	fail string // failure code, "" for success
	mfa  bool   // waits for answers, then takes dur
	// promptAfter delays the MFA prompt after the step starts (the step is
	// in progress without a prompt until then).
	promptAfter time.Duration
	// rounds is how many prompts the MFA step asks in turn (default 1).
	rounds int
	// lingers is how long an answered prompt stays on show while the bank
	// checks the answer.
	lingers time.Duration
}

type fakeFault struct {
	status     int
	retryAfter string
}

const (
	fakeJobID  = "job-1"
	fakeUserID = "user-1"
	fakeConnID = "conn-1"
	fakeInstID = "AU00000"
)

// hooliSteps are Hooli's average step durations (basiq-api.md §5.2).
func hooliSteps() []fakeStep {
	return []fakeStep{
		{name: StepVerifyCredentials, dur: 8154 * time.Millisecond},
		{name: StepRetrieveAccounts, dur: 3820 * time.Millisecond},
		{name: StepRetrieveTransactions, dur: 7127 * time.Millisecond},
	}
}

func newJobFake(steps []fakeStep) *jobFake {
	f := &jobFake{start: time.Now(), steps: steps, status: StatusOperational, faults: map[int]fakeFault{},
		avg: map[StepName]time.Duration{}}
	for _, s := range hooliSteps() {
		f.avg[s.name] = s.dur
	}
	return f
}

// client returns a client speaking to the fake in memory.
func (f *jobFake) client() *Client {
	c, err := NewClient("a2V5OnNlY3JldA==", WithHTTPClient(&http.Client{Transport: f}),
		WithRetryPolicy(RetryPolicy{MaxAttempts: 1}))
	if err != nil {
		panic(err)
	}
	return c
}

// ends returns when each step ended (zero if it has not), in order.
func (f *jobFake) ends(now time.Time) []time.Time {
	out := make([]time.Time, len(f.steps))
	t := f.start
	for i, s := range f.steps {
		if s.mfa {
			if f.answers < max(s.rounds, 1) {
				return out
			}
			t = f.answeredAt
		}
		t = t.Add(s.dur)
		if now.Before(t) {
			return out
		}
		out[i] = t
		if s.fail != "" {
			return out
		}
	}
	return out
}

func (f *jobFake) jobJSON(now time.Time) map[string]any {
	ends := f.ends(now)
	var steps []map[string]any
	running := false
	for i, s := range f.steps {
		st := map[string]any{"title": string(s.name), "status": "pending", "result": nil}
		switch {
		case !ends[i].IsZero() && s.fail != "":
			st["status"] = "failed"
			st["result"] = map[string]any{"code": s.fail, "title": "Failed", "detail": "The step failed: " + s.fail}
		case !ends[i].IsZero():
			st["status"] = "success"
			st["result"] = map[string]any{"type": "link", "url": "/users/" + fakeUserID + "/connections/" + fakeConnID}
		case !running && (i == 0 || (!ends[i-1].IsZero() && f.steps[i-1].fail == "")):
			running = true
			st["status"] = "in-progress"
			started := f.start
			if i > 0 {
				started = ends[i-1]
			}
			lingering := f.answers > 0 && now.Before(f.answeredAt.Add(s.lingers))
			if s.mfa && (f.answers < max(s.rounds, 1) || lingering) && !now.Before(started.Add(s.promptAfter)) {
				n := f.answers + 1
				if lingering {
					n--
				}
				st["result"] = map[string]any{"type": "mfa", "method": "token", "description": fmt.Sprintf("Enter code %d", n),
					"input": []string{"OTP Password"}, "expiryMs": 120000,
					"links": map[string]any{"response": "https://au-api.basiq.io/jobs/" + fakeJobID + "/mfa"}}
			}
		}
		steps = append(steps, st)
	}
	links := map[string]any{"self": "https://au-api.basiq.io/jobs/" + fakeJobID,
		"source": "https://au-api.basiq.io/users/" + fakeUserID + "/connections/" + fakeConnID}
	job := map[string]any{
		"type": "job", "id": fakeJobID, "created": f.start.UTC().Format(time.RFC3339), "updated": now.UTC().Format(time.RFC3339),
		"steps": steps, "links": links,
	}
	if f.v3 {
		job["jobType"] = "connection"
		if ends[0].IsZero() {
			delete(links, "source")
		}
	}
	return job
}

func (f *jobFake) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		io.Copy(io.Discard, req.Body)
		req.Body.Close()
	}
	now := time.Now()
	f.mu.Lock()
	defer f.mu.Unlock()
	path := req.URL.Path
	switch {
	case path == "/token":
		f.tokens++
		return jsonResponse(req, 200, map[string]any{"access_token": fmt.Sprintf("tok-%d", f.tokens), "expires_in": 3600, "token_type": "Bearer"}, nil), nil
	case path == "/jobs/"+fakeJobID && req.Method == http.MethodGet:
		f.jobGets = append(f.jobGets, now)
		if fault, ok := f.faults[len(f.jobGets)]; ok {
			h := http.Header{}
			if fault.retryAfter != "" {
				h.Set("Retry-After", fault.retryAfter)
			}
			return jsonResponse(req, fault.status, map[string]any{"type": "list", "correlationId": "c-1",
				"data": []any{map[string]any{"type": "error", "code": "service-unavailable", "title": "Unavailable"}}}, h), nil
		}
		return jsonResponse(req, 200, f.jobJSON(now), nil), nil
	case path == "/users/"+fakeUserID+"/connections/"+fakeConnID+"/refresh" && req.Method == http.MethodPost:
		// The job starts now (a fake made for one job: its clock restarts).
		f.start = now
		return jsonResponse(req, 202, map[string]any{"type": "job", "id": fakeJobID,
			"links": map[string]any{"self": "https://au-api.basiq.io/jobs/" + fakeJobID}}, nil), nil
	case path == "/jobs/"+fakeJobID+"/mfa" && req.Method == http.MethodPost:
		f.answeredAt = now
		f.answers++
		return jsonResponse(req, 202, map[string]any{"type": "job", "id": fakeJobID}, nil), nil
	case path == "/institutions/"+fakeInstID:
		f.instGets++
		avg := map[string]any{"verifyCredentials": f.avg[StepVerifyCredentials].Milliseconds(),
			"retrieveAccounts": f.avg[StepRetrieveAccounts].Milliseconds(), "retrieveTransactions": f.avg[StepRetrieveTransactions].Milliseconds()}
		return jsonResponse(req, 200, map[string]any{"type": "institution", "id": fakeInstID, "name": "Hooli",
			"status": string(f.status), "stats": map[string]any{"averageDurationMs": avg}}, nil), nil
	case path == "/users/"+fakeUserID+"/connections/"+fakeConnID:
		f.connGets++
		return jsonResponse(req, 200, map[string]any{"type": "connection", "id": fakeConnID, "status": "active",
			"institution": map[string]any{"type": "institution", "id": fakeInstID}}, nil), nil
	}
	return jsonResponse(req, 404, map[string]any{"type": "list", "data": []any{map[string]any{"code": "resource-not-found", "title": "Not found"}}}, nil), nil
}

func (f *jobFake) gets() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.jobGets)
}

func jsonResponse(req *http.Request, status int, v any, h http.Header) *http.Response {
	b, _ := json.Marshal(v)
	if h == nil {
		h = http.Header{}
	}
	h.Set("Content-Type", "application/json")
	return &http.Response{StatusCode: status, Status: fmt.Sprintf("%d %s", status, http.StatusText(status)),
		Header: h, Body: io.NopCloser(bytes.NewReader(b)), ContentLength: int64(len(b)), Request: req,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1}
}

var _ = strings.TrimSpace
