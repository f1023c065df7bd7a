package webhook_test

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banklink-go/basiq"
	"github.com/banklink-go/basiq/webhook"
)

func TestVectors(t *testing.T) {
	for _, v := range []vector{tv1, tv2} {
		t.Run(v.name, func(t *testing.T) {
			ver, err := webhook.NewVerifier(v.secret, fixedClock(v.at()))
			require.NoError(t, err)
			m, err := ver.Verify(v.header(), []byte(v.body))
			require.NoError(t, err)
			assert.Equal(t, v.id, m.ID)
			assert.True(t, m.Timestamp.Equal(v.at()))
			assert.Equal(t, v.body, string(m.Body))
			// Neither vector is Basiq's thin payload: the fields are empty.
			assert.Empty(t, m.Type)
			assert.Empty(t, m.EventID)

			// The independent signer agrees with the vector.
			key, err := base64Decode(strings.TrimPrefix(v.secret, "whsec_"))
			require.NoError(t, err)
			assert.Equal(t, v.signature, sign(key, v.id, v.timestamp, []byte(v.body)))

			// The secret without its prefix verifies too (TestWebhookPrefix).
			bare, err := webhook.NewVerifier(strings.TrimPrefix(v.secret, "whsec_"), fixedClock(v.at()))
			require.NoError(t, err)
			_, err = bare.Verify(v.header(), []byte(v.body))
			assert.NoError(t, err)

			// Without the pinned clock the vector is years old.
			now, err := webhook.NewVerifier(v.secret)
			require.NoError(t, err)
			_, err = now.Verify(v.header(), []byte(v.body))
			assert.ErrorIs(t, err, webhook.ErrTimestamp)
		})
	}
}

