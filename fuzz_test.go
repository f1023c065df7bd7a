package basiq_test

// Fuzz targets for the code that reads what the network (or a caller's
// storage) hands the SDK: job JSON, error bodies, resume tokens, and the
// diagnosis built on top of jobs. FuzzJobDecode (decode_test.go) checks that
// the fast and the lenient job decoders agree; FuzzJobDecodeMethods here
// checks what the Job methods make of any decoded job. Seeds are the cases
// below plus every recorded Basiq response in
// testdata/basiq-spec/v2.1/examples. Run one at a time, e.g.:
//
//	go test -run '^$' -fuzz '^FuzzJobDecodeMethods$' -fuzztime 60s .

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/banklink-go/basiq"
)

// hardSpecExamples returns every file of Basiq's recorded responses
// (testdata/README.md).
func hardSpecExamples(tb testing.TB) [][]byte {
	dir := filepath.Join("testdata", "basiq-spec", "v2.1", "examples")
	entries, err := os.ReadDir(dir)
	if err != nil {
		tb.Fatalf("recorded Basiq responses missing from testdata: %v", err)
	}
	var out [][]byte
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			tb.Fatalf("reading %s: %v", e.Name(), err)
		}
		out = append(out, b)
	}
	return out
}

// hardJobSeeds are job bodies in the documented shape and in the odd shapes
// Basiq's sources show (basiq-api.md §11).
var hardJobSeeds = []string{
	`{"type":"job","id":"j1","created":"2020-09-09T11:06:52Z","updated":"2020-09-09T11:07:39Z","steps":[{"title":"verify-credentials","status":"success","result":{"type":"link","url":"/users/u1/connections/c1"}},{"title":"retrieve-accounts","status":"in-progress","result":null},{"title":"retrieve-transactions","status":"pending","result":null}],"links":{"self":"https://au-api.basiq.io/jobs/j1","source":"https://au-api.basiq.io/users/u1/connections/c1"}}`,
	`{"id":"j2","steps":[{"title":"verify-credentials","status":"failed","result":{"code":"invalid-credentials","title":"Cannot login","detail":"Cannot login to target institution using supplied credentials."}}]}`,
	`{"id":"j3","steps":[{"title":"verify-credentials","status":"failed","result":{"code":"service-unavailable","details":["a","b"]}}]}`,
	`{"id":"j4","steps":[{"title":"verify-credentials","status":"success","result":[{"type":"link","url":"/users/u/connections/c"}]},{"title":"mfa-challenge","status":"in-progress","result":{"type":"mfa","method":"token","description":"Enter the code","input":["OTP"],"expiryMs":"120000","links":{"response":"/jobs/j4/mfa"}}}]}`,
	`{"id":42,"createdDate":"2024-01-02 03:04:05","updatedDate":1700000000,"steps":[{"title":"create-report","status":"skipped"},{"title":"x","status":"weird"}],"institution":{"type":"institution","id":"AU00000","links":{"self":"/institutions/AU00000"}}}`,
	`{"id":"j6","steps":[{"title":"verify-credentials","status":"failed","result":{"code":"","title":"","detail":""}}],"links":{"source":"https://x/users/%zz/connections/%2F"}}`,
	`{"id":"j7","steps":[{"title":"verify-credentials","status":"failed","result":{"code":"invalid-credentials","detail":"MFA is not supported"}}],"links":{"source":"/users//connections/"}}`,
	`{"id":"j8","steps":[{"status":"failed"}],"links":{"self":null,"source":{"a":1}}}`,
	`{"steps":null,"links":null,"institution":null}`,
	`{"steps":[{"title":"verify-credentials","status":"success","result":{"type":"link","url":"users/u/accounts?x=1"}}]}`,
	`{"steps":[{"result":{"expiryMs":1e300,"input":[1,true,null]}}]}`,
	`[]`, `null`, `""`, `{"steps":"nope"}`, `{"steps":[1,2]}`, `{"id":"\u0000\ud800"}`,
}

