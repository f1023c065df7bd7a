package basiq

import (
	"context"
	"errors"
	"iter"
	"slices"
	"strconv"
	"sync/atomic"
	"time"
)

// SyncOptions configures Transactions.Sync; nil means the defaults.
type SyncOptions struct {
	// ConnectionID limits the sync to one connection's transactions; empty
	// syncs all the user's. A cursor belongs to its scope: a cursor made
	// for another scope resets.
	ConnectionID string
	// Overlap is how far before a connection's high-water mark (the newest
	// post date a sync has seen on it) each sync reads posted transactions
	// again, rounded up to whole days: 0 for the default of 14 days, at
	// most 90 days. A cursor keeps the overlap it was made with until its
	// high-water mark moves on; a shorter one takes effect at once, a
	// longer one only for post dates the cursor has read.
	Overlap time.Duration
}

// DefaultSyncOverlap is the Overlap a zero SyncOptions uses.
const DefaultSyncOverlap = 14 * 24 * time.Hour

// maxSyncOverlapDays bounds SyncOptions.Overlap.
const maxSyncOverlapDays = 90

// ChangeKind says what a TransactionChange does to a local copy.
type ChangeKind uint8

// Change kinds.
const (
	// ChangeAdded: a transaction the copy does not hold; store it.
	ChangeAdded ChangeKind = iota + 1
	// ChangeModified: a transaction the copy holds under this id changed
	// (a pending one posted, re-enriched, corrected); replace it.
	ChangeModified
	// ChangeRemoved: the transaction with this id is gone (a pending one
	// Basiq replaced or dropped); delete it.
	ChangeRemoved
	// ChangeReset: drop what the copy holds, then take what follows. ID is
	// empty to drop everything the sync covers (the user's transactions,
	// or SyncOptions.ConnectionID's), or a connection id to drop that
	// connection's transactions only (Transaction.ConnectionID).
	ChangeReset
)

// String names the kind ("added", "modified", "removed", "reset").
func (k ChangeKind) String() string {
	switch k {
	case ChangeAdded:
		return "added"
	case ChangeModified:
		return "modified"
	case ChangeRemoved:
		return "removed"
	case ChangeReset:
		return "reset"
	}
	return "ChangeKind(" + strconv.Itoa(int(k)) + ")"
}

// TransactionChange is one change to apply, in order, to a local copy of a
// user's transactions. Transaction is the transaction as it is now for
// ChangeAdded and ChangeModified, nil otherwise; ID is its id (for a
// ChangeReset, the connection id or empty: see ChangeReset).
type TransactionChange struct {
	Kind        ChangeKind
	ID          string
	Transaction *Transaction
}

// TransactionSync is one sync of a user's transactions, from
// Transactions.Sync: range over Changes once, to its end, then read Cursor.
// It is not safe for concurrent use.
type TransactionSync struct {
	c      *Client
	ctx    context.Context
	userID string
	cursor string
	opts   *SyncOptions

	state atomic.Int32 // syncNew, syncRunning, syncDone, syncFailed
	next  string
}

const (
	syncNew int32 = iota
	syncRunning
	syncDone
	syncFailed
)

// Sync computes what changed in the user's transactions since cursor: the
// changes that turn a local copy holding cursor's result into what
// Transactions.All lists now (same ids, same contents), and the cursor for
// the next sync. cursor "" starts from nothing: every transaction comes as
// ChangeAdded. Basiq has no such endpoint; the SDK computes it from
// GET /users/{userId}/accounts and the transactions list (Transactions.All's
// paging and filters):
//
//	s := c.Transactions.Sync(ctx, userID, cursor, nil)
//	for ch, err := range s.Changes() {
//		if err != nil { … } // keep the old cursor; sync again later
//		switch ch.Kind { … } // apply to the copy, in order
//	}
//	cursor, err = s.Cursor() // store it with the copy, atomically
//
// Kinds: a pending transaction Basiq replaces under a new id (it does at
// every refresh) comes as ChangeRemoved (old id) and ChangeAdded (new id);
// one that keeps its id and changes (posted, re-enriched) as
// ChangeModified; a pending one that vanishes as ChangeRemoved.
//
// What a sync reads: the user's accounts (one request), the pending
// transactions (the scope's, one list), and per connection the posted
// transactions since its high-water mark (the newest post date seen)
// minus Overlap (default 14 days), never the whole history: pages for the
// pending ones and for about Overlap's worth of postings. For a user with
// 100,000 transactions over two years (about 137 a day), a sync after a
// refresh reads 6 pages (4 with a 7-day Overlap) where Transactions.All
// reads 201; with a few dozen transactions a day, 2 pages. A connection
// seen for the first time, or after a reset, is read whole, once.
//
// Limits, plainly:
//   - Overlap covers late postings and changes to posted transactions whose
//     post date is within Overlap before the high-water mark. A
//     transaction Basiq posts, changes or removes with an older post date
//     is not seen by any later sync (Transactions.All lists it, the copy
//     misses it) until a reset or a sync from "". A pending transaction
//     posted under its id with such an old date comes as ChangeRemoved.
//     Choose Overlap longer than your banks' latest postings, and sync
//     from "" from time to time (weekly, say) if that matters to you.
//   - ChangeReset comes when the cursor is not this SDK's cursor version 1
//     for this user and scope (another user's, garbled, cut short, an
//     older format: ID ""), when a connection was deleted or purged, or
//     its accounts changed (ID: the connection), and when a connection's
//     overlap changed too much to list (roughly, more than 60 late
//     postings, or 30 changed posted transactions, dated inside the
//     cursor's overlap, and very rarely fewer; or a posted transaction
//     removed): that connection is then read whole. A
//     cursor made while the user had more than 1,000 pending transactions
//     resets the next sync (ID "").
//   - The cursor is opaque text of a few KiB (about 2.2 KiB per
//     connection, 16 bytes per account and day of the overlap, 65 bytes
//     per pending transaction: 3.3 KiB for the user above): ids and
//     hashes, no secret, no transaction's details. It is checksummed
//     against the user and the scope. Store it with the copy, in the same
//     transaction of your database, so that the two always match.
//
// Memory: changes stream page by page like Transactions.All; a sync
// also holds hashes of the overlap's transactions, one account's
// transactions of the day it is reading, and until the end of a
// connection's overlap the transactions that may have changed (a late
// posting; all of a day's when more than one transaction changed on it,
// at most 1,000 before the connection is read whole).
func (s *TransactionsService) Sync(ctx context.Context, userID, cursor string, opts *SyncOptions) *TransactionSync {
	return &TransactionSync{c: s.client(), ctx: ctx, userID: userID, cursor: cursor, opts: opts}
}

