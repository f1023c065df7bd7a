package basiq

import (
	"net/url"
	"slices"
	"strings"
	"unicode"
)

// The one filter builder: every server-side filter (?filter=...) is rendered
// here. Basiq's grammar: statements joined by commas and
// ANDed, each prop.op('value'[,'value']), values single-quoted.

// FilterOp is one of Basiq's filter operators, for a Condition.
type FilterOp string

// Basiq's filter operators. Which a list accepts for which property is
// Basiq's to say; each filter type's Where documents it.
const (
	FilterEq   FilterOp = "eq"
	FilterNe   FilterOp = "ne"
	FilterGt   FilterOp = "gt"
	FilterGteq FilterOp = "gteq"
	FilterLt   FilterOp = "lt"
	FilterLteq FilterOp = "lteq"
	FilterBt   FilterOp = "bt" // between, inclusive: two values
	FilterIn   FilterOp = "in" // one of: one or more values
)

// filterOp is FilterOp (the builder's own name for it).
type filterOp = FilterOp

const (
	opEq   = FilterEq
	opNe   = FilterNe
	opGt   = FilterGt
	opGteq = FilterGteq
	opLt   = FilterLt
	opLteq = FilterLteq
	opBt   = FilterBt
	opIn   = FilterIn
)

// Condition is one statement of a server-side filter beyond what a filter
// type's fields say: Property.Op('Values'...), such as
// {"connector.status", FilterNe, []string{"major-outage"}}. The filter types
// take them in their Where field, ANDed with their other fields; each list
// accepts the properties and operators Basiq documents for it (listed on its
// Where field) and refuses others with ErrInvalidInput, before any request.
// Values may not be empty nor hold quotes, backslashes, commas or control
// characters (Basiq documents no escaping). bt takes two values, in one or
// more, the others one.
type Condition struct {
	Property string
	Op       FilterOp
	Values   []string
}

// filterVocab is what one list's filter accepts: each property and its
// operators.
type filterVocab map[string][]FilterOp

var (
	eqNe       = []FilterOp{FilterEq, FilterNe}
	eqNeIn     = []FilterOp{FilterEq, FilterNe, FilterIn}
	comparison = []FilterOp{FilterEq, FilterNe, FilterGt, FilterGteq, FilterLt, FilterLteq, FilterBt}
)

// The documented filters of each list: the properties the spec files'
// filter parameters name (testdata/basiq-spec), with the operators they
// give, or else Basiq's general grammar's: eq and ne, and every comparison
// for a date; in only where a list's own grammar has it (institutions,
// connectors). Read-only.
var (
	accountVocab = filterVocab{"account.id": eqNe, "connection.id": eqNe, "institution.id": eqNe}
	// Transactions: the statements DATA3 lists (and connection.id, which
	// Basiq's own links use).
	transactionVocab = filterVocab{
		"account.id": eqNe, "connection.id": eqNe, "institution.id": eqNe,
		"transaction.postDate": comparison, "transaction.status": eqNe,
		"transaction.direction": eqNe, "transaction.class": eqNe,
	}
	// A report's transactions: REP's list, which adds transaction.id.
	reportTransactionVocab = filterVocab{
		"account.id": eqNe, "connection.id": eqNe, "institution.id": eqNe, "transaction.id": eqNe,
		"transaction.postDate": comparison, "transaction.status": eqNe,
		"transaction.direction": eqNe, "transaction.class": eqNe,
	}
	connectionVocab = filterVocab{"id": eqNe, "status": eqNe, "institution.id": eqNe}
	// Connectors: DATA3's regular expressions, property by property.
	connectorVocab = filterVocab{
		"connector.id": {FilterEq}, "connector.method": {FilterEq},
		"connector.status": eqNeIn, "connector.stage": eqNeIn, "connector.scopes": eqNeIn,
		"connector.institution.country": eqNeIn, "connector.institution.tier": eqNeIn,
		"connector.institution.type": eqNe, "connector.authorization.type": eqNeIn,
		"connector.connectorEngine": eqNe,
	}
	// Institutions: the 2.1 file's regular expressions (API 2.1).
	institutionVocab = filterVocab{
		"institution.country": eqNeIn, "institution.tier": eqNeIn, "institution.stage": eqNe,
		"institution.authorization": eqNeIn, "institution.serviceType": eqNe, "institution.institutionType": eqNe,
	}
	eventVocab = filterVocab{"user.id": {FilterEq}, "event.entity": {FilterEq}, "event.type": {FilterEq}}
	jobVocab   = filterVocab{"connection.id": eqNe}
	// Webhook messages: WH3 names the properties, not their operators.
	messageVocab = filterVocab{
		"date": comparison, "status": eqNe, "eventTypeId": eqNe, "webhookId": eqNe, "eventId": eqNe,
	}
)

// conditions renders where's statements after checking each against vocab;
// name is the filter type, for errors.
func conditions(name string, vocab filterVocab, where []Condition) ([]string, error) {
	var out []string
	for i, c := range where {
		ops, ok := vocab[c.Property]
		if !ok {
			return nil, invalidInput("%s.Where[%d]: property %q is not one Basiq documents for this list", name, i, clipLine(c.Property, 60))
		}
		if !slices.Contains(ops, c.Op) {
			return nil, invalidInput("%s.Where[%d]: operator %q is not one Basiq documents for %s", name, i, clipLine(string(c.Op), 16), c.Property)
		}
		s, err := filterStatement(c.Property, c.Op, c.Values...)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

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
