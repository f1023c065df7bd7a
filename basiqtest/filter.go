package basiqtest

import (
	"slices"
	"strings"
	"time"
)

// clause is one statement of a Basiq filter: field.op('v1'[,'v2'…]).
type clause struct {
	field  string
	op     string
	values []string
}

// parseFilter parses Basiq's filter grammar (?filter=prop.op('v'),...): statements
// separated by commas, each a dotted property, an operator and single-quoted
// values in parentheses, e.g. institution.stage.eq('live'),institution.tier.in('1','2').
func parseFilter(s string) ([]clause, bool) { return parseFilterMode(s, false) }

// parseFilterMode is parseFilter; lenient also takes values double-quoted
// or bare (user.id.eq(6a1c…)), as Basiq's spec writes the /events filters.
// A bare value runs to the next comma or closing parenthesis and may not be
// empty.
func parseFilterMode(s string, lenient bool) ([]clause, bool) {
	var out []clause
	rest := strings.TrimSpace(s)
	for {
		open := strings.IndexByte(rest, '(')
		if open < 0 {
			return nil, false
		}
		head := strings.TrimSpace(rest[:open])
		dot := strings.LastIndexByte(head, '.')
		if dot <= 0 || dot == len(head)-1 {
			return nil, false
		}
		values, after, ok := parseValues(rest[open+1:], lenient)
		if !ok {
			return nil, false
		}
		out = append(out, clause{field: head[:dot], op: head[dot+1:], values: values})
		rest = strings.TrimSpace(after)
		if rest == "" {
			return out, true
		}
		if rest[0] != ',' {
			return nil, false
		}
		rest = strings.TrimSpace(rest[1:])
	}
}

// parseValues reads 'a','b') and returns the values and what follows ')'.
// lenient also takes "a" and bare a.
func parseValues(s string, lenient bool) ([]string, string, bool) {
	var values []string
	for {
		s = strings.TrimSpace(s)
		if s == "" {
			return nil, "", false
		}
		switch q := s[0]; {
		case q == '\'' || lenient && q == '"':
			end := strings.IndexByte(s[1:], q)
			if end < 0 {
				return nil, "", false
			}
			values = append(values, s[1:1+end])
			s = strings.TrimSpace(s[end+2:])
		case lenient:
			end := strings.IndexAny(s, ",)")
			if end < 0 {
				return nil, "", false
			}
			v := strings.TrimSpace(s[:end])
			if v == "" || strings.ContainsAny(v, "'\"(") {
				return nil, "", false
			}
			values = append(values, v)
			s = s[end:]
		default:
			return nil, "", false
		}
		switch {
		case strings.HasPrefix(s, ")"):
			return values, s[1:], true
		case strings.HasPrefix(s, ","):
			s = s[1:]
		default:
			return nil, "", false
		}
	}
}

// compileFilter turns a raw filter into a predicate over T, given the
// filterable fields. Operators are eq, ne (one value) and in (one or more).
// An empty filter keeps everything; an invalid one, or one naming an unknown
// field or operator, is reported as not ok.
func compileFilter[T any](raw string, fields map[string]func(T) string) (func(T) bool, bool) {
	return compileFilterCanon(raw, fields, nil)
}

// compileFilterCanon is compileFilter where the filter's values for the
// fields in canon are first put in canonical form (the form the field
// functions return), so that several spellings of a value match.
func compileFilterCanon[T any](raw string, fields map[string]func(T) string, canon map[string]func(string) string) (func(T) bool, bool) {
	if strings.TrimSpace(raw) == "" {
		return func(T) bool { return true }, true
	}
	clauses, ok := parseFilter(raw)
	if !ok {
		return nil, false
	}
	for _, cl := range clauses {
		if fields[cl.field] == nil {
			return nil, false
		}
		switch cl.op {
		case "eq", "ne":
			if len(cl.values) != 1 {
				return nil, false
			}
		case "in":
		default:
			return nil, false
		}
	}
	for i, cl := range clauses {
		if f := canon[cl.field]; f != nil {
			for k, v := range cl.values {
				clauses[i].values[k] = f(v)
			}
		}
	}
	return func(v T) bool {
		for _, cl := range clauses {
			got := fields[cl.field](v)
			switch cl.op {
			case "eq", "in":
				if !slices.Contains(cl.values, got) {
					return false
				}
			case "ne":
				if got == cl.values[0] {
					return false
				}
			}
		}
		return true
	}, true
}

