package basiqtest_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banklink-go/basiq/basiqtest"
)

// dataSetup is a 3.0 user whose gavinBelson connection has finished its job.
type dataSetup struct {
	srv    *basiqtest.Server
	a      *api
	clock  *fakeClock
	tok    string
	userID string
	connID string
}

func newDataSetup(t *testing.T, opts ...basiqtest.Option) *dataSetup {
	t.Helper()
	clock := newFakeClock()
	srv := basiqtest.NewServer(append([]basiqtest.Option{basiqtest.InMemory(), basiqtest.WithClock(clock.Now)}, opts...)...)
	t.Cleanup(srv.Close)
	a := newAPI(t, srv)
	tok := a.serverToken("3.0")
	userID := a.createUser(tok)
	jobID, err := srv.Connect(userID, "AU00000", "gavinBelson", "hooli2016")
	require.NoError(t, err)
	clock.Add(time.Minute)
	st, _ := srv.Job(jobID)
	require.True(t, st.Done)
	return &dataSetup{srv: srv, a: a, clock: clock, tok: tok, userID: userID, connID: st.ConnectionID}
}

// txPage is a page of GET /users/{userId}/transactions.
type txPage struct {
	Type  string            `json:"type"`
	Count int               `json:"count"`
	Size  int               `json:"size"`
	Data  []json.RawMessage `json:"data"`
	Links struct {
		Self string `json:"self"`
		Next string `json:"next"`
	} `json:"links"`
}

type txDoc struct {
	ID              string  `json:"id"`
	Status          string  `json:"status"`
	Amount          string  `json:"amount"`
	Direction       string  `json:"direction"`
	Class           string  `json:"class"`
	Account         string  `json:"account"`
	Connection      string  `json:"connection"`
	Institution     string  `json:"institution"`
	Description     string  `json:"description"`
	PostDate        *string `json:"postDate"`
	TransactionDate any     `json:"transactionDate"`
	Enrich          *struct {
		Merchant struct {
			ABN string `json:"ABN"`
		} `json:"merchant"`
	} `json:"enrich"`
}

func (d *dataSetup) page(t *testing.T, pathAndQuery string) txPage {
	t.Helper()
	r := d.a.send("GET", pathAndQuery, d.tok, nil)
	require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
	var p txPage
	require.NoError(t, json.Unmarshal(r.Body, &p))
	return p
}

// all follows links.next from the first page and returns every transaction
// and the number of pages.
func (d *dataSetup) all(t *testing.T, query string) ([]txDoc, int) {
	t.Helper()
	path := "/users/" + d.userID + "/transactions"
	if query != "" {
		path += "?" + query
	}
	var out []txDoc
	pages := 0
	for path != "" {
		p := d.page(t, path)
		pages++
		assert.Equal(t, "list", p.Type)
		assert.Equal(t, len(p.Data), p.Count)
		for _, raw := range p.Data {
			var tx txDoc
			require.NoError(t, json.Unmarshal(raw, &tx))
			out = append(out, tx)
		}
		path = ""
		if p.Links.Next != "" {
			require.True(t, strings.HasPrefix(p.Links.Next, d.srv.URL+"/users/"+d.userID+"/transactions?next="), p.Links.Next)
			path = strings.TrimPrefix(p.Links.Next, d.srv.URL)
		}
	}
	return out, pages
}

func TestTransactionsPagingAndOrder(t *testing.T) {
	d := newDataSetup(t, basiqtest.WithTransactionsPerAccount(600))
	txs, pages := d.all(t, "")
	require.Len(t, txs, 1800)
	assert.Equal(t, 4, pages, "500 a page by default")
	assert.Equal(t, 4, d.srv.RequestCount("GET", "/users/{userId}/transactions"))

	first := d.page(t, "/users/"+d.userID+"/transactions")
	assert.Equal(t, 500, first.Size)

	// Basiq's order: by account, then pending first, then post date, newest first.
	ids := map[string]bool{}
	var accounts []string
	for i, tx := range txs {
		assert.False(t, ids[tx.ID], "ids are unique")
		ids[tx.ID] = true
		if len(accounts) == 0 || accounts[len(accounts)-1] != tx.Account {
			require.NotContains(t, accounts, tx.Account, "an account's transactions are together")
			accounts = append(accounts, tx.Account)
		}
		if i == 0 || txs[i-1].Account != tx.Account {
			continue
		}
		prev := txs[i-1]
		switch {
		case prev.Status == "posted" && tx.Status == "pending":
			t.Fatalf("pending after posted at %d", i)
		case prev.Status == "posted":
			assert.GreaterOrEqual(t, *prev.PostDate, *tx.PostDate, "newest first")
		}
		if tx.Status == "pending" {
			assert.Nil(t, tx.PostDate, "a pending transaction has no post date")
		}
		if strings.HasPrefix(tx.Amount, "-") != (tx.Direction == "debit") {
			t.Fatalf("amount %s for a %s", tx.Amount, tx.Direction)
		}
	}
	assert.Len(t, accounts, 3)

	small, pages := d.all(t, "limit=70")
	assert.Equal(t, 26, pages, "1800 at 70 a page")
	require.Len(t, small, 1800)
	for i := range txs {
		require.Equal(t, txs[i].ID, small[i].ID, "the same list whatever the page size")
	}
}

