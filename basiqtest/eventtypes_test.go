package basiqtest_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestEventTypesMatchTheSpec checks GET /events/types and
// /events/types/{eventTypeId} against CORE3's schemas.
func TestEventTypesMatchTheSpec(t *testing.T) {
	d := newDataSetup(t)
	r := d.a.send("GET", "/events/types", d.tok, nil)
	require.Equal(t, http.StatusOK, r.Status)
	requireMatchesSchema(t, "core.json", specSchema(t, "core.json", "/events/types", "get", "200", "application/json"), r.Body)
	assert.Len(t, r.JSON(t)["data"], 15)
	one := d.a.send("GET", "/events/types/connection.invalidated", d.tok, nil)
	require.Equal(t, http.StatusOK, one.Status)
	requireMatchesSchema(t, "core.json", specSchema(t, "core.json", "/events/types/{id}", "get", "200", "application/json"), one.Body)
	requireError(t, d.a.send("GET", "/events/types/connection.nope", d.tok, nil), http.StatusNotFound, "resource-not-found")
}
