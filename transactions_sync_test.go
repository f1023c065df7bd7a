package basiq_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banklink-go/basiq"
	"github.com/banklink-go/basiq/basiqtest"
)

// syncClock is the fake's clock, moved by the test only.
type syncClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *syncClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *syncClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// syncEnv is a user on the fake with a Hooli connection whose job finished.
type syncEnv struct {
	t      testing.TB
	srv    *basiqtest.Server
	c      *basiq.Client
	clock  *syncClock
	ctx    context.Context
	userID string
	conns  []string
}

func newSyncEnv(t testing.TB, opts ...basiqtest.Option) *syncEnv {
	t.Helper()
	clock := &syncClock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	srv := basiqtest.NewServer(append([]basiqtest.Option{basiqtest.InMemory(), basiqtest.WithTimeScale(0),
		basiqtest.WithClock(clock.Now), basiqtest.WithRequestLogLimit(0)}, opts...)...)
	t.Cleanup(srv.Close)
	c, err := basiq.NewClient(srv.APIKey(), basiq.WithBaseURL(srv.URL), basiq.WithHTTPClient(srv.Client()))
	require.NoError(t, err)
	e := &syncEnv{t: t, srv: srv, c: c, clock: clock, ctx: context.Background()}
	u, err := c.Users.Create(e.ctx, basiq.UserParams{Email: "sync@example.com"})
	require.NoError(t, err)
	e.userID = u.ID
	e.connect("AU00000")
	return e
}

// connect makes a connection and waits for its job.
func (e *syncEnv) connect(inst string) {
	e.t.Helper()
	jobID, err := e.srv.Connect(e.userID, inst, "gavinBelson", "hooli2016")
	require.NoError(e.t, err)
	e.wait(jobID)
	st, _ := e.srv.Job(jobID)
	if !slices.Contains(e.conns, st.ConnectionID) { // the same login at the same bank: the same connection
		e.conns = append(e.conns, st.ConnectionID)
	}
}

func (e *syncEnv) wait(jobID string) {
	e.t.Helper()
	e.clock.Add(time.Second)
	_, err := e.c.Jobs.Get(e.ctx, jobID) // the fake moves jobs on at each request
	require.NoError(e.t, err)
	st, ok := e.srv.Job(jobID)
	require.True(e.t, ok && st.Done, "job %s: %+v", jobID, st)
	for _, s := range st.Steps {
		require.Equal(e.t, "success", s.Status, "job %s", jobID)
	}
}

func (e *syncEnv) refresh(conn string) {
	e.t.Helper()
	j, err := e.c.Connections.Refresh(e.ctx, e.userID, conn)
	require.NoError(e.t, err)
	e.wait(j.ID)
}

func (e *syncEnv) purge(conn string) {
	e.t.Helper()
	require.NoError(e.t, e.c.Connections.Purge(e.ctx, e.userID, conn))
}

func (e *syncEnv) remove(conn string) {
	e.t.Helper()
	require.NoError(e.t, e.c.Connections.Delete(e.ctx, e.userID, conn))
	for i, id := range e.conns {
		if id == conn {
			e.conns = append(e.conns[:i], e.conns[i+1:]...)
			break
		}
	}
}

// syncStore is a local copy of a user's transactions, as an app keeps it.
type syncStore map[string]basiq.Transaction

func (s syncStore) clone() syncStore {
	out := make(syncStore, len(s))
	for k, v := range s {
		out[k] = v
	}
	return out
}

// syncTally counts what the syncs brought.
type syncTally struct {
	kinds     map[basiq.ChangeKind]int
	resets    map[string]int // "" (the scope) or "connection"
	syncs     int
	changes   int
	compared  int // transactions compared with Transactions.All
	histories int
	ops       map[string]int
	// steps with one refresh, and the connections read again whole after them
	refreshSteps, refreshResets int
}

