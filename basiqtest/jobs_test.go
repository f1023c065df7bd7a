package basiqtest_test

import (
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banklink-go/basiq/basiqtest"
)

// Hooli's recorded step averages.
const (
	hooliVerify       = 8154 * time.Millisecond
	hooliAccounts     = 3820 * time.Millisecond
	hooliTransactions = 7127 * time.Millisecond
	hooliJob          = hooliVerify + hooliAccounts + hooliTransactions
)

func TestJobProgressesWithTheClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := basiqtest.NewServer(basiqtest.InMemory())
		defer srv.Close()
		a := newAPI(t, srv)
		tok := a.serverToken("2.1")
		userID := a.createUser(tok)
		jobID := a.connect(tok, userID, "AU00000", "gavinBelson", "hooli2016")

		j := a.job(tok, jobID)
		assert.Equal(t, "job", j.Type)
		assert.Equal(t, srv.URL+"/jobs/"+jobID, j.Links.Self)
		assert.Empty(t, j.Links.Source, "source appears once credentials are verified")
		assert.Empty(t, j.JobType, "jobType is a 3.0 field")
		assert.Nil(t, j.Institution, "the single job has no institution")
		assert.Equal(t, []string{"verify-credentials=in-progress", "retrieve-accounts=pending", "retrieve-transactions=pending"}, j.statuses())
		assert.Nil(t, j.step(t, "verify-credentials").result(t))

		// The connection exists at once, pending.
		conns := a.send("GET", "/users/"+userID+"/connections", tok, nil).JSON(t)["data"].([]any)
		require.Len(t, conns, 1)
		conn := conns[0].(map[string]any)
		assert.Equal(t, "pending", conn["status"])
		assert.Nil(t, conn["lastUsed"])
		connID := conn["id"].(string)

		time.Sleep(hooliVerify - time.Millisecond)
		assert.Equal(t, "in-progress", a.job(tok, jobID).step(t, "verify-credentials").Status)

		time.Sleep(time.Millisecond)
		j = a.job(tok, jobID)
		assert.Equal(t, []string{"verify-credentials=success", "retrieve-accounts=in-progress", "retrieve-transactions=pending"}, j.statuses())
		assert.Equal(t, map[string]any{"type": "link", "url": "/users/" + userID + "/connections/" + connID},
			j.step(t, "verify-credentials").result(t))
		assert.Equal(t, srv.URL+"/users/"+userID+"/connections/"+connID, j.Links.Source)
		assert.Equal(t, "active", a.send("GET", "/users/"+userID+"/connections/"+connID, tok, nil).JSON(t)["status"])

		time.Sleep(hooliAccounts + hooliTransactions)
		j = a.job(tok, jobID)
		assert.Equal(t, []string{"verify-credentials=success", "retrieve-accounts=success", "retrieve-transactions=success"}, j.statuses())
		assert.Equal(t, "/users/"+userID+"/accounts?filter=institution.id.eq('AU00000')", j.step(t, "retrieve-accounts").result(t)["url"])
		assert.Equal(t, "/users/"+userID+"/transactions?filter=institution.id.eq('AU00000')", j.step(t, "retrieve-transactions").result(t)["url"])
		created, err := time.Parse(time.RFC3339, j.Created)
		require.NoError(t, err)
		updated, err := time.Parse(time.RFC3339, j.Updated)
		require.NoError(t, err)
		assert.Equal(t, hooliJob.Truncate(time.Second), updated.Sub(created))

		c := a.send("GET", "/users/"+userID+"/connections/"+connID, tok, nil).JSON(t)
		assert.Equal(t, j.Updated, c["lastUsed"])
		assert.Len(t, c["accounts"].(map[string]any)["data"], 3)

		state, ok := srv.Job(jobID)
		require.True(t, ok)
		assert.True(t, state.Done)
		assert.Equal(t, "create", state.Operation)
		assert.Equal(t, connID, state.ConnectionID)
	})
}