// Changes yields the changes, in the order to apply them, then ends; on an
// error (a request that failed after its retries, a malformed page,
// invalid arguments matching ErrInvalidInput) it yields the error last and
// Cursor has no new cursor. It may be ranged over once.
func (s *TransactionSync) Changes() iter.Seq2[TransactionChange, error] {
	return func(yield func(TransactionChange, error) bool) {
		if s == nil {
			yield(TransactionChange{}, invalidInput("nil TransactionSync: use Transactions.Sync"))
			return
		}
		if !s.state.CompareAndSwap(syncNew, syncRunning) {
			yield(TransactionChange{}, invalidInput("TransactionSync.Changes ranged over twice: start a new Transactions.Sync"))
			return
		}
		run := &syncRun{s: s, yield: yield}
		next, err := run.sync()
		switch {
		case err == nil:
			s.next = next
			s.state.Store(syncDone)
		case errors.Is(err, errSyncStopped):
			s.state.Store(syncFailed)
		default:
			s.state.Store(syncFailed)
			yield(TransactionChange{}, err)
		}
	}
}

// Cursor returns the cursor for the next sync. It is an error (matching
// ErrInvalidInput) unless Changes ran to its end without error.
func (s *TransactionSync) Cursor() (string, error) {
	if s == nil {
		return "", invalidInput("nil TransactionSync: use Transactions.Sync")
	}
	switch s.state.Load() {
	case syncDone:
		return s.next, nil
	case syncNew:
		return "", invalidInput("TransactionSync.Cursor before Changes ran")
	case syncRunning:
		return "", invalidInput("TransactionSync.Cursor while Changes runs")
	}
	return "", invalidInput("TransactionSync.Changes stopped early or failed: keep the previous cursor")
}

// errSyncStopped: the caller broke out of Changes.
var errSyncStopped = errors.New("stopped")

// syncRun is one run of Changes.
type syncRun struct {
	s       *TransactionSync
	yield   func(TransactionChange, error) bool
	overlap int64 // days
	scope   string

	old     *syncState
	pending map[string]*pendingSeen // the old cursor's pending transactions by id
	dropped map[string]bool         // connections reset in this run
	conns   []syncConnState         // the new cursor's connections
	connIdx map[string]int
}

type pendingSeen struct {
	syncPending
	connID string
	seen   bool
}

func (r *syncRun) emit(ch TransactionChange) error {
	if !r.yield(ch, nil) {
		return errSyncStopped
	}
	return nil
}

