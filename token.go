package basiq

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// Token scopes, the values of POST /token's scope field.
const (
	ScopeServerAccess = "SERVER_ACCESS"
	ScopeClientAccess = "CLIENT_ACCESS"
)

// Token is a Basiq access token. Its formatted forms (%v, %+v, %#v, %s), its
// slog value and its JSON encoding never show AccessToken: read the field
// itself to send or store it.
type Token struct {
	AccessToken string
	TokenType   string     // always "Bearer"
	Scope       string     // ScopeServerAccess or ScopeClientAccess
	UserID      string     // the user a CLIENT_ACCESS token is bound to
	Version     APIVersion // the API version the token was minted for
	ExpiresAt   time.Time  // when the request for it started, plus expires_in
}

// Valid reports whether the token is non-empty and unexpired at now.
func (t Token) Valid(now time.Time) bool {
	return t.AccessToken != "" && now.Before(t.ExpiresAt)
}

// String describes the token without its secret.
func (t Token) String() string {
	s := fmt.Sprintf("basiq.Token{Scope: %s, Version: %s, ExpiresAt: %s, AccessToken: [REDACTED]", t.Scope, t.Version, t.ExpiresAt.Format(time.RFC3339))
	if t.UserID != "" {
		s += ", UserID: " + t.UserID
	}
	return s + "}"
}

// GoString is String, so %#v is redacted too.
func (t Token) GoString() string { return t.String() }

// Format implements fmt.Formatter so every verb prints the redacted form.
func (t Token) Format(f fmt.State, _ rune) { fmt.Fprint(f, t.String()) }

// LogValue implements slog.LogValuer without the secret.
func (t Token) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("scope", t.Scope),
		slog.String(logKeyUserID, t.UserID),
		slog.Time("expires_at", t.ExpiresAt),
	)
}

// MarshalJSON encodes the token with AccessToken as [REDACTED], so that a
// token inside a logged struct or slice does not leak. A TokenCache that
// serializes tokens must store AccessToken itself (see
// contrib/redis/redistokencache); the SDK ignores a cached token whose
// AccessToken is [REDACTED] and logs why.
func (t Token) MarshalJSON() ([]byte, error) {
	type plain Token // no methods: no recursion
	p := plain(t)
	p.AccessToken = redactJSON(p.AccessToken)
	return json.Marshal(p)
}

// TokenCache stores tokens so that several clients or processes using the
// same API key share them. Contract:
//   - Keys are opaque strings made by the SDK; they carry a hash of the API key
//     (never the key), the API version, the scope and, for CLIENT_ACCESS, the
//     user id. Implementations store and return values byte for byte.
//   - Set is called with a freshly minted token; an implementation should keep
//     it at most until tok.ExpiresAt (a TTL of time.Until(tok.ExpiresAt)).
//   - Get returns ok=false when nothing is stored. The SDK ignores a returned
//     token that is expired, or that the API just rejected.
//   - Errors never fail an API call: the SDK logs them at warn level and falls
//     back to its own copy or to fetching a token.
//   - Each call gets its own deadline of one second (its ctx carries it),
//     whatever the caller's: a Get that has not answered by then counts as a
//     miss and the SDK mints a token; a Set runs in the background, and the
//     callers waiting for the new token wait at most 250 ms for it. A cache
//     that hangs (a Redis behind a network partition) therefore costs at most
//     about a second once per token lifetime, never a failed call. Honour
//     ctx: a Get or Set that ignores it keeps a goroutine until it returns.
//   - Both methods must be safe for concurrent use.
//
// The cache is consulted only when the client's own copy is missing, expiring
// or rejected, so a slow cache does not slow every request.
type TokenCache interface {
	Get(ctx context.Context, key string) (tok Token, ok bool, err error)
	Set(ctx context.Context, key string, tok Token) error
}

// MemoryTokenCache is an in-memory TokenCache, safe for concurrent use. Share
// one between clients of the same process to share their tokens. Expired
// entries are dropped, and at most 10,000 entries are kept. The zero value is
// an empty cache ready to use; NewMemoryTokenCache is equivalent. However it
// is held (by value in a struct of yours, too) and formatted, it never prints
// a token.
type MemoryTokenCache struct {
	mu sync.Mutex
	// The entries sit behind a pointer: fmt prints a nested pointer as an
	// address, so a struct holding the cache by value formats no token.
	s *memoryTokens
}

// memoryTokens is a MemoryTokenCache's state.
type memoryTokens struct {
	entries map[string]Token
	now     func() time.Time
}

const memoryTokenCacheMax = 10000

// NewMemoryTokenCache returns an empty MemoryTokenCache.
func NewMemoryTokenCache() *MemoryTokenCache {
	return &MemoryTokenCache{}
}

// state returns the cache's state, made on first use; m.mu must be held.
func (m *MemoryTokenCache) state() *memoryTokens {
	if m.s == nil {
		m.s = &memoryTokens{entries: make(map[string]Token), now: time.Now}
	}
	return m.s
}

// Get returns the unexpired token stored under key.
func (m *MemoryTokenCache) Get(_ context.Context, key string) (Token, bool, error) {
	if m == nil {
		return Token{}, false, invalidInput("nil *MemoryTokenCache")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.state()
	tok, ok := s.entries[key]
	if ok && !tok.Valid(s.now()) {
		delete(s.entries, key)
		return Token{}, false, nil
	}
	return tok, ok, nil
}

// Set stores tok under key, evicting expired entries (then the soonest to
// expire) when full.
func (m *MemoryTokenCache) Set(_ context.Context, key string, tok Token) error {
	if m == nil {
		return invalidInput("nil *MemoryTokenCache")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.state()
	if _, exists := s.entries[key]; !exists && len(s.entries) >= memoryTokenCacheMax {
		s.evict()
	}
	s.entries[key] = tok
	return nil
}

func (s *memoryTokens) evict() {
	now := s.now()
	var soonestKey string
	var soonest time.Time
	for k, t := range s.entries {
		if !t.Valid(now) {
			delete(s.entries, k)
			continue
		}
		if soonestKey == "" || t.ExpiresAt.Before(soonest) {
			soonestKey, soonest = k, t.ExpiresAt
		}
	}
	if len(s.entries) >= memoryTokenCacheMax {
		delete(s.entries, soonestKey)
	}
}

// Len returns the number of entries, expired or not.
func (m *MemoryTokenCache) Len() int {
	if m == nil {
		return 0
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.state().entries)
}

// Format prints the number of entries for every verb, never the tokens
// (fmt would otherwise print the map, access tokens and all).
func (m *MemoryTokenCache) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "basiq.MemoryTokenCache{entries: %d}", m.Len())
}