// fieldFilter is one filterable property: the operators it takes and how to
// read it, as text (compared for equality), as a test of a value (match,
// for properties that take several spellings), or as a day (ordered; a
// false second result, such as a pending transaction's missing post date,
// matches no comparison). eq, ne and in work on text and match.
type fieldFilter[T any] struct {
	ops   []string
	text  func(T) string
	match func(x T, value string) bool
	day   func(T) (time.Time, bool)
}

// compileFieldFilter turns a raw filter into a predicate over T. Operators
// are eq and ne (one value), in (one or more, on text fields), gt, gteq, lt
// and lteq (one value, ordered fields only) and bt (two values, inclusive),
// as each field allows. An empty filter keeps everything; an invalid one, or
// one naming an unknown field, an operator the field does not take or a
// value that is not a date for a date field, is reported as not ok.
func compileFieldFilter[T any](raw string, fields map[string]fieldFilter[T]) (func(T) bool, bool) {
	return compileFieldFilterMode(raw, fields, false)
}

// compileLenientFieldFilter is compileFieldFilter where values may also be
// double-quoted or bare.
func compileLenientFieldFilter[T any](raw string, fields map[string]fieldFilter[T]) (func(T) bool, bool) {
	return compileFieldFilterMode(raw, fields, true)
}

func compileFieldFilterMode[T any](raw string, fields map[string]fieldFilter[T], lenient bool) (func(T) bool, bool) {
	if strings.TrimSpace(raw) == "" {
		return func(T) bool { return true }, true
	}
	clauses, ok := parseFilterMode(raw, lenient)
	if !ok {
		return nil, false
	}
	type test func(T) bool
	var tests []test
	for _, cl := range clauses {
		f, known := fields[cl.field]
		if !known || !slices.Contains(f.ops, cl.op) {
			return nil, false
		}
		switch cl.op {
		case "in":
		case "bt":
			if len(cl.values) != 2 {
				return nil, false
			}
		default:
			if len(cl.values) != 1 {
				return nil, false
			}
		}
		if f.day == nil {
			tests = append(tests, textTest(f, cl))
			continue
		}
		var days []time.Time
		for _, v := range cl.values {
			d, ok := parseDay(v)
			if !ok {
				return nil, false
			}
			days = append(days, d)
		}
		get, op := f.day, cl.op
		tests = append(tests, func(x T) bool {
			d, ok := get(x)
			if !ok {
				return false
			}
			switch op {
			case "eq":
				return d.Equal(days[0])
			case "ne":
				return !d.Equal(days[0])
			case "gt":
				return d.After(days[0])
			case "gteq":
				return !d.Before(days[0])
			case "lt":
				return d.Before(days[0])
			case "lteq":
				return !d.After(days[0])
			default: // bt, inclusive
				return !d.Before(days[0]) && !d.After(days[1])
			}
		})
	}
	return func(x T) bool {
		for _, t := range tests {
			if !t(x) {
				return false
			}
		}
		return true
	}, true
}

// textTest is the test of an eq, ne or in clause on a text field.
func textTest[T any](f fieldFilter[T], cl clause) func(T) bool {
	match := f.match
	if match == nil {
		get := f.text
		match = func(x T, v string) bool { return get(x) == v }
	}
	values, neg := cl.values, cl.op == "ne"
	return func(x T) bool {
		return slices.ContainsFunc(values, func(v string) bool { return match(x, v) }) != neg
	}
}

// parseDay reads a filter's date, "2018-01-01" or a timestamp, as its UTC day.
func parseDay(v string) (time.Time, bool) {
	if d, err := time.Parse(dateLayout, v); err == nil {
		return d, true
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return dayOf(t), true
	}
	return time.Time{}, false
}
