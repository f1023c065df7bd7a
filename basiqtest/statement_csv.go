package basiqtest

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Basiq's CSV statement format is given to partners on request, not
// published. The fake reads this one: a header row naming the columns (any
// order, any case), then one row per transaction, any order:
//
//	account_number  required; rows with the same number are one account
//	date            required; YYYY-MM-DD or DD/MM/YYYY
//	description     required
//	amount          required; a decimal, negative for a debit
//	balance         optional; the balance after the transaction
//	account_name    optional; must not differ between rows of one account
//	bsb             optional
//
// Its failures use the codes Basiq lists for CSV uploads (the job result
// codes of its API reference): a header without a required column missing-required-field, a row
// without a required value missing-required-field-value, a date or amount
// that does not parse invalid-field-value, an account named two ways
// account-data-differs, no data rows empty-file, more than maxCSVRows rows
// row-count-exceeded, a row with the wrong number of fields invalid-csv-row.
// A file that is neither a PDF nor text with at least one known column is
// bank-statement-invalid.

// maxCSVRows is the most rows a CSV statement may have.
const maxCSVRows = 5000

// stmtAccount is an account of a CSV statement, its transactions newest
// first.
type stmtAccount struct {
	number, name, bsb string
	balance           string // the newest row's balance; "" when the file gives none
	txs               []stmtTx
}

// stmtTx is a transaction row of a CSV statement.
type stmtTx struct {
	date        time.Time
	description string
	cents       int64
	balance     string
}

// account is the fake's account for a CSV statement's account.
func (a stmtAccount) account(inst *institution, seq int) account {
	bal := a.balance
	if bal == "" {
		var sum int64
		for _, t := range a.txs {
			sum += t.cents
		}
		bal = money(sum)
	}
	name := a.name
	if name == "" {
		name = inst.ShortName + " " + a.number
	}
	opened := time.Date(2015, 3, 1+seq%28, 0, 0, 0, 0, time.UTC)
	if n := len(a.txs); n > 0 {
		opened = a.txs[n-1].date
	}
	return account{id: newUUID(), accountNo: a.number, name: name, class: "transaction", product: inst.ShortName + " Statement",
		balance: bal, available: bal, creditLimit: "0.00", bsb: a.bsb, number: a.number, opened: opened}
}

// csvColumns are the columns the fake reads, required first.
var csvColumns = [...]string{"account_number", "date", "description", "amount", "balance", "account_name", "bsb"}

const csvRequired = 4 // the first four of csvColumns

