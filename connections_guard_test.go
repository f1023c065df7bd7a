package basiq

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func connJSON(id, status string, lastUsed time.Time, created time.Time) string {
	lu := ""
	if !lastUsed.IsZero() {
		lu = `"lastUsed":"` + lastUsed.UTC().Format(time.RFC3339) + `",`
	}
	return fmt.Sprintf(`{"type":"connection","id":%q,"status":%q,%s"createdDate":%q,
		"institution":{"type":"institution","id":"AU00000","links":{"self":"https://au-api.basiq.io/institutions/AU00000"}},
		"links":{"self":"https://au-api.basiq.io/users/u1/connections/%s"}}`, id, status, lu, created.UTC().Format(time.RFC3339), id)
}

func jobJSON(id, conn string, created time.Time, steps ...string) string {
	return fmt.Sprintf(`{"type":"job","id":%q,"created":%q,"updated":%q,"steps":[%s],
		"institution":{"type":"institution","id":"AU00000"},
		"links":{"self":"https://au-api.basiq.io/jobs/%s","source":"https://au-api.basiq.io/users/u1/connections/%s"}}`,
		id, created.UTC().Format(time.RFC3339), created.Add(20*time.Second).UTC().Format(time.RFC3339), strings.Join(steps, ","), id, conn)
}

func step(title, status string) string {
	return fmt.Sprintf(`{"title":%q,"status":%q,"result":null}`, title, status)
}

func failedStep(title, code string) string {
	return fmt.Sprintf(`{"title":%q,"status":"failed","result":{"code":%q,"title":"Failed","detail":"it failed"}}`, title, code)
}

const (
	guardConnPath = "GET /users/u1/connections/c1"
	guardJobsPath = "GET /users/u1/jobs?filter=connection.id.eq%28%27c1%27%29"
	guardRefresh  = "POST /users/u1/connections/c1/refresh"
)

func TestRefreshIfStale(t *testing.T) {
	now := time.Now()
	done := []string{step("verify-credentials", "success"), step("retrieve-accounts", "success"), step("retrieve-transactions", "success")}
	running := []string{step("verify-credentials", "success"), step("retrieve-accounts", "in-progress"), step("retrieve-transactions", "pending")}
	cases := []struct {
		name      string
		lastUsed  time.Time
		jobs      string
		wantCalls []string
		wantJob   string // "" for nil
		reused    bool
	}{
		{"fresh by lastUsed", now.Add(-time.Hour), "", []string{guardConnPath}, "", false},
		{"stale and idle", now.Add(-48 * time.Hour), jsonList(jobJSON("j-old", "c1", now.Add(-48*time.Hour), done...)),
			[]string{guardConnPath, guardJobsPath, guardRefresh}, "j-new", false},
		{"stale but a job is running", now.Add(-48 * time.Hour), jsonList(jobJSON("j-run", "c1", now.Add(-time.Minute), running...)),
			[]string{guardConnPath, guardJobsPath}, "j-run", true},
		{"never used, job pending", time.Time{}, jsonList(jobJSON("j-run", "c1", now, step("verify-credentials", "pending"))),
			[]string{guardConnPath, guardJobsPath}, "j-run", true},
		{"never used, no jobs", time.Time{}, jsonList(),
			[]string{guardConnPath, guardJobsPath, guardRefresh}, "j-new", false},
		{"lastUsed stale but a recent job succeeded", now.Add(-48 * time.Hour), jsonList(jobJSON("j-ok", "c1", now.Add(-2*time.Hour), done...)),
			[]string{guardConnPath, guardJobsPath}, "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := newCoreAPI(t)
			a.on(guardConnPath, 200, connJSON("c1", "active", tc.lastUsed, now.Add(-30*24*time.Hour)))
			a.on(guardJobsPath, 200, tc.jobs)
			a.on(guardRefresh, 202, `{"type":"job","id":"j-new","links":{"self":"https://au-api.basiq.io/jobs/j-new"}}`)
			job, err := newCoreClient(t, a).Connections.RefreshIfStale(t.Context(), "u1", "c1", 24*time.Hour)
			require.NoError(t, err)
			assert.Equal(t, tc.wantCalls, a.calls())
			if tc.wantJob == "" {
				assert.Nil(t, job)
				return
			}
			require.NotNil(t, job)
			assert.Equal(t, tc.wantJob, job.ID)
			assert.Equal(t, tc.reused, job.Reused)
		})
	}
	_, err := newCoreClient(t, newCoreAPI(t)).Connections.RefreshIfStale(t.Context(), "u1", "c1", 0)
	assert.ErrorIs(t, err, ErrInvalidInput)
}