// apply applies one sync's changes to s in order, checking each change's
// kind against what s holds, and returns the next cursor.
func (s syncStore) apply(t testing.TB, sy *basiq.TransactionSync, tally *syncTally) string {
	t.Helper()
	for ch, err := range sy.Changes() {
		require.NoError(t, err)
		tally.kinds[ch.Kind]++
		tally.changes++
		switch ch.Kind {
		case basiq.ChangeAdded, basiq.ChangeModified:
			require.NotNil(t, ch.Transaction)
			require.Equal(t, ch.ID, ch.Transaction.ID)
			old, held := s[ch.ID]
			if ch.Kind == basiq.ChangeAdded {
				require.False(t, held, "added %s, already held", ch.ID)
			} else {
				require.True(t, held, "modified %s, not held", ch.ID)
				require.False(t, reflect.DeepEqual(old, *ch.Transaction), "modified %s without a change", ch.ID)
			}
			s[ch.ID] = *ch.Transaction
		case basiq.ChangeRemoved:
			require.Nil(t, ch.Transaction)
			_, held := s[ch.ID]
			require.True(t, held, "removed %s, not held", ch.ID)
			delete(s, ch.ID)
		case basiq.ChangeReset:
			require.Nil(t, ch.Transaction)
			if ch.ID == "" {
				tally.resets[""]++
				clear(s)
				continue
			}
			tally.resets["connection"]++
			for id, tx := range s {
				if tx.ConnectionID == ch.ID {
					delete(s, id)
				}
			}
		default:
			t.Fatalf("unknown kind %v", ch.Kind)
		}
	}
	next, err := sy.Cursor()
	require.NoError(t, err)
	tally.syncs++
	return next
}

// requireSameAsAll checks s against a full Transactions.All read: same
// ids, same contents, no duplicate, no pending transaction left over.
func (e *syncEnv) requireSameAsAll(s syncStore, what string) int {
	e.t.Helper()
	all := map[string]basiq.Transaction{}
	pending := 0
	for tx, err := range e.c.Transactions.All(e.ctx, e.userID, nil) {
		require.NoError(e.t, err)
		_, dup := all[tx.ID]
		require.False(e.t, dup, "%s: All lists %s twice", what, tx.ID)
		all[tx.ID] = tx
		if tx.Pending() {
			pending++
		}
	}
	held := 0
	for id, tx := range s {
		if tx.Pending() {
			held++
		}
		now, ok := all[id]
		require.True(e.t, ok, "%s: the copy holds %s (%s), which All does not list", what, id, tx.Status)
		require.Equal(e.t, now, tx, "%s: %s differs", what, id)
	}
	require.Equal(e.t, len(all), len(s), "%s: the copy holds %d transactions, All lists %d", what, len(s), len(all))
	require.Equal(e.t, pending, held, "%s: pending transactions", what)
	return len(all)
}

// TestSyncProperty runs seeded random histories of refreshes (with their
// postings, replaced pending transactions, postings of pending ones and
// late postings), purges, deleted and new connections, and after every
// step checks that applying the sync's changes to the copy gives exactly
// what Transactions.All lists. Some steps also go back to an older cursor
// with the copy that went with it, as an app that lost its last write.
// The histories run on as many workers as there are CPUs.
func TestSyncProperty(t *testing.T) {
	histories, steps := 500, 20 // under -race too: about 3 minutes on 2 cores
	if testing.Short() {
		histories = 50
	}
	if v := os.Getenv("BASIQ_SYNC_HISTORIES"); v != "" {
		n, err := strconv.Atoi(v)
		require.NoError(t, err, "BASIQ_SYNC_HISTORIES")
		histories = n
	}
	workers := max(1, min(runtime.GOMAXPROCS(0), 4))
	var (
		mu    sync.Mutex
		total = newSyncTally()
	)
	t.Run("histories", func(t *testing.T) {
		for w := range workers {
			t.Run(fmt.Sprint("worker", w), func(t *testing.T) {
				t.Parallel()
				tally := newSyncTally()
				for h := w; h < histories; h += workers {
					runSyncHistory(t, h, steps, tally)
				}
				mu.Lock()
				defer mu.Unlock()
				total.merge(tally)
			})
		}
	})
	if t.Failed() {
		return
	}
	t.Logf("checked %d histories × %d steps: %d syncs, %d changes (%d added, %d modified, %d removed, %d resets of the scope, %d of a connection), %d transactions compared with Transactions.All; steps: %v",
		total.histories, steps, total.syncs, total.changes, total.kinds[basiq.ChangeAdded], total.kinds[basiq.ChangeModified],
		total.kinds[basiq.ChangeRemoved], total.resets[""], total.resets["connection"], total.compared, total.ops)
	t.Logf("after one refresh, %d of %d syncs read a connection again whole (the IBLT could not list the difference)",
		total.refreshResets, total.refreshSteps)
	require.LessOrEqual(t, total.refreshResets*100, total.refreshSteps, "at most 1%")
	require.Equal(t, histories, total.histories)
	require.Equal(t, histories*(steps+1), total.syncs)
	require.Positive(t, total.kinds[basiq.ChangeModified])
	require.Positive(t, total.kinds[basiq.ChangeRemoved])
}

