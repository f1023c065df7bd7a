package basiqtest_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banklink-go/basiq/basiqtest"
)

func TestUsers(t *testing.T) {
	srv := basiqtest.NewServer(basiqtest.InMemory(), basiqtest.WithTimeScale(0))
	defer srv.Close()
	a := newAPI(t, srv)
	tok := a.serverToken("3.0")

	r := a.send("POST", "/users", tok, map[string]string{"email": "gavin1224@hooli.com", "mobile": "+61410888999", "firstName": "Gavin"})
	require.Equal(t, http.StatusCreated, r.Status)
	created := r.JSON(t)
	id := created["id"].(string)
	assert.Len(t, id, 36)
	assert.Equal(t, map[string]any{"type": "user", "id": id, "email": "gavin1224@hooli.com", "mobile": "+61410888999",
		"firstName": "Gavin", "links": map[string]any{"self": srv.URL + "/users/" + id}}, created)

	r = a.send("POST", "/users/"+id, tok, map[string]string{"mobile": "+61410888666"})
	require.Equal(t, http.StatusOK, r.Status)
	assert.Equal(t, "+61410888666", r.JSON(t)["mobile"])
	assert.Equal(t, "gavin1224@hooli.com", r.JSON(t)["email"])

	_, err := srv.Connect(id, "AU00000", "gavinBelson", "hooli2016")
	require.NoError(t, err)
	got := a.send("GET", "/users/"+id, tok, nil).JSON(t)
	assert.Equal(t, "", got["name"])
	assert.Equal(t, "Gavin", got["firstName"])
	assert.Equal(t, "", got["lastName"], "3.0 always has the name fields")
	conns := got["connections"].(map[string]any)
	assert.Equal(t, "list", conns["type"])
	assert.EqualValues(t, 1, conns["count"])
	conn := conns["data"].([]any)[0].(map[string]any)
	assert.Equal(t, "connection", conn["type"])
	assert.EqualValues(t, 3, got["accounts"].(map[string]any)["count"])
	links := got["links"].(map[string]any)
	assert.Contains(t, links, "auth_link")
	assert.Nil(t, links["auth_link"])
	assert.Equal(t, srv.URL+"/users/"+id+"/connections", links["connections"])

	got21 := a.send("GET", "/users/"+id, a.serverToken("2.1"), nil).JSON(t)
	assert.NotContains(t, got21, "lastName")

	r = a.send("DELETE", "/users/"+id, tok, nil)
	assert.Equal(t, http.StatusNoContent, r.Status)
	assert.Empty(t, r.Body)
	requireError(t, a.send("GET", "/users/"+id, tok, nil), http.StatusNotFound, "resource-not-found", "Requested user does not exist.")
	requireError(t, a.send("DELETE", "/users/"+id, tok, nil), http.StatusNotFound, "resource-not-found")
}

func TestUserValidation(t *testing.T) {
	srv := basiqtest.NewServer(basiqtest.InMemory())
	defer srv.Close()
	a := newAPI(t, srv)
	tok := a.serverToken("3.0")

	e := requireError(t, a.send("POST", "/users", tok, map[string]string{"firstName": "Gavin"}), http.StatusBadRequest,
		"parameter-not-supplied", "One of 'email' or 'mobile' is required.")
	assert.Equal(t, "Required parameter not supplied", e.Data[0].Title)
	assert.Empty(t, e.Data[0].Source)

	requireError(t, a.send("POST", "/users", tok, map[string]string{"email": "not-an-email"}), http.StatusBadRequest,
		"parameter-not-valid", "Provided email is in bad format.")
	requireError(t, a.send("POST", "/users", tok, map[string]string{"mobile": "0410888999"}), http.StatusBadRequest,
		"parameter-not-valid", "Provided mobile is in bad format.")
	requireError(t, a.send("POST", "/users", tok, map[string]string{"mobile": "+6141088899"}), http.StatusBadRequest, "parameter-not-valid")
	assert.Equal(t, http.StatusCreated, a.send("POST", "/users", tok, map[string]string{"mobile": "+61410888999"}).Status)

	requireError(t, a.send("POST", "/users", tok, `{"email":`), http.StatusBadRequest, "invalid-content")
	r := a.send("POST", "/users", tok, nil, "Content-Type", "text/plain")
	requireError(t, r, http.StatusUnsupportedMediaType, "unsupported-content-type")

	e = requireError(t, a.send("GET", "/users/8cda72db", tok, nil), http.StatusBadRequest, "parameter-not-valid", "User ID value is not valid")
	assert.Equal(t, "userId", e.Data[0].Source["parameter"])
	requireError(t, a.send("GET", "/users/8cda72db-b11f-4b8e-a4ca-3c5b1de4e4b5", tok, nil), http.StatusNotFound, "resource-not-found",
		"Requested user does not exist.")
}
