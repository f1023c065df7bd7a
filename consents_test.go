package basiq

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestConsentsURL(t *testing.T) {
	a := newCoreAPI(t)
	c := newCoreClient(t, a)
	raw, err := c.Consents.URL(t.Context(), consentUser, &ConsentURLOptions{
		Action: ConsentConnect, InstitutionID: "AU00000", State: "s3ss10n&x=1#frag ü",
	})
	require.NoError(t, err)
	u, err := url.Parse(raw)
	require.NoError(t, err)
	assert.Equal(t, "https", u.Scheme)
	assert.Equal(t, "consent.basiq.io", u.Host)
	assert.Equal(t, "/home", u.Path)
	assert.Empty(t, u.Fragment, "a '#' in the state is escaped, not a fragment")
	q := u.Query()
	assert.Equal(t, url.Values{
		"token":         {"client-token-" + consentUser + "-1"},
		"action":        {"connect"},
		"institutionId": {"AU00000"},
		"state":         {"s3ss10n&x=1#frag ü"},
	}, q)

	// The token is a CLIENT_ACCESS token bound to the user, on 3.0.
	toks := a.tokenRequests()
	require.Len(t, toks, 1)
	form, err := url.ParseQuery(string(toks[0].Body))
	require.NoError(t, err)
	assert.Equal(t, url.Values{"scope": {"CLIENT_ACCESS"}, "userId": {consentUser}}, form)
	assert.Equal(t, "3.0", toks[0].Header.Get("basiq-version"))

	t.Run("defaults send no action", func(t *testing.T) {
		raw, err := c.Consents.URL(t.Context(), consentUser, nil)
		require.NoError(t, err)
		u, _ := url.Parse(raw)
		assert.Equal(t, []string{"token"}, keys(u.Query()))
	})
	t.Run("connectionId for an existing connection", func(t *testing.T) {
		raw, err := c.Consents.URL(t.Context(), consentUser, &ConsentURLOptions{ConnectionID: "conn-1", Action: ConsentReauthorise})
		require.NoError(t, err)
		u, _ := url.Parse(raw)
		assert.Equal(t, "conn-1", u.Query().Get("connectionId"))
		assert.Equal(t, "reauthorise", u.Query().Get("action"))
	})
	assert.Len(t, a.tokenRequests(), 1, "one token for every link of the user within its life")
}

func keys(v url.Values) []string {
	var out []string
	for k := range v {
		out = append(out, k)
	}
	return out
}

func TestConsentsURLRejectsBadInput(t *testing.T) {
	a := newCoreAPI(t)
	c := newCoreClient(t, a)
	for name, o := range map[string]*ConsentURLOptions{
		"unknown action":      {Action: "delete-everything"},
		"literal null action": {Action: "null"},
		"state over 1 KiB":    {State: strings.Repeat("s", 1025)},
		"state not UTF-8":     {State: "bad\xff"},
		"institution id ..":   {InstitutionID: ".."},
		"connection id ctrl":  {ConnectionID: "c\n1"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := c.Consents.URL(t.Context(), consentUser, o)
			assert.ErrorIs(t, err, ErrInvalidInput)
		})
	}
	_, err := c.Consents.URL(t.Context(), "", nil)
	assert.ErrorIs(t, err, ErrInvalidInput)
	//lint:ignore SA1012 checking the nil-context guard
	_, err = c.Consents.URL(nil, consentUser, nil) //nolint:staticcheck
	assert.ErrorIs(t, err, ErrInvalidInput)
	v21 := newCoreClient(t, a, WithAPIVersion(V2_1))
	_, err = v21.Consents.URL(t.Context(), consentUser, nil)
	assert.ErrorIs(t, err, ErrUnsupportedVersion)
	assert.Empty(t, a.all(), "nothing sent")
}

