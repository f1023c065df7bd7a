package webhook_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/banklink-go/basiq/webhook"
)

// benchBody is Basiq's thin payload carrying, to reach about size bytes,
// copies of the event of basiq-api-v3.md §5 (a connection.updated event with
// its connection snapshot: ids, dates, links; about 640 bytes each), the
// shape of a fat Basiq body. dense instead carries transaction-like objects, twice as many short
// tokens per byte: a stress case for the payload reader.
func benchBody(size int, dense bool) []byte {
	var b strings.Builder
	b.WriteString(`{"eventTypeId":"connection.updated","eventId":"44a85f64-5717-4562-b3fc-2c963f66af44",` +
		`"links":{"event":"https://au-api.basiq.io/events/44a85f64-5717-4562-b3fc-2c963f66af44",` +
		`"eventEntity":"https://au-api.basiq.io/users/88a85f64-5717-4562-b3fc-2c963f66af88/connections/8bd4f752"},"data":[`)
	for i := 0; ; i++ {
		item := fmt.Sprintf(`{"type":"event","id":"5a47115a7eed80a3b68761b725b78c75892e94cef06810ecc0e2e7b8567%05d",`+
			`"createdDate":"2024-04-17T23:57:17Z","entity":"connection","eventType":"updated","userId":"84e33255-f65f-4f05-953b-1b12e1e4d90b",`+
			`"data":{"type":"connection","id":"8bd4f752-%04d","status":"active","mfaEnabled":false,"createdDate":"2024-04-17T23:57:17Z",`+
			`"lastUsed":"2024-04-17T23:57:17Z","institution":{"type":"institution","id":"AU00000","links":{"self":"https://au-api.basiq.io/institutions/AU00000"}},`+
			`"links":{"self":"https://au-api.basiq.io/users/84e33255-f65f-4f05-953b-1b12e1e4d90b/connections/8bd4f752-%04d"}}}`, i, i, i)
		if dense {
			item = fmt.Sprintf(`{"type":"transaction","id":"3733ed4c-%08d","status":"posted","description":"MCDONALDS HEATHERTON %d",`+
				`"amount":"-124.69","currency":"AUD","direction":"debit","class":"payment","postDate":"2022-12-23T00:00:00Z","count":%d}`, i, i, i)
		}
		if i > 0 && b.Len()+len(item)+3 > size {
			break
		}
		if i > 0 {
			b.WriteByte(',')
		}
		if b.Len()+len(item)+3 > size {
			panic("benchBody: no item fits")
		}
		b.WriteString(item)
	}
	b.WriteString(`]}`)
	if !json.Valid([]byte(b.String())) {
		panic("benchBody: invalid JSON")
	}
	return []byte(b.String())
}

var benchSizes = []struct {
	name  string
	size  int
	dense bool
}{{"1KiB", 1 << 10, false}, {"64KiB", 64 << 10, false}, {"1MiB", 1 << 20, false}, {"1KiB-dense", 1 << 10, true}}

const benchID = "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"

// BenchmarkVerify is Verify on a signed body, payload reading included.
func BenchmarkVerify(b *testing.B) {
	for _, s := range benchSizes {
		b.Run(s.name, func(b *testing.B) {
			body := benchBody(s.size, s.dense)
			v, err := webhook.NewVerifier(tv1.secret, fixedClock(tv1.at()), webhook.WithMaxBodySize(2<<20))
			if err != nil {
				b.Fatal(err)
			}
			h := http.Header{}
			h.Set("webhook-id", benchID)
			h.Set("webhook-timestamp", tv1.timestamp)
			// One signature, as usual; during a secret rotation there are two.
			h.Set("webhook-signature", sign(mustKeyB(b), benchID, tv1.timestamp, body))
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				m, err := v.Verify(h, body)
				if err != nil || m.Type == "" {
					b.Fatal(err)
				}
			}
		})
	}
}

func mustKeyB(b *testing.B) []byte {
	key, err := base64StdDecode(strings.TrimPrefix(tv1.secret, "whsec_"))
	if err != nil {
		b.Fatal(err)
	}
	return key
}

// TestVerifyAllocations: Verify allocates a few times whatever the body size
// (encoding/json's decoder state and the payload's four strings): a body is
// never copied.
func TestVerifyAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool allocate at random")
	}
	v, err := webhook.NewVerifier(tv1.secret, fixedClock(tv1.at()), webhook.WithMaxBodySize(2<<20))
	if err != nil {
		t.Fatal(err)
	}
	var counts []float64
	for _, s := range benchSizes {
		body := benchBody(s.size, s.dense)
		h := headers(benchID, tv1.timestamp, sign(mustKey(t, tv1.secret), benchID, tv1.timestamp, body))
		n := testing.AllocsPerRun(50, func() {
			if _, err := v.Verify(h, body); err != nil {
				t.Fatal(err)
			}
		})
		counts = append(counts, n)
		t.Logf("Verify %s: %v allocs", s.name, n)
	}
	for _, n := range counts {
		if n > 16 {
			t.Fatalf("allocs per Verify by body size = %v, want a few whatever the size", counts)
		}
	}
}