func FuzzJobDecodeMethods(f *testing.F) {
	for _, s := range hardJobSeeds {
		f.Add([]byte(s))
	}
	for _, b := range hardSpecExamples(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var j basiq.Job
		if err := json.Unmarshal(data, &j); err != nil {
			return
		}
		// Decoding is deterministic and replaces everything, even in a reused value.
		stale := basiq.Job{ID: "stale", Type: "stale", Reused: true, Steps: []basiq.Step{{Title: "stale"}},
			Institution: &basiq.ResourceRef{ID: "stale"}, Created: time.Unix(1, 0)}
		if err := json.Unmarshal(data, &stale); err != nil {
			t.Fatalf("second decode failed: %v", err)
		}
		if !reflect.DeepEqual(j, stale) {
			t.Fatalf("decoding into a used Job kept old fields:\n fresh %+v\n reused %+v", j, stale)
		}

		status := j.Status()
		failed, isFailed := j.FailedStep()
		current, hasCurrent := j.CurrentStep()
		if isFailed != (status == basiq.JobFailed) {
			t.Fatalf("Status %s but FailedStep found=%v", status, isFailed)
		}
		if isFailed && failed.Status != basiq.StepFailed {
			t.Fatalf("FailedStep returned a %s step", failed.Status)
		}
		if status == basiq.JobSucceeded && (hasCurrent || len(j.Steps) == 0) {
			t.Fatalf("succeeded job with a current step %+v (steps %d)", current, len(j.Steps))
		}
		if hasCurrent && current.Status.Done() {
			t.Fatalf("CurrentStep %+v is finished", current)
		}
		if status == basiq.JobPending {
			for _, s := range j.Steps {
				if s.Status != basiq.StepPending {
					t.Fatalf("pending job has a %q step", s.Status)
				}
			}
		}
		if status.Terminal() != (status == basiq.JobSucceeded || status == basiq.JobFailed) {
			t.Fatalf("Terminal() wrong for %s", status)
		}
		for _, s := range j.Steps {
			got, ok := j.Step(s.Title)
			if !ok || got.Title != s.Title {
				t.Fatalf("Step(%q) = %+v, %v", s.Title, got, ok)
			}
			_ = s.Result.IsMFA()
		}
		conn, user := j.ConnectionID(), j.UserID()
		if conn != "" && user == "" {
			t.Fatalf("connection %q without a user", conn)
		}
		var nilJob *basiq.Job
		if nilJob.Status() != basiq.JobPending || nilJob.ConnectionID() != "" || nilJob.UserID() != "" {
			t.Fatal("nil job methods")
		}
	})
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

// hardForgeResume wraps payload the way ResumeToken does (version prefix,
// base64url body, truncated SHA-256 checksum), so that the fuzzer reaches
// the payload checks behind the checksum.
func hardForgeResume(payload []byte) string {
	const prefix = "bqpoll1."
	body := base64.RawURLEncoding.EncodeToString(payload)
	sum := sha256.Sum256([]byte(prefix + body))
	return prefix + body + "." + base64.RawURLEncoding.EncodeToString(sum[:6])
}

func FuzzResumeToken(f *testing.F) {
	c, err := basiq.NewClient("a2V5")
	if err != nil {
		f.Fatal(err)
	}
	valid := []string{}
	for _, id := range []string{"job-1", "ü/..", strings.Repeat("j", 256)} {
		tok, err := c.Jobs.Poller(id, &basiq.PollOptions{Operation: basiq.OpUpdate, InstitutionID: "AU00000", Attempt: 3}).ResumeToken()
		if err != nil {
			f.Fatal(err)
		}
		valid = append(valid, tok)
	}
	payloads := []string{
		`{"j":"job-1"}`,
		`{"j":"job-1","o":"create","i":"AU00002","a":2,"s":{"verify-credentials":"success","mfa-challenge":"in-progress"},"f":1700000000}`,
		`{"j":"job-1","o":"delete"}`, `{"j":"","o":"create"}`, `{"j":".."}`, `{"j":"x\n"}`, `{"j":"x","a":-1}`,
		`{"j":"x","f":-5}`, `{"j":"x","zz":1}`, `{"j":"x","s":{"a":1}}`, `{"j":"x","a":1e400}`, `{"j":"x"}{"j":"y"}`,
		`{"j":"x","f":9223372036854775807,"a":9223372036854775807}`, `null`, `[]`, ``,
	}
	for _, tok := range valid {
		f.Add(tok, []byte(payloads[0]))
		f.Add(tok[:len(tok)-1], []byte(payloads[1]))
		f.Add(strings.Replace(tok, "bqpoll1.", "bqpoll2.", 1), []byte(`{}`))
	}
	for _, p := range payloads {
		f.Add("", []byte(p))
	}
	f.Add("bqpoll1..", []byte(nil))
	f.Add("bqpoll1.e30.AAAAAAAA", []byte(nil))
	for _, b := range hardSpecExamples(f) {
		f.Add(string(b), b)
	}
	f.Fuzz(func(t *testing.T, token string, payload []byte) {
		for _, tok := range []string{token, hardForgeResume(payload)} {
			p, err := c.Jobs.ResumePoller(tok, nil)
			if err != nil {
				if !errors.Is(err, basiq.ErrInvalidInput) {
					t.Fatalf("ResumePoller error %v does not match ErrInvalidInput", err)
				}
				if p != nil {
					t.Fatal("a Poller with an error")
				}
				continue
			}
			if p.JobID() == "" {
				t.Fatal("resumed a poller with no job id")
			}
			t1, err := p.ResumeToken()
			if err != nil {
				t.Fatalf("ResumeToken of a resumed poller: %v", err)
			}
			p2, err := c.Jobs.ResumePoller(t1, nil)
			if err != nil {
				t.Fatalf("ResumePoller rejected its own token %q: %v", t1, err)
			}
			t2, err := p2.ResumeToken()
			if err != nil || t2 != t1 || p2.JobID() != p.JobID() {
				t.Fatalf("resume token does not round-trip:\n %q\n %q (%v)", t1, t2, err)
			}
			if _, err := c.Jobs.ResumePoller(t1, &basiq.PollOptions{Operation: basiq.OpRefresh, Attempt: 2}); err != nil {
				t.Fatalf("ResumePoller with options: %v", err)
			}
		}
	})
}

