package redistokencache_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/banklink-go/basiq"
	"github.com/banklink-go/basiq/basiqtest"
	"github.com/banklink-go/basiq/contrib/redis/redistokencache"
)

// newRedis connects to the redis-server at $REDIS_ADDR (default
// 127.0.0.1:6379) and returns a client plus a key prefix unique to the test,
// whose keys are deleted afterwards. Without a reachable server the test is
// skipped, or fails when $REDIS_REQUIRED is set (as CI does once it has
// started one).
func TestMain(m *testing.M) {
	// go-redis logs every failed dial; the tests fail Redis on purpose.
	redis.SetLogger(quietLogger{})
	os.Exit(m.Run())
}

type quietLogger struct{}

func (quietLogger) Printf(context.Context, string, ...any) {}

func newRedis(t *testing.T) (*redis.Client, string) {
	t.Helper()
	addr := os.Getenv("REDIS_ADDR")
	if addr == "" {
		addr = "127.0.0.1:6379"
	}
	rdb := redis.NewClient(&redis.Options{
		Addr:                  addr,
		DialerRetries:         1, // so that a missing server skips quickly
		MaxRetries:            -1,
		DialTimeout:           time.Second,
		ReadTimeout:           2 * time.Second,
		WriteTimeout:          2 * time.Second,
		ContextTimeoutEnabled: true,
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		rdb.Close()
		if os.Getenv("REDIS_REQUIRED") != "" {
			t.Fatalf("REDIS_REQUIRED is set but redis-server at %s does not answer PING: %v", addr, err)
		}
		t.Skipf("no redis-server answering PING at %s (set REDIS_ADDR): %v", addr, err)
	}
	prefix := "redistokencache-test:" + randomHex(t) + ":"
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		iter := rdb.Scan(ctx, 0, prefix+"*", 100).Iterator()
		for iter.Next(ctx) {
			rdb.Del(ctx, iter.Val())
		}
		if err := iter.Err(); err != nil {
			t.Errorf("cleaning up keys %s*: %v", prefix, err)
		}
		rdb.Close()
	})
	return rdb, prefix
}

func randomHex(t *testing.T) string {
	t.Helper()
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// closedAddr returns a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func sampleToken(expiresIn time.Duration) basiq.Token {
	return basiq.Token{
		AccessToken: "eyJ-secret-" + fmt.Sprint(time.Now().UnixNano()),
		TokenType:   "Bearer",
		Scope:       basiq.ScopeServerAccess,
		Version:     basiq.V3,
		ExpiresAt:   time.Now().Add(expiresIn),
	}
}

func sameToken(t *testing.T, got, want basiq.Token) {
	t.Helper()
	if got.AccessToken != want.AccessToken || got.TokenType != want.TokenType || got.Scope != want.Scope ||
		got.UserID != want.UserID || got.Version != want.Version || !got.ExpiresAt.Equal(want.ExpiresAt) {
		// %+v of a basiq.Token is redacted, so compare the secret separately.
		t.Errorf("got %+v (same access token: %t), want %+v", got, got.AccessToken == want.AccessToken, want)
	}
}

func TestRoundTrip(t *testing.T) {
	rdb, prefix := newRedis(t)
	cache := redistokencache.New(rdb, redistokencache.WithPrefix(prefix))
	ctx := context.Background()

	server := sampleToken(time.Hour)
	user := sampleToken(30 * time.Minute)
	user.Scope, user.UserID, user.Version = basiq.ScopeClientAccess, "ea3a81a7-a2f3-4b9f-9b3b-5e2d7e6f1c2a", basiq.V2_1
	for key, tok := range map[string]basiq.Token{"basiq:token:k:3.0:SERVER_ACCESS": server, "basiq:token:k:2.1:CLIENT_ACCESS:u": user} {
		if err := cache.Set(ctx, key, tok); err != nil {
			t.Fatalf("Set(%q): %v", key, err)
		}
		got, ok, err := cache.Get(ctx, key)
		if err != nil || !ok {
			t.Fatalf("Get(%q) = ok %t, err %v; want the token", key, ok, err)
		}
		sameToken(t, got, tok)
		if n, err := rdb.Exists(ctx, prefix+key).Result(); err != nil || n != 1 {
			t.Errorf("key %q not stored under the prefix: %d, %v", prefix+key, n, err)
		}
	}

	// Set replaces the token stored under a key.
	newer := sampleToken(2 * time.Hour)
	if err := cache.Set(ctx, "basiq:token:k:3.0:SERVER_ACCESS", newer); err != nil {
		t.Fatal(err)
	}
	got, ok, err := cache.Get(ctx, "basiq:token:k:3.0:SERVER_ACCESS")
	if err != nil || !ok {
		t.Fatalf("Get after replace = ok %t, err %v", ok, err)
	}
	sameToken(t, got, newer)
}

