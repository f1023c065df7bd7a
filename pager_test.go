package basiq

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Paging tests on the core fake (httpmock): exact pages, GETs and items.

// threePages: 2 + 2 + 1 transactions; the cursors are opaque, with
// characters that must travel verbatim.
func threePages() map[string]func() (int, string) {
	return map[string]func() (int, string){
		"limit=500":               fixed(200, pageJSON("https://au-api.basiq.io/users/u-1/transactions?next=c%2F2%3D&x=1", "t1", "t2")),
		"next=c%2F2%3D&x=1":       fixed(200, pageJSON("https://AU-API.basiq.io:443/users/u-1/transactions?next=c3", "t3", "t4")),
		"next=c3":                 fixed(200, pageJSON("", "t5")),
		"never-asked-for=nothing": fixed(500, "{}"),
	}
}

func TestTransactionsAllFollowsNextLinks(t *testing.T) {
	a := newPagedAPI(t, threePages())
	c := newCoreClient(t, a.coreAPI)
	ids, errs := collectTx(c.Transactions.All(context.Background(), pageUser, nil), 0)
	require.Empty(t, errs)
	assert.Equal(t, []string{"t1", "t2", "t3", "t4", "t5"}, ids)
	assert.Equal(t, []string{"limit=500", "next=c%2F2%3D&x=1", "next=c3"}, a.queries(),
		"exactly one GET a page; the cursor's query passed on verbatim")
	assert.Len(t, a.tokenRequests(), 1)
	for _, r := range a.apiRequests() {
		assertAPIHeaders(t, r, "server-token-1", false)
	}
}

func TestTransactionsAllStopsFetchingOnBreak(t *testing.T) {
	for _, tc := range []struct {
		stopAfter int
		gets      int
	}{{1, 1}, {2, 1}, {3, 2}, {4, 2}, {5, 3}} {
		t.Run(fmt.Sprint(tc.stopAfter), func(t *testing.T) {
			a := newPagedAPI(t, threePages())
			c := newCoreClient(t, a.coreAPI)
			ids, errs := collectTx(c.Transactions.All(context.Background(), pageUser, nil), tc.stopAfter)
			require.Empty(t, errs)
			assert.Len(t, ids, tc.stopAfter)
			assert.Len(t, a.queries(), tc.gets, "a page is fetched only once the one before is used up")
		})
	}
}

func TestTransactionsAllRetriesAPage(t *testing.T) {
	pages := threePages()
	var mu sync.Mutex
	failures := 2
	pages["next=c%2F2%3D&x=1"] = func() (int, string) {
		mu.Lock()
		defer mu.Unlock()
		if failures > 0 {
			failures--
			return http.StatusServiceUnavailable, coreEnvelope("service-unavailable", "Service unavailable", "try later")
		}
		return 200, pageJSON("https://au-api.basiq.io/users/u-1/transactions?next=c3", "t3", "t4")
	}
	a := newPagedAPI(t, pages)
	c := newCoreClient(t, a.coreAPI) // 3 attempts
	ids, errs := collectTx(c.Transactions.All(context.Background(), pageUser, nil), 0)
	require.Empty(t, errs)
	assert.Equal(t, []string{"t1", "t2", "t3", "t4", "t5"}, ids, "no item lost or repeated")
	assert.Equal(t, []string{"limit=500", "next=c%2F2%3D&x=1", "next=c%2F2%3D&x=1", "next=c%2F2%3D&x=1", "next=c3"}, a.queries())
}

func TestTransactionsAllFailingPage(t *testing.T) {
	pages := threePages()
	pages["next=c%2F2%3D&x=1"] = fixed(http.StatusInternalServerError, coreEnvelope("internal-server-error", "Internal error", "boom"))
	a := newPagedAPI(t, pages)
	c := newCoreClient(t, a.coreAPI)
	ids, errs := collectTx(c.Transactions.All(context.Background(), pageUser, nil), 0)
	assert.Equal(t, []string{"t1", "t2"}, ids, "the items before the failing page")
	require.Len(t, errs, 1, "the error is yielded once, last")
	assert.ErrorIs(t, errs[0], ErrUnavailable)
	var apiErr *APIError
	require.ErrorAs(t, errs[0], &apiErr)
	assert.Equal(t, 3, apiErr.Attempts)
	assert.Len(t, a.queries(), 4, "1 + 3 attempts at the failing page, then nothing")
}