func TestConsentsURLFiftyCallsOneToken(t *testing.T) {
	a := newCoreAPI(t)
	c := newCoreClient(t, a)
	var wg sync.WaitGroup
	urls := make([]string, 50)
	for i := range urls {
		wg.Go(func() {
			u, err := c.Consents.URL(t.Context(), consentUser, &ConsentURLOptions{State: "s"})
			assert.NoError(t, err)
			urls[i] = u
		})
	}
	wg.Wait()
	assert.Len(t, a.tokenRequests(), 1)
	for _, u := range urls {
		assert.Equal(t, urls[0], u)
	}
}

func TestConsentsURLTokenHasTimeLeft(t *testing.T) {
	a := newCoreAPI(t)
	clock := &fakeClock{now: time.Now()}
	c := newCoreClient(t, a)
	c.tokens.now = clock.Now
	first, err := c.Consents.URL(t.Context(), consentUser, nil)
	require.NoError(t, err)
	clock.Advance(35 * time.Minute) // 25 minutes left: enough
	again, err := c.Consents.URL(t.Context(), consentUser, nil)
	require.NoError(t, err)
	assert.Equal(t, first, again)
	clock.Advance(10 * time.Minute) // 15 minutes left: too little for a Consent UI session
	fresh, err := c.Consents.URL(t.Context(), consentUser, nil)
	require.NoError(t, err)
	assert.NotEqual(t, first, fresh)
	assert.Len(t, a.tokenRequests(), 2)

	t.Run("short-lived tokens are not minted on every call", func(t *testing.T) {
		a := newCoreAPI(t)
		a.tokenTTL.Store(600) // a 10-minute token
		c := newCoreClient(t, a)
		for range 5 {
			_, err := c.Consents.URL(t.Context(), consentUser, nil)
			require.NoError(t, err)
		}
		assert.Len(t, a.tokenRequests(), 1)
	})
}

