package basiq

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestInstitutionAndConnectorFilters(t *testing.T) {
	a := newCoreAPI(t)
	insts := jsonList(
		`{"type":"institution","id":"AU00001","name":"Commonwealth Bank","shortName":"CommBank","status":"operational","tier":"1"}`,
		`{"type":"institution","id":"AU00002","name":"Hooli Bank","shortName":"Hooli","status":"major-outage","tier":"1"}`,
	)
	a.on("GET /institutions?filter=institution.country.eq%28%27Australia%27%29%2Cinstitution.tier.in%28%271%27%2C%272%27%29%2Cinstitution.stage.eq%28%27live%27%29", 200, insts)
	a.on("GET /connectors?filter=connector.method.eq%28%27web%27%29%2Cconnector.status.in%28%27operational%27%2C%27major-outage%27%29", 200,
		jsonList(`{"type":"connector","id":"AU00002","method":"web","status":"major-outage","institution":{"name":"Hooli Bank","shortName":"Hooli"}}`,
			`{"type":"connector","id":"AU00001","method":"web","status":"operational","institution":{"name":"Commonwealth Bank"}}`))
	c := newCoreClient(t, a)
	got, err := c.Institutions.List(t.Context(), &InstitutionFilter{Country: []string{"Australia"}, Tier: []string{"1", "2"},
		Stage: []string{"live"}, Status: []InstitutionStatus{StatusMajorOutage}, Name: "hOOLI"})
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, "AU00002", got[0].ID)
	cs, err := c.Connectors.List(t.Context(), &ConnectorFilter{Method: []string{"web"},
		Status: []InstitutionStatus{StatusOperational, StatusMajorOutage}, Name: "commonwealth"})
	require.NoError(t, err)
	require.Len(t, cs, 1)
	assert.Equal(t, "AU00001", cs[0].ID)
	_, err = c.Institutions.List(t.Context(), &InstitutionFilter{Country: []string{"O'Brien"}})
	assert.ErrorIs(t, err, ErrInvalidInput)
	assert.Len(t, a.calls(), 2, "the bad filter sent nothing")
}

func TestConnectorStatusFilterAsksForMaintenanceAliases(t *testing.T) {
	a := newCoreAPI(t)
	a.on("GET /connectors?filter=connector.status.in%28%27under-maintenance%27%2C%27scheduled-maintenance%27%2C%27under-improvement%27%29", 200, jsonList())
	_, err := newCoreClient(t, a).Connectors.List(t.Context(), &ConnectorFilter{Status: []InstitutionStatus{StatusUnderMaintenance}})
	require.NoError(t, err)
}
