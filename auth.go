package basiq

import (
	"container/list"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/banklink-go/basiq/internal/transport"
)

// tokenFetchTimeout bounds a token request, which runs detached from the
// contexts of the callers waiting for it.
const tokenFetchTimeout = 2 * time.Minute

// earlyRetryPause spaces background refresh attempts after one failed, so a
// token endpoint outage is not hammered while the current token still works.
const earlyRetryPause = 30 * time.Second

// slot is the client's own copy of one token.
type slot struct {
	tok          Token
	refreshAt    time.Time     // start of the early-refresh window
	earlyBusy    bool          // a background refresh is running
	earlyRetryAt time.Time     // no background refresh before this
	rejected     string        // the access token the API last rejected
	life         time.Duration // tok's remaining life when it was stored
	elem         *list.Element
}

// tokenManager caches SERVER_ACCESS and per-user CLIENT_ACCESS tokens
// (see Client.Token and Client.ClientToken).
type tokenManager struct {
	c         *Client
	cache     TokenCache
	keyPrefix string
	early     time.Duration
	maxUsers  int
	flights   flights[grant]
	now       func() time.Time
	spread    func() float64 // in [0,1): where in the refresh window this process starts

	mu      sync.Mutex
	server  slot
	clients map[string]*slot // by user id, bounded LRU
	lru     *list.List       // of user ids, most recent first
}

func newTokenManager(c *Client, cache TokenCache, early time.Duration, maxUsers int) *tokenManager {
	sum := sha256.Sum256([]byte(c.apiKey.reveal()))
	return &tokenManager{
		c:         c,
		cache:     cache,
		keyPrefix: "basiq:token:" + hex.EncodeToString(sum[:8]) + ":" + string(c.version) + ":",
		early:     early,
		maxUsers:  maxUsers,
		now:       time.Now,
		spread:    rand.Float64,
		clients:   make(map[string]*slot),
		lru:       list.New(),
	}
}

// Token returns the client's SERVER_ACCESS token, from the cache when it is
// still valid. Concurrent callers share one token request; a caller whose
// context ends stops waiting without failing the others.
func (c *Client) Token(ctx context.Context) (Token, error) {
	if err := c.ready(); err != nil {
		return Token{}, err
	}
	if ctx == nil {
		return Token{}, invalidInput("nil context")
	}
	return c.tokens.get(ctx, authServer, "")
}

// ClientToken returns a CLIENT_ACCESS token bound to userID (for a front end,
// or for the calls that require one, like Jobs.SubmitMFA), cached per user.
// Hand a front end tok.AccessToken itself: the token's formatted, logged and
// JSON forms all redact it.
func (c *Client) ClientToken(ctx context.Context, userID string) (Token, error) {
	if err := c.ready(); err != nil {
		return Token{}, err
	}
	if ctx == nil {
		return Token{}, invalidInput("nil context")
	}
	if err := validateID("userId", userID); err != nil {
		return Token{}, err
	}
	return c.tokens.get(ctx, authClient, userID)
}

func (m *tokenManager) key(kind authKind, userID string) string {
	if kind == authClient {
		return m.keyPrefix + ScopeClientAccess + ":" + userID
	}
	return m.keyPrefix + ScopeServerAccess
}

// slotFor returns the slot for kind/userID; m.mu must be held.
func (m *tokenManager) slotFor(kind authKind, userID string, create bool) *slot {
	if kind == authServer {
		return &m.server
	}
	s, ok := m.clients[userID]
	if ok {
		m.lru.MoveToFront(s.elem)
		return s
	}
	if !create {
		return nil
	}
	s = &slot{}
	s.elem = m.lru.PushFront(userID)
	m.clients[userID] = s
	for m.lru.Len() > m.maxUsers {
		last := m.lru.Back()
		m.lru.Remove(last)
		delete(m.clients, last.Value.(string))
	}
	return s
}

// grant is a token and whether getting it minted one (POST /token).
type grant struct {
	tok    Token
	minted bool
}

