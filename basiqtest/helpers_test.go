package basiqtest_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/banklink-go/basiq"
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

// consentEnv is a fake (in memory, instant jobs unless options say
// otherwise) with a 3.0 SERVER_ACCESS token, a user and the user's 3.0
// CLIENT_ACCESS token: what an application has before it sends the user to
// the Consent UI.
type consentEnv struct {
	*api
	server string
	user   string
	client string
}

func newConsentEnv(t testing.TB, opts ...basiqtest.Option) *consentEnv {
	t.Helper()
	srv := basiqtest.NewServer(append([]basiqtest.Option{basiqtest.InMemory(), basiqtest.WithTimeScale(0)}, opts...)...)
	t.Cleanup(srv.Close)
	e := &consentEnv{api: newAPI(t, srv)}
	e.server = e.serverToken("3.0")
	e.user = e.createUser(e.server)
	e.client = e.clientToken("3.0", e.user)
	return e
}

// consentURL is Basiq's Consent UI URL with the token and the key, value
// pairs given (built with net/url, as an application would).
func consentURL(token string, kv ...string) string {
	v := url.Values{}
	if token != "" {
		v.Set("token", token)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return "https://consent.basiq.io/home?" + v.Encode()
}

// complete runs CompleteConsent, which must succeed, and parses the redirect.
func (e *consentEnv) complete(u string, opts ...basiqtest.ConsentOption) *url.URL {
	e.t.Helper()
	redirect, err := e.srv.CompleteConsent(u, opts...)
	require.NoError(e.t, err)
	parsed, err := url.Parse(redirect)
	require.NoError(e.t, err)
	return parsed
}

// jobIDs reads the redirect's jobIds, checking that jobId is the first.
func jobIDs(t testing.TB, redirect *url.URL) []string {
	t.Helper()
	q := redirect.Query()
	if !q.Has("jobIds") {
		require.False(t, q.Has("jobId"), "jobId without jobIds: %s", redirect)
		return nil
	}
	ids := strings.Split(q.Get("jobIds"), ",")
	require.Equal(t, ids[0], q.Get("jobId"), "jobId is the first of jobIds")
	return ids
}

// login is a sandbox login at an institution.
func login(inst, id, password string) basiqtest.ConsentLogin {
	return basiqtest.ConsentLogin{InstitutionID: inst, LoginID: id, Password: password}
}

// consents lists the user's consents with the SERVER_ACCESS token.
func (e *consentEnv) consents() []map[string]any {
	e.t.Helper()
	r := e.send("GET", "/users/"+e.user+"/consents", e.server, nil)
	require.Equal(e.t, http.StatusOK, r.Status, "body: %s", r.Body)
	var out []map[string]any
	for _, d := range r.JSON(e.t)["data"].([]any) {
		out = append(out, d.(map[string]any))
	}
	return out
}

// connection gets one of the user's connections with the SERVER_ACCESS token.
func (e *consentEnv) connection(id string) map[string]any {
	e.t.Helper()
	r := e.send("GET", "/users/"+e.user+"/connections/"+id, e.server, nil)
	require.Equal(e.t, http.StatusOK, r.Status, "body: %s", r.Body)
	return r.JSON(e.t)
}

// connections lists the user's connections with the SERVER_ACCESS token.
func (e *consentEnv) connections() []map[string]any {
	e.t.Helper()
	r := e.send("GET", "/users/"+e.user+"/connections", e.server, nil)
	require.Equal(e.t, http.StatusOK, r.Status, "body: %s", r.Body)
	var out []map[string]any
	for _, d := range r.JSON(e.t)["data"].([]any) {
		out = append(out, d.(map[string]any))
	}
	return out
}

// connOf returns the connection id of a job.
func (e *consentEnv) connOf(jobID string) string {
	e.t.Helper()
	st, ok := e.srv.Job(jobID)
	require.True(e.t, ok, "job %s", jobID)
	return st.ConnectionID
}

// steps lists a job's steps as "title=status".
func (e *consentEnv) steps(jobID string) []string {
	e.t.Helper()
	return e.job(e.server, jobID).statuses()
}

// succeeded are the steps of a Consent UI job that succeeded.
func succeeded() []string {
	return []string{"verify-credentials=success", "retrieve-accounts=success", "retrieve-transactions=success"}
}

// delivery is one request a receiver got.
type delivery struct {
	Path      string
	ID        string // webhook-id
	Timestamp string // webhook-timestamp
	Signature string // webhook-signature
	Header    http.Header
	Body      []byte
}

// payload decodes a delivery's body.
func (d delivery) payload(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(d.Body, &m), "body: %s", d.Body)
	return m
}

