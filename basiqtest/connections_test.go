package basiqtest_test

import (
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banklink-go/basiq"
	"github.com/banklink-go/basiq/basiqtest"
)

func TestCreateConnectionValidation(t *testing.T) {
	srv := basiqtest.NewServer(basiqtest.InMemory())
	defer srv.Close()
	a := newAPI(t, srv)
	tok := a.serverToken("2.1")
	userID := a.createUser(tok)
	path := "/users/" + userID + "/connections"

	e := requireError(t, a.send("POST", path, tok, map[string]any{}), http.StatusBadRequest, "parameter-not-supplied")
	require.Len(t, e.Data, 3)
	assert.Equal(t, "Login ID parameter is required.", e.Data[0].Detail)
	assert.Equal(t, map[string]string{"pointer": "connection/loginId", "parameter": "loginId"}, e.Data[0].Source)
	assert.Equal(t, "Password parameter is required.", e.Data[1].Detail)
	assert.Equal(t, "Institution ID  parameter is required.", e.Data[2].Detail)
	assert.Equal(t, map[string]string{"pointer": "connection/institution/id", "parameter": "id"}, e.Data[2].Source)

	body := func(inst string) map[string]any {
		return map[string]any{"loginId": "gavinBelson", "password": "hooli2016", "institution": map[string]string{"id": inst}}
	}
	requireError(t, a.send("POST", path, tok, body("AU99999")), http.StatusBadRequest, "parameter-not-valid",
		"Requested institution does not exist.")
	requireError(t, a.send("POST", path, tok, body("hooli")), http.StatusBadRequest, "parameter-not-valid")
	e = requireError(t, a.send("POST", path, tok, body("AU10005")), http.StatusBadRequest, "parameter-not-supplied",
		"Security code parameter is required.")
	assert.Equal(t, "securityCode", e.Data[0].Source["parameter"])
	requireError(t, a.send("POST", path, tok, `{"loginId":1}`), http.StatusBadRequest, "invalid-content",
		"Posted connection is not in valid format.")
	requireError(t, a.send("POST", path, tok, body("AU00000"), "Content-Type", "application/x-www-form-urlencoded"),
		http.StatusUnsupportedMediaType, "unsupported-content-type")
	requireError(t, a.send("POST", "/users/8cda72db-b11f-4b8e-a4ca-3c5b1de4e4b5/connections", tok, body("AU00000")),
		http.StatusNotFound, "resource-not-found", "Requested user does not exist.")

	// A CLIENT_ACCESS token may create its own user's connections.
	client := a.tokenResp("2.1", map[string][]string{"scope": {"CLIENT_ACCESS"}, "userId": {userID}}).JSON(t)["access_token"].(string)
	assert.Equal(t, http.StatusAccepted, a.send("POST", path, client, body("AU00000")).Status)
}

