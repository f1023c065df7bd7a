package basiq

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestListTotals(t *testing.T) {
	a := newCoreAPI(t)
	a.handle(http.MethodGet, "/institutions", http.StatusOK, institutionsJSON)
	a.handle(http.MethodGet, "/users/u1/identities", http.StatusOK, v3Example(t, "identity.json", "GET /users/{userId}/identities 200", "person"))
	a.handle(http.MethodGet, "/users/u1", http.StatusOK, `{"type":"user","id":"u1"}`)
	c := newCoreClient(t, a, WithAPIVersion(V2_1))
	var totals ListTotals
	ctx := WithListTotals(context.Background(), &totals)
	_, err := c.Institutions.List(ctx, nil)
	require.NoError(t, err)
	assert.Equal(t, ListTotals{Count: -1, TotalCount: 3, Size: -1, Pages: 1}, totals)
	_, err = c.Identities.List(ctx, "u1")
	require.NoError(t, err)
	assert.Equal(t, ListTotals{Count: 1, TotalCount: -1, Size: -1, Pages: 2}, totals)
	_, err = c.Users.Get(ctx, "u1")
	require.NoError(t, err)
	assert.Equal(t, 2, totals.Pages, "not a list: nothing recorded")
	assert.Equal(t, context.Background(), WithListTotals(context.Background(), nil))
}
