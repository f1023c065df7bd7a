package basiq

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// on answers key ("METHOD /escaped/path?query") with a fixed JSON response.
func (a *coreAPI) on(key string, status int, body string) {
	a.onFunc(key, func(*http.Request) *http.Response { return coreJSON(status, body) })
}

// onFunc answers key with fn.
func (a *coreAPI) onFunc(key string, fn func(*http.Request) *http.Response) {
	method, path, _ := strings.Cut(key, " ")
	a.handleFunc(method, path, func(req *http.Request) (*http.Response, error) { return fn(req), nil })
}

// calls returns the API requests made (not the token's), as "METHOD path?query".
func (a *coreAPI) calls() []string {
	var out []string
	for _, r := range a.apiRequests() {
		key := r.Method + " " + r.Path
		if r.RawQuery != "" {
			key += "?" + r.RawQuery
		}
		out = append(out, key)
	}
	return out
}

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

func jsonList(items ...string) string {
	return `{"type":"list","size":` + fmt.Sprint(len(items)) + `,"data":[` + strings.Join(items, ",") + `]}`
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

func TestInstitutionAvailability(t *testing.T) {
	a := newCoreAPI(t)
	a.on("GET /institutions/AU00001", 200, `{"type":"institution","id":"AU00001","name":"Big Bank","shortName":"BigB","status":"major-outage"}`)
	a.on("GET /institutions/AU00002", 200, `{"type":"institution","id":"AU00002","name":"Small Bank","status":"operational"}`)
	c := newCoreClient(t, a)
	av, err := c.Institutions.Availability(t.Context(), "AU00001")
	require.NoError(t, err)
	assert.False(t, av.Advice.Usable)
	assert.True(t, av.Advice.TellUserFirst)
	assert.Contains(t, av.UserMessage, "BigB")
	av, err = c.Institutions.Availability(t.Context(), "AU00002")
	require.NoError(t, err)
	assert.True(t, av.Advice.Usable)
	assert.Empty(t, av.UserMessage)
	_, err = c.Institutions.Availability(t.Context(), "AU00001")
	require.NoError(t, err)
	assert.Len(t, a.calls(), 2, "the second look-up of AU00001 is cached")
}

func TestInstitutionAndConnectorFilters(t *testing.T) {
	a := newCoreAPI(t)
	insts := jsonList(
		`{"type":"institution","id":"AU00001","name":"Commonwealth Bank","shortName":"CommBank","status":"operational","tier":"1"}`,
		`{"type":"institution","id":"AU00002","name":"Hooli Bank","shortName":"Hooli","status":"major-outage","tier":"1"}`,
	)
	a.on("GET /institutions?filter=institution.country.eq%28%27Australia%27%29%2Cinstitution.tier.in%28%271%27%2C%272%27%29%2Cinstitution.stage.eq%28%27live%27%29", 200, insts)
	a.on("GET /connectors?filter=connector.method.eq%28%27web%27%29%2Cconnector.status.in%28%27operational%27%2C%27major-outage%27%29", 200,
		jsonList(`{"type":"connector","id":"AU00002","method":"web","status":"major-outage","institution":{"name":"Hooli Bank","shortName":"Hooli"}}`,
			`{"type":"connector","id":"AU00001","method":"web","status":"operational","institution":{"name":"Commonwealth Bank"}}`))
	c := newCoreClient(t, a)
	got, err := c.Institutions.List(t.Context(), &InstitutionFilter{Country: []string{"Australia"}, Tier: []string{"1", "2"},
		Stage: []string{"live"}, Status: []InstitutionStatus{StatusMajorOutage}, Name: "hOOLI"})
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, "AU00002", got[0].ID)
	cs, err := c.Connectors.List(t.Context(), &ConnectorFilter{Method: []string{"web"},
		Status: []InstitutionStatus{StatusOperational, StatusMajorOutage}, Name: "commonwealth"})
	require.NoError(t, err)
	require.Len(t, cs, 1)
	assert.Equal(t, "AU00001", cs[0].ID)
	_, err = c.Institutions.List(t.Context(), &InstitutionFilter{Country: []string{"O'Brien"}})
	assert.ErrorIs(t, err, ErrInvalidInput)
	assert.Len(t, a.calls(), 2, "the bad filter sent nothing")
}

func TestInstitutionLookupSurvivesFirstCallerGivingUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := newCoreAPI(t)
		release := make(chan struct{})
		a.onFunc("GET /institutions/AU00001", func(req *http.Request) *http.Response {
			<-release
			return coreJSON(200, `{"type":"institution","id":"AU00001","name":"Big Bank","status":"operational"}`)
		})
		c := newCoreClient(t, a)
		short, cancel := context.WithCancel(t.Context())
		firstDone := make(chan error, 1)
		go func() {
			_, err := c.Institutions.Availability(short, "AU00001")
			firstDone <- err
		}()
		synctest.Wait()
		secondDone := make(chan error, 1)
		go func() {
			av, err := c.Institutions.Availability(t.Context(), "AU00001")
			if err == nil {
				av.Institution.Name = "changed by a caller" // must not reach the cache
			}
			secondDone <- err
		}()
		synctest.Wait()
		cancel()
		assert.ErrorIs(t, <-firstDone, context.Canceled)
		close(release)
		assert.NoError(t, <-secondDone, "the second caller is not failed by the first one's cancellation")
		av, err := c.Institutions.Availability(t.Context(), "AU00001")
		require.NoError(t, err)
		assert.Equal(t, "Big Bank", av.Institution.Name, "callers get copies")
		assert.Equal(t, []string{"GET /institutions/AU00001"}, a.calls(), "one shared look-up")
	})
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

func TestConnectorStatusFilterAsksForMaintenanceAliases(t *testing.T) {
	a := newCoreAPI(t)
	a.on("GET /connectors?filter=connector.status.in%28%27under-maintenance%27%2C%27scheduled-maintenance%27%2C%27under-improvement%27%29", 200, jsonList())
	_, err := newCoreClient(t, a).Connectors.List(t.Context(), &ConnectorFilter{Status: []InstitutionStatus{StatusUnderMaintenance}})
	require.NoError(t, err)
}

func TestDeleteRetriedIntoNotFoundSucceeds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := newCoreAPI(t)
		var calls int
		a.onFunc("DELETE /users/u1/connections/c1", func(req *http.Request) *http.Response {
			calls++
			if calls == 1 {
				return coreJSON(503, `{"type":"list","data":[{"code":"service-unavailable","title":"Unavailable"}]}`)
			}
			return coreJSON(404, `{"type":"list","data":[{"code":"resource-not-found","title":"Not found"}]}`)
		})
		a.on("DELETE /users/u2", 404, `{"type":"list","data":[{"code":"resource-not-found","title":"Not found"}]}`)
		c := newCoreClient(t, a)
		assert.NoError(t, c.Connections.Delete(t.Context(), "u1", "c1"), "the 503'd attempt may have deleted it")
		assert.Equal(t, 2, calls)
		assert.ErrorIs(t, c.Users.Delete(t.Context(), "u2"), ErrNotFound, "a first-attempt 404 is still an error")
	})
}