// TestNegatives: every negative case of basiq-api-v3.md §6.4, and more. Each
// is a clear error, never a panic, and never a Message with a payload.
func TestNegatives(t *testing.T) {
	ver, err := webhook.NewVerifier(tv1.secret, fixedClock(tv1.at()))
	require.NoError(t, err)
	body := []byte(tv1.body)
	sec := tv1.at().Unix()
	ts := func(d time.Duration) string { return strconv.FormatInt(sec+int64(d/time.Second), 10) }
	key := mustKey(t, tv1.secret)
	// signedAt re-signs TV1 at another timestamp, so only the window can fail.
	signedAt := func(d time.Duration) http.Header {
		return headers(tv1.id, ts(d), sign(key, tv1.id, ts(d), body))
	}
	without := func(name string) http.Header {
		h := tv1.header()
		h.Del(name)
		return h
	}
	with := func(name, value string) http.Header {
		h := tv1.header()
		h.Set(name, value)
		return h
	}

	cases := []struct {
		name   string
		header http.Header
		body   []byte
		want   error // nil: must pass
	}{
		{"TV1", tv1.header(), body, nil},
		{"wrong signature", with("webhook-signature", wrongSig), body, webhook.ErrInvalidSignature},
		{"v1, alone", with("webhook-signature", "v1,"), body, webhook.ErrInvalidSignature},
		{"several signatures, one valid", with("webhook-signature", multiSigValid), body, nil},
		{"5 min old", signedAt(-5 * time.Minute), body, webhook.ErrTimestamp},
		{"5 min + 1 s ahead", signedAt(5*time.Minute + time.Second), body, webhook.ErrTimestamp},
		{"5 min ahead", signedAt(5 * time.Minute), body, webhook.ErrTimestamp},
		{"4 min 59 s old", signedAt(-5*time.Minute + time.Second), body, nil},
		{"4 min 59 s ahead", signedAt(5*time.Minute - time.Second), body, nil},
		{"replay a day later", signedAt(-24 * time.Hour), body, webhook.ErrTimestamp},
		{"signature for another body", tv1.header(), []byte(`{"test": 2432232315}`), webhook.ErrInvalidSignature},
		{"signature for another id", with("webhook-id", "msg_other"), body, webhook.ErrInvalidSignature},
		{"signature of another timestamp", with("webhook-timestamp", ts(time.Second)), body, webhook.ErrInvalidSignature},
		{"body with a trailing newline", tv1.header(), append([]byte(tv1.body), '\n'), webhook.ErrInvalidSignature},
		{"v2 entry only", with("webhook-signature", "v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="), body, webhook.ErrInvalidSignature},
		{"v1a entry only", with("webhook-signature", "v1a,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="), body, webhook.ErrInvalidSignature},
		{"signature without version", with("webhook-signature", "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="), body, webhook.ErrInvalidSignature},
		{"signature unpadded", with("webhook-signature", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE"), body, webhook.ErrInvalidSignature},
		{"signature truncated", with("webhook-signature", "v1,g0hM9SsE+OTPJTGt"), body, webhook.ErrInvalidSignature},
		{"signature of spaces", with("webhook-signature", "   "), body, webhook.ErrInvalidSignature},
		{"signature commas", with("webhook-signature", ",,,"), body, webhook.ErrInvalidSignature},
		{"Basiq's Node snippet: bare base64 in the header", with("webhook-signature", "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="), body, webhook.ErrInvalidSignature},
		{"no webhook-id", without("webhook-id"), body, webhook.ErrMissingHeader},
		{"no webhook-timestamp", without("webhook-timestamp"), body, webhook.ErrMissingHeader},
		{"no webhook-signature", without("webhook-signature"), body, webhook.ErrMissingHeader},
		{"empty webhook-id", with("webhook-id", ""), body, webhook.ErrMissingHeader},
		{"no headers", http.Header{}, body, webhook.ErrMissingHeader},
		{"nil headers", nil, body, webhook.ErrMissingHeader},
		{"timestamp not a number", with("webhook-timestamp", "yesterday"), body, webhook.ErrTimestamp},
		{"timestamp in milliseconds", with("webhook-timestamp", tv1.timestamp+"000"), body, webhook.ErrTimestamp},
		{"timestamp with a fraction", with("webhook-timestamp", tv1.timestamp+".5"), body, webhook.ErrTimestamp},
		{"timestamp RFC 3339", with("webhook-timestamp", tv1.at().UTC().Format(time.RFC3339)), body, webhook.ErrTimestamp},
		{"timestamp overflowing int64", with("webhook-timestamp", "99999999999999999999"), body, webhook.ErrTimestamp},
		{"timestamp far future", with("webhook-timestamp", "9223372036854775807"), body, webhook.ErrTimestamp},
		{"timestamp far past", with("webhook-timestamp", "-9223372036854775808"), body, webhook.ErrTimestamp},
		{"timestamp with spaces", with("webhook-timestamp", " "+tv1.timestamp), body, webhook.ErrTimestamp},
		{"oversized body", tv1.header(), bytes.Repeat([]byte("x"), webhook.DefaultMaxBodySize+1), webhook.ErrBodyTooLarge},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := ver.Verify(c.header, c.body)
			if c.want == nil {
				require.NoError(t, err)
				assert.Equal(t, tv1.id, m.ID)
				return
			}
			require.ErrorIs(t, err, c.want)
			assert.Equal(t, webhook.Message{}, m, "a refused delivery returns no Message")
			for _, other := range []error{webhook.ErrInvalidSignature, webhook.ErrTimestamp, webhook.ErrMissingHeader, webhook.ErrBodyTooLarge, webhook.ErrInvalidPayload} {
				if other != c.want {
					assert.NotErrorIs(t, err, other)
				}
			}
			assertNoSecretIn(t, err.Error())
		})
	}
}

// TestHeaderSpellings: headers set by hand with any case are found; several
// webhook-signature lines are all considered.
func TestHeaderSpellings(t *testing.T) {
	ver, err := webhook.NewVerifier(tv1.secret, fixedClock(tv1.at()))
	require.NoError(t, err)
	raw := http.Header{"webhook-id": {tv1.id}, "WEBHOOK-TIMESTAMP": {tv1.timestamp}, "webhook-Signature": {tv1.signature}}
	_, err = ver.Verify(raw, []byte(tv1.body))
	assert.NoError(t, err)

	lines := tv1.header()
	lines["Webhook-Signature"] = []string{wrongSig, tv1.signature}
	_, err = ver.Verify(lines, []byte(tv1.body))
	assert.NoError(t, err, "a valid signature on a second header line")
}

