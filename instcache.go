package basiq

import (
	"context"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// institutionTTL is how long a fetched institution (its status and step
// durations) is reused. Basiq re-evaluates statuses every 30 minutes.
const institutionTTL = 5 * time.Minute

// institutionCache shares institution look-ups between pollers.
type institutionCache struct {
	mu      sync.Mutex
	entries map[string]cachedInstitution
	group   singleflight.Group
}

type cachedInstitution struct {
	inst    *Institution
	fetched time.Time
}

// cached returns the institution, fetching it at most once per institutionTTL
// however many callers ask at once.
func (s *InstitutionsService) cached(ctx context.Context, id string) (*Institution, error) {
	ic := &s.cache
	now := time.Now()
	ic.mu.Lock()
	if e, ok := ic.entries[id]; ok && now.Sub(e.fetched) < institutionTTL {
		ic.mu.Unlock()
		return e.inst, nil
	}
	ic.mu.Unlock()
	v, err, _ := ic.group.Do(id, func() (any, error) {
		inst, err := s.Get(ctx, id)
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
	return v.(*Institution), nil
}
