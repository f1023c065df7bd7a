package basiq

import (
	"cmp"
	"slices"
)

// One connection's posted transactions in a sync (transactions_sync.go):
// read whole the first time (or after a reset), then only the overlap,
// checked against the cursor's day fingerprints and IBLT.

// maxSyncHeld bounds the transactions a sync holds while it checks the
// days of an overlap that changed; beyond it the connection is read whole.
const maxSyncHeld = 1000

// syncConnection syncs connection id, whose accounts are given sorted:
// its overlap since prev, or the whole connection when prev is nil or saw
// no posted transaction, or when the overlap changed too much to list
// (then after a reset of the connection).
func (r *syncRun) syncConnection(id string, accounts []string, prev *syncConnState) (syncConnState, error) {
	if prev != nil && prev.hwm > 0 {
		cs, ok, err := r.readOverlap(id, accounts, prev)
		if err != nil || ok {
			return cs, err
		}
		r.dropped[id] = true
		if err := r.emit(TransactionChange{Kind: ChangeReset, ID: id}); err != nil {
			return syncConnState{}, err
		}
	}
	return r.readWhole(id, accounts)
}

// overlapTracker keeps the hashes of the posted transactions that the next
// cursor's overlap will hold, as they are read.
type overlapTracker struct {
	acct    map[string]int
	overlap int64
	from    int64 // the oldest day the overlap may hold
	maxDay  int64
	items   []overlapItem
}

type overlapItem struct {
	acct int
	day  int64
	key  uint64
	val  uint64
}

func newOverlapTracker(accounts []string, overlap, from, hwm int64) *overlapTracker {
	t := &overlapTracker{acct: make(map[string]int, len(accounts)), overlap: overlap, from: from, maxDay: hwm}
	for i, a := range accounts {
		t.acct[a] = i
	}
	return t
}

func (t *overlapTracker) add(acct int, day int64, key, val uint64) {
	if day == 0 {
		return // no post date: outside any overlap
	}
	if day > t.maxDay {
		t.maxDay = day
		lo := day - t.overlap
		t.items = slices.DeleteFunc(t.items, func(it overlapItem) bool { return it.day < lo })
	}
	if day >= t.maxDay-t.overlap {
		t.items = append(t.items, overlapItem{acct: acct, day: day, key: key, val: val})
	}
}

// state is the connection's part of the next cursor.
func (t *overlapTracker) state(id string, accounts []string) syncConnState {
	cs := syncConnState{id: id, accounts: len(accounts), acctHash: accountsHash(accounts), hwm: t.maxDay}
	if cs.hwm == 0 {
		return cs
	}
	lo := max(cs.hwm-t.overlap, t.from)
	cs.window = cs.hwm - lo
	type gkey struct {
		acct int
		day  int64
	}
	groups := map[gkey]*groupPrint{}
	for _, it := range t.items {
		if it.day < lo {
			continue
		}
		g := groups[gkey{it.acct, it.day}]
		if g == nil {
			g = &groupPrint{}
			groups[gkey{it.acct, it.day}] = g
		}
		g.add(it.key, uint32(it.val))
		cs.overlapTx.update(it.key, uint32(it.val), 1)
	}
	for k, g := range groups {
		cs.groups = append(cs.groups, syncGroup{acct: k.acct, day: k.day, fp: *g})
	}
	slices.SortFunc(cs.groups, func(a, b syncGroup) int {
		return cmp.Or(cmp.Compare(a.acct, b.acct), cmp.Compare(b.day, a.day))
	})
	return cs
}

// postedOf reports whether tx belongs in connection id's posted list.
func postedOf(tx *Transaction, id string) bool {
	return tx.ConnectionID == id && !tx.Pending()
}

// pendingBefore reports whether tx was pending in the old cursor (and its
// connection was not reset since): a posting under its id, so a change.
func (r *syncRun) pendingBefore(tx *Transaction) bool {
	p := r.pending[tx.ID]
	if p == nil || p.seen || r.dropped[p.connID] {
		return false
	}
	p.seen = true
	return true
}

// readWhole reads every posted transaction of the connection.
func (r *syncRun) readWhole(id string, accounts []string) (syncConnState, error) {
	s := r.s
	t := newOverlapTracker(accounts, r.overlap, 0, 0)
	filter := &TransactionFilter{ConnectionID: id, Status: TransactionPosted}
	for tx, err := range (&TransactionsService{c: s.c}).All(s.ctx, s.userID, filter) {
		if err != nil {
			return syncConnState{}, err
		}
		if !postedOf(&tx, id) {
			continue
		}
		acct, ok := t.acct[tx.AccountID]
		if !ok {
			acct = len(accounts)
		}
		t.add(acct, dayNumber(tx.PostDate), txKey(tx.ID), txContentHash(&tx))
		kind := ChangeAdded
		if r.pendingBefore(&tx) {
			kind = ChangeModified
		}
		if err := r.emit(TransactionChange{Kind: kind, ID: tx.ID, Transaction: &tx}); err != nil {
			return syncConnState{}, err
		}
	}
	return t.state(id, accounts), nil
}

