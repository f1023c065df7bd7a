package basiqtest_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestEnrichMatchesTheFakesMerchants(t *testing.T) {
	d := newDataSetup(t)
	get := func(q url.Values) resp { return d.a.send("GET", "/enrich?"+q.Encode(), d.tok, nil) }
	q := url.Values{"q": {"WOOLWORTHS 1234 SYDNEY"}, "institution": {"AU00000"}, "country": {"AU"}, "amount": {"-12.95"}}
	r := get(q)
	require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
	requireMatchesSchema(t, "enrich.json", specSchema(t, "enrich.json", "/enrich", "get", "200", "application/json"), r.Body)
	m := r.JSON(t)
	assert.Equal(t, "enrich", m["type"])
	assert.Equal(t, "debit", m["direction"])
	assert.Equal(t, "payment", m["class"])
	data := m["data"].(map[string]any)
	assert.Equal(t, "Woolworths", data["merchant"].(map[string]any)["businessName"])
	assert.Equal(t, "88000014675", data["merchant"].(map[string]any)["abn"])
	anz := data["category"].(map[string]any)["anzsic"].(map[string]any)
	assert.Equal(t, map[string]any{"code": "411", "title": "Supermarket and Grocery Stores"}, anz["group"])
	assert.Equal(t, "G", anz["division"].(map[string]any)["code"])
	assert.Equal(t, r.Body, get(q).Body, "deterministic")

	// The same merchant however it is written; text with none gets a class.
	assert.Equal(t, "Garfish Manly", get(url.Values{"q": {"garfish MANLY NS"}, "institution": {"AU00000"}, "country": {"AU"}}).
		JSON(t)["data"].(map[string]any)["merchant"].(map[string]any)["businessName"])
	atm := get(url.Values{"q": {"ATM WITHDRAWAL BONDI"}, "institution": {"AU00000"}, "country": {"AU"}}).JSON(t)
	assert.Equal(t, "cash-withdrawal", atm["class"])
	assert.NotContains(t, atm["data"], "merchant")
	salary := get(url.Values{"q": {"SALARY ACME"}, "institution": {"AU00000"}, "country": {"AU"}, "amount": {"2500"}}).JSON(t)
	assert.Equal(t, []any{"credit", "direct-credit"}, []any{salary["direction"], salary["class"]})

	for _, tc := range []struct {
		q     url.Values
		code  string
		param string
	}{
		{url.Values{"institution": {"AU00000"}, "country": {"AU"}}, "parameter-not-supplied", "q"},
		{url.Values{"q": {"x"}, "country": {"AU"}}, "parameter-not-supplied", "institution"},
		{url.Values{"q": {"x"}, "institution": {"AU00000"}}, "parameter-not-supplied", "country"},
		{url.Values{"q": {"x"}, "institution": {"XX"}, "country": {"AU"}}, "parameter-not-valid", "institution"},
		{url.Values{"q": {"x"}, "institution": {"AU00000"}, "country": {"Australia"}}, "parameter-not-valid", "country"},
		{url.Values{"q": {"x"}, "institution": {"AU00000"}, "country": {"AU"}, "mcc": {"12"}}, "parameter-not-valid", "mcc"},
		{url.Values{"q": {"x"}, "institution": {"AU00000"}, "country": {"AU"}, "accountType": {"cheque"}}, "parameter-not-valid", "accountType"},
		{url.Values{"q": {"x"}, "institution": {"AU00000"}, "country": {"AU"}, "amount": {"12,95"}}, "parameter-not-valid", "amount"},
	} {
		e := requireError(t, get(tc.q), http.StatusBadRequest, tc.code)
		assert.Equal(t, tc.param, e.Data[0].Source["parameter"], tc.q.Encode())
	}
}