func (m *tokenManager) get(ctx context.Context, kind authKind, userID string) (Token, error) {
	g, err := m.getGrant(ctx, kind, userID)
	return g.tok, err
}

// getGrant is get, also telling whether the caller waited for a token to be
// minted (its own request for one, or another caller's it shared).
func (m *tokenManager) getGrant(ctx context.Context, kind authKind, userID string) (grant, error) {
	now := m.now()
	m.mu.Lock()
	s := m.slotFor(kind, userID, true)
	tok := s.tok
	if tok.Valid(now) {
		if now.After(s.refreshAt) && !s.earlyBusy && !now.Before(s.earlyRetryAt) {
			s.earlyBusy = true
			go m.refreshEarly(context.WithoutCancel(ctx), kind, userID, tok)
		}
		m.mu.Unlock()
		return grant{tok: tok}, nil
	}
	m.mu.Unlock()
	return m.sharedGrant(ctx, kind, userID, time.Time{})
}

// getFresh is get for a token that must stay valid for a while after it is
// handed out (a Consent UI link): one with less than minLife left (or, for
// short-lived tokens, less than half a token's life) is replaced, through the
// same single flight as any other token request.
func (m *tokenManager) getFresh(ctx context.Context, kind authKind, userID string, minLife time.Duration) (Token, error) {
	tok, err := m.get(ctx, kind, userID)
	if err != nil {
		return Token{}, err
	}
	m.mu.Lock()
	if s := m.slotFor(kind, userID, false); s != nil && s.tok.AccessToken == tok.AccessToken && s.life > 0 {
		minLife = min(minLife, s.life/2)
	}
	m.mu.Unlock()
	if tok.ExpiresAt.Sub(m.now()) >= minLife {
		return tok, nil
	}
	return m.shared(ctx, kind, userID, tok.ExpiresAt)
}

// refreshEarly replaces a token nearing expiry while callers keep using it.
func (m *tokenManager) refreshEarly(ctx context.Context, kind authKind, userID string, current Token) {
	_, err := m.shared(ctx, kind, userID, current.ExpiresAt)
	m.mu.Lock()
	defer m.mu.Unlock()
	if s := m.slotFor(kind, userID, false); s != nil {
		s.earlyBusy = false
		if err != nil {
			s.earlyRetryAt = m.now().Add(earlyRetryPause)
		}
	}
}

// invalidate drops the cached token if it is still the one the API rejected.
func (m *tokenManager) invalidate(kind authKind, userID, rejected string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.slotFor(kind, userID, false)
	if s == nil {
		return
	}
	s.rejected = rejected
	if s.tok.AccessToken == rejected {
		s.tok = Token{}
	}
}

// shared obtains a token through one flight per key, detached from any one
// caller's ctx and abandoned when every caller has given up.
// newerThan, when set, asks for a token expiring after it (early refresh).
func (m *tokenManager) shared(ctx context.Context, kind authKind, userID string, newerThan time.Time) (Token, error) {
	g, err := m.sharedGrant(ctx, kind, userID, newerThan)
	return g.tok, err
}

// sharedGrant is shared, also telling whether the flight minted the token.
func (m *tokenManager) sharedGrant(ctx context.Context, kind authKind, userID string, newerThan time.Time) (grant, error) {
	key := m.key(kind, userID)
	return m.flights.do(ctx, key, tokenFetchTimeout, func(fctx context.Context) (grant, error) {
		return m.obtain(fctx, kind, userID, key, newerThan)
	})
}

