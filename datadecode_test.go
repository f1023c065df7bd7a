package basiq

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The documented transaction of basiq-api-v3.md §7.2, with both merchant ABN
// spellings and the disagreements of §8 Q12–Q14.
const docTransaction = `{"type":"transaction","id":"3733ed4c-aaaa","status":"posted","description":"MCDONALDS HEATHERTON",
 "reference":"REF1","amount":"-124.69","currency":"AUD","balance":"0.00","direction":"debit","class":"payment",
 "subClass":{"code":451,"title":"Cafes, Restaurants and Takeaway Food Services"},
 "account":"55002a88","connection":"0987220d","institution":"AU04301",
 "transactionDate":"","postDate":"2022-12-23T00:00:00Z",
 "paymentDetails":{"bpay":{"billerCode":"23796","billerName":"AGL","crn":1234567},"apcaNumber":"062000"},
 "enrich":{"cleanDescription":"McDonald's","tags":["conduct:dishonour","card:4615"],
   "merchant":{"id":"m1","businessName":"McDonald's","abn":"43005496997","website":"https://mcdonalds.com.au",
     "logoMaster":"https://l/m.png","logoThumb":"https://l/t.png","phoneNumber":{"local":"(03) 9555 0000","international":"+61 3 9555 0000"}},
   "location":{"routeNo":29,"route":"E Esplanade","postalCode":"2095","suburb":"Manly","state":"NSW","country":"Australia",
     "formattedAddress":"29 E Esplanade, Manly NSW 2095","geometry":{"lat":-33.7998852,"lng":"151.2858021"}},
   "category":{"matchType":"merchantFull","matchScore":1,"mcc":{"code":"5812","title":"Eating Places"},
     "anzsic":{"division":{"code":"H","title":"Accommodation and Food Services"},"subdivision":{"code":"45","title":"Food"},
       "group":{"code":"451","title":"Cafes"},"class":{"code":"4511","title":"Cafes and Restaurants"},"subclass":{"code":"451100","title":"Cafes"}}}},
 "links":{"self":"https://au-api.basiq.io/users/u/transactions/3733ed4c-aaaa","account":"https://au-api.basiq.io/users/u/accounts/55002a88",
   "institution":"https://au-api.basiq.io/institutions/AU04301","connection":null}}`

func TestTransactionDecodesDocumentedShape(t *testing.T) {
	var tx Transaction
	require.NoError(t, json.Unmarshal([]byte(docTransaction), &tx))
	assert.Equal(t, "3733ed4c-aaaa", tx.ID)
	assert.Equal(t, TransactionPosted, tx.Status)
	assert.False(t, tx.Pending())
	assert.Equal(t, "-124.69", tx.Amount, "money stays a decimal string")
	assert.Equal(t, DirectionDebit, tx.Direction)
	assert.Equal(t, ClassPayment, tx.Class)
	assert.Equal(t, CodeTitle{Code: "451", Title: "Cafes, Restaurants and Takeaway Food Services"}, tx.SubClass, "a numeric code is text")
	assert.Equal(t, "55002a88", tx.AccountID)
	assert.Equal(t, "0987220d", tx.ConnectionID)
	assert.Equal(t, "AU04301", tx.InstitutionID)
	assert.True(t, tx.TransactionDate.IsZero(), `"" is no date`)
	assert.Equal(t, ts("2022-12-23T00:00:00Z"), tx.PostDate)
	assert.Equal(t, PaymentDetails{BPay: BPay{BillerCode: "23796", BillerName: "AGL", CRN: "1234567"}, APCANumber: "062000"}, tx.PaymentDetails)
	require.NotNil(t, tx.Enrich)
	assert.Equal(t, []string{"conduct:dishonour", "card:4615"}, tx.Enrich.Tags)
	require.NotNil(t, tx.Enrich.Merchant)
	assert.Equal(t, "43005496997", tx.Enrich.Merchant.ABN, "abn as in the examples")
	assert.Equal(t, PhoneNumber{Local: "(03) 9555 0000", International: "+61 3 9555 0000"}, tx.Enrich.Merchant.PhoneNumber)
	require.NotNil(t, tx.Enrich.Location)
	assert.Equal(t, "29", tx.Enrich.Location.RouteNo)
	assert.Equal(t, Geometry{Lat: "-33.7998852", Lng: "151.2858021"}, tx.Enrich.Location.Geometry)
	require.NotNil(t, tx.Enrich.Category)
	assert.Equal(t, "1", tx.Enrich.Category.MatchScore)
	assert.Equal(t, CodeTitle{Code: "4511", Title: "Cafes and Restaurants"}, tx.Enrich.Category.ANZSIC.Class)
	assert.Equal(t, TransactionLinks{Self: "https://au-api.basiq.io/users/u/transactions/3733ed4c-aaaa",
		Account: "https://au-api.basiq.io/users/u/accounts/55002a88", Institution: "https://au-api.basiq.io/institutions/AU04301"}, tx.Links)
	assert.Nil(t, tx.Extra, "nothing unknown")

	// The schema's spelling of the ABN, a null enrich and a null transactionDate.
	var tx2 Transaction
	doc := strings.Replace(docTransaction, `"abn":`, `"ABN":`, 1)
	require.NoError(t, json.Unmarshal([]byte(doc), &tx2))
	assert.Equal(t, "43005496997", tx2.Enrich.Merchant.ABN)
	var tx3 Transaction
	require.NoError(t, json.Unmarshal([]byte(`{"id":"p1","status":"pending","postDate":null,"transactionDate":null,"enrich":null,"subClass":null}`), &tx3))
	assert.True(t, tx3.Pending())
	assert.True(t, tx3.PostDate.IsZero())
	assert.Nil(t, tx3.Enrich)
	assert.Nil(t, tx3.Extra)
	// Merchant, location and category may each be null.
	var tx4 Transaction
	require.NoError(t, json.Unmarshal([]byte(`{"id":"p2","enrich":{"cleanDescription":"x","tags":[],"merchant":null,"location":null,"category":null}}`), &tx4))
	require.NotNil(t, tx4.Enrich)
	assert.Nil(t, tx4.Enrich.Merchant)
	assert.Nil(t, tx4.Enrich.Location)
	assert.Nil(t, tx4.Enrich.Category)
}

