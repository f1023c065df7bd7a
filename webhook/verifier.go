package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"hash"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/banklink-go/basiq"
)

// Defaults of a Verifier.
const (
	// DefaultTolerance is how far a message's webhook-timestamp may be from
	// the Verifier's clock, in either direction (Basiq's and Standard
	// Webhooks' 5 minutes).
	DefaultTolerance = 5 * time.Minute
	// DefaultMaxBodySize bounds the body Verify accepts and Handler reads.
	// Basiq's payloads are thin (about 300 bytes: an event type, an event id
	// and two links), so 256 KiB leaves ample room while a flood of large
	// bodies cannot exhaust memory.
	DefaultMaxBodySize = 256 << 10
)

// Header names of Standard Webhooks v1, in canonical form.
const (
	headerID        = "Webhook-Id"
	headerTimestamp = "Webhook-Timestamp"
	headerSignature = "Webhook-Signature"
)

// maxUnixSeconds bounds webhook-timestamp (about the year 36812) so that
// time.Unix cannot overflow.
const maxUnixSeconds = 1 << 40

// sigLen is the length of a base64 HMAC-SHA256 signature (with padding).
const sigLen = 44

// Verifier checks Basiq's webhook signatures (Standard Webhooks v1). It is safe
// for concurrent use; make one per secret with NewVerifier and share it. Its
// formatted forms (%v, %+v, %#v, slog) never show the secret.
type Verifier struct {
	// macs holds *macState values, each with an HMAC keyed with the secret.
	// The key lives only in the pool's New closure and in the HMACs' private
	// state: fmt prints a func, and the pool's internals, as addresses, so no
	// verb of fmt ever reaches the key, even through a caller's struct.
	macs      *sync.Pool
	tolerance time.Duration
	clock     func() time.Time
	maxBody   int
	err       error // the first invalid option
}

// macState is one pooled HMAC and the buffers of one verification, so that
// Verify allocates the same few strings whatever the body size.
type macState struct {
	mac  hash.Hash
	sum  [sha256.Size]byte
	want [sigLen]byte // base64 of sum
	got  [sigLen]byte // a candidate signature, copied for hmac.Equal
	buf  [64]byte     // the id and timestamp pass through it on their way to mac
}

// writeString writes s to the HMAC through st.buf, since hmac's hash has no
// WriteString and converting s would allocate.
func (st *macState) writeString(s string) {
	for len(s) > 0 {
		n := copy(st.buf[:], s)
		st.mac.Write(st.buf[:n])
		s = s[n:]
	}
}

// Option configures a Verifier made by NewVerifier.
type Option func(*Verifier)

// WithTolerance sets how far webhook-timestamp may be from the clock, in
// either direction: a message is accepted when its timestamp is less than d
// before or after the clock's time (default DefaultTolerance, 5 minutes).
// Older messages are refused as replays; newer ones as forged or from a
// badly skewed clock. Zero means the default. A negative d is a misuse:
// NewVerifier returns an error matching basiq.ErrInvalidInput. The check
// cannot be turned off; to verify an archived message, pin the clock to its
// timestamp with WithClock.
func WithTolerance(d time.Duration) Option {
	return func(v *Verifier) {
		switch {
		case d < 0:
			v.fail(fmt.Errorf("%w: webhook: negative tolerance %s", basiq.ErrInvalidInput, d))
		case d > 0:
			v.tolerance = d
		}
	}
}

// WithClock sets the clock webhook-timestamp is compared with (default
// time.Now). Nil means the default.
func WithClock(now func() time.Time) Option {
	return func(v *Verifier) {
		if now != nil {
			v.clock = now
		}
	}
}

// WithMaxBodySize sets the largest body, in bytes, that Verify accepts and
// Handler reads (default DefaultMaxBodySize, 256 KiB); larger bodies fail
// with ErrBodyTooLarge before any hashing. Zero means the default; a
// negative n makes NewVerifier return an error matching
// basiq.ErrInvalidInput.
func WithMaxBodySize(n int) Option {
	return func(v *Verifier) {
		switch {
		case n < 0:
			v.fail(fmt.Errorf("%w: webhook: negative body size limit %d", basiq.ErrInvalidInput, n))
		case n > 0:
			v.maxBody = n
		}
	}
}

