package basiqtest

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"time"
)

// newUUID returns a random version 4 UUID, the form Basiq uses for user,
// connection, job and correlation ids.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+).
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:], b[10:])
	return string(out[:])
}

// isUUID reports whether s has the 8-4-4-4-12 hexadecimal UUID form.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// isInstitutionID reports whether s matches ^[A-Z]{2}[0-9]{5}$, the pattern
// of institution and connector ids.
func isInstitutionID(s string) bool {
	if len(s) != 7 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if i < 2 && !('A' <= c && c <= 'Z') || i >= 2 && !('0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

// newAPIKey returns a random key shaped like a Basiq dashboard key: the
// base64 encoding of "<uuid>:<uuid>".
func newAPIKey() string {
	return base64.StdEncoding.EncodeToString([]byte(newUUID() + ":" + newUUID()))
}

// stamp formats t the way Basiq does: UTC, whole seconds, "Z" suffix.
func stamp(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05Z")
}
