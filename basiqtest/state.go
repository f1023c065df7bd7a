package basiqtest

// state is everything the fake knows. The Server's mutex guards it.
type state struct {
	users    map[string]*user
	conns    map[string]*connection
	jobs     map[string]*job
	tokens   map[string]*token
	minted   []string       // token values, oldest first, for pruning (auth.go)
	insts    []*institution // in catalogue order
	instByID map[string]*institution
	logins   map[string]*login  // the bank side: who can log in, with what
	outcomes map[string]Outcome // forced failures by login id
	seq      int                // creation counter, for stable ordering

	consentState // consent.go: the consent policy, consent page sessions
	eventState   // events.go: events, consent timers, webhooks and their messages

	reports   map[string]*report   // reports.go: finished reports by id
	authLinks map[string]*authLink // authlinks.go: each user's newest auth link

	// Jobs that may still change by the clock (progress.go): their next
	// changes, earliest first, and indexes of them by connection and by
	// institution and login.
	queue   jobQueue
	byConn  map[string][]*job // oldest first
	byLogin map[instLogin]int
	work    int // queue entries advance has examined, for tests of its cost
}

// instLogin is a login at an institution.
type instLogin struct{ instID, loginID string }

func newState(cfg config) *state {
	st := &state{
		users:     map[string]*user{},
		conns:     map[string]*connection{},
		jobs:      map[string]*job{},
		tokens:    map[string]*token{},
		instByID:  map[string]*institution{},
		logins:    map[string]*login{},
		outcomes:  map[string]Outcome{},
		byConn:    map[string][]*job{},
		byLogin:   map[instLogin]int{},
		reports:   map[string]*report{},
		authLinks: map[string]*authLink{},
	}
	st.eventState = newEventState()
	for _, inst := range catalog() {
		st.insts = append(st.insts, inst)
		st.instByID[inst.ID] = inst
	}
	for _, l := range sandboxLogins() {
		st.logins[l.id] = l
	}
	for id, o := range sandboxFailures() {
		if step, ok := cfg.failureSteps[id]; ok {
			o.Step = step
		}
		st.outcomes[id] = o
	}
	return st
}

// next returns the next creation sequence number.
func (st *state) next() int {
	st.seq++
	return st.seq
}
