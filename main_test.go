package basiq_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the test binary if any goroutine outlives the tests: a
// poller, a shared wait loop, a background token refresh or an HTTP
// connection that was never stopped.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
