package webhook_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strconv"
	"time"

	"github.com/banklink-go/basiq/webhook"
)

// Test vectors of basiq-api-v3.md §6.4 (from the Standard Webhooks libraries' tests).
type vector struct {
	name, secret, id, timestamp, body, signature string
}

var (
	tv1 = vector{"TV1", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330",
		`{"test": 2432232314}`, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="}
	tv2 = vector{"TV2", "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD", "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk", "1649367553",
		`{"email":"test@example.com","username":"test_user"}`, "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw="}
)

// Derived negatives of §6.4, with TV1's inputs.
const (
	wrongSig      = "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc="
	multiSigValid = "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= v2,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE= v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc="
)

func (v vector) at() time.Time {
	sec, err := strconv.ParseInt(v.timestamp, 10, 64)
	if err != nil {
		panic(err)
	}
	return time.Unix(sec, 0)
}

func (v vector) header() http.Header {
	return headers(v.id, v.timestamp, v.signature)
}

func headers(id, timestamp, signature string) http.Header {
	h := http.Header{}
	h.Set("webhook-id", id)
	h.Set("webhook-timestamp", timestamp)
	h.Set("webhook-signature", signature)
	return h
}

// sign is an independent signer for tests: base64 HMAC-SHA256 of
// id.timestamp.body with the decoded key.
func sign(key []byte, id, timestamp string, body []byte) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + timestamp + "."))
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// testKey is the key of testSecret.
var testKey = []byte("a test key of 32 bytes, no more!")

func testSecret() string { return "whsec_" + base64.StdEncoding.EncodeToString(testKey) }

func fixedClock(t time.Time) webhook.Option { return webhook.WithClock(func() time.Time { return t }) }

func base64Encode(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func base64StdDecode(s string) ([]byte, error) { return base64.StdEncoding.DecodeString(s) }