// receiver is a webhook receiver for tests: it records every request and
// answers with answer(n, d) (n counts requests from 0), 200 by default.
// onRequest, when set, runs before the answer (a receiver calling back).
type receiver struct {
	mu        sync.Mutex
	got       []delivery
	answer    func(n int, d delivery) int
	onRequest func(r *http.Request, d delivery)
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	d := delivery{Path: r.URL.Path, ID: r.Header.Get("webhook-id"), Timestamp: r.Header.Get("webhook-timestamp"),
		Signature: r.Header.Get("webhook-signature"), Header: r.Header.Clone(), Body: body}
	if rc.onRequest != nil {
		rc.onRequest(r, d)
	}
	rc.mu.Lock()
	n := len(rc.got)
	rc.got = append(rc.got, d)
	answer := rc.answer
	rc.mu.Unlock()
	status := http.StatusOK
	if answer != nil {
		status = answer(n, d)
	}
	w.WriteHeader(status)
}

// deliveries returns what the receiver got so far.
func (rc *receiver) deliveries() []delivery {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]delivery(nil), rc.got...)
}

// hookEnv is an in-memory fake on a test clock, jobs instant, tokens that
// outlive the test's clock jumps, with a 3.0 SERVER_ACCESS token and a
// receiver reached in memory through HandlerTransport.
type hookEnv struct {
	*api
	clk *fakeClock
	tok string
	rcv *receiver
}

func newHookEnv(t testing.TB, opts ...basiqtest.Option) *hookEnv {
	t.Helper()
	e := &hookEnv{clk: newFakeClock(), rcv: &receiver{}}
	all := append([]basiqtest.Option{basiqtest.InMemory(), basiqtest.WithTimeScale(0), basiqtest.WithClock(e.clk.Now),
		basiqtest.WithTokenTTL(1000 * 24 * time.Hour),
		basiqtest.WithWebhookClient(&http.Client{Transport: basiqtest.HandlerTransport(e.rcv)})}, opts...)
	srv := basiqtest.NewServer(all...)
	t.Cleanup(srv.Close)
	e.api = newAPI(t, srv)
	e.tok = e.serverToken("3.0")
	return e
}

// hook is a webhook as created.
type hook struct {
	ID     string
	Secret string
}

// createWebhook registers url for the event types (all, when none given).
func (e *hookEnv) createWebhook(url string, types ...string) hook {
	e.t.Helper()
	body := map[string]any{"url": url, "name": "test", "description": "a test receiver"}
	if len(types) > 0 {
		body["subscribedEvents"] = types
	}
	r := e.send("POST", "/notifications/webhooks", e.tok, body)
	require.Equal(e.t, http.StatusCreated, r.Status, "body: %s", r.Body)
	m := r.JSON(e.t)
	return hook{ID: m["id"].(string), Secret: m["secret"].(string)}
}

// deliver runs DeliverWebhooks, which must not fail, and returns its count.
func (e *hookEnv) deliver() int {
	e.t.Helper()
	n, err := e.srv.DeliverWebhooks(e.t.Context())
	require.NoError(e.t, err)
	return n
}

// events lists GET /events with the query (already encoded), all pages.
func (e *hookEnv) events(query string) []map[string]any {
	e.t.Helper()
	var out []map[string]any
	path := "/events"
	if query != "" {
		path += "?" + query
	}
	for range 1000 {
		r := e.send("GET", path, e.tok, nil)
		require.Equal(e.t, http.StatusOK, r.Status, "body: %s", r.Body)
		m := r.JSON(e.t)
		for _, d := range m["data"].([]any) {
			out = append(out, d.(map[string]any))
		}
		next, _ := m["links"].(map[string]any)["next"].(string)
		if next == "" {
			return out
		}
		require.True(e.t, strings.HasPrefix(next, e.srv.URL+"/events?"), "links.next %s", next)
		path = strings.TrimPrefix(next, e.srv.URL)
	}
	e.t.Fatal("GET /events pages never end")
	return nil
}

// types lists the "entity.eventType" of events, in order.
func types(evs []map[string]any) []string {
	var out []string
	for _, ev := range evs {
		out = append(out, ev["entity"].(string)+"."+ev["eventType"].(string))
	}
	return out
}

