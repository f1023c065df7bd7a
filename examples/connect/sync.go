package main

import (
	"context"
	"fmt"
	"io"
	"reflect"

	"github.com/banklink-go/basiq"
)

// showSync keeps a local copy of the user's transactions in sync (-sync):
// a first sync from nothing, a refresh of the connection, then the changes
// the refresh brought, printed one by one and applied to the copy.
func showSync(ctx context.Context, w io.Writer, c *basiq.Client, poll basiq.PollOptions, userID, connectionID string) error {
	copyOf := map[string]basiq.Transaction{} // the app's store, by transaction id

	fmt.Fprintln(w, "\nTransactions sync (Transactions.Sync):")
	cursor, err := syncOnce(ctx, w, c, userID, "", copyOf, false)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "  first sync: the copy holds %d transaction(s); cursor %d bytes\n", len(copyOf), len(cursor))

	job, err := c.Connections.Refresh(ctx, userID, connectionID)
	if err != nil {
		return fmt.Errorf("refreshing connection: %w", err)
	}
	poll.Operation = basiq.OpRefresh
	if _, err := c.Jobs.Wait(ctx, job.ID, &poll); err != nil {
		return fmt.Errorf("waiting for refresh job %s: %w", job.ID, err)
	}
	fmt.Fprintf(w, "  refreshed the connection (job %s); the changes it brought:\n", job.ID)
	if cursor, err = syncOnce(ctx, w, c, userID, cursor, copyOf, true); err != nil {
		return err
	}
	fmt.Fprintf(w, "  the copy holds %d transaction(s); next cursor %d bytes\n", len(copyOf), len(cursor))

	// The copy is what a full read lists now: same ids, same contents.
	n, same := 0, true
	for tx, err := range c.Transactions.All(ctx, userID, nil) {
		if err != nil {
			return fmt.Errorf("reading transactions: %w", err)
		}
		n++
		held, ok := copyOf[tx.ID]
		same = same && ok && reflect.DeepEqual(held, tx)
	}
	same = same && n == len(copyOf)
	fmt.Fprintf(w, "  the copy matches Transactions.All (%d transaction(s)): %s\n", n, yesNo(same))
	if !same {
		return fmt.Errorf("the synced copy differs from Transactions.All")
	}
	return nil
}

// syncOnce runs one sync from cursor, applies its changes to copyOf in
// order, prints them when show is set, and returns the next cursor.
func syncOnce(ctx context.Context, w io.Writer, c *basiq.Client, userID, cursor string, copyOf map[string]basiq.Transaction, show bool) (string, error) {
	s := c.Transactions.Sync(ctx, userID, cursor, nil)
	counts := map[basiq.ChangeKind]int{}
	for ch, err := range s.Changes() {
		if err != nil {
			return "", fmt.Errorf("syncing transactions: %w", err) // keep the old cursor, try again later
		}
		counts[ch.Kind]++
		switch ch.Kind {
		case basiq.ChangeAdded, basiq.ChangeModified:
			copyOf[ch.ID] = *ch.Transaction
		case basiq.ChangeRemoved:
			delete(copyOf, ch.ID)
		case basiq.ChangeReset:
			for id, tx := range copyOf {
				if ch.ID == "" || tx.ConnectionID == ch.ID {
					delete(copyOf, id)
				}
			}
		}
		if !show {
			continue
		}
		if ch.Transaction == nil {
			fmt.Fprintf(w, "    %-8s %s\n", ch.Kind, ch.ID)
			continue
		}
		tx := ch.Transaction
		date := "pending"
		if !tx.PostDate.IsZero() {
			date = tx.PostDate.Format("2006-01-02")
		}
		fmt.Fprintf(w, "    %-8s %s  %-10s %10s %s  %s\n", ch.Kind, tx.ID, date, tx.Amount, tx.Currency, tx.Description)
	}
	next, err := s.Cursor()
	if err != nil {
		return "", err
	}
	fmt.Fprintf(w, "  %d added, %d modified, %d removed, %d reset\n",
		counts[basiq.ChangeAdded], counts[basiq.ChangeModified], counts[basiq.ChangeRemoved], counts[basiq.ChangeReset])
	return next, nil
}
