package basiqtest

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
