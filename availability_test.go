package basiq

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestInstitutionAvailability(t *testing.T) {
	a := newCoreAPI(t)
	a.on("GET /institutions/AU00001", 200, `{"type":"institution","id":"AU00001","name":"Big Bank","shortName":"BigB","status":"major-outage"}`)
	a.on("GET /institutions/AU00002", 200, `{"type":"institution","id":"AU00002","name":"Small Bank","status":"operational"}`)
	c := newCoreClient(t, a)
	av, err := c.Institutions.Availability(t.Context(), "AU00001")
	require.NoError(t, err)
	assert.False(t, av.Advice.Usable)
	assert.True(t, av.Advice.TellUserFirst)
	assert.Contains(t, av.UserMessage, "BigB")
	av, err = c.Institutions.Availability(t.Context(), "AU00002")
	require.NoError(t, err)
	assert.True(t, av.Advice.Usable)
	assert.Empty(t, av.UserMessage)
	_, err = c.Institutions.Availability(t.Context(), "AU00001")
	require.NoError(t, err)
	assert.Len(t, a.calls(), 2, "the second look-up of AU00001 is cached")
}
