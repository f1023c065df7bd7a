package basiq

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Lenient decoding helpers: Basiq's sources disagree on some shapes
// (detail or details, numbers as strings, null lists), so decoding never
// fails on a field's form.

// lenientTime decodes an RFC 3339 (or similar) timestamp; anything else is zero.
type lenientTime time.Time

func (t *lenientTime) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) != nil {
		*t = lenientTime{}
		return nil
	}
	*t = lenientTime(parseTime(s))
	return nil
}

func parseTime(s string) time.Time {
	s = strings.TrimSpace(s)
	for _, layout := range [...]string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t
		}
	}
	return time.Time{}
}

// lenientString decodes a string, a number or a bool as text; null and
// objects are "".
type lenientString string

func (s *lenientString) UnmarshalJSON(b []byte) error {
	if str, ok := plainString(b); ok {
		*s = lenientString(str)
		return nil
	}
	b = bytes.TrimSpace(b)
	var str string
	if json.Unmarshal(b, &str) == nil {
		*s = lenientString(str)
		return nil
	}
	if len(b) > 0 && (b[0] == '-' || (b[0] >= '0' && b[0] <= '9') || b[0] == 't' || b[0] == 'f') {
		*s = lenientString(b)
		return nil
	}
	*s = ""
	return nil
}

// plainString decodes a JSON string without escapes or non-ASCII bytes,
// the usual case, without the general decoder.
func plainString(b []byte) (string, bool) {
	n := len(b)
	if n < 2 || b[0] != '"' || b[n-1] != '"' {
		return "", false
	}
	for _, c := range b[1 : n-1] {
		if c == '\\' || c == '"' || c < ' ' || c >= utf8.RuneSelf {
			return "", false
		}
	}
	return string(b[1 : n-1]), true
}

// isJSONNull reports whether b is the JSON literal null.
func isJSONNull(b []byte) bool { return string(bytes.TrimSpace(b)) == "null" }

// isTypeError reports an error of encoding/json that left one member
// undecoded (a JSON type its field cannot hold) but decoded the rest.
// memberTypeError reports an error that only says some member had a JSON
// type its field cannot hold: encoding/json decodes everything else and
// leaves that field empty, which is how the SDK reads the shapes Basiq's
// sources disagree on. A document of the wrong type as a whole (an array
// where an object belongs) is not one.
func memberTypeError(err error) bool {
	var te *json.UnmarshalTypeError
	return errors.As(err, &te) && te.Field != ""
}

func isTypeError(err error) bool {
	var te *json.UnmarshalTypeError
	return errors.As(err, &te)
}

// lenientInt decodes a number or a numeric string; anything else is 0.
type lenientInt int64

func (n *lenientInt) UnmarshalJSON(b []byte) error {
	var f float64
	if json.Unmarshal(b, &f) == nil {
		*n = lenientInt(f)
		return nil
	}
	var s string
	if json.Unmarshal(b, &s) == nil {
		if v, err := strconv.ParseFloat(strings.TrimSpace(s), 64); err == nil {
			*n = lenientInt(v)
			return nil
		}
	}
	*n = 0
	return nil
}

// lenientBool decodes true/false or "true"/"false"; anything else is false.
type lenientBool bool

func (v *lenientBool) UnmarshalJSON(b []byte) error {
	var x bool
	if json.Unmarshal(b, &x) == nil {
		*v = lenientBool(x)
		return nil
	}
	var s string
	_ = json.Unmarshal(b, &s)
	*v = lenientBool(strings.EqualFold(s, "true"))
	return nil
}

// lenientStrings decodes an array of strings (numbers and bools as text, null
// and other shapes skipped), or a single string as one element.
type lenientStrings []string

func (l *lenientStrings) UnmarshalJSON(b []byte) error {
	var items []lenientString
	if json.Unmarshal(b, &items) != nil {
		var one lenientString
		_ = json.Unmarshal(b, &one)
		items = []lenientString{one}
	}
	var out []string
	for _, s := range items {
		if s != "" {
			out = append(out, string(s))
		}
	}
	*l = out
	return nil
}

// lenientSlice decodes an array whose elements decode leniently themselves;
// anything but an array is an empty slice.
type lenientSlice[T any] []T

func (l *lenientSlice[T]) UnmarshalJSON(b []byte) error {
	var items []T
	if json.Unmarshal(b, &items) != nil {
		items = nil
	}
	*l = items
	return nil
}

// lenientList decodes an array, or a lone object as a list of one (Basiq's
// webhook list example has "data" as one object).
type lenientList[T any] []T

func (l *lenientList[T]) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '{' {
		var one T
		if err := json.Unmarshal(b, &one); err != nil {
			return err
		}
		*l = []T{one}
		return nil
	}
	var items []T
	if err := json.Unmarshal(b, &items); err != nil {
		return err
	}
	*l = items
	return nil
}

// links decodes a resource's links: an object, or (as one of Basiq's event
// examples has it) an array of objects, merged; anything else is empty.
type links struct {
	Self lenientString `json:"self"`
}

func (l *links) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	*l = links{}
	if len(b) > 0 && b[0] == '[' {
		var items []links
		_ = json.Unmarshal(b, &items)
		for _, it := range items {
			if l.Self == "" {
				l.Self = it.Self
			}
		}
		return nil
	}
	var one struct {
		Self lenientString `json:"self"`
	}
	_ = json.Unmarshal(b, &one)
	l.Self = one.Self
	return nil
}

// listOf decodes Basiq's {"type":"list","data":[...]} collections.
type listOf[T any] struct {
	Data []T `json:"data"`
}

// listData decodes either {"data":[...]} or a bare array.
type listData[T any] []T

func (l *listData[T]) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '[' {
		var items []T
		if err := json.Unmarshal(b, &items); err != nil {
			return err
		}
		*l = items
		return nil
	}
	var wrapped listOf[T]
	if len(b) > 0 && b[0] == '{' {
		if err := json.Unmarshal(b, &wrapped); err != nil {
			return err
		}
	}
	*l = wrapped.Data
	return nil
}

// ResourceRef is a reference to another resource: its type, id and link.
type ResourceRef struct {
	Type string `json:"type"`
	ID   string `json:"id"`
	Self string `json:"-"` // links.self
}

// UnmarshalJSON decodes {"type","id","links":{"self"}}.
func (r *ResourceRef) UnmarshalJSON(b []byte) error {
	var aux struct {
		Type  lenientString `json:"type"`
		ID    lenientString `json:"id"`
		Links links         `json:"links"`
	}
	if err := json.Unmarshal(b, &aux); err != nil && !memberTypeError(err) {
		return nil // a ref of another shape is left empty rather than failing the whole decode
	}
	*r = ResourceRef{Type: string(aux.Type), ID: string(aux.ID), Self: string(aux.Links.Self)}
	return nil
}
