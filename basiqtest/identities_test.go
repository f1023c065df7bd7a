package basiqtest_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestIdentitiesFromTheLoginsProfiles(t *testing.T) {
	d := newDataSetup(t)
	path := "/users/" + d.userID + "/identities"
	r := d.a.send("GET", path, d.tok, nil)
	require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
	requireMatchesSchema(t, "identity.json", specSchema(t, "identity.json", "/users/{userId}/identities", "get", "200", "application/json"), r.Body)
	list := r.JSON(t)
	assert.EqualValues(t, 1, list["count"])
	id := list["data"].([]any)[0].(map[string]any)
	assert.Equal(t, "identity", id["type"])
	assert.Equal(t, "Gavin Belson", id["fullName"])
	assert.Equal(t, d.connID, id["connectionID"])
	assert.Equal(t, "AU00000", id["institutionID"])
	assert.Equal(t, "web", id["source"])

	one := d.a.send("GET", path+"/"+id["id"].(string), d.tok, nil)
	require.Equal(t, http.StatusOK, one.Status)
	requireMatchesSchema(t, "identity.json",
		specSchema(t, "identity.json", "/users/{userId}/identities/{identityId}", "get", "200", "application/json"), one.Body)
	assert.Equal(t, id, one.JSON(t), "the same identity, a stable id")
	requireError(t, d.a.send("GET", path+"/nope", d.tok, nil), http.StatusNotFound, "resource-not-found")

	// A user with no connection has none; identities are 3.0 only.
	other := d.a.createUser(d.tok)
	assert.Empty(t, d.a.send("GET", "/users/"+other+"/identities", d.tok, nil).JSON(t)["data"])
	requireError(t, d.a.send("GET", path, d.a.serverToken("2.1"), nil), http.StatusNotFound, "resource-not-found")
}