func newSyncTally() *syncTally {
	return &syncTally{kinds: map[basiq.ChangeKind]int{}, resets: map[string]int{}, ops: map[string]int{}}
}

func (t *syncTally) merge(o *syncTally) {
	for k, v := range o.kinds {
		t.kinds[k] += v
	}
	for k, v := range o.resets {
		t.resets[k] += v
	}
	for k, v := range o.ops {
		t.ops[k] += v
	}
	t.syncs += o.syncs
	t.changes += o.changes
	t.compared += o.compared
	t.histories += o.histories
	t.refreshSteps += o.refreshSteps
	t.refreshResets += o.refreshResets
}

// runSyncHistory runs history h (its seed) for steps steps.
func runSyncHistory(t *testing.T, h, steps int, tally *syncTally) {
	rng := rand.New(rand.NewPCG(uint64(h), 0x5eed))
	e := newSyncEnv(t, basiqtest.WithTransactionsPerAccount(2+rng.IntN(6)), basiqtest.WithDataSeed(int64(h)))
	store := syncStore{}
	opts := &basiq.SyncOptions{}
	if rng.IntN(4) == 0 {
		opts.Overlap = 12 * 24 * time.Hour // still longer than the fake's late postings
	}
	cursor := store.apply(t, e.c.Transactions.Sync(e.ctx, e.userID, "", opts), tally)
	tally.compared += e.requireSameAsAll(store, fmt.Sprintf("history %d, first sync", h))
	type saved struct {
		store  syncStore
		cursor string
	}
	var snapshots []saved
	for step := range steps {
		op := "refresh"
		switch p := rng.IntN(100); {
		case p < 45:
			e.clock.Add(time.Duration(rng.IntN(3))*24*time.Hour + time.Hour)
			for _, c := range e.conns {
				if rng.IntN(3) > 0 {
					e.refresh(c)
				}
			}
		case p < 55:
			op = "refreshes"
			for range 2 {
				e.clock.Add(time.Duration(rng.IntN(2))*24*time.Hour + time.Hour)
				for _, c := range e.conns {
					e.refresh(c)
				}
			}
		case p < 63 && len(e.conns) > 0:
			op = "purge"
			e.purge(e.conns[rng.IntN(len(e.conns))])
		case p < 71 && len(e.conns) > 0:
			op = "purge+refresh"
			c := e.conns[rng.IntN(len(e.conns))]
			e.purge(c)
			e.clock.Add(time.Hour)
			e.refresh(c)
		case p < 76 && len(e.conns) > 0:
			op = "delete"
			e.remove(e.conns[rng.IntN(len(e.conns))])
		case p < 84 && len(e.conns) < 2:
			op = "connect"
			e.clock.Add(time.Hour)
			e.connect([]string{"AU00000", "AU00004"}[rng.IntN(2)])
		case p < 90 && len(snapshots) > 0:
			op = "old cursor"
			s := snapshots[rng.IntN(len(snapshots))]
			store, cursor = s.store.clone(), s.cursor
		default:
			op = "nothing"
		}
		tally.ops[op]++
		before, resetsBefore := tally.changes, tally.resets["connection"]
		cursor = store.apply(t, e.c.Transactions.Sync(e.ctx, e.userID, cursor, opts), tally)
		what := fmt.Sprintf("history %d, step %d (%s)", h, step, op)
		tally.compared += e.requireSameAsAll(store, what)
		if op == "nothing" {
			require.Equal(t, before, tally.changes, "%s: a sync with nothing new brings nothing", what)
		}
		switch resets := tally.resets["connection"] - resetsBefore; op {
		case "nothing":
			require.Zero(t, resets, "%s: a reset with nothing new", what)
		case "refresh":
			// One refresh changes a few transactions of the overlap: the
			// IBLT lists them, and only very rarely fails to (a connection
			// is then read again whole).
			tally.refreshSteps++
			tally.refreshResets += resets
		}
		snapshots = append(snapshots, saved{store.clone(), cursor})
	}
	tally.histories++
}