func TestSandboxLogins(t *testing.T) {
	failing := []struct {
		login, password string
		step, code      string
		detail          string
		connStatus      string
	}{
		{"bighead", "password", "verify-credentials", "invalid-credentials", "Account is locked", "invalid"},
		{"erlich", "aviato", "retrieve-accounts", "account-not-accessible-requires-user-action",
			"An action is required from end-user before account details can be returned.", "invalid"},
		{"jianYang", "nothotdog", "retrieve-transactions", "service-unavailable",
			"Service is currently unavailable. Please try again later.", "active"},
		{"gavinBelson", "wrong", "verify-credentials", "invalid-credentials",
			"Cannot login to target institution using supplied credentials. Please check credentials and try again.", "invalid"},
		{"nobody", "secret", "verify-credentials", "invalid-credentials",
			"Cannot login to target institution using supplied credentials. Please check credentials and try again.", "invalid"},
	}
	for _, tc := range failing {
		t.Run(tc.login+"/"+tc.password, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				srv := basiqtest.NewServer(basiqtest.InMemory())
				defer srv.Close()
				a := newAPI(t, srv)
				tok := a.serverToken("2.1")
				userID := a.createUser(tok)
				jobID := a.connect(tok, userID, "AU00000", tc.login, tc.password)
				time.Sleep(time.Minute)

				j := a.job(tok, jobID)
				failedAt := -1
				for i, s := range j.Steps {
					switch {
					case s.Title == tc.step:
						failedAt = i
						assert.Equal(t, "failed", s.Status)
						assert.Equal(t, tc.code, s.result(t)["code"])
						assert.Equal(t, tc.detail, s.result(t)["detail"])
						assert.NotEmpty(t, s.result(t)["title"])
					case failedAt < 0:
						assert.Equal(t, "success", s.Status, s.Title)
					default:
						assert.Equal(t, "pending", s.Status, s.Title)
						assert.Nil(t, s.result(t))
					}
				}
				require.GreaterOrEqual(t, failedAt, 0)
				state, _ := srv.Job(jobID)
				assert.True(t, state.Done)

				conn := a.send("GET", "/users/"+userID+"/connections", tok, nil).JSON(t)["data"].([]any)[0].(map[string]any)
				assert.Equal(t, tc.connStatus, conn["status"])
			})
		})
	}

	happy := []struct{ login, password string }{
		{"Wentworth-Smith", "whislter"}, {"Whistler", "ShowBox"}, {"Gilfoyle", "PiedPiper"}, {"gavinBelson", "hooli2016"},
		{"jared", "django"}, {"richard", "tabsnotspaces"}, {"laurieBream", "business2024"}, {"ashMann", "hooli2024"},
	}
	for _, tc := range happy {
		t.Run(tc.login, func(t *testing.T) {
			srv := basiqtest.NewServer(basiqtest.InMemory(), basiqtest.WithTimeScale(0))
			defer srv.Close()
			a := newAPI(t, srv)
			tok := a.serverToken("2.1")
			for _, inst := range []string{"AU00000", "AU00004"} {
				jobID := a.connect(tok, a.createUser(tok), inst, tc.login, tc.password)
				assert.Equal(t, []string{"verify-credentials=success", "retrieve-accounts=success", "retrieve-transactions=success"},
					a.job(tok, jobID).statuses())
			}
		})
	}
}

func TestWithFailureStep(t *testing.T) {
	srv := basiqtest.NewServer(basiqtest.InMemory(), basiqtest.WithTimeScale(0),
		basiqtest.WithFailureStep("jianYang", basiqtest.StepVerifyCredentials),
		basiqtest.WithFailureStep("erlich", basiqtest.StepRetrieveTransactions))
	defer srv.Close()
	a := newAPI(t, srv)
	tok := a.serverToken("2.1")
	userID := a.createUser(tok)

	j := a.job(tok, a.connect(tok, userID, "AU00000", "jianYang", "nothotdog"))
	assert.Equal(t, []string{"verify-credentials=failed", "retrieve-accounts=pending", "retrieve-transactions=pending"}, j.statuses())
	assert.Equal(t, "service-unavailable", j.step(t, "verify-credentials").result(t)["code"])

	j = a.job(tok, a.connect(tok, userID, "AU00000", "erlich", "aviato"))
	assert.Equal(t, []string{"verify-credentials=success", "retrieve-accounts=success", "retrieve-transactions=failed"}, j.statuses())
}

func TestSetLoginOutcome(t *testing.T) {
	srv := basiqtest.NewServer(basiqtest.InMemory(), basiqtest.WithTimeScale(0))
	defer srv.Close()
	a := newAPI(t, srv)
	tok := a.serverToken("2.1")
	userID := a.createUser(tok)

	// Clearing a sandbox failure makes the login succeed.
	srv.SetLoginOutcome("bighead", basiqtest.Outcome{})
	j := a.job(tok, a.connect(tok, userID, "AU00000", "bighead", "password"))
	assert.Equal(t, "success", j.step(t, "retrieve-transactions").Status)

	// Any login can be made to fail, with Basiq's usual text by default.
	srv.SetLoginOutcome("gavinBelson", basiqtest.Outcome{Step: basiqtest.StepRetrieveAccounts, Code: "maintenance"})
	j = a.job(tok, a.connect(tok, userID, "AU00000", "gavinBelson", "hooli2016"))
	res := j.step(t, "retrieve-accounts").result(t)
	assert.Equal(t, "maintenance", res["code"])
	assert.NotEmpty(t, res["title"])
	assert.NotEmpty(t, res["detail"])

	// A step the job lacks means verify-credentials.
	srv.SetLoginOutcome("jared", basiqtest.Outcome{Step: basiqtest.StepMFAChallenge, Code: "invalid-credentials", Detail: "MFA not supported"})
	j = a.job(tok, a.connect(tok, userID, "AU00000", "jared", "django"))
	assert.Equal(t, "failed", j.step(t, "verify-credentials").Status)
	assert.Equal(t, "MFA not supported", j.step(t, "verify-credentials").result(t)["detail"])
}