// userEvents lists a user's events oldest first, as types.
func (e *hookEnv) userEvents(userID string) []string {
	e.t.Helper()
	evs := e.events("filter=user.id.eq('" + userID + "')")
	out := types(evs)
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

// lastEvent returns the user's newest event of a type.
func (e *hookEnv) lastEvent(userID, typ string) map[string]any {
	e.t.Helper()
	evs := e.events("filter=user.id.eq('" + userID + "'),event.type.eq('" + typ + "')")
	require.NotEmpty(e.t, evs, "no %s event for user %s", typ, userID)
	return evs[0]
}

// verifySignature checks a delivery's signature independently of the fake:
// HMAC-SHA256 keyed with the secret's base64 after "whsec_", over
// id.timestamp.body, in standard base64 after "v1,".
func verifySignature(t testing.TB, secret string, d delivery) {
	t.Helper()
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	require.NoError(t, err)
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(d.ID + "." + d.Timestamp + "." + string(d.Body)))
	want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
	require.True(t, hmac.Equal([]byte(want), []byte(d.Signature)), "signature %q, want %q", d.Signature, want)
}

// specExample returns a named response example of a spec file in
// testdata/basiq-spec/v3 (the examples map, or the single example).
func specExample(t testing.TB, file, path, method, status, name string) any {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "testdata", "basiq-spec", "v3", file))
	require.NoError(t, err, "the spec files are in the module's testdata")
	var spec struct {
		Paths map[string]map[string]struct {
			Responses map[string]struct {
				Content map[string]struct {
					Example  any `json:"example"`
					Examples map[string]struct {
						Value any `json:"value"`
					} `json:"examples"`
				} `json:"content"`
			} `json:"responses"`
		} `json:"paths"`
	}
	require.NoError(t, json.Unmarshal(raw, &spec))
	c := spec.Paths[path][method].Responses[status].Content["application/json"]
	if name == "" {
		require.NotNil(t, c.Example, "%s %s %s %s has an example", file, method, path, status)
		return c.Example
	}
	ex, ok := c.Examples[name]
	require.True(t, ok, "%s %s %s %s has the example %q", file, method, path, status, name)
	return ex.Value
}

func sdkClient(t *testing.T, srv *basiqtest.Server, opts ...basiq.Option) *basiq.Client {
	t.Helper()
	all := append([]basiq.Option{basiq.WithBaseURL(srv.URL), basiq.WithHTTPClient(srv.Client()),
		basiq.WithAPIVersion(basiq.V2_1)}, opts...)
	c, err := basiq.NewClient(srv.APIKey(), all...)
	require.NoError(t, err)
	return c
}

func sdkUser(t *testing.T, c *basiq.Client) string {
	t.Helper()
	u, err := c.Users.Create(t.Context(), basiq.UserParams{Email: "max@example.com"})
	require.NoError(t, err)
	return u.ID
}

// requireSameShape checks that got has every field of want, with the same
// JSON type (null for null), recursively; arrays are compared by their
// first element.
func requireSameShape(t *testing.T, path string, want, got any) {
	t.Helper()
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		require.True(t, ok, "%s: want an object, got %T", path, got)
		for k, v := range w {
			gv, ok := g[k]
			require.True(t, ok, "%s.%s: missing", path, k)
			requireSameShape(t, path+"."+k, v, gv)
		}
	case []any:
		g, ok := got.([]any)
		require.True(t, ok, "%s: want an array, got %T", path, got)
		if len(w) > 0 {
			require.NotEmpty(t, g, "%s: want a non-empty array", path)
			requireSameShape(t, path+"[0]", w[0], g[0])
		}
	default:
		require.Equal(t, reflect.TypeOf(want), reflect.TypeOf(got), "%s: JSON type", path)
	}
}

// stampOf is how the fake writes a time.
func stampOf(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

// specSchema returns the response schema of a spec file in
// testdata/basiq-spec/v3 for an operation, status and content type.
func specSchema(t testing.TB, file, path, method, status, contentType string) map[string]any {
	t.Helper()
	doc := specDoc(t, file)
	op, _ := dig(doc, "paths", path, method).(map[string]any)
	require.NotNil(t, op, "%s has %s %s", file, method, path)
	s, _ := dig(op, "responses", status, "content", contentType, "schema").(map[string]any)
	require.NotNil(t, s, "%s %s %s has a %s %s schema", file, method, path, status, contentType)
	return s
}

func specDoc(t testing.TB, file string) map[string]any {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "testdata", "basiq-spec", "v3", file))
	require.NoError(t, err, "the spec files are in the module's testdata")
	var doc map[string]any
	require.NoError(t, json.Unmarshal(raw, &doc))
	return doc
}

