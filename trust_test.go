package basiq

// Regression tests for the defects users tripped on (redirects, MFA after
// verify-credentials, token cache outages, lost fields...). Each test is
// named after the defect it pins down and fails without its fix.

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// --- Security: redirects ---

// redirectTarget counts what reaches a host the API redirected to.
type redirectTarget struct {
	srv    *httptest.Server
	hits   atomic.Int64
	mu     sync.Mutex
	bodies []string
	auths  []string
}

func newRedirectTarget(t *testing.T) *redirectTarget {
	rt := &redirectTarget{}
	rt.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rt.hits.Add(1)
		rt.mu.Lock()
		rt.bodies = append(rt.bodies, string(b))
		rt.auths = append(rt.auths, r.Header.Get("Authorization"))
		rt.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusAccepted)
		_, _ = io.WriteString(w, `{"type":"job","id":"stolen-job"}`)
	}))
	t.Cleanup(rt.srv.Close)
	return rt
}

// tokenAndRedirect serves POST /token, and answers everything else with a
// redirect to location.
func tokenAndRedirect(status int, location string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/token" {
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"access_token":"bearer-secret","expires_in":3600,"token_type":"Bearer"}`)
			return
		}
		w.Header().Set("Location", location+r.URL.Path)
		w.WriteHeader(status)
	}
}

func TestRedirectToAnotherHostDoesNotResendThePassword(t *testing.T) {
	for _, status := range []int{http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			target := newRedirectTarget(t)
			api := httptest.NewServer(tokenAndRedirect(status, target.srv.URL))
			defer api.Close()
			c, err := NewClient("a2V5OnNlY3JldA==", WithBaseURL(api.URL), WithAPIVersion(V2_1))
			require.NoError(t, err)

			job, err := c.Connections.Create(t.Context(), "user-1", Credentials{InstitutionID: "AU00000", LoginID: "gavin", Password: "hunter2-bank-password"})
			assert.Nil(t, job, "a redirect is not a created connection")
			var apiErr *APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, status, apiErr.StatusCode)
			assert.Zero(t, target.hits.Load(), "nothing reaches the redirect target: not the password, not the token")
		})
	}
}

func TestRedirectToPlainHTTPDoesNotCarryTheToken(t *testing.T) {
	target := newRedirectTarget(t)
	u, err := url.Parse(target.srv.URL)
	require.NoError(t, err)
	// The same host name as the https API, over plain http on another port.
	api := httptest.NewTLSServer(tokenAndRedirect(http.StatusFound, "http://127.0.0.1:"+u.Port()))
	defer api.Close()
	callers := api.Client() // the caller's own client (it trusts the test certificate)
	require.Nil(t, callers.CheckRedirect)
	c, err := NewClient("a2V5OnNlY3JldA==", WithBaseURL(api.URL), WithHTTPClient(callers))
	require.NoError(t, err)

	_, err = c.Jobs.Get(t.Context(), "job-1")
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusFound, apiErr.StatusCode)
	assert.Zero(t, target.hits.Load(), "the bearer token never goes over plain http")
	assert.Nil(t, callers.CheckRedirect, "the caller's client keeps its own redirect policy")
	assert.NotContains(t, err.Error(), "bearer-secret")
}

// --- The poller's core flow ---

// mfaAfterVerify is a job whose bank challenges right after
// verify-credentials, as every MFA bank does.
func mfaAfterVerify() []fakeStep {
	steps := hooliSteps()
	return append(steps[:1], append([]fakeStep{{name: StepMFAChallenge, dur: time.Second, mfa: true}}, steps[1:]...)...)
}

func TestReadmePatternDoesNotReleaseAUserTheBankIsChallenging(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newJobFake(mfaAfterVerify())
		c := f.client()
		p := c.Jobs.Poller(fakeJobID, &PollOptions{Operation: OpCreate, InstitutionID: fakeInstID})
		job, err := p.WaitForStep(t.Context(), StepVerifyCredentials)
		require.Error(t, err, "the user must not be released while the bank asks for MFA answers")
		require.NotNil(t, job)
		mfa, ok := job.Step(StepMFAChallenge)
		require.True(t, ok)
		_, prompting := mfa.MFAPrompt()
		assert.True(t, prompting)
	})
}

func TestStepsAfterWaitForStepYieldsTheUnansweredPrompt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newJobFake(mfaAfterVerify())
		c := f.client()
		p := c.Jobs.Poller(fakeJobID, &PollOptions{Operation: OpCreate, InstitutionID: fakeInstID})
		_, _ = p.WaitForStep(t.Context(), StepVerifyCredentials)
		for ev, err := range p.Steps(t.Context()) {
			require.NoError(t, err)
			_, prompting := ev.Step.MFAPrompt()
			require.True(t, prompting, "the first event of a new range is the prompt still waiting for answers, got %s %s", ev.Step.Title, ev.Step.Status)
			require.NotNil(t, ev.Diagnosis)
			assert.Equal(t, ActionAnswerMFA, ev.Diagnosis.Action)
			break
		}
	})
}

func TestStepsOnAJobThatAlreadyFailedDoesNotEndSilently(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		steps := hooliSteps()
		steps[1].fail = "account-not-accessible-requires-user-action"
		f := newJobFake(steps)
		c := f.client()
		p := c.Jobs.Poller(fakeJobID, &PollOptions{Operation: OpCreate, InstitutionID: fakeInstID})
		_, err := p.WaitForStep(t.Context(), StepRetrieveTransactions)
		var failed *JobFailedError
		require.ErrorAs(t, err, &failed)

		var events []StepEvent
		for ev, err := range p.Steps(t.Context()) {
			require.NoError(t, err)
			events = append(events, ev)
		}
		require.Len(t, events, 1, "a range never ends silently on a failed job")
		assert.Equal(t, StepRetrieveAccounts, events[0].Step.Title)
		assert.Equal(t, StepFailed, events[0].Step.Status)
		require.NotNil(t, events[0].Diagnosis)
		assert.Equal(t, ActionResolveAtBank, events[0].Diagnosis.Action)
	})
}

// --- Tokens and caches ---

// hangingTokenCache blocks every call until its context ends, like a Redis
// behind a network partition.
type hangingTokenCache struct{ gets, sets atomic.Int64 }

func (h *hangingTokenCache) Get(ctx context.Context, _ string) (Token, bool, error) {
	h.gets.Add(1)
	<-ctx.Done()
	return Token{}, false, ctx.Err()
}

func (h *hangingTokenCache) Set(ctx context.Context, _ string, _ Token) error {
	h.sets.Add(1)
	<-ctx.Done()
	return ctx.Err()
}

func TestTokenCacheThatHangsDoesNotStopCalls(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newJobFake(hooliSteps())
		cache := &hangingTokenCache{}
		c, err := NewClient("a2V5OnNlY3JldA==", WithHTTPClient(&http.Client{Transport: f}), WithTokenCache(cache))
		require.NoError(t, err)
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()
		start := time.Now()
		_, err = c.Jobs.Get(ctx, fakeJobID)
		require.NoError(t, err, "a hanging cache costs a moment, not the call")
		assert.LessOrEqual(t, time.Since(start), 2*time.Second)
		assert.Equal(t, 1, f.tokens, "the SDK minted its own token")
		assert.Equal(t, int64(1), cache.gets.Load())
		time.Sleep(time.Second) // virtual: the background Set gives up on its own deadline
		synctest.Wait()
		assert.Equal(t, int64(1), cache.sets.Load())
	})
}

func TestConcurrentFirstInstitutionLookupsMakeOneGET(t *testing.T) {
	const rounds, callers = 30, 64
	for round := range rounds {
		var gets atomic.Int64
		mt := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			if r.URL.Path == "/token" {
				_, _ = io.WriteString(w, `{"access_token":"t","expires_in":3600,"token_type":"Bearer"}`)
				return
			}
			gets.Add(1)
			_, _ = io.WriteString(w, `{"type":"institution","id":"AU00000","status":"operational"}`)
		})
		// Over loopback: a real round trip leaves callers time to miss the
		// cache just before the first look-up fills it.
		srv := httptest.NewServer(mt)
		defer srv.Close()
		c, err := NewClient("a2V5OnNlY3JldA==", WithBaseURL(srv.URL))
		require.NoError(t, err)
		_, err = c.Token(t.Context()) // the token is not what is measured
		require.NoError(t, err)
		var start, wg sync.WaitGroup
		start.Add(1)
		for range callers {
			wg.Go(func() {
				start.Wait()
				_, err := c.Institutions.Availability(t.Context(), "AU00000")
				assert.NoError(t, err)
			})
		}
		start.Done()
		wg.Wait()
		require.Equal(t, int64(1), gets.Load(), "round %d: %d concurrent first look-ups of one institution", round, callers)
	}
}

func TestZeroMemoryTokenCacheWorks(t *testing.T) {
	var m MemoryTokenCache
	tok := Token{AccessToken: "a", ExpiresAt: time.Now().Add(time.Hour)}
	require.NoError(t, m.Set(t.Context(), "k", tok))
	got, ok, err := m.Get(t.Context(), "k")
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, "a", got.AccessToken)
	assert.Equal(t, 1, m.Len())

	var nilCache *MemoryTokenCache
	assert.ErrorIs(t, nilCache.Set(t.Context(), "k", tok), ErrInvalidInput)
	_, _, err = nilCache.Get(t.Context(), "k")
	assert.ErrorIs(t, err, ErrInvalidInput)
}

func TestZeroValuesDoNotPanic(t *testing.T) {
	ctx := t.Context()
	var zero Client
	var nilClient *Client
	for name, c := range map[string]*Client{"zero Client": &zero, "nil *Client": nilClient} {
		t.Run(name, func(t *testing.T) {
			_, err := c.Token(ctx)
			assert.ErrorIs(t, err, ErrInvalidInput)
			_, err = c.ClientToken(ctx, "user-1")
			assert.ErrorIs(t, err, ErrInvalidInput)
			assert.NotPanics(t, func() { _ = c.String(); _ = fmt.Sprintf("%v %+v %#v", c, c, c) })
		})
	}
	checks := map[string]func() error{
		"zero Client's nil Users":        func() error { _, err := zero.Users.Get(ctx, "u"); return err },
		"zero Client's nil Jobs.Get":     func() error { _, err := zero.Jobs.Get(ctx, "j"); return err },
		"zero Client's nil Jobs.Wait":    func() error { _, err := zero.Jobs.Wait(ctx, "j", nil); return err },
		"zero Client's nil Connections":  func() error { _, err := zero.Connections.Create(ctx, "u", Credentials{}); return err },
		"zero Client's nil Institutions": func() error { _, err := zero.Institutions.Availability(ctx, "AU00000"); return err },
		"zero Client's nil Connectors":   func() error { _, err := zero.Connectors.List(ctx, nil); return err },
		"zero JobsService Get":           func() error { _, err := (&JobsService{}).Get(ctx, "j"); return err },
		"zero JobsService Wait":          func() error { _, err := (&JobsService{}).Wait(ctx, "j", nil); return err },
		"zero JobsService Poller Wait":   func() error { _, err := (&JobsService{}).Poller("j", nil).Wait(ctx); return err },
		"nil JobsService Poller Steps":   func() error { return firstErr((*JobsService)(nil).Poller("j", nil).Steps(ctx)) },
		"zero Poller Wait":               func() error { _, err := (&Poller{}).Wait(ctx); return err },
		"zero Poller WaitForStep":        func() error { _, err := (&Poller{}).WaitForStep(ctx, StepVerifyCredentials); return err },
		"zero Poller Poll":               func() error { _, err := (&Poller{}).Poll(ctx); return err },
		"zero Poller ResumeToken":        func() error { _, err := (&Poller{}).ResumeToken(); return err },
		"nil Poller Wait":                func() error { _, err := (*Poller)(nil).Wait(ctx); return err },
		"zero ConnectionsService Health": func() error { _, err := (&ConnectionsService{}).Health(ctx, "u"); return err },
		"zero InstitutionsService List":  func() error { _, err := (&InstitutionsService{}).List(ctx, nil); return err },
		"zero UsersService Delete":       func() error { return (&UsersService{}).Delete(ctx, "u") },
		"zero ConnectionsService Update": func() error { _, err := (&ConnectionsService{}).Update(ctx, "u", "c", CredentialsUpdate{}); return err },
		"zero ConnectionsService Stale":  func() error { _, err := (&ConnectionsService{}).RefreshIfStale(ctx, "u", "c", time.Hour); return err },
		"zero JobsService ResumePoller": func() error {
			p, _ := (&JobsService{}).ResumePoller("bqpoll1.x.y", nil)
			_, err := p.Wait(ctx)
			return err
		},
		"zero JobsService SubmitMFA":       func() error { _, err := (&JobsService{}).SubmitMFA(ctx, "u", "j", []string{"1"}); return err },
		"zero ConnectorsService Get":       func() error { _, err := (&ConnectorsService{}).Get(ctx, "AU00000", "web"); return err },
		"zero InstitutionsService Get":     func() error { _, err := (&InstitutionsService{}).Get(ctx, "AU00000"); return err },
		"zero ConnectionsService RefreshA": func() error { _, err := (&ConnectionsService{}).RefreshAll(ctx, "u"); return err },
	}
	for name, call := range checks {
		t.Run(name, func(t *testing.T) {
			var err error
			require.NotPanics(t, func() { err = call() })
			assert.ErrorIs(t, err, ErrInvalidInput)
		})
	}
	var p *Poller
	assert.NotPanics(t, func() { _, _, _ = p.JobID(), p.Job(), p.Done() })
}

func firstErr(seq func(func(StepEvent, error) bool)) error {
	var out error
	for _, err := range seq {
		out = err
		break
	}
	return out
}

func TestReplacedServiceFieldsDoNotCrashTheWaitLoop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		steps := hooliSteps()
		steps[2].fail = "service-unavailable"
		f := newJobFake(steps)
		c := f.client()
		// A user stubbing the client's services, as they may.
		jobs := c.Jobs
		c.Institutions, c.Connections, c.Jobs = nil, nil, &JobsService{}
		_, err := jobs.Wait(t.Context(), fakeJobID, &PollOptions{Operation: OpRefresh})
		var failed *JobFailedError
		require.ErrorAs(t, err, &failed)
		assert.Equal(t, ActionRetryLater, failed.Diagnosis.Action)
		assert.Equal(t, StatusOperational, failed.Diagnosis.InstitutionStatus, "the status was still looked up")
	})
}

func TestTokenExpiresInAsFloatOrStringIsAccepted(t *testing.T) {
	for _, expiresIn := range []string{`3600.0`, `"3600"`, `3600`} {
		t.Run(expiresIn, func(t *testing.T) {
			a := newCoreAPI(t)
			a.onToken(func(*http.Request) (*http.Response, error) {
				return coreJSON(200, `{"access_token":"tok-1","expires_in":`+expiresIn+`,"token_type":"Bearer"}`), nil
			})
			c := newCoreClient(t, a)
			start := time.Now()
			tok, err := c.Token(t.Context())
			require.NoError(t, err)
			assert.Equal(t, "tok-1", tok.AccessToken)
			assert.WithinDuration(t, start.Add(time.Hour), tok.ExpiresAt, time.Minute)
		})
	}
	t.Run("a malformed answer names the real problem", func(t *testing.T) {
		a := newCoreAPI(t)
		a.onToken(func(*http.Request) (*http.Response, error) {
			return coreJSON(200, `{"access_token":["tok-secret"],"expires_in":3600}`), nil
		})
		c := newCoreClient(t, a)
		_, err := c.Token(t.Context())
		require.Error(t, err)
		assert.NotContains(t, err.Error(), "has no access_token")
		assert.Contains(t, err.Error(), "cannot unmarshal", "the decoder's own error")
		assert.NotContains(t, err.Error(), "tok-secret")
	})
}

// --- Waits and resumes ---

func TestResumeTokenKeepsFollowBasiqRetries(t *testing.T) {
	c, err := NewClient("a2V5OnNlY3JldA==")
	require.NoError(t, err)
	p := c.Jobs.Poller("job-1", &PollOptions{Operation: OpUpdate, FollowBasiqRetries: true, RetryInterval: 30 * time.Minute})
	tok, err := p.ResumeToken()
	require.NoError(t, err)

	resumed, err := c.Jobs.ResumePoller(tok, nil) // another process, knowing only the token
	require.NoError(t, err)
	assert.True(t, resumed.opts.FollowBasiqRetries, "a resumed poller keeps following Basiq's 7-day retry")
	assert.Equal(t, 30*time.Minute, resumed.opts.RetryInterval)
	assert.Equal(t, basiqRetryWindow+time.Hour, resumed.opts.Timeout)

	// A service-unavailable failure of the update is then not the end.
	resumed.job = &Job{ID: "job-1", Steps: []Step{{Title: StepVerifyCredentials, Status: StepFailed,
		Result: &StepResult{Code: "service-unavailable"}}}}
	assert.False(t, resumed.Done())
}

func TestSharedWaitsKeepEachWaitersTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		steps := []fakeStep{{name: StepVerifyCredentials, dur: 40 * time.Second}, {name: StepRetrieveAccounts, dur: 20 * time.Second}}
		f := newJobFake(steps)
		c := f.client()
		start := time.Now()
		var wg sync.WaitGroup
		var shortErr, longErr error
		var shortAt, longAt time.Duration
		var longJob *Job
		wg.Go(func() {
			_, shortErr = c.Jobs.Wait(t.Context(), fakeJobID, &PollOptions{Timeout: 3 * time.Second})
			shortAt = time.Since(start)
		})
		wg.Go(func() {
			time.Sleep(time.Second) // joins the loop the first waiter started
			longJob, longErr = c.Jobs.Wait(t.Context(), fakeJobID, &PollOptions{Timeout: 10 * time.Minute})
			longAt = time.Since(start)
		})
		wg.Wait()
		assert.ErrorIs(t, shortErr, ErrPollTimeout)
		assert.LessOrEqual(t, shortAt, 3*time.Second)
		require.NoError(t, longErr, "the second waiter keeps its own 10 minutes")
		assert.Equal(t, JobSucceeded, longJob.Status())
		assert.GreaterOrEqual(t, longAt, time.Minute)
	})
}

func TestHealthAttributesARunningJobWithoutSource(t *testing.T) {
	const user = "user-1"
	conn := func(id string) string {
		return `{"type":"connection","id":"` + id + `","status":"active","createdDate":"2026-11-01T00:00:00Z",` +
			`"institution":{"type":"institution","id":"AU00000"}}`
	}
	failedJob := `{"type":"job","id":"old","created":"2026-11-27T10:00:00Z","updated":"2026-11-27T10:01:00Z",` +
		`"institution":{"type":"institution","id":"AU00000"},` +
		`"steps":[{"title":"verify-credentials","status":"failed","result":{"code":"account-not-accessible-requires-user-action","detail":"popup"}}],` +
		`"links":{"source":"https://au-api.basiq.io/users/user-1/connections/conn-1"}}`
	// Basiq's in-progress shape: no links.source yet, the institution on the list item.
	runningJob := `{"type":"job","id":"new","created":"2026-11-28T10:00:00Z","updated":"2026-11-28T10:00:05Z",` +
		`"institution":{"type":"institution","id":"AU00000"},` +
		`"steps":[{"title":"verify-credentials","status":"in-progress","result":null},{"title":"retrieve-accounts","status":"pending","result":null}],` +
		`"links":{"self":"https://au-api.basiq.io/jobs/new"}}`

	t.Run("one connection at the institution", func(t *testing.T) {
		a := newCoreAPI(t)
		a.handle("GET", "/users/"+user+"/connections", 200, `{"type":"list","data":[`+conn("conn-1")+`]}`)
		a.handle("GET", "/users/"+user+"/jobs", 200, `{"type":"list","data":[`+runningJob+`,`+failedJob+`]}`)
		health, err := newCoreClient(t, a).Connections.Health(t.Context(), user)
		require.NoError(t, err)
		require.Len(t, health, 1)
		h := health[0]
		require.NotNil(t, h.LatestJob)
		assert.Equal(t, "new", h.LatestJob.ID, "the running job is the connection's")
		assert.True(t, h.Refreshing)
		assert.False(t, h.NeedsUserAction, "not while a refresh that may succeed is running")
		assert.Nil(t, h.Diagnosis)
	})
	t.Run("two connections at the institution", func(t *testing.T) {
		a := newCoreAPI(t)
		a.handle("GET", "/users/"+user+"/connections", 200, `{"type":"list","data":[`+conn("conn-1")+`,`+conn("conn-2")+`]}`)
		a.handle("GET", "/users/"+user+"/jobs", 200, `{"type":"list","data":[`+runningJob+`,`+failedJob+`]}`)
		health, err := newCoreClient(t, a).Connections.Health(t.Context(), user)
		require.NoError(t, err)
		require.Len(t, health, 2)
		for _, h := range health {
			assert.True(t, h.Refreshing, "%s: a job that may be this connection's is running", h.Connection.ID)
			assert.False(t, h.NeedsUserAction, h.Connection.ID)
		}
		assert.Equal(t, "old", health[0].LatestJob.ID, "the last job known to be conn-1's")
	})
}

// --- Diagnosis against the seeds ---

func TestPartialOutageEscalatesAfterACoupleOfRetries(t *testing.T) {
	job := &Job{ID: "j", Steps: []Step{{Title: StepRetrieveTransactions, Status: StepFailed, Result: &StepResult{Code: "service-unavailable"}}}}
	for attempt, want := range map[int]Action{1: ActionRetryLater, 2: ActionRetryLater, 3: ActionContactSupport, 9: ActionContactSupport} {
		d := Diagnose(job, DiagnoseOptions{Operation: OpRefresh, InstitutionStatus: StatusPartialOutage, Attempt: attempt})
		assert.Equal(t, want, d.Action, "attempt %d", attempt)
	}
}

// --- A clean clone runs every test; the docs stand alone ---

func TestSpecFilesAreInTheRepository(t *testing.T) {
	for _, p := range []string{
		"testdata/README.md",
		"testdata/basiq-spec/v2.1/swagger.json",
		"testdata/basiq-spec/v2.1/examples/jobs__getJob.json",
		"testdata/basiq-spec/v3/core.json",
		"testdata/basiq-spec/v3/data.json",
		"testdata/basiq-spec/v3/webhooks.json",
		"testdata/basiq-spec/v3/reporting.json",
		"testdata/basiq-spec/v3/enrich.json",
		"testdata/basiq-spec/v3/identity.json",
		"testdata/basiq-spec/v3/affordability.json",
	} {
		_, err := os.Stat(filepath.FromSlash(p))
		assert.NoError(t, err, "a clean clone must have %s", p)
	}
}

func TestPackageDocsStandAlone(t *testing.T) {
	var files []string
	require.NoError(t, filepath.WalkDir(".", func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "testdata" {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(p, ".go") && !strings.HasSuffix(p, "_test.go") {
			files = append(files, p)
		}
		return nil
	}))
	require.Greater(t, len(files), 30)
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		for i, line := range strings.Split(string(b), "\n") {
			for _, bad := range []string{"DESIGN.md", "basiq-api.md", "basiq-api-v3.md", "../shared"} {
				assert.NotContains(t, line, bad, "%s:%d points users at a file they do not have", f, i+1)
			}
			if strings.Contains(strings.ReplaceAll(line, "au-api.basiq.io", ""), "api.basiq.io") &&
				!strings.Contains(line, "https://api.basiq.io/reference") && !strings.Contains(line, "https://api.basiq.io/docs") {
				t.Errorf("%s:%d names api.basiq.io, but the API is at au-api.basiq.io", f, i+1)
			}
		}
	}
}
