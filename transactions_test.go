package basiq

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/banklink-go/basiq/basiqtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The streaming target (DESIGN.md §12): 100,000 transactions from the fake,
// through Transactions.All and through hand-written net/http +
// encoding/json paging over the same pages, side by side:
//
//	go test -run '^$' -bench 'BenchmarkTransactions' -count 8 -benchmem .
//
// The pages are recorded once from basiqtest (3 accounts of 33,334
// transactions, 500 a page) and replayed by a loopback server that only
// writes bytes, so both clients are measured, not the fake's generator.

const benchTxPerAccount = 33334 // × 3 accounts = 100,002 transactions

// txPages is the recorded list: pages by request URI, in order.
type txPages struct {
	userID string
	first  string            // request URI of the first page
	pages  map[string][]byte // by request URI
	order  []string
	total  int
}

// recordedTxPages is recorded once per test binary, for every benchmark.
var (
	txRecordOnce sync.Once
	txRecorded   *txPages
)

func recordTxPages(tb testing.TB) *txPages {
	tb.Helper()
	txRecordOnce.Do(func() {
		srv := basiqtest.NewServer(basiqtest.InMemory(), basiqtest.WithTimeScale(0),
			basiqtest.WithTransactionsPerAccount(benchTxPerAccount))
		defer srv.Close()
		c, err := NewClient(srv.APIKey(), WithBaseURL(srv.URL), WithHTTPClient(srv.Client()))
		if err != nil {
			tb.Fatal(err)
		}
		ctx := context.Background()
		u, err := c.Users.Create(ctx, UserParams{Email: "bench@example.com"})
		if err != nil {
			tb.Fatal(err)
		}
		job, err := srv.Connect(u.ID, "AU00000", "gavinBelson", "hooli2016")
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := c.Jobs.Wait(ctx, job, nil); err != nil {
			tb.Fatal(err)
		}
		tok, err := c.Token(ctx)
		if err != nil {
			tb.Fatal(err)
		}
		p := &txPages{userID: u.ID, pages: map[string][]byte{}}
		next := srv.URL + "/users/" + u.ID + "/transactions?limit=500"
		for next != "" {
			req, _ := http.NewRequest(http.MethodGet, next, nil)
			req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
			resp, err := srv.Client().Do(req)
			if err != nil {
				tb.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			var pg struct {
				Count int `json:"count"`
				Links struct {
					Next string `json:"next"`
				} `json:"links"`
			}
			if err := json.Unmarshal(body, &pg); err != nil || resp.StatusCode != 200 {
				tb.Fatalf("%d %v", resp.StatusCode, err)
			}
			u, _ := url.Parse(next)
			uri := u.RequestURI()
			if p.first == "" {
				p.first = uri
			}
			// Links are re-pointed at the replay server by the handler.
			p.pages[uri] = []byte(strings.ReplaceAll(string(body), srv.URL, "{{base}}"))
			p.order = append(p.order, uri)
			p.total += pg.Count
			next = pg.Links.Next
		}
		txRecorded = p
	})
	return txRecorded
}

// replayServer serves the recorded pages (and tokens) on loopback.
func replayServer(tb testing.TB, p *txPages) *httptest.Server {
	tb.Helper()
	var pages map[string][]byte
	mux := http.NewServeMux()
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"access_token":"bench-token","expires_in":3600,"token_type":"Bearer"}`)
	})
	mux.HandleFunc("GET /users/{id}/transactions", func(w http.ResponseWriter, r *http.Request) {
		body, ok := pages[r.URL.RequestURI()]
		if !ok || r.Header.Get("Authorization") != "Bearer bench-token" {
			http.Error(w, "no such page", http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(body))) // as basiqtest sends it
		_, _ = w.Write(body)
	})
	srv := httptest.NewServer(mux)
	tb.Cleanup(srv.Close)
	pages = make(map[string][]byte, len(p.pages))
	for k, v := range p.pages {
		pages[k] = []byte(strings.ReplaceAll(string(v), "{{base}}", srv.URL))
	}
	return srv
}

func BenchmarkTransactionsAll(b *testing.B) {
	p := recordTxPages(b)
	srv := replayServer(b, p)
	c, err := NewClient("a2V5OnNlY3JldA==", WithBaseURL(srv.URL), WithHTTPClient(srv.Client()))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if _, err := c.Token(ctx); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	cpu := processCPU()
	for b.Loop() {
		n := 0
		for tx, err := range c.Transactions.All(ctx, p.userID, nil) {
			if err != nil {
				b.Fatal(err)
			}
			if tx.ID == "" {
				b.Fatal("empty id")
			}
			n++
		}
		if n != p.total {
			b.Fatalf("%d transactions, want %d", n, p.total)
		}
	}
	reportCPU(b, cpu)
}

// reportCPU reports the process's CPU time per operation (client, loopback
// server and garbage collector together), since start.
func reportCPU(b *testing.B, start time.Duration) {
	if used := processCPU() - start; used > 0 {
		b.ReportMetric(float64(used.Nanoseconds())/float64(b.N), "cpu-ns/op")
	}
}

// rawTx is what a hand-written client would decode a transaction into.
type rawTx struct {
	Type            string  `json:"type"`
	ID              string  `json:"id"`
	Status          string  `json:"status"`
	Description     string  `json:"description"`
	Reference       string  `json:"reference"`
	Amount          string  `json:"amount"`
	Currency        string  `json:"currency"`
	Balance         string  `json:"balance"`
	Direction       string  `json:"direction"`
	Class           string  `json:"class"`
	SubClass        rawCode `json:"subClass"`
	Account         string  `json:"account"`
	Connection      string  `json:"connection"`
	Institution     string  `json:"institution"`
	TransactionDate *string `json:"transactionDate"`
	PostDate        *string `json:"postDate"`
	PaymentDetails  *struct {
		BPay struct {
			BillerCode string `json:"billerCode"`
			BillerName string `json:"billerName"`
			CRN        string `json:"crn"`
		} `json:"bpay"`
		APCANumber string `json:"apcaNumber"`
	} `json:"paymentDetails"`
	Enrich *struct {
		CleanDescription string   `json:"cleanDescription"`
		Tags             []string `json:"tags"`
		Merchant         *struct {
			ID           string `json:"id"`
			BusinessName string `json:"businessName"`
			ABN          string `json:"ABN"`
			Website      string `json:"website"`
			LogoMaster   string `json:"logoMaster"`
			LogoThumb    string `json:"logoThumb"`
			PhoneNumber  struct {
				Local         string `json:"local"`
				International string `json:"international"`
			} `json:"phoneNumber"`
		} `json:"merchant"`
		Location *struct {
			RouteNo          string `json:"routeNo"`
			Route            string `json:"route"`
			PostalCode       string `json:"postalCode"`
			Suburb           string `json:"suburb"`
			State            string `json:"state"`
			Country          string `json:"country"`
			FormattedAddress string `json:"formattedAddress"`
			Geometry         struct {
				Lat string `json:"lat"`
				Lng string `json:"lng"`
			} `json:"geometry"`
		} `json:"location"`
		Category *struct {
			MatchType  string  `json:"matchType"`
			MatchScore string  `json:"matchScore"`
			MCC        rawCode `json:"mcc"`
			ANZSIC     struct {
				Division    rawCode `json:"division"`
				Subdivision rawCode `json:"subdivision"`
				Group       rawCode `json:"group"`
				Class       rawCode `json:"class"`
				Subclass    rawCode `json:"subclass"`
			} `json:"anzsic"`
		} `json:"category"`
	} `json:"enrich"`
	Links struct {
		Self        string `json:"self"`
		Account     string `json:"account"`
		Institution string `json:"institution"`
		Connection  string `json:"connection"`
	} `json:"links"`
}

type rawCode struct {
	Code  string `json:"code"`
	Title string `json:"title"`
}

// rawAll is the hand-written pager: GET, decode, follow links.next.
func rawAll(ctx context.Context, hc *http.Client, first string, each func(*rawTx)) error {
	next := first
	for next != "" {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, next, nil)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer bench-token")
		req.Header.Set("Accept", "application/json")
		resp, err := hc.Do(req)
		if err != nil {
			return err
		}
		var page struct {
			Data  []rawTx `json:"data"`
			Links struct {
				Next string `json:"next"`
			} `json:"links"`
		}
		err = json.NewDecoder(resp.Body).Decode(&page)
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		for i := range page.Data {
			each(&page.Data[i])
		}
		next = page.Links.Next
	}
	return nil
}

func BenchmarkTransactionsAllRaw(b *testing.B) {
	p := recordTxPages(b)
	srv := replayServer(b, p)
	hc := srv.Client()
	ctx := context.Background()
	b.ReportAllocs()
	cpu := processCPU()
	for b.Loop() {
		n := 0
		err := rawAll(ctx, hc, srv.URL+p.first, func(tx *rawTx) {
			if tx.ID == "" {
				b.Fatal("empty id")
			}
			n++
		})
		if err != nil {
			b.Fatal(err)
		}
		if n != p.total {
			b.Fatalf("%d transactions, want %d", n, p.total)
		}
	}
	reportCPU(b, cpu)
}

// heapProbe measures the live heap at chosen points (forcing a collection
// there), relative to a baseline.
type heapProbe struct {
	base, peak uint64
	page       int
}

func (h *heapProbe) start() {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	h.base = ms.HeapAlloc
}

func (h *heapProbe) sample(pageBytes int) {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	if ms.HeapAlloc > h.base && ms.HeapAlloc-h.base > h.peak {
		h.peak = ms.HeapAlloc - h.base
	}
	h.page = max(h.page, pageBytes)
}

func (h *heapProbe) report(b *testing.B) {
	b.ReportMetric(float64(h.peak), "peak-heap-B")
	b.ReportMetric(float64(h.page), "page-B")
	b.ReportMetric(float64(h.peak)/float64(h.page), "peak/page")
}

// BenchmarkTransactionsPeakHeap streams the 100,000 transactions and samples
// the live heap right after each page is decoded, while its body is still
// held (the most the SDK ever holds: the body, and the page decoded from
// it), and at every 100th transaction handed to the caller. page-B is the
// largest page body; peak/page the ratio the target bounds (under 2).
//
//	go test -run '^$' -bench 'PeakHeap' -benchtime 1x .
func BenchmarkTransactionsPeakHeap(b *testing.B) {
	p := recordTxPages(b)
	srv := replayServer(b, p)
	c, err := NewClient(coreAPIKey, WithBaseURL(srv.URL), WithHTTPClient(srv.Client()))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if _, err := c.Token(ctx); err != nil {
		b.Fatal(err)
	}
	var h heapProbe
	c.pageDecoded = func(body []byte) {
		h.sample(len(body))
		runtime.KeepAlive(body)
	}
	for b.Loop() {
		h.start()
		n := 0
		for tx, err := range c.Transactions.All(ctx, p.userID, nil) {
			if err != nil {
				b.Fatal(err)
			}
			if n++; n%100 == 0 {
				h.sample(0)
			}
			runtime.KeepAlive(tx)
		}
		if n != p.total {
			b.Fatalf("%d transactions, want %d", n, p.total)
		}
	}
	h.report(b)
}

// BenchmarkTransactionsPeakHeapRaw is the same measure of the hand-written
// pager: right after each page is decoded, with the decoder's buffer held.
func BenchmarkTransactionsPeakHeapRaw(b *testing.B) {
	p := recordTxPages(b)
	srv := replayServer(b, p)
	hc := srv.Client()
	ctx := context.Background()
	var h heapProbe
	for b.Loop() {
		h.start()
		n := 0
		next := srv.URL + p.first
		for next != "" {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, next, nil)
			req.Header.Set("Authorization", "Bearer bench-token")
			resp, err := hc.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			var page struct {
				Data  []rawTx `json:"data"`
				Links struct {
					Next string `json:"next"`
				} `json:"links"`
			}
			dec := json.NewDecoder(resp.Body)
			if err := dec.Decode(&page); err != nil {
				b.Fatal(err)
			}
			h.sample(int(resp.ContentLength))
			runtime.KeepAlive(dec)
			resp.Body.Close()
			for i := range page.Data {
				if n++; n%100 == 0 {
					h.sample(0)
				}
				runtime.KeepAlive(&page.Data[i])
			}
			next = page.Links.Next
		}
		if n != p.total {
			b.Fatalf("%d transactions, want %d", n, p.total)
		}
	}
	h.report(b)
}

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
