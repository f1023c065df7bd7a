package basiq

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDoServerToken(t *testing.T) {
	a := newCoreAPI(t)
	a.handleFunc(http.MethodGet, "/users/u1/auth_link", func(req *http.Request) (*http.Response, error) {
		return coreJSON(200, `{"type":"auth_link","userId":"u1","mobile":"+61410888666"}`), nil
	})
	c := newCoreClient(t, a)
	var out struct {
		UserID string `json:"userId"`
	}
	require.NoError(t, c.Do(context.Background(), &Request{Path: "/users/u1/auth_link", Query: url.Values{"x": {"a b"}}}, &out))
	assert.Equal(t, "u1", out.UserID)
	api := a.apiRequests()
	require.Len(t, api, 1)
	assert.Equal(t, http.MethodGet, api[0].Method)
	assert.Equal(t, "x=a+b", api[0].RawQuery)
	assertAPIHeaders(t, api[0], "server-token-1", false)
	assertTokenRequest(t, a.tokenRequests()[0], V3, "scope=SERVER_ACCESS")
}

func TestDoClientTokenAndBody(t *testing.T) {
	a := newCoreAPI(t)
	a.handle(http.MethodPost, "/users/u%201/auth_link", http.StatusCreated, `{"type":"auth_link"}`)
	c := newCoreClient(t, a)
	var raw json.RawMessage
	err := c.Do(context.Background(), &Request{Method: http.MethodPost, Path: "/users/u 1/auth_link",
		Body: map[string]string{"mobile": "+61410888666"}, UserID: "u 1"}, &raw)
	require.NoError(t, err)
	assert.JSONEq(t, `{"type":"auth_link"}`, string(raw))
	api := a.apiRequests()
	require.Len(t, api, 1)
	assert.Equal(t, `{"mobile":"+61410888666"}`, string(api[0].Body))
	assertAPIHeaders(t, api[0], "client-token-u 1-1", true)
	assertTokenRequest(t, a.tokenRequests()[0], V3, "scope=CLIENT_ACCESS&userId=u+1")
}

func TestDoEscapesOnce(t *testing.T) {
	for path, want := range map[string]string{
		"/users/a b/auth_link":      "/users/a%20b/auth_link",
		"/users/a%20b/auth_link":    "/users/a%20b/auth_link", // already escaped: not escaped twice
		"/users/50%25/auth_link":    "/users/50%25/auth_link",
		"/institutions/AU00000":     "/institutions/AU00000",
		"/users/é/connections/c-1":  "/users/%C3%A9/connections/c-1",
		"/users/a;b=c/connections":  "/users/a%3Bb=c/connections",
		"/users/%7Bx%7D/mfa":        "/users/%7Bx%7D/mfa",
		"/notifications/webhooks/w": "/notifications/webhooks/w",
	} {
		t.Run(path, func(t *testing.T) {
			a := newCoreAPI(t)
			a.handle(http.MethodDelete, want, http.StatusNoContent, "")
			c := newCoreClient(t, a)
			require.NoError(t, c.Do(context.Background(), &Request{Method: http.MethodDelete, Path: path}, nil))
			require.Len(t, a.apiRequests(), 1)
			assert.Equal(t, want, a.apiRequests()[0].Path)
		})
	}
}

func TestDoRefusesUnsafePaths(t *testing.T) {
	a := newCoreAPI(t)
	c := newCoreClient(t, a)
	ctx := context.Background()
	for _, r := range []*Request{
		nil,
		{Path: ""},
		{Path: "users/u1"},
		{Path: "/"},
		{Path: "/users//connections"},
		{Path: "/users/u1/"},
		{Path: "/users/../token"},
		{Path: "/users/./x"},
		{Path: "/users/%2e%2e/token"},
		{Path: "/users/%2E/x"},
		{Path: "/users/a%2Fb/connections"},
		{Path: "/users/u1?x=1"},
		{Path: "/users/u1#frag"},
		{Path: "/users/%zz"},
		{Path: "/users/a\nb"},
		{Path: "/users/a\x00b"},
		{Path: "/users/a%0Ab"},
		{Path: "//evil.example/users"},
		{Path: "/users/" + strings.Repeat("x", 300)},
		{Path: "/users", Method: "TRACE"},
		{Path: "/users", Method: "get"},
		{Path: "/users", UserID: ".."},
	} {
		err := c.Do(ctx, r, nil)
		assert.ErrorIs(t, err, ErrInvalidInput, "%+v", r)
	}
	var nilCtx context.Context // misuse reported, not a panic
	assert.ErrorIs(t, c.Do(nilCtx, &Request{Path: "/users"}, nil), ErrInvalidInput)
	assert.Empty(t, a.all(), "nothing sent")
}

