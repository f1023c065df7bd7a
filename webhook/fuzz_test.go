package webhook_test

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/banklink-go/basiq/webhook"
)

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
