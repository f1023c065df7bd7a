package basiqtest_test

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banklink-go/basiq"
	"github.com/banklink-go/basiq/basiqtest"
)

// Every way the Consent UI refuses a URL or the user's choices: the right
// error, a message that names the problem, no token, state or password in
// it, and nothing changed.
func TestCompleteConsentRejects(t *testing.T) {
	const password = "pa55-Secret-word"
	const secretState = "state-SECRET-nonce"
	gavin := login("AU00000", "gavinBelson", password)

	type tc struct {
		name string
		url  func(e *consentEnv) string
		opts []basiqtest.ConsentOption
		want error
		msg  string
	}
	cases := []tc{
		// The address.
		{name: "http scheme", url: func(e *consentEnv) string {
			return strings.Replace(consentURL(e.client), "https:", "http:", 1)
		}, want: basiqtest.ErrConsentURL, msg: "must start with https://consent.basiq.io/home"},
		{name: "other host", url: func(e *consentEnv) string {
			return strings.Replace(consentURL(e.client), "consent.basiq.io", "consent.basiq.io.evil.example", 1)
		}, want: basiqtest.ErrConsentURL, msg: "must start with"},
		{name: "other path", url: func(e *consentEnv) string {
			return strings.Replace(consentURL(e.client), "/home", "/home/x", 1)
		}, want: basiqtest.ErrConsentURL, msg: "must start with"},
		{name: "user info", url: func(e *consentEnv) string {
			return strings.Replace(consentURL(e.client), "https://", "https://me:"+password+"@", 1)
		}, want: basiqtest.ErrConsentURL, msg: "must start with"},
		{name: "relative", url: func(e *consentEnv) string { return "/home?token=" + e.client },
			want: basiqtest.ErrConsentURL, msg: "must start with"},
		{name: "does not parse", url: func(e *consentEnv) string { return "https://consent.basiq.io/ho\x00me?token=" + e.client },
			want: basiqtest.ErrConsentURL, msg: "does not parse as a URL"},
		{name: "query does not parse", url: func(e *consentEnv) string { return consentURL(e.client) + "&state=" + secretState + "%zz" },
			want: basiqtest.ErrConsentURL, msg: "query does not parse"},
		{name: "unencoded hash in state", url: func(e *consentEnv) string { return consentURL(e.client) + "&state=" + secretState + "#x" },
			want: basiqtest.ErrConsentURL, msg: "fragment"},
		{name: "trailing hash", url: func(e *consentEnv) string { return consentURL(e.client) + "#" },
			want: basiqtest.ErrConsentURL, msg: "fragment"},
		{name: "too long", url: func(e *consentEnv) string { return consentURL(e.client, "x", strings.Repeat("y", 17<<10)) },
			want: basiqtest.ErrConsentURL, msg: "longer than"},
		{name: "token twice", url: func(e *consentEnv) string { return consentURL(e.client) + "&token=" + e.client },
			want: basiqtest.ErrConsentURL, msg: "token is given 2 times"},
		{name: "action twice", url: func(e *consentEnv) string { return consentURL(e.client, "action", "connect") + "&action=manage" },
			want: basiqtest.ErrConsentURL, msg: "action is given 2 times"},
		{name: "state twice", url: func(e *consentEnv) string { return consentURL(e.client, "state", secretState) + "&state=b" },
			want: basiqtest.ErrConsentURL, msg: "state is given 2 times"},
		{name: "state over 4 KiB", url: func(e *consentEnv) string { return consentURL(e.client, "state", strings.Repeat("s", 4097)) },
			want: basiqtest.ErrConsentURL, msg: "state is longer than 4096 bytes"},

		// The token.
		{name: "no token", url: func(e *consentEnv) string { return consentURL("", "state", secretState) },
			want: basiqtest.ErrConsentToken, msg: "no token parameter"},
		{name: "made-up token", url: func(e *consentEnv) string { return consentURL(e.client[:len(e.client)-4] + "AAAA") },
			want: basiqtest.ErrConsentToken, msg: "not issued by this fake"},
		{name: "another fake's token", url: func(e *consentEnv) string {
			other := basiqtest.NewServer(basiqtest.InMemory())
			defer other.Close()
			o := newAPI(t, other)
			return consentURL(o.clientToken("3.0", o.createUser(o.serverToken("3.0"))))
		}, want: basiqtest.ErrConsentToken, msg: "not issued by this fake"},
		{name: "SERVER_ACCESS token", url: func(e *consentEnv) string { return consentURL(e.server) },
			want: basiqtest.ErrConsentToken, msg: "not a CLIENT_ACCESS token"},
		{name: "2.1 token", url: func(e *consentEnv) string { return consentURL(e.clientToken("2.1", e.user)) },
			want: basiqtest.ErrConsentToken, msg: "basiq-version 2.1"},
		{name: "2.1 token bound to no user", url: func(e *consentEnv) string {
			return consentURL(e.tokenResp("2.1", url.Values{"scope": {"CLIENT_ACCESS"}}).JSON(t)["access_token"].(string))
		}, want: basiqtest.ErrConsentToken, msg: "basiq-version 2.1"},
		{name: "revoked token", url: func(e *consentEnv) string {
			tok := e.client
			e.srv.ExpireTokens()
			e.server = e.serverToken("3.0") // for the checks after the call
			return consentURL(tok)
		}, want: basiqtest.ErrConsentToken, msg: "expired"},
		{name: "deleted user", url: func(e *consentEnv) string {
			other := e.createUser(e.server)
			tok := e.clientToken("3.0", other)
			require.Equal(t, http.StatusNoContent, e.send("DELETE", "/users/"+other, e.server, nil).Status)
			return consentURL(tok)
		}, want: basiqtest.ErrConsentToken, msg: "does not exist"},

		// The action.
		{name: "unknown action", url: func(e *consentEnv) string { return consentURL(e.client, "action", "delete") },
			want: basiqtest.ErrConsentURL, msg: "action must be"},
		{name: "action in capitals", url: func(e *consentEnv) string { return consentURL(e.client, "action", "CONNECT") },
			want: basiqtest.ErrConsentURL, msg: "action must be"},
		{name: "action is the token", url: func(e *consentEnv) string { return consentURL(e.client, "action", e.client) },
			want: basiqtest.ErrConsentURL, msg: "action must be"},
		{name: "payment", url: func(e *consentEnv) string { return consentURL(e.client, "action", "payment") },
			want: basiqtest.ErrConsentURL, msg: "not simulated"},
		{name: "connect without consent", url: func(e *consentEnv) string { return consentURL(e.client, "action", "connect") },
			opts: []basiqtest.ConsentOption{basiqtest.WithConsentLogins(gavin)}, want: basiqtest.ErrNoActiveConsent, msg: "action=connect needs one"},
		{name: "extend without consent", url: func(e *consentEnv) string { return consentURL(e.client, "action", "extend") },
			want: basiqtest.ErrNoActiveConsent, msg: "action=extend"},
		{name: "update without consent", url: func(e *consentEnv) string { return consentURL(e.client, "action", "update") },
			want: basiqtest.ErrNoActiveConsent, msg: "action=update"},
		{name: "reauthorise without consent", url: func(e *consentEnv) string { return consentURL(e.client, "action", "reauthorise") },
			want: basiqtest.ErrNoActiveConsent, msg: "action=reauthorise"},
		{name: "revoke without consent", url: func(e *consentEnv) string { return consentURL(e.client, "action", "manage") },
			opts: []basiqtest.ConsentOption{basiqtest.WithConsentRevoke()}, want: basiqtest.ErrNoActiveConsent, msg: "no consent to revoke"},

		// institutionId, connectionId, userId.
		{name: "malformed institutionId", url: func(e *consentEnv) string { return consentURL(e.client, "institutionId", "hooli") },
			want: basiqtest.ErrConsentURL, msg: "not an institution id"},
		{name: "unknown institutionId", url: func(e *consentEnv) string { return consentURL(e.client, "institutionId", "AU99999") },
			want: basiqtest.ErrConsentURL, msg: "institution AU99999 does not exist"},
		{name: "malformed connectionId", url: func(e *consentEnv) string { return consentURL(e.client, "connectionId", "../users") },
			want: basiqtest.ErrConsentURL, msg: "not a connection id"},
		{name: "unknown connectionId", url: func(e *consentEnv) string {
			return consentURL(e.client, "connectionId", "8cda72db-b11f-4b8e-a4ca-3c5b1de4e4b5")
		}, want: basiqtest.ErrConsentURL, msg: "not one of the token's user's connections"},
		{name: "another user's connection", url: func(e *consentEnv) string {
			other := e.createUser(e.server)
			job, err := e.srv.Connect(other, "AU00000", "gavinBelson", "hooli2016")
			require.NoError(t, err)
			return consentURL(e.client, "connectionId", e.connOf(job))
		}, want: basiqtest.ErrConsentURL, msg: "not one of the token's user's connections"},
		{name: "connectionId with manage", url: func(e *consentEnv) string {
			return consentURL(e.client, "action", "manage", "connectionId", "8cda72db-b11f-4b8e-a4ca-3c5b1de4e4b5")
		}, want: basiqtest.ErrConsentURL, msg: "does not go with action=manage"},
		{name: "userId of someone else", url: func(e *consentEnv) string {
			return consentURL(e.client, "userId", "8cda72db-b11f-4b8e-a4ca-3c5b1de4e4b5")
		}, want: basiqtest.ErrConsentURL, msg: "not the token's user"},
		{name: "malformed userId", url: func(e *consentEnv) string { return consentURL(e.client, "userId", "me") },
			want: basiqtest.ErrConsentURL, msg: "not a user id"},

		// The user's choices.
		{name: "no login", url: func(e *consentEnv) string { return consentURL(e.client) },
			want: basiqtest.ErrConsentOptions, msg: "give WithConsentLogins"},
		{name: "logins with manage", url: func(e *consentEnv) string { return consentURL(e.client, "action", "manage") },
			opts: []basiqtest.ConsentOption{basiqtest.WithConsentLogins(gavin)}, want: basiqtest.ErrConsentOptions, msg: "connects no institution"},
		{name: "cancel and logins", url: func(e *consentEnv) string { return consentURL(e.client) },
			opts: []basiqtest.ConsentOption{basiqtest.WithConsentCancel(), basiqtest.WithConsentLogins(gavin)},
			want: basiqtest.ErrConsentOptions, msg: "WithConsentCancel goes with no other choice"},
		{name: "revoke outside manage", url: func(e *consentEnv) string { return consentURL(e.client) },
			opts: []basiqtest.ConsentOption{basiqtest.WithConsentRevoke()}, want: basiqtest.ErrConsentOptions, msg: "for action=manage"},
		{name: "login without institution", url: func(e *consentEnv) string { return consentURL(e.client) },
			opts: []basiqtest.ConsentOption{basiqtest.WithConsentLogins(basiqtest.ConsentLogin{LoginID: "gavinBelson", Password: password})},
			want: basiqtest.ErrConsentOptions, msg: "login 1: it names no institution"},
		{name: "login at another bank than preselected", url: func(e *consentEnv) string { return consentURL(e.client, "institutionId", "AU00002") },
			opts: []basiqtest.ConsentOption{basiqtest.WithConsentLogins(gavin)}, want: basiqtest.ErrConsentOptions, msg: "preselects institution AU00002"},
		{name: "login at unknown bank", url: func(e *consentEnv) string { return consentURL(e.client) },
			opts: []basiqtest.ConsentOption{basiqtest.WithConsentLogins(gavin, login("AU99999", "x", password))},
			want: basiqtest.ErrConsentOptions, msg: "login 2: institution AU99999 does not exist"},
		{name: "login without login id", url: func(e *consentEnv) string { return consentURL(e.client) },
			opts: []basiqtest.ConsentOption{basiqtest.WithConsentLogins(login("AU00000", " ", password))}, want: basiqtest.ErrConsentOptions, msg: "no LoginID"},
		{name: "login without password", url: func(e *consentEnv) string { return consentURL(e.client) },
			opts: []basiqtest.ConsentOption{basiqtest.WithConsentLogins(login("AU00000", "gavinBelson", ""))}, want: basiqtest.ErrConsentOptions, msg: "no Password"},
		{name: "security code missing", url: func(e *consentEnv) string { return consentURL(e.client) },
			opts: []basiqtest.ConsentOption{basiqtest.WithConsentLogins(login("AU10005", "gavinBelson", password))},
			want: basiqtest.ErrConsentOptions, msg: "asks for a SecurityCode"},
		{name: "abandon on a web bank", url: func(e *consentEnv) string { return consentURL(e.client) },
			opts: []basiqtest.ConsentOption{basiqtest.WithConsentLogins(basiqtest.ConsentLogin{InstitutionID: "AU00000", LoginID: "x", Abandon: true})},
			want: basiqtest.ErrConsentOptions, msg: "Abandon is for open-banking institutions"},
		{name: "good then bad login", url: func(e *consentEnv) string { return consentURL(e.client) },
			opts: []basiqtest.ConsentOption{basiqtest.WithConsentLogins(gavin, login("AU00000", "jared", ""))},
			want: basiqtest.ErrConsentOptions, msg: "login 2"},
		{name: "reauthorise with logins", url: func(e *consentEnv) string {
			_, err := e.srv.Connect(e.user, "AU10001", "jared", "django")
			require.NoError(t, err)
			return consentURL(e.client, "action", "reauthorise")
		}, opts: []basiqtest.ConsentOption{basiqtest.WithConsentLogins(gavin)}, want: basiqtest.ErrConsentOptions, msg: "renews existing connections"},
		{name: "two logins for one connection", url: func(e *consentEnv) string {
			job, err := e.srv.Connect(e.user, "AU00000", "jared", "django")
			require.NoError(t, err)
			return consentURL(e.client, "connectionId", e.connOf(job))
		}, opts: []basiqtest.ConsentOption{basiqtest.WithConsentLogins(basiqtest.ConsentLogin{Password: password}, basiqtest.ConsentLogin{Password: password})},
			want: basiqtest.ErrConsentOptions, msg: "at most one ConsentLogin"},
		{name: "delete an unknown connection", url: func(e *consentEnv) string {
			_, err := e.srv.Connect(e.user, "AU00000", "jared", "django")
			require.NoError(t, err)
			return consentURL(e.client, "action", "manage")
		}, opts: []basiqtest.ConsentOption{basiqtest.WithConsentRevoke(), basiqtest.WithConsentDeleteConnections(password)},
			want: basiqtest.ErrConsentOptions, msg: "not a connection id"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newConsentEnv(t)
			u := c.url(e)
			consentsBefore, connsBefore := e.consents(), e.connections()
			redirect, err := e.srv.CompleteConsent(u, c.opts...)
			require.ErrorIs(t, err, c.want)
			assert.Empty(t, redirect)
			msg := err.Error()
			assert.Contains(t, msg, c.msg)
			assert.True(t, strings.HasPrefix(msg, "basiqtest: "), msg)
			for _, secret := range []string{e.client, e.server, password, secretState} {
				assert.NotContains(t, msg, secret)
			}
			if q, perr := url.Parse(u); perr == nil && q.Query().Get("token") != "" {
				assert.NotContains(t, msg, q.Query().Get("token"), "the URL's token")
			}
			assert.Equal(t, consentsBefore, e.consents(), "nothing changed")
			assert.Equal(t, connsBefore, e.connections(), "nothing changed")
		})
	}
}

