package basiq

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFilterWhereEveryDocumentedOperator(t *testing.T) {
	a := newCoreAPI(t)
	a.handle(http.MethodGet, "/connectors", http.StatusOK, `{"type":"list","data":[]}`)
	a.handle(http.MethodGet, "/users/u1/connections", http.StatusOK, `{"type":"list","data":[]}`)
	a.handle(http.MethodGet, "/users/u1/accounts", http.StatusOK, `{"type":"list","data":[]}`)
	c := newCoreClient(t, a)
	ctx := context.Background()
	_, err := c.Connectors.List(ctx, &ConnectorFilter{AuthorizationType: []string{"user", "user-mfa"}, InstitutionType: "Bank",
		ConnectorID: "AU00000", Scopes: []string{"s1"}, Engine: "node",
		Where: []Condition{{"connector.stage", FilterNe, []string{"alpha"}}, {"connector.institution.type", FilterNe, []string{"Test Bank"}}}})
	require.NoError(t, err)
	_, err = c.Connections.List(ctx, "u1", &ConnectionFilter{ID: "c1", Where: []Condition{{"institution.id", FilterNe, []string{"AU00000"}}}})
	require.NoError(t, err)
	_, err = c.Accounts.List(ctx, "u1", &AccountFilter{Where: []Condition{{"account.id", FilterNe, []string{"a1"}}}})
	require.NoError(t, err)
	reqs := a.apiRequests()
	require.Len(t, reqs, 3)
	assert.Equal(t, filterQuery0("connector.authorization.type.in('user','user-mfa'),connector.scopes.eq('s1'),"+
		"connector.id.eq('AU00000'),connector.institution.type.eq('Bank'),connector.connectorEngine.eq('node'),"+
		"connector.stage.ne('alpha'),connector.institution.type.ne('Test Bank')"), reqs[0].RawQuery)
	assert.Equal(t, filterQuery0("id.eq('c1'),institution.id.ne('AU00000')"), reqs[1].RawQuery)
	assert.Equal(t, filterQuery0("account.id.ne('a1')"), reqs[2].RawQuery)

	for name, f := range map[string]*ConnectorFilter{
		"undocumented property": {Where: []Condition{{"connector.name", FilterEq, []string{"x"}}}},
		"undocumented operator": {Where: []Condition{{"connector.id", FilterNe, []string{"AU00000"}}}},
		"bt takes two":          {Where: []Condition{{"connector.stage", FilterIn, nil}}},
		"quote in a value":      {Where: []Condition{{"connector.stage", FilterEq, []string{"a'b"}}}},
	} {
		_, err := c.Connectors.List(ctx, f)
		assert.ErrorIs(t, err, ErrInvalidInput, name)
	}
	_, err = c.Accounts.List(ctx, "u1", &AccountFilter{Where: []Condition{{"account.id", FilterIn, []string{"a", "b"}}}})
	assert.ErrorIs(t, err, ErrInvalidInput, "accounts take eq and ne only")
	assert.Len(t, a.apiRequests(), 3)
}
