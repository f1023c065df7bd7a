package basiq

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

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

func TestInstitutionFallsBackToItsConnectorOnV3(t *testing.T) {
	a := newCoreAPI(t)
	a.handle(http.MethodGet, "/institutions/AU00000", http.StatusNotFound,
		coreEnvelope("resource-not-found", "Requested resource is not found", "Route not found for this API version"))
	a.handle(http.MethodGet, "/institutions/AU00001", http.StatusNotFound,
		coreEnvelope("resource-not-found", "Requested resource is not found", "Route not found for this API version"))
	a.handle(http.MethodGet, "/connectors/AU00000/open-banking", http.StatusNotFound, coreEnvelope("resource-not-found", "Not found", "No connector"))
	major := strings.Replace(connectorJSON, `"status":"operational"`, `"status":"major-outage"`, 1)
	a.handle(http.MethodGet, "/connectors/AU00000/web", http.StatusOK, major)
	a.handle(http.MethodGet, "/connectors/AU00001/open-banking", http.StatusOK, strings.ReplaceAll(connectorJSON, "AU00000", "AU00001"))
	c := newCoreClient(t, a)
	ctx := context.Background()
	av, err := c.Institutions.Availability(ctx, "AU00000")
	require.NoError(t, err)
	assert.Equal(t, StatusMajorOutage, av.Advice.Status)
	assert.False(t, av.Advice.Usable)
	assert.Equal(t, "Hooli Bank", av.Institution.Name)
	assert.Contains(t, av.UserMessage, "Hooli")
	assert.Equal(t, 8154*time.Millisecond, av.Institution.AverageDuration.VerifyCredentials, "the poller's timings come with it")

	// The route is known to be gone: the next institution goes to its connector directly.
	av, err = c.Institutions.Availability(ctx, "AU00001")
	require.NoError(t, err)
	assert.True(t, av.Advice.Usable)
	var paths []string
	for _, r := range a.apiRequests() {
		paths = append(paths, r.Path)
	}
	assert.Equal(t, []string{"/institutions/AU00000", "/connectors/AU00000/open-banking", "/connectors/AU00000/web",
		"/connectors/AU00001/open-banking"}, paths)

	// The live Diagnosis reads the status the same way.
	job := &Job{ID: "j1", Steps: []Step{{Title: StepVerifyCredentials, Status: StepFailed, Result: &StepResult{Code: "service-unavailable"}}}}
	instID := "AU00000"
	d := c.diagnose(ctx, job, DiagnoseOptions{Operation: OpRefresh}, &instID)
	assert.Equal(t, ActionWaitForInstitution, d.Action)
	assert.Equal(t, StatusMajorOutage, d.InstitutionStatus)

	// On 2.1 there is no fallback: the institution's own answer stands.
	v21 := newCoreClient(t, a, WithAPIVersion(V2_1))
	_, err = v21.Institutions.Availability(ctx, "AU00000")
	assert.Error(t, err)
}