// TestHardResumeForgeryMatchesFormat keeps FuzzResumeToken honest: if the
// token format changes, hardForgeResume must change with it, or the fuzzer
// would only ever see checksum failures.
func TestHardResumeForgeryMatchesFormat(t *testing.T) {
	c, err := basiq.NewClient("a2V5")
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.Jobs.ResumePoller(hardForgeResume([]byte(`{"j":"job-1","o":"refresh","a":2}`)), nil)
	if err != nil {
		t.Fatalf("a forged well-formed token is rejected: %v", err)
	}
	if p.JobID() != "job-1" {
		t.Errorf("job id %q", p.JobID())
	}
	if _, err := c.Jobs.ResumePoller(hardForgeResume([]byte(`{"j":"job-1"}`))+"x", nil); !errors.Is(err, basiq.ErrInvalidInput) {
		t.Errorf("a token with a bad checksum: %v", err)
	}
}

// hardDiagnoseSeeds are failing jobs for each row of DESIGN.md §4.4.
func hardDiagnoseSeeds() []string {
	failing := func(code, detail string) string {
		return fmt.Sprintf(`{"id":"j","links":{"source":"/users/u/connections/c"},"steps":[{"title":"verify-credentials","status":"failed","result":{"code":%q,"title":"t","detail":%q}}]}`, code, detail)
	}
	return []string{
		failing("invalid-credentials", ""), failing("invalid-credentials", "MFA is not supported"),
		failing("", ""), failing("", "something"), failing("unknown-error", ""),
		failing("account-not-accessible-requires-user-action", ""), failing("user-action-required", ""),
		failing("service-unavailable", ""), failing("maintenance", ""), failing("connector-error", ""),
		failing("institution-not-available", ""), failing("authorization-failed", ""), failing("locked-account", ""),
		failing("never-heard-of-it", "x"), failing("INVALID-CREDENTIALS", " "),
		hardJobSeeds[3], hardJobSeeds[0], `{"steps":[{"title":"a","status":"failed","result":null}]}`,
	}
}

func FuzzDiagnose(f *testing.F) {
	ops := []string{"create", "refresh", "update", "", "unknown", " Refresh "}
	statuses := []string{"operational", "major-outage", "partial-outage", "degraded-performance", "under-maintenance", "", "weird"}
	for i, s := range hardDiagnoseSeeds() {
		f.Add([]byte(s), ops[i%len(ops)], statuses[i%len(statuses)], i%5-1)
	}
	for i, b := range hardSpecExamples(f) {
		f.Add(b, ops[i%len(ops)], statuses[i%len(statuses)], 3)
	}
	f.Fuzz(func(t *testing.T, data []byte, op, status string, attempt int) {
		var job *basiq.Job
		var decoded basiq.Job
		if json.Unmarshal(data, &decoded) == nil {
			job = &decoded
		}
		var before basiq.Job
		if job != nil {
			_ = json.Unmarshal(data, &before)
		}
		opts := basiq.DiagnoseOptions{Operation: basiq.Operation(op), InstitutionStatus: basiq.InstitutionStatus(status), Attempt: attempt}
		d := basiq.Diagnose(job, opts)
		if !reflect.DeepEqual(d, basiq.Diagnose(job, opts)) {
			t.Fatal("Diagnose is not deterministic")
		}
		if job != nil && !reflect.DeepEqual(*job, before) {
			t.Fatal("Diagnose changed the job")
		}
		if d.Action == "" {
			t.Fatal("no action")
		}
		if d.RetryAfter < 0 || d.RetryEvery < 0 || d.GiveUpAfter < 0 {
			t.Fatalf("negative timing %+v", d)
		}
		if job == nil {
			if d.Action != basiq.ActionNone {
				t.Fatalf("nil job: action %s", d.Action)
			}
			return
		}
		if step, failed := job.FailedStep(); failed {
			if d.UserMessage == "" || d.Action == basiq.ActionNone || d.Step != step.Title {
				t.Fatalf("failed job: action %q step %q message %q", d.Action, d.Step, d.UserMessage)
			}
		}
		if d.Action == basiq.ActionAnswerMFA && (d.MFA == nil || d.UserMessage == "") {
			t.Fatalf("MFA action without a prompt or message: %+v", d)
		}
		if d.JobID != job.ID || d.UserID != job.UserID() || d.ConnectionID != job.ConnectionID() {
			t.Fatalf("ids %q %q %q, job says %q %q %q", d.JobID, d.UserID, d.ConnectionID, job.ID, job.UserID(), job.ConnectionID())
		}
		_ = d.Action.UserMustAct()
		_ = d.String()
		_ = d.LogValue().Resolve().String()
		if step, failed := job.FailedStep(); failed {
			jfe := &basiq.JobFailedError{Job: job, Step: step, Diagnosis: d}
			if msg := jfe.Error(); !strings.Contains(msg, "failed at step") {
				t.Fatalf("JobFailedError.Error() = %q", msg)
			}
		}
	})
}
