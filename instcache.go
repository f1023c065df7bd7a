package basiq

import (
	"context"
	"sync"
	"time"
)

// institutionTTL is how long a fetched institution (its status and step
// durations) is reused. Basiq re-evaluates statuses every 30 minutes.
const institutionTTL = 5 * time.Minute

// institutionCache shares institution look-ups between pollers.
type institutionCache struct {
	mu      sync.Mutex
	entries map[string]cachedInstitution
	flights flights[*Institution]
}

type cachedInstitution struct {
	inst    *Institution
	fetched time.Time
}

// institutionFetchTimeout bounds a shared institution look-up, which runs
// detached from the contexts of the callers waiting for it.
const institutionFetchTimeout = time.Minute

// cached returns a copy of the institution, fetched at most once per
// institutionTTL however many callers ask at once. The shared fetch does not
// run on any one caller's context, so a caller giving up fails nobody else,
// and it is abandoned when every caller has given up.
func (s *InstitutionsService) cached(ctx context.Context, id string) (*Institution, error) {
	if err := s.client().ready(); err != nil {
		return nil, err
	}
	if ctx == nil {
		return nil, invalidInput("nil context")
	}
	ic := &s.cache
	if inst, ok := ic.fresh(id); ok {
		return inst.clone(), nil
	}
	inst, err := ic.flights.do(ctx, id, institutionFetchTimeout, func(fctx context.Context) (*Institution, error) {
		// A caller that missed the cache may start its flight just after
		// another flight filled it: look again before fetching.
		if inst, ok := ic.fresh(id); ok {
			return inst, nil
		}
		inst, err := s.Get(fctx, id)
		if err != nil {
			return nil, err
		}
		ic.mu.Lock()
		if ic.entries == nil {
			ic.entries = make(map[string]cachedInstitution)
		}
		ic.entries[id] = cachedInstitution{inst: inst, fetched: time.Now()}
		ic.mu.Unlock()
		return inst, nil
	})
	if err != nil {
		return nil, err
	}
	return inst.clone(), nil
}

// fresh returns the cached institution when it is younger than institutionTTL.
func (ic *institutionCache) fresh(id string) (*Institution, bool) {
	ic.mu.Lock()
	defer ic.mu.Unlock()
	if e, ok := ic.entries[id]; ok && time.Since(e.fetched) < institutionTTL {
		return e.inst, true
	}
	return nil, false
}

// clone returns a copy that shares nothing mutable with in.
func (in *Institution) clone() *Institution {
	out := *in
	out.Features = append([]byte(nil), in.Features...)
	return &out
}