func TestTransactionsAllErrorEnvelopeIsNotATransaction(t *testing.T) {
	envelope := `{"type":"list","correlationId":"ac5ah55","data":[{"type":"error","code":"parameter-not-valid",
	  "title":"Parameter value is not valid","detail":"The provided filter parameter is in invalid format or unsupported",
	  "source":{"parameter":"filter"}}]}`
	t.Run("as a 400", func(t *testing.T) {
		a := newPagedAPI(t, map[string]func() (int, string){"limit=500": fixed(400, envelope)})
		c := newCoreClient(t, a.coreAPI)
		ids, errs := collectTx(c.Transactions.All(context.Background(), pageUser, nil), 0)
		assert.Empty(t, ids)
		require.Len(t, errs, 1)
		var apiErr *APIError
		require.ErrorAs(t, errs[0], &apiErr)
		assert.ErrorIs(t, errs[0], ErrInvalidInput)
		assert.Equal(t, "parameter-not-valid", apiErr.Code())
		assert.Equal(t, "filter", apiErr.Errors[0].Source.Parameter)
		assert.Equal(t, "ac5ah55", apiErr.CorrelationID)
	})
	t.Run("as a 200", func(t *testing.T) {
		a := newPagedAPI(t, map[string]func() (int, string){"limit=500": fixed(200, envelope)})
		c := newCoreClient(t, a.coreAPI)
		ids, errs := collectTx(c.Transactions.All(context.Background(), pageUser, nil), 0)
		assert.Empty(t, ids, "an error member is never yielded as a transaction")
		require.Len(t, errs, 1)
		assert.Contains(t, errs[0].Error(), `"parameter-not-valid"`)
	})
}

func TestTransactionsAllUntrustedNextLinks(t *testing.T) {
	for _, next := range []string{
		"https://evil.example/users/u-1/transactions?next=c2",
		"http://au-api.basiq.io/users/u-1/transactions?next=c2",
		"https://au-api.basiq.io:8443/users/u-1/transactions?next=c2",
		"https://user:pw@au-api.basiq.io/users/u-1/transactions?next=c2",
		"https://au-api.basiq.io/users/u-2/transactions?next=c2",
		"https://au-api.basiq.io/users/u-1/accounts?next=c2",
		"https://au-api.basiq.io/users/u-1/transactions/../../u-2/transactions?next=c2",
		"https://au-api.basiq.io/users/u-1/%2e%2e/u-1/transactions?next=c2",
		"https://au-api.basiq.io/users/u-1%2Ftransactions?next=c2",
		"//evil.example/users/u-1/transactions?next=c2",
		"mailto:someone@example.com",
		"https://au-api.basiq.io/users/u-1/transactions%zz",
		"https://au-api.basiq.io.evil.example/users/u-1/transactions?next=c2",
	} {
		t.Run(next, func(t *testing.T) {
			a := newPagedAPI(t, map[string]func() (int, string){"limit=500": fixed(200, pageJSON(next, "t1"))})
			c := newCoreClient(t, a.coreAPI)
			ids, errs := collectTx(c.Transactions.All(context.Background(), pageUser, nil), 0)
			assert.Equal(t, []string{"t1"}, ids)
			require.Len(t, errs, 1)
			assert.ErrorIs(t, errs[0], ErrUntrustedLink)
			assert.NotContains(t, errs[0].Error(), "evil")
			assert.Len(t, a.all(), 2, "the token and the first page: nothing sent to the link")
		})
	}
}