// obtain takes the client's own copy or the shared cache's token when it is
// usable, else mints one.
func (m *tokenManager) obtain(ctx context.Context, kind authKind, userID, key string, newerThan time.Time) (grant, error) {
	usable := func(tok Token, rejected string) bool {
		return tok.Valid(m.now()) && tok.AccessToken != rejected && tok.ExpiresAt.After(newerThan)
	}
	m.mu.Lock()
	rejected := ""
	if s := m.slotFor(kind, userID, false); s != nil {
		rejected = s.rejected
		// A caller that found no usable token may start its flight just after
		// another flight stored one: take that token instead of minting another.
		if tok := s.tok; usable(tok, rejected) {
			m.mu.Unlock()
			return grant{tok: tok}, nil
		}
	}
	m.mu.Unlock()

	if m.cache != nil {
		if tok, ok := m.cacheGet(ctx, key); ok && usable(tok, rejected) {
			m.store(kind, userID, tok)
			return grant{tok: tok}, nil
		}
	}
	tok, err := m.c.fetchToken(ctx, kind, userID)
	if err != nil {
		return grant{}, err
	}
	m.store(kind, userID, tok)
	if m.cache != nil {
		// The token is ours now, whatever the cache does: Set runs in the
		// background. The callers of this flight give it a moment
		// (tokenCacheSetWait, far more than a healthy cache needs), so that
		// a process started right after this one finds the token there.
		done := make(chan struct{})
		go func() {
			defer close(done)
			m.cacheSet(context.WithoutCancel(ctx), key, tok)
		}()
		wait := time.NewTimer(tokenCacheSetWait)
		defer wait.Stop()
		select {
		case <-done:
		case <-wait.C:
		}
	}
	return grant{tok: tok, minted: true}, nil
}

// tokenCacheTimeout bounds every TokenCache call: a cache that hangs (a Redis
// behind a network partition) must not hold up the calls waiting for a
// token. Past it a Get counts as a miss (the SDK mints its own token) and a
// Set is abandoned.
const tokenCacheTimeout = time.Second

// tokenCacheSetWait is how long the calls waiting for a minted token wait for
// the cache's Set before they go on without it.
const tokenCacheSetWait = 250 * time.Millisecond

// errRedactedToken is logged when a TokenCache returns a token that was
// stored through Token.MarshalJSON, which leaves out the secret.
var errRedactedToken = errors.New("basiq: the cache returned a redacted token: store Token.AccessToken itself, not json.Marshal(tok)")

// cacheGet asks the shared cache, within tokenCacheTimeout.
func (m *tokenManager) cacheGet(ctx context.Context, key string) (Token, bool) {
	type answer struct {
		tok Token
		ok  bool
		err error
	}
	gctx, cancel := context.WithTimeout(ctx, tokenCacheTimeout)
	defer cancel()
	ch := make(chan answer, 1) // buffered: a cache that ignores gctx finishes in the background
	go func() {
		tok, ok, err := m.cache.Get(gctx, key)
		ch <- answer{tok, ok, err}
	}()
	select {
	case a := <-ch:
		if a.err != nil {
			m.c.logTokenCache(ctx, "get", a.err)
			return Token{}, false
		}
		if a.ok && a.tok.AccessToken == redacted {
			// The cache stored json.Marshal(tok), which redacts the secret.
			m.c.logTokenCache(ctx, "get", errRedactedToken)
			return Token{}, false
		}
		return a.tok, a.ok
	case <-gctx.Done():
		m.c.logTokenCache(ctx, "get", gctx.Err())
		return Token{}, false
	}
}

// cacheSet stores a minted token in the shared cache, within
// tokenCacheTimeout; failures are logged, never returned.
func (m *tokenManager) cacheSet(ctx context.Context, key string, tok Token) {
	sctx, cancel := context.WithTimeout(ctx, tokenCacheTimeout)
	defer cancel()
	if err := m.cache.Set(sctx, key, tok); err != nil {
		m.c.logTokenCache(ctx, "set", err)
	}
}

