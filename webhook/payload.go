package webhook

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// A hand-written reader for the thin payload, so that Verify costs about as
// much as the HMAC it computes, and allocates once whatever the body size.
//
// What it accepts: every body json.Valid accepts whose top level is an
// object, read exactly as json.Unmarshal reads it into a struct with the
// payload's fields (case-insensitive keys, the last duplicate wins, a value
// of another type or null leaves what was there); the tests and the fuzz
// target check this against encoding/json. It is lenient inside the values
// it does not read (any object or array other than the top object and its
// links): there it checks strings and bracket balance only, not commas,
// colons, numbers or literals. The top object and links are checked in full.

// maxDepth is encoding/json's nesting limit.
const maxDepth = 10000

// span is a JSON string token's contents (between the quotes) in the body.
type span struct {
	start, end int
	plain      bool // no escapes (and, for a value, valid UTF-8): the bytes are the value
	set        bool
}

// payloadSpans are the fields of the thin payload found so far.
type payloadSpans struct {
	eventType, eventID, eventURL, entityURL span
}

// Fields of the thin payload a key can name.
type field int

const (
	fieldNone field = iota
	fieldEventType
	fieldEventID
	fieldLinks
	fieldEvent
	fieldEventEntity
)

// parsePayload fills m's payload fields from body and reports whether body is
// a JSON object. On false, m is unchanged.
func parsePayload(body []byte, m *Message) bool {
	var fields payloadSpans
	if !scanPayload(body, &fields) {
		return false
	}
	spans := [4]*span{&fields.eventType, &fields.eventID, &fields.eventURL, &fields.entityURL}
	out := [4]*string{(*string)(&m.Type), &m.EventID, &m.EventURL, &m.EntityURL}
	// The plain values (no escapes, valid UTF-8: nearly always all four) are
	// copied into one string, and each field is a substring of it: one
	// allocation, of the values' size, whatever the body size.
	size := 0
	for _, s := range spans {
		if s.set && s.plain {
			size += s.end - s.start
		}
	}
	var all strings.Builder
	all.Grow(size)
	for _, s := range spans {
		if s.set && s.plain {
			all.Write(body[s.start:s.end])
		}
	}
	shared, at := all.String(), 0
	for k, s := range spans {
		switch {
		case !s.set:
			*out[k] = ""
		case s.plain:
			n := s.end - s.start
			*out[k] = shared[at : at+n]
			at += n
		default:
			*out[k] = s.str(body)
		}
	}
	return true
}

// str returns the decoded value of a span ("" when unset).
func (s span) str(body []byte) string {
	if !s.set {
		return ""
	}
	raw := body[s.start:s.end]
	if s.plain {
		return string(raw)
	}
	return string(unquote(make([]byte, 0, len(raw)+8), raw))
}

// Scanner states: what the next token may be.
const (
	stateValue        = iota // any value
	stateKeyOrClose          // after '{': a key or '}'
	stateKey                 // after ',' in an object: a key
	stateValueOrClose        // after '[': a value or ']'
	stateAfterValue          // ',' or the closing bracket of the open container
)