func TestOutcomeChangesRunningJobs(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := basiqtest.NewServer(basiqtest.InMemory())
		defer srv.Close()
		a := newAPI(t, srv)
		tok := a.serverToken("2.1")
		jobID := a.connect(tok, a.createUser(tok), "AU00000", "gavinBelson", "hooli2016")

		time.Sleep(hooliVerify) // verify-credentials succeeded before the change…
		srv.SetLoginOutcome("gavinBelson", basiqtest.Outcome{Step: basiqtest.StepRetrieveAccounts, Code: "service-unavailable"})
		time.Sleep(time.Minute) // …retrieve-accounts ends after it.
		assert.Equal(t, []string{"verify-credentials=success", "retrieve-accounts=failed", "retrieve-transactions=pending"},
			a.job(tok, jobID).statuses())
	})
}

func TestPasswordChangedThenUpdate(t *testing.T) {
	srv := basiqtest.NewServer(basiqtest.InMemory(), basiqtest.WithTimeScale(0))
	defer srv.Close()
	a := newAPI(t, srv)
	tok := a.serverToken("2.1")
	userID := a.createUser(tok)
	jobID := a.connect(tok, userID, "AU00000", "richard", "tabsnotspaces")
	state, _ := srv.Job(jobID)
	connPath := "/users/" + userID + "/connections/" + state.ConnectionID

	srv.SetLoginPassword("richard", "middle-out")
	r := a.send("POST", connPath+"/refresh", tok, nil)
	require.Equal(t, http.StatusAccepted, r.Status)
	j := a.job(tok, r.JSON(t)["id"].(string))
	assert.Equal(t, "invalid-credentials", j.step(t, "verify-credentials").result(t)["code"])
	assert.Equal(t, "invalid", a.send("GET", connPath, tok, nil).JSON(t)["status"])

	// On 2.x an invalid connection cannot be refreshed until its credentials are updated.
	requireError(t, a.send("POST", connPath+"/refresh", tok, nil), http.StatusBadRequest, "invalid-credentials")

	requireError(t, a.send("POST", connPath, tok, map[string]string{"securityCode": "1"}), http.StatusBadRequest, "parameter-not-supplied",
		"Password parameter is required.")
	r = a.send("POST", connPath, tok, map[string]string{"password": "middle-out"})
	require.Equal(t, http.StatusAccepted, r.Status)
	j = a.job(tok, r.JSON(t)["id"].(string))
	assert.Equal(t, "success", j.step(t, "retrieve-transactions").Status)
	assert.Equal(t, "active", a.send("GET", connPath, tok, nil).JSON(t)["status"])
	state, _ = srv.Job(j.ID)
	assert.Equal(t, "update", state.Operation)
}

