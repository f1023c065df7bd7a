package basiq

import (
	"context"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestFlightAbandonedWhenEveryCallerLeaves(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var f flights[int]
		var cancelled atomic.Bool
		started := make(chan struct{})
		call := func(ctx context.Context) (int, error) {
			return f.do(ctx, "k", time.Hour, func(fctx context.Context) (int, error) {
				close(started)
				<-fctx.Done()
				cancelled.Store(true)
				return 0, fctx.Err()
			})
		}
		ctx1, cancel1 := context.WithTimeout(t.Context(), time.Second)
		defer cancel1()
		ctx2, cancel2 := context.WithTimeout(t.Context(), 3*time.Second)
		defer cancel2()
		errs := make(chan error, 2)
		go func() { _, err := call(ctx1); errs <- err }()
		<-started
		go func() { _, err := call(ctx2); errs <- err }()
		assert.ErrorIs(t, <-errs, context.DeadlineExceeded)
		synctest.Wait()
		assert.False(t, cancelled.Load(), "one caller leaving fails nobody else")
		assert.ErrorIs(t, <-errs, context.DeadlineExceeded)
		synctest.Wait()
		assert.True(t, cancelled.Load(), "the last caller leaving abandons the call")

		done, cancel := context.WithCancel(t.Context())
		cancel()
		ran := false
		_, err := f.do(done, "k2", time.Hour, func(context.Context) (int, error) { ran = true; return 1, nil })
		assert.ErrorIs(t, err, context.Canceled)
		assert.False(t, ran, "a caller whose context is done starts nothing")
	})
}