// readOverlap reads the connection's posted transactions since the old
// overlap's first day. New post dates come as they are read; the days the
// old cursor holds are compared day by day (per account), and a day that
// changed is held until the IBLT lists the difference. ok is false when
// the difference cannot be listed (too large, a posted transaction gone, an
// account or day out of place): the caller resets the connection.
func (r *syncRun) readOverlap(id string, accounts []string, prev *syncConnState) (cs syncConnState, ok bool, err error) {
	s := r.s
	from := prev.hwm - prev.window
	t := newOverlapTracker(accounts, r.overlap, from, prev.hwm)
	type gkey struct {
		acct int
		day  int64
	}
	oldGroups := make(map[gkey]groupPrint, len(prev.groups))
	for _, g := range prev.groups {
		oldGroups[gkey{g.acct, g.day}] = g.fp
	}
	diff := prev.overlapTx
	var (
		cur      gkey
		curFP    groupPrint
		curHeld  []Transaction
		open     bool
		mismatch bool
		held     []Transaction // the transactions of days that changed
	)
	closed := map[gkey]bool{}
	closeGroup := func() {
		if !open {
			return
		}
		closed[cur] = true
		open = false
		old := oldGroups[cur]
		if old == curFP {
			curHeld = curHeld[:0]
			return
		}
		mismatch = true
		if i := oneAdded(old, curFP, curHeld); i >= 0 {
			// The usual change of a day: one more transaction (a late
			// posting). Only it is held; the IBLT says at the end whether
			// it is new or moved from another day.
			held = append(held, curHeld[i])
		} else {
			held = append(held, curHeld...)
		}
		curHeld = curHeld[:0]
	}
	filter := &TransactionFilter{ConnectionID: id, Status: TransactionPosted, From: dayTime(from)}
	for tx, err := range (&TransactionsService{c: s.c}).All(s.ctx, s.userID, filter) {
		if err != nil {
			return syncConnState{}, false, err
		}
		if !postedOf(&tx, id) {
			continue
		}
		acct, known := t.acct[tx.AccountID]
		day := dayNumber(tx.PostDate)
		if !known || day < from {
			return syncConnState{}, false, nil // not what the cursor knows: read it whole
		}
		key, h := txKey(tx.ID), txContentHash(&tx)
		t.add(acct, day, key, h)
		switch {
		case r.pendingBefore(&tx):
			if err := r.emit(TransactionChange{Kind: ChangeModified, ID: tx.ID, Transaction: &tx}); err != nil {
				return syncConnState{}, false, err
			}
			continue
		case day > prev.hwm:
			if err := r.emit(TransactionChange{Kind: ChangeAdded, ID: tx.ID, Transaction: &tx}); err != nil {
				return syncConnState{}, false, err
			}
			continue
		}
		if g := (gkey{acct, day}); !open || g != cur {
			closeGroup()
			if closed[g] {
				return syncConnState{}, false, nil // a day's transactions not together
			}
			cur, curFP, open = g, groupPrint{}, true
		}
		curFP.add(key, uint32(h))
		curHeld = append(curHeld, tx)
		diff.update(key, uint32(h), -1)
		if len(held)+len(curHeld) > maxSyncHeld {
			return syncConnState{}, false, nil
		}
	}
	closeGroup()
	for g, fp := range oldGroups {
		if !closed[g] && fp.n > 0 {
			mismatch = true // a day the cursor holds is gone
		}
	}
	if mismatch {
		gone, come, ok := diff.decode()
		if !ok {
			return syncConnState{}, false, nil
		}
		kinds := make([]ChangeKind, len(held))
		for i := range held {
			k := txKey(held[i].ID)
			if _, in := come[k]; !in {
				continue // unchanged, on a day that changed
			}
			delete(come, k)
			kinds[i] = ChangeAdded
			if _, was := gone[k]; was {
				delete(gone, k)
				kinds[i] = ChangeModified
			}
		}
		if len(gone) > 0 || len(come) > 0 {
			return syncConnState{}, false, nil // a posted transaction removed, or a difference not explained
		}
		for i := range held {
			if kinds[i] == 0 {
				continue
			}
			if err := r.emit(TransactionChange{Kind: kinds[i], ID: held[i].ID, Transaction: &held[i]}); err != nil {
				return syncConnState{}, false, err
			}
		}
	}
	return t.state(id, accounts), true, nil
}

// oneAdded is the index in items (a day's transactions now, whose print is
// now) of the one transaction added to the day since old, when the day
// changed by exactly that; -1 otherwise.
func oneAdded(old, now groupPrint, items []Transaction) int {
	if now.n != old.n+1 {
		return -1
	}
	want := now.sum - old.sum
	found := -1
	for i := range items {
		if groupTerm(txKey(items[i].ID), uint32(txContentHash(&items[i]))) == want {
			if found >= 0 {
				return -1
			}
			found = i
		}
	}
	return found
}