func TestThinPayload(t *testing.T) {
	ver, err := webhook.NewVerifier(testSecret())
	require.NoError(t, err)
	body := []byte(`{ "eventTypeId": "connection.invalidated", "eventId": "44a85f64-5717-4562-b3fc-2c963f66af44",
	  "links": { "event": "https://au-api.basiq.io/events/5a47115a",
	             "eventEntity": "https:\/\/au-api.basiq.io\/users\/88a85f64\/connections\/8bd4f752" },
	  "extra": [1, 2.5e3, true, null, {"nested": "\u00e9\ud83d\ude00"}] }`)
	now := time.Now()
	ts := strconv.FormatInt(now.Unix(), 10)
	m, err := ver.Verify(headers("msg_1", ts, sign(testKey, "msg_1", ts, body)), body)
	require.NoError(t, err)
	assert.Equal(t, basiq.EventConnectionInvalidated, m.Type)
	assert.Equal(t, "44a85f64-5717-4562-b3fc-2c963f66af44", m.EventID)
	assert.Equal(t, "https://au-api.basiq.io/events/5a47115a", m.EventURL)
	assert.Equal(t, "https://au-api.basiq.io/users/88a85f64/connections/8bd4f752", m.EntityURL)
	assert.Equal(t, "88a85f64", m.UserID())
	assert.Equal(t, "8bd4f752", m.ConnectionID())
	assert.Equal(t, "msg_1", m.ID)
	assert.Equal(t, now.Unix(), m.Timestamp.Unix())
}

// TestNonJSONBody: a body with a valid signature that is not a JSON object is
// ErrInvalidPayload (not a signature error), with the verified ID, Timestamp
// and Body but no payload fields.
func TestNonJSONBody(t *testing.T) {
	ver, err := webhook.NewVerifier(testSecret())
	require.NoError(t, err)
	for _, body := range []string{"", "hello", "<xml/>", "null", "[]", `"str"`, "42", `{"eventTypeId":"user.created"`,
		`{"eventTypeId":"user.created"} trailing`, "\xef\xbb\xbf{}", `{"a":01}`, `{'a':1}`, "{\"a\":\"\x01\"}"} {
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		m, err := ver.Verify(headers("msg_x", ts, sign(testKey, "msg_x", ts, []byte(body))), []byte(body))
		require.ErrorIs(t, err, webhook.ErrInvalidPayload, "%q", body)
		assert.NotErrorIs(t, err, webhook.ErrInvalidSignature)
		assert.Equal(t, "msg_x", m.ID)
		assert.Equal(t, body, string(m.Body))
		assert.False(t, m.Timestamp.IsZero())
		assert.Empty(t, m.Type)
		assert.Empty(t, m.EventID)
		assert.Empty(t, m.EventURL)
		assert.Empty(t, m.EntityURL)
	}
}

func TestOptions(t *testing.T) {
	_, err := webhook.NewVerifier(tv1.secret, webhook.WithTolerance(-time.Second))
	assert.ErrorIs(t, err, basiq.ErrInvalidInput)
	_, err = webhook.NewVerifier(tv1.secret, webhook.WithMaxBodySize(-1))
	assert.ErrorIs(t, err, basiq.ErrInvalidInput)

	// Zero and nil mean the defaults.
	v, err := webhook.NewVerifier(tv1.secret, webhook.WithTolerance(0), webhook.WithMaxBodySize(0), webhook.WithClock(nil), nil)
	require.NoError(t, err)
	assert.Equal(t, webhook.DefaultMaxBodySize, v.MaxBodySize())
	key := mustKey(t, tv1.secret)
	now := time.Now()
	ts := strconv.FormatInt(now.Add(-4*time.Minute).Unix(), 10)
	_, err = v.Verify(headers("m", ts, sign(key, "m", ts, []byte("{}"))), []byte("{}"))
	assert.NoError(t, err, "4 min old under the default 5 min tolerance")

	// A wider tolerance accepts a 6 min old message; a narrower refuses 2 min.
	ts = strconv.FormatInt(now.Add(-6*time.Minute).Unix(), 10)
	wide, err := webhook.NewVerifier(tv1.secret, webhook.WithTolerance(10*time.Minute))
	require.NoError(t, err)
	_, err = wide.Verify(headers("m", ts, sign(key, "m", ts, []byte("{}"))), []byte("{}"))
	assert.NoError(t, err)
	ts = strconv.FormatInt(now.Add(-2*time.Minute).Unix(), 10)
	narrow, err := webhook.NewVerifier(tv1.secret, webhook.WithTolerance(time.Minute))
	require.NoError(t, err)
	_, err = narrow.Verify(headers("m", ts, sign(key, "m", ts, []byte("{}"))), []byte("{}"))
	assert.ErrorIs(t, err, webhook.ErrTimestamp)

	// The size limit: exactly the limit passes, one byte more does not.
	small, err := webhook.NewVerifier(tv1.secret, webhook.WithMaxBodySize(8))
	require.NoError(t, err)
	ts = strconv.FormatInt(now.Unix(), 10)
	for body, want := range map[string]error{`{"a":12}`: nil, `{"a":123}`: webhook.ErrBodyTooLarge} {
		_, err = small.Verify(headers("m", ts, sign(key, "m", ts, []byte(body))), []byte(body))
		if want == nil {
			assert.NoError(t, err, body)
		} else {
			assert.ErrorIs(t, err, want, body)
		}
	}
}

