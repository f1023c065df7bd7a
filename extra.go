package basiq

import (
	"bytes"
	"encoding/json"
	"strconv"
)

// Unknown members. Types that keep what they do not decode (Account,
// Transaction) describe their wire form as a shape; after encoding/json has
// decoded the known members (and accepted the JSON as valid), walkExtra
// passes once over the same bytes and copies every member the shape does not
// name, or whose JSON type the decoded field cannot hold, into an Extra map
// keyed by its dotted path ("enrich.merchant.category", "purses[1].note").
// Nothing is copied when everything is known, which is the usual case, so a
// page of items costs one extra pass over its bytes and no memory.

// shapeKind is what a member's decoded field accepts.
type shapeKind uint8

const (
	shapeString shapeKind = iota // a string or null
	shapeText                    // a string, number, boolean or null (decoded as text)
	shapeBool                    // true, false or null
	shapeObject                  // an object (members checked against fields) or null
	shapeArray                   // an array (elements checked against elem) or null
	shapeRaw                     // anything: the field keeps the raw JSON
)

// shape describes the JSON a type decodes. Shapes are built once by
// newShape and never modified.
type shape struct {
	kind   shapeKind
	fields map[string]*shape // shapeObject
	elem   *shape            // shapeArray
	path   string            // dotted path of this member, for Extra keys ("" at the root)
}

// leaf shapes, shared by every object shape.
func leaf(k shapeKind) *shape { return &shape{kind: k} }

func objectShape(fields map[string]*shape) *shape { return &shape{kind: shapeObject, fields: fields} }

func arrayShape(elem *shape) *shape { return &shape{kind: shapeArray, elem: elem} }

// newShape returns root with every node's path filled in. Each node must
// appear once in the tree (leaves may be shared: their path is not used).
func newShape(root *shape) *shape {
	var fill func(s *shape, path string)
	fill = func(s *shape, path string) {
		switch s.kind {
		case shapeObject:
			s.path = path
			for k, f := range s.fields {
				if f.kind == shapeObject || f.kind == shapeArray {
					fill(f, path+k+".")
				}
			}
		case shapeArray:
			s.path = path
			if s.elem != nil && (s.elem.kind == shapeObject || s.elem.kind == shapeArray) {
				fill(s.elem, "")
			}
		}
	}
	fill(root, "")
	return root
}

// accepts reports whether a value starting with c fits the member's field.
func (s *shape) accepts(c byte) bool {
	if c == 'n' || s.kind == shapeRaw {
		return true
	}
	switch s.kind {
	case shapeString:
		return c == '"'
	case shapeText:
		return c != '{' && c != '['
	case shapeBool:
		return c == 't' || c == 'f'
	case shapeObject:
		return c == '{'
	case shapeArray:
		return c == '['
	}
	return false
}

// extraMembers collects unknown members; a nil map until the first one.
type extraMembers map[string]json.RawMessage

func (e *extraMembers) add(key string, raw []byte) {
	if *e == nil {
		*e = extraMembers{}
	}
	(*e)[key] = append(json.RawMessage(nil), raw...) // a copy: the body is not kept alive
}

// jsonWalk steps through JSON text that encoding/json has already accepted.
// It never panics on other input: it stops and reports false.
type jsonWalk struct {
	b []byte
	i int
}

func (w *jsonWalk) space() {
	for w.i < len(w.b) {
		switch w.b[w.i] {
		case ' ', '\t', '\n', '\r':
			w.i++
		default:
			return
		}
	}
}

// peek returns the next byte after white space, or 0 at the end.
func (w *jsonWalk) peek() byte {
	w.space()
	if w.i >= len(w.b) {
		return 0
	}
	return w.b[w.i]
}

// str steps over a string starting at w.i and returns its raw contents.
func (w *jsonWalk) str() ([]byte, bool) {
	if w.i >= len(w.b) || w.b[w.i] != '"' {
		return nil, false
	}
	start := w.i + 1
	j := start
	for {
		k := bytes.IndexByte(w.b[j:], '"')
		if k < 0 {
			return nil, false
		}
		j += k
		// A quote preceded by an odd number of backslashes is escaped.
		n := 0
		for p := j - 1; p >= start && w.b[p] == '\\'; p-- {
			n++
		}
		if n%2 == 0 {
			w.i = j + 1
			return w.b[start:j], true
		}
		j++
	}
}

// skip steps over one value starting at w.i; it fails, without moving, at
// anything that cannot start a value.
func (w *jsonWalk) skip() bool {
	switch w.peek() {
	case 0, ',', ':', '}', ']':
		return false
	}
	depth := 0
	for w.i < len(w.b) {
		switch c := w.b[w.i]; c {
		case '"':
			if _, ok := w.str(); !ok {
				return false
			}
			if depth == 0 {
				return true
			}
			continue
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				return true // the end of a literal, right before its container's end
			}
			depth--
			if depth == 0 {
				w.i++
				return true
			}
		case ',', ':', ' ', '\t', '\n', '\r':
			if depth == 0 {
				return true // the end of a literal
			}
		}
		w.i++
	}
	return depth == 0
}

