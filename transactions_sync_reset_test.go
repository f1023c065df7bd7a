package basiq_test

import (
	"context"
	"encoding/base64"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banklink-go/basiq"
)

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
