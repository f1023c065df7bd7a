package basiq_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/banklink-go/basiq"
	"github.com/banklink-go/basiq/basiqtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// The base URL's path prefix is kept on every request, token included, and
// escaped ids stay escaped below it. The fake runs behind http.StripPrefix on
// a loopback httptest server.
func TestHardBaseURLWithPathPrefix(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	srv := basiqtest.NewServer(basiqtest.InMemory(), basiqtest.WithTimeScale(0))
	defer srv.Close()
	var mu sync.Mutex
	var paths, outside []string
	mux := http.NewServeMux()
	mux.Handle("/basiq/", http.StripPrefix("/basiq", srv.Handler()))
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		if strings.HasPrefix(r.URL.EscapedPath(), "/basiq/") {
			paths = append(paths, r.URL.EscapedPath())
		} else {
			outside = append(outside, r.URL.EscapedPath())
		}
		mu.Unlock()
		mux.ServeHTTP(w, r)
	}))
	defer ts.Close()
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()

	for _, base := range []string{ts.URL + "/basiq", ts.URL + "/basiq/"} {
		mu.Lock()
		paths, outside = nil, nil
		mu.Unlock()
		c, err := basiq.NewClient(srv.APIKey(), basiq.WithBaseURL(base), basiq.WithHTTPClient(&http.Client{Transport: tr, Timeout: 10 * time.Second}),
			basiq.WithAPIVersion(basiq.V2_1))
		if err != nil {
			t.Fatalf("NewClient(%s): %v", base, err)
		}
		ctx := context.Background()
		user, err := c.Users.Create(ctx, basiq.UserParams{Email: "prefix@example.com"})
		if err != nil {
			t.Fatalf("Users.Create through %s: %v", base, err)
		}
		job, err := c.Connections.Create(ctx, user.ID, basiq.Credentials{InstitutionID: "AU00000", LoginID: "gavinBelson", Password: "hooli2016"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Jobs.Wait(ctx, job.ID, nil); err != nil {
			t.Fatal(err)
		}
		var apiErr *basiq.APIError
		if _, err := c.Jobs.Get(ctx, "a/b"); !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusBadRequest {
			t.Errorf("Jobs.Get(a/b): %v, want the fake's 400 for a malformed job id", err)
		}
		mu.Lock()
		want := []string{"/basiq/token", "/basiq/users", "/basiq/users/" + user.ID + "/connections", "/basiq/jobs/" + job.ID}
		for _, w := range want {
			found := false
			for _, p := range paths {
				found = found || p == w
			}
			if !found {
				t.Errorf("base %s: no request to %s in %q", base, w, paths)
			}
		}
		if last := paths[len(paths)-1]; last != "/basiq/jobs/a%2Fb" {
			t.Errorf("base %s: the escaped id arrived as %s, want /basiq/jobs/a%%2Fb", base, last)
		}
		if len(outside) != 0 {
			t.Errorf("base %s: requests outside the prefix: %q", base, outside)
		}
		mu.Unlock()
	}
	tr.CloseIdleConnections()
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