func TestTransactionsAllRelativeNextLink(t *testing.T) {
	a := newPagedAPI(t, map[string]func() (int, string){
		"limit=500": fixed(200, pageJSON("/users/u-1/transactions?next=c2", "t1")),
		"next=c2":   fixed(200, pageJSON("", "t2")),
	})
	c := newCoreClient(t, a.coreAPI)
	ids, errs := collectTx(c.Transactions.All(context.Background(), pageUser, nil), 0)
	require.Empty(t, errs)
	assert.Equal(t, []string{"t1", "t2"}, ids)
}

func TestTransactionsAllLoops(t *testing.T) {
	self := "https://au-api.basiq.io/users/u-1/transactions?next=same"
	t.Run("next equals the previous", func(t *testing.T) {
		a := newPagedAPI(t, map[string]func() (int, string){
			"limit=500": fixed(200, pageJSON(self, "t1")),
			"next=same": fixed(200, pageJSON(self, "t2")),
		})
		c := newCoreClient(t, a.coreAPI)
		ids, errs := collectTx(c.Transactions.All(context.Background(), pageUser, nil), 0)
		assert.Equal(t, []string{"t1", "t2"}, ids)
		require.Len(t, errs, 1)
		assert.ErrorIs(t, errs[0], ErrPagingLoop)
		assert.Len(t, a.queries(), 2)
	})
	t.Run("a cycle", func(t *testing.T) {
		a := newPagedAPI(t, map[string]func() (int, string){
			"limit=500": fixed(200, pageJSON("https://au-api.basiq.io/users/u-1/transactions?next=b", "t1")),
			"next=b":    fixed(200, pageJSON("https://au-api.basiq.io/users/u-1/transactions?next=c", "t2")),
			"next=c":    fixed(200, pageJSON("https://au-api.basiq.io/users/u-1/transactions?next=b", "t3")),
		})
		c := newCoreClient(t, a.coreAPI)
		ids, errs := collectTx(c.Transactions.All(context.Background(), pageUser, nil), 0)
		assert.Equal(t, []string{"t1", "t2", "t3"}, ids)
		require.Len(t, errs, 1)
		assert.ErrorIs(t, errs[0], ErrPagingLoop)
	})
	t.Run("a page repeated under a new cursor", func(t *testing.T) {
		a := newPagedAPI(t, map[string]func() (int, string){
			"limit=500": fixed(200, pageJSON("https://au-api.basiq.io/users/u-1/transactions?next=2", "t1", "t2")),
			"next=2":    fixed(200, pageJSON("https://au-api.basiq.io/users/u-1/transactions?next=3", "t1", "t2")),
			"next=3":    fixed(200, pageJSON("", "t9")),
		})
		c := newCoreClient(t, a.coreAPI)
		ids, errs := collectTx(c.Transactions.All(context.Background(), pageUser, nil), 0)
		assert.Equal(t, []string{"t1", "t2"}, ids, "the repeat is not yielded")
		require.Len(t, errs, 1)
		assert.ErrorIs(t, errs[0], ErrPagingLoop)
		assert.Len(t, a.queries(), 2)
	})
	t.Run("empty pages forever", func(t *testing.T) {
		pages := map[string]func() (int, string){"limit=500": fixed(200, pageJSON("https://au-api.basiq.io/users/u-1/transactions?next=0"))}
		for i := range 40 {
			pages[fmt.Sprintf("next=%d", i)] = fixed(200, pageJSON(fmt.Sprintf("https://au-api.basiq.io/users/u-1/transactions?next=%d", i+1)))
		}
		a := newPagedAPI(t, pages)
		c := newCoreClient(t, a.coreAPI)
		ids, errs := collectTx(c.Transactions.All(context.Background(), pageUser, nil), 0)
		assert.Empty(t, ids)
		require.Len(t, errs, 1)
		assert.ErrorIs(t, errs[0], ErrPagingLoop)
		assert.Len(t, a.queries(), maxEmptyPages+1)
	})
}

