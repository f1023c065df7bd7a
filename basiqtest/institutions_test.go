package basiqtest_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banklink-go/basiq/basiqtest"
)

// recordedHooli is testdata/basiq-spec/ (in the module root) v2.1/examples/institutions__getInstitution.json
// without features, logo and links.
const recordedHooli = `{
  "authorization": "user", "country": "Australia", "type": "institution", "id": "AU00000",
  "institutionType": "Test Bank", "loginIdCaption": "Login", "name": "Hooli Bank", "passwordCaption": "Password",
  "serviceName": "Personal Online Banking", "serviceType": "Personal Banking", "shortName": "Hooli",
  "stage": "live", "tier": "4", "status": "operational",
  "stats": {"averageDurationMs": {"retrieveAccounts": 3820, "retrieveMeta": 12487, "retrieveTransactions": 7127,
    "total": 31588, "verifyCredentials": 8154}}
}`

func TestInstitutionMatchesRecordedHooli(t *testing.T) {
	srv := basiqtest.NewServer(basiqtest.InMemory())
	defer srv.Close()
	a := newAPI(t, srv)
	got := a.send("GET", "/institutions/AU00000", a.serverToken("2.1"), nil).JSON(t)

	var want map[string]any
	require.NoError(t, json.Unmarshal([]byte(recordedHooli), &want))
	for k, v := range want {
		assert.Equal(t, v, got[k], k)
	}
	assert.Equal(t, []any{"web"}, got["features"].(map[string]any)["login"])
	assert.Equal(t, "image", got["logo"].(map[string]any)["type"])
	assert.Equal(t, srv.URL+"/institutions/AU00000", got["links"].(map[string]any)["self"])
}

func TestInstitutions(t *testing.T) {
	srv := basiqtest.NewServer(basiqtest.InMemory())
	defer srv.Close()
	a := newAPI(t, srv)
	tok := a.serverToken("3.0")

	list := func(filter string) []string {
		t.Helper()
		path := "/institutions"
		if filter != "" {
			path += "?filter=" + url.QueryEscape(filter)
		}
		r := a.send("GET", path, tok, nil)
		require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
		body := r.JSON(t)
		assert.Equal(t, "list", body["type"])
		var ids []string
		for _, d := range body["data"].([]any) {
			ids = append(ids, d.(map[string]any)["id"].(string))
		}
		assert.EqualValues(t, len(ids), body["totalCount"])
		return ids
	}
	all := list("")
	assert.GreaterOrEqual(t, len(all), 16)
	assert.Subset(t, all, []string{"AU00000", "AU00002", "AU00003", "AU00004"})
	assert.Len(t, list("institution.status.eq('major-outage')"), 1)
	assert.Len(t, list("institution.status.eq('partial-outage')"), 1)
	assert.Equal(t, []string{"AU00000", "AU00002", "AU00003", "AU00004"}, list("institution.institutionType.eq('Test Bank')"))
	tiers := list("institution.tier.in('1','2'),institution.country.eq('Australia')")
	assert.NotEmpty(t, tiers)
	assert.NotContains(t, tiers, "NZ10001")
	assert.NotContains(t, tiers, "AU00000")
	notLive := list("institution.stage.ne('live')")
	assert.NotEmpty(t, notLive)
	assert.Less(t, len(notLive), len(all))
	assert.Equal(t, []string{"AU00002"}, list("institution.authorization.eq('user-mfa'),institution.tier.eq('4'),institution.institutionType.eq('Test Bank')"))
	requireError(t, a.send("GET", "/institutions?filter=institution.name.eq('x')", tok, nil), http.StatusBadRequest, "parameter-not-valid")

	requireError(t, a.send("GET", "/institutions/AU0000", tok, nil), http.StatusBadRequest, "parameter-not-valid")
	e := requireError(t, a.send("GET", "/institutions/AU99999", tok, nil), http.StatusNotFound, "resource-not-found",
		"Requested institution does not exist.")
	assert.Equal(t, "Requested resource is not found", e.Data[0].Title)

	require.NoError(t, srv.SetInstitutionStatus("AU00000", "major-outage"))
	assert.Equal(t, "major-outage", a.send("GET", "/institutions/AU00000", tok, nil).JSON(t)["status"])
	assert.Len(t, list("institution.status.eq('major-outage')"), 2)
	assert.Equal(t, "major-outage", a.send("GET", "/connectors/AU00000/web", tok, nil).JSON(t)["status"])
	require.NoError(t, srv.SetInstitutionStatus("AU00000", "scheduled-maintenance"), "unknown statuses are allowed")
	assert.Error(t, srv.SetInstitutionStatus("AU99999", "operational"))
	assert.Error(t, srv.SetInstitutionStatus("AU00000", ""))
}