// syncChanges runs one sync to its end and returns its changes and cursor.
func syncChanges(t *testing.T, sy *basiq.TransactionSync) ([]basiq.TransactionChange, string) {
	t.Helper()
	var out []basiq.TransactionChange
	for ch, err := range sy.Changes() {
		require.NoError(t, err)
		out = append(out, ch)
	}
	next, err := sy.Cursor()
	require.NoError(t, err)
	return out, next
}

func countKinds(chs []basiq.TransactionChange) map[basiq.ChangeKind]int {
	n := map[basiq.ChangeKind]int{}
	for _, ch := range chs {
		n[ch.Kind]++
	}
	return n
}

// A cursor that is not this user's, this scope's, this version's, or is
// damaged resets the whole scope, then brings everything.
func TestSyncBadCursorResets(t *testing.T) {
	e := newSyncEnv(t)
	other, err := e.c.Users.Create(e.ctx, basiq.UserParams{Email: "other@example.com"})
	require.NoError(t, err)
	tally := newSyncTally()
	_, good := syncChanges(t, e.c.Transactions.Sync(e.ctx, e.userID, "", nil))
	_, otherUsers := syncChanges(t, e.c.Transactions.Sync(e.ctx, other.ID, "", nil))
	_, scoped := syncChanges(t, e.c.Transactions.Sync(e.ctx, e.userID, "", &basiq.SyncOptions{ConnectionID: e.conns[0]}))

	raw, err := base64.RawURLEncoding.DecodeString(good)
	require.NoError(t, err)
	oldVersion := append([]byte{0}, raw[1:]...)
	flipped := append([]byte(nil), raw...)
	flipped[len(flipped)/2] ^= 0x10
	for name, cursor := range map[string]string{
		"another user's":      otherUsers,
		"another scope's":     scoped,
		"cut short":           good[:len(good)-5],
		"garbled":             base64.RawURLEncoding.EncodeToString(flipped),
		"an older version":    base64.RawURLEncoding.EncodeToString(oldVersion),
		"not base64":          "not a cursor!",
		"huge":                string(make([]byte, 2<<20)),
		"one byte of version": base64.RawURLEncoding.EncodeToString([]byte{1}),
	} {
		t.Run(name, func(t *testing.T) {
			store := syncStore{"stale": {ID: "stale", ConnectionID: e.conns[0]}} // what the copy held
			chs, _ := syncChanges(t, e.c.Transactions.Sync(e.ctx, e.userID, cursor, nil))
			require.NotEmpty(t, chs)
			assert.Equal(t, basiq.TransactionChange{Kind: basiq.ChangeReset}, chs[0], "a reset of everything first")
			assert.Equal(t, 1, countKinds(chs)[basiq.ChangeReset])
			assert.Equal(t, len(chs)-1, countKinds(chs)[basiq.ChangeAdded], "then everything, added")
			_ = store.apply(t, e.c.Transactions.Sync(e.ctx, e.userID, cursor, nil), tally)
			e.requireSameAsAll(store, name)
		})
	}

	// The good cursor, with nothing new: no change at all.
	chs, _ := syncChanges(t, e.c.Transactions.Sync(e.ctx, e.userID, good, nil))
	assert.Empty(t, chs)
}

