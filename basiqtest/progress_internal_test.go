package basiqtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// scanAdvance is the fake's former job progress, kept as the reference for
// the queue: for every transition it rescans every running job for the
// earliest next change (ties in creation order). O(n) per transition.
func scanAdvance(s *Server, now time.Time) {
	for {
		var next *job
		var at time.Time
		for _, j := range s.st.jobs {
			if !j.running {
				continue
			}
			t, ok := s.nextEvent(j)
			if !ok {
				continue
			}
			if next == nil || t.Before(at) || t.Equal(at) && j.seq < next.seq {
				next, at = j, t
			}
		}
		if next == nil || at.After(now) {
			return
		}
		s.transition(next, at)
		s.schedule(next) // keeps the running indexes; the queued entry is after now
	}
}

// world is one fake under a scripted workload. The reference world replays
// jobs with scanAdvance before every call, so its own queue never has
// anything due; the other uses the queue alone.
type world struct {
	t         *testing.T
	srv       *Server
	reference bool
	now       func() time.Time
	server    map[string]string // SERVER_ACCESS token by version
	client    map[int]string    // CLIENT_ACCESS 2.1 token by user index
	users     []string          // user ids, in creation order
}

func newWorld(t *testing.T, clock func() time.Time, reference bool) *world {
	w := &world{t: t, reference: reference, now: clock, server: map[string]string{}, client: map[int]string{}}
	w.srv = NewServer(InMemory(), WithClock(clock), WithTokenTTL(1000*time.Hour))
	t.Cleanup(w.srv.Close)
	for _, v := range supportedVersions() {
		w.server[v] = w.token(url.Values{"scope": {"SERVER_ACCESS"}}, v)
	}
	return w
}

// catchUp brings the reference world's jobs up to the clock.
func (w *world) catchUp() {
	if w.reference {
		w.srv.mu.Lock()
		scanAdvance(w.srv, w.now())
		w.srv.mu.Unlock()
	}
}

func (w *world) token(form url.Values, version string) string {
	w.catchUp()
	req, _ := http.NewRequest("POST", w.srv.URL+"/token", strings.NewReader(form.Encode()))
	req.Header.Set("Authorization", "Basic "+w.srv.APIKey())
	req.Header.Set("basiq-version", version)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	_, body := w.send(req)
	return body["access_token"].(string)
}

// do makes one API call and returns its status and the "id" it answered.
func (w *world) do(method, path, tok string, body any) string {
	w.catchUp()
	var rd io.Reader
	if body != nil {
		raw, _ := json.Marshal(body)
		rd = bytes.NewReader(raw)
	}
	req, _ := http.NewRequest(method, w.srv.URL+path, rd)
	req.Header.Set("Authorization", "Bearer "+tok)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	status, out := w.send(req)
	id, _ := out["id"].(string)
	if id == "" {
		return fmt.Sprint(status)
	}
	return fmt.Sprint(status, " ", w.jobIndex(id))
}

func (w *world) send(req *http.Request) (int, map[string]any) {
	res, err := w.srv.Client().Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(res.Body).Decode(&out)
	return res.StatusCode, out
}

// jobIndex names a job by its creation order, the same in both worlds.
func (w *world) jobIndex(id string) string {
	w.srv.mu.Lock()
	defer w.srv.mu.Unlock()
	if j := w.srv.st.jobs[id]; j != nil {
		return fmt.Sprint("job#", j.seq)
	}
	return "other"
}

// byCreation returns the user's connection ids and the jobs, oldest first.
func (w *world) byCreation(userIdx int) (conns []string, jobs []*job) {
	w.srv.mu.Lock()
	defer w.srv.mu.Unlock()
	if u := w.srv.st.users[w.users[userIdx]]; u != nil {
		conns = slices.Clone(u.conns)
	}
	for _, j := range w.srv.st.jobs {
		jobs = append(jobs, j)
	}
	slices.SortFunc(jobs, func(a, b *job) int { return a.seq - b.seq })
	return conns, jobs
}

