package basiq

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The accounts and transactions calls against Basiq's v3 Data spec
// (testdata/basiq-spec/v3/data.json): each request's method, path and
// parameters are the spec's, and the types decode the spec's response
// schemas (every documented member, with the spec's examples) without
// losing a value.

type specDoc struct {
	Paths map[string]map[string]struct {
		OperationID string `json:"operationId"`
		Parameters  []struct {
			Name string `json:"name"`
			In   string `json:"in"`
		} `json:"parameters"`
		Responses map[string]struct {
			Content map[string]struct {
				Schema json.RawMessage `json:"schema"`
			} `json:"content"`
		} `json:"responses"`
	} `json:"paths"`
}

func loadDataSpec(t *testing.T) specDoc {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "basiq-spec", "v3", "data.json"))
	require.NoError(t, err, "the v3 Data spec belongs in testdata (testdata/README.md)")
	var d specDoc
	require.NoError(t, json.Unmarshal(b, &d))
	return d
}

// matchSpecPath finds the spec path template matching an escaped path.
func matchSpecPath(d specDoc, method, escaped string) (string, map[string]string, bool) {
	segs := strings.Split(strings.TrimPrefix(escaped, "/"), "/")
	for tmpl, ops := range d.Paths {
		if _, ok := ops[strings.ToLower(method)]; !ok {
			continue
		}
		ts := strings.Split(strings.TrimPrefix(tmpl, "/"), "/")
		if len(ts) != len(segs) {
			continue
		}
		params := map[string]string{}
		ok := true
		for i, s := range ts {
			v, _ := url.PathUnescape(segs[i])
			if strings.HasPrefix(s, "{") {
				params[strings.Trim(s, "{}")] = v
			} else if s != v {
				ok = false
				break
			}
		}
		if ok {
			return tmpl, params, true
		}
	}
	return "", nil, false
}

func TestDataRequestsMatchSpec(t *testing.T) {
	d := loadDataSpec(t)
	a := newCoreAPI(t)
	a.handle(http.MethodGet, "/users/u-1/accounts", 200, `{"type":"list","data":[]}`)
	a.handle(http.MethodGet, "/users/u-1/accounts/s55bf3", 200, `{"type":"account","id":"s55bf3"}`)
	a.handle(http.MethodGet, "/users/u-1/transactions", 200, pageJSON("", "t1"))
	a.handle(http.MethodGet, "/users/u-1/transactions/t1", 200, txJSON("t1"))
	c := newCoreClient(t, a)
	ctx := context.Background()
	_, err := c.Accounts.List(ctx, "u-1", &AccountFilter{ConnectionID: "c1", InstitutionID: "AU00000", AccountID: "s55bf3"})
	require.NoError(t, err)
	_, err = c.Accounts.Get(ctx, "u-1", "s55bf3")
	require.NoError(t, err)
	_, errs := collectTx(c.Transactions.All(ctx, "u-1", &TransactionFilter{AccountID: "s55bf3", Status: TransactionPosted,
		Direction: DirectionCredit, Class: ClassTransfer, InstitutionID: "AU00000",
		From: time.Date(2018, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2018, 2, 26, 0, 0, 0, 0, time.UTC)}), 0)
	require.Empty(t, errs)
	_, err = c.Transactions.Get(ctx, "u-1", "t1")
	require.NoError(t, err)

	wantOps := []string{"getAccounts", "getAccount", "getTransactions", "getTransaction"}
	var gotOps []string
	for _, r := range a.apiRequests() {
		tmpl, params, ok := matchSpecPath(d, r.Method, r.Path)
		require.True(t, ok, "%s %s is not in the spec", r.Method, r.Path)
		op := d.Paths[tmpl][strings.ToLower(r.Method)]
		gotOps = append(gotOps, op.OperationID)
		declared := map[string]string{}
		for _, p := range op.Parameters {
			declared[p.Name] = p.In
		}
		for name := range params {
			assert.Equal(t, "path", declared[name], "%s: path parameter %s", op.OperationID, name)
		}
		q, err := url.ParseQuery(r.RawQuery)
		require.NoError(t, err)
		for name := range q {
			assert.Equal(t, "query", declared[name], "%s: query parameter %s is not in the spec", op.OperationID, name)
		}
		if f := q.Get("filter"); f != "" {
			assertFilterFieldsDocumented(t, op.OperationID, f)
		}
	}
	assert.Equal(t, wantOps, gotOps)
}