func dig(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// requireMatchesSchema checks that body decodes and that, everywhere the
// schema describes it, every required member is present and every value
// present has the schema's JSON type (null is accepted for any type: Basiq
// marks few fields nullable that it sends as null). oneOf/anyOf pass when
// one branch does; $ref is resolved within the file.
func requireMatchesSchema(t testing.TB, file string, schema map[string]any, body []byte) {
	t.Helper()
	var v any
	require.NoError(t, json.Unmarshal(body, &v), "body: %.500s", body)
	doc := specDoc(t, file)
	if errs := schemaErrors(doc, schema, v, "$"); len(errs) > 0 {
		t.Fatalf("response does not match %s's schema:\n%s\nbody: %.1500s", file, strings.Join(errs, "\n"), body)
	}
}

func schemaErrors(doc, s map[string]any, v any, at string) []string {
	if ref, ok := s["$ref"].(string); ok {
		parts := strings.Split(strings.TrimPrefix(ref, "#/"), "/")
		r, _ := dig(doc, parts...).(map[string]any)
		if r == nil {
			return []string{at + ": unresolved " + ref}
		}
		return schemaErrors(doc, r, v, at)
	}
	for _, key := range []string{"oneOf", "anyOf"} {
		if alts, ok := s[key].([]any); ok && v != nil {
			var all []string
			for _, a := range alts {
				am, _ := a.(map[string]any)
				errs := schemaErrors(doc, am, v, at)
				if len(errs) == 0 {
					return nil
				}
				all = append(all, errs...)
			}
			return append([]string{at + ": matches no branch of " + key}, all...)
		}
	}
	if v == nil {
		return nil
	}
	var errs []string
	switch typ, _ := s["type"].(string); typ {
	case "string":
		if _, ok := v.(string); !ok {
			errs = append(errs, fmt.Sprintf("%s: want string, got %T", at, v))
		}
	case "integer":
		if f, ok := v.(float64); !ok || f != math.Trunc(f) {
			errs = append(errs, fmt.Sprintf("%s: want integer, got %v", at, v))
		}
	case "number":
		if _, ok := v.(float64); !ok {
			errs = append(errs, fmt.Sprintf("%s: want number, got %T", at, v))
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			errs = append(errs, fmt.Sprintf("%s: want boolean, got %T", at, v))
		}
	case "array":
		if _, ok := v.([]any); !ok {
			errs = append(errs, fmt.Sprintf("%s: want array, got %T", at, v))
		}
	}
	switch x := v.(type) {
	case map[string]any:
		if req, ok := s["required"].([]any); ok {
			for _, r := range req {
				if _, ok := x[r.(string)]; !ok {
					errs = append(errs, fmt.Sprintf("%s: required member %q missing", at, r))
				}
			}
		}
		props, _ := s["properties"].(map[string]any)
		for k, pv := range props {
			if val, ok := x[k]; ok {
				ps, _ := pv.(map[string]any)
				errs = append(errs, schemaErrors(doc, ps, val, at+"."+k)...)
			}
		}
	case []any:
		if items, ok := s["items"].(map[string]any); ok {
			for i, item := range x {
				errs = append(errs, schemaErrors(doc, items, item, fmt.Sprintf("%s[%d]", at, i))...)
			}
		}
	}
	return errs
}

// TestSchemaCheckerCatchesMismatches shows the checker fails on a missing
// required member and on a wrong type, so the shape tests can fail.
func TestSchemaCheckerCatchesMismatches(t *testing.T) {
	doc := map[string]any{}
	s := map[string]any{"type": "object", "required": []any{"id"},
		"properties": map[string]any{"id": map[string]any{"type": "string"},
			"n": map[string]any{"type": "integer"}}}
	require.Empty(t, schemaErrors(doc, s, map[string]any{"id": "x", "n": 2.0}, "$"))
	require.NotEmpty(t, schemaErrors(doc, s, map[string]any{"n": 2.0}, "$"))
	require.NotEmpty(t, schemaErrors(doc, s, map[string]any{"id": "x", "n": 2.5}, "$"))
	require.NotEmpty(t, schemaErrors(doc, s, map[string]any{"id": 1.0}, "$"))
}
