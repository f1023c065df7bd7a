package basiq_test

// Regression tests for what the second hostile review found: each fails
// without its fix.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banklink-go/basiq"
	"github.com/banklink-go/basiq/basiqtest"
)

// slog's JSON handler resolves a LogValuer only for an attribute's own
// value: a slice or struct holding a secret-bearing type goes through
// encoding/json, so their MarshalJSON must redact too.
func TestSecretsRedactedInsideLoggedSlicesAndStructs(t *testing.T) {
	tok := basiq.Token{AccessToken: "eyJ-ACCESS-TOKEN", Scope: basiq.ScopeServerAccess, ExpiresAt: time.Now().Add(time.Hour)}
	cr := basiq.Credentials{InstitutionID: "AU00000", LoginID: "gavinBelson", Password: "PASSWORD-1", SecurityCode: "CODE-1", SecondaryLoginID: "SECOND-1"}
	up := basiq.CredentialsUpdate{Password: "PASSWORD-2"}
	wh := basiq.Webhook{ID: "wh-1", URL: "https://app.example/hooks", Secret: "whsec_SECRET"}
	login := basiqtest.ConsentLogin{LoginID: "gavinBelson", Password: "PASSWORD-3"}

	var buf bytes.Buffer
	l := slog.New(slog.NewJSONHandler(&buf, nil))
	l.Info("nested", "tokens", []basiq.Token{tok}, "request", struct {
		Creds  basiq.Credentials
		Update *basiq.CredentialsUpdate
		Hooks  []basiq.Webhook
		Login  basiqtest.ConsentLogin
	}{cr, &up, []basiq.Webhook{wh}, login})
	for _, v := range []any{tok, cr, up, wh, login, map[string]any{"t": tok}} {
		b, err := json.Marshal(v)
		require.NoError(t, err)
		buf.Write(b)
	}
	out := buf.String()
	for _, s := range []string{"eyJ-ACCESS-TOKEN", "PASSWORD-1", "CODE-1", "SECOND-1", "PASSWORD-2", "whsec_SECRET", "PASSWORD-3", "gavinBelson"} {
		assert.NotContains(t, out, s)
	}
	assert.Contains(t, out, `"AccessToken":"[REDACTED]"`)
	assert.Contains(t, out, `"Secret":"[REDACTED]"`)
	assert.Contains(t, out, `"LoginID":"***son"`, "the login id is masked as in String")
	assert.Contains(t, out, `"InstitutionID":"AU00000"`, "what is not secret is kept")

	empty, err := json.Marshal(basiq.Webhook{})
	require.NoError(t, err)
	assert.Contains(t, string(empty), `"Secret":""`, "no secret stays empty, not [REDACTED]")
}

// A TokenCache written as json.Marshal(tok) stores the redacted form: the
// client must not send "Bearer [REDACTED]", but mint a token and say why.
type jsonTokenCache struct{ m map[string][]byte }

func (c *jsonTokenCache) Get(_ context.Context, key string) (basiq.Token, bool, error) {
	b, ok := c.m[key]
	if !ok {
		return basiq.Token{}, false, nil
	}
	var tok basiq.Token
	err := json.Unmarshal(b, &tok)
	return tok, err == nil, err
}

func (c *jsonTokenCache) Set(_ context.Context, key string, tok basiq.Token) error {
	b, err := json.Marshal(tok)
	c.m[key] = b
	return err
}

