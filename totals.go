package basiq

import (
	"context"
	"encoding/json"
	"net/http"
)

// ListTotals are the totals Basiq sends with a list (its "count",
// "totalCount" and "size" members), which the SDK's lists (slices and
// iterators alike) otherwise do not return. Ask for them with
// WithListTotals:
//
//	var totals basiq.ListTotals
//	for r, err := range c.Reports.List(basiq.WithListTotals(ctx, &totals)) { ... }
//	fmt.Println(totals.Count, totals.Pages)
//
// What each number means is Basiq's: "count" is the number of items in the
// answer for most lists (in the page, for the lists that page), "totalCount"
// the number of items in all (institutions), "size" the page size. A member
// the last page did not send is -1.
type ListTotals struct {
	Count      int64 // "count"; -1 when not sent
	TotalCount int64 // "totalCount"; -1 when not sent
	Size       int64 // "size"; -1 when not sent
	// Pages is how many pages of lists were read with the context so far;
	// the numbers above are the last page's.
	Pages int
}

type listTotalsKey struct{}

// WithListTotals returns a context under which every list the SDK reads
// (a GET answered with Basiq's {"type":"list", ...}) records its totals into
// t as each page arrives. Use one ListTotals for one list at a time: the SDK
// writes t from the goroutine that reads the list, without a lock. A nil t
// records nothing.
func WithListTotals(ctx context.Context, t *ListTotals) context.Context {
	if ctx == nil || t == nil {
		return ctx
	}
	return context.WithValue(ctx, listTotalsKey{}, t)
}

// recordListTotals stores a list page's totals into the ListTotals ctx
// carries, if any.
func recordListTotals(ctx context.Context, method string, body []byte) {
	t, _ := ctx.Value(listTotalsKey{}).(*ListTotals)
	if t == nil || method != http.MethodGet {
		return
	}
	var page struct {
		Type       string      `json:"type"`
		Count      *lenientInt `json:"count"`
		TotalCount *lenientInt `json:"totalCount"`
		Size       *lenientInt `json:"size"`
	}
	if json.Unmarshal(body, &page) != nil && page.Type == "" {
		return
	}
	if page.Type != "list" {
		return
	}
	num := func(n *lenientInt) int64 {
		if n == nil {
			return -1
		}
		return int64(*n)
	}
	t.Count, t.TotalCount, t.Size = num(page.Count), num(page.TotalCount), num(page.Size)
	t.Pages++
}
