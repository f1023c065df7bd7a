package basiqtest_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the test binary if any goroutine outlives the tests: a
// listener or a connection of a server that was never closed, or an SDK
// poller driven against the fake.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
