package basiqtest_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAuthLinkLifecycle(t *testing.T) {
	d := newDataSetup(t)
	path := "/users/" + d.userID + "/auth_link"
	requireError(t, d.a.send("GET", path, d.tok, nil), http.StatusNotFound, "resource-not-found")

	r := d.a.send("POST", path, d.tok, nil) // the user has a mobile: no body needed
	require.Equal(t, http.StatusCreated, r.Status, "body: %s", r.Body)
	requireMatchesSchema(t, "core.json", specSchema(t, "core.json", "/users/{userId}/auth_link", "post", "201", "application/json"), r.Body)
	created := r.JSON(t)
	assert.Equal(t, "+61410888999", created["mobile"])
	assert.NotContains(t, created, "id", "POST answers without an id (CORE3)")
	assert.Equal(t, d.clock.Now().Add(7*24*time.Hour).UTC().Format(time.RFC3339), created["expiresAt"])

	g := d.a.send("GET", path, d.tok, nil)
	require.Equal(t, http.StatusOK, g.Status)
	requireMatchesSchema(t, "core.json", specSchema(t, "core.json", "/users/{userId}/auth_link", "get", "200", "application/json"), g.Body)
	first := g.JSON(t)
	assert.Equal(t, created["links"], first["links"])
	user := d.a.send("GET", "/users/"+d.userID, d.tok, nil).JSON(t)
	assert.Equal(t, d.srv.URL+path, user["links"].(map[string]any)["auth_link"])

	// Only the newest link works.
	r = d.a.send("POST", path, d.tok, map[string]string{"mobile": "+61410000111"})
	require.Equal(t, http.StatusCreated, r.Status)
	second := d.a.send("GET", path, d.tok, nil).JSON(t)
	assert.NotEqual(t, first["id"], second["id"])
	assert.Equal(t, "+61410000111", second["mobile"])

	// It expires after seven days by the fake's clock.
	d.clock.Add(7*24*time.Hour - time.Second)
	d.tok = d.a.serverToken("3.0")
	assert.Equal(t, http.StatusOK, d.a.send("GET", path, d.tok, nil).Status)
	d.clock.Add(time.Second)
	gone := d.a.send("GET", path, d.tok, nil)
	requireError(t, gone, http.StatusGone, "resource-no-longer-available")
	requireMatchesSchema(t, "core.json", specSchema(t, "core.json", "/users/{userId}/auth_link", "get", "410", "application/json"), gone.Body)
	user = d.a.send("GET", "/users/"+d.userID, d.tok, nil).JSON(t)
	assert.Nil(t, user["links"].(map[string]any)["auth_link"])

	// Deleted links are gone too; there is nothing left to delete.
	require.Equal(t, http.StatusCreated, d.a.send("POST", path, d.tok, nil).Status)
	assert.Equal(t, http.StatusNoContent, d.a.send("DELETE", path, d.tok, nil).Status)
	requireError(t, d.a.send("GET", path, d.tok, nil), http.StatusGone, "resource-no-longer-available")
	requireError(t, d.a.send("DELETE", path, d.tok, nil), http.StatusNotFound, "resource-not-found")
}

func TestAuthLinkMobileRules(t *testing.T) {
	d := newDataSetup(t)
	noMobile := d.a.send("POST", "/users", d.tok, map[string]string{"email": "a@b.com"}).JSON(t)["id"].(string)
	requireError(t, d.a.send("POST", "/users/"+noMobile+"/auth_link", d.tok, nil), http.StatusBadRequest, "parameter-not-supplied")
	requireError(t, d.a.send("POST", "/users/"+noMobile+"/auth_link", d.tok, map[string]string{"mobile": "0410"}),
		http.StatusBadRequest, "parameter-not-valid")
	requireError(t, d.a.send("POST", "/users/"+noMobile+"/auth_link", d.tok, "{"), http.StatusBadRequest, "invalid-content")
	assert.Equal(t, http.StatusCreated, d.a.send("POST", "/users/"+noMobile+"/auth_link", d.tok, map[string]string{"mobile": "+61410888666"}).Status)

	// 2.1 links last three days; a client token may delete its user's link.
	tok := d.a.serverToken("2.1")
	r := d.a.send("POST", "/users/"+d.userID+"/auth_link", tok, nil).JSON(t)
	assert.Equal(t, d.clock.Now().Add(72*time.Hour).UTC().Format(time.RFC3339), r["expiresAt"])
	client := d.a.clientToken("2.1", d.userID)
	requireError(t, d.a.send("GET", "/users/"+d.userID+"/auth_link", client, nil), http.StatusForbidden, "forbidden-access")
	assert.Equal(t, http.StatusNoContent, d.a.send("DELETE", "/users/"+d.userID+"/auth_link", client, nil).Status)
}