func TestCompleteConsentExpiredToken(t *testing.T) {
	clock := newFakeClock()
	e := newConsentEnv(t, basiqtest.WithClock(clock.Now))
	u := consentURL(e.client)
	clock.Add(time.Hour)
	_, err := e.srv.CompleteConsent(u, basiqtest.WithConsentLogins(login("AU00000", "gavinBelson", "hooli2016")))
	require.ErrorIs(t, err, basiqtest.ErrConsentToken)
	assert.Contains(t, err.Error(), "expired")
	assert.NotContains(t, err.Error(), e.client)

	// Long after (the fake then forgets the token), still expired, not unknown.
	clock.Add(3 * time.Hour)
	e.serverToken("3.0") // minting prunes forgotten tokens
	_, err = e.srv.CompleteConsent(u, basiqtest.WithConsentLogins(login("AU00000", "gavinBelson", "hooli2016")))
	require.ErrorIs(t, err, basiqtest.ErrConsentToken)
	assert.Contains(t, err.Error(), "expired")
}

func TestConsentLoginHidesSecrets(t *testing.T) {
	l := basiqtest.ConsentLogin{InstitutionID: "AU10005", LoginID: "customer-12345678", Password: "hunter2!", SecurityCode: "9876", SecondaryLoginID: "card-5555"}
	for _, format := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
		out := strings.ToLower(fmt.Sprintf(format, l))
		for _, secret := range []string{"hunter2", "9876", "card-5555", "12345678", "68756e74"} {
			assert.NotContains(t, out, strings.ToLower(secret), format)
		}
		assert.Contains(t, out, "au10005", format)
	}
	assert.Contains(t, l.String(), "***678")
	var buf strings.Builder
	slog.New(slog.NewTextHandler(&buf, nil)).Info("login", "login", l)
	assert.NotContains(t, buf.String(), "hunter2")
	assert.NotContains(t, buf.String(), "12345678")
	assert.Contains(t, buf.String(), "AU10005")
}

