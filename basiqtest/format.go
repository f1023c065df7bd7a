package basiqtest

import (
	"fmt"
	"log/slog"
)

// String describes the Server by its URL. The API key it accepts and the
// tokens it issued are secrets: no formatted form of a Server shows them.
func (s *Server) String() string {
	if s == nil {
		return "basiqtest.Server(nil)"
	}
	return "basiqtest.Server{URL: " + s.URL + "}"
}

// GoString is String.
func (s *Server) GoString() string { return s.String() }

// Format prints String for every verb (%v, %+v, %#v, %s, …).
func (s *Server) Format(f fmt.State, _ rune) { fmt.Fprint(f, s.String()) }

// LogValue implements slog.LogValuer: the URL only.
func (s *Server) LogValue() slog.Value {
	if s == nil {
		return slog.StringValue("nil")
	}
	return slog.GroupValue(slog.String("url", s.URL))
}