func TestMFA(t *testing.T) {
	answer := func(a *api, tok, jobID string, answers ...string) resp {
		return a.send("POST", "/jobs/"+jobID+"/mfa", tok, map[string]any{"mfa-response": answers})
	}
	start := func(t *testing.T, login, password string) (*basiqtest.Server, *api, string, string) {
		srv := basiqtest.NewServer(basiqtest.InMemory())
		t.Cleanup(srv.Close)
		a := newAPI(t, srv)
		server := a.serverToken("2.1")
		userID := a.createUser(server)
		jobID := a.connect(server, userID, "AU00002", login, password)
		return srv, a, a.clientToken("2.1", userID), jobID
	}

	t.Run("right answer", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			srv, a, client, jobID := start(t, "gavinBelson", "hooli2016")
			requireError(t, answer(a, client, jobID, "Hooli"), http.StatusBadRequest, "parameter-not-valid",
				"Job is not waiting for an MFA response.")

			time.Sleep(hooliVerify + time.Second)
			j := a.job(client, jobID)
			assert.Equal(t, []string{"verify-credentials=success", "mfa-challenge=in-progress", "retrieve-accounts=pending",
				"retrieve-transactions=pending"}, j.statuses())
			prompt := j.step(t, "mfa-challenge").result(t)
			assert.Equal(t, map[string]any{
				"type": "mfa", "method": "security-questions", "description": "Please answer the security question.",
				"input": []any{"What's your first company?"}, "expiryMs": float64(120000),
				"links": map[string]any{"response": srv.URL + "/jobs/" + jobID + "/mfa"},
			}, prompt)

			requireError(t, answer(a, client, jobID), http.StatusBadRequest, "parameter-not-supplied")
			r := answer(a, client, jobID, "Hooli")
			require.Equal(t, http.StatusAccepted, r.Status)
			assert.Equal(t, jobID, r.JSON(t)["id"])
			requireError(t, answer(a, client, jobID, "Hooli"), http.StatusBadRequest, "parameter-not-valid")

			time.Sleep(time.Minute)
			j = a.job(client, jobID)
			assert.Equal(t, []string{"verify-credentials=success", "mfa-challenge=success", "retrieve-accounts=success",
				"retrieve-transactions=success"}, j.statuses())
			assert.Equal(t, "mfa", j.step(t, "mfa-challenge").result(t)["type"], "the prompt stays as the result")
		})
	})
	t.Run("wrong answer", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			_, a, client, jobID := start(t, "jared", "django")
			time.Sleep(time.Minute)
			assert.Equal(t, "token", a.job(client, jobID).step(t, "mfa-challenge").result(t)["method"])
			require.Equal(t, http.StatusAccepted, answer(a, client, jobID, "9999").Status)
			time.Sleep(time.Minute)
			j := a.job(client, jobID)
			assert.Equal(t, []string{"verify-credentials=success", "mfa-challenge=failed", "retrieve-accounts=pending",
				"retrieve-transactions=pending"}, j.statuses())
			assert.Equal(t, "invalid-credentials", j.step(t, "mfa-challenge").result(t)["code"])
		})
	})
	t.Run("two questions", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			_, a, client, jobID := start(t, "Wentworth-Smith", "whislter")
			time.Sleep(time.Minute)
			assert.Len(t, a.job(client, jobID).step(t, "mfa-challenge").result(t)["input"], 2)
			require.Equal(t, http.StatusAccepted, answer(a, client, jobID, "Basiq", "AU00000").Status)
			time.Sleep(time.Minute)
			assert.Equal(t, "success", a.job(client, jobID).step(t, "retrieve-transactions").Status)
		})
	})
	t.Run("expiry", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			_, a, client, jobID := start(t, "richard", "tabsnotspaces")
			time.Sleep(hooliVerify + 119*time.Second) // Pied Piper verifies a little slower than Hooli
			assert.Equal(t, "in-progress", a.job(client, jobID).step(t, "mfa-challenge").Status)
			time.Sleep(10 * time.Second)
			s := a.job(client, jobID).step(t, "mfa-challenge")
			assert.Equal(t, "failed", s.Status)
			assert.Equal(t, "invalid-credentials", s.result(t)["code"])
			requireError(t, answer(a, client, jobID, "1234"), http.StatusBadRequest, "parameter-not-valid")
		})
	})
	t.Run("not on 2.0", func(t *testing.T) {
		_, a, _, jobID := start(t, "jared", "django")
		r := a.tokenResp("2.0", map[string][]string{"scope": {"CLIENT_ACCESS"}})
		client20 := r.JSON(t)["access_token"].(string)
		requireError(t, answer(a, client20, jobID, "1234"), http.StatusNotFound, "resource-not-found",
			"Route not found for this API version")
	})
}

// mfaRunner runs connection jobs to the end at a time scale of 0, answering
// MFA when asked, and reports whether each job asked.
type mfaRunner struct {
	t   *testing.T
	srv *basiqtest.Server
	a   *api
	tok map[string]string // SERVER_ACCESS by version
}

func newMFARunner(t *testing.T) *mfaRunner {
	srv := basiqtest.NewServer(basiqtest.InMemory(), basiqtest.WithTimeScale(0))
	t.Cleanup(srv.Close)
	a := newAPI(t, srv)
	return &mfaRunner{t: t, srv: srv, a: a, tok: map[string]string{
		"2.0": a.serverToken("2.0"), "2.1": a.serverToken("2.1"), "3.0": a.serverToken("3.0")}}
}

