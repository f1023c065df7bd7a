package basiqtest_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banklink-go/basiq/basiqtest"
)

// coreConsentsExample is the 200 example of GET /users/{userId}/consents in
// Basiq's published Core spec (testdata/basiq-spec/v3/core.json at the
// module root): one active consent, then one revoked.
func coreConsentsExample(t *testing.T) map[string]any {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "testdata", "basiq-spec", "v3", "core.json"))
	require.NoError(t, err, "the spec files are in the module's testdata")
	var spec struct {
		Paths map[string]map[string]struct {
			Responses map[string]struct {
				Content map[string]struct {
					Example map[string]any `json:"example"`
				} `json:"content"`
			} `json:"responses"`
		} `json:"paths"`
	}
	require.NoError(t, json.Unmarshal(raw, &spec))
	ex := spec.Paths["/users/{userId}/consents"]["get"].Responses["200"].Content["application/json"].Example
	require.NotEmpty(t, ex, "core.json has the consents example")
	return ex
}

// requireSameShape checks that got has every field of want, with the same
// JSON type (null for null), recursively; arrays are compared by their
// first element.
func requireSameShape(t *testing.T, path string, want, got any) {
	t.Helper()
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		require.True(t, ok, "%s: want an object, got %T", path, got)
		for k, v := range w {
			gv, ok := g[k]
			require.True(t, ok, "%s.%s: missing", path, k)
			requireSameShape(t, path+"."+k, v, gv)
		}
	case []any:
		g, ok := got.([]any)
		require.True(t, ok, "%s: want an array, got %T", path, got)
		if len(w) > 0 {
			require.NotEmpty(t, g, "%s: want a non-empty array", path)
			requireSameShape(t, path+"[0]", w[0], g[0])
		}
	default:
		require.Equal(t, reflect.TypeOf(want), reflect.TypeOf(got), "%s: JSON type", path)
	}
}

func TestConsentsListMatchesCoreExample(t *testing.T) {
	clock := newFakeClock()
	e := newConsentEnv(t, basiqtest.WithClock(clock.Now), basiqtest.WithTokenTTL(1000*24*time.Hour))

	// No consent yet: 200 and an empty list, not an error (AV3 assumed one).
	r := e.send("GET", "/users/"+e.user+"/consents", e.client, nil)
	require.Equal(t, http.StatusOK, r.Status)
	assert.JSONEq(t, fmt.Sprintf(`{"type":"list","size":0,"data":[],"links":{"self":%q}}`, e.srv.URL+"/users/"+e.user+"/consents"), string(r.Body))

	// A consent, revoked by an update with new scopes; then the active one.
	jobIDs(t, e.complete(consentURL(e.client), basiqtest.WithConsentLogins(login("AU00000", "gavinBelson", "hooli2016"))))
	require.NoError(t, e.srv.SetConsentPolicy(basiqtest.ConsentPolicy{Scopes: []string{"account.basic"}}))
	clock.Add(time.Hour)
	e.complete(consentURL(e.client, "action", "update"))

	example := coreConsentsExample(t)
	for _, tok := range []string{e.server, e.client} { // SERVER or the user's CLIENT token
		r := e.send("GET", "/users/"+e.user+"/consents", tok, nil)
		require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
		got := r.JSON(t)
		// The list frame, then each item against the example's item of the same status.
		frame := map[string]any{}
		for k, v := range example {
			if k != "data" {
				frame[k] = v
			}
		}
		requireSameShape(t, "list", frame, got)
		assert.Equal(t, map[string]any{"self": e.srv.URL + "/users/" + e.user + "/consents"}, got["links"], "the schema's links.self")
		assert.Equal(t, "list", got["type"])
		assert.EqualValues(t, 2, got["size"])
		data := got["data"].([]any)
		require.Len(t, data, 2)
		exData := example["data"].([]any)
		requireSameShape(t, "active", exData[0], data[0])
		requireSameShape(t, "revoked", exData[1], data[1])
		active, revoked := data[0].(map[string]any), data[1].(map[string]any)
		assert.NotContains(t, active, "revoked", "revoked only on revoked consents")
		assert.Equal(t, "consent", active["type"])
		assert.Equal(t, "user", active["origin"])
		assert.Nil(t, active["purpose"].(map[string]any)["other"])
		assert.Nil(t, active["data"].(map[string]any)["organisation"])
		assert.Equal(t, e.srv.URL+"/users/"+e.user+"/consents/"+active["id"].(string), active["links"].(map[string]any)["self"])
		for _, item := range []map[string]any{active, revoked} {
			for _, k := range []string{"created", "updated", "expiryDate"} {
				_, err := time.Parse(time.RFC3339, item[k].(string))
				assert.NoError(t, err, k)
			}
		}
		perm := active["data"].(map[string]any)["permissions"].([]any)[0].(map[string]any)
		assert.Equal(t, map[string]any{"scope": "account.basic", "required": true, "consented": true, "entity": "account"},
			map[string]any{"scope": perm["scope"], "required": perm["required"], "consented": perm["consented"], "entity": perm["entity"]})
	}
}