func TestConnectionShapes(t *testing.T) {
	srv := basiqtest.NewServer(basiqtest.InMemory(), basiqtest.WithTimeScale(0))
	defer srv.Close()
	a := newAPI(t, srv)
	tok := a.serverToken("2.1")
	userID := a.createUser(tok)
	r := a.send("POST", "/users/"+userID+"/connections", tok, map[string]any{
		"loginId": "Wentworth-Smith", "password": "whislter", "institution": map[string]string{"id": "AU00000"}})
	require.Equal(t, http.StatusAccepted, r.Status)
	stub := r.JSON(t)
	jobID := stub["id"].(string)
	assert.Equal(t, map[string]any{"type": "job", "id": jobID, "links": map[string]any{"self": srv.URL + "/jobs/" + jobID}}, stub)
	st, _ := srv.Job(jobID)
	connID := st.ConnectionID
	base := srv.URL + "/users/" + userID

	c := a.send("GET", "/users/"+userID+"/connections/"+connID, tok, nil).JSON(t)
	assert.Equal(t, "connection", c["type"])
	assert.Equal(t, "active", c["status"])
	assert.Equal(t, false, c["mfaEnabled"])
	assert.NotEmpty(t, c["createdDate"])
	assert.NotEmpty(t, c["lastUsed"])
	assert.Equal(t, "Max Wentworth-Smith", c["profile"].(map[string]any)["fullName"])
	assert.Equal(t, map[string]any{"type": "institution", "id": "AU00000", "links": map[string]any{"self": srv.URL + "/institutions/AU00000"}},
		c["institution"])
	assert.Equal(t, map[string]any{
		"self":         base + "/connections/" + connID,
		"user":         base,
		"accounts":     base + "/accounts?filter=institution.id.eq('AU00000')",
		"transactions": base + "/transactions?filter=institution.id.eq('AU00000')",
	}, c["links"])
	accounts := c["accounts"].(map[string]any)["data"].([]any)
	require.Len(t, accounts, 3)
	acc := accounts[0].(map[string]any)
	for _, k := range []string{"type", "id", "accountNo", "name", "currency", "class", "balance", "availableFunds", "lastUpdated", "status", "links"} {
		assert.Contains(t, acc, k)
	}
	assert.IsType(t, "", acc["balance"], "money is a string")
	assert.Equal(t, "AUD", acc["currency"])

	// CLIENT_ACCESS does not see status, createdDate or lastUsed.
	client := a.tokenResp("2.1", map[string][]string{"scope": {"CLIENT_ACCESS"}, "userId": {userID}}).JSON(t)["access_token"].(string)
	cc := a.send("GET", "/users/"+userID+"/connections/"+connID, client, nil).JSON(t)
	assert.NotContains(t, cc, "status")
	assert.NotContains(t, cc, "lastUsed")
	assert.Contains(t, cc, "accounts")

	list := a.send("GET", "/users/"+userID+"/connections", tok, nil).JSON(t)
	item := list["data"].([]any)[0].(map[string]any)
	assert.NotContains(t, item, "accounts")
	assert.NotContains(t, item, "profile")
	assert.Equal(t, srv.URL+"/institutions/AU00000", item["links"].(map[string]any)["institution"])
	assert.Equal(t, map[string]any{"self": base + "/connections"}, list["links"])

	requireError(t, a.send("GET", "/users/"+userID+"/connections/8cda72db-b11f-4b8e-a4ca-3c5b1de4e4b5", tok, nil),
		http.StatusNotFound, "resource-not-found")
	r = a.send("DELETE", "/users/"+userID+"/connections/"+connID, tok, nil)
	assert.Equal(t, http.StatusNoContent, r.Status)
	requireError(t, a.send("GET", "/users/"+userID+"/connections/"+connID, tok, nil), http.StatusNotFound, "resource-not-found")
	assert.Equal(t, http.StatusOK, a.send("GET", "/jobs/"+jobID, tok, nil).Status, "jobs outlive their connection")
}