// scanPayload validates b (the top object and its links as encoding/json
// does; the values it does not read for strings and bracket balance only,
// see above) and records the spans of the thin payload's fields. It is one
// loop with an explicit stack of open containers (a bit each: object or
// array): no recursion, a few operations per byte.
func scanPayload(b []byte, fields *payloadSpans) bool {
	var objects [maxDepth/64 + 1]uint64 // bit d: the container at depth d is an object
	depth := 0                          // open containers
	inLinks := false                    // the object open at depth 2 is the top object's links
	pending := fieldNone                // the field the next value belongs to
	i := skipWS(b, 0)
	if i >= len(b) || b[i] != '{' {
		return false
	}
	state := stateValue
	for {
		i = skipWS(b, i)
		if i >= len(b) {
			return false
		}
		c := b[i]
		switch state {
		case stateKeyOrClose, stateKey:
			if c == '}' && state == stateKeyOrClose {
				depth--
				if depth == 1 {
					inLinks = false
				}
				i++
				if depth == 0 {
					return skipWS(b, i) == len(b)
				}
				state = stateAfterValue
				continue
			}
			if c != '"' {
				return false
			}
			key, next, ok := scanString(b, i)
			if !ok {
				return false
			}
			i = skipWS(b, next)
			if i >= len(b) || b[i] != ':' {
				return false
			}
			i++
			pending = fieldNone
			if depth == 1 {
				pending = matchField(b, key, false)
			} else if depth == 2 && inLinks {
				pending = matchField(b, key, true)
			}
			state = stateValue
		case stateValueOrClose:
			if c == ']' {
				depth--
				i++
				state = stateAfterValue
				continue
			}
			state = stateValue
		case stateValue:
			f := pending
			pending = fieldNone
			switch {
			case (c == '{' || c == '[') && depth > 0 && !(f == fieldLinks && depth == 1 && c == '{'):
				// A value the payload does not read: skip it.
				next, ok := skipContainer(b, i, depth, &objects)
				if !ok {
					return false
				}
				i = next
			case c == '{':
				if depth >= maxDepth {
					return false
				}
				objects[depth/64] |= 1 << (depth % 64)
				inLinks = true
				depth++
				i++
				state = stateKeyOrClose
				continue
			case c == '[':
				if depth >= maxDepth {
					return false
				}
				objects[depth/64] &^= 1 << (depth % 64)
				depth++
				i++
				state = stateValueOrClose
				continue
			case c == '"':
				s, next, ok := scanString(b, i)
				if !ok {
					return false
				}
				i = next
				if dst := fields.of(f); dst != nil {
					s.plain = s.plain && utf8.Valid(b[s.start:s.end])
					*dst = s
				}
			case c == '-' || ('0' <= c && c <= '9'):
				next, ok := scanNumber(b, i)
				if !ok {
					return false
				}
				i = next
			case c == 't' && hasWord(b, i, "true"):
				i += 4
			case c == 'f' && hasWord(b, i, "false"):
				i += 5
			case c == 'n' && hasWord(b, i, "null"):
				i += 4
			default:
				return false
			}
			state = stateAfterValue
		case stateAfterValue:
			isObject := objects[(depth-1)/64]&(1<<((depth-1)%64)) != 0
			switch {
			case c == ',':
				i++
				if isObject {
					state = stateKey
				} else {
					state = stateValue
				}
			case c == '}' && isObject, c == ']' && !isObject:
				depth--
				if depth == 1 {
					inLinks = false
				}
				i++
				if depth == 0 {
					return skipWS(b, i) == len(b)
				}
			default:
				return false
			}
		}
	}
}

// skipContainer skips the object or array opening at b[i], at depth, and
// returns the index after it. It checks only what keeps the skip exact:
// strings are well-formed (escapes, no control characters), brackets balance
// and match, nesting stays within maxDepth. The grammar in between (commas,
// colons, numbers, literals) is not checked: the payload reads nothing there.
//
// It reads eight bytes at a time, flags those that matter (quotes,
// backslashes, brackets, control characters) and acts on each in turn
// according to whether it is inside a string.
func skipContainer(b []byte, i, depth int, objects *[maxDepth/64 + 1]uint64) (int, bool) {
	base := depth
	inString := false
	for i < len(b) {
		// Flag the bytes that matter in the next eight (or the next one,
		// near the end): one bit per byte, possibly with false positives
		// after a true one, which the switch below ignores.
		var flags uint64
		width := 8
		if i+8 <= len(b) {
			w := binary.LittleEndian.Uint64(b[i:])
			lower := w | 0x20*ones // '[' and ']' are '{' and '}' without the 0x20 bit
			flags = hasZeroByte(w^('"'*ones)) | hasZeroByte(w^('\\'*ones)) | hasByteBelow(w, 0x20) |
				hasZeroByte(lower^('{'*ones)) | hasZeroByte(lower^('}'*ones))
		} else {
			width = 1
			if c := b[i]; c == '"' || c == '\\' || c < 0x20 || c|0x20 == '{' || c|0x20 == '}' {
				flags = 0x80
			}
		}
		start := i
		i += width
		for flags != 0 {
			j := start + bits.TrailingZeros64(flags)/8
			flags &= flags - 1
			c := b[j]
			if inString {
				switch {
				case c == '"':
					inString = false
				case c == '\\':
					n := escapeLen(b, j)
					if n == 0 {
						return j, false
					}
					i = j + n // resume after the escape
					flags = 0
				case c < 0x20:
					return j, false
				}
				continue
			}
			// Anything but a quote or a bracket outside a string (a stray
			// backslash, white space, a control character) is grammar the
			// skip does not check.
			switch c {
			case '"':
				inString = true
			case '{', '[':
				if depth >= maxDepth {
					return j, false
				}
				if c == '{' {
					objects[depth/64] |= 1 << (depth % 64)
				} else {
					objects[depth/64] &^= 1 << (depth % 64)
				}
				depth++
			case '}', ']':
				isObject := objects[(depth-1)/64]&(1<<((depth-1)%64)) != 0
				if isObject != (c == '}') {
					return j, false
				}
				depth--
				if depth == base {
					return j + 1, true
				}
			}
		}
	}
	return i, false
}