// finish answers the job's MFA prompt, if it has one, with the sandbox's
// answer, and reports whether it had one. The job must then have succeeded.
func (m *mfaRunner) finish(version, jobID string, answer ...string) bool {
	m.t.Helper()
	st, ok := m.srv.Job(jobID)
	require.True(m.t, ok)
	asked := false
	for _, s := range st.Steps {
		asked = asked || s.Title == basiqtest.StepMFAChallenge
	}
	if asked {
		client := m.a.clientToken(version, st.UserID)
		r := m.a.send("POST", "/jobs/"+jobID+"/mfa", client, map[string]any{"mfa-response": answer})
		require.Equal(m.t, http.StatusAccepted, r.Status, "body: %s", r.Body)
	}
	assert.Equal(m.t, "success", m.a.job(m.tok[version], jobID).step(m.t, basiqtest.StepRetrieveTransactions).Status)
	return asked
}

// refresh refreshes the job's connection and returns the new job.
func (m *mfaRunner) refresh(version, jobID string) string {
	m.t.Helper()
	st, _ := m.srv.Job(jobID)
	r := m.a.send("POST", "/users/"+st.UserID+"/connections/"+st.ConnectionID+"/refresh", m.tok[version], nil)
	require.Equal(m.t, http.StatusAccepted, r.Status, "body: %s", r.Body)
	return r.JSON(m.t)["id"].(string)
}

// Intermittent MFA takes turns per connection: its first job asks, the next
// does not, and so on, whatever other connections (other tests' users) do.
func TestIntermittentMFA(t *testing.T) {
	m := newMFARunner(t)
	tok := m.tok["2.1"]
	first := m.a.connect(tok, m.a.createUser(tok), "AU00003", "jared", "django")
	second := m.a.connect(tok, m.a.createUser(tok), "AU00003", "richard", "tabsnotspaces")
	var asked [2][]bool
	for round := range 3 {
		for i, id := range []*string{&first, &second} {
			if round > 0 {
				*id = m.refresh("2.1", *id)
			}
			asked[i] = append(asked[i], m.finish("2.1", *id, "1234"))
		}
	}
	assert.Equal(t, [2][]bool{{true, false, true}, {true, false, true}}, asked, "each connection takes its own turns")

	// A new connection starts with a job that asks, while the others go on.
	third := m.a.connect(tok, m.a.createUser(tok), "AU00003", "jared", "django")
	assert.True(t, m.finish("2.1", third, "1234"))
	assert.False(t, m.finish("2.1", m.refresh("2.1", first), "1234"))
}

// MFA exists from API 2.1: a job started with a 2.0 token never waits for
// POST /jobs/{jobId}/mfa (a route 2.0 does not have), even at a bank that
// always asks, and takes no intermittent turn.
func TestNoMFAStepOn20(t *testing.T) {
	m := newMFARunner(t)
	tok := m.tok["2.0"]
	userID := m.a.createUser(tok)
	always := m.a.connect(tok, userID, "AU00002", "jared", "django")
	assert.Equal(t, []string{"verify-credentials=success", "retrieve-accounts=success", "retrieve-transactions=success"},
		m.a.job(tok, always).statuses())
	assert.False(t, m.finish("2.0", always))
	assert.False(t, m.finish("2.0", m.refresh("2.0", always)))
	assert.True(t, m.finish("2.1", m.refresh("2.1", always), "1234"), "the same connection on 2.1")

	sometimes := m.a.connect(tok, userID, "AU00003", "jared", "django")
	assert.False(t, m.finish("2.0", sometimes))
	assert.True(t, m.finish("2.1", m.refresh("2.1", sometimes), "1234"), "the 2.0 job took no turn")
}

// With Basiq's Consent UI the end user answers MFA inside the UI, before the
// job ids come back: a Connect job has no mfa-challenge step, but later
// refreshes through the API do.
func TestConnectAnswersMFAInTheConsentUI(t *testing.T) {
	m := newMFARunner(t)
	tok := m.tok["3.0"]
	userID := m.a.createUser(tok)
	jobID, err := m.srv.Connect(userID, "AU00002", "gavinBelson", "hooli2016")
	require.NoError(t, err)
	assert.Equal(t, []string{"verify-credentials=success", "retrieve-accounts=success", "retrieve-transactions=success"},
		m.a.job(tok, jobID).statuses())
	st, _ := m.srv.Job(jobID)
	c := m.a.send("GET", "/users/"+userID+"/connections/"+st.ConnectionID, tok, nil).JSON(t)
	assert.Equal(t, true, c["mfaEnabled"])
	assert.True(t, m.finish("3.0", m.refresh("3.0", jobID), "Hooli"), "a 3.0 refresh is answered through the API")

	// At an intermittent bank the Connect job was the connection's first, so
	// its first refresh does not ask and the next does.
	jobID, err = m.srv.Connect(userID, "AU00003", "gavinBelson", "hooli2016")
	require.NoError(t, err)
	assert.False(t, m.finish("3.0", jobID))
	next := m.refresh("3.0", jobID)
	assert.False(t, m.finish("3.0", next))
	assert.True(t, m.finish("3.0", m.refresh("3.0", next), "Hooli"))
}