// A purge, a deleted connection and a connection whose accounts changed
// reset that connection only.
func TestSyncConnectionResets(t *testing.T) {
	e := newSyncEnv(t)
	e.connect("AU00004")
	hooli, gov := e.conns[0], e.conns[1]
	tally := newSyncTally()
	store := syncStore{}
	cursor := store.apply(t, e.c.Transactions.Sync(e.ctx, e.userID, "", nil), tally)

	e.purge(hooli)
	chs, next := syncChanges(t, e.c.Transactions.Sync(e.ctx, e.userID, cursor, nil))
	assert.Equal(t, []basiq.TransactionChange{{Kind: basiq.ChangeReset, ID: hooli}}, chs, "purged: its transactions are gone")
	_ = store.apply(t, e.c.Transactions.Sync(e.ctx, e.userID, cursor, nil), tally)
	e.requireSameAsAll(store, "after a purge")
	cursor = next

	e.clock.Add(time.Hour)
	e.refresh(hooli) // new accounts, new ids
	chs, _ = syncChanges(t, e.c.Transactions.Sync(e.ctx, e.userID, cursor, nil))
	require.NotEmpty(t, chs)
	assert.Equal(t, len(chs), countKinds(chs)[basiq.ChangeAdded], "after the purge, the new data comes as added")
	cursor = store.apply(t, e.c.Transactions.Sync(e.ctx, e.userID, cursor, nil), tally)
	e.requireSameAsAll(store, "after the refresh")

	e.purge(hooli)
	e.clock.Add(time.Hour)
	e.refresh(hooli) // purged and back between two syncs
	chs, _ = syncChanges(t, e.c.Transactions.Sync(e.ctx, e.userID, cursor, nil))
	assert.Equal(t, basiq.TransactionChange{Kind: basiq.ChangeReset, ID: hooli}, chs[0])
	cursor = store.apply(t, e.c.Transactions.Sync(e.ctx, e.userID, cursor, nil), tally)
	e.requireSameAsAll(store, "after a purge and a refresh")

	e.remove(gov)
	chs, _ = syncChanges(t, e.c.Transactions.Sync(e.ctx, e.userID, cursor, nil))
	assert.Equal(t, []basiq.TransactionChange{{Kind: basiq.ChangeReset, ID: gov}}, chs, "deleted")
	_ = store.apply(t, e.c.Transactions.Sync(e.ctx, e.userID, cursor, nil), tally)
	e.requireSameAsAll(store, "after a delete")
}

// A sync scoped to one connection sees only that connection.
func TestSyncScope(t *testing.T) {
	e := newSyncEnv(t)
	e.connect("AU00004")
	opts := &basiq.SyncOptions{ConnectionID: e.conns[1]}
	chs, cursor := syncChanges(t, e.c.Transactions.Sync(e.ctx, e.userID, "", opts))
	require.NotEmpty(t, chs)
	for _, ch := range chs {
		assert.Equal(t, e.conns[1], ch.Transaction.ConnectionID)
	}
	e.clock.Add(24 * time.Hour)
	e.refresh(e.conns[0])
	chs, cursor = syncChanges(t, e.c.Transactions.Sync(e.ctx, e.userID, cursor, opts))
	assert.Empty(t, chs, "the other connection's refresh is not in scope")
	e.refresh(e.conns[1])
	chs, _ = syncChanges(t, e.c.Transactions.Sync(e.ctx, e.userID, cursor, opts))
	assert.NotEmpty(t, chs)
}