// BenchmarkHandlerVsStdlib is the target of DESIGN §16: webhook.Handler end
// to end (defaults: the in-memory Deduper, a unique webhook-id per message)
// against a receiver written by hand with the standard library (read the
// body, compute the HMAC, compare, json.Unmarshal into a small struct,
// answer 200), both served the same requests. They run interleaved in
// alternating blocks, so that a busy machine slows both alike; it prints
// each one's median ns per message and the median of the blocks' ratios
// (target: ≤ 1.5).
func BenchmarkHandlerVsStdlib(b *testing.B) {
	for _, s := range benchSizes[:2] { // 1 KiB and 64 KiB
		b.Run(s.name, func(b *testing.B) {
			body := benchBody(s.size, s.dense)
			key := mustKeyB(b)
			v, err := webhook.NewVerifier(tv1.secret, fixedClock(tv1.at()))
			if err != nil {
				b.Fatal(err)
			}
			handler := webhook.Handler(v, func(context.Context, webhook.Message) error { return nil })
			stdlib := stdlibReceiver(key)

			block := max(1, (32<<10)/len(body))
			reqs := make([]*http.Request, block)
			next := 0
			// prepare signs a block of requests with fresh ids (outside the
			// timed part).
			prepare := func() {
				for i := range reqs {
					id := fmt.Sprintf("msg_%010d", next)
					next++
					reqs[i] = &http.Request{
						Method:        http.MethodPost,
						Header:        headers(id, tv1.timestamp, sign(key, id, tv1.timestamp, body)),
						Body:          io.NopCloser(bytes.NewReader(body)),
						ContentLength: int64(len(body)),
					}
				}
			}
			run := func(h http.Handler) time.Duration {
				prepare()
				w := &discardWriter{}
				t0 := time.Now()
				for _, r := range reqs {
					w.status = 0
					h.ServeHTTP(w, r)
					if w.status != http.StatusOK {
						b.Fatalf("status %d", w.status)
					}
				}
				return time.Since(t0)
			}
			var hNs, sNs, ratios []float64
			odd := false
			for b.Loop() {
				var th, ts time.Duration
				if odd {
					ts = run(stdlib)
					th = run(handler)
				} else {
					th = run(handler)
					ts = run(stdlib)
				}
				odd = !odd
				hNs = append(hNs, float64(th.Nanoseconds())/float64(block))
				sNs = append(sNs, float64(ts.Nanoseconds())/float64(block))
				ratios = append(ratios, float64(th)/float64(ts))
			}
			mh, ms, mr := median(hNs), median(sNs), median(ratios)
			b.ReportMetric(mh, "handler-ns/msg")
			b.ReportMetric(ms, "stdlib-ns/msg")
			b.ReportMetric(mr, "ratio")
			b.ReportMetric(0, "ns/op")
			b.Logf("%s: Handler %.0f ns/msg, stdlib receiver %.0f ns/msg (medians of %d blocks of %d); median ratio %.2f× (target ≤ 1.5×)",
				s.name, mh, ms, len(ratios), block, mr)
		})
	}
}

// stdlibReceiver is the receiver a user would write by hand with the
// standard library: read the body, compute the HMAC, compare it with the
// v1 signature, json.Unmarshal the payload into a small struct, answer 200.
func stdlibReceiver(key []byte) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		mac := hmac.New(sha256.New, key)
		mac.Write([]byte(r.Header.Get("webhook-id") + "." + r.Header.Get("webhook-timestamp") + "."))
		mac.Write(body)
		want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
		if !hmac.Equal([]byte(r.Header.Get("webhook-signature")), []byte(want)) {
			http.Error(w, "bad signature", http.StatusBadRequest)
			return
		}
		var event struct {
			EventTypeID string `json:"eventTypeId"`
			EventID     string `json:"eventId"`
			Links       struct {
				Event       string `json:"event"`
				EventEntity string `json:"eventEntity"`
			} `json:"links"`
		}
		if err := json.Unmarshal(body, &event); err != nil || event.EventTypeID == "" {
			http.Error(w, "bad payload", http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
}

// discardWriter is a ResponseWriter that keeps only the status.
type discardWriter struct {
	h      http.Header
	status int
}

func (w *discardWriter) Header() http.Header {
	if w.h == nil {
		w.h = http.Header{}
	}
	return w.h
}

func (w *discardWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return len(p), nil
}

func (w *discardWriter) WriteHeader(status int) { w.status = status }

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}