func TestDuplicateCreateIsHeldSixMinutes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := basiqtest.NewServer(basiqtest.InMemory())
		defer srv.Close()
		a := newAPI(t, srv)
		tok := a.serverToken("2.1")
		first := a.connect(tok, a.createUser(tok), "AU00000", "gavinBelson", "hooli2016")
		second := a.connect(tok, a.createUser(tok), "AU00000", "gavinBelson", "hooli2016")
		require.NotEqual(t, first, second)

		allPending := []string{"verify-credentials=pending", "retrieve-accounts=pending", "retrieve-transactions=pending"}
		assert.Equal(t, allPending, a.job(tok, second).statuses())
		time.Sleep(6*time.Minute - time.Second)
		assert.Equal(t, "success", a.job(tok, first).step(t, "retrieve-transactions").Status)
		assert.Equal(t, allPending, a.job(tok, second).statuses())

		time.Sleep(time.Second)
		assert.Equal(t, "in-progress", a.job(tok, second).step(t, "verify-credentials").Status)
		time.Sleep(hooliJob)
		assert.Equal(t, "success", a.job(tok, second).step(t, "retrieve-transactions").Status)

		// Once nothing runs, a new create starts at once.
		third := a.connect(tok, a.createUser(tok), "AU00000", "gavinBelson", "hooli2016")
		assert.Equal(t, "in-progress", a.job(tok, third).step(t, "verify-credentials").Status)
	})
}

func TestRepostedCredentialsReuseTheConnection(t *testing.T) {
	srv := basiqtest.NewServer(basiqtest.InMemory(), basiqtest.WithTimeScale(0))
	defer srv.Close()
	a := newAPI(t, srv)
	tok := a.serverToken("2.1")
	userID := a.createUser(tok)
	first, _ := srv.Job(a.connect(tok, userID, "AU00000", "gavinBelson", "hooli2016"))
	second, _ := srv.Job(a.connect(tok, userID, "AU00000", "gavinBelson", "hooli2016"))
	other, _ := srv.Job(a.connect(tok, userID, "AU00004", "gavinBelson", "hooli2016"))
	assert.NotEqual(t, first.ID, second.ID)
	assert.Equal(t, first.ConnectionID, second.ConnectionID)
	assert.NotEqual(t, first.ConnectionID, other.ConnectionID)
	assert.Len(t, a.send("GET", "/users/"+userID+"/connections", tok, nil).JSON(t)["data"], 2)
}

func TestRefreshWhileRunningReturnsTheRunningJob(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := basiqtest.NewServer(basiqtest.InMemory())
		defer srv.Close()
		a := newAPI(t, srv)
		tok := a.serverToken("3.0")
		userID := a.createUser(tok)
		created, err := srv.Connect(userID, "AU00000", "gavinBelson", "hooli2016")
		require.NoError(t, err)
		state, _ := srv.Job(created)
		refresh := "/users/" + userID + "/connections/" + state.ConnectionID + "/refresh"

		r := a.send("POST", refresh, tok, nil)
		require.Equal(t, http.StatusOK, r.Status)
		assert.Equal(t, map[string]any{"type": "job", "id": created, "links": map[string]any{"self": srv.URL + "/jobs/" + created}}, r.JSON(t))

		time.Sleep(hooliJob)
		r = a.send("POST", refresh, tok, nil)
		require.Equal(t, http.StatusAccepted, r.Status)
		refreshed := r.JSON(t)["id"].(string)
		assert.NotEqual(t, created, refreshed)

		r = a.send("POST", refresh, tok, nil)
		require.Equal(t, http.StatusOK, r.Status)
		assert.Equal(t, refreshed, r.JSON(t)["id"])
		st, _ := srv.Job(refreshed)
		assert.Equal(t, "refresh", st.Operation)
	})
}

