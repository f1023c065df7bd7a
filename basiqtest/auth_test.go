package basiqtest_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banklink-go/basiq"
	"github.com/banklink-go/basiq/basiqtest"
)

func TestTokenIssued(t *testing.T) {
	srv := basiqtest.NewServer(basiqtest.InMemory())
	defer srv.Close()
	a := newAPI(t, srv)

	r := a.tokenResp("3.0", url.Values{"scope": {"SERVER_ACCESS"}})
	require.Equal(t, http.StatusOK, r.Status)
	assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
	var body struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
		TokenType   string `json:"token_type"`
	}
	require.NoError(t, json.Unmarshal(r.Body, &body))
	assert.Equal(t, 3600, body.ExpiresIn)
	assert.Equal(t, "Bearer", body.TokenType)

	// The token reads like Basiq's JWT: the claims carry scope and version.
	parts := strings.Split(body.AccessToken, ".")
	require.Len(t, parts, 3)
	claims, err := base64.RawURLEncoding.DecodeString(parts[1])
	require.NoError(t, err)
	assert.Contains(t, string(claims), `"scope":"SERVER_ACCESS"`)
	assert.Contains(t, string(claims), `"version":"3.0"`)

	r = a.send("GET", "/institutions/AU00000", body.AccessToken, nil)
	assert.Equal(t, http.StatusOK, r.Status)
	assert.Equal(t, 1, srv.TokenRequests())
}

func TestTokenErrors(t *testing.T) {
	srv := basiqtest.NewServer(basiqtest.InMemory(), basiqtest.WithAPIKey("c2VjcmV0OmtleQ=="))
	defer srv.Close()
	a := newAPI(t, srv)
	server := url.Values{"scope": {"SERVER_ACCESS"}}
	assert.Equal(t, "c2VjcmV0OmtleQ==", srv.APIKey())

	t.Run("wrong key is 404", func(t *testing.T) {
		r := a.send("POST", "/token", "", server, "Authorization", "Basic bm9wZTpub3Bl", "basiq-version", "3.0")
		e := requireError(t, r, http.StatusNotFound, "parameter-not-valid", "Unable to authenticate. Please, check your API key")
		assert.Equal(t, "We have encountered an error", e.Data[0].Title)
	})
	t.Run("missing version", func(t *testing.T) {
		e := requireError(t, a.tokenResp("", server), http.StatusBadRequest, "parameter-not-valid",
			"Basiq-version must be specified in HTTP request header")
		assert.Equal(t, map[string]string{"parameter": "basiq-version", "pointer": "header/basiq-version"}, e.Data[0].Source)
	})
	t.Run("unsupported version", func(t *testing.T) {
		e := requireError(t, a.tokenResp("0.9", server), http.StatusBadRequest, "parameter-not-valid")
		assert.Equal(t, "basiq-version", e.Data[0].Source["parameter"])
	})
	t.Run("missing authorization", func(t *testing.T) {
		r := a.send("POST", "/token", "", server, "basiq-version", "2.1")
		requireError(t, r, http.StatusBadRequest, "parameter-not-supplied")
	})
	t.Run("bearer instead of basic", func(t *testing.T) {
		r := a.send("POST", "/token", "", server, "Authorization", "Bearer "+srv.APIKey(), "basiq-version", "2.1")
		requireError(t, r, http.StatusBadRequest, "parameter-not-valid", "Invalid authorization header")
	})
	t.Run("missing scope", func(t *testing.T) {
		requireError(t, a.tokenResp("3.0", url.Values{}), http.StatusForbidden, "forbidden-access")
	})
	t.Run("client token on 3.0 needs a user", func(t *testing.T) {
		e := requireError(t, a.tokenResp("3.0", url.Values{"scope": {"CLIENT_ACCESS"}}), http.StatusBadRequest, "parameter-not-supplied")
		assert.Equal(t, "userId", e.Data[0].Source["parameter"])
	})
	t.Run("client token on 2.1 needs none", func(t *testing.T) {
		r := a.tokenResp("2.1", url.Values{"scope": {"CLIENT_ACCESS"}})
		assert.Equal(t, http.StatusOK, r.Status)
	})
	assert.Equal(t, 8, srv.TokenRequests())
}

func TestTokenExpiry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := basiqtest.NewServer(basiqtest.InMemory(), basiqtest.WithTokenTTL(30*time.Minute))
		defer srv.Close()
		a := newAPI(t, srv)
		r := a.tokenResp("3.0", url.Values{"scope": {"SERVER_ACCESS"}})
		assert.EqualValues(t, 1800, r.JSON(t)["expires_in"])
		tok := r.JSON(t)["access_token"].(string)

		time.Sleep(29*time.Minute + 59*time.Second)
		assert.Equal(t, http.StatusOK, a.send("GET", "/institutions", tok, nil).Status)

		time.Sleep(time.Second)
		e := requireError(t, a.send("GET", "/institutions", tok, nil), http.StatusForbidden, "access-denied", "Token has expired")
		assert.Equal(t, "Access denied.", e.Data[0].Title)
	})
}

func TestExpireTokens(t *testing.T) {
	srv := basiqtest.NewServer(basiqtest.InMemory())
	defer srv.Close()
	a := newAPI(t, srv)
	old := a.serverToken("3.0")
	srv.ExpireTokens()
	requireError(t, a.send("GET", "/institutions", old, nil), http.StatusForbidden, "access-denied")
	fresh := a.serverToken("3.0")
	assert.Equal(t, http.StatusOK, a.send("GET", "/institutions", fresh, nil).Status)
}