func TestTransactionsAllMalformed(t *testing.T) {
	for _, tc := range []struct {
		name    string
		page2   string
		ids     []string
		errText string
	}{
		{"not JSON", `{"type":"list","data":[` + txJSON("t3"), []string{"t1"}, "decoding response"},
		{"no data", `{"type":"list","links":{}}`, []string{"t1"}, "not a list with a data array"},
		{"data not an array", `{"type":"list","data":{"id":"t3"}}`, []string{"t1"}, "not a list with a data array"},
		{"an item not an object", `{"data":[` + txJSON("t3") + `,42,` + txJSON("t5") + `]}`, []string{"t1", "t3"}, "page 2, item 2: not a JSON object"},
		{"a null item", `{"data":[null]}`, []string{"t1"}, "page 2, item 1: not a JSON object"},
		{"a broken item", `{"data":[` + txJSON("t3") + `,{"id":"t4","x":tru},` + txJSON("t5") + `]}`, []string{"t1", "t3"}, "page 2, item 2: invalid character"},
		{"links.next not a string", `{"data":[],"links":{"next":42}}`, []string{"t1"}, "links.next is not a string"},
		{"garbage after the page", pageJSON("", "t3") + `x`, []string{"t1"}, "not a list"},
		{"an array", `[` + txJSON("t3") + `]`, []string{"t1"}, "decoding response"},
		{"empty body", ``, []string{"t1"}, "empty body"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := newPagedAPI(t, map[string]func() (int, string){
				"limit=500": fixed(200, pageJSON("https://au-api.basiq.io/users/u-1/transactions?next=2", "t1")),
				"next=2":    fixed(200, tc.page2),
			})
			c := newCoreClient(t, a.coreAPI)
			ids, errs := collectTx(c.Transactions.All(context.Background(), pageUser, nil), 0)
			assert.Equal(t, tc.ids, ids)
			require.Len(t, errs, 1)
			assert.Contains(t, errs[0].Error(), tc.errText)
			assert.Len(t, a.queries(), 2, "a malformed page is not retried")
		})
	}
}

func TestTransactionsAllCancelled(t *testing.T) {
	a := newPagedAPI(t, threePages())
	c := newCoreClient(t, a.coreAPI)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var ids []string
	var errs []error
	for tx, err := range c.Transactions.All(ctx, pageUser, nil) {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		ids = append(ids, tx.ID)
		cancel()
	}
	assert.Equal(t, []string{"t1", "t2"}, ids, "the page in hand is finished")
	require.Len(t, errs, 1)
	assert.ErrorIs(t, errs[0], context.Canceled)
	assert.Len(t, a.queries(), 1)
}

func TestTransactionsAllConcurrent(t *testing.T) {
	a := newPagedAPI(t, threePages())
	c := newCoreClient(t, a.coreAPI)
	var wg sync.WaitGroup
	got := make([][]string, 8)
	for i := range got {
		wg.Go(func() {
			ids, errs := collectTx(c.Transactions.All(context.Background(), pageUser, nil), 0)
			if len(errs) > 0 {
				t.Error(errs)
			}
			got[i] = ids
		})
	}
	wg.Wait()
	for _, ids := range got {
		assert.Equal(t, []string{"t1", "t2", "t3", "t4", "t5"}, ids)
	}
	assert.Len(t, a.queries(), 24)
	assert.Len(t, a.tokenRequests(), 1)
}

func TestDataServicesZeroValues(t *testing.T) {
	ctx := context.Background()
	for _, c := range []*Client{{}, {Accounts: &AccountsService{}, Transactions: &TransactionsService{}}} {
		_, err := c.Accounts.List(ctx, "u", nil)
		assert.ErrorIs(t, err, ErrInvalidInput)
		_, err = c.Accounts.Get(ctx, "u", "a")
		assert.ErrorIs(t, err, ErrInvalidInput)
		_, err = c.Transactions.Get(ctx, "u", "t")
		assert.ErrorIs(t, err, ErrInvalidInput)
		_, errs := collectTx(c.Transactions.All(ctx, "u", nil), 0)
		require.Len(t, errs, 1)
		assert.ErrorIs(t, errs[0], ErrInvalidInput)
		assert.ErrorIs(t, c.Do(ctx, &Request{Path: "/users"}, nil), ErrInvalidInput)
	}
	var nilClient *Client
	assert.ErrorIs(t, nilClient.Do(ctx, &Request{Path: "/users"}, nil), ErrInvalidInput)
}

