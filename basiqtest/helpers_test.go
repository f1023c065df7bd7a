package basiqtest_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/banklink-go/basiq/basiqtest"
)

// api is a raw net/http client of the fake, as a user's code would be.
type api struct {
	t    testing.TB
	srv  *basiqtest.Server
	http *http.Client
}

func newAPI(t testing.TB, srv *basiqtest.Server) *api {
	return &api{t: t, srv: srv, http: srv.Client()}
}

// resp is a response with its body read.
type resp struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into a generic map.
func (r resp) JSON(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(r.Body, &m), "body: %s", r.Body)
	return m
}

// envelope is Basiq's error body.
type envelope struct {
	Type          string `json:"type"`
	CorrelationID string `json:"correlationId"`
	Data          []struct {
		Type   string            `json:"type"`
		Code   string            `json:"code"`
		Title  string            `json:"title"`
		Detail string            `json:"detail"`
		Source map[string]string `json:"source"`
	} `json:"data"`
}

// Err decodes the error envelope and checks its frame.
func (r resp) Err(t testing.TB) envelope {
	t.Helper()
	var e envelope
	require.NoError(t, json.Unmarshal(r.Body, &e), "body: %s", r.Body)
	require.Equal(t, "list", e.Type)
	require.Len(t, e.CorrelationID, 36)
	require.NotEmpty(t, e.Data)
	require.Equal(t, "error", e.Data[0].Type)
	require.Equal(t, "application/json", r.Header.Get("Content-Type"))
	return e
}

// requireError asserts status and the first error's code (and detail, when
// given).
func requireError(t testing.TB, r resp, status int, code string, detail ...string) envelope {
	t.Helper()
	require.Equal(t, status, r.Status, "body: %s", r.Body)
	e := r.Err(t)
	require.Equal(t, code, e.Data[0].Code, "body: %s", r.Body)
	if len(detail) > 0 {
		require.Equal(t, detail[0], e.Data[0].Detail)
	}
	return e
}

// send performs a request. body is nil, a url.Values (form) or anything else
// (JSON).
func (a *api) send(method, path, tok string, body any, header ...string) resp {
	a.t.Helper()
	var rd io.Reader
	ctype := ""
	switch b := body.(type) {
	case nil:
	case url.Values:
		rd, ctype = strings.NewReader(b.Encode()), "application/x-www-form-urlencoded"
	case string:
		rd, ctype = strings.NewReader(b), "application/json"
	default:
		raw, err := json.Marshal(b)
		require.NoError(a.t, err)
		rd, ctype = bytes.NewReader(raw), "application/json"
	}
	req, err := http.NewRequest(method, a.srv.URL+path, rd)
	require.NoError(a.t, err)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := a.http.Do(req)
	require.NoError(a.t, err)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	require.NoError(a.t, err)
	return resp{Status: res.StatusCode, Header: res.Header, Body: raw}
}

// tokenResp requests a token with the given version and form.
func (a *api) tokenResp(version string, form url.Values) resp {
	a.t.Helper()
	h := []string{"Authorization", "Basic " + a.srv.APIKey()}
	if version != "" {
		h = append(h, "basiq-version", version)
	}
	return a.send("POST", "/token", "", form, h...)
}

// serverToken returns a SERVER_ACCESS token for version.
func (a *api) serverToken(version string) string {
	a.t.Helper()
	r := a.tokenResp(version, url.Values{"scope": {"SERVER_ACCESS"}})
	require.Equal(a.t, http.StatusOK, r.Status, "body: %s", r.Body)
	return r.JSON(a.t)["access_token"].(string)
}

// clientToken returns a CLIENT_ACCESS token bound to userID.
func (a *api) clientToken(version, userID string) string {
	a.t.Helper()
	r := a.tokenResp(version, url.Values{"scope": {"CLIENT_ACCESS"}, "userId": {userID}})
	require.Equal(a.t, http.StatusOK, r.Status, "body: %s", r.Body)
	return r.JSON(a.t)["access_token"].(string)
}

// createUser creates a user and returns its id.
func (a *api) createUser(tok string) string {
	a.t.Helper()
	r := a.send("POST", "/users", tok, map[string]string{"email": "gavin@hooli.com", "mobile": "+61410888999"})
	require.Equal(a.t, http.StatusCreated, r.Status, "body: %s", r.Body)
	return r.JSON(a.t)["id"].(string)
}

// connect posts credentials and returns the job id.
func (a *api) connect(tok, userID, institutionID, loginID, password string) string {
	a.t.Helper()
	r := a.send("POST", "/users/"+userID+"/connections", tok, map[string]any{
		"loginId": loginID, "password": password, "institution": map[string]string{"id": institutionID},
	})
	require.Equal(a.t, http.StatusAccepted, r.Status, "body: %s", r.Body)
	return r.JSON(a.t)["id"].(string)
}

// jobDoc is GET /jobs/{id}.
type jobDoc struct {
	Type    string    `json:"type"`
	ID      string    `json:"id"`
	Created string    `json:"created"`
	Updated string    `json:"updated"`
	JobType string    `json:"jobType"`
	Steps   []stepDoc `json:"steps"`
	Links   struct {
		Self   string `json:"self"`
		Source string `json:"source"`
	} `json:"links"`
	Institution *struct {
		Type string `json:"type"`
		ID   string `json:"id"`
	} `json:"institution"`
}

type stepDoc struct {
	Title  string          `json:"title"`
	Status string          `json:"status"`
	Result json.RawMessage `json:"result"`
}

// step returns the step with title.
func (j jobDoc) step(t testing.TB, title string) stepDoc {
	t.Helper()
	for _, s := range j.Steps {
		if s.Title == title {
			return s
		}
	}
	t.Fatalf("job %s has no step %s: %+v", j.ID, title, j.Steps)
	return stepDoc{}
}

// statuses lists the steps as "title=status".
func (j jobDoc) statuses() []string {
	var out []string
	for _, s := range j.Steps {
		out = append(out, s.Title+"="+s.Status)
	}
	return out
}

// result decodes a step's result.
func (s stepDoc) result(t testing.TB) map[string]any {
	t.Helper()
	if string(s.Result) == "null" {
		return nil
	}
	var m map[string]any
	require.NoError(t, json.Unmarshal(s.Result, &m))
	return m
}

// job fetches a job.
func (a *api) job(tok, id string) jobDoc {
	a.t.Helper()
	r := a.send("GET", "/jobs/"+id, tok, nil)
	require.Equal(a.t, http.StatusOK, r.Status, "body: %s", r.Body)
	var j jobDoc
	require.NoError(a.t, json.Unmarshal(r.Body, &j))
	return j
}

// fakeClock is the package's Clock, with the name and Add the older tests use.
type fakeClock struct{ *basiqtest.Clock }

func newFakeClock() *fakeClock {
	return &fakeClock{basiqtest.NewClock(time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC))}
}

func (c *fakeClock) Add(d time.Duration) { c.Advance(d) }

// jsonBody is a request body.
func jsonBody(s string) io.Reader { return strings.NewReader(s) }