func TestBearerAndScopes(t *testing.T) {
	srv := basiqtest.NewServer(basiqtest.InMemory())
	defer srv.Close()
	a := newAPI(t, srv)
	server := a.serverToken("3.0")
	alice := a.createUser(server)
	bob := a.createUser(server)
	aliceClient := a.clientToken("3.0", alice)

	r := a.send("GET", "/users/"+alice, "", nil)
	e := requireError(t, r, http.StatusUnauthorized, "invalid-authorization-token")
	assert.Equal(t, "Invalid authorization token.", e.Data[0].Title)
	requireError(t, a.send("GET", "/users/"+alice, "not-a-token", nil), http.StatusUnauthorized, "invalid-authorization-token")

	// CLIENT_ACCESS may read its own user, jobs and institutions only.
	assert.Equal(t, http.StatusOK, a.send("GET", "/users/"+alice, aliceClient, nil).Status)
	assert.Equal(t, http.StatusOK, a.send("GET", "/institutions", aliceClient, nil).Status)
	requireError(t, a.send("GET", "/users/"+bob, aliceClient, nil), http.StatusUnauthorized, "unauthorized-access",
		"You are not authorized to access this resource")
	requireError(t, a.send("POST", "/users", aliceClient, map[string]string{"email": "x@y.com"}), http.StatusForbidden,
		"forbidden-access", "Access to this resource is forbidden")
	requireError(t, a.send("GET", "/users/"+alice+"/connections", aliceClient, nil), http.StatusForbidden, "forbidden-access")
	requireError(t, a.send("DELETE", "/users/"+alice, aliceClient, nil), http.StatusForbidden, "forbidden-access")

	// POST /jobs/{id}/mfa is CLIENT_ACCESS only.
	jobID, err := srv.Connect(alice, "AU00002", "gavinBelson", "hooli2016")
	require.NoError(t, err)
	requireError(t, a.send("POST", "/jobs/"+jobID+"/mfa", server, map[string]any{"mfa-response": []string{"Hooli"}}),
		http.StatusForbidden, "forbidden-access")
	bobClient := a.clientToken("3.0", bob)
	requireError(t, a.send("GET", "/jobs/"+jobID, bobClient, nil), http.StatusUnauthorized, "unauthorized-access")
	assert.Equal(t, http.StatusOK, a.send("GET", "/jobs/"+jobID, aliceClient, nil).Status)
}

// Tokens expired for more than one TTL are forgotten when a new one is
// minted, so a long run does not keep them all; a forgotten token still
// answers 403 access-denied, as an expired one does, not 401.
func TestOldTokensArePruned(t *testing.T) {
	clock := newFakeClock()
	srv := basiqtest.NewServer(basiqtest.InMemory(), basiqtest.WithClock(clock.Now))
	defer srv.Close()
	a := newAPI(t, srv)
	old := []string{a.serverToken("2.1"), a.serverToken("3.0")}
	clock.Add(90 * time.Minute)
	recent := a.serverToken("2.1")
	assert.Equal(t, 3, srv.TokenCount(), "expired 30 minutes ago: kept")

	clock.Add(31 * time.Minute) // old: expired 61 minutes ago
	fresh := a.serverToken("2.1")
	assert.Equal(t, 2, srv.TokenCount(), "expired more than one TTL ago: forgotten")
	for _, tok := range old {
		requireError(t, a.send("GET", "/institutions", tok, nil), http.StatusForbidden, "access-denied", "Token has expired")
	}
	assert.Equal(t, http.StatusOK, a.send("GET", "/institutions", recent, nil).Status)
	assert.Equal(t, http.StatusOK, a.send("GET", "/institutions", fresh, nil).Status)

	// A token the fake did not sign is unknown, forgotten or not.
	parts := strings.Split(old[0], ".")
	forged := parts[0] + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(make([]byte, 32))
	requireError(t, a.send("GET", "/institutions", forged, nil), http.StatusUnauthorized, "invalid-authorization-token")
	other := basiqtest.NewServer(basiqtest.InMemory())
	defer other.Close()
	requireError(t, newAPI(t, other).send("GET", "/institutions", fresh, nil), http.StatusUnauthorized, "invalid-authorization-token")
}

func TestSDKTokenExpiry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := basiqtest.NewServer(basiqtest.InMemory())
		defer srv.Close()
		c := sdkClient(t, srv)
		user := sdkUser(t, c)
		assert.Equal(t, 1, srv.TokenRequests())
		srv.ExpireTokens()
		_, err := c.Users.Get(t.Context(), user)
		require.NoError(t, err, "a 403 access-denied is answered by one new token and one replay")
		assert.Equal(t, 2, srv.TokenRequests())
		assert.Equal(t, 2, srv.RequestCount("GET", "/users/{userId}"))

		// The fake's TTL passes: the client's own refresh keeps calls working.
		time.Sleep(2 * time.Hour)
		_, err = c.Users.Get(t.Context(), user)
		require.NoError(t, err)
		assert.Equal(t, 3, srv.TokenRequests())
	})
}

func TestSDKWrongKey(t *testing.T) {
	srv := basiqtest.NewServer(basiqtest.InMemory())
	defer srv.Close()
	c, err := basiq.NewClient("bm90LXRoZS1rZXk=", basiq.WithBaseURL(srv.URL), basiq.WithHTTPClient(srv.Client()))
	require.NoError(t, err)
	_, err = c.Users.Get(t.Context(), "5b3532e0-23c7-48cb-b7a4-ff37f46c3eb1")
	var authErr *basiq.AuthError
	require.ErrorAs(t, err, &authErr)
	assert.Equal(t, 404, authErr.StatusCode)
	assert.Equal(t, 1, srv.TokenRequests(), "a bad key is not retried")
}