func TestRefreshAll(t *testing.T) {
	srv := basiqtest.NewServer(basiqtest.InMemory(), basiqtest.WithTimeScale(0))
	defer srv.Close()
	a := newAPI(t, srv)
	tok := a.serverToken("2.1")
	userID := a.createUser(tok)

	r := a.send("POST", "/users/"+userID+"/connections/refresh", tok, nil)
	require.Equal(t, http.StatusAccepted, r.Status)
	assert.Empty(t, r.JSON(t)["data"])

	a.connect(tok, userID, "AU00000", "gavinBelson", "hooli2016")
	a.connect(tok, userID, "AU00004", "jared", "django")
	r = a.send("POST", "/users/"+userID+"/connections/refresh", tok, nil)
	require.Equal(t, http.StatusAccepted, r.Status)
	body := r.JSON(t)
	assert.Equal(t, "list", body["type"])
	data := body["data"].([]any)
	require.Len(t, data, 2)
	for _, d := range data {
		stub := d.(map[string]any)
		assert.Equal(t, "job", stub["type"])
		st, ok := srv.Job(stub["id"].(string))
		require.True(t, ok)
		assert.Equal(t, "refresh", st.Operation)
	}
}

func TestUpdateServiceUnavailableIsRetriedEveryTwoHours(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := basiqtest.NewServer(basiqtest.InMemory(), basiqtest.WithTokenTTL(24*time.Hour))
		defer srv.Close()
		a := newAPI(t, srv)
		tok := a.serverToken("2.1")
		userID := a.createUser(tok)
		created := a.connect(tok, userID, "AU00000", "jianYang", "nothotdog")
		time.Sleep(time.Minute)
		st, _ := srv.Job(created)
		assert.True(t, st.Done, "a create is not retried")
		assert.True(t, st.NextChange.IsZero())

		r := a.send("POST", "/users/"+userID+"/connections/"+st.ConnectionID, tok, map[string]string{"password": "nothotdog"})
		require.Equal(t, http.StatusAccepted, r.Status)
		update := r.JSON(t)["id"].(string)
		time.Sleep(hooliJob)
		failedAt := time.Now()

		st, _ = srv.Job(update)
		assert.Equal(t, "failed", st.Steps[2].Status)
		assert.Equal(t, "service-unavailable", st.Steps[2].Code)
		assert.False(t, st.Done)
		assert.Equal(t, failedAt.Add(2*time.Hour), st.NextChange)

		time.Sleep(2 * time.Hour)
		j := a.job(tok, update)
		assert.Equal(t, []string{"verify-credentials=success", "retrieve-accounts=success", "retrieve-transactions=in-progress"}, j.statuses())
		assert.Nil(t, j.step(t, "retrieve-transactions").result(t))
		time.Sleep(hooliTransactions)
		assert.Equal(t, "failed", a.job(tok, update).step(t, "retrieve-transactions").Status)

		// A refresh meanwhile answers with the job Basiq is retrying.
		r = a.send("POST", "/users/"+userID+"/connections/"+st.ConnectionID+"/refresh", tok, nil)
		assert.Equal(t, http.StatusOK, r.Status)
		assert.Equal(t, update, r.JSON(t)["id"])

		// The bank recovers; the next retry succeeds.
		srv.SetLoginOutcome("jianYang", basiqtest.Outcome{})
		time.Sleep(2*time.Hour + hooliTransactions)
		st, _ = srv.Job(update)
		assert.True(t, st.Done)
		assert.Equal(t, "success", st.Steps[2].Status)
	})
}

func TestUpdateRetriesStopAfterSevenDays(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := basiqtest.NewServer(basiqtest.InMemory())
		defer srv.Close()
		a := newAPI(t, srv)
		tok := a.serverToken("2.1")
		userID := a.createUser(tok)
		created, err := srv.Connect(userID, "AU00000", "jianYang", "nothotdog")
		require.NoError(t, err)
		st, _ := srv.Job(created)
		r := a.send("POST", "/users/"+userID+"/connections/"+st.ConnectionID, tok, map[string]string{"password": "nothotdog"})
		update := r.JSON(t)["id"].(string)
		start := time.Now()

		time.Sleep(6 * 24 * time.Hour)
		st, _ = srv.Job(update)
		assert.False(t, st.Done, "still within Basiq's retry window")

		time.Sleep(24*time.Hour + time.Minute)
		st, _ = srv.Job(update)
		assert.True(t, st.Done)
		assert.True(t, st.NextChange.IsZero())
		assert.Equal(t, "failed", st.Steps[2].Status)
		assert.False(t, st.Updated.After(start.Add(7*24*time.Hour+hooliTransactions)))
		assert.True(t, st.Updated.After(start.Add(7*24*time.Hour-2*time.Hour)))
	})
}