func TestConnectors(t *testing.T) {
	srv := basiqtest.NewServer(basiqtest.InMemory())
	defer srv.Close()
	a := newAPI(t, srv)
	tok := a.serverToken("3.0")

	c := a.send("GET", "/connectors/AU00000/web", tok, nil).JSON(t)
	assert.Equal(t, "connector", c["type"])
	assert.Equal(t, "AU00000", c["id"])
	assert.Equal(t, "web", c["method"])
	assert.Equal(t, "operational", c["status"])
	assert.Equal(t, "user", c["authorization"].(map[string]any)["type"])
	assert.Equal(t, "Login", c["authorization"].(map[string]any)["meta"].(map[string]any)["login_id_caption"])
	inst := c["institution"].(map[string]any)
	assert.Equal(t, "Test Bank", inst["type"])
	assert.Equal(t, "Hooli", inst["shortName"])
	assert.EqualValues(t, 8154, c["stats"].(map[string]any)["averageDurationMs"].(map[string]any)["verifyCredentials"])

	requireError(t, a.send("GET", "/connectors/AU00000/open-banking", tok, nil), http.StatusNotFound, "resource-not-found")
	assert.Equal(t, http.StatusOK, a.send("GET", "/connectors/AU10001/open-banking", tok, nil).Status)
	requireError(t, a.send("GET", "/connectors/hooli/web", tok, nil), http.StatusBadRequest, "parameter-not-valid")

	count := func(filter string) int {
		r := a.send("GET", "/connectors?filter="+url.QueryEscape(filter), tok, nil)
		require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
		body := r.JSON(t)
		assert.EqualValues(t, len(body["data"].([]any)), body["totalCount"])
		return len(body["data"].([]any))
	}
	web := count("connector.method.eq('web')")
	ob := count("connector.method.eq('open-banking')")
	assert.Equal(t, count(""), web+ob)
	assert.Positive(t, ob)
	assert.Equal(t, ob, count("connector.institution.tier.in('1','2'),connector.method.eq('open-banking')"))
	assert.Equal(t, 1, count("connector.status.eq('major-outage')"))
	assert.Equal(t, 1, count("connector.institution.country.eq('New Zealand')"))
	requireError(t, a.send("GET", "/connectors?filter=connector.colour.eq('red')", tok, nil), http.StatusBadRequest, "parameter-not-valid")
}

// Open banking is spelt "openbanking" (DATA3's enum) and "open-banking" (the
// filter grammar, 2.x): the fake takes both in paths and filters, and
// reports "openbanking" to 3.0 tokens, "open-banking" to 2.x ones.
func TestConnectorMethodSpellings(t *testing.T) {
	srv := basiqtest.NewServer(basiqtest.InMemory())
	defer srv.Close()
	a := newAPI(t, srv)
	for version, want := range map[string]string{"3.0": "openbanking", "2.1": "open-banking", "2.0": "open-banking"} {
		t.Run(version, func(t *testing.T) {
			tok := a.serverToken(version)
			count := func(filter string) int {
				r := a.send("GET", "/connectors?filter="+url.QueryEscape(filter), tok, nil)
				require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
				return len(r.JSON(t)["data"].([]any))
			}
			n := count("connector.method.eq('open-banking')")
			assert.Equal(t, 6, n)
			assert.Equal(t, n, count("connector.method.eq('openbanking')"))
			assert.Equal(t, n, count("connector.method.in('openbanking','pdf')"))
			assert.Equal(t, count(""), n+count("connector.method.ne('openbanking')"))

			r := a.send("GET", "/connectors?filter="+url.QueryEscape("connector.method.eq('openbanking')"), tok, nil)
			for _, c := range r.JSON(t)["data"].([]any) {
				c := c.(map[string]any)
				assert.Equal(t, want, c["method"])
				assert.Equal(t, srv.URL+"/connectors/"+c["id"].(string)+"/"+want, c["links"].(map[string]any)["self"])
			}
			for _, m := range []string{"openbanking", "open-banking"} {
				c := a.send("GET", "/connectors/AU10001/"+m, tok, nil).JSON(t)
				assert.Equal(t, want, c["method"])
			}
		})
	}
}
