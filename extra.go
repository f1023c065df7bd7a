package basiq

import (
	"bytes"
	"encoding/json"
	"errors"
	"hash"
	"hash/fnv"
	"strconv"
)

// Unknown members. Types that keep what they do not decode (Account,
// Transaction) describe their wire form as a shape; encoding/json decodes
// the known members into plain wire structs, and a walk over the same bytes
// (walkObject for one object, scanListPage for a page of them) copies every
// member the shape does not name, or whose JSON type the decoded field
// cannot hold, into an Extra map keyed by its dotted path
// ("enrich.merchant.category", "purses[1].note"). Nothing is copied when
// everything is known, which is the usual case, so a page costs one extra
// pass over its bytes and no memory. The page walk also finds where the
// items are, fingerprints their ids and checks the page's frame, so that
// items can be decoded one at a time as they are yielded.

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
// take their precomputed paths. When id is not nil, the raw value of an
// "id" member is put there. It reports false when the input is not well
// formed.
func (w *jsonWalk) object(s *shape, prefix string, static bool, extra *extraMembers, id *[]byte) bool {
	if w.peek() != '{' {
		return false
	}
	w.i++
	if w.peek() == '}' {
		w.i++
		return true
	}
	for {
		if w.peek() != '"' {
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
		switch {
		case f != nil && f.accepts(c):
			var ok bool
			switch {
			case c == '{' && f.kind == shapeObject:
				if static {
					ok = w.object(f, f.path, true, extra, nil)
				} else {
					ok = w.object(f, prefix+memberName(rawKey)+".", false, extra, nil)
				}
			case c == '[' && f.kind == shapeArray && f.elem != nil:
				ok = w.array(f.elem, prefix+memberName(rawKey), extra)
			default:
				ok = w.skip()
			}
			if !ok {
				return false
			}
			if id != nil && string(rawKey) == "id" {
				*id = w.b[start:w.i]
			}
		case !w.skip():
			return false
		default:
			extra.add(prefix+memberName(rawKey), w.b[start:w.i])
		}
		switch w.peek() {
		case ',':
			w.i++
		case '}':
			w.i++
			return true
		default:
			return false
		}
	}
}

// array walks an array whose elements should fit elem; objects are walked
// with prefix[i]. as their prefix, and elements that do not fit go to extra
// whole, as prefix[i]. The prefix is built only when needed.
func (w *jsonWalk) array(elem *shape, prefix string, extra *extraMembers) bool {
	w.i++ // '['
	if w.peek() == ']' {
		w.i++
		return true
	}
	for n := 0; ; n++ {
		c := w.peek()
		switch {
		case c == '{' && elem.kind == shapeObject:
			if !w.object(elem, prefix+"["+strconv.Itoa(n)+"].", false, extra, nil) {
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
		switch w.peek() {
		case ',':
			w.i++
		case ']':
			w.i++
			return true
		default:
			return false
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
	if !w.object(s, "", true, &extra, nil) || w.peek() != 0 {
		return nil, false
	}
	return extra, true
}

// pageItem is one member of a list page's data array: what its shape does
// not know, and whether it is an object at all.
type pageItem struct {
	extra     extraMembers
	notObject bool
}

// scannedPage is a list page as scanListPage finds it.
type scannedPage struct {
	items []pageItem
	data  []byte // the raw data array
	links []byte // the raw links member, if any
	keys  uint64 // a fingerprint of the items' ids, in order
}

// scanListPage walks a list page {"data":[item, ...], "links":{...}, ...}
// in one pass: the place of each item (decoded later, one at a time), the
// unknown members of each against s, the links member and a fingerprint
// of the ids. It fails when the page is not an object with a data array,
// or is not well formed outside its items; an item that is not well formed
// is found when it is decoded.
func scanListPage(b []byte, s *shape) (scannedPage, error) {
	var pg scannedPage
	bad := errors.New("the page is not a list with a data array")
	w := jsonWalk{b: b}
	if w.peek() != '{' {
		return pg, bad
	}
	w.i++
	h := fnv.New64a()
	sawData := false
	for first := true; ; first = false {
		c := w.peek()
		if c == '}' && first {
			break
		}
		if c != '"' {
			return pg, bad
		}
		key, ok := w.str()
		if !ok || w.peek() != ':' {
			return pg, bad
		}
		w.i++
		switch {
		case string(key) == "data" && w.peek() == '[':
			sawData = true
			start := w.i
			if !w.items(s, &pg, h) {
				return pg, bad
			}
			pg.data = w.b[start:w.i]
		default:
			start := w.i
			if !w.skip() || !json.Valid(w.b[start:w.i]) {
				return pg, bad
			}
			if string(key) == "links" {
				pg.links = w.b[start:w.i]
			}
			if string(key) == "data" {
				return pg, bad
			}
		}
		if w.peek() == ',' {
			w.i++
			continue
		}
		if w.peek() != '}' {
			return pg, bad
		}
		break
	}
	w.i++
	if !sawData || w.peek() != 0 {
		return pg, bad
	}
	pg.keys = h.Sum64()
	return pg, nil
}

// items walks the data array, recording each item.
func (w *jsonWalk) items(s *shape, pg *scannedPage, h hash.Hash64) bool {
	w.i++ // '['
	if w.peek() == ']' {
		w.i++
		return true
	}
	var sep [1]byte
	for {
		start := w.i
		var it pageItem
		if w.peek() == '{' {
			var id []byte
			if !w.object(s, "", true, &it.extra, &id) {
				// Not well formed: the item's own decoding reports where.
				w.i, it.extra, id = start, nil, nil
				if !w.skip() {
					return false
				}
			}
			_, _ = h.Write(id)
		} else {
			it.notObject = true
			if !w.skip() {
				return false
			}
		}
		_, _ = h.Write(sep[:])
		pg.items = append(pg.items, it)
		switch w.peek() {
		case ',':
			w.i++
		case ']':
			w.i++
			return true
		default:
			return false
		}
	}
}