// assertFilterFieldsDocumented checks a filter's properties against the
// ones the spec's filter parameter lists (and connection.id, which Basiq's
// own links use on transactions).
func assertFilterFieldsDocumented(t *testing.T, op, filter string) {
	documented := map[string][]string{
		"getAccounts":     {"account.id", "connection.id", "institution.id"},
		"getTransactions": {"account.id", "transaction.postDate", "transaction.status", "institution.id", "transaction.direction", "transaction.class", "connection.id"},
	}[op]
	for _, stmt := range splitStatements(filter) {
		head, _, _ := strings.Cut(stmt, "(")
		prop := head[:strings.LastIndexByte(head, '.')]
		assert.Contains(t, documented, prop, "%s filter %q", op, stmt)
	}
}

func splitStatements(f string) []string {
	var out []string
	depth, start := 0, 0
	for i, c := range f {
		switch c {
		case '(':
			depth++
		case ')':
			depth--
		case ',':
			if depth == 0 {
				out = append(out, f[start:i])
				start = i + 1
			}
		}
	}
	return append(out, f[start:])
}

// ---------------------------------------------------------------------------
// Decoding the spec's schemas without losing data

type schema struct {
	Type       string             `json:"type"`
	Properties map[string]*schema `json:"properties"`
	Items      *schema            `json:"items"`
	Example    json.RawMessage    `json:"example"`
	Enum       []json.RawMessage  `json:"enum"`
}

// specSchema returns the 200 schema of an operation (for lists, of its items).
func specSchema(t *testing.T, d specDoc, path string, list bool) *schema {
	var s schema
	raw := d.Paths[path]["get"].Responses["200"].Content["application/json"].Schema
	require.NoError(t, json.Unmarshal(raw, &s))
	if list {
		return s.Properties["data"].Items
	}
	return &s
}

// dateMembers are documented as dates or timestamps; an instance carries a
// distinct valid one.
var dateMembers = map[string]bool{"postDate": true, "transactionDate": true, "lastUpdated": true, "creationDate": true,
	"from": true, "to": true, "startDate": true, "endDate": true, "paymentDueDate": true, "lodgementDate": true, "maturityDate": true,
	"nextInstalmentDate": true, "createdDate": true, "expiresAt": true}

// instance builds a document with every member of s. With examples, a
// member takes the spec's example where it has one; otherwise each leaf gets
// a value unique to its path, so that a value found after decoding can only
// have come from its own member.
func instance(s *schema, path string, examples bool, n *int) any {
	*n++
	switch {
	case len(s.Properties) > 0:
		m := map[string]any{}
		for k, p := range s.Properties {
			m[k] = instance(p, path+"."+k, examples, n)
		}
		return m
	case s.Items != nil:
		return []any{instance(s.Items, path+"[0]", examples, n)}
	}
	if examples && len(s.Example) > 0 && string(s.Example) != "null" {
		var v any
		_ = json.Unmarshal(s.Example, &v)
		return v
	}
	last := path[strings.LastIndexAny(path, ".]")+1:]
	switch {
	case dateMembers[last]:
		return time.Date(2000+*n%30, time.Month(1+*n%12), 1+*n%28, 0, 0, 0, 0, time.UTC).Format(time.RFC3339)
	case s.Type == "boolean":
		return false // the decoded default (isOwned) is true: false must survive
	case s.Type == "integer" || s.Type == "number":
		return 1000 + *n
	case len(s.Enum) > 0:
		var v any
		_ = json.Unmarshal(s.Enum[*n%len(s.Enum)], &v)
		return v
	}
	return "v" + path
}

// leaves lists a document's leaf values as text, by path.
func leaves(v any, path string, out map[string]string) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			leaves(e, path+"."+k, out)
		}
	case []any:
		for i, e := range x {
			leaves(e, fmt.Sprintf("%s[%d]", path, i), out)
		}
	case nil:
	default:
		out[path] = leafText(x)
	}
}

