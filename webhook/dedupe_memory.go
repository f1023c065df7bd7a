package webhook

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/banklink-go/basiq"
)

// DefaultMemoryEntries bounds a MemoryDeduper made with NewMemoryDeduper(0)
// (or a zero MemoryDeduper): about 20 MB at most with Basiq's 36-character ids.
const DefaultMemoryEntries = 100_000

// ErrDeduperFull: a MemoryDeduper holds its maximum number of entries and
// every one is a live claim (a callback still running). Claim refuses a new
// id with it rather than forget a running claim, and Handler answers 503, so
// Basiq retries the message later (in 5 s, then 5 min, ...).
var ErrDeduperFull = errors.New("webhook: deduper full of running claims")

// MemoryDeduper is the in-process Deduper Handler uses by default. It is
// bounded twice: each entry lapses after its ttl (a claim) or keep (a
// completed id; Handler's dedupe window, 48 h by default), and it holds at
// most its maximum number of entries (see below). It dedupes one process
// only: a fleet of replicas behind a load balancer needs a shared Deduper.
//
// The zero value is ready to use, with DefaultMemoryEntries; it is safe for
// concurrent use and must not be copied after first use.
//
// When full, it forgets the completed ids closest to lapsing first (the
// oldest, whose retries are over). It never forgets a live claim: the
// callback holding it may still be running, and a redelivery let through
// would run it a second time at once. Full of live claims, it fails closed:
// Claim returns ErrDeduperFull (Handler answers 503 and Basiq retries later),
// and Complete returns it when it cannot remember the id (Handler logs it).
type MemoryDeduper struct {
	mu      sync.Mutex
	max     int
	entries map[string]*memEntry
	claims  lapseHeap // live claims, soonest lapse first
	done    lapseHeap // completed ids, soonest lapse first
}

type memEntry struct {
	id    string
	token string // the claim's holder; "" once completed
	done  bool
	lapse time.Time
	index int // in claims or done
}

// NewMemoryDeduper returns a MemoryDeduper holding at most maxEntries ids
// (DefaultMemoryEntries when maxEntries ≤ 0).
func NewMemoryDeduper(maxEntries int) *MemoryDeduper {
	return &MemoryDeduper{max: maxEntries}
}

// Len returns how many ids are claimed or remembered.
func (d *MemoryDeduper) Len() int {
	if d == nil {
		return 0
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.expire(time.Now())
	return len(d.entries)
}

// Claim implements Deduper.
func (d *MemoryDeduper) Claim(_ context.Context, id, token string, ttl time.Duration) (ClaimStatus, error) {
	if d == nil {
		return 0, errNilDeduper()
	}
	if ttl <= 0 {
		return 0, fmt.Errorf("%w: webhook: claim ttl %s, want > 0", basiq.ErrInvalidInput, ttl)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	now := time.Now()
	d.expire(now)
	if e, ok := d.entries[id]; ok {
		if e.done {
			return Done, nil
		}
		return InFlight, nil
	}
	if err := d.add(&memEntry{id: id, token: token, lapse: now.Add(ttl)}); err != nil {
		return 0, err
	}
	return Claimed, nil
}

// Complete implements Deduper.
func (d *MemoryDeduper) Complete(_ context.Context, id string, keep time.Duration) error {
	if d == nil {
		return errNilDeduper()
	}
	if keep <= 0 {
		return fmt.Errorf("%w: webhook: keep %s, want > 0", basiq.ErrInvalidInput, keep)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	now := time.Now()
	d.expire(now)
	if e, ok := d.entries[id]; ok {
		d.remove(e)
	}
	return d.add(&memEntry{id: id, done: true, lapse: now.Add(keep)})
}

// Release implements Deduper.
func (d *MemoryDeduper) Release(_ context.Context, id, token string) error {
	if d == nil {
		return errNilDeduper()
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.expire(time.Now())
	if e, ok := d.entries[id]; ok && !e.done && e.token == token {
		d.remove(e)
	}
	return nil
}

func errNilDeduper() error {
	return fmt.Errorf("%w: webhook: nil MemoryDeduper", basiq.ErrInvalidInput)
}

// add inserts e, first making room if full by forgetting completed ids;
// it never forgets a live claim, and returns ErrDeduperFull when there is
// nothing else to forget.
func (d *MemoryDeduper) add(e *memEntry) error {
	if d.entries == nil {
		d.entries = make(map[string]*memEntry)
	}
	limit := d.max
	if limit <= 0 {
		limit = DefaultMemoryEntries
	}
	for len(d.entries) >= limit {
		if len(d.done) == 0 {
			return ErrDeduperFull
		}
		d.remove(d.done[0])
	}
	d.entries[e.id] = e
	heap.Push(d.heapOf(e), e)
	return nil
}

// expire forgets every entry that lapsed by now.
func (d *MemoryDeduper) expire(now time.Time) {
	for _, h := range []*lapseHeap{&d.claims, &d.done} {
		for len(*h) > 0 && !(*h)[0].lapse.After(now) {
			d.remove((*h)[0])
		}
	}
}

func (d *MemoryDeduper) remove(e *memEntry) {
	heap.Remove(d.heapOf(e), e.index)
	delete(d.entries, e.id)
}

func (d *MemoryDeduper) heapOf(e *memEntry) *lapseHeap {
	if e.done {
		return &d.done
	}
	return &d.claims
}

// lapseHeap is a container/heap of entries by lapse time.
type lapseHeap []*memEntry

func (h lapseHeap) Len() int           { return len(h) }
func (h lapseHeap) Less(i, j int) bool { return h[i].lapse.Before(h[j].lapse) }
func (h lapseHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index = i
	h[j].index = j
}
func (h *lapseHeap) Push(x any) {
	e := x.(*memEntry)
	e.index = len(*h)
	*h = append(*h, e)
}
func (h *lapseHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return e
}