func TestConnectionFilters(t *testing.T) {
	srv := basiqtest.NewServer(basiqtest.InMemory(), basiqtest.WithTimeScale(0))
	defer srv.Close()
	a := newAPI(t, srv)
	tok := a.serverToken("2.1")
	userID := a.createUser(tok)
	a.connect(tok, userID, "AU00000", "gavinBelson", "hooli2016")
	a.connect(tok, userID, "AU00004", "bighead", "password")
	a.connect(tok, userID, "AU00000", "jared", "django")

	count := func(filter string) int {
		r := a.send("GET", "/users/"+userID+"/connections?filter="+filter, tok, nil)
		require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
		return len(r.JSON(t)["data"].([]any))
	}
	assert.Equal(t, 3, count(""))
	assert.Equal(t, 2, count("institution.id.eq('AU00000')"))
	assert.Equal(t, 1, count("status.eq('invalid')"))
	assert.Equal(t, 2, count("status.eq('active')"))
	assert.Equal(t, 1, count("status.eq('invalid'),institution.id.eq('AU00004')"), "statements are ANDed")
	assert.Equal(t, 0, count("status.eq('active'),institution.id.eq('AU00004')"))
	assert.Equal(t, 3, count("status.in('active','invalid')"))
	assert.Equal(t, 1, count("status.ne('active')"))

	first := a.send("GET", "/users/"+userID+"/connections", tok, nil).JSON(t)["data"].([]any)[0].(map[string]any)["id"].(string)
	assert.Equal(t, 1, count("id.eq('"+first+"')"))
	assert.Equal(t, 1, count("connection.id.eq('"+first+"')"))

	for _, bad := range []string{"status", "status.eq(active)", "status.like('a')", "owner.eq('x')", "status.eq('a','b')", "status.eq('a'),"} {
		requireError(t, a.send("GET", "/users/"+userID+"/connections?filter="+bad, tok, nil), http.StatusBadRequest, "parameter-not-valid")
	}
}

// On 3.0 connections carry method and expiryDate, both required by DATA3;
// expiryDate is for open-banking consents, empty for the fake's web
// connections. The links to accounts and transactions are Basiq's, but the
// fake does not serve them.
func TestConnectionVersion3FieldsAndLinks(t *testing.T) {
	srv := basiqtest.NewServer(basiqtest.InMemory(), basiqtest.WithTimeScale(0))
	defer srv.Close()
	a := newAPI(t, srv)
	tok := a.serverToken("3.0")
	userID := a.createUser(tok)
	jobID, err := srv.Connect(userID, "AU00000", "gavinBelson", "hooli2016")
	require.NoError(t, err)
	st, _ := srv.Job(jobID)
	c := a.send("GET", "/users/"+userID+"/connections/"+st.ConnectionID, tok, nil).JSON(t)
	assert.Equal(t, "web", c["method"])
	assert.Equal(t, "", c["expiryDate"])
	item := a.send("GET", "/users/"+userID+"/connections", tok, nil).JSON(t)["data"].([]any)[0].(map[string]any)
	assert.Equal(t, "", item["expiryDate"])
	tok21 := a.serverToken("2.1")
	assert.NotContains(t, a.send("GET", "/users/"+userID+"/connections/"+st.ConnectionID, tok21, nil).JSON(t), "expiryDate")

	// The connection's accounts and transactions links lead to its data.
	for _, link := range []string{c["links"].(map[string]any)["accounts"].(string), c["links"].(map[string]any)["transactions"].(string)} {
		r := a.send("GET", strings.TrimPrefix(link, srv.URL), tok, nil)
		require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
		assert.NotEmpty(t, r.JSON(t)["data"], link)
	}
}

func TestSDKDuplicateCreateIsHeldSixMinutes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := basiqtest.NewServer(basiqtest.InMemory())
		defer srv.Close()
		c := sdkClient(t, srv)
		creds := basiq.Credentials{InstitutionID: "AU00000", LoginID: "gavinBelson", Password: "hooli2016"}
		first, err := c.Connections.Create(t.Context(), sdkUser(t, c), creds)
		require.NoError(t, err)
		second, err := c.Connections.Create(t.Context(), sdkUser(t, c), creds)
		require.NoError(t, err)
		assert.NotEqual(t, first.ID, second.ID)

		start := time.Now()
		_, err = c.Jobs.Wait(t.Context(), first.ID, nil)
		require.NoError(t, err)
		held, err := c.Jobs.Get(t.Context(), second.ID)
		require.NoError(t, err)
		assert.Equal(t, basiq.JobPending, held.Status(), "the duplicate is paused")
		_, err = c.Jobs.Wait(t.Context(), second.ID, &basiq.PollOptions{Timeout: 10 * time.Minute})
		require.NoError(t, err)
		assert.GreaterOrEqual(t, time.Since(start), 6*time.Minute)
	})
}
