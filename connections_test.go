package basiq

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestCredentialCallsUnsupportedOnV3(t *testing.T) {
	a := newCoreAPI(t)
	c := newCoreClient(t, a) // V3 is the default
	ctx := context.Background()
	job, err := c.Connections.Create(ctx, "u1", Credentials{InstitutionID: "AU00000", LoginID: "gavinBelson", Password: "hooli2016"})
	assert.Nil(t, job)
	assert.ErrorIs(t, err, ErrUnsupportedVersion)
	assert.Contains(t, err.Error(), "Connections.Create")
	assert.NotContains(t, err.Error(), "hooli2016")

	job, err = c.Connections.Update(ctx, "u1", "c1", CredentialsUpdate{Password: "new-password"})
	assert.Nil(t, job)
	assert.ErrorIs(t, err, ErrUnsupportedVersion)
	assert.Contains(t, err.Error(), "3.0")

	// even invalid input reports the version first: the call does not exist
	_, err = c.Connections.Create(ctx, "", Credentials{})
	assert.ErrorIs(t, err, ErrUnsupportedVersion)

	assert.Empty(t, a.all(), "no request at all, not even for a token")
}
