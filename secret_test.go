package basiq_test

// Secrets, from outside package basiq. The API key, access tokens, bank
// passwords, security codes and MFA answers never appear in the SDK's logs
// (slog at debug level), in error strings, or in the %v, %+v, %#v and %s
// forms of anything the SDK returns.

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/banklink-go/basiq"
	"github.com/banklink-go/basiq/basiqtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// hardLockedBuffer is an io.Writer safe for concurrent use.
type hardLockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *hardLockedBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *hardLockedBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// hardSink collects the formatted forms of values, and logs them too.
type hardSink struct {
	t      *testing.T
	logger *slog.Logger
	out    strings.Builder
	n      int
}

// add formats vals with %v, %+v, %#v and %s (and Error()), and logs them.
func (s *hardSink) add(name string, vals ...any) {
	s.addVerbs(name, []string{"%v", "%+v", "%#v", "%s"}, vals...)
}

// addEveryVerb is add with every verb, for the types that hold secrets.
func (s *hardSink) addEveryVerb(name string, vals ...any) {
	s.addVerbs(name, []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%t", "%10.3f", "%T"}, vals...)
}

func (s *hardSink) addVerbs(name string, verbs []string, vals ...any) {
	for _, v := range vals {
		s.n++
		for _, verb := range verbs {
			fmt.Fprintf(&s.out, "%s %s: "+verb+"\n", name, verb, v)
		}
		if err, ok := v.(error); ok && err != nil {
			fmt.Fprintf(&s.out, "%s Error(): %s\n", name, err.Error())
		}
		s.logger.Debug("formatted by the test", "name", name, "value", v)
	}
}

func TestHardSecretsNeverLeak(t *testing.T) {
	const (
		createPassword = "Create-Pa55word-7f3a9c"
		securityCode   = "SecCode-55821"
		updatePassword = "Update-Pa55word-b41e20"
		mfaPassword    = "Mfa-Pa55word-c0ffee"
		mfaAnswer      = "1234"     // the fake's one-time password for these logins
		bigheadPass    = "password" // the sandbox's failing user bighead/password
		badKey         = "QmFkLUtleS1kZWFkYmVlZi0xMjM0NQ=="
	)
	hardBubble(t, func(t *testing.T) {
		srv := hardServer(t, basiqtest.WithTokenTTL(time.Hour))
		var logs hardLockedBuffer
		logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		c, rec := hardNewClient(t, srv, nil, basiq.WithLogger(logger))
		sink := &hardSink{t: t, logger: logger}
		ctx := t.Context()
		srv.SetLoginPassword("hardCreateUser", createPassword)
		srv.SetLoginPassword("hardMfaUser", mfaPassword)

		// Token, with a 503 and a reset on the way (retries are logged).
		srv.InjectFault(basiqtest.Fault{Method: http.MethodPost, Path: "/token", Status: http.StatusServiceUnavailable})
		srv.InjectFault(basiqtest.Fault{Method: http.MethodPost, Path: "/token", Reset: true})
		tok, err := c.Token(ctx)
		if err != nil {
			t.Fatalf("Token: %v", err)
		}
		sink.addEveryVerb("Token", tok, &tok)
		sink.addEveryVerb("Client", c)
		// The services hold the *Client: %v, %+v and %#v show its address only.
		// (Their %s would print the Client's fields: see SECURITY.md.)
		sink.addVerbs("services", []string{"%v", "%+v", "%#v"}, c.Jobs, c.Connections, c.Users, c.Institutions, c.Connectors, c.Accounts, c.Transactions)

		user, err := c.Users.Create(ctx, basiq.UserParams{Email: "secrets@example.com", Mobile: "+61410888666"})
		if err != nil {
			t.Fatalf("Users.Create: %v", err)
		}
		sink.add("User", user)

		// Create with a password and a security code; polls meet two 503s.
		creds := basiq.Credentials{InstitutionID: "AU00000", LoginID: "hardCreateUser", Password: createPassword, SecurityCode: securityCode}
		sink.addEveryVerb("Credentials", creds, &creds)
		job, err := c.Connections.Create(ctx, user.ID, creds)
		if err != nil {
			t.Fatalf("Connections.Create: %v", err)
		}
		sink.add("Job stub", job)
		srv.InjectFault(basiqtest.Fault{Method: http.MethodGet, Path: "/jobs/*", Status: http.StatusServiceUnavailable, Count: 2})
		p := c.Jobs.Poller(job.ID, &basiq.PollOptions{Operation: basiq.OpCreate, InstitutionID: "AU00000"})
		for ev, err := range p.Steps(ctx) {
			sink.add("StepEvent", ev, err)
		}
		done, err := p.Wait(ctx)
		if err != nil {
			t.Fatalf("create job: %v", err)
		}
		resume, err := p.ResumeToken()
		sink.add("create job", done, p, resume, err, basiq.Diagnose(done, basiq.DiagnoseOptions{Operation: basiq.OpCreate}))
		connID := done.ConnectionID()

		// The user changed their bank password: update the credentials.
		srv.SetLoginPassword("hardCreateUser", updatePassword)
		upd := basiq.CredentialsUpdate{Password: updatePassword, SecurityCode: securityCode}
		sink.addEveryVerb("CredentialsUpdate", upd, &upd)
		job, err = c.Connections.Update(ctx, user.ID, connID, upd)
		if err != nil {
			t.Fatalf("Connections.Update: %v", err)
		}
		done, err = c.Jobs.Wait(ctx, job.ID, &basiq.PollOptions{Operation: basiq.OpUpdate})
		if err != nil {
			t.Fatalf("update job: %v", err)
		}
		sink.add("update job", done)

		// The API rejects the token (403 access-denied): re-authentication.
		srv.ExpireTokens()
		conn, err := c.Connections.Get(ctx, user.ID, connID)
		if err != nil {
			t.Fatalf("Connections.Get after ExpireTokens: %v", err)
		}
		sink.add("Connection", conn)
		conns, err := c.Connections.List(ctx, user.ID, nil)
		sink.add("Connections", conns, err)

		// An MFA bank: answer the one-time password.
		job, err = c.Connections.Create(ctx, user.ID, basiq.Credentials{InstitutionID: "AU00002", LoginID: "hardMfaUser", Password: mfaPassword})
		if err != nil {
			t.Fatalf("Connections.Create (MFA bank): %v", err)
		}
		p = c.Jobs.Poller(job.ID, &basiq.PollOptions{Operation: basiq.OpCreate, InstitutionID: "AU00002"})
		asked := false
		for ev, err := range p.Steps(ctx) {
			if err != nil {
				t.Fatalf("MFA job: %v", err)
			}
			sink.add("MFA StepEvent", ev, ev.Diagnosis)
			if ev.Diagnosis != nil && ev.Diagnosis.Action == basiq.ActionAnswerMFA {
				asked = true
				sink.add("MFA prompt", ev.Diagnosis.MFA, *ev.Diagnosis)
				break
			}
		}
		if !asked {
			t.Fatal("the MFA bank asked nothing")
		}
		ctok, err := c.ClientToken(ctx, user.ID)
		sink.addEveryVerb("ClientToken", ctok, err)
		answered, err := c.Jobs.SubmitMFA(ctx, user.ID, job.ID, []string{mfaAnswer})
		if err != nil {
			t.Fatalf("SubmitMFA: %v", err)
		}
		sink.add("SubmitMFA", answered)
		done, err = p.Wait(ctx)
		if err != nil {
			t.Fatalf("MFA job after the answer: %v", err)
		}
		sink.add("MFA job", done)

		// A failure: bighead's password is "wrong".
		job, err = c.Connections.Create(ctx, user.ID, basiq.Credentials{InstitutionID: "AU00000", LoginID: "bighead", Password: bigheadPass})
		if err != nil {
			t.Fatalf("Connections.Create (bighead): %v", err)
		}
		_, err = c.Jobs.Wait(ctx, job.ID, &basiq.PollOptions{Operation: basiq.OpCreate})
		var jfe *basiq.JobFailedError
		if !errors.As(err, &jfe) || jfe.Diagnosis.Action != basiq.ActionCheckCredentials {
			t.Fatalf("bighead: error %v, want a JobFailedError asking to check credentials", err)
		}
		sink.add("JobFailedError", err, jfe, jfe.Diagnosis, jfe.Step, jfe.Step.Result, jfe.Job)
		health, err := c.Connections.Health(ctx, user.ID)
		sink.add("Health", health, err)

		// Errors: an API error after retries, a token error, bad input.
		srv.InjectFault(basiqtest.Fault{Method: http.MethodGet, Path: "/users/*", Status: http.StatusServiceUnavailable, Count: -1})
		_, err = c.Users.Get(ctx, user.ID)
		var apiErr *basiq.APIError
		if !errors.As(err, &apiErr) {
			t.Fatalf("Users.Get during a 503 storm: %v", err)
		}
		sink.add("APIError", err, apiErr, *apiErr)
		srv.ClearFaults()
		bad, _ := hardNewClient(t, srv, nil, basiq.WithLogger(logger))
		badClient, err := basiq.NewClient(badKey, basiq.WithBaseURL(srv.URL), basiq.WithHTTPClient(srv.Client()), basiq.WithLogger(logger))
		if err != nil {
			t.Fatal(err)
		}
		_, err = badClient.Jobs.Get(ctx, "job")
		var authErr *basiq.AuthError
		if !errors.As(err, &authErr) {
			t.Fatalf("bad key: %v, want an *AuthError", err)
		}
		sink.add("AuthError", err, authErr)
		sink.addEveryVerb("bad clients", badClient, bad)
		_, err = c.Connections.Create(ctx, user.ID, basiq.Credentials{InstitutionID: "AU00000", Password: createPassword})
		sink.add("invalid input", err)
		_, err = basiq.NewClient(badKey, basiq.WithBaseURL("https://u:"+createPassword+"@h"))
		sink.add("bad base URL", err)
		cache := basiq.NewMemoryTokenCache()
		_ = cache.Set(ctx, "k", tok)
		sink.addEveryVerb("MemoryTokenCache", cache)

		// What was sent carried every secret: the check below is not vacuous.
		var sent strings.Builder
		var bearers []string
		for _, r := range srv.Requests() {
			fmt.Fprintf(&sent, "%s %s\n%s\n", r.Header.Get("Authorization"), r.Path, r.Body)
			if b, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
				bearers = append(bearers, b)
			}
		}
		for _, s := range []string{"Basic " + srv.APIKey(), "Basic " + badKey, createPassword, securityCode, updatePassword, mfaPassword,
			`"password":"` + bigheadPass + `"`, `"mfa-response":["` + mfaAnswer + `"]`} {
			if !strings.Contains(sent.String(), s) {
				t.Errorf("the fake never received %q: the test does not exercise it", s)
			}
		}

		secrets := []string{srv.APIKey(), badKey, createPassword, securityCode, updatePassword, mfaPassword}
		for _, key := range []string{srv.APIKey(), badKey} {
			if raw, err := base64.StdEncoding.DecodeString(key); err == nil {
				for _, part := range strings.Split(string(raw), ":") {
					if len(part) >= 8 {
						secrets = append(secrets, part)
					}
				}
			}
		}
		issued := rec.issued()
		if len(issued) != 3 {
			t.Errorf("%d tokens issued; want 3: the first, the one after ExpireTokens, and the client token", len(issued))
		}
		secrets = append(secrets, issued...)
		secrets = append(secrets, bearers...)
		secrets = append(secrets, tok.AccessToken, ctok.AccessToken)

		output := map[string]string{"logs": logs.String(), "formatted values": sink.out.String()}
		for _, want := range []string{`"level":"DEBUG","msg":"basiq: request"`, `"msg":"basiq: retrying request"`, `"msg":"basiq: token rejected, re-authenticating"`} {
			if !strings.Contains(output["logs"], want) {
				t.Errorf("logs lack %s: the flows did not run as intended", want)
			}
		}
		t.Logf("checked %d bytes of logs and %d formatted values (%d bytes) for %d secrets",
			len(output["logs"]), sink.n, sink.out.Len(), len(secrets)+2)
		for where, text := range output {
			for _, s := range secrets {
				if s == "" {
					continue
				}
				if i := strings.Index(text, s); i >= 0 {
					t.Errorf("%s leak a secret (%.8s…): …%s…", where, s, hardAround(text, i, len(s)))
				}
			}
			// Short secrets that are also common words: the MFA answer as a
			// number of its own; bighead's "password" as a value (after a quote,
			// colon or equals sign), not the word in a prompt or a message.
			for _, re := range []*regexp.Regexp{
				regexp.MustCompile(`(^|[^0-9A-Za-z])` + mfaAnswer + `([^0-9A-Za-z]|$)`),
				regexp.MustCompile(`["'` + "`" + `:=]\s?` + bigheadPass + `([^A-Za-z_]|$)`),
			} {
				if loc := re.FindStringIndex(text); loc != nil {
					t.Errorf("%s leak a secret: …%s…", where, hardAround(text, loc[0], loc[1]-loc[0]))
				}
			}
		}
	})
}

// hardAround shows where in s a secret was found: the start of its line
// (which names the value), and the text around it.
func hardAround(s string, i, n int) string {
	start := strings.LastIndexByte(s[:i], '\n') + 1
	head := s[start:min(start+40, i)]
	return head + " … " + s[max(start, i-60):min(len(s), i+n+20)]
}

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
