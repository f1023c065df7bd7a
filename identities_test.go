package basiq

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestIdentitiesAndEnrich(t *testing.T) {
	a := newCoreAPI(t)
	a.handle(http.MethodGet, "/users/u1/identities", http.StatusOK, v3Example(t, "identity.json", "GET /users/{userId}/identities 200", "person"))
	a.handle(http.MethodGet, "/users/u1/identities/i1", http.StatusOK, `{"type":"identity","id":"i1","fullName":"John Doe","organisation":{"businessName":"ABC","isACNCRegistered":true}}`)
	a.handle(http.MethodGet, "/enrich", http.StatusOK, v3Example(t, "enrich.json", "GET /enrich 200", "example"))
	c := newCoreClient(t, a)
	ctx := context.Background()
	ids, err := c.Identities.List(ctx, "u1")
	require.NoError(t, err)
	require.Len(t, ids, 1)
	assert.Equal(t, "John Doe", ids[0].FullName)
	assert.Equal(t, "1985-05-25", ids[0].DOB)
	require.Len(t, ids[0].PhysicalAddresses, 1)
	assert.Equal(t, "2099", ids[0].PhysicalAddresses[0].Postcode)
	one, err := c.Identities.Get(ctx, "u1", "i1")
	require.NoError(t, err)
	assert.True(t, one.Organisation.IsACNCRegistered)

	e, err := c.Enrich.Get(ctx, EnrichParams{Query: "WOOLWORTHS 1197", Institution: "AU00000", Country: "AU", Amount: "-12.95"})
	require.NoError(t, err)
	assert.Equal(t, DirectionDebit, e.Direction)
	assert.Equal(t, ClassPayment, e.Class)
	require.NotNil(t, e.Data.Merchant)
	assert.Equal(t, "Woolworths", e.Data.Merchant.BusinessName)
	assert.Equal(t, "4110", e.Data.Category.ANZSIC.Class.Code)
	assert.Equal(t, []string{"conduct:dishonour"}, e.Data.Tags)
	assert.Contains(t, e.Links.LogoThumb, "woolworths-thumb.svg")
	q, err := url.ParseQuery(a.apiRequests()[2].RawQuery)
	require.NoError(t, err)
	assert.Equal(t, url.Values{"q": {"WOOLWORTHS 1197"}, "institution": {"AU00000"}, "country": {"AU"}, "amount": {"-12.95"}}, q)

	for _, p := range []EnrichParams{{Institution: "AU00000", Country: "AU"}, {Query: "x", Country: "AU"}, {Query: "x", Institution: "AU00000"}} {
		_, err := c.Enrich.Get(ctx, p)
		assert.ErrorIs(t, err, ErrInvalidInput)
	}
	assert.Len(t, a.apiRequests(), 3)
}