// What a sync after a refresh costs: the accounts, one page of pending
// transactions and one page of the overlap per connection.
func TestSyncReadsTheOverlapOnly(t *testing.T) {
	e := newSyncEnv(t)
	_, cursor := syncChanges(t, e.c.Transactions.Sync(e.ctx, e.userID, "", nil))
	e.clock.Add(24 * time.Hour)
	e.refresh(e.conns[0])
	e.srv.ResetCounters()
	chs, _ := syncChanges(t, e.c.Transactions.Sync(e.ctx, e.userID, cursor, nil))
	assert.NotEmpty(t, chs)
	assert.Equal(t, 1, e.srv.RequestCount("GET", "/users/{userId}/accounts"))
	assert.Equal(t, 2, e.srv.RequestCount("GET", "/users/{userId}/transactions"), "pending, then the overlap")
}

// Zero values and misuse never panic: they return errors matching
// ErrInvalidInput.
func TestSyncMisuse(t *testing.T) {
	e := newSyncEnv(t)
	invalid := func(t *testing.T, sy *basiq.TransactionSync) {
		t.Helper()
		var errs []error
		for ch, err := range sy.Changes() {
			if err != nil {
				errs = append(errs, err)
				continue
			}
			assert.Zero(t, ch)
		}
		require.Len(t, errs, 1)
		assert.ErrorIs(t, errs[0], basiq.ErrInvalidInput)
		_, err := sy.Cursor()
		assert.ErrorIs(t, err, basiq.ErrInvalidInput, "no cursor after an error")
	}
	var nilSync *basiq.TransactionSync
	invalid(t, nilSync)
	var zero basiq.Client
	invalid(t, zero.Transactions.Sync(e.ctx, e.userID, "", nil))
	invalid(t, (&basiq.TransactionsService{}).Sync(e.ctx, e.userID, "", nil))
	//lint:ignore SA1012 testing the nil-context guard
	invalid(t, e.c.Transactions.Sync(nil, e.userID, "", nil))
	invalid(t, e.c.Transactions.Sync(e.ctx, "", "", nil))
	invalid(t, e.c.Transactions.Sync(e.ctx, "../x", "", nil))
	invalid(t, e.c.Transactions.Sync(e.ctx, e.userID, "", &basiq.SyncOptions{Overlap: -time.Hour}))
	invalid(t, e.c.Transactions.Sync(e.ctx, e.userID, "", &basiq.SyncOptions{Overlap: 91 * 24 * time.Hour}))
	invalid(t, e.c.Transactions.Sync(e.ctx, e.userID, "", &basiq.SyncOptions{ConnectionID: "a'b"}))

	sy := e.c.Transactions.Sync(e.ctx, e.userID, "", nil)
	_, err := sy.Cursor()
	assert.ErrorIs(t, err, basiq.ErrInvalidInput, "Cursor before Changes")
	n := 0
	for _, err := range sy.Changes() {
		require.NoError(t, err)
		n++
	}
	require.Positive(t, n)
	next, err := sy.Cursor()
	require.NoError(t, err)
	assert.NotEmpty(t, next)
	for _, err := range sy.Changes() {
		assert.ErrorIs(t, err, basiq.ErrInvalidInput, "Changes ranged twice")
	}
	again, err := sy.Cursor()
	require.NoError(t, err, "the first run's cursor stays")
	assert.Equal(t, next, again)

	stopped := e.c.Transactions.Sync(e.ctx, e.userID, "", nil)
	for range stopped.Changes() {
		break
	}
	_, err = stopped.Cursor()
	assert.ErrorIs(t, err, basiq.ErrInvalidInput, "Cursor after breaking out")

	ctx, cancel := context.WithCancel(e.ctx)
	cancel()
	failed := e.c.Transactions.Sync(ctx, e.userID, "", nil)
	var last error
	for _, err := range failed.Changes() {
		last = err
	}
	assert.True(t, errors.Is(last, context.Canceled), "%v", last)
	_, err = failed.Cursor()
	assert.ErrorIs(t, err, basiq.ErrInvalidInput)

	assert.Equal(t, "added", basiq.ChangeAdded.String())
	assert.Equal(t, "modified", basiq.ChangeModified.String())
	assert.Equal(t, "removed", basiq.ChangeRemoved.String())
	assert.Equal(t, "reset", basiq.ChangeReset.String())
	assert.Equal(t, "ChangeKind(9)", basiq.ChangeKind(9).String())
}