// store keeps tok as the client's own copy and schedules its early refresh:
// m.early before expiry (never earlier than half its remaining life), pushed
// later by a random part of up to half that margin. Replicas sharing a token
// through a TokenCache would otherwise all refresh in the same instant and
// mint one token each; spread out, the first one's new token is in the cache
// when the others look.
func (m *tokenManager) store(kind authKind, userID string, tok Token) {
	now := m.now()
	margin := m.early
	if half := tok.ExpiresAt.Sub(now) / 2; margin > half {
		margin = half
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.slotFor(kind, userID, true)
	s.tok = tok
	s.life = tok.ExpiresAt.Sub(now)
	s.refreshAt = tok.ExpiresAt.Add(-margin + time.Duration(m.spread()*float64(margin/2)))
	s.earlyRetryAt = time.Time{}
}

// tokenResponse is the body of a 200 from POST /token. expires_in is read
// leniently: 3600, 3600.0 and "3600" all mean an hour.
type tokenResponse struct {
	AccessToken string     `json:"access_token"`
	ExpiresIn   lenientInt `json:"expires_in"`
	TokenType   string     `json:"token_type"`
}

// fetchToken mints a token with POST /token.
func (c *Client) fetchToken(ctx context.Context, kind authKind, userID string) (Token, error) {
	scope := ScopeServerAccess
	form := url.Values{"scope": {scope}}
	if kind == authClient {
		scope = ScopeClientAccess
		form.Set("scope", scope)
		if c.version != V2_1 {
			form.Set("userId", userID)
		}
	}
	header := http.Header{
		"Accept":        {"application/json"},
		"User-Agent":    c.userAgentHeader,
		"Authorization": {"Basic " + c.apiKey.reveal()},
		"Content-Type":  {"application/x-www-form-urlencoded"},
		"Basiq-Version": {string(c.version)},
	}
	r := apiRequest{method: http.MethodPost, route: "/token", auth: kind, userID: userID}
	start := time.Now()
	issued := c.tokens.now() // expiry is judged on the token manager's clock
	resp, err := c.http.Do(ctx, transport.Request{
		Method: http.MethodPost, URL: c.endpoint("/token", nil), Header: header,
		Body: []byte(form.Encode()), Replayable: true,
		OnRetry: func(ev transport.RetryEvent) { c.logRetry(ctx, r, ev) },
	})
	if err != nil {
		return Token{}, &AuthError{Scope: scope, Err: c.transportError(r.method, "/token", resp, err)}
	}
	if resp.StatusCode != http.StatusOK {
		apiErr := newAPIError(r.method, "/token", resp)
		c.logRequest(ctx, r, resp.StatusCode, resp.Attempts, start, apiErr.CorrelationID)
		return Token{}, &AuthError{Scope: scope, StatusCode: resp.StatusCode, Err: apiErr}
	}
	c.logRequest(ctx, r, resp.StatusCode, resp.Attempts, start, "")
	var tr tokenResponse
	if err := json.Unmarshal(resp.Body, &tr); err != nil {
		// The decoder's message names types and offsets, never the body's
		// values: it cannot leak the token.
		return Token{}, &AuthError{Scope: scope, StatusCode: resp.StatusCode, Err: fmt.Errorf("%w: %w", errMalformedToken, err)}
	}
	if tr.AccessToken == "" {
		return Token{}, &AuthError{Scope: scope, StatusCode: resp.StatusCode, Err: fmt.Errorf("%w: no access_token", errMalformedToken)}
	}
	if tr.ExpiresIn <= 0 {
		tr.ExpiresIn = 3600 // documented lifetime, when the field is missing
	}
	tok := Token{
		AccessToken: tr.AccessToken, TokenType: tr.TokenType, Scope: scope, Version: c.version,
		ExpiresAt: issued.Add(time.Duration(tr.ExpiresIn) * time.Second),
	}
	if kind == authClient {
		tok.UserID = userID
	}
	return tok, nil
}

// errMalformedToken: a 200 from /token that is not a token.
var errMalformedToken = errors.New("malformed token response")

func (c *Client) logTokenCache(ctx context.Context, op string, err error) {
	if c.logger == nil {
		return
	}
	c.logger.LogAttrs(ctx, slog.LevelWarn, "basiq: token cache failed, continuing without it",
		slog.String("op", op), slog.String("error", err.Error()))
}