func (v *Verifier) fail(err error) {
	if v.err == nil {
		v.err = err
	}
}

// NewVerifier returns a Verifier for the webhook secret Basiq returned when
// the webhook was created: "whsec_" followed by base64, or the base64 alone,
// with or without "=" padding. A secret that is not base64, or decodes to
// nothing, is an error matching basiq.ErrInvalidInput; the error never
// quotes the secret.
func NewVerifier(secret string, opts ...Option) (*Verifier, error) {
	key, err := decodeSecret(secret)
	if err != nil {
		return nil, err
	}
	v := &Verifier{
		tolerance: DefaultTolerance,
		clock:     time.Now,
		maxBody:   DefaultMaxBodySize,
	}
	for _, opt := range opts {
		if opt != nil {
			opt(v)
		}
	}
	if v.err != nil {
		return nil, v.err
	}
	v.macs = &sync.Pool{New: func() any {
		return &macState{mac: hmac.New(sha256.New, key)}
	}}
	return v, nil
}

// ready reports whether v was made by NewVerifier.
func (v *Verifier) ready() bool { return v != nil && v.macs != nil && v.clock != nil }

// MaxBodySize returns the largest body Verify accepts, in bytes (0 for a
// Verifier not made by NewVerifier).
func (v *Verifier) MaxBodySize() int {
	if v == nil {
		return 0
	}
	return v.maxBody
}