// object walks the object at w.i against s, adding unknown members to extra
// under prefix (the dotted path of the object's members). static says the
// object sits at s.path (not inside an array), so that known object members
// take their precomputed paths. It reports false when the input is not well
// formed.
func (w *jsonWalk) object(s *shape, prefix string, static bool, extra *extraMembers) bool {
	if w.peek() != '{' {
		return false
	}
	w.i++
	for {
		switch w.peek() {
		case '}':
			w.i++
			return true
		case ',':
			w.i++
			continue
		case '"':
		default:
			return false
		}
		rawKey, ok := w.str()
		if !ok || w.peek() != ':' {
			return false
		}
		w.i++
		c := w.peek()
		start := w.i
		f := s.fields[string(rawKey)]
		if f == nil && bytes.IndexByte(rawKey, '\\') >= 0 {
			f = s.fields[unescapeKey(rawKey)]
		}
		if f != nil && f.accepts(c) {
			var ok bool
			switch {
			case c == '{' && f.kind == shapeObject:
				if static {
					ok = w.object(f, f.path, true, extra)
				} else {
					ok = w.object(f, prefix+memberName(rawKey)+".", false, extra)
				}
			case c == '[' && f.kind == shapeArray && f.elem != nil:
				ok = w.array(f.elem, prefix+memberName(rawKey), extra)
			default:
				ok = w.skip()
			}
			if !ok {
				return false
			}
			continue
		}
		if !w.skip() {
			return false
		}
		extra.add(prefix+memberName(rawKey), w.b[start:w.i])
	}
}

// array walks an array whose elements should fit elem; objects are walked
// with prefix[i]. as their prefix, and elements that do not fit go to extra
// whole, as prefix[i]. The prefix is built only when needed.
func (w *jsonWalk) array(elem *shape, prefix string, extra *extraMembers) bool {
	w.i++ // '['
	for n := 0; ; n++ {
		c := w.peek()
		for c == ',' {
			w.i++
			c = w.peek()
		}
		switch {
		case c == ']':
			w.i++
			return true
		case c == 0:
			return false
		case c == '{' && elem.kind == shapeObject:
			if !w.object(elem, prefix+"["+strconv.Itoa(n)+"].", false, extra) {
				return false
			}
		default:
			start := w.i
			if !w.skip() {
				return false
			}
			if !elem.accepts(c) {
				extra.add(prefix+"["+strconv.Itoa(n)+"]", w.b[start:w.i])
			}
		}
	}
}

// memberName is a member's name, unescaped.
func memberName(rawKey []byte) string {
	if bytes.IndexByte(rawKey, '\\') >= 0 {
		return unescapeKey(rawKey)
	}
	return string(rawKey)
}

// unescapeKey decodes a member name written with escapes.
func unescapeKey(raw []byte) string {
	var s string
	quoted := make([]byte, 0, len(raw)+2)
	quoted = append(append(append(quoted, '"'), raw...), '"')
	if json.Unmarshal(quoted, &s) != nil {
		return string(raw)
	}
	return s
}

// walkObject collects the unknown members of the object in b against s.
// It reports false when b is not an object.
func walkObject(b []byte, s *shape) (extraMembers, bool) {
	var extra extraMembers
	w := jsonWalk{b: b}
	if !w.object(s, "", true, &extra) {
		return nil, false
	}
	return extra, true
}

// walkList walks a list page {"data":[item, ...], ...}: item(i, extra) is
// called for each element that is an object, bad(i) for each that is not.
// It reports false when the page is not an object with a data array.
func walkList(b []byte, s *shape, item func(i int, extra extraMembers), bad func(i int)) bool {
	w := jsonWalk{b: b}
	if w.peek() != '{' {
		return false
	}
	w.i++
	sawData := false
	for {
		switch w.peek() {
		case '}':
			return sawData
		case ',':
			w.i++
			continue
		case '"':
		default:
			return false
		}
		key, ok := w.str()
		if !ok || w.peek() != ':' {
			return false
		}
		w.i++
		if string(key) != "data" {
			if !w.skip() {
				return false
			}
			continue
		}
		if w.peek() != '[' {
			return false
		}
		sawData = true
		w.i++
		for n := 0; ; {
			c := w.peek()
			if c == ']' {
				w.i++
				break
			}
			if c == ',' {
				w.i++
				continue
			}
			if c == '{' {
				var extra extraMembers
				if !w.object(s, "", true, &extra) {
					return false
				}
				item(n, extra)
			} else {
				if !w.skip() {
					return false
				}
				bad(n)
			}
			n++
		}
	}
}