func TestTokenCacheStoringRedactedTokensIsIgnored(t *testing.T) {
	srv := basiqtest.NewServer(basiqtest.InMemory())
	defer srv.Close()
	cache := &jsonTokenCache{m: map[string][]byte{}}
	var logs bytes.Buffer
	newClient := func() *basiq.Client {
		c, err := basiq.NewClient(srv.APIKey(), basiq.WithBaseURL(srv.URL), basiq.WithHTTPClient(srv.Client()),
			basiq.WithTokenCache(cache), basiq.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
		require.NoError(t, err)
		return c
	}
	_, err := newClient().Users.Create(t.Context(), basiq.UserParams{Email: "a@example.com"})
	require.NoError(t, err)
	tokens := srv.RequestCount("POST", "/token")
	_, err = newClient().Users.Create(t.Context(), basiq.UserParams{Email: "b@example.com"})
	require.NoError(t, err, "a second client did not send the redacted token")
	assert.Equal(t, tokens+1, srv.RequestCount("POST", "/token"), "it minted its own")
	assert.Contains(t, logs.String(), "redacted token")
}

// Behind a proxy (WithBaseURL) a webhook message's links.event still names
// Basiq's host: Events.Get takes the id and asks the client's own base URL.
func TestEventsGetByBasiqURLBehindAProxy(t *testing.T) {
	srv := basiqtest.NewServer(basiqtest.InMemory())
	defer srv.Close()
	c, err := basiq.NewClient(srv.APIKey(), basiq.WithBaseURL(srv.URL), basiq.WithHTTPClient(srv.Client()))
	require.NoError(t, err)
	_, err = c.Users.Create(t.Context(), basiq.UserParams{Email: "p@example.com"})
	require.NoError(t, err)
	var id string
	for ev, err := range c.Events.All(t.Context(), nil) {
		require.NoError(t, err)
		id = ev.ID
	}
	require.NotEmpty(t, id)
	ev, err := c.Events.Get(t.Context(), basiq.DefaultBaseURL+"/events/"+id)
	require.NoError(t, err)
	assert.Equal(t, id, ev.ID)
}

// fakeV21 is an in-memory fake and a 2.1 client on it.
func fakeV21(t *testing.T, opts ...basiqtest.Option) (*basiqtest.Server, *basiq.Client) {
	srv := basiqtest.NewServer(append([]basiqtest.Option{basiqtest.InMemory()}, opts...)...)
	t.Cleanup(srv.Close)
	c, err := basiq.NewClient(srv.APIKey(), basiq.WithBaseURL(srv.URL), basiq.WithHTTPClient(srv.Client()), basiq.WithAPIVersion(basiq.V2_1))
	require.NoError(t, err)
	return srv, c
}

// A context whose deadline comes before the first wait on a job the client
// started still gets a look at the job, through a Poller and through the
// shared Jobs.Wait.
func TestShortContextDeadlineStillLooksAtTheJob(t *testing.T) {
	for _, d := range []time.Duration{3 * time.Second, 6 * time.Second} {
		for _, shared := range []bool{false, true} {
			name := d.String() + "/Poller.WaitForStep"
			if shared {
				name = d.String() + "/Jobs.Wait"
			}
			t.Run(name, func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					srv, c := fakeV21(t)
					u, err := c.Users.Create(t.Context(), basiq.UserParams{Email: "a@example.com"})
					require.NoError(t, err)
					job, err := c.Connections.Create(t.Context(), u.ID, basiq.Credentials{InstitutionID: "AU00000", LoginID: "gavinBelson", Password: "hooli2016"})
					require.NoError(t, err)
					ctx, cancel := context.WithTimeout(t.Context(), d)
					defer cancel()
					start := time.Now()
					opts := &basiq.PollOptions{InstitutionID: "AU00000", Operation: basiq.OpCreate}
					var got *basiq.Job
					if shared {
						got, err = c.Jobs.Wait(ctx, job.ID, opts)
					} else {
						got, err = c.Jobs.Poller(job.ID, opts).WaitForStep(ctx, basiq.StepVerifyCredentials)
					}
					assert.LessOrEqual(t, time.Since(start), d, "within the context's deadline")
					assert.Positive(t, srv.RequestCount("GET", "/jobs/{jobId}"), "the job was looked at")
					if assert.Error(t, err) {
						assert.ErrorIs(t, err, context.DeadlineExceeded)
						assert.NotNil(t, got, "the job as last seen comes with the error: %v", err)
					}
				})
			})
		}
	}
}

// Jobs.Wait's Timeout bounds the Diagnosis's look-ups too: an institution
// look-up that hangs does not carry the wait past it.
func TestJobsWaitTimeoutBoundsItsDiagnosis(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv, c := fakeV21(t, basiqtest.WithTimeScale(20)) // Hooli's job takes ~6.4 min
		u, err := c.Users.Create(t.Context(), basiq.UserParams{Email: "j@example.com"})
		require.NoError(t, err)
		// jianYang's job fails with a failure whose diagnosis depends on the
		// institution's status.
		job, err := c.Connections.Create(t.Context(), u.ID, basiq.Credentials{InstitutionID: "AU00000", LoginID: "jianYang", Password: "nothotdog"})
		require.NoError(t, err)
		go func() {
			time.Sleep(time.Minute) // after the durations are loaded; the status look-up comes at the end
			srv.InjectFault(basiqtest.Fault{Method: "GET", Path: "/institutions/*", Delay: time.Hour, Count: -1})
		}()
		const timeout = 8 * time.Minute
		start := time.Now()
		_, err = c.Jobs.Wait(t.Context(), job.ID, &basiq.PollOptions{InstitutionID: "AU00000", Timeout: timeout})
		took := time.Since(start)
		var failed *basiq.JobFailedError
		require.True(t, errors.As(err, &failed), "%v", err)
		assert.LessOrEqual(t, took, timeout, "Jobs.Wait with Timeout %s returned after %s", timeout, took)
		srv.ClearFaults()
	})
}