func TestHealth(t *testing.T) {
	now := time.Now().Truncate(time.Second)
	created := now.Add(-10 * 24 * time.Hour)
	a := newCoreAPI(t)
	a.on("GET /users/u1/connections", 200, jsonList(
		connJSON("c-ok", "active", now.Add(-time.Hour), created),
		connJSON("c-bad", "invalid", now.Add(-time.Hour), created),
		connJSON("c-run", "active", now.Add(-time.Hour), created),
		connJSON("c-down", "active", now.Add(-time.Hour), created),
	))
	a.on("GET /users/u1/jobs", 200, jsonList(
		jobJSON("j1", "c-ok", now.Add(-2*time.Hour), step("verify-credentials", "success"), step("retrieve-accounts", "success")),
		jobJSON("j2", "c-bad", now.Add(-time.Hour), failedStep("verify-credentials", "invalid-credentials"), step("retrieve-accounts", "pending")),
		jobJSON("j2-old", "c-bad", now.Add(-3*time.Hour), step("verify-credentials", "success")),
		jobJSON("j3", "c-run", now.Add(-time.Minute), step("verify-credentials", "success"), step("retrieve-accounts", "in-progress")),
		jobJSON("j4", "c-down", now.Add(-time.Hour), step("verify-credentials", "success"), failedStep("retrieve-accounts", "service-unavailable")),
		jobJSON("j4-old", "c-down", now.Add(-4*time.Hour), step("verify-credentials", "success")),
	))
	a.on("GET /institutions/AU00000", 200, `{"type":"institution","id":"AU00000","name":"Hooli","status":"major-outage"}`)

	hs, err := newCoreClient(t, a).Connections.Health(t.Context(), "u1")
	require.NoError(t, err)
	require.Len(t, hs, 4)
	byID := map[string]ConnectionHealth{}
	for _, h := range hs {
		byID[h.Connection.ID] = h
	}

	ok := byID["c-ok"]
	assert.Equal(t, "j1", ok.LatestJob.ID)
	assert.False(t, ok.NeedsUserAction)
	assert.False(t, ok.Refreshing)
	assert.Nil(t, ok.Diagnosis)

	bad := byID["c-bad"]
	assert.Equal(t, "j2", bad.LatestJob.ID, "the newest job, not the older success")
	assert.True(t, bad.NeedsUserAction)
	require.NotNil(t, bad.Diagnosis)
	assert.Equal(t, ActionUpdateCredentials, bad.Diagnosis.Action, "a later job of the connection is a refresh")
	assert.Equal(t, OpRefresh, bad.Diagnosis.Operation)

	run := byID["c-run"]
	assert.True(t, run.Refreshing)
	assert.Nil(t, run.Diagnosis)

	down := byID["c-down"]
	require.NotNil(t, down.Diagnosis)
	assert.Equal(t, ActionWaitForInstitution, down.Diagnosis.Action, "the institution's major outage was consulted")
	assert.False(t, down.NeedsUserAction)

	assert.Equal(t, []string{"GET /users/u1/connections", "GET /users/u1/jobs", "GET /institutions/AU00000"}, a.calls(),
		"two requests per user, plus one cached institution look-up")
}

