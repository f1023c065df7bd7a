package basiqtest

// state is everything the fake knows. The Server's mutex guards it.
type state struct {
	users    map[string]*user
	conns    map[string]*connection
	jobs     map[string]*job
	active   map[string]*job // jobs that may still change by the clock
	tokens   map[string]*token
	insts    []*institution // in catalogue order
	instByID map[string]*institution
	logins   map[string]*login  // the bank side: who can log in, with what
	outcomes map[string]Outcome // forced failures by login id
	mfaTurns map[string]int     // per institution, for intermittent MFA
	seq      int                // creation counter, for stable ordering
}

func newState(cfg config) *state {
	st := &state{
		users:    map[string]*user{},
		conns:    map[string]*connection{},
		jobs:     map[string]*job{},
		active:   map[string]*job{},
		tokens:   map[string]*token{},
		instByID: map[string]*institution{},
		logins:   map[string]*login{},
		outcomes: map[string]Outcome{},
		mfaTurns: map[string]int{},
	}
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
