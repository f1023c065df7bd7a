package basiq

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/banklink-go/basiq/basiqtest"
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