func TestTransactionsAllInvalidArguments(t *testing.T) {
	a := newCoreAPI(t)
	c := newCoreClient(t, a)
	ctx := context.Background()
	var nilCtx context.Context // misuse reported, not a panic
	for name, seq := range map[string]func(func(Transaction, error) bool){
		"empty user":    c.Transactions.All(ctx, "", nil),
		"dot user":      c.Transactions.All(ctx, "..", nil),
		"nil context":   c.Transactions.All(nilCtx, pageUser, nil),
		"quote":         c.Transactions.All(ctx, pageUser, &TransactionFilter{AccountID: "a'b"}),
		"comma":         c.Transactions.All(ctx, pageUser, &TransactionFilter{Class: "payment,transfer"}),
		"page size":     c.Transactions.All(ctx, pageUser, &TransactionFilter{PageSize: 501}),
		"negative size": c.Transactions.All(ctx, pageUser, &TransactionFilter{PageSize: -1}),
	} {
		ids, errs := collectTx(seq, 0)
		assert.Empty(t, ids, name)
		if assert.Len(t, errs, 1, name) {
			assert.ErrorIs(t, errs[0], ErrInvalidInput, name)
		}
	}
	assert.Empty(t, a.all(), "nothing sent, not even for a token")
}

// proxyBase is a forwarding proxy in front of Basiq, with a path prefix.
const proxyBase = "https://proxy.internal:8443/basiq"

// newProxiedAPI is the core fake seen through proxyBase: its token endpoint
// and pages answer only there (a request to Basiq's own host is a test
// failure). pages maps a path to its pages, keyed by raw query.
func newProxiedAPI(t *testing.T, pages map[string]map[string]string) (*coreAPI, *Client, func() []string) {
	a := newCoreAPI(t)
	var mu sync.Mutex
	var got []string
	a.mt.RegisterResponder(http.MethodPost, proxyBase+"/token", func(req *http.Request) (*http.Response, error) {
		a.record(req)
		return a.mintToken(req), nil
	})
	for path, byQuery := range pages {
		a.mt.RegisterResponder(http.MethodGet, proxyBase+path, func(req *http.Request) (*http.Response, error) {
			a.record(req)
			mu.Lock()
			got = append(got, req.URL.Host+req.URL.EscapedPath()+"?"+req.URL.RawQuery)
			mu.Unlock()
			body, ok := byQuery[req.URL.RawQuery]
			if !ok {
				t.Errorf("unexpected page %s?%s", req.URL.EscapedPath(), req.URL.RawQuery)
				return coreJSON(http.StatusNotFound, coreEnvelope("resource-not-found", "Not found", "no such page")), nil
			}
			return coreJSON(http.StatusOK, body), nil
		})
	}
	c := newCoreClient(t, a, WithBaseURL(proxyBase))
	return a, c, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), got...)
	}
}

