package basiq

import (
	"net/url"
	"strings"
	"unicode"
)

// The one filter builder: every server-side filter (?filter=...) is rendered
// here. Basiq's grammar: statements joined by commas and
// ANDed, each prop.op('value'[,'value']), values single-quoted.

// filterOp is one of Basiq's filter operators.
type filterOp string

const (
	opEq   filterOp = "eq"
	opNe   filterOp = "ne"
	opGt   filterOp = "gt"
	opGteq filterOp = "gteq"
	opLt   filterOp = "lt"
	opLteq filterOp = "lteq"
	opBt   filterOp = "bt" // between, inclusive: two values
	opIn   filterOp = "in" // one of: one or more values
)

// arity is how many values op takes (0: one or more).
func (op filterOp) arity() int {
	switch op {
	case opBt:
		return 2
	case opIn:
		return 0
	}
	return 1
}

// checkFilterValue refuses values that could not travel inside single quotes
// without changing the statement: empty values, quotes, backslashes (Basiq
// documents no escaping), commas (its statement separator) and control
// characters.
func checkFilterValue(prop, v string) error {
	if v == "" {
		return invalidInput("filter value for %s is empty", prop)
	}
	for _, r := range v {
		if r == '\'' || r == '\\' || r == ',' || unicode.IsControl(r) {
			return invalidInput("filter value for %s contains a quote, backslash, comma or control character", prop)
		}
	}
	return nil
}

// filterStatement renders prop.op('v1'[,'v2'...]) after checking the values.
func filterStatement(prop string, op filterOp, values ...string) (string, error) {
	if n := op.arity(); (n > 0 && len(values) != n) || len(values) == 0 {
		return "", invalidInput("filter %s.%s takes %d values, got %d", prop, op, max(n, 1), len(values))
	}
	var b strings.Builder
	b.WriteString(prop)
	b.WriteByte('.')
	b.WriteString(string(op))
	b.WriteByte('(')
	for i, v := range values {
		if err := checkFilterValue(prop, v); err != nil {
			return "", err
		}
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('\'')
		b.WriteString(v)
		b.WriteByte('\'')
	}
	b.WriteByte(')')
	return b.String(), nil
}

// filterExpr renders one filter statement: prop.eq('v') for one value,
// prop.in('a','b') for several, "" for none.
func filterExpr(prop string, values []string) (string, error) {
	switch len(values) {
	case 0:
		return "", nil
	case 1:
		return filterStatement(prop, opEq, values[0])
	}
	return filterStatement(prop, opIn, values...)
}

// filterQuery joins statements (skipping empty ones) into a filter query.
func filterQuery(statements ...string) url.Values {
	var parts []string
	for _, s := range statements {
		if s != "" {
			parts = append(parts, s)
		}
	}
	if len(parts) == 0 {
		return nil
	}
	return url.Values{"filter": {strings.Join(parts, ",")}}
}

// filterField is a property and the values to match (eq for one, in for
// several, nothing for none).
type filterField struct {
	prop   string
	values []string
}

// buildFilter renders the statements of fields, skipping those without values.
func buildFilter(fields []filterField) ([]string, error) {
	var out []string
	for _, f := range fields {
		expr, err := filterExpr(f.prop, f.values)
		if err != nil {
			return nil, err
		}
		if expr != "" {
			out = append(out, expr)
		}
	}
	return out, nil
}

// eqFields renders prop.eq('value') for each non-empty value, in order.
func eqFields(pairs ...[2]string) ([]string, error) {
	var out []string
	for _, p := range pairs {
		if p[1] == "" {
			continue
		}
		s, err := filterStatement(p[0], opEq, p[1])
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}
