package basiqtest_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/banklink-go/basiq/basiqtest"
)

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
