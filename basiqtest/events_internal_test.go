package basiqtest

import (
	"encoding/json"
	"slices"
	"testing"
	"time"
)

// TestEventStoreBounds: the fake keeps at most maxEvents events and
// maxEventBytes of snapshots, dropping the oldest, and never the newest.
func TestEventStoreBounds(t *testing.T) {
	s := NewServer(InMemory())
	defer s.Close()
	s.mu.Lock()
	defer s.mu.Unlock()
	at := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	small := json.RawMessage(`{}`)
	for i := range maxEvents + 10 {
		s.emitRaw(at, "user", "created", "u", "", small)
		if i == 0 {
			if _, ok := s.st.eventByID[s.st.events[0].id]; !ok {
				t.Fatal("the event is indexed")
			}
		}
	}
	if n := len(s.st.events); n != maxEvents || len(s.st.eventByID) != maxEvents {
		t.Fatalf("%d events (%d indexed), want %d", n, len(s.st.eventByID), maxEvents)
	}
	if s.st.events[0].seq != 11 {
		t.Fatalf("oldest kept is event %d, want 11", s.st.events[0].seq)
	}

	big := make(json.RawMessage, 1<<20) // shared by every event: no memory per event (recordEvent reads only its size)
	for range 70 {
		s.emitRaw(at, "user", "updated", "u", "", big)
	}
	if s.st.eventBytes > maxEventBytes {
		t.Fatalf("%d bytes of snapshots kept, want at most %d", s.st.eventBytes, maxEventBytes)
	}
	if n := len(s.st.events); n != maxEventBytes/len(big) {
		t.Fatalf("%d events kept, want %d", n, maxEventBytes/len(big))
	}
	huge := make(json.RawMessage, maxEventBytes+1)
	s.emitRaw(at, "user", "updated", "u", "", huge)
	if len(s.st.events) != 1 || s.st.eventBytes != len(huge) {
		t.Fatalf("one event larger than the cap: %d events, %d bytes; want it alone", len(s.st.events), s.st.eventBytes)
	}
}

// TestWebhookMessagesBounded: a webhook keeps its maxMessages newest
// messages; a forgotten one gets no more attempts.
func TestWebhookMessagesBounded(t *testing.T) {
	s := NewServer(InMemory())
	defer s.Close()
	s.mu.Lock()
	defer s.mu.Unlock()
	at := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	w := &webhook{id: newUUID(), url: "https://app.example/", events: []string{"user.created"}, created: at, activeFrom: at}
	s.st.webhooks = append(s.st.webhooks, w)
	for range maxMessages + 5 {
		s.emit(at, "user", "created", "u", "", struct{}{})
	}
	if len(w.messages) != maxMessages || len(s.st.pending) != maxMessages {
		t.Fatalf("%d messages, %d pending; want %d", len(w.messages), len(s.st.pending), maxMessages)
	}
	if !slices.Equal(s.st.pending, w.messages) {
		t.Fatal("the pending messages are the kept ones, oldest first")
	}
}

// FuzzLenientFilter: the lenient filter grammar (GET /events, message
// lists) never panics, reads no clause without a field, an operator or a
// value, and accepts every filter the strict grammar accepts, with the
// same reading.
func FuzzLenientFilter(f *testing.F) {
	for _, s := range []string{
		"user.id.eq('6a1c')", "user.id.eq(6a1c)", `user.id.eq("6a1c")`, "event.type.in(a, 'b',\"c\")",
		"user.id.eq('a'),event.entity.eq(user)", "user.id.eq(", "user.id.eq()", "a.eq(b))", "a.eq(b,)", ",",
		"date.bt('2024-01-01','2024-02-01')", "x.eq(a'b)", "x.eq('a\"b')",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		lenient, ok := parseFilterMode(raw, true)
		strict, strictOK := parseFilterMode(raw, false)
		if strictOK && (!ok || !sameClauses(strict, lenient)) {
			t.Fatalf("%q: strict %v, lenient %v (ok %v)", raw, strict, lenient, ok)
		}
		if !ok {
			return
		}
		for _, cl := range lenient {
			if cl.field == "" || cl.op == "" || len(cl.values) == 0 {
				t.Fatalf("%q: clause %+v", raw, cl)
			}
		}
	})
}

func sameClauses(a, b []clause) bool {
	return slices.EqualFunc(a, b, func(x, y clause) bool {
		return x.field == y.field && x.op == y.op && slices.Equal(x.values, y.values)
	})
}