func TestTransactionsDeterministic(t *testing.T) {
	summary := func(opts ...basiqtest.Option) []string {
		d := newDataSetup(t, opts...)
		txs, _ := d.all(t, "")
		var out []string
		for _, tx := range txs {
			out = append(out, tx.Status+" "+tx.Class+" "+tx.Amount+" "+tx.Description+" "+tx.ID[24:])
		}
		return out
	}
	a, b := summary(), summary()
	assert.Len(t, a, 60, "20 per account by default")
	assert.Equal(t, a, b, "the same seed gives the same transactions")
	assert.NotEqual(t, a, summary(basiqtest.WithDataSeed(2)))
	assert.Empty(t, summary(basiqtest.WithTransactionsPerAccount(0)))
}

func TestTransactionsAppearWithTheirJobStep(t *testing.T) {
	clock := newFakeClock()
	srv := basiqtest.NewServer(basiqtest.InMemory(), basiqtest.WithClock(clock.Now))
	defer srv.Close()
	a := newAPI(t, srv)
	tok := a.serverToken("3.0")
	userID := a.createUser(tok)
	count := func(what string) int {
		r := a.send("GET", "/users/"+userID+"/"+what, tok, nil)
		require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
		return len(r.JSON(t)["data"].([]any))
	}
	jobID, err := srv.Connect(userID, "AU00000", "gavinBelson", "hooli2016")
	require.NoError(t, err)
	assert.Zero(t, count("accounts"))
	assert.Zero(t, count("transactions"))
	clock.Add(8154*time.Millisecond + 3820*time.Millisecond) // verify-credentials, retrieve-accounts
	assert.Equal(t, 3, count("accounts"))
	assert.Zero(t, count("transactions"), "not before retrieve-transactions")
	clock.Add(7127 * time.Millisecond)
	st, _ := srv.Job(jobID)
	require.True(t, st.Done)
	assert.Equal(t, 60, count("transactions"))

	// jianYang fails on retrieve-transactions: accounts, no transactions.
	_, err = srv.Connect(userID, "AU00000", "jianYang", "nothotdog")
	require.NoError(t, err)
	clock.Add(time.Minute)
	assert.Equal(t, 6, count("accounts"))
	assert.Equal(t, 60, count("transactions"))
}