func TestDoErrorsAndRetries(t *testing.T) {
	t.Run("error envelope", func(t *testing.T) {
		a := newCoreAPI(t)
		a.handle(http.MethodGet, "/users/u1/transactions", http.StatusBadRequest,
			`{"type":"list","correlationId":"c-9","data":[{"type":"error","code":"parameter-not-valid","title":"Parameter value is not valid","detail":"The provided filter parameter is in invalid format or unsupported","source":{"parameter":"filter"}}]}`)
		c := newCoreClient(t, a)
		var out map[string]any
		err := c.Do(context.Background(), &Request{Path: "/users/u1/transactions", Query: url.Values{"filter": {"bad"}}}, &out)
		var apiErr *APIError
		require.ErrorAs(t, err, &apiErr)
		assert.ErrorIs(t, err, ErrInvalidInput)
		assert.Equal(t, "parameter-not-valid", apiErr.Code())
		assert.Equal(t, "filter", apiErr.Errors[0].Source.Parameter)
		assert.Equal(t, "c-9", apiErr.CorrelationID)
		assert.Nil(t, out)
		assert.NotContains(t, err.Error(), "bad", "the query is not in the error")
		assert.Equal(t, "/users/{userId}/transactions", apiErr.Path, "the route, not the caller's segments")
	})
	t.Run("GET retried", func(t *testing.T) {
		a := newCoreAPI(t)
		a.handle(http.MethodGet, "/events", http.StatusServiceUnavailable, coreEnvelope("service-unavailable", "Unavailable", "later"))
		c := newCoreClient(t, a)
		err := c.Do(context.Background(), &Request{Path: "/events"}, nil)
		assert.ErrorIs(t, err, ErrUnavailable)
		assert.Len(t, a.apiRequests(), 3)
	})
	t.Run("POST not retried after a 5xx", func(t *testing.T) {
		a := newCoreAPI(t)
		a.handle(http.MethodPost, "/users/u1/connections/c1/purge", http.StatusServiceUnavailable, coreEnvelope("service-unavailable", "Unavailable", "later"))
		c := newCoreClient(t, a)
		err := c.Do(context.Background(), &Request{Method: http.MethodPost, Path: "/users/u1/connections/c1/purge"}, nil)
		assert.ErrorIs(t, err, ErrUnavailable)
		assert.Len(t, a.apiRequests(), 1, "the server may have acted: never sent twice")
	})
	t.Run("POST retried after a 429", func(t *testing.T) {
		a := newCoreAPI(t)
		n := 0
		a.handleFunc(http.MethodPost, "/users/u1/connections/c1/purge", func(*http.Request) (*http.Response, error) {
			if n++; n == 1 {
				return coreJSON(http.StatusTooManyRequests, coreEnvelope("too-many-requests", "Too many", "slow down")), nil
			}
			return coreJSON(http.StatusNoContent, ""), nil
		})
		c := newCoreClient(t, a)
		require.NoError(t, c.Do(context.Background(), &Request{Method: http.MethodPost, Path: "/users/u1/connections/c1/purge"}, nil))
		assert.Len(t, a.apiRequests(), 2)
	})
	t.Run("expired token replaced", func(t *testing.T) {
		a := newCoreAPI(t)
		n := 0
		a.handleFunc(http.MethodGet, "/users/u1/consents", func(*http.Request) (*http.Response, error) {
			if n++; n == 1 {
				return coreJSON(http.StatusForbidden, coreEnvelope("access-denied", "Access denied", "Token has expired")), nil
			}
			return coreJSON(200, `{"type":"list","data":[]}`), nil
		})
		c := newCoreClient(t, a)
		require.NoError(t, c.Do(context.Background(), &Request{Path: "/users/u1/consents", UserID: "u1"}, nil))
		assert.Len(t, a.tokenRequests(), 2)
	})
}