func TestSetTTLFollowsExpiry(t *testing.T) {
	rdb, prefix := newRedis(t)
	cache := redistokencache.New(rdb, redistokencache.WithPrefix(prefix))
	ctx := context.Background()

	for _, life := range []time.Duration{time.Hour, 1500 * time.Millisecond} {
		key := fmt.Sprintf("k-%s", life)
		if err := cache.Set(ctx, key, sampleToken(life)); err != nil {
			t.Fatal(err)
		}
		ttl, err := rdb.PTTL(ctx, prefix+key).Result()
		if err != nil {
			t.Fatal(err)
		}
		if ttl > life || ttl < life-5*time.Second || ttl <= 0 {
			t.Errorf("token living %s: Redis TTL %s, want just under it", life, ttl)
		}
	}

	// Redis drops the token when it expires.
	key := "short"
	if err := cache.Set(ctx, key, sampleToken(200*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(400 * time.Millisecond)
	if _, ok, err := cache.Get(ctx, key); ok || err != nil {
		t.Errorf("Get after expiry = ok %t, err %v; want nothing", ok, err)
	}
}

func TestSetSkipsUnusableTokens(t *testing.T) {
	rdb, prefix := newRedis(t)
	cache := redistokencache.New(rdb, redistokencache.WithPrefix(prefix))
	ctx := context.Background()

	empty := sampleToken(time.Hour)
	empty.AccessToken = ""
	for name, tok := range map[string]basiq.Token{
		"expired":       sampleToken(-time.Minute),
		"expiring-now":  sampleToken(0),
		"sub-ms-left":   sampleToken(500 * time.Microsecond),
		"empty":         empty,
		"zero-ExpireAt": {AccessToken: "x", Scope: basiq.ScopeServerAccess},
	} {
		if err := cache.Set(ctx, name, tok); err != nil {
			t.Errorf("Set(%s) = %v, want nil", name, err)
		}
		if n, err := rdb.Exists(ctx, prefix+name).Result(); err != nil || n != 0 {
			t.Errorf("Set(%s) stored something (%d, %v)", name, n, err)
		}
	}
}

func TestGetMissing(t *testing.T) {
	rdb, prefix := newRedis(t)
	cache := redistokencache.New(rdb, redistokencache.WithPrefix(prefix))
	tok, ok, err := cache.Get(context.Background(), "basiq:token:none:3.0:SERVER_ACCESS")
	if ok || err != nil || tok != (basiq.Token{}) {
		t.Errorf("Get(missing) = %v, %t, %v; want zero, false, nil", tok, ok, err)
	}
}

func TestGetCorruptValue(t *testing.T) {
	rdb, prefix := newRedis(t)
	cache := redistokencache.New(rdb, redistokencache.WithPrefix(prefix))
	ctx := context.Background()

	for name, value := range map[string]string{
		"not-json":      "s3cr3t-not-json",
		"empty":         "",
		"array":         `["s3cr3t"]`,
		"wrong-type":    `{"access_token": 42, "expires_at": "2030-01-01T00:00:00Z"}`,
		"no-token":      `{"token_type": "Bearer", "expires_at": "2030-01-01T00:00:00Z"}`,
		"no-expiry":     `{"access_token": "s3cr3t"}`,
		"bad-expiry":    `{"access_token": "s3cr3t", "expires_at": "tomorrow"}`,
		"truncated":     `{"access_token": "s3cr3t", "expires_at": "2030-01-01T00:0`,
		"plain-secret!": "s3cr3t",
	} {
		if err := rdb.Set(ctx, prefix+name, value, time.Minute).Err(); err != nil {
			t.Fatal(err)
		}
		tok, ok, err := cache.Get(ctx, name)
		if ok || tok != (basiq.Token{}) {
			t.Errorf("%s: Get = ok %t with a token, want ok=false", name, ok)
		}
		if !errors.Is(err, redistokencache.ErrCorrupt) {
			t.Errorf("%s: Get error = %v, want ErrCorrupt", name, err)
			continue
		}
		if strings.Contains(err.Error(), "s3cr3t") || strings.Contains(err.Error(), "'s'") {
			t.Errorf("%s: error quotes the stored value: %v", name, err)
		}
	}
}

// newClient returns a Basiq client on srv sharing tokens through cache.
func newClient(t *testing.T, srv *basiqtest.Server, cache basiq.TokenCache, opts ...basiq.Option) *basiq.Client {
	t.Helper()
	opts = append([]basiq.Option{
		basiq.WithBaseURL(srv.URL),
		basiq.WithHTTPClient(srv.Client()),
		basiq.WithTokenCache(cache),
	}, opts...)
	c, err := basiq.NewClient(srv.APIKey(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// createUser makes an API call, which needs a SERVER_ACCESS token.
func createUser(c *basiq.Client, email string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := c.Users.Create(ctx, basiq.UserParams{Email: email})
	return err
}

func mustCreateUser(t *testing.T, c *basiq.Client, email string) {
	t.Helper()
	if err := createUser(c, email); err != nil {
		t.Fatalf("Users.Create: %v", err)
	}
}

// TestReplicasShareOneToken is the point of the package: clients that do not
// share memory (replicas) but share the Redis cache make one token request
// between them.
func TestReplicasShareOneToken(t *testing.T) {
	rdb, prefix := newRedis(t)
	srv := basiqtest.NewServer()
	defer srv.Close()

	// Each replica has its own Cache value too, as separate processes would.
	replicas := make([]*basiq.Client, 4)
	for i := range replicas {
		replicas[i] = newClient(t, srv, redistokencache.New(rdb, redistokencache.WithPrefix(prefix)))
	}

	mustCreateUser(t, replicas[0], "first@hooli.com")
	mustCreateUser(t, replicas[1], "second@hooli.com")
	var wg sync.WaitGroup
	for i, c := range replicas[2:] {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := createUser(c, fmt.Sprintf("replica%d@hooli.com", i+2)); err != nil {
				t.Errorf("Users.Create: %v", err)
			}
		}()
	}
	wg.Wait()
	for _, c := range replicas { // and again, from the replicas' own copies
		mustCreateUser(t, c, "again@hooli.com")
	}

	if n := srv.TokenRequests(); n != 1 {
		t.Errorf("token requests = %d, want 1 shared by %d clients", n, len(replicas))
	}
	ctx := context.Background()
	first, err := replicas[0].Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range replicas[1:] {
		tok, err := c.Token(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if tok.AccessToken != first.AccessToken {
			t.Errorf("replica %d uses a different token from replica 0", i+1)
		}
	}

	// The token sits in Redis under the prefix, with a TTL close to an hour.
	keys, err := rdb.Keys(ctx, prefix+"basiq:token:*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 || !strings.HasSuffix(keys[0], ":"+basiq.ScopeServerAccess) {
		t.Fatalf("keys under the prefix = %q, want one SERVER_ACCESS key", keys)
	}
	if ttl := rdb.PTTL(ctx, keys[0]).Val(); ttl < 55*time.Minute || ttl > time.Hour {
		t.Errorf("TTL of the shared token = %s, want close to an hour", ttl)
	}
}

// TestReplicasShareRefreshedToken: when one replica refreshes the token
// before it expires, the others take the new one from Redis instead of each
// minting their own.
func TestReplicasShareRefreshedToken(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for a token's refresh window (about 4 s)")
	}
	rdb, prefix := newRedis(t)
	srv := basiqtest.NewServer(basiqtest.WithTokenTTL(6 * time.Second))
	defer srv.Close()
	// Refresh 2 s before expiry: at about 4 s into the token's 6 s life.
	refresh := basiq.WithTokenRefreshBefore(2 * time.Second)
	a := newClient(t, srv, redistokencache.New(rdb, redistokencache.WithPrefix(prefix)), refresh)
	b := newClient(t, srv, redistokencache.New(rdb, redistokencache.WithPrefix(prefix)), refresh)
	ctx := context.Background()

	first, err := a.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if tok, err := b.Token(ctx); err != nil || tok.AccessToken != first.AccessToken {
		t.Fatalf("b did not take a's token from Redis (err %v)", err)
	}
	// a refreshes in the background, at a random point of its window (the
	// last 2 s, less up to 1 s), and stores the new token.
	second := waitForToken(t, a, first)
	if n := srv.TokenRequests(); n != 2 {
		t.Fatalf("token requests after a's refresh = %d, want 2", n)
	}
	// b, in its refresh window too, takes a's new token from Redis.
	if tok := waitForToken(t, b, first); tok.AccessToken != second.AccessToken {
		t.Errorf("b refreshed to a token other than a's")
	}
	if n := srv.TokenRequests(); n != 2 {
		t.Errorf("token requests = %d, want 2 (one per token lifetime, for both clients)", n)
	}
}

// waitForToken uses c, as a busy replica would, until its token is no
// longer old. The server and Redis run on the wall clock, so this waits in
// real time, bounded by what is being tested: an early refresh must land
// before old expires.
func waitForToken(t *testing.T, c *basiq.Client, old basiq.Token) basiq.Token {
	t.Helper()
	for {
		tok, err := c.Token(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if tok.AccessToken != old.AccessToken {
			return tok
		}
		if !time.Now().Before(old.ExpiresAt) {
			t.Fatal("the client did not refresh its token before it expired")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// syncBuffer is a bytes.Buffer safe for the SDK's concurrent logging.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// notifyHandler passes each record to notify after handling it.
type notifyHandler struct {
	slog.Handler
	notify func(slog.Record)
}

func (h notifyHandler) Handle(ctx context.Context, r slog.Record) error {
	err := h.Handler.Handle(ctx, r)
	h.notify(r)
	return err
}

// TestRedisDownSDKStillWorks needs no redis-server: the cache points at a
// closed port, every Get and Set fails, and the SDK logs that and carries on
// with tokens of its own. The Redis client has go-redis's default options,
// which retry a failed dial for well over a second; WithTimeout cuts that
// short (to keep the test fast; DefaultTimeout would do the same in 2 s).
func TestRedisDownSDKStillWorks(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: closedAddr(t)})
	defer rdb.Close()
	cache := redistokencache.New(rdb, redistokencache.WithTimeout(300*time.Millisecond))
	ctx := context.Background()

	if _, ok, err := cache.Get(ctx, "k"); ok || err == nil {
		t.Errorf("Get with Redis down = ok %t, err %v; want an error", ok, err)
	}
	if err := cache.Set(ctx, "k", sampleToken(time.Hour)); err == nil {
		t.Error("Set with Redis down returned nil, want an error")
	}

	srv := basiqtest.NewServer()
	defer srv.Close()
	var logs syncBuffer
	setLogged := make(chan struct{})
	var once sync.Once
	handler := notifyHandler{Handler: slog.NewTextHandler(&logs, nil), notify: func(r slog.Record) {
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "op" && a.Value.String() == "set" {
				once.Do(func() { close(setLogged) })
			}
			return true
		})
	}}
	c := newClient(t, srv, cache, basiq.WithLogger(slog.New(handler)))
	start := time.Now()
	mustCreateUser(t, c, "gavin@hooli.com")
	mustCreateUser(t, c, "gavin2@hooli.com")
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("calls took %s with Redis down", d)
	}
	if n := srv.TokenRequests(); n != 1 {
		t.Errorf("token requests = %d, want 1 (the client keeps its own copy)", n)
	}

	tok, err := c.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// The SDK runs Set in the background (callers wait for it at most
	// 250 ms): its warning comes when the failed Set returns.
	select {
	case <-setLogged:
	case <-time.After(10 * time.Second):
		t.Error("no warning for the failed Set within 10 s")
	}
	out := logs.String()
	for _, op := range []string{"op=get", "op=set"} {
		if !strings.Contains(out, "token cache failed") || !strings.Contains(out, op) {
			t.Errorf("no warning for the failed cache %s in the log:\n%s", op, out)
		}
	}
	if strings.Contains(out, tok.AccessToken) {
		t.Error("the log contains the access token")
	}
}

// TestTimeoutBoundsAHangingRedis: a Redis that accepts connections but never
// answers holds a token refresh up for about WithTimeout, not for ever.
func TestTimeoutBoundsAHangingRedis(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	defer func() {
		l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	}()
	go func() { // accept, and never answer
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, conn)
			mu.Unlock()
		}
	}()
	rdb := redis.NewClient(&redis.Options{Addr: l.Addr().String(), ContextTimeoutEnabled: true, MaxRetries: -1})
	defer rdb.Close()
	cache := redistokencache.New(rdb, redistokencache.WithTimeout(200*time.Millisecond))

	start := time.Now()
	_, ok, err := cache.Get(context.Background(), "k")
	if ok || err == nil {
		t.Errorf("Get from a hanging Redis = ok %t, err %v; want an error", ok, err)
	}
	if err := cache.Set(context.Background(), "k", sampleToken(time.Hour)); err == nil {
		t.Error("Set to a hanging Redis returned nil, want an error")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Get and Set took %s, want about 2 × 200ms", d)
	}
}
