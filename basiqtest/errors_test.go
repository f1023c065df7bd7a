package basiqtest_test

import (
	"context"
	"errors"
	"testing"

	"github.com/banklink-go/basiq"
	"github.com/banklink-go/basiq/basiqtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSDKErrorEnvelope(t *testing.T) {
	srv := basiqtest.NewServer(basiqtest.InMemory())
	defer srv.Close()
	c := sdkClient(t, srv)
	_, err := c.Users.Create(t.Context(), basiq.UserParams{Email: "not-an-email"})
	var apiErr *basiq.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 400, apiErr.StatusCode)
	assert.NotEmpty(t, apiErr.CorrelationID)
	assert.NotEmpty(t, apiErr.Code())
	assert.ErrorIs(t, err, basiq.ErrInvalidInput)

	_, err = c.Users.Get(t.Context(), "5b3532e0-23c7-48cb-b7a4-ff37f46c3eb1")
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, "resource-not-found", apiErr.Code())
	assert.ErrorIs(t, err, basiq.ErrNotFound)

	_, err = c.Institutions.Get(t.Context(), "XX99999")
	assert.ErrorIs(t, err, basiq.ErrNotFound)

	v3 := sdkClient(t, srv, basiq.WithAPIVersion(basiq.V3))
	_, err = v3.Connections.Create(context.Background(), "u", basiq.Credentials{InstitutionID: "AU00000", LoginID: "a", Password: "b"})
	assert.True(t, errors.Is(err, basiq.ErrUnsupportedVersion))
}