func TestTransactionFilters(t *testing.T) {
	d := newDataSetup(t, basiqtest.WithTransactionsPerAccount(120))
	all, _ := d.all(t, "")
	require.Len(t, all, 360)
	count := func(filter string) int {
		txs, _ := d.all(t, "filter="+url.QueryEscape(filter))
		return len(txs)
	}
	match := func(keep func(txDoc) bool) int {
		n := 0
		for _, tx := range all {
			if keep(tx) {
				n++
			}
		}
		return n
	}
	acct := all[0].Account
	day := func(tx txDoc) string {
		if tx.PostDate == nil {
			return ""
		}
		return (*tx.PostDate)[:10]
	}
	mid := day(all[60])
	lo, hi := day(all[100]), day(all[40])
	for filter, want := range map[string]int{
		"account.id.eq('" + acct + "')":                                          120,
		"account.id.ne('" + acct + "')":                                          240,
		"connection.id.eq('" + d.connID + "')":                                   360,
		"institution.id.eq('AU00000')":                                           360,
		"institution.id.eq('AU00002')":                                           0,
		"transaction.status.eq('pending')":                                       match(func(tx txDoc) bool { return tx.Status == "pending" }),
		"transaction.status.eq('posted')":                                        match(func(tx txDoc) bool { return tx.Status == "posted" }),
		"transaction.direction.eq('credit')":                                     match(func(tx txDoc) bool { return tx.Direction == "credit" }),
		"transaction.class.eq('payment')":                                        match(func(tx txDoc) bool { return tx.Class == "payment" }),
		"transaction.class.ne('payment')":                                        match(func(tx txDoc) bool { return tx.Class != "payment" }),
		"transaction.postDate.eq('" + mid + "')":                                 match(func(tx txDoc) bool { return day(tx) == mid }),
		"transaction.postDate.gt('" + mid + "')":                                 match(func(tx txDoc) bool { return day(tx) > mid }),
		"transaction.postDate.gteq('" + mid + "')":                               match(func(tx txDoc) bool { return day(tx) >= mid }),
		"transaction.postDate.lt('" + mid + "')":                                 match(func(tx txDoc) bool { return day(tx) != "" && day(tx) < mid }),
		"transaction.postDate.lteq('" + mid + "')":                               match(func(tx txDoc) bool { return day(tx) != "" && day(tx) <= mid }),
		"transaction.postDate.bt('" + lo + "','" + hi + "')":                     match(func(tx txDoc) bool { return day(tx) >= lo && day(tx) <= hi }),
		"transaction.postDate.bt('" + lo + "T00:00:00Z','" + hi + "T23:00:00Z')": match(func(tx txDoc) bool { return day(tx) >= lo && day(tx) <= hi }),
		"account.id.eq('" + acct + "'),transaction.direction.eq('debit'),transaction.postDate.gteq('" + mid + "')": match(func(tx txDoc) bool {
			return tx.Account == acct && tx.Direction == "debit" && day(tx) >= mid
		}),
	} {
		assert.Equal(t, want, count(filter), filter)
	}
	assert.Less(t, 0, count("transaction.postDate.bt('"+lo+"','"+hi+"')"))
}

func TestTransactionBadParameters(t *testing.T) {
	d := newDataSetup(t)
	base := "/users/" + d.userID + "/transactions?"
	for _, filter := range []string{
		"nonsense", "transaction.status.eq(pending)", "transaction.status.eq('pending'", "transaction.colour.eq('red')",
		"transaction.status.in('pending','posted')", "transaction.status.gt('pending')", "transaction.postDate.eq('yesterday')",
		"transaction.postDate.bt('2024-01-01')", "account.id.eq('a','b')", "transaction.status.bteq('x')",
	} {
		e := requireError(t, d.a.send("GET", base+"filter="+url.QueryEscape(filter), d.tok, nil), http.StatusBadRequest, "parameter-not-valid",
			"The provided filter parameter is in invalid format or unsupported")
		assert.Equal(t, "filter", e.Data[0].Source["parameter"], filter)
	}
	for _, limit := range []string{"0", "501", "-1", "ten", "1.5"} {
		e := requireError(t, d.a.send("GET", base+"limit="+limit, d.tok, nil), http.StatusBadRequest, "parameter-not-valid")
		assert.Equal(t, "limit", e.Data[0].Source["parameter"])
	}
	for _, next := range []string{"garbage", "eyJ1IjoieCJ9"} {
		e := requireError(t, d.a.send("GET", base+"next="+next, d.tok, nil), http.StatusBadRequest, "parameter-not-valid")
		assert.Equal(t, "next", e.Data[0].Source["parameter"])
	}
	// A cursor is bound to its user.
	other := d.a.createUser(d.tok)
	p := d.page(t, "/users/"+d.userID+"/transactions?limit=5")
	require.NotEmpty(t, p.Links.Next)
	next := strings.TrimPrefix(p.Links.Next, d.srv.URL)
	requireError(t, d.a.send("GET", strings.Replace(next, d.userID, other, 1), d.tok, nil), http.StatusBadRequest, "parameter-not-valid")
	// SERVER_ACCESS only.
	requireError(t, d.a.send("GET", base, d.a.clientToken("3.0", d.userID), nil), http.StatusForbidden, "forbidden-access")
	requireError(t, d.a.send("GET", "/users/8cda72db-b11f-4b8e-a4ca-3c5b1de4e4b5/transactions", d.tok, nil), http.StatusNotFound, "resource-not-found")
}