func TestDoLogsNoPathSecrets(t *testing.T) {
	var buf bytes.Buffer
	a := newCoreAPI(t)
	a.handle(http.MethodGet, "/partner/s3cr3t-segment/users/u-77/widgets", 200, `{}`)
	c := newCoreClient(t, a, WithLogger(slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	require.NoError(t, c.Do(context.Background(), &Request{Path: "/partner/s3cr3t-segment/users/u-77/widgets",
		Query: url.Values{"token": {"q-secret"}}}, nil))
	logged := buf.String()
	assert.Contains(t, logged, `"route":"/{id}/{id}/users/{userId}/{id}"`)
	assert.Contains(t, logged, `"user_id":"u-77"`, "the user id under its stable key, as for every call")
	for _, secret := range []string{"s3cr3t", "q-secret", "partner", "widgets"} {
		assert.NotContains(t, logged, secret)
	}

	a.handle(http.MethodGet, "/partner/s3cr3t-segment/gone", http.StatusNotFound, coreEnvelope("resource-not-found", "Not found", "gone"))
	err := c.Do(context.Background(), &Request{Path: "/partner/s3cr3t-segment/gone"}, nil)
	assert.ErrorIs(t, err, ErrNotFound)
	assert.NotContains(t, err.Error(), "s3cr3t")
	assert.Contains(t, err.Error(), "/{id}/{id}/{id}")
}

func TestFilterBuilder(t *testing.T) {
	for _, tc := range []struct {
		prop   string
		op     filterOp
		values []string
		want   string
	}{
		{"account.id", opEq, []string{"a1"}, "account.id.eq('a1')"},
		{"transaction.status", opNe, []string{"pending"}, "transaction.status.ne('pending')"},
		{"transaction.postDate", opGt, []string{"2024-01-01"}, "transaction.postDate.gt('2024-01-01')"},
		{"transaction.postDate", opGteq, []string{"2024-01-01"}, "transaction.postDate.gteq('2024-01-01')"},
		{"transaction.postDate", opLt, []string{"2024-01-01"}, "transaction.postDate.lt('2024-01-01')"},
		{"transaction.postDate", opLteq, []string{"2024-01-01"}, "transaction.postDate.lteq('2024-01-01')"},
		{"transaction.postDate", opBt, []string{"2018-01-01", "2018-02-26"}, "transaction.postDate.bt('2018-01-01','2018-02-26')"},
		{"institution.tier", opIn, []string{"1", "2"}, "institution.tier.in('1','2')"},
		{"institution.institutionType", opEq, []string{"Bank (Foreign)"}, "institution.institutionType.eq('Bank (Foreign)')"},
	} {
		got, err := filterStatement(tc.prop, tc.op, tc.values...)
		require.NoError(t, err)
		assert.Equal(t, tc.want, got)
	}
	for _, tc := range []struct {
		op     filterOp
		values []string
	}{
		{opEq, nil}, {opEq, []string{"a", "b"}}, {opBt, []string{"a"}}, {opIn, nil},
		{opEq, []string{""}}, {opEq, []string{"a'b"}}, {opEq, []string{`a\b`}}, {opEq, []string{"a,b"}},
		{opEq, []string{"a\nb"}}, {opIn, []string{"ok", "x'"}},
	} {
		_, err := filterStatement("p", tc.op, tc.values...)
		assert.ErrorIs(t, err, ErrInvalidInput, "%v %q", tc.op, tc.values)
	}
}

func TestTransactionFilterQuery(t *testing.T) {
	syd := time.FixedZone("AEST", 10*3600)
	for _, tc := range []struct {
		name   string
		filter *TransactionFilter
		want   string
	}{
		{"nil", nil, "limit=500"},
		{"zero", &TransactionFilter{}, "limit=500"},
		{"account and dates", &TransactionFilter{AccountID: "s55bf3", From: time.Date(2018, 1, 1, 0, 0, 0, 0, time.UTC),
			To: time.Date(2018, 2, 26, 0, 0, 0, 0, time.UTC)},
			"filter=" + url.QueryEscape("account.id.eq('s55bf3'),transaction.postDate.bt('2018-01-01','2018-02-26')") + "&limit=500"},
		{"every field", &TransactionFilter{AccountID: "a1", ConnectionID: "c1", InstitutionID: "AU00000",
			Status: TransactionPosted, Direction: DirectionDebit, Class: ClassPayment,
			From: time.Date(2024, 3, 1, 23, 30, 0, 0, syd), PageSize: 50},
			"filter=" + url.QueryEscape("account.id.eq('a1'),connection.id.eq('c1'),institution.id.eq('AU00000'),"+
				"transaction.status.eq('posted'),transaction.direction.eq('debit'),transaction.class.eq('payment'),"+
				"transaction.postDate.gteq('2024-03-01')") + "&limit=50"},
		{"to only", &TransactionFilter{To: time.Date(2024, 3, 31, 0, 0, 0, 0, time.UTC), PageSize: 1},
			"filter=" + url.QueryEscape("transaction.postDate.lteq('2024-03-31')") + "&limit=1"},
		{"same day", &TransactionFilter{From: time.Date(2024, 3, 31, 8, 0, 0, 0, time.UTC), To: time.Date(2024, 3, 31, 9, 0, 0, 0, time.UTC)},
			"filter=" + url.QueryEscape("transaction.postDate.bt('2024-03-31','2024-03-31')") + "&limit=500"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := newPagedAPI(t, map[string]func() (int, string){})
			a.pages[tc.want] = fixed(200, pageJSON("", "t1"))
			c := newCoreClient(t, a.coreAPI)
			_, errs := collectTx(c.Transactions.All(context.Background(), pageUser, tc.filter), 0)
			require.Empty(t, errs)
			assert.Equal(t, []string{tc.want}, a.queries())
		})
	}
	_, err := (&TransactionFilter{From: time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)}).query()
	assert.ErrorIs(t, err, ErrInvalidInput, "From after To")
}

