package basiq

import (
	"context"
	"sync"
	"time"
)

// A poller schedules by how long each step is expected to take. The best
// source is the institution's own averages (stats.averageDurationMs), but a
// v3 job does not name its institution, and its connection (links.source)
// appears only once verify-credentials has ended. So, in order:
//
//  1. the institution's averages (on API 3.0 its connector's, where
//     /institutions is gone: instcache.go), when PollOptions.InstitutionID gives it, a
//     job list item carries it, or the job's connection reveals it (one GET
//     of the connection, cached by connection id for every poller of the
//     client);
//  2. the durations this client has observed for recent jobs (an
//     exponentially weighted average per step);
//  3. a default curve: Basiq's sandbox averages, a typical connection job.

// The default curve: Hooli's published averages, about what Basiq's
// documents give as a typical connection job (3 to 30 s in all).
const (
	defaultVerifyCredentials    = 8 * time.Second
	defaultRetrieveAccounts     = 4 * time.Second
	defaultRetrieveTransactions = 7 * time.Second
)

// defaultDuration is the default curve's duration of step (0: none).
func defaultDuration(step StepName) time.Duration {
	switch step {
	case StepVerifyCredentials:
		return defaultVerifyCredentials
	case StepRetrieveAccounts:
		return defaultRetrieveAccounts
	case StepRetrieveTransactions:
		return defaultRetrieveTransactions
	}
	return 0
}

// learnWeight is the weight of a precise observation in the running
// average; a vaguer one (its step's end known only to a wider window) weighs
// less.
const learnWeight = 0.3

// stepLearner keeps the step durations a client has observed.
type stepLearner struct {
	mu  sync.Mutex
	avg map[StepName]time.Duration
}

// observe adds an observed duration of step, known to lie in (lo, hi].
func (l *stepLearner) observe(step StepName, lo, hi time.Duration) {
	if lo < 0 || hi <= lo || hi > 10*time.Minute {
		return // not a connection step's duration: a wait for the user, a stale job
	}
	mid, width := (lo+hi)/2, hi-lo
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.avg == nil {
		l.avg = make(map[StepName]time.Duration)
	}
	old, ok := l.avg[step]
	if !ok {
		old = defaultDuration(step)
	}
	// Precision: a window of at most a tenth of the duration (or 1 s) counts
	// fully; a wider one in proportion.
	precise := max(mid/10, time.Second)
	w := learnWeight * min(1, float64(precise)/float64(width))
	if old <= 0 {
		w = 1
	}
	l.avg[step] = old + time.Duration(w*float64(mid-old))
}

// average returns the observed average of step, if any.
func (l *stepLearner) average(step StepName) (time.Duration, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	d, ok := l.avg[step]
	return d, ok
}

// expectedDuration is how long step should take, from the best source known.
func (p *Poller) expectedDuration(step StepName) time.Duration {
	if d := p.durations.For(step); d > 0 || (p.durations.Reported && defaultDuration(step) > 0) {
		return d // the institution's own averages (zero: the step is instant)
	}
	if d, ok := p.jobs.learned.average(step); ok {
		return d
	}
	return defaultDuration(step)
}

// learnStep records how long a step took, when this poller saw it start:
// it ended between the poll that last saw it running and this one.
func (p *Poller) learnStep(step StepName, now time.Time) {
	began, ok := p.stepSeen[step]
	if !ok || p.lastPoll.IsZero() || !began.Before(p.lastPoll) {
		return
	}
	p.jobs.learned.observe(step, p.lastPoll.Sub(began), now.Sub(began))
}

// connInstitutions remembers the institution of each connection a poller
// looked up (it never changes), for every poller of the client.
type connInstitutions struct {
	mu      sync.Mutex
	byID    map[string]string
	flights flights[string]
}

// maxConnInstitutions bounds the cache; past it, it starts again.
const maxConnInstitutions = 4096

// connectionLookupTimeout bounds the shared look-up, which runs detached
// from the callers' contexts.
const connectionLookupTimeout = 30 * time.Second

// institutionOf returns the institution of the user's connection: cached,
// else one GET shared by concurrent callers.
func (s *JobsService) institutionOf(ctx context.Context, userID, connID string) (string, error) {
	ci := &s.connInst
	ci.mu.Lock()
	id, ok := ci.byID[connID]
	ci.mu.Unlock()
	if ok {
		return id, nil
	}
	return ci.flights.do(ctx, connID, connectionLookupTimeout, func(fctx context.Context) (string, error) {
		ci.mu.Lock()
		id, ok := ci.byID[connID]
		ci.mu.Unlock()
		if ok {
			return id, nil
		}
		cn, err := s.client().connections.Get(fctx, userID, connID)
		if err != nil {
			return "", err
		}
		ci.mu.Lock()
		if ci.byID == nil || len(ci.byID) >= maxConnInstitutions {
			ci.byID = make(map[string]string)
		}
		ci.byID[connID] = cn.Institution.ID
		ci.mu.Unlock()
		return cn.Institution.ID, nil
	})
}

// discoverInstitution learns the job's institution from its connection once
// the job names it, so that the rest of the job is scheduled by the
// institution's own averages (and its failure diagnosed by its status).
func (p *Poller) discoverInstitution(ctx context.Context) {
	if p.instID != "" || p.connTried || p.job == nil {
		return
	}
	user, conn := p.job.owner()
	if user == "" || conn == "" {
		return
	}
	p.connTried = true
	if id, err := p.jobs.institutionOf(ctx, user, conn); err == nil {
		p.instID = id
	}
}
