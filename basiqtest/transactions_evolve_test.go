package basiqtest_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banklink-go/basiq/basiqtest"
)

// refresh refreshes the setup's connection and lets its job finish.
func (d *dataSetup) refresh(t *testing.T) {
	t.Helper()
	d.tok = d.a.serverToken("3.0") // tokens last an hour
	r := d.a.send("POST", "/users/"+d.userID+"/connections/"+d.connID+"/refresh", d.tok, nil)
	require.Equal(t, http.StatusAccepted, r.Status, "body: %s", r.Body)
	d.clock.Add(time.Minute)
	st, _ := d.srv.Job(r.JSON(t)["id"].(string))
	require.True(t, st.Done)
}

// byID indexes transactions by id, with their id relative to the account
// (the last 12 hex digits), so that two servers can be compared.
func byID(txs []txDoc) map[string]txDoc {
	out := map[string]txDoc{}
	for _, tx := range txs {
		out[tx.ID] = tx
	}
	return out
}

func TestTransactionsEvolveAtEachRefresh(t *testing.T) {
	d := newDataSetup(t, basiqtest.WithTransactionsPerAccount(60))
	first, _ := d.all(t, "")
	require.Len(t, first, 180)
	firstDay := *first[3].PostDate

	d.clock.Add(24 * time.Hour)
	d.refresh(t)
	d.clock.Add(48 * time.Hour)
	d.refresh(t)
	now, _ := d.all(t, "")
	before, after := byID(first), byID(now)

	var posted, replaced, added, late, corrected int
	for id, tx := range before {
		n, kept := after[id]
		switch {
		case tx.Status == "pending" && !kept:
			replaced++ // or dropped: Basiq's pending rows do not keep their ids
		case tx.Status == "pending" && n.Status == "posted":
			posted++
			assert.Equal(t, tx.Amount, n.Amount, "posted under its id, with its details")
			assert.Equal(t, tx.Description, n.Description)
		case tx.Status == "posted":
			require.True(t, kept, "a posted transaction stays")
			assert.Equal(t, tx.PostDate, n.PostDate, "and keeps its date")
			assert.Equal(t, tx.Amount, n.Amount)
		}
	}
	for id, tx := range after {
		if _, was := before[id]; was {
			continue
		}
		added++
		if tx.PostDate != nil && (*tx.PostDate)[:10] < firstDay[:10] {
			late++ // dated before the first retrieval's day: a late posting
		}
		if strings.HasSuffix(tx.Description, " (CORRECTED)") {
			corrected++
		}
	}
	t.Logf("after 2 refreshes: %d pending posted under their id, %d pending replaced, %d new (%d late postings), %d corrected", posted, replaced, added, late, corrected)
	assert.Positive(t, posted)
	assert.Positive(t, replaced)
	assert.Greater(t, added, replaced)
	assert.Positive(t, late)

	// The same seed and the same days: the same evolution on another server.
	d2 := newDataSetup(t, basiqtest.WithTransactionsPerAccount(60))
	d2.clock.Add(24 * time.Hour)
	d2.refresh(t)
	d2.clock.Add(48 * time.Hour)
	d2.refresh(t)
	again, _ := d2.all(t, "")
	require.Len(t, again, len(now))
	for i := range now {
		assert.Equal(t, now[i].ID[24:], again[i].ID[24:], "ids relative to the account")
		assert.Equal(t, now[i].Status+now[i].Amount+now[i].Description, again[i].Status+again[i].Amount+again[i].Description)
	}

	// Every transaction listed can be fetched by its id.
	for _, tx := range now[:20] {
		r := d.a.send("GET", "/users/"+d.userID+"/transactions/"+tx.ID, d.tok, nil)
		require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
	}
	for id, tx := range before {
		if _, kept := after[id]; !kept && tx.Status == "pending" {
			r := d.a.send("GET", "/users/"+d.userID+"/transactions/"+id, d.tok, nil)
			assert.Equal(t, http.StatusNotFound, r.Status, "a replaced pending transaction is gone")
		}
	}

	// A purge empties them.
	r := d.a.send("POST", "/users/"+d.userID+"/connections/"+d.connID+"/purge", d.tok, nil)
	require.Equal(t, http.StatusNoContent, r.Status, "body: %s", r.Body)
	gone, _ := d.all(t, "")
	assert.Empty(t, gone)
}