func TestAccountsListFilterQuery(t *testing.T) {
	a := newCoreAPI(t)
	var queries []string
	a.handleFunc(http.MethodGet, "/users/u1/accounts", func(req *http.Request) (*http.Response, error) {
		queries = append(queries, req.URL.RawQuery)
		return coreJSON(200, `{"type":"list","data":[]}`), nil
	})
	c := newCoreClient(t, a)
	ctx := context.Background()
	_, err := c.Accounts.List(ctx, "u1", nil)
	require.NoError(t, err)
	_, err = c.Accounts.List(ctx, "u1", &AccountFilter{ConnectionID: "c1", InstitutionID: "AU00000", AccountID: "a1"})
	require.NoError(t, err)
	_, err = c.Accounts.List(ctx, "u1", &AccountFilter{ConnectionID: "c'1"})
	assert.ErrorIs(t, err, ErrInvalidInput)
	assert.Equal(t, []string{"", "filter=" + url.QueryEscape("connection.id.eq('c1'),institution.id.eq('AU00000'),account.id.eq('a1')")}, queries)
}

func TestDoSendsRawAndStreamedBodies(t *testing.T) {
	a := newCoreAPI(t)
	calls := 0
	a.handleFunc(http.MethodPost, "/users/u1/statements", func(req *http.Request) (*http.Response, error) {
		calls++
		if calls == 1 {
			return coreJSON(http.StatusServiceUnavailable, coreEnvelope("service-unavailable", "x", "x")), nil
		}
		return coreJSON(http.StatusAccepted, `{"type":"job","id":"j"}`), nil
	})
	a.handleFunc(http.MethodGet, "/reports/r1", func(req *http.Request) (*http.Response, error) {
		return coreJSON(http.StatusOK, "%PDF raw"), nil
	})
	c := newCoreClient(t, a)
	ctx := context.Background()

	// []byte: sent as is with its content type; a POST is not retried after a 5xx.
	err := c.Do(ctx, &Request{Method: http.MethodPost, Path: "/users/u1/statements", Body: []byte("raw,bytes"), ContentType: "text/csv"}, nil)
	assert.ErrorIs(t, err, ErrUnavailable)
	// io.Reader: streamed, never retried.
	var job Job
	err = c.Do(ctx, &Request{Method: http.MethodPost, Path: "/users/u1/statements", Body: strings.NewReader("streamed"), ContentType: "application/pdf"}, &job)
	require.NoError(t, err)
	assert.Equal(t, "j", job.ID)
	reqs := a.apiRequests()
	require.Len(t, reqs, 2)
	assert.Equal(t, "raw,bytes", string(reqs[0].Body))
	assert.Equal(t, []string{"text/csv"}, reqs[0].Header.Values("Content-Type"))
	assert.Equal(t, "streamed", string(reqs[1].Body))
	assert.Equal(t, []string{"application/pdf"}, reqs[1].Header.Values("Content-Type"))

	var raw []byte
	require.NoError(t, c.Do(ctx, &Request{Path: "/reports/r1", Accept: "application/pdf"}, &raw))
	assert.Equal(t, "%PDF raw", string(raw))
	assert.Equal(t, []string{"application/pdf"}, a.apiRequests()[2].Header.Values("Accept"))

	for _, r := range []*Request{
		{Method: http.MethodPost, Path: "/x", Body: []byte("a")},
		{Method: http.MethodPost, Path: "/x", Body: strings.NewReader("a")},
		{Path: "/x", Accept: "a\r\nX-Evil: 1"},
		{Method: http.MethodPost, Path: "/x", Body: []byte("a"), ContentType: "text/plain\nX: y"},
	} {
		assert.ErrorIs(t, c.Do(ctx, r, nil), ErrInvalidInput)
	}
	assert.Len(t, a.apiRequests(), 3)
}

func TestStreamedBodyIsNotReplayedAfterARejectedToken(t *testing.T) {
	a := newCoreAPI(t)
	a.handle(http.MethodPost, "/users/u1/statements", http.StatusUnauthorized, coreEnvelope("unauthorized-access", "bad token", "x"))
	c := newCoreClient(t, a)
	_, err := c.Statements.Upload(context.Background(), "u1", "AU01001", "s.pdf", strings.NewReader("%PDF"))
	require.Error(t, err)
	assert.Len(t, a.apiRequests(), 1, "the file is not sent twice")
	_, err = c.Token(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 2, a.nTokens(), "the rejected token was dropped for the next call")
}