func (r *syncRun) sync() (string, error) {
	s := r.s
	if err := s.c.ready(); err != nil {
		return "", err
	}
	if s.ctx == nil {
		return "", invalidInput("nil context")
	}
	if err := validateID("userId", s.userID); err != nil {
		return "", err
	}
	var opts SyncOptions
	if s.opts != nil {
		opts = *s.opts
	}
	if opts.ConnectionID != "" {
		if err := validateID("SyncOptions.ConnectionID", opts.ConnectionID); err != nil {
			return "", err
		}
		if err := checkFilterValue("connection.id", opts.ConnectionID); err != nil {
			return "", err
		}
	}
	switch {
	case opts.Overlap < 0:
		return "", invalidInput("SyncOptions.Overlap is negative")
	case opts.Overlap == 0:
		opts.Overlap = DefaultSyncOverlap
	case opts.Overlap > maxSyncOverlapDays*24*time.Hour:
		return "", invalidInput("SyncOptions.Overlap is over %d days", maxSyncOverlapDays)
	}
	r.overlap = int64((opts.Overlap + 24*time.Hour - 1) / (24 * time.Hour))
	r.scope = opts.ConnectionID
	r.dropped, r.connIdx, r.pending = map[string]bool{}, map[string]int{}, map[string]*pendingSeen{}

	r.old = &syncState{}
	if s.cursor != "" {
		old, err := decodeSyncCursor(s.cursor, s.userID, r.scope)
		if err != nil || old.overflow {
			if err := r.emit(TransactionChange{Kind: ChangeReset}); err != nil {
				return "", err
			}
		} else {
			r.old = old
		}
	}
	for _, p := range r.old.pending {
		ps := &pendingSeen{syncPending: p}
		if p.conn >= 0 {
			ps.connID = r.old.conns[p.conn].id
		}
		r.pending[p.id] = ps
	}

	accts, err := (&AccountsService{c: s.c}).List(s.ctx, s.userID, &AccountFilter{ConnectionID: r.scope})
	if err != nil {
		return "", err
	}
	byConn := map[string][]string{}
	for _, a := range accts {
		if a.ConnectionID != "" && (r.scope == "" || a.ConnectionID == r.scope) {
			byConn[a.ConnectionID] = append(byConn[a.ConnectionID], a.ID)
		}
	}
	for _, ids := range byConn {
		slices.Sort(ids)
	}
	oldByID := map[string]*syncConnState{}
	for i := range r.old.conns {
		c := &r.old.conns[i]
		oldByID[c.id] = c
		if c.accounts == 0 {
			continue // a connection known from its pending transactions only
		}
		now, ok := byConn[c.id]
		if !ok || len(now) != c.accounts || accountsHash(now) != c.acctHash {
			// Deleted, purged, or its accounts changed: what the copy holds
			// of it cannot be checked against the overlap.
			r.dropped[c.id] = true
			if err := r.emit(TransactionChange{Kind: ChangeReset, ID: c.id}); err != nil {
				return "", err
			}
		}
	}

	ids := make([]string, 0, len(byConn))
	for id := range byConn {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		accounts := byConn[id]
		var prev *syncConnState
		if o := oldByID[id]; o != nil && !r.dropped[id] && o.accounts > 0 {
			prev = o
		}
		cs, err := r.syncConnection(id, accounts, prev)
		if err != nil {
			return "", err
		}
		r.connIdx[id] = len(r.conns)
		r.conns = append(r.conns, cs)
	}

	newPending, overflow, err := r.syncPending()
	if err != nil {
		return "", err
	}
	return encodeSyncCursor(&syncState{overflow: overflow, conns: r.conns, pending: newPending}, s.userID, r.scope), nil
}

// accountsHash identifies a sorted set of account ids.
func accountsHash(sorted []string) uint64 { return hash64("basiq-sync-accounts", sorted...) }

// syncPending reads the scope's pending transactions, then removes the old
// cursor's pending ones seen nowhere.
func (r *syncRun) syncPending() ([]syncPending, bool, error) {
	s := r.s
	var out []syncPending
	overflow := false
	filter := &TransactionFilter{ConnectionID: r.scope, Status: TransactionPending}
	for tx, err := range (&TransactionsService{c: s.c}).All(s.ctx, s.userID, filter) {
		if err != nil {
			return nil, false, err
		}
		if r.scope != "" && tx.ConnectionID != r.scope {
			continue
		}
		h := txContentHash(&tx)
		conn := -1
		if i, ok := r.connIdx[tx.ConnectionID]; ok {
			conn = i
		} else if tx.ConnectionID != "" {
			// A connection without accounts: known by its pending ones.
			conn = len(r.conns)
			r.connIdx[tx.ConnectionID] = conn
			r.conns = append(r.conns, syncConnState{id: tx.ConnectionID})
		}
		kind := ChangeAdded
		if p := r.pending[tx.ID]; p != nil && !r.dropped[p.connID] {
			p.seen = true
			kind = ChangeModified
			if p.hash == h {
				kind = 0
			}
		}
		if kind != 0 {
			if err := r.emit(TransactionChange{Kind: kind, ID: tx.ID, Transaction: &tx}); err != nil {
				return nil, false, err
			}
		}
		if len(out) < maxSyncPending {
			out = append(out, syncPending{id: tx.ID, conn: conn, hash: h})
		} else {
			overflow = true
		}
	}
	for _, p := range r.old.pending {
		ps := r.pending[p.id]
		if ps.seen || r.dropped[ps.connID] {
			continue
		}
		ps.seen = true
		if err := r.emit(TransactionChange{Kind: ChangeRemoved, ID: p.id}); err != nil {
			return nil, false, err
		}
	}
	if overflow {
		out = nil
	}
	return out, overflow, nil
}