func leafText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strings.TrimSuffix(strings.TrimSuffix(fmt.Sprintf("%f", x), "0000"), ".00")
	}
	return fmt.Sprint(v)
}

// decodedTexts collects every value reachable in a decoded Go value as text:
// strings, bools, numbers, times (as RFC 3339 and as dates) and the leaves of
// raw JSON (Extra, Meta).
func decodedTexts(v reflect.Value, out map[string]bool) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			decodedTexts(v.Elem(), out)
		}
	case reflect.Struct:
		if t, ok := v.Interface().(time.Time); ok {
			if !t.IsZero() {
				out[t.Format(time.RFC3339)], out[t.Format("2006-01-02")] = true, true
			}
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				decodedTexts(v.Field(i), out)
			}
		}
	case reflect.Slice:
		if raw, ok := v.Interface().(json.RawMessage); ok {
			var doc any
			if json.Unmarshal(raw, &doc) == nil {
				m := map[string]string{}
				leaves(doc, "", m)
				for _, s := range m {
					out[s] = true
				}
			}
			return
		}
		for i := range v.Len() {
			decodedTexts(v.Index(i), out)
		}
	case reflect.Map:
		for _, k := range v.MapKeys() {
			decodedTexts(v.MapIndex(k), out)
		}
	case reflect.String:
		out[v.String()] = true
	case reflect.Bool:
		out[fmt.Sprint(v.Bool())] = true
	}
}

func TestDataTypesDecodeSpecWithoutLoss(t *testing.T) {
	d := loadDataSpec(t)
	for _, tc := range []struct {
		name   string
		schema *schema
		decode func(b []byte) (any, error)
	}{
		{"account", specSchema(t, d, "/users/{userId}/accounts/{accountId}", false), func(b []byte) (any, error) {
			var a Account
			return a, json.Unmarshal(b, &a)
		}},
		{"account in list", specSchema(t, d, "/users/{userId}/accounts", true), func(b []byte) (any, error) {
			var l listOf[Account]
			err := json.Unmarshal([]byte(`{"data":[`+string(b)+`]}`), &l)
			if err != nil || len(l.Data) != 1 {
				return nil, fmt.Errorf("%d accounts, %v", len(l.Data), err)
			}
			return l.Data[0], nil
		}},
		{"transaction", specSchema(t, d, "/users/{userId}/transactions/{transactionId}", false), func(b []byte) (any, error) {
			var tx Transaction
			return tx, json.Unmarshal(b, &tx)
		}},
		{"transaction in a page", specSchema(t, d, "/users/{userId}/transactions", true), func(b []byte) (any, error) {
			txs, errs, err := pageTransactions([]byte(`{"type":"list","data":[` + string(b) + `]}`))
			if err != nil || len(txs) != 1 {
				return nil, fmt.Errorf("%d items, %v", len(txs), err)
			}
			return txs[0], errs[0]
		}},
	} {
		for _, examples := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/examples=%v", tc.name, examples), func(t *testing.T) {
				n := 0
				doc := instance(tc.schema, "", examples, &n)
				b, err := json.Marshal(doc)
				require.NoError(t, err)
				got, err := tc.decode(b)
				require.NoError(t, err)
				texts := map[string]bool{}
				decodedTexts(reflect.ValueOf(got), texts)
				want := map[string]string{}
				leaves(doc, "", want)
				require.NotEmpty(t, want)
				var lost []string
				for path, v := range want {
					if !texts[v] {
						lost = append(lost, path+"="+v)
					}
				}
				slices.Sort(lost)
				assert.Empty(t, lost, "members of the spec whose values did not survive decoding")
				// Only members the types do not model are in Extra.
				switch x := got.(type) {
				case Account:
					assert.Empty(t, x.Extra, "every documented account member has a field (meta is kept raw)")
					assert.NotEmpty(t, x.Meta)
				case Transaction:
					assert.Empty(t, x.Extra, "every documented transaction member has a field")
				}
			})
		}
	}
}
