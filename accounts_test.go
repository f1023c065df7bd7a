package basiq

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAccountDecodesDocumentedShape(t *testing.T) {
	doc := `{"type":"account","id":"s55bf3","name":"Master Savings","accountNo":"600000157441965","currency":"AUD",
	  "balance":"356.50","availableFunds":null,"creditLimit":400000,"class":{"type":"mortgage","product":"Hooli Home Loan"},
	  "status":"available","lastUpdated":"2019-09-28T13:39:33Z","accountHolder":"GAVIN BELSON","isOwned":false,
	  "accountOwnership":"ONE_PARTY","connection":"8fce3b","institution":"AU00000",
	  "transactionIntervals":[{"from":"2018-07-01","to":"2018-12-30"}],"bsb":"062000","unmaskedAccNum":"157441965",
	  "maskedNumber":"xxxx1965","creationDate":"2015-01-01","depositRate":"0.0385","purses":[{"amount":"10.00","currency":"USD","note":"x"}],
	  "meta":{"loan":{"startDate":"2019-10-01"}},"futureField":1,
	  "links":{"self":"s","transactions":"t","connection":null,"institution":"i","statements":"st"}}`
	var a Account
	require.NoError(t, json.Unmarshal([]byte(doc), &a))
	assert.Equal(t, "062000", a.BSB)
	assert.Equal(t, "157441965", a.UnmaskedAccountNo)
	assert.Equal(t, "xxxx1965", a.MaskedNumber)
	assert.Equal(t, "GAVIN BELSON", a.AccountHolder)
	assert.Equal(t, "", a.AvailableFunds)
	assert.Equal(t, "400000", a.CreditLimit, "numeric money becomes text")
	assert.False(t, a.IsOwned)
	assert.Equal(t, "8fce3b", a.ConnectionID)
	assert.Equal(t, []TransactionInterval{{From: ts("2018-07-01T00:00:00Z"), To: ts("2018-12-30T00:00:00Z")}}, a.TransactionIntervals)
	assert.Equal(t, []Purse{{Amount: "10.00", Currency: "USD"}}, a.Purses)
	assert.JSONEq(t, `{"loan":{"startDate":"2019-10-01"}}`, string(a.Meta))
	got := map[string]string{}
	for k, v := range a.Extra {
		got[k] = string(v)
	}
	assert.Equal(t, map[string]string{"futureField": "1", "purses[0].note": `"x"`, "links.statements": `"st"`}, got)

	var owned Account
	require.NoError(t, json.Unmarshal([]byte(`{"id":"a"}`), &owned))
	assert.True(t, owned.IsOwned, "isOwned is true when absent, as documented")
	assert.Error(t, json.Unmarshal([]byte(`[1]`), &owned))
}