func TestConsentsEndpointRules(t *testing.T) {
	e := newConsentEnv(t)
	ids := jobIDs(t, e.complete(consentURL(e.client), basiqtest.WithConsentLogins(
		login("AU00000", "gavinBelson", "hooli2016"), login("AU10001", "jared", "django"))))
	consentID := e.consents()[0]["id"].(string)
	path := "/users/" + e.user + "/consents"

	// Who may read and delete.
	other := e.createUser(e.server)
	requireError(t, e.send("GET", path, e.clientToken("3.0", other), nil), http.StatusUnauthorized, "unauthorized-access")
	requireError(t, e.send("GET", path, e.serverToken("2.1"), nil), http.StatusNotFound, "resource-not-found", "Route not found for this API version")
	requireError(t, e.send("GET", "/users/8cda72db-b11f-4b8e-a4ca-3c5b1de4e4b5/consents", e.server, nil), http.StatusNotFound, "resource-not-found")
	requireError(t, e.send("DELETE", path+"/"+consentID, e.client, nil), http.StatusForbidden, "forbidden-access")
	requireError(t, e.send("DELETE", path+"/"+consentID, e.serverToken("2.1"), nil), http.StatusNotFound, "resource-not-found")
	requireError(t, e.send("DELETE", path+"/8cda72db-b11f-4b8e-a4ca-3c5b1de4e4b5", e.server, nil), http.StatusNotFound, "resource-not-found",
		"Requested consent does not exist.")
	requireError(t, e.send("DELETE", path+"/not-a-consent", e.server, nil), http.StatusBadRequest, "parameter-not-valid")
	requireError(t, e.send("DELETE", "/users/"+other+"/consents/"+consentID, e.server, nil), http.StatusNotFound, "resource-not-found",
		"Requested consent does not exist.")
	assert.Len(t, e.connections(), 2)

	// A connection made with 2.1 credentials belongs to no consent.
	e.connect(e.serverToken("2.1"), e.user, "AU00004", "richard", "tabsnotspaces")

	// Delete: the consent and its connections are gone for good; jobs stay.
	r := e.send("DELETE", path+"/"+consentID, e.server, nil)
	assert.Equal(t, http.StatusNoContent, r.Status)
	assert.Empty(t, r.Body)
	assert.Empty(t, e.consents())
	conns := e.connections()
	require.Len(t, conns, 1)
	assert.Equal(t, "web", conns[0]["method"])
	for _, id := range ids {
		assert.Equal(t, http.StatusOK, e.send("GET", "/jobs/"+id, e.server, nil).Status)
	}
	requireError(t, e.send("DELETE", path+"/"+consentID, e.server, nil), http.StatusNotFound, "resource-not-found")
	_, err := e.srv.CompleteConsent(consentURL(e.client, "action", "connect"), basiqtest.WithConsentLogins(login("AU00000", "jared", "django")))
	assert.ErrorIs(t, err, basiqtest.ErrNoActiveConsent)

	// Deleting the user deletes their consents with them.
	jobIDs(t, e.complete(consentURL(e.client), basiqtest.WithConsentLogins(login("AU00000", "jared", "django"))))
	require.Equal(t, http.StatusNoContent, e.send("DELETE", "/users/"+e.user, e.server, nil).Status)
	requireError(t, e.send("GET", path, e.server, nil), http.StatusNotFound, "resource-not-found")
}