func TestTransactionKeepsUnknownMembers(t *testing.T) {
	doc := `{"id":"t1","amount":"-1.00","newTopLevel":{"a":[1,2]},"status":"posted",
	  "enrich":{"merchant":{"id":"m","category":"food","phoneNumber":{"local":"1","fax":"2"}},"tags":["ok",{"odd":true}],"score":0.5},
	  "subClass":"451","postDate":"yesterday","links":{"self":"s","statements":"x"},"description":{"text":"object"},
	  "class":["payment"],"n\u0061me":"escaped key"}`
	var tx Transaction
	require.NoError(t, json.Unmarshal([]byte(doc), &tx))
	assert.Equal(t, "t1", tx.ID)
	assert.Equal(t, "-1.00", tx.Amount)
	want := map[string]string{
		"newTopLevel":                     `{"a":[1,2]}`,
		"enrich.merchant.category":        `"food"`,
		"enrich.merchant.phoneNumber.fax": `"2"`,
		"enrich.tags[1]":                  `{"odd":true}`,
		"enrich.score":                    `0.5`,
		"subClass":                        `"451"`,
		"postDate":                        `"yesterday"`,
		"links.statements":                `"x"`,
		"description":                     `{"text":"object"}`,
		"class":                           `["payment"]`,
		"name":                            `"escaped key"`,
	}
	got := map[string]string{}
	for k, v := range tx.Extra {
		got[k] = string(v)
	}
	assert.Equal(t, want, got)
	assert.True(t, tx.PostDate.IsZero())
	assert.Empty(t, tx.Description, "a member of the wrong type is left empty, and kept in Extra")
	assert.Equal(t, []string{"ok", ""}, tx.Enrich.Tags)

	// The page decoder gives the same transaction.
	txs, errs, err := pageTransactions([]byte(`{"data":[` + doc + `]}`))
	require.NoError(t, err)
	require.Len(t, txs, 1)
	require.NoError(t, errs[0])
	assert.Equal(t, tx, txs[0])
}

// pageTransactions decodes a page body as Transactions.All does: each
// item's transaction or error.
func pageTransactions(body []byte) ([]Transaction, []error, error) {
	pg := &listPage{shape: transactionShape}
	if err := pg.decodeJSON(body); err != nil {
		return nil, nil, err
	}
	var txs []Transaction
	var errs []error
	next := transactionDecoder(pg.page.data)
	for _, it := range pg.page.items {
		tx, err := next(it.extra)
		if err == nil && it.notObject {
			tx, err = Transaction{}, errors.New("not a JSON object")
		}
		txs, errs = append(txs, tx), append(errs, err)
		if err != nil {
			break // as Transactions.All
		}
	}
	return txs, errs, nil
}

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

// FuzzTransactionsPage: any body either fails as a page or decodes into
// items that each equal the single-transaction decoding of the same member;
// nothing panics.
func FuzzTransactionsPage(f *testing.F) {
	f.Add([]byte(`{"data":[` + docTransaction + `],"links":{"next":"n"}}`))
	f.Add([]byte(`{"data":[{"id":"a","x":{"y":[1,{"z":"\""}]}},42,null,"s"]}`))
	f.Add([]byte(`{"data":[{"id":"a\\","enrich":{"tags":[[],{}]}}]}`))
	f.Add([]byte(`{"data":[]}`))
	f.Add([]byte(`{"data":[{"id":"a"} {"id":"b"}]}`))
	f.Add([]byte(`{"data":[{"id":"a","x":tru}],"links":{"next":"n"}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		txs, errs, err := pageTransactions(body)
		if err != nil {
			return
		}
		var raw struct {
			Data []json.RawMessage `json:"data"`
		}
		if json.Unmarshal(body, &raw) != nil {
			for _, err := range errs {
				if err != nil {
					return // the malformed part is an item, reported as its error
				}
			}
			t.Fatalf("page accepted with no item error, but not valid JSON: %q", body)
		}
		if len(txs) > len(raw.Data) || len(txs) < len(raw.Data) && (len(errs) == 0 || errs[len(errs)-1] == nil) {
			t.Fatalf("%d items for %d members", len(txs), len(raw.Data))
		}
		for i := range txs {
			var single Transaction
			serr := json.Unmarshal(raw.Data[i], &single)
			trimmed := strings.TrimSpace(string(raw.Data[i]))
			if errs[i] != nil {
				if strings.HasPrefix(trimmed, "{") && !strings.Contains(errs[i].Error(), "an error (code") {
					t.Fatalf("item %d: %v", i, errs[i])
				}
				continue
			}
			if serr != nil {
				t.Fatalf("item %d decodes in a page, not alone: %v", i, serr)
			}
			if !reflect.DeepEqual(txs[i], single) {
				t.Fatalf("item %d:\npage   %+v\nsingle %+v", i, txs[i], single)
			}
		}
	})
}
