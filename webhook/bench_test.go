package webhook_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
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

// BenchmarkBareHMAC is the floor Verify is measured against: crypto/hmac
// SHA-256 over the same signed content, as a handler written by hand does it
// (a new HMAC per message), and one base64 encode.
func BenchmarkBareHMAC(b *testing.B) {
	for _, s := range benchSizes {
		b.Run(s.name, func(b *testing.B) {
			body := benchBody(s.size, s.dense)
			key := mustKeyB(b)
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				mac := hmac.New(sha256.New, key)
				mac.Write([]byte(benchID + "." + tv1.timestamp + "."))
				mac.Write(body)
				if base64.StdEncoding.EncodeToString(mac.Sum(nil)) == "" {
					b.Fatal("empty")
				}
			}
		})
	}
}

// BenchmarkBareHMACReused is a stricter floor: one HMAC reset per message,
// as Verify's pool does.
func BenchmarkBareHMACReused(b *testing.B) {
	for _, s := range benchSizes {
		b.Run(s.name, func(b *testing.B) {
			body := benchBody(s.size, s.dense)
			mac := hmac.New(sha256.New, mustKeyB(b))
			prefix := []byte(benchID + "." + tv1.timestamp + ".")
			var sum [sha256.Size]byte
			var enc [44]byte
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				mac.Reset()
				mac.Write(prefix)
				mac.Write(body)
				base64.StdEncoding.Encode(enc[:], mac.Sum(sum[:0]))
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

// TestVerifyAllocations: Verify allocates the same small number of times
// whatever the body size (the payload's four strings).
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
		if n != counts[0] || n > 4 {
			t.Fatalf("allocs per Verify by body size = %v, want the same few", counts)
		}
	}
}

// BenchmarkSideBySide interleaves Verify and the bare HMAC (a new HMAC per
// message, as in BenchmarkBareHMAC) in alternating blocks of a few
// microseconds, so that a busy machine slows both alike, and reports each
// one's ns per message and their ratio.
func BenchmarkSideBySide(b *testing.B) {
	for _, s := range benchSizes {
		b.Run(s.name, func(b *testing.B) {
			body := benchBody(s.size, s.dense)
			key := mustKeyB(b)
			v, err := webhook.NewVerifier(tv1.secret, fixedClock(tv1.at()), webhook.WithMaxBodySize(2<<20))
			if err != nil {
				b.Fatal(err)
			}
			h := headers(benchID, tv1.timestamp, sign(key, benchID, tv1.timestamp, body))
			verify := func() {
				if m, err := v.Verify(h, body); err != nil || m.Type == "" {
					b.Fatal(err)
				}
			}
			bare := func() {
				mac := hmac.New(sha256.New, key)
				mac.Write([]byte(benchID + "." + tv1.timestamp + "."))
				mac.Write(body)
				if base64.StdEncoding.EncodeToString(mac.Sum(nil)) == "" {
					b.Fatal("empty")
				}
			}
			block := max(1, (64<<10)/len(body))
			var tVerify, tBare time.Duration
			odd := false
			for b.Loop() {
				first, second := verify, bare
				if odd {
					first, second = bare, verify
				}
				t0 := time.Now()
				for range block {
					first()
				}
				t1 := time.Now()
				for range block {
					second()
				}
				t2 := time.Now()
				if odd {
					tBare, tVerify = tBare+t1.Sub(t0), tVerify+t2.Sub(t1)
				} else {
					tVerify, tBare = tVerify+t1.Sub(t0), tBare+t2.Sub(t1)
				}
				odd = !odd
			}
			n := float64(b.N * block)
			b.ReportMetric(float64(tVerify.Nanoseconds())/n, "verify-ns/msg")
			b.ReportMetric(float64(tBare.Nanoseconds())/n, "bare-ns/msg")
			b.ReportMetric(float64(tVerify)/float64(tBare), "ratio")
			b.ReportMetric(0, "ns/op")
		})
	}
}