func TestConsentURLNeverLogged(t *testing.T) {
	var logs bytes.Buffer
	a := newCoreAPI(t)
	c := newCoreClient(t, a, WithLogger(slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	raw, err := c.Consents.URL(t.Context(), consentUser, &ConsentURLOptions{State: "st"})
	require.NoError(t, err)
	tok, _ := url.Parse(raw)
	secret := tok.Query().Get("token")
	require.NotEmpty(t, secret)
	assert.NotContains(t, logs.String(), secret)
	redactedURL := RedactURL(raw)
	assert.NotContains(t, redactedURL, secret)
	assert.Contains(t, redactedURL, "token=[REDACTED]")
	assert.Contains(t, redactedURL, "state=st")
	assert.Equal(t, "[REDACTED]", RedactURL("::not a url"))
	assert.Equal(t, "https://x/cb?jobIds=a%2Cb&state=s#[REDACTED]", RedactURL("https://x/cb?jobIds=a%2Cb&state=s#access_token=abc"))
}

func TestWithConsentBaseURL(t *testing.T) {
	a := newCoreAPI(t)
	c := newCoreClient(t, a, WithConsentBaseURL("http://127.0.0.1:9/consent/home"))
	raw, err := c.Consents.URL(t.Context(), consentUser, nil)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(raw, "http://127.0.0.1:9/consent/home?token="), raw)
	for _, bad := range []string{"http://consent.example/home", "https://consent.basiq.io/home?x=1", "https://u:p@consent.basiq.io/home", "ftp://x"} {
		_, err := NewClient("key", WithConsentBaseURL(bad))
		assert.ErrorIs(t, err, ErrInvalidInput, bad)
		if err != nil {
			assert.NotContains(t, err.Error(), "u:p", "credentials are not echoed")
		}
	}
}

func TestParseConsentRedirect(t *testing.T) {
	const (
		j1 = "5c50a2d1-0c5b-4b1e-9d4a-8b3b8f0f6a11"
		j2 = "8e0f1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b"
	)
	ok := []struct {
		name, query string
		want        ConsentRedirect
	}{
		{"jobIds list", "jobIds=" + j1 + "," + j2 + "&state=abc", ConsentRedirect{[]string{j1, j2}, "abc"}},
		{"jobId and jobIds (the guide shows both)", "jobId=" + j1 + "&jobIds=" + j1, ConsentRedirect{[]string{j1}, ""}},
		{"duplicates dropped, order kept", "jobIds=" + j2 + "," + j1 + "," + j2, ConsentRedirect{[]string{j2, j1}, ""}},
		{"spaces and empty items", "jobIds=%20" + j1 + "%20,,", ConsentRedirect{[]string{j1}, ""}},
		{"no jobs: the user left", "state=abc", ConsentRedirect{nil, "abc"}},
		{"state round trip", "jobIds=" + j1 + "&state=" + url.QueryEscape("a&b=c#d ü "), ConsentRedirect{[]string{j1}, "a&b=c#d ü "}},
		{"other parameters ignored", "jobIds=" + j1 + "&userId=u&redirectUrl=x", ConsentRedirect{[]string{j1}, ""}},
	}
	for _, tc := range ok {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseConsentRedirect(&url.URL{Scheme: "https", Host: "app.example", Path: "/cb", RawQuery: tc.query})
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
	many := make([]string, 51)
	for i := range many {
		many[i] = strings.Repeat("a", 10) + string(rune('a'+i%26)) + strings.Repeat("b", i)
	}
	bad := map[string]string{
		"path in a job id":     "jobIds=../users/x",
		"slash":                "jobIds=" + j1 + ",a/b",
		"space inside":         "jobId=a%20b",
		"markup":               "jobIds=%3Cscript%3E",
		"over 64 bytes":        "jobIds=" + strings.Repeat("a", 65),
		"51 jobs":              "jobIds=" + strings.Join(many, ","),
		"two states":           "jobIds=" + j1 + "&state=a&state=b",
		"bad query escaping":   "jobIds=%zz",
		"unicode in a job id":  "jobIds=j%C3%BCb",
		"control char":         "jobIds=a%00b",
		"query-injected state": "jobIds=" + j1 + "&state=a;state=b",
	}
	for name, q := range bad {
		t.Run(name, func(t *testing.T) {
			_, err := ParseConsentRedirect(&url.URL{RawQuery: q})
			assert.ErrorIs(t, err, ErrInvalidInput)
		})
	}
	_, err := ParseConsentRedirect(nil)
	assert.ErrorIs(t, err, ErrInvalidInput)

	r := ConsentRedirect{State: "abc"}
	assert.True(t, r.StateMatches("abc"))
	assert.False(t, r.StateMatches("abd"))
	assert.False(t, ConsentRedirect{}.StateMatches(""), "an empty expected state never matches")
}

func TestConsentsListAndRevoke(t *testing.T) {
	a := newCoreAPI(t)
	c := newCoreClient(t, a, WithRetryPolicy(fastRetries))
	a.handle("GET", "/users/"+consentUser+"/consents", 200, specExampleBody(t, "core.json", "GET /users/{userId}/consents 200", "example"))
	consents, err := c.Consents.List(t.Context(), consentUser)
	require.NoError(t, err)
	require.Len(t, consents, 2)
	assert.Equal(t, ConsentRevoked, consents[1].Status)
	assert.Equal(t, time.Date(2024, 9, 24, 12, 19, 35, 0, time.UTC), consents[1].Revoked)
	assert.True(t, consents[0].Revoked.IsZero())
	cs := consents[0]
	assert.Equal(t, "69d00245-1048-471a-902b-6cdc5d3d07a7", cs.ID)
	assert.Equal(t, ConsentActive, cs.Status)
	assert.Equal(t, time.Date(2025, 9, 26, 12, 12, 1, 0, time.UTC), cs.ExpiryDate)
	assert.True(t, cs.Data.RetainData)
	assert.Equal(t, 730, cs.Data.InitialRetrievalDays)
	require.Len(t, cs.Data.Permissions, 4)
	assert.Equal(t, "account.basic", cs.Data.Permissions[0].Scope)
	assert.True(t, cs.Data.Permissions[0].Required)
	assert.Equal(t, []string{"Name of account", "Type of account", "Account balance"}, cs.Data.Permissions[0].Information.AttributeList)
	assert.Equal(t, "Share your financial data", cs.Purpose.Primary.Title)

	// Revoke: a DELETE; a retry that finds it gone succeeds.
	var deletes int
	a.handleFunc("DELETE", "/users/"+consentUser+"/consents/cons-1", func(*http.Request) (*http.Response, error) {
		deletes++
		if deletes == 1 {
			return coreJSON(503, coreEnvelope("service-unavailable", "Unavailable", "try later")), nil
		}
		return coreJSON(404, coreEnvelope("resource-not-found", "Not found", "Consent not found")), nil
	})
	require.NoError(t, c.Consents.Revoke(t.Context(), consentUser, "cons-1"))
	assert.Equal(t, 2, deletes)

	v21 := newCoreClient(t, a, WithAPIVersion(V2_1))
	_, err = v21.Consents.List(t.Context(), consentUser)
	assert.ErrorIs(t, err, ErrUnsupportedVersion)
	assert.ErrorIs(t, v21.Consents.Revoke(t.Context(), consentUser, "c"), ErrUnsupportedVersion)
}

func TestConnectionsPurge(t *testing.T) {
	a := newCoreAPI(t)
	c := newCoreClient(t, a)
	a.handle("POST", "/users/"+consentUser+"/connections/conn-1/purge", 204, "")
	require.NoError(t, c.Connections.Purge(t.Context(), consentUser, "conn-1"))
	reqs := a.apiRequests()
	require.Len(t, reqs, 1)
	assert.Empty(t, reqs[0].Body, "no body")
	assert.ErrorIs(t, c.Connections.Purge(t.Context(), consentUser, ".."), ErrInvalidInput)
	v21 := newCoreClient(t, a, WithAPIVersion(V2_1))
	assert.ErrorIs(t, v21.Connections.Purge(t.Context(), consentUser, "conn-1"), ErrUnsupportedVersion)
	assert.Len(t, a.apiRequests(), 1)
}

func TestRefreshIfStaleCDRLimit(t *testing.T) {
	now := time.Now().UTC()
	conn := func(method string) string {
		return `{"type":"connection","id":"conn-1","status":"active","method":"` + method + `","lastUsed":"` +
			now.Add(-48*time.Hour).Format(time.RFC3339) + `","institution":{"type":"institution","id":"AU10001"}}`
	}
	jobs := func(n int) string {
		var items []string
		for i := range n {
			at := now.Add(-time.Duration(i+1) * time.Hour).Format(time.RFC3339)
			items = append(items, `{"type":"job","id":"job-`+string(rune('a'+i))+`","created":"`+at+`","updated":"`+at+`",`+
				`"steps":[{"title":"verify-credentials","status":"failed","result":{"code":"service-unavailable"}}],`+
				`"links":{"source":"https://au-api.basiq.io/users/`+consentUser+`/connections/conn-1"}}`)
		}
		return `{"type":"list","data":[` + strings.Join(items, ",") + `]}`
	}
	for _, tc := range []struct {
		method  string
		jobs    int
		refresh bool
	}{
		{"open-banking", 20, false}, {"openbanking", 23, false}, {"open-banking", 19, true}, {"web", 23, true},
	} {
		t.Run(tc.method+"/"+string(rune('0'+tc.jobs/10))+string(rune('0'+tc.jobs%10)), func(t *testing.T) {
			a := newCoreAPI(t)
			c := newCoreClient(t, a)
			a.handle("GET", "/users/"+consentUser+"/connections/conn-1", 200, conn(tc.method))
			a.handle("GET", "/users/"+consentUser+"/jobs", 200, jobs(tc.jobs))
			a.handle("POST", "/users/"+consentUser+"/connections/conn-1/refresh", 202, `{"type":"job","id":"new-job"}`)
			job, err := c.Connections.RefreshIfStale(t.Context(), consentUser, "conn-1", time.Hour)
			posts := 0
			for _, r := range a.apiRequests() {
				if r.Method == http.MethodPost {
					posts++
				}
			}
			if tc.refresh {
				require.NoError(t, err)
				assert.Equal(t, "new-job", job.ID)
				assert.Equal(t, 1, posts)
				return
			}
			assert.ErrorIs(t, err, ErrRateLimited)
			var limit *RefreshLimitError
			require.True(t, errors.As(err, &limit))
			assert.Equal(t, 20, limit.Limit)
			assert.Equal(t, min(tc.jobs, 24), limit.Used)
			// The 20th newest job leaves the window first: then one refresh is possible.
			assert.WithinDuration(t, now.Add(-20*time.Hour).Add(24*time.Hour), limit.RetryAt, time.Second)
			assert.Zero(t, posts, "the 21st refresh is never sent")
		})
	}
}

func TestDiagnoseOnV3GoesThroughTheConsentUI(t *testing.T) {
	failed := func(code, detail string) *Job {
		return &Job{ID: "job-1", Steps: []Step{{Title: StepVerifyCredentials, Status: StepFailed, Result: &StepResult{Code: code, Detail: detail}}},
			Links: JobLinks{Source: "https://au-api.basiq.io/users/u-1/connections/conn-1"}}
	}
	unnamed := func(j *Job) *Job { j.Links.Source = ""; return j }
	tests := []struct {
		name    string
		job     *Job
		op      Operation
		action  Action
		consent *ConsentURLOptions
	}{
		{"wrong password on create: fixed on its connection", failed("invalid-credentials", ""), OpCreate, ActionCheckCredentials, &ConsentURLOptions{ConnectionID: "conn-1"}},
		{"wrong password on a create that names no connection", unnamed(failed("invalid-credentials", "")), OpCreate, ActionCheckCredentials, &ConsentURLOptions{Action: ConsentConnect, InstitutionID: "AU00000"}},
		{"password changed on refresh", failed("invalid-credentials", ""), OpRefresh, ActionUpdateCredentials, &ConsentURLOptions{ConnectionID: "conn-1"}},
		{"MFA unsupported", failed("invalid-credentials", "MFA is not supported"), OpRefresh, ActionDisableMFA, &ConsentURLOptions{ConnectionID: "conn-1"}},
		{"bank refused access", failed("authorization-failed", "access_denied"), OpRefresh, ActionReconnect, &ConsentURLOptions{ConnectionID: "conn-1"}},
		{"bank refused access on create", failed("authorization-failed", "access_denied"), OpCreate, ActionReconnect, &ConsentURLOptions{ConnectionID: "conn-1"}},
		{"generic failure on create", failed("", ""), OpCreate, ActionRetry, &ConsentURLOptions{ConnectionID: "conn-1"}},
		{"generic failure on a create that names no connection", unnamed(failed("", "")), OpCreate, ActionRetry, &ConsentURLOptions{Action: ConsentConnect, InstitutionID: "AU00000"}},
		{"popup at the bank: a refresh fixes it", failed("account-not-accessible-requires-user-action", ""), OpRefresh, ActionResolveAtBank, nil},
		{"outage: no user needed", failed("service-unavailable", ""), OpRefresh, ActionRetryLater, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := Diagnose(tc.job, DiagnoseOptions{Operation: tc.op, InstitutionID: "AU00000"})
			assert.Equal(t, tc.action, d.Action)
			assert.Equal(t, tc.consent, d.Consent)
			assert.NotContains(t, d.UserMessage, "enter your current login details", "not here: in the Consent UI")
			old := Diagnose(tc.job, DiagnoseOptions{Operation: tc.op, InstitutionID: "AU00000", APIVersion: V2_1})
			assert.Equal(t, tc.action, old.Action, "the action is the same on 2.1")
			assert.Nil(t, old.Consent, "2.1 has no Consent UI")
		})
	}
	d := Diagnose(failed("invalid-credentials", ""), DiagnoseOptions{Operation: OpRefresh})
	assert.Contains(t, d.UserMessage, "reconnect your bank")
}

func TestJobsWaitAllBadInput(t *testing.T) {
	a := newCoreAPI(t)
	c := newCoreClient(t, a)
	_, err := c.Jobs.WaitAll(t.Context(), nil, nil)
	assert.ErrorIs(t, err, ErrInvalidInput)
	_, err = c.Jobs.WaitAll(t.Context(), []string{"job-1", ".."}, nil)
	assert.ErrorIs(t, err, ErrInvalidInput)
	//lint:ignore SA1012 checking the nil-context guard
	_, err = c.Jobs.WaitAll(nil, []string{"job-1"}, nil) //nolint:staticcheck
	assert.ErrorIs(t, err, ErrInvalidInput)
	assert.Empty(t, a.all(), "nothing polled")

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err = c.Jobs.WaitAll(ctx, []string{"job-1", "job-2"}, nil)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Empty(t, a.all(), "nothing polled for a context already done")
}

func TestDiagnoseRejectedMFAAnswer(t *testing.T) {
	job := &Job{ID: "j", Steps: []Step{
		{Title: StepVerifyCredentials, Status: StepSuccess},
		{Title: StepMFAChallenge, Status: StepFailed, Result: &StepResult{Code: "invalid-credentials", Detail: "The MFA response was not correct."}},
	}, Links: JobLinks{Source: "https://au-api.basiq.io/users/u/connections/c"}}
	for _, op := range []Operation{OpCreate, OpRefresh, OpUnknown} {
		d := Diagnose(job, DiagnoseOptions{Operation: op, InstitutionID: "AU00002"})
		assert.Equal(t, ActionCheckCredentials, d.Action, "%s: the answer failed, not the password", op)
		assert.Contains(t, d.UserMessage, "security check")
		// A refresh nobody was there to answer is fixed in the Consent UI on
		// the connection, with the user there: a refresh again would fail
		// again the same way.
		assert.Equal(t, &ConsentURLOptions{ConnectionID: "c"}, d.Consent, "%s: fixed on the connection", op)
		assert.Contains(t, d.UserMessage, "reconnect your bank")
		old := Diagnose(job, DiagnoseOptions{Operation: op, APIVersion: V2_1})
		assert.Nil(t, old.Consent, "%s on 2.1: answered with Jobs.SubmitMFA during a refresh the user starts", op)
	}
}

// On a bank that asks for MFA at every login, a remedy that needs a new job
// is the Consent UI on the connection (where the user answers the bank),
// never a background refresh that would expire and make the connection
// invalid.
func TestMFABanksRetryThroughTheConsentUIOnTheConnection(t *testing.T) {
	failed := func(step StepName, code string) *Job {
		return &Job{ID: "job-1", Steps: []Step{{Title: step, Status: StepFailed, Result: &StepResult{Code: code}}},
			Links: JobLinks{Source: "https://au-api.basiq.io/users/u-1/connections/conn-1"}}
	}
	for _, tc := range []struct {
		job    *Job
		action Action
	}{
		{failed(StepRetrieveTransactions, "service-unavailable"), ActionRetryLater},
		{failed(StepRetrieveAccounts, "account-not-accessible-requires-user-action"), ActionResolveAtBank},
	} {
		for _, op := range []Operation{OpCreate, OpRefresh} {
			plain := Diagnose(tc.job, DiagnoseOptions{Operation: op, InstitutionStatus: StatusOperational})
			assert.Equal(t, tc.action, plain.Action)
			assert.Nil(t, plain.Consent, "%s %s without MFA: the app refreshes", tc.action, op)
			d := Diagnose(tc.job, DiagnoseOptions{Operation: op, InstitutionStatus: StatusOperational, MFA: true})
			assert.Equal(t, tc.action, d.Action)
			assert.Equal(t, &ConsentURLOptions{ConnectionID: "conn-1"}, d.Consent, "%s %s with MFA", tc.action, op)
			assert.Contains(t, d.UserMessage, "reconnect your bank")
			assert.Equal(t, plain.ProblemID, d.ProblemID)
			old := Diagnose(tc.job, DiagnoseOptions{Operation: op, InstitutionStatus: StatusOperational, MFA: true, APIVersion: V2_1})
			assert.Nil(t, old.Consent, "2.1 has no Consent UI")
		}
	}
}