func TestZeroVerifier(t *testing.T) {
	var nilV *webhook.Verifier
	_, err := nilV.Verify(tv1.header(), []byte(tv1.body))
	assert.ErrorIs(t, err, basiq.ErrInvalidInput)
	_, err = (&webhook.Verifier{}).Verify(tv1.header(), []byte(tv1.body))
	assert.ErrorIs(t, err, basiq.ErrInvalidInput)
	assert.Equal(t, 0, nilV.MaxBodySize())
	assert.NotPanics(t, func() { _ = fmt.Sprint(webhook.Verifier{}, &webhook.Verifier{}) })
}

// TestSecretNeverFormatted formats a Verifier, and structs of the caller's
// holding one, with every verb and through slog.
func TestSecretNeverFormatted(t *testing.T) {
	v, err := webhook.NewVerifier(tv1.secret, webhook.WithTolerance(time.Minute))
	require.NoError(t, err)
	type app struct {
		v    *webhook.Verifier
		V    *webhook.Verifier
		val  webhook.Verifier
		Val  webhook.Verifier
		Hook http.Handler
	}
	h := webhook.Handler(v, nil)
	values := []any{v, *v, app{v, v, *v, *v, h}, &app{v, v, *v, *v, h}, h}
	var out strings.Builder
	for _, x := range values {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d"} {
			fmt.Fprintf(&out, verb+"\n", x)
		}
	}
	for _, handler := range []slog.Handler{slog.NewTextHandler(&out, nil), slog.NewJSONHandler(&out, nil)} {
		slog.New(handler).Info("verifier", "v", v, "val", *v, "app", app{v, v, *v, *v, h})
	}
	assertNoSecretIn(t, out.String())
	assert.Contains(t, out.String(), "[REDACTED]")
	assert.Contains(t, fmt.Sprint(v), "tolerance: 1m0s")
}

func mustKey(t *testing.T, secret string) []byte {
	t.Helper()
	key, err := base64Decode(strings.TrimPrefix(secret, "whsec_"))
	require.NoError(t, err)
	return key
}

