package basiqtest

import (
	"math"
	"net/http"
	"time"
)

// Option configures a Server created by NewServer.
type Option func(*config)

// config is what the options set; NewServer copies it into the Server.
type config struct {
	apiKey       string
	tokenTTL     time.Duration
	now          func() time.Time
	timeScale    float64
	inMemory     bool
	failureSteps map[string]string
	logLimit     int

	consentRedirect string // consent_flow.go: the application's Redirect URL
	txPerAccount    int
	dataSeed        int64

	webhookClient     *http.Client  // webhook_delivery.go
	webhookActivation time.Duration // webhooks.go
}

func defaultConfig() config {
	return config{
		tokenTTL:     time.Hour,
		now:          time.Now,
		timeScale:    1,
		failureSteps: map[string]string{},
		logLimit:     10000,
		txPerAccount: 20,
		dataSeed:     1,
	}
}

// WithAPIKey sets the API key the fake accepts after "Basic " on POST /token.
// Without it the fake makes up a random key; read it with Server.APIKey.
func WithAPIKey(key string) Option {
	return func(c *config) {
		if key != "" {
			c.apiKey = key
		}
	}
}

// WithTokenTTL sets how long issued tokens live (default one hour, like
// Basiq). expires_in reports the TTL in whole seconds. Non-positive values are
// ignored.
func WithTokenTTL(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.tokenTTL = d
		}
	}
}

// WithClock sets the fake's clock (default time.Now, which is virtual inside a
// testing/synctest bubble). Jobs progress, tokens expire and Basiq's retries
// happen by this clock; nothing runs in the background, so a test that owns
// the clock moves everything by moving the clock.
func WithClock(now func() time.Time) Option {
	return func(c *config) {
		if now != nil {
			c.now = now
		}
	}
}

// WithTimeScale multiplies every job step duration (each institution's
// stats.averageDurationMs) by f. The default is 1; 0 makes steps finish the
// moment they start (an MFA challenge still waits for its answer). Negative
// and NaN values count as 0. Basiq's fixed delays (the 6-minute hold on a
// duplicate connection, the 2-hourly retry, the 120 s MFA expiry) are not
// scaled. The averages the fake reports (stats.averageDurationMs) are scaled
// too, so clients that schedule by them see a consistent, faster bank.
func WithTimeScale(f float64) Option {
	return func(c *config) {
		if math.IsNaN(f) || f < 0 {
			f = 0
		}
		c.timeScale = f
	}
}

// InMemory makes NewServer start no listener: the fake is reached only
// through Server.Transport or Server.Client, with no sockets, so it can run
// inside a testing/synctest bubble. Server.URL is then "https://basiq.test".
func InMemory() Option {
	return func(c *config) { c.inMemory = true }
}

// WithFailureStep sets the job step on which a failing login fails, for the
// sandbox's failing users (bighead fails on verify-credentials, erlich on
// retrieve-accounts, jianYang on retrieve-transactions by default) and for
// outcomes set with Server.SetLoginOutcome that name no step. step is a Basiq
// step title such as StepRetrieveAccounts.
func WithFailureStep(loginID, step string) Option {
	return func(c *config) { c.failureSteps[loginID] = step }
}

// WithRequestLogLimit sets how many of the most recent requests
// Server.Requests keeps (default 10,000), so that long simulations do not
// grow memory without bound. n <= 0 keeps none. Counters such as
// Server.RequestCount are exact whatever the limit.
func WithRequestLogLimit(n int) Option {
	return func(c *config) { c.logLimit = max(n, 0) }
}

// WithTransactionsPerAccount sets how many transactions each account has once
// its connection's retrieve-transactions step first succeeds (default 20; the
// first min(3, n/8) of them pending); each refresh then adds a few (see the
// package doc), except when n is 0. Transactions are computed when asked
// for, never stored, so thousands cost no memory: ask for thousands to test
// paging (500 a page). Negative values count as 0.
func WithTransactionsPerAccount(n int) Option {
	return func(c *config) { c.txPerAccount = max(n, 0) }
}

// WithDataSeed seeds the generator of accounts' transactions (default 1).
// With the same seed, the same login's accounts have the same transactions
// (descriptions, amounts, classes, references, ids relative to the account)
// on every server; post dates count back from the day the connection's
// transactions were first retrieved, by the fake's clock, and each later
// retrieval evolves them the same way (see the package doc).
func WithDataSeed(seed int64) Option {
	return func(c *config) { c.dataSeed = seed }
}
