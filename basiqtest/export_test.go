package basiqtest

import (
	"encoding/base64"
	"strings"
	"time"
)

// Test-only views of the fake's internals, for the external tests.

// AdvanceWork returns how many queue entries job progress has examined so
// far: the cost of bringing jobs up to date.
func (s *Server) AdvanceWork() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.work
}

// TokenCount returns how many tokens the fake remembers.
func (s *Server) TokenCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.st.tokens)
}

// PendingFaults returns how many injected faults are not used up yet.
func (s *Server) PendingFaults() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.faults)
}

// TransactionsPurged reports whether the connection's transactions are
// purged and not retrieved since (the marker transactions code reads).
func (s *Server) TransactionsPurged(connID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance(s.cfg.now())
	c := s.st.conns[connID]
	return c != nil && c.transactionsPurged()
}

// PageSessions returns how many consent page sessions the fake keeps.
func (s *Server) PageSessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.st.sessions)
}

// SignWebhook is the fake's webhook signature of a delivery, for the
// published test vectors. secret is "whsec_" and base64.
func SignWebhook(secret, id, timestamp string, body []byte) string {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		panic(err)
	}
	return signWebhook(key, id, timestamp, body)
}

// EventCount returns how many events the fake keeps.
func (s *Server) EventCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.st.events)
}

// RetryDelay is the wait after the n-th failed delivery attempt.
func RetryDelay(n int) time.Duration { return retryDelay(n) }