// FuzzVerify feeds Verify arbitrary ids, timestamps, signature headers and
// bodies, under TV1's or TV2's secret (with or without whsec_) and clock.
// With resign set it also appends a genuine signature, so that mutated bodies
// reach the payload reader. It checks that Verify never panics, fails only
// with its documented errors, accepts exactly the deliveries an independent
// HMAC and clock check accept, and reads payloads as encoding/json does.
func FuzzVerify(f *testing.F) {
	sec := func(v vector, d time.Duration) string {
		return strconv.FormatInt(v.at().Add(d).Unix(), 10)
	}
	f.Add(uint8(0), tv1.id, tv1.timestamp, tv1.signature, []byte(tv1.body), false)
	f.Add(uint8(2), tv2.id, tv2.timestamp, tv2.signature, []byte(tv2.body), false)
	f.Add(uint8(1), tv1.id, tv1.timestamp, tv1.signature, []byte(tv1.body), false) // secret without whsec_
	f.Add(uint8(0), tv1.id, tv1.timestamp, wrongSig, []byte(tv1.body), false)
	f.Add(uint8(0), tv1.id, tv1.timestamp, "v1,", []byte(tv1.body), false)
	f.Add(uint8(0), tv1.id, tv1.timestamp, multiSigValid, []byte(tv1.body), false)
	f.Add(uint8(0), tv1.id, sec(tv1, -5*time.Minute), "", []byte(tv1.body), true)
	f.Add(uint8(0), tv1.id, sec(tv1, 5*time.Minute+time.Second), "", []byte(tv1.body), true)
	f.Add(uint8(0), tv1.id, sec(tv1, -24*time.Hour), "", []byte(tv1.body), true)
	f.Add(uint8(0), tv1.id, tv1.timestamp, tv1.signature, []byte(`{"test": 2432232315}`), false)
	f.Add(uint8(0), "", tv1.timestamp, tv1.signature, []byte(tv1.body), false)
	f.Add(uint8(0), tv1.id, "", tv1.signature, []byte(tv1.body), false)
	f.Add(uint8(0), tv1.id, tv1.timestamp, "", []byte(tv1.body), false)
	f.Add(uint8(0), tv1.id, "not-a-number", tv1.signature, []byte(tv1.body), false)
	f.Add(uint8(0), tv1.id, tv1.timestamp, "", []byte("not json"), true)
	for _, body := range payloadCases {
		f.Add(uint8(0), tv1.id, tv1.timestamp, "v2,x", []byte(body), true)
	}

	type setup struct {
		v   *webhook.Verifier
		key []byte
		vec vector
	}
	var setups []setup
	for _, s := range []struct {
		vec    vector
		secret string
	}{{tv1, tv1.secret}, {tv1, strings.TrimPrefix(tv1.secret, "whsec_")}, {tv2, tv2.secret}} {
		v, err := webhook.NewVerifier(s.secret, fixedClock(s.vec.at()), webhook.WithMaxBodySize(4096))
		if err != nil {
			f.Fatal(err)
		}
		key, err := base64StdDecode(strings.TrimPrefix(s.vec.secret, "whsec_"))
		if err != nil {
			f.Fatal(err)
		}
		setups = append(setups, setup{v, key, s.vec})
	}

	f.Fuzz(func(t *testing.T, which uint8, id, ts, sig string, body []byte, resign bool) {
		s := setups[int(which)%len(setups)]
		genuine := sign(s.key, id, ts, body)
		if resign {
			sig += " " + genuine
		}
		h := http.Header{"Webhook-Id": {id}, "Webhook-Timestamp": {ts}, "Webhook-Signature": {sig}}
		m, err := s.v.Verify(h, body)

		// What an independent check expects.
		var want error
		sec, perr := strconv.ParseInt(ts, 10, 64)
		switch {
		case len(body) > 4096:
			want = webhook.ErrBodyTooLarge
		case id == "" || ts == "" || sig == "":
			want = webhook.ErrMissingHeader
		case perr != nil:
			want = webhook.ErrTimestamp
		case withinWindow(s.vec.at(), sec) == false:
			want = webhook.ErrTimestamp
		case !hasEntry(sig, genuine):
			want = webhook.ErrInvalidSignature
		}
		if want != nil {
			if !errors.Is(err, want) {
				t.Fatalf("Verify = %v, want %v", err, want)
			}
			if m.ID != "" || m.Body != nil {
				t.Fatalf("a refused delivery returned a Message")
			}
			return
		}
		fields, ok := expectedPayload(body)
		if !ok {
			if !errors.Is(err, webhook.ErrInvalidPayload) {
				t.Fatalf("body %q is not a JSON object; Verify = %v", body, err)
			}
			if messageFields(m) != ([4]string{}) {
				t.Fatalf("invalid payload with fields %q", messageFields(m))
			}
		} else if err != nil {
			t.Fatalf("genuine delivery refused: %v", err)
		} else if messageFields(m) != fields {
			t.Fatalf("body %q: fields %q, encoding/json %q", body, messageFields(m), fields)
		}
		if m.ID != id || m.Timestamp.Unix() != sec || string(m.Body) != string(body) {
			t.Fatalf("Message does not carry the delivery's id, timestamp and body")
		}
	})
}

// withinWindow is the 5-minute rule, written independently: strictly less
// than 5 min either way.
func withinWindow(now time.Time, sec int64) bool {
	d := now.Unix() - sec
	return d > -300 && d < 300
}

// hasEntry reports whether a space-separated entry of header is exactly want.
func hasEntry(header, want string) bool {
	for _, e := range strings.Split(header, " ") {
		if e == want {
			return true
		}
	}
	return false
}

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

const benchID = "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"