func TestHealthConsultsStatusForAGenericRefreshFailure(t *testing.T) {
	now := time.Now().Truncate(time.Second)
	a := newCoreAPI(t)
	a.on("GET /users/u1/connections", 200, jsonList(connJSON("c1", "active", now.Add(-time.Hour), now.Add(-10*24*time.Hour))))
	a.on("GET /users/u1/jobs", 200, jsonList(
		jobJSON("j2", "c1", now.Add(-time.Hour), step("verify-credentials", "success"),
			`{"title":"retrieve-accounts","status":"failed","result":{"title":"","detail":""}}`),
		jobJSON("j1", "c1", now.Add(-5*24*time.Hour), step("verify-credentials", "success"))))
	a.on("GET /institutions/AU00000", 200, `{"type":"institution","id":"AU00000","status":"major-outage"}`)
	hs, err := newCoreClient(t, a).Connections.Health(t.Context(), "u1")
	require.NoError(t, err)
	require.Len(t, hs, 1)
	require.NotNil(t, hs[0].Diagnosis)
	assert.Equal(t, ActionWaitForInstitution, hs[0].Diagnosis.Action, "a failure without a code on refresh depends on the bank's status")
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

// An invalid web connection whose bank the user now reaches through a
// working open-banking connection (Basiq's migration: no active web
// connection may stand beside it) is named for deletion; one beside a second
// web connection (maybe a second login) is not.
func TestHealthNamesOnlyAWebConnectionReplacedByOpenBanking(t *testing.T) {
	now := time.Now().Truncate(time.Second)
	created := now.Add(-10 * 24 * time.Hour)
	ob := func(id string) string {
		return strings.Replace(connJSON(id, "active", now.Add(-time.Hour), now.Add(-time.Hour)), `"type":"connection",`, `"type":"connection","method":"open-banking",`, 1)
	}
	for _, tc := range []struct {
		name    string
		other   string
		replace bool
	}{
		{"an open-banking connection replaces it", ob("c-ob"), true},
		{"a second web connection does not", connJSON("c-web2", "active", now.Add(-time.Hour), now.Add(-time.Hour)), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := newCoreAPI(t)
			a.on("GET /users/u1/connections", 200, jsonList(connJSON("c-web", "invalid", now.Add(-24*time.Hour), created), tc.other))
			a.on("GET /users/u1/connections/c-web", 200, connJSON("c-web", "invalid", now.Add(-24*time.Hour), created))
			a.on("GET /users/u1/jobs", 200, jsonList(
				jobJSON("j-web", "c-web", now.Add(-2*time.Hour), failedStep("verify-credentials", "invalid-credentials"))))
			c := newCoreClient(t, a)
			for _, ids := range [][]string{nil, {"c-web"}} {
				hs, err := c.Connections.Health(t.Context(), "u1", ids...)
				require.NoError(t, err)
				var h ConnectionHealth
				for _, x := range hs {
					if x.Connection.ID == "c-web" {
						h = x
					}
				}
				require.NotNil(t, h.Diagnosis, "ids %v", ids)
				if tc.replace {
					assert.Equal(t, "c-web", h.Diagnosis.RemoveConnectionID, "ids %v", ids)
					assert.False(t, h.NeedsUserAction)
					assert.Nil(t, h.Diagnosis.Consent)
				} else {
					assert.Empty(t, h.Diagnosis.RemoveConnectionID, "ids %v: maybe a second login", ids)
					assert.True(t, h.NeedsUserAction)
				}
			}
		})
	}
}

// Health counts an application's failed retries: the third failure in a row
// of the same kind escalates to support, as the retries' own Diagnoses do.
func TestHealthCountsFailuresInARow(t *testing.T) {
	now := time.Now().Truncate(time.Second)
	created := now.Add(-10 * 24 * time.Hour)
	down := func(id string, ago time.Duration) string {
		return jobJSON(id, "c1", now.Add(-ago), step("verify-credentials", "success"), failedStep("retrieve-accounts", "service-unavailable"))
	}
	for _, tc := range []struct {
		jobs []string
		want Action
	}{
		{[]string{down("j1", time.Hour)}, ActionRetryLater},
		{[]string{down("j2", time.Hour), down("j1", 2*time.Hour)}, ActionRetryLater},
		{[]string{down("j3", time.Hour), down("j2", 2*time.Hour), down("j1", 3*time.Hour)}, ActionContactSupport},
		{[]string{down("j3", time.Hour), down("j2", 2*time.Hour),
			jobJSON("j1", "c1", now.Add(-3*time.Hour), failedStep("verify-credentials", "invalid-credentials"))}, ActionRetryLater},
	} {
		a := newCoreAPI(t)
		a.on("GET /users/u1/connections", 200, jsonList(connJSON("c1", "active", now.Add(-24*time.Hour), created)))
		a.on("GET /users/u1/jobs", 200, jsonList(tc.jobs...))
		a.on("GET /institutions/AU00000", 200, `{"type":"institution","id":"AU00000","name":"Hooli","status":"operational"}`)
		hs, err := newCoreClient(t, a).Connections.Health(t.Context(), "u1")
		require.NoError(t, err)
		require.NotNil(t, hs[0].Diagnosis)
		assert.Equal(t, tc.want, hs[0].Diagnosis.Action, "%d jobs", len(tc.jobs))
	}
}