// Behind a forwarding proxy (WithBaseURL), Basiq still writes links.next on
// its own host: paging maps such a link onto the proxy, as Events.Get maps an
// event's URL, with the same path and cursor checks, so every page is read
// and Basiq's host is never contacted directly.
func TestPagingBehindProxyFollowsBasiqsNextLink(t *testing.T) {
	const basiq = "https://au-api.basiq.io"
	t.Run("Transactions.All", func(t *testing.T) {
		_, c, got := newProxiedAPI(t, map[string]map[string]string{"/users/u-1/transactions": {
			"limit=500":         pageJSON(basiq+"/users/u-1/transactions?next=c%2F2%3D&x=1", "t1", "t2"),
			"next=c%2F2%3D&x=1": pageJSON("https://AU-API.basiq.io:443/users/u-1/transactions?next=c3", "t3"),
			"next=c3":           pageJSON(proxyBase+"/users/u-1/transactions?next=c4", "t4"),
			"next=c4":           pageJSON("", "t5"),
		}})
		ids, errs := collectTx(c.Transactions.All(t.Context(), pageUser, nil), 0)
		require.Empty(t, errs)
		assert.Equal(t, []string{"t1", "t2", "t3", "t4", "t5"}, ids)
		assert.Equal(t, []string{
			"proxy.internal:8443/basiq/users/u-1/transactions?limit=500",
			"proxy.internal:8443/basiq/users/u-1/transactions?next=c%2F2%3D&x=1",
			"proxy.internal:8443/basiq/users/u-1/transactions?next=c3",
			"proxy.internal:8443/basiq/users/u-1/transactions?next=c4",
		}, got(), "every page through the proxy, its cursor verbatim")
	})
	t.Run("Webhooks.List", func(t *testing.T) {
		wh := func(id string) string {
			return fmt.Sprintf(`{"type":"webhook","id":%q,"url":"https://app.example/hooks","status":"active"}`, id)
		}
		_, c, got := newProxiedAPI(t, map[string]map[string]string{"/notifications/webhooks": {
			"":        `{"type":"list","data":[` + wh("wh-1") + `],"links":{"next":"` + basiq + `/notifications/webhooks?next=p2"}}`,
			"next=p2": `{"type":"list","data":[` + wh("wh-2") + `],"links":{}}`,
		}})
		hooks, err := c.Webhooks.List(t.Context())
		require.NoError(t, err)
		require.Len(t, hooks, 2)
		assert.Equal(t, "wh-2", hooks[1].ID)
		assert.Len(t, got(), 2)
	})
	t.Run("Webhooks.Messages", func(t *testing.T) {
		msg := func(id string) string {
			return fmt.Sprintf(`{"type":"webhook-message","id":%q,"eventId":"e-%s","attempts":[]}`, id, id)
		}
		_, c, got := newProxiedAPI(t, map[string]map[string]string{"/notifications/webhooks/wh-1/messages": {
			"":        `{"type":"list","data":[` + msg("m1") + `],"links":{"next":"` + basiq + `/notifications/webhooks/wh-1/messages?next=p2"}}`,
			"next=p2": `{"type":"list","data":[` + msg("m2") + `]}`,
		}})
		var ids []string
		for m, err := range c.Webhooks.Messages(t.Context(), "wh-1", nil) {
			require.NoError(t, err)
			ids = append(ids, m.ID)
		}
		assert.Equal(t, []string{"m1", "m2"}, ids)
		assert.Len(t, got(), 2)
	})
	// Links on any other host, or on Basiq's host but not its API (another
	// scheme or port), or to another list, stay refused.
	for _, next := range []string{
		"https://evil.example/users/u-1/transactions?next=c2",
		"https://au-api.basiq.io.evil.example/users/u-1/transactions?next=c2",
		"http://au-api.basiq.io/users/u-1/transactions?next=c2",
		"https://au-api.basiq.io:8443/users/u-1/transactions?next=c2",
		"https://user:pw@au-api.basiq.io/users/u-1/transactions?next=c2",
		"https://au-api.basiq.io/users/u-2/transactions?next=c2",
		"https://au-api.basiq.io/basiq/users/u-1/transactions?next=c2",
		"https://proxy.internal:8443/users/u-1/transactions?next=c2",
		"https://proxy.internal:8443/basiq2/users/u-1/transactions?next=c2",
		"https://au-api.basiq.io/users/u-1/%2e%2e/u-1/transactions?next=c2",
		"https://au-api.basiq.io/users/u-1%2Ftransactions?next=c2",
	} {
		t.Run("refused "+next, func(t *testing.T) {
			_, c, got := newProxiedAPI(t, map[string]map[string]string{"/users/u-1/transactions": {"limit=500": pageJSON(next, "t1")}})
			ids, errs := collectTx(c.Transactions.All(t.Context(), pageUser, nil), 0)
			assert.Equal(t, []string{"t1"}, ids)
			require.Len(t, errs, 1)
			assert.ErrorIs(t, errs[0], ErrUntrustedLink)
			assert.Len(t, got(), 1, "nothing sent for the link")
		})
	}
}