func TestTransactionAndAccountGet(t *testing.T) {
	d := newDataSetup(t)
	txs, _ := d.all(t, "")
	for _, tx := range []txDoc{txs[0], txs[30], txs[59]} {
		r := d.a.send("GET", "/users/"+d.userID+"/transactions/"+tx.ID, d.tok, nil)
		require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
		var got txDoc
		require.NoError(t, json.Unmarshal(r.Body, &got))
		assert.Equal(t, tx, got)
	}
	for _, id := range []string{"nope", txs[0].ID[:24] + "ffffffffffff", "8cda72db-b11f-4b8e-a4ca-3c5b1de4e4b5"} {
		requireError(t, d.a.send("GET", "/users/"+d.userID+"/transactions/"+id, d.tok, nil), http.StatusNotFound, "resource-not-found")
	}
	list := d.a.send("GET", "/users/"+d.userID+"/accounts", d.tok, nil).JSON(t)["data"].([]any)
	require.Len(t, list, 3)
	for _, item := range list {
		acct := item.(map[string]any)
		r := d.a.send("GET", "/users/"+d.userID+"/accounts/"+acct["id"].(string), d.tok, nil)
		require.Equal(t, http.StatusOK, r.Status)
		assert.Equal(t, acct, r.JSON(t))
		assert.Equal(t, "GAVIN BELSON", acct["accountHolder"])
		assert.Equal(t, d.connID, acct["connection"])
		assert.Equal(t, "AU00000", acct["institution"])
		assert.Len(t, acct["transactionIntervals"], 1)
	}
	requireError(t, d.a.send("GET", "/users/"+d.userID+"/accounts/nope", d.tok, nil), http.StatusNotFound, "resource-not-found")
}

func TestAccountFilters(t *testing.T) {
	d := newDataSetup(t)
	_, err := d.srv.Connect(d.userID, "AU00004", "jared", "django")
	require.NoError(t, err)
	d.clock.Add(time.Minute)
	count := func(filter string) int {
		r := d.a.send("GET", "/users/"+d.userID+"/accounts?filter="+url.QueryEscape(filter), d.tok, nil)
		require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
		return len(r.JSON(t)["data"].([]any))
	}
	assert.Equal(t, 6, count(""))
	assert.Equal(t, 3, count("connection.id.eq('"+d.connID+"')"))
	assert.Equal(t, 3, count("connection.id.ne('"+d.connID+"')"))
	assert.Equal(t, 3, count("institution.id.eq('AU00004')"))
	assert.Equal(t, 0, count("institution.id.eq('AU00004'),connection.id.eq('"+d.connID+"')"))
	for _, bad := range []string{"institution.id.in('AU00004')", "account.id.gt('a')", "account.name.eq('x')", "x"} {
		e := requireError(t, d.a.send("GET", "/users/"+d.userID+"/accounts?filter="+url.QueryEscape(bad), d.tok, nil),
			http.StatusBadRequest, "parameter-not-valid")
		assert.Equal(t, "filter", e.Data[0].Source["parameter"], bad)
	}
}

// TestDataShapesHaveSpecRequiredMembers checks the fake's accounts and
// transactions against the required members of Basiq's v3 Data spec.
func TestDataShapesHaveSpecRequiredMembers(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "testdata", "basiq-spec", "v3", "data.json"))
	require.NoError(t, err)
	var spec struct {
		Paths map[string]map[string]struct {
			Responses map[string]struct {
				Content map[string]struct {
					Schema json.RawMessage `json:"schema"`
				} `json:"content"`
			} `json:"responses"`
		} `json:"paths"`
	}
	require.NoError(t, json.Unmarshal(b, &spec))
	required := func(path string) []string {
		var s struct {
			Required []string `json:"required"`
		}
		require.NoError(t, json.Unmarshal(spec.Paths[path]["get"].Responses["200"].Content["application/json"].Schema, &s))
		require.NotEmpty(t, s.Required)
		return s.Required
	}
	d := newDataSetup(t)
	txs := d.page(t, "/users/"+d.userID+"/transactions")
	var sawEnrich, sawNullEnrich, sawPending bool
	for _, raw := range txs.Data {
		var m map[string]any
		require.NoError(t, json.Unmarshal(raw, &m))
		for _, k := range required("/users/{userId}/transactions/{transactionId}") {
			assert.Contains(t, m, k)
		}
		sawEnrich = sawEnrich || m["enrich"] != nil
		sawNullEnrich = sawNullEnrich || m["enrich"] == nil
		sawPending = sawPending || m["status"] == "pending"
	}
	assert.True(t, sawEnrich && sawNullEnrich && sawPending, "enrich present and null, pending transactions")
	accts := d.a.send("GET", "/users/"+d.userID+"/accounts", d.tok, nil).JSON(t)["data"].([]any)
	for _, item := range accts {
		for _, k := range required("/users/{userId}/accounts/{accountId}") {
			assert.Contains(t, item, k)
		}
	}
	assert.True(t, slices.ContainsFunc(accts, func(a any) bool { return a.(map[string]any)["meta"] != nil }))
}
