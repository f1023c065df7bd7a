package basiq

import (
	"context"
	"sync"
	"time"
)

// flights shares one call per key between the callers that ask for it at the
// same time (a token, an institution, a connection's institution), like
// singleflight, with two differences that keep work from outliving the
// callers who wanted it:
//
//   - the call runs on a context of its own, detached from any one caller's
//     (a caller who gives up fails nobody else) but cancelled when the last
//     caller waiting for it has gone, and bounded by a timeout;
//   - a caller whose context is already done starts nothing.
type flights[V any] struct {
	mu sync.Mutex
	m  map[string]*flight[V]
}

type flight[V any] struct {
	key     string
	done    chan struct{}
	v       V
	err     error
	waiters int
	cancel  context.CancelFunc
}

// do returns fn's result for key, running fn once for every caller that
// asks while it runs. fn gets a context that ends when timeout passes or
// when every caller has left.
func (f *flights[V]) do(ctx context.Context, key string, timeout time.Duration, fn func(context.Context) (V, error)) (V, error) {
	var zero V
	if err := ctx.Err(); err != nil {
		return zero, err
	}
	f.mu.Lock()
	fl := f.m[key]
	if fl == nil {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
		fl = &flight[V]{key: key, done: make(chan struct{}), cancel: cancel}
		if f.m == nil {
			f.m = make(map[string]*flight[V])
		}
		f.m[key] = fl
		go func() {
			defer cancel()
			v, err := fn(fctx)
			f.mu.Lock()
			fl.v, fl.err = v, err
			if f.m[key] == fl {
				delete(f.m, key)
			}
			f.mu.Unlock()
			close(fl.done)
		}()
	}
	fl.waiters++
	f.mu.Unlock()

	select {
	case <-fl.done:
		f.leave(fl)
		return fl.v, fl.err
	case <-ctx.Done():
		f.leave(fl)
		return zero, ctx.Err()
	}
}

// leave drops a waiter; the last one to leave an unfinished call cancels it,
// and a later caller starts a new one.
func (f *flights[V]) leave(fl *flight[V]) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fl.waiters--
	if fl.waiters > 0 {
		return
	}
	select {
	case <-fl.done:
	default:
		fl.cancel()
		if f.m[fl.key] == fl {
			delete(f.m, fl.key)
		}
	}
}
