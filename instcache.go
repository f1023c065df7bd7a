package basiq

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
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
	// noInstitutions is set once GET /institutions/{id} answered that the
	// route does not exist (API 3.0): connectors are asked directly since.
	noInstitutions atomic.Bool
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
		inst, err := s.fetch(fctx, id)
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

// connectorMethods are the connector methods tried, in order, for an
// institution on API 3.0: open banking (the Consent UI's usual way), then
// web (a digital data connection).
var connectorMethods = [...]string{"open-banking", "web"}

// fetch gets an institution: GET /institutions/{id}, or on API 3.0, where
// Basiq's published files have no /institutions, its connector (GET
// /connectors/{id}/{method}) when that route is gone (ErrUnsupportedVersion)
// or the institution is not found there.
func (s *InstitutionsService) fetch(ctx context.Context, id string) (*Institution, error) {
	c, ic := s.client(), &s.cache
	if !ic.noInstitutions.Load() || c.version != V3 {
		inst, err := s.Get(ctx, id)
		switch {
		case err == nil:
			return inst, nil
		case c.version != V3 || ctx.Err() != nil:
			return nil, err
		case errors.Is(err, ErrUnsupportedVersion):
			ic.noInstitutions.Store(true)
		case !errors.Is(err, ErrNotFound):
			return nil, err
		}
	}
	var err error
	for _, m := range connectorMethods {
		var cn *Connector
		if cn, err = c.connectors.Get(ctx, id, m); err == nil {
			return cn.institution(), nil
		}
		if !errors.Is(err, ErrNotFound) {
			return nil, err
		}
	}
	return nil, err
}

// institution is the connector's institution as GET /institutions/{id}
// would give it: the status, stage and step averages are the connector's.
func (cn *Connector) institution() *Institution {
	in := &Institution{
		Type: "institution", ID: cn.ID, Name: cn.Institution.Name, ShortName: cn.Institution.ShortName,
		InstitutionType: cn.Institution.Type, Country: cn.Institution.Country, Tier: cn.Institution.Tier,
		Authorization: cn.Authorization.Type, Stage: cn.Stage, Status: cn.Status,
		AverageDuration: cn.AverageDuration, Logo: cn.Institution.Logo,
	}
	in.Links.Self = cn.Links.Self
	return in
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