func TestListJobs(t *testing.T) {
	srv := basiqtest.NewServer(basiqtest.InMemory(), basiqtest.WithTimeScale(0))
	defer srv.Close()
	a := newAPI(t, srv)
	tok := a.serverToken("3.0")
	userID := a.createUser(tok)

	r := a.send("GET", "/users/"+userID+"/jobs", tok, nil)
	require.Equal(t, http.StatusOK, r.Status)
	assert.Equal(t, map[string]any{"type": "list", "size": float64(0), "data": []any{},
		"links": map[string]any{"self": srv.URL + "/users/" + userID + "/jobs"}}, r.JSON(t))

	first, err := srv.Connect(userID, "AU00000", "gavinBelson", "hooli2016")
	require.NoError(t, err)
	second, err := srv.Connect(userID, "AU00004", "jared", "django")
	require.NoError(t, err)
	st, _ := srv.Job(first)

	body := a.send("GET", "/users/"+userID+"/jobs", tok, nil).JSON(t)
	assert.EqualValues(t, 2, body["size"])
	data := body["data"].([]any)
	assert.Equal(t, second, data[0].(map[string]any)["id"], "newest first")
	item := data[1].(map[string]any)
	assert.Equal(t, "connection", item["jobType"])
	assert.Equal(t, map[string]any{"type": "institution", "id": "AU00000",
		"links": map[string]any{"self": srv.URL + "/institutions/AU00000"}}, item["institution"])

	r = a.send("GET", "/users/"+userID+"/jobs?filter=connection.id.eq('"+st.ConnectionID+"')", tok, nil)
	data = r.JSON(t)["data"].([]any)
	require.Len(t, data, 1)
	assert.Equal(t, first, data[0].(map[string]any)["id"])

	e := requireError(t, a.send("GET", "/users/"+userID+"/jobs?filter=connection.id.gt('x')", tok, nil),
		http.StatusBadRequest, "parameter-not-valid", "The provided filter parameter is in invalid format or unsupported")
	assert.Equal(t, "filter", e.Data[0].Source["parameter"])

	requireError(t, a.send("GET", "/jobs/not-a-uuid", tok, nil), http.StatusBadRequest, "parameter-not-valid", "Job ID value is not valid")
	requireError(t, a.send("GET", "/jobs/00000000-0000-4000-8000-000000000000", tok, nil), http.StatusNotFound, "resource-not-found")
}

func TestVersion3(t *testing.T) {
	srv := basiqtest.NewServer(basiqtest.InMemory(), basiqtest.WithTimeScale(0))
	defer srv.Close()
	a := newAPI(t, srv)
	tok := a.serverToken("3.0")
	userID := a.createUser(tok)

	r := a.send("POST", "/users/"+userID+"/connections", tok, map[string]any{
		"loginId": "gavinBelson", "password": "hooli2016", "institution": map[string]string{"id": "AU00000"}})
	requireError(t, r, http.StatusNotFound, "resource-not-found", "Route not found for this API version")

	jobID, err := srv.Connect(userID, "AU00000", "gavinBelson", "hooli2016")
	require.NoError(t, err)
	j := a.job(tok, jobID)
	assert.Equal(t, "connection", j.JobType)
	st, _ := srv.Job(jobID)
	connPath := "/users/" + userID + "/connections/" + st.ConnectionID
	requireError(t, a.send("POST", connPath, tok, map[string]string{"password": "x"}), http.StatusNotFound, "resource-not-found",
		"Route not found for this API version")
	c := a.send("GET", connPath, tok, nil).JSON(t)
	assert.Equal(t, "web", c["method"])

	_, err = srv.Connect(userID, "AU99999", "gavinBelson", "hooli2016")
	assert.Error(t, err)
	_, err = srv.Connect("00000000-0000-4000-8000-000000000000", "AU00000", "gavinBelson", "hooli2016")
	assert.Error(t, err)
}

func TestWithClock(t *testing.T) {
	clock := newFakeClock()
	srv := basiqtest.NewServer(basiqtest.WithClock(clock.Now)) // on a real socket
	defer srv.Close()
	a := &api{t: t, srv: srv, http: &http.Client{}}
	tok := a.serverToken("2.1")
	jobID := a.connect(tok, a.createUser(tok), "AU00000", "gavinBelson", "hooli2016")
	assert.Equal(t, "2025-03-01T09:00:00Z", a.job(tok, jobID).Created)

	for {
		st, ok := srv.Job(jobID)
		require.True(t, ok)
		if st.Done {
			break
		}
		clock.Add(st.NextChange.Sub(clock.Now()))
	}
	assert.Equal(t, clock.Now(), time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC).Add(hooliJob))
	assert.Equal(t, "success", a.job(tok, jobID).step(t, "retrieve-transactions").Status)

	clock.Add(time.Hour)
	requireError(t, a.send("GET", "/jobs/"+jobID, tok, nil), http.StatusForbidden, "access-denied")
}