// of returns where a field's string value goes, or nil.
func (f *payloadSpans) of(which field) *span {
	switch which {
	case fieldEventType:
		return &f.eventType
	case fieldEventID:
		return &f.eventID
	case fieldEvent:
		return &f.eventURL
	case fieldEventEntity:
		return &f.entityURL
	}
	return nil
}

func skipWS(b []byte, i int) int {
	for i < len(b) && b[i] <= ' ' && (b[i] == ' ' || b[i] == '\n' || b[i] == '\r' || b[i] == '\t') {
		i++
	}
	return i
}

func hasWord(b []byte, i int, word string) bool {
	return len(b)-i >= len(word) && string(b[i:i+len(word)]) == word
}

// scanString reads the string token whose opening quote is at b[i] and
// returns its contents' span and the index after its closing quote. The
// span is plain when there are no escapes (the caller checks UTF-8 when it
// needs to). It skips eight bytes at a time while none of them is a quote,
// a backslash or a control character.
func scanString(b []byte, i int) (span, int, bool) {
	i++ // the opening quote
	s := span{start: i, plain: true, set: true}
	for {
		// Find the first quote, backslash or control character, eight bytes
		// at a time: the lowest flagged byte of the masks is exact.
		for i+8 <= len(b) {
			w := binary.LittleEndian.Uint64(b[i:])
			if mask := hasZeroByte(w^('"'*ones)) | hasZeroByte(w^('\\'*ones)) | hasByteBelow(w, 0x20); mask != 0 {
				i += bits.TrailingZeros64(mask) / 8
				goto special
			}
			i += 8
		}
		for i < len(b) && b[i] != '"' && b[i] != '\\' && b[i] >= 0x20 {
			i++
		}
		if i >= len(b) {
			return s, i, false
		}
	special:
		switch b[i] {
		case '"':
			s.end = i
			return s, i + 1, true
		case '\\':
			s.plain = false
			n := escapeLen(b, i)
			if n == 0 {
				return s, i, false
			}
			i += n
		default: // a control character
			return s, i, false
		}
	}
}

// Eight-bytes-at-a-time tests: each is non-zero exactly when some byte of w
// is zero, or below n (n ≤ 0x80), respectively.
const (
	ones = 0x0101010101010101
	high = 0x8080808080808080
)

func hasZeroByte(w uint64) uint64          { return (w - ones) &^ w & high }
func hasByteBelow(w uint64, n byte) uint64 { return (w - uint64(n)*ones) &^ w & high }

// escapeLen returns the length of the valid escape sequence at b[i] (a
// backslash), or 0.
func escapeLen(b []byte, i int) int {
	if i+1 >= len(b) {
		return 0
	}
	switch b[i+1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return 2
	case 'u':
		if i+6 > len(b) {
			return 0
		}
		for _, h := range b[i+2 : i+6] {
			if hexValue(h) < 0 {
				return 0
			}
		}
		return 6
	}
	return 0
}