// parseStatementCSV reads a CSV statement: its accounts, or why it cannot.
func parseStatementCSV(data []byte) ([]stmtAccount, *stepError) {
	invalid := statementFailure("bank-statement-invalid", "Statement invalid.",
		"The file is neither a PDF bank statement nor a CSV file in Basiq's statement format.")
	if !utf8.Valid(data) || bytes.IndexByte(data, 0) >= 0 {
		return nil, invalid
	}
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	if err != nil || len(rows) == 0 {
		if len(bytes.TrimSpace(data)) == 0 {
			return nil, statementFailure("empty-file", "Empty file.", "The file has no data rows.")
		}
		return nil, invalid
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		if slices.Contains(csvColumns[:], h) {
			col[h] = i
		}
	}
	if len(col) == 0 {
		return nil, invalid
	}
	for _, name := range csvColumns[:csvRequired] {
		if _, ok := col[name]; !ok {
			return nil, statementFailure("missing-required-field", "Missing required field.",
				fmt.Sprintf("The header has no %q column.", name))
		}
	}
	body := rows[1:]
	switch {
	case len(body) == 0:
		return nil, statementFailure("empty-file", "Empty file.", "The file has no data rows.")
	case len(body) > maxCSVRows:
		return nil, statementFailure("row-count-exceeded", "Row count exceeded.",
			fmt.Sprintf("The file has %d rows; at most %d are accepted.", len(body), maxCSVRows))
	}
	var accts []stmtAccount
	byNumber := map[string]int{}
	for k, row := range body {
		line := k + 2
		if len(row) != len(rows[0]) {
			return nil, statementFailure("invalid-csv-row", "Invalid CSV row.",
				fmt.Sprintf("Row %d has %d fields; the header has %d.", line, len(row), len(rows[0])))
		}
		get := func(name string) string {
			if i, ok := col[name]; ok {
				return strings.TrimSpace(row[i])
			}
			return ""
		}
		for _, name := range csvColumns[:csvRequired] {
			if get(name) == "" {
				return nil, statementFailure("missing-required-field-value", "Missing required field value.",
					fmt.Sprintf("Row %d has no %s.", line, name))
			}
		}
		date, ok := parseStatementDate(get("date"))
		if !ok {
			return nil, statementFailure("invalid-field-value", "Invalid field value.",
				fmt.Sprintf("Row %d: date %q is not YYYY-MM-DD or DD/MM/YYYY.", line, get("date")))
		}
		cents, ok := parseCents(get("amount"))
		if !ok {
			return nil, statementFailure("invalid-field-value", "Invalid field value.",
				fmt.Sprintf("Row %d: amount %q is not a decimal amount.", line, get("amount")))
		}
		bal := get("balance")
		if bal != "" {
			b, ok := parseCents(bal)
			if !ok {
				return nil, statementFailure("invalid-field-value", "Invalid field value.",
					fmt.Sprintf("Row %d: balance %q is not a decimal amount.", line, bal))
			}
			bal = money(b)
		}
		num := get("account_number")
		i, seen := byNumber[num]
		if !seen {
			i = len(accts)
			byNumber[num] = i
			accts = append(accts, stmtAccount{number: num, name: get("account_name"), bsb: get("bsb")})
		} else if a := accts[i]; a.name != get("account_name") || a.bsb != get("bsb") {
			return nil, statementFailure("account-data-differs", "Account data differs.",
				fmt.Sprintf("Row %d: account %s has a different name or BSB than on an earlier row.", line, num))
		}
		accts[i].txs = append(accts[i].txs, stmtTx{date: date, description: get("description"), cents: cents, balance: bal})
	}
	for i := range accts {
		// Newest first, as Basiq lists transactions; rows of one day keep
		// the file's order reversed (the last row of a day is the newest).
		txs := accts[i].txs
		slices.Reverse(txs)
		slices.SortStableFunc(txs, func(a, b stmtTx) int { return b.date.Compare(a.date) })
		accts[i].balance = txs[0].balance
	}
	return accts, nil
}

// parseStatementDate reads YYYY-MM-DD or DD/MM/YYYY.
func parseStatementDate(s string) (time.Time, bool) {
	for _, layout := range []string{"2006-01-02", "02/01/2006", "2/1/2006"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// parseCents reads a decimal amount with at most two decimals ("-12.5",
// "1,234.56") as cents.
func parseCents(s string) (int64, bool) {
	s = strings.ReplaceAll(strings.TrimPrefix(s, "$"), ",", "")
	neg := false
	if rest, ok := strings.CutPrefix(s, "-"); ok {
		neg, s = true, strings.TrimPrefix(rest, "$")
	}
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" && frac == "" || len(frac) > 2 {
		return 0, false
	}
	for len(frac) < 2 {
		frac += "0"
	}
	if whole == "" {
		whole = "0"
	}
	w, err1 := strconv.ParseInt(whole, 10, 64)
	f, err2 := strconv.ParseInt(frac, 10, 64)
	if err1 != nil || err2 != nil || w < 0 || w > 1e12 {
		return 0, false
	}
	c := w*100 + f
	if neg {
		c = -c
	}
	return c, true
}

// money renders cents as Basiq's decimal string ("-12.50").
func money(cents int64) string {
	sign := ""
	if cents < 0 {
		sign, cents = "-", -cents
	}
	return fmt.Sprintf("%s%d.%02d", sign, cents/100, cents%100)
}

// hex64 renders x as 16 hexadecimal digits.
func hex64(x uint64) string { return fmt.Sprintf("%016x", x) }

// classify guesses a transaction's class from its description and sign, as
// the fake's Enrich does for text it has no merchant for.
func classify(description string, debit bool) string {
	d := strings.ToUpper(description)
	has := func(words ...string) bool {
		return slices.ContainsFunc(words, func(w string) bool { return strings.Contains(d, w) })
	}
	switch {
	case has("ATM", "CASH WITHDRAWAL"):
		return "cash-withdrawal"
	case has("FEE"):
		return "bank-fee"
	case has("INTEREST"):
		return "interest"
	case has("REFUND"):
		return "refund"
	case has("LOAN"):
		return "loan-repayment"
	case has("TRANSFER", "BPAY"):
		return "transfer"
	case !debit && has("SALARY", "PAY", "WAGE"):
		return "direct-credit"
	case debit:
		return "payment"
	}
	return "transfer"
}
