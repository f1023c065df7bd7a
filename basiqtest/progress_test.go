package basiqtest_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banklink-go/basiq/basiqtest"
)

// runningJobs starts n create jobs at Hooli, n logins spread over users a
// hundred at a time, all still running by the returned clock, and returns
// their ids.
func runningJobs(tb testing.TB, n int) (*basiqtest.Server, *api, *fakeClock, string, []string) {
	tb.Helper()
	clk := newFakeClock()
	srv := basiqtest.NewServer(basiqtest.InMemory(), basiqtest.WithClock(clk.Now))
	a := newAPI(tb, srv)
	tok := a.serverToken("2.1")
	var userID string
	ids := make([]string, n)
	for i := range ids {
		if i%100 == 0 {
			userID = a.createUser(tok)
		}
		login := fmt.Sprint("login", i)
		srv.SetLoginPassword(login, "secret")
		id, err := srv.Connect(userID, "AU00000", login, "secret")
		require.NoError(tb, err)
		ids[i] = id
	}
	return srv, a, clk, tok, ids
}

// TestRequestCostWithManyRunningJobs: bringing jobs up to date before a
// request looks only at the jobs whose time has come (a heap keyed by next
// change), not at every running job for every transition. With 10,000
// running jobs the former scan examined all 10,000 on every request, and
// 10,000 for each of the 50,000 transitions of a clock jump.
func TestRequestCostWithManyRunningJobs(t *testing.T) {
	const n = 10000
	srv, a, clk, tok, ids := runningJobs(t, n)
	defer srv.Close()
	a.job(tok, ids[n-1]) // the last job starts

	work := srv.AdvanceWork()
	j := a.job(tok, ids[0])
	assert.Equal(t, "in-progress", j.step(t, "verify-credentials").Status)
	a.serverToken("2.1") // POST /token brings jobs up to date too
	assert.LessOrEqual(t, srv.AdvanceWork()-work, 2, "queue entries examined by two requests with nothing due")

	// Every job runs its five remaining transitions (verify-credentials
	// ending, two more steps starting and ending) in the next request: each
	// is one entry off the queue.
	clk.Add(time.Minute)
	work = srv.AdvanceWork()
	j = a.job(tok, ids[0])
	assert.Equal(t, 5*n, srv.AdvanceWork()-work, "queue entries examined to replay 5 transitions of %d jobs", n)
	assert.Equal(t, "success", j.step(t, "retrieve-transactions").Status)
	for _, id := range []string{ids[1], ids[n/2], ids[n-1]} {
		st, ok := srv.Job(id)
		require.True(t, ok)
		assert.True(t, st.Done)
	}

	// A refresh finds the connection's running job, and a second connection
	// with the same login finds the login in use, without a scan either.
	st, _ := srv.Job(ids[n/2])
	work = srv.AdvanceWork()
	r := a.send("POST", "/users/"+st.UserID+"/connections/"+st.ConnectionID+"/refresh", tok, nil)
	require.Equal(t, 202, r.Status)
	assert.Equal(t, 200, a.send("POST", "/users/"+st.UserID+"/connections/"+st.ConnectionID+"/refresh", tok, nil).Status)
	held := a.connect(tok, a.createUser(tok), "AU00000", fmt.Sprint("login", n/2), "secret")
	hs, _ := srv.Job(held)
	assert.Equal(t, clk.Now().Add(6*time.Minute), hs.NextChange, "held six minutes")
	assert.LessOrEqual(t, srv.AdvanceWork()-work, 8)
}

// BenchmarkRequestWithRunningJobs measures one GET /jobs/{id} while n jobs
// are running and none is due to change: flat in n.
func BenchmarkRequestWithRunningJobs(b *testing.B) {
	for _, n := range []int{100, 1000, 10000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			srv, a, _, tok, ids := runningJobs(b, n)
			defer srv.Close()
			a.job(tok, ids[n-1])
			for b.Loop() {
				a.job(tok, ids[0])
			}
		})
	}
}

// BenchmarkReplayRunningJobs measures the request after a clock jump that
// runs n jobs to the end (5n transitions): O(n log n).
func BenchmarkReplayRunningJobs(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				srv, a, clk, tok, ids := runningJobs(b, n)
				a.job(tok, ids[n-1])
				clk.Add(time.Minute)
				b.StartTimer()
				a.job(tok, ids[0])
				b.StopTimer()
				srv.Close()
				b.StartTimer()
			}
		})
	}
}