// scanNumber reads -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? at b[i]
// and returns the index after it.
func scanNumber(b []byte, i int) (int, bool) {
	if b[i] == '-' {
		i++
	}
	switch {
	case i >= len(b):
		return i, false
	case b[i] == '0':
		i++
	case '1' <= b[i] && b[i] <= '9':
		i = skipDigits(b, i)
	default:
		return i, false
	}
	if i < len(b) && b[i] == '.' {
		j := skipDigits(b, i+1)
		if j == i+1 {
			return j, false
		}
		i = j
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := skipDigits(b, i)
		if j == i {
			return j, false
		}
		i = j
	}
	return i, true
}

func skipDigits(b []byte, i int) int {
	for i < len(b) && '0' <= b[i] && b[i] <= '9' {
		i++
	}
	return i
}

// matchField matches a key against the names of the top object's fields (or
// the links object's) as encoding/json matches struct fields: exactly, else
// case-insensitively (Unicode simple folding, as bytes.EqualFold).
func matchField(b []byte, key span, links bool) field {
	// A key without escapes is compared as it is: an invalid UTF-8 byte,
	// which encoding/json would turn into U+FFFD, matches no ASCII letter
	// either way.
	raw := b[key.start:key.end]
	if !key.plain {
		// Only a short key can spell a field's name: each of its at most 11
		// characters takes at most 6 bytes escaped. The buffer holds any
		// expansion of such a key.
		if len(raw) > 6*len("eventTypeId") {
			return fieldNone
		}
		var buf [256]byte
		raw = unquote(buf[:0], raw)
	}
	if !links {
		switch string(raw) { // the usual spelling first
		case "eventTypeId":
			return fieldEventType
		case "eventId":
			return fieldEventID
		case "links":
			return fieldLinks
		}
		switch {
		case bytes.EqualFold(raw, []byte("eventTypeId")):
			return fieldEventType
		case bytes.EqualFold(raw, []byte("eventId")):
			return fieldEventID
		case bytes.EqualFold(raw, []byte("links")):
			return fieldLinks
		}
		return fieldNone
	}
	switch string(raw) {
	case "event":
		return fieldEvent
	case "eventEntity":
		return fieldEventEntity
	}
	switch {
	case bytes.EqualFold(raw, []byte("event")):
		return fieldEvent
	case bytes.EqualFold(raw, []byte("eventEntity")):
		return fieldEventEntity
	}
	return fieldNone
}

func hexValue(c byte) rune {
	switch {
	case '0' <= c && c <= '9':
		return rune(c - '0')
	case 'a' <= c && c <= 'f':
		return rune(c - 'a' + 10)
	case 'A' <= c && c <= 'F':
		return rune(c - 'A' + 10)
	}
	return -1
}

// u4 decodes the four hex digits after "\u" at s[0:6], or returns -1.
func u4(s []byte) rune {
	if len(s) < 6 || s[0] != '\\' || s[1] != 'u' {
		return -1
	}
	var r rune
	for _, c := range s[2:6] {
		h := hexValue(c)
		if h < 0 {
			return -1
		}
		r = r<<4 | h
	}
	return r
}

// unquote appends the decoded contents of a valid JSON string (without its
// quotes) to dst, as encoding/json decodes them: invalid UTF-8 and lone
// surrogates become U+FFFD.
func unquote(dst, raw []byte) []byte {
	for i := 0; i < len(raw); {
		c := raw[i]
		switch {
		case c == '\\':
			switch raw[i+1] {
			case 'b':
				dst = append(dst, '\b')
			case 'f':
				dst = append(dst, '\f')
			case 'n':
				dst = append(dst, '\n')
			case 'r':
				dst = append(dst, '\r')
			case 't':
				dst = append(dst, '\t')
			case 'u':
				r := u4(raw[i:])
				i += 6
				if utf16.IsSurrogate(r) {
					if r2 := u4(raw[i:]); r2 >= 0 {
						if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
							dst = utf8.AppendRune(dst, dec)
							i += 6
							continue
						}
					}
					r = utf8.RuneError
				}
				dst = utf8.AppendRune(dst, r)
				continue
			default: // '"', '\\', '/'
				dst = append(dst, raw[i+1])
			}
			i += 2
		case c < utf8.RuneSelf:
			dst = append(dst, c)
			i++
		default:
			r, n := utf8.DecodeRune(raw[i:])
			dst = utf8.AppendRune(dst, r) // RuneError for an invalid byte
			i += n
		}
	}
	return dst
}
