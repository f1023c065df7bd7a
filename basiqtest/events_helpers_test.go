package basiqtest_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/banklink-go/basiq/basiqtest"
)

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

// jsonOf decodes a response body into a generic value.
func jsonOf(t testing.TB, b []byte) any {
	t.Helper()
	var v any
	require.NoError(t, json.Unmarshal(b, &v), "body: %s", b)
	return v
}