// snapshot describes every job and connection, without the random ids.
func (w *world) snapshot() string {
	if w.reference {
		w.catchUp()
	} else {
		w.srv.mu.Lock()
		w.srv.advance(w.now())
		w.srv.mu.Unlock()
	}
	_, jobs := w.byCreation(0)
	w.srv.mu.Lock()
	defer w.srv.mu.Unlock()
	var b strings.Builder
	for _, j := range jobs {
		next, _ := w.srv.nextEvent(j)
		fmt.Fprintf(&b, "job#%d %s %s v%s running=%v updated=%s next=%s:", j.seq, j.op, j.instID, j.version, j.running,
			j.updated.Format(time.RFC3339Nano), next.Format(time.RFC3339Nano))
		for _, st := range j.steps {
			code := ""
			if e, ok := st.result.(stepError); ok {
				code = e.Code
			}
			fmt.Fprintf(&b, " %s=%s%s", st.title, st.status, code)
		}
		if c := w.srv.st.conns[j.connID]; c != nil {
			fmt.Fprintf(&b, " conn#%d=%s used=%s mfa=%v", c.seq, c.status, c.lastUsed.Format(time.RFC3339Nano), c.mfaEnabled)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// TestQueueMatchesRescan runs random workloads (creates, duplicates, Connect,
// refreshes, updates, MFA answers, forced outcomes, deleted users, clock
// jumps) on two fakes, one progressing jobs with the queue and one with the
// former full rescan, and requires the same answers and the same jobs and
// connections after every call.
func TestQueueMatchesRescan(t *testing.T) {
	for seed := range uint64(4) {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			var mu sync.Mutex
			now := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
			clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
			worlds := []*world{newWorld(t, clock, false), newWorld(t, clock, true)}
			rng := rand.New(rand.NewPCG(seed, 42))
			insts := []string{"AU00000", "AU00002", "AU00003", "AU00004", "AU10001"}
			logins := [][2]string{{"gavinBelson", "hooli2016"}, {"jared", "django"}, {"Wentworth-Smith", "whislter"},
				{"bighead", "password"}, {"erlich", "aviato"}, {"jianYang", "nothotdog"}, {"richard", "wrong"}}
			answers := map[string][]string{"gavinBelson": {"Hooli"}, "jared": {"1234"}, "Wentworth-Smith": {"Basiq", "AU00000"}}
			versions := []string{"2.0", "2.1", "2.1", "3.0"}
			steps := []time.Duration{0, 0, 100 * time.Millisecond, time.Second, 4 * time.Second, 9 * time.Second,
				30 * time.Second, 2 * time.Minute, 7 * time.Minute, 2*time.Hour + time.Second, 30 * time.Hour}

			var log []string
			for op := range 300 {
				var desc string
				var got []string
				switch r := rng.IntN(100); {
				case r < 6 || len(worlds[0].users) == 0:
					desc = "create user"
					for _, w := range worlds {
						w.catchUp()
						w.users = append(w.users, w.createUser())
					}
				case r < 30:
					u, inst, l, v := rng.IntN(len(worlds[0].users)), insts[rng.IntN(len(insts))], logins[rng.IntN(len(logins))], versions[rng.IntN(3)]
					desc = fmt.Sprintf("POST connection user%d %s %s v%s", u, inst, l[0], v)
					for _, w := range worlds {
						got = append(got, w.do("POST", "/users/"+w.users[u]+"/connections", w.server[v],
							map[string]any{"loginId": l[0], "password": l[1], "institution": map[string]string{"id": inst}}))
					}
				case r < 40:
					u, inst, l := rng.IntN(len(worlds[0].users)), insts[rng.IntN(len(insts))], logins[rng.IntN(len(logins))]
					desc = fmt.Sprintf("Connect user%d %s %s", u, inst, l[0])
					for _, w := range worlds {
						w.catchUp()
						id, err := w.srv.Connect(w.users[u], inst, l[0], l[1])
						if err != nil {
							id = "" // the error names the (random) user id
						}
						got = append(got, fmt.Sprint(err != nil, w.jobIndex(id)))
					}
				case r < 55:
					u, v := rng.IntN(len(worlds[0].users)), versions[rng.IntN(len(versions))]
					conns, _ := worlds[0].byCreation(u)
					if len(conns) == 0 {
						continue
					}
					c := rng.IntN(len(conns))
					desc = fmt.Sprintf("refresh user%d conn%d v%s", u, c, v)
					for _, w := range worlds {
						conns, _ := w.byCreation(u)
						got = append(got, w.do("POST", "/users/"+w.users[u]+"/connections/"+conns[c]+"/refresh", w.server[v], nil))
					}
				case r < 60:
					u, v := rng.IntN(len(worlds[0].users)), versions[rng.IntN(len(versions))]
					desc = fmt.Sprintf("refresh all user%d v%s", u, v)
					for _, w := range worlds {
						got = append(got, w.do("POST", "/users/"+w.users[u]+"/connections/refresh", w.server[v], nil))
					}
				case r < 66:
					u, l := rng.IntN(len(worlds[0].users)), logins[rng.IntN(len(logins))]
					conns, _ := worlds[0].byCreation(u)
					if len(conns) == 0 {
						continue
					}
					c := rng.IntN(len(conns))
					desc = fmt.Sprintf("update user%d conn%d password of %s", u, c, l[0])
					for _, w := range worlds {
						conns, _ := w.byCreation(u)
						got = append(got, w.do("POST", "/users/"+w.users[u]+"/connections/"+conns[c], w.server["2.1"],
							map[string]any{"password": l[1]}))
					}
				case r < 82:
					_, jobs := worlds[0].byCreation(0)
					var waiting []int
					for i, j := range jobs {
						if j.awaitingMFA() {
							waiting = append(waiting, i)
						}
					}
					k := rng.IntN(len(jobs) + 1)
					if len(waiting) > 0 && rng.IntN(5) > 0 {
						k = waiting[rng.IntN(len(waiting))]
					}
					if k == len(jobs) {
						continue
					}
					wrong := rng.IntN(4) == 0
					desc = fmt.Sprintf("answer MFA job#%d wrong=%v", jobs[k].seq, wrong)
					for _, w := range worlds {
						_, jobs := w.byCreation(0)
						j := jobs[k]
						ans := answers[j.creds.loginID]
						if wrong || ans == nil {
							ans = []string{"nope"}
						}
						got = append(got, w.do("POST", "/jobs/"+j.id+"/mfa", w.clientFor(j.userID), map[string]any{"mfa-response": ans}))
					}
				case r < 86:
					l, codes := logins[rng.IntN(len(logins))][0], []string{"", "service-unavailable", "invalid-credentials"}
					o := Outcome{Code: codes[rng.IntN(len(codes))], Step: []string{"", StepRetrieveAccounts, StepMFAChallenge}[rng.IntN(3)]}
					desc = fmt.Sprintf("outcome %s %+v", l, o)
					for _, w := range worlds {
						w.catchUp()
						w.srv.SetLoginOutcome(l, o)
					}
				case r < 88:
					u := rng.IntN(len(worlds[0].users))
					desc = fmt.Sprintf("delete user%d", u)
					for _, w := range worlds {
						got = append(got, w.do("DELETE", "/users/"+w.users[u], w.server["2.1"], nil))
					}
				default:
					d := steps[rng.IntN(len(steps))]
					desc = fmt.Sprint("clock +", d)
					mu.Lock()
					now = now.Add(d)
					mu.Unlock()
				}
				log = append(log, fmt.Sprintf("%d: %s %v", op, desc, got))
				if len(got) == 2 && got[0] != got[1] {
					t.Fatalf("answers differ: queue %s, rescan %s\n%s", got[0], got[1], strings.Join(log, "\n"))
				}
				checkIndexes(t, worlds[0].srv)
				if a, b := worlds[0].snapshot(), worlds[1].snapshot(); a != b {
					t.Fatalf("state differs after:\n%s\nqueue:\n%s\nrescan:\n%s", strings.Join(log, "\n"), a, b)
				}
			}
			_, jobs := worlds[0].byCreation(0)
			if len(jobs) < 25 {
				t.Fatalf("only %d jobs: the workload is too thin", len(jobs))
			}
		})
	}
}

// checkIndexes requires the running indexes to hold what the former scans
// over all jobs found: by connection, the unfinished jobs oldest first (the
// refresh rule answers with the last); by institution and login, how many
// are unfinished (the six-minute hold).
func checkIndexes(t *testing.T, s *Server) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	byConn := map[string][]*job{}
	byLogin := map[instLogin]int{}
	for _, j := range s.st.jobs {
		if j.running != !j.finished() {
			t.Fatalf("job#%d: running %v, finished %v", j.seq, j.running, j.finished())
		}
		if !j.finished() {
			byConn[j.connID] = append(byConn[j.connID], j)
			byLogin[instLogin{j.instID, j.creds.loginID}]++
		}
	}
	for _, js := range byConn {
		slices.SortFunc(js, func(a, b *job) int { return a.seq - b.seq })
	}
	if fmt.Sprint(byConn) != fmt.Sprint(s.st.byConn) || fmt.Sprint(byLogin) != fmt.Sprint(s.st.byLogin) {
		t.Fatalf("indexes %v %v, want %v %v", s.st.byConn, s.st.byLogin, byConn, byLogin)
	}
}

func (w *world) createUser() string {
	req, _ := http.NewRequest("POST", w.srv.URL+"/users", strings.NewReader(`{"email":"gavin@hooli.com"}`))
	req.Header.Set("Authorization", "Bearer "+w.server["2.1"])
	req.Header.Set("Content-Type", "application/json")
	_, out := w.send(req)
	return out["id"].(string)
}

// clientFor returns a CLIENT_ACCESS 2.1 token for the user.
func (w *world) clientFor(userID string) string {
	i := slices.Index(w.users, userID)
	if w.client[i] == "" {
		w.client[i] = w.token(url.Values{"scope": {"CLIENT_ACCESS"}, "userId": {userID}}, "2.1")
	}
	return w.client[i]
}