// BenchmarkCompleteConsent is one consent URL checked and answered: the
// default flow with one login (a connection and its job) and a cancel (the
// URL's checks and the redirect alone), with a 1 KiB state.
func BenchmarkCompleteConsent(b *testing.B) {
	state := strings.Repeat("s&=#", 256)
	for _, bc := range []struct {
		name string
		opt  basiqtest.ConsentOption
	}{
		{"login", basiqtest.WithConsentLogins(login("AU00000", "gavinBelson", "hooli2016"))},
		{"cancel", basiqtest.WithConsentCancel()},
	} {
		b.Run(bc.name, func(b *testing.B) {
			e := newConsentEnv(b, basiqtest.WithRequestLogLimit(0))
			u := consentURL(e.client, "state", state)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := e.srv.CompleteConsent(u, bc.opt); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// The v3 path end to end with the SDK, in virtual time: a CLIENT_ACCESS
// token from the SDK, the Consent UI, the jobs from the redirect, the v3
// connection fields, and the CDR limit as the SDK sees it.
func TestSDKConsentFlow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := basiqtest.NewServer(basiqtest.InMemory())
		defer srv.Close()
		c, err := basiq.NewClient(srv.APIKey(), basiq.WithBaseURL(srv.URL), basiq.WithHTTPClient(srv.Client())) // 3.0 by default
		require.NoError(t, err)
		ctx := t.Context()
		user := sdkUser(t, c)
		tok, err := c.ClientToken(ctx, user)
		require.NoError(t, err)

		u := consentURL(tok.AccessToken, "state", "csrf-123")
		raw, err := srv.CompleteConsent(u, basiqtest.WithConsentLogins(
			login("AU00000", "gavinBelson", "hooli2016"), login("AU10001", "jared", "django"),
			basiqtest.ConsentLogin{InstitutionID: "AU10002", LoginID: "richard", Abandon: true}))
		require.NoError(t, err)
		redirect, err := url.Parse(raw)
		require.NoError(t, err)
		assert.Equal(t, "csrf-123", redirect.Query().Get("state"))
		ids := strings.Split(redirect.Query().Get("jobIds"), ",")
		require.Len(t, ids, 2)
		started := time.Now()
		for _, id := range ids {
			job, err := c.Jobs.Wait(ctx, id, nil)
			require.NoError(t, err)
			assert.Equal(t, basiq.JobSucceeded, job.Status())
			assert.Equal(t, "connection", job.JobType)
			_, hasMFA := job.Step(basiq.StepMFAChallenge)
			assert.False(t, hasMFA)
		}

		conns, err := c.Connections.List(ctx, user, nil)
		require.NoError(t, err)
		require.Len(t, conns, 3)
		byInst := map[string]basiq.Connection{}
		for _, conn := range conns {
			byInst[conn.Institution.ID] = conn
		}
		assert.Equal(t, "web", byInst["AU00000"].Method)
		assert.True(t, byInst["AU00000"].ExpiryDate.IsZero(), "web connections do not expire")
		ob := byInst["AU10001"]
		assert.Equal(t, "open-banking", ob.Method)
		assert.Equal(t, basiq.ConnectionActive, ob.Status)
		assert.WithinDuration(t, started.Add(365*24*time.Hour), ob.ExpiryDate, time.Minute)
		assert.Equal(t, basiq.ConnectionPreInit, byInst["AU10002"].Status)

		// Twenty refreshes of the open-banking connection, then the CDR limit.
		for range 20 {
			job, err := c.Connections.Refresh(ctx, user, ob.ID)
			require.NoError(t, err)
			_, err = c.Jobs.Wait(ctx, job.ID, nil)
			require.NoError(t, err)
		}
		_, err = c.Connections.Refresh(ctx, user, ob.ID)
		require.ErrorIs(t, err, basiq.ErrRateLimited)
		var apiErr *basiq.APIError
		require.True(t, errors.As(err, &apiErr))
		assert.Equal(t, "too-many-requests", apiErr.Code())
	})
}
