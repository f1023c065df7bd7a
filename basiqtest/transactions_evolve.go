package basiqtest

import (
	"slices"
	"time"
)

// How the fake's transactions change at each refresh, the way Basiq's do.
// The first retrieve-transactions of a connection makes each account's
// history (txPlan); every later one is a generation that evolves it,
// deterministically from the data seed, the account and the generation's
// number and day:
//
//   - each pending transaction is posted under its id (two in five, dated
//     the refresh's day), replaced by a pending one with a new id and the
//     same details (two in five: Basiq replaces pending rows), or left as
//     it is;
//   - 0 to 2 new pending transactions and 1 to 5 new posted ones, dated the
//     refresh's day, appear;
//   - one refresh in two brings a late posting: a new posted transaction
//     dated 1 to 10 days before the previous retrieval's day;
//   - one refresh in three corrects the details of a transaction posted
//     since the first retrieval and dated at most 10 days before the
//     previous retrieval's day (its description gains " (CORRECTED)"), as
//     when Basiq's Enrich runs again.
//
// Posted transactions keep their id and post date for good. A
// purge empties the connection; the next retrieval starts a new history,
// under the new accounts' ids. A connection refreshed once has exactly the
// transactions it had before evolution existed.

// acctTxs is an account's transactions as the latest retrieval left them,
// in Basiq's order: pending ones, then posted ones, newest post date first.
type acctTxs struct {
	plan     txPlan
	ref      accountRef
	pending  []txRow // in list order
	extra    []txRow // posted since the first retrieval (including late ones), newest first
	extraPos []int   // each extra's place among the posted ones
	base     int     // the first history's posted ones: plan.n - plan.pending
}

// lateDays is how far back, at most, a late posting is dated before the
// previous retrieval's day (inside the SDK's default sync overlap of 14
// days).
const lateDays = 10

// accountTransactions replays r's connection's retrievals.
func (s *Server) accountTransactions(r accountRef) *acctTxs {
	p := s.txPlan(r)
	a := &acctTxs{plan: p, ref: r, base: max(p.n-p.pending, 0)}
	for i := range p.pending {
		a.pending = append(a.pending, p.row(r, i))
	}
	days := r.conn.txRetrievals
	if p.n == 0 {
		days = nil // no transactions, ever
	}
	for k := 1; k < len(days); k++ {
		a.evolve(k, dayOf(days[k]), dayOf(days[k-1]))
	}
	slices.SortStableFunc(a.extra, func(x, y txRow) int { return y.post.Compare(x.post) })
	a.extraPos = make([]int, len(a.extra))
	for k, t := range a.extra {
		a.extraPos[k] = k + a.baseNewerThan(t.post)
	}
	return a
}

// evolve applies generation k, the retrieval on day, whose previous
// retrieval was on prev.
func (a *acctTxs) evolve(k int, day, prev time.Time) {
	g := splitmix64(a.plan.key ^ 0x5bd1e9955bd1e995 ^ uint64(k)*0x9e3779b97f4a7c15)
	seq := uint64(0)
	fresh := func(post time.Time) txRow {
		seq++
		id := 1<<44 | uint64(k)<<20 | seq // never an index of the first history
		return newTxRow(a.ref, id, splitmix64(g^seq*0xd1b54a32d192ed03), post)
	}
	var keep []txRow
	for _, t := range a.pending {
		switch splitmix64(g^t.id) % 5 {
		case 0, 1: // posted, under its id
			t.pending, t.post = false, day
			a.extra = append(a.extra, t)
		case 2, 3: // replaced: a new id, the same details
			seq++
			t.id = 1<<44 | uint64(k)<<20 | seq
			keep = append(keep, t)
		default:
			keep = append(keep, t)
		}
	}
	for range g >> 8 % 3 {
		keep = append(keep, fresh(time.Time{}))
	}
	for range 1 + g>>12%3 {
		a.extra = append(a.extra, fresh(day))
	}
	if g>>24%3 == 0 {
		var recent []int
		for i, t := range a.extra {
			if !t.revised && !t.post.Before(prev.AddDate(0, 0, -lateDays)) {
				recent = append(recent, i)
			}
		}
		if len(recent) > 0 {
			a.extra[recent[g>>28%uint64(len(recent))]].revised = true
		}
	}
	if g>>16%2 == 0 {
		a.extra = append(a.extra, fresh(prev.AddDate(0, 0, -1-int(g>>20%lateDays))))
	}
	a.pending = keep
}

// baseNewerThan is how many of the first history's posted transactions
// have a post date after day.
func (a *acctTxs) baseNewerThan(day time.Time) int {
	if !day.Before(a.plan.anchor) {
		return 0
	}
	days := int(a.plan.anchor.Sub(day).Hours()+12) / 24
	return min(days*a.plan.perDay, a.base)
}

func (a *acctTxs) len() int { return len(a.pending) + len(a.extra) + a.base }

// at is the transaction at position i of the list (0 <= i < len).
func (a *acctTxs) at(i int) txRow {
	if i < len(a.pending) {
		return a.pending[i]
	}
	q := i - len(a.pending)
	before := 0
	for k, pos := range a.extraPos {
		if pos == q {
			return a.extra[k]
		}
		if pos > q {
			break
		}
		before++
	}
	return a.plan.row(a.ref, a.plan.pending+q-before)
}

// find is the transaction with id index id, if the account has it.
func (a *acctTxs) find(id uint64) (txRow, bool) {
	for _, list := range [][]txRow{a.pending, a.extra} {
		for _, t := range list {
			if t.id == id {
				return t, true
			}
		}
	}
	if id >= uint64(a.plan.pending) && id < uint64(a.plan.n) {
		return a.plan.row(a.ref, int(id)), true
	}
	return txRow{}, false
}

// connTxCount is how many transactions conn has now.
func (s *Server) connTxCount(conn *connection) int {
	n := 0
	for k, a := range conn.accounts {
		n += s.accountTransactions(accountRef{conn: conn, a: a, ordinal: k}).len()
	}
	return n
}