// Verify checks a delivery's headers and raw body, in this order, before
// reading any JSON:
//
//   - the body is at most the size limit (else ErrBodyTooLarge);
//   - webhook-id, webhook-timestamp and webhook-signature are present and
//     not empty (else ErrMissingHeader);
//   - webhook-timestamp is integer Unix seconds less than the tolerance away
//     from the clock (else ErrTimestamp);
//   - some "v1,<base64>" entry of webhook-signature (entries are separated
//     by spaces; other versions are skipped; several v1 entries appear while
//     a secret is rotated) equals base64(HMAC-SHA256(key,
//     id + "." + timestamp + "." + body)), compared in constant time (else
//     ErrInvalidSignature).
//
// Then it reads the thin payload {"eventTypeId", "eventId", "links":
// {"event", "eventEntity"}} with json.Unmarshal into a struct with those
// fields: keys match case-insensitively, unknown fields are ignored, and a
// field of another type (or null) is left empty. A body that is not valid
// JSON with an object at its top level returns the Message without its
// payload fields and an error matching ErrInvalidPayload.
//
// Message.Body is body itself, not a copy. A Verifier not made by
// NewVerifier returns an error matching basiq.ErrInvalidInput.
func (v *Verifier) Verify(h http.Header, body []byte) (Message, error) {
	if !v.ready() {
		return Message{}, fmt.Errorf("%w: webhook: Verifier not made by NewVerifier", basiq.ErrInvalidInput)
	}
	if len(body) > v.maxBody {
		return Message{}, fmt.Errorf("%w: %d bytes, limit %d", ErrBodyTooLarge, len(body), v.maxBody)
	}
	id := first(headerValues(h, headerID))
	if id == "" {
		return Message{}, fmt.Errorf("%w: webhook-id", ErrMissingHeader)
	}
	ts := first(headerValues(h, headerTimestamp))
	if ts == "" {
		return Message{}, fmt.Errorf("%w: webhook-timestamp", ErrMissingHeader)
	}
	sigs := headerValues(h, headerSignature)
	if first(sigs) == "" {
		return Message{}, fmt.Errorf("%w: webhook-signature", ErrMissingHeader)
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || sec < 0 || sec > maxUnixSeconds {
		return Message{}, fmt.Errorf("%w: webhook-timestamp is not integer Unix seconds", ErrTimestamp)
	}
	at := time.Unix(sec, 0)
	if skew := v.clock().Sub(at); skew >= v.tolerance {
		return Message{}, fmt.Errorf("%w: webhook-timestamp is %s old (tolerance %s)", ErrTimestamp, skew.Truncate(time.Second), v.tolerance)
	} else if skew <= -v.tolerance {
		return Message{}, fmt.Errorf("%w: webhook-timestamp is %s ahead (tolerance %s)", ErrTimestamp, -skew.Truncate(time.Second), v.tolerance)
	}
	if !v.signed(id, ts, body, sigs) {
		return Message{}, ErrInvalidSignature
	}
	m := Message{ID: id, Timestamp: at, Body: body}
	if !readPayload(body, &m) {
		return m, ErrInvalidPayload
	}
	return m, nil
}

// signed reports whether any v1 entry of the signature headers matches.
func (v *Verifier) signed(id, ts string, body []byte, headers []string) bool {
	st := v.macs.Get().(*macState)
	defer v.macs.Put(st)
	st.mac.Reset()
	// A hash's Write never fails. The prefix usually fits the buffer: one
	// Write instead of four.
	if n := len(id) + len(ts) + 2; n <= len(st.buf) {
		copy(st.buf[:], id)
		st.buf[len(id)] = '.'
		copy(st.buf[len(id)+1:], ts)
		st.buf[n-1] = '.'
		st.mac.Write(st.buf[:n])
	} else {
		st.writeString(id)
		st.writeString(".")
		st.writeString(ts)
		st.writeString(".")
	}
	st.mac.Write(body)
	sum := st.mac.Sum(st.sum[:0])
	base64.StdEncoding.Encode(st.want[:], sum)

	ok := false
	for _, header := range headers {
		for rest := header; rest != ""; {
			var entry string
			entry, rest, _ = strings.Cut(rest, " ")
			version, sig, found := strings.Cut(entry, ",")
			if !found || version != "v1" || len(sig) != sigLen {
				continue // a wrong length cannot match; the length is public
			}
			copy(st.got[:], sig)
			// Every entry is compared, even after a match, so timing does not
			// tell which entry matched.
			if hmac.Equal(st.got[:], st.want[:]) {
				ok = true
			}
		}
	}
	return ok
}

// headerValues returns the values of a header given its canonical name,
// also when the caller's map was built with another spelling.
func headerValues(h http.Header, canonical string) []string {
	if vs, ok := h[canonical]; ok {
		return vs
	}
	for k, vs := range h {
		if strings.EqualFold(k, canonical) {
			return vs
		}
	}
	return nil
}

func first(vs []string) string {
	if len(vs) == 0 {
		return ""
	}
	return vs[0]
}

// String describes the Verifier without its secret.
func (v Verifier) String() string {
	return fmt.Sprintf("webhook.Verifier{secret: %s, tolerance: %s, maxBodySize: %d}", redacted, v.tolerance, v.maxBody)
}

// GoString is String: %#v never shows the secret.
func (v Verifier) GoString() string { return v.String() }

// Format prints String for every verb.
func (v Verifier) Format(f fmt.State, _ rune) { fmt.Fprint(f, v.String()) }

// LogValue logs the settings, never the secret.
func (v Verifier) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("secret", redacted),
		slog.Duration("tolerance", v.tolerance),
		slog.Int("max_body_size", v.maxBody),
	)
}

// Sign returns the webhook-signature header value Basiq would send for a
// message: "v1," and the base64 HMAC-SHA256 of id + "." + the Unix seconds
// of at + "." + body under secret (which NewVerifier's rules decode). It is
// for tests and fakes that play Basiq; the matching webhook-timestamp is
// strconv.FormatInt(at.Unix(), 10). A bad secret is an error matching
// basiq.ErrInvalidInput.
func Sign(secret, id string, at time.Time, body []byte) (string, error) {
	key, err := decodeSecret(secret)
	if err != nil {
		return "", err
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + strconv.FormatInt(at.Unix(), 10) + "."))
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil)), nil
}
