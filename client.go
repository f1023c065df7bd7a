package basiq

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/banklink-go/basiq/internal/transport"
)

// Version is the SDK's version, sent in the User-Agent header.
const Version = "0.2.0"

// DefaultBaseURL is Basiq's production API.
const DefaultBaseURL = "https://au-api.basiq.io"

// defaultBodyLimit bounds every response body read.
const defaultBodyLimit = 10 << 20

// APIVersion selects the Basiq API version a client's tokens are minted for.
type APIVersion string

// API versions this SDK speaks.
const (
	V2_1 APIVersion = "2.1" // credential-based connections (create/update with a password)
	V3   APIVersion = "3.0" // the current API: connections through the Consent UI
)

// RetryPolicy bounds retries of one call. Zero fields take the defaults
// (4 attempts, 500 ms minimum backoff, 30 s maximum).
type RetryPolicy struct {
	MaxAttempts int           // total attempts including the first; 1 disables retries
	MinBackoff  time.Duration // base of the exponential backoff with full jitter
	MaxBackoff  time.Duration // cap on any wait, including a server's Retry-After
}

// DefaultRetryPolicy is the policy used when WithRetryPolicy is not given.
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{MaxAttempts: 4, MinBackoff: 500 * time.Millisecond, MaxBackoff: 30 * time.Second}
}

// Option configures a Client.
type Option func(*config) error

type config struct {
	baseURL         string
	version         APIVersion
	httpClient      *http.Client
	logger          *slog.Logger
	retry           RetryPolicy
	userAgent       string
	tokenCache      TokenCache
	earlyRefresh    time.Duration
	clientCacheSize int
	bodyLimit       int64
	consentBaseURL  string
}

// WithBaseURL points the client at another server (a proxy, or basiqtest).
// The URL must use https unless its host is a loopback address; a path prefix is kept.
func WithBaseURL(u string) Option {
	return func(c *config) error { c.baseURL = u; return nil }
}

// WithAPIVersion selects V2_1 or V3 (the default).
func WithAPIVersion(v APIVersion) Option {
	return func(c *config) error {
		if v != V2_1 && v != V3 {
			return invalidInput("unknown API version %q", string(v))
		}
		c.version = v
		return nil
	}
}

// WithHTTPClient sends requests through hc. Its Timeout, if any, applies per attempt.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *config) error {
		if hc == nil {
			return invalidInput("nil *http.Client")
		}
		c.httpClient = hc
		return nil
	}
}

// WithLogger logs requests, retries and re-authentication through l. The
// default is silent. Secrets are never logged.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error { c.logger = l; return nil }
}

// WithRetryPolicy replaces the retry policy; zero fields keep their defaults.
func WithRetryPolicy(p RetryPolicy) Option {
	return func(c *config) error {
		if p.MaxAttempts < 0 || p.MinBackoff < 0 || p.MaxBackoff < 0 {
			return invalidInput("negative retry policy field")
		}
		d := DefaultRetryPolicy()
		if p.MaxAttempts == 0 {
			p.MaxAttempts = d.MaxAttempts
		}
		if p.MinBackoff == 0 {
			p.MinBackoff = d.MinBackoff
		}
		if p.MaxBackoff == 0 {
			p.MaxBackoff = d.MaxBackoff
		}
		if p.MaxBackoff < p.MinBackoff {
			p.MaxBackoff = p.MinBackoff
		}
		c.retry = p
		return nil
	}
}

// WithUserAgent prefixes the SDK's User-Agent with ua (your application's name).
func WithUserAgent(ua string) Option {
	return func(c *config) error {
		if strings.ContainsAny(ua, "\r\n") {
			return invalidInput("user agent contains a line break")
		}
		c.userAgent = ua
		return nil
	}
}

// WithTokenCache shares tokens through tc, so that several processes (or
// clients) with the same API key use one token instead of one each. See
// TokenCache for the contract. Without it, each client keeps its own tokens in
// memory (one SERVER_ACCESS token, and CLIENT_ACCESS tokens for the 1,024
// users most recently asked for).
func WithTokenCache(tc TokenCache) Option {
	return func(c *config) error {
		if tc == nil {
			return invalidInput("nil TokenCache")
		}
		c.tokenCache = tc
		return nil
	}
}

// WithTokenRefreshBefore sets how long before expiry a token is refreshed in
// the background while it stays in use (default 5 minutes).
func WithTokenRefreshBefore(d time.Duration) Option {
	return func(c *config) error {
		if d < 0 {
			return invalidInput("negative refresh margin")
		}
		c.earlyRefresh = d
		return nil
	}
}

// WithConsentBaseURL points Consents.URL at another Consent UI (basiqtest's
// consent page, in tests and demos) instead of DefaultConsentBaseURL. Like the
// base URL it must be https, or http on a loopback host, with no credentials,
// query or fragment; its path is kept.
func WithConsentBaseURL(u string) Option {
	return func(c *config) error { c.consentBaseURL = u; return nil }
}

// Client is a Basiq API client. It is safe for concurrent use; create one
// per API key and share it.
type Client struct {
	// Users creates, reads and deletes Basiq users.
	Users *UsersService
	// Jobs reads jobs, answers MFA challenges and polls jobs to completion.
	Jobs *JobsService
	// Connections creates, refreshes, updates and deletes bank connections.
	Connections *ConnectionsService
	// Institutions lists institutions and their status.
	Institutions *InstitutionsService
	// Connectors lists connectors (an institution's access methods) and their status.
	Connectors *ConnectorsService
	// Consents builds Consent UI links and reads and revokes consents (API 3.0).
	Consents *ConsentsService
	// Events reads what happened to the application's users (API 3.0).
	Events *EventsService
	// Webhooks manages the endpoints Basiq delivers events to (API 3.0).
	Webhooks *WebhooksService
	// Accounts reads a user's bank accounts.
	Accounts *AccountsService
	// Transactions reads a user's transactions, page by page.
	Transactions *TransactionsService
	// Reports creates and reads reports (affordability, statements) (API 3.0).
	Reports *ReportsService
	// Statements uploads bank statement files, read in by a job.
	Statements *StatementsService
	// AuthLinks manages users' auth links (Basiq's older hosted connect page).
	AuthLinks *AuthLinksService
	// Identities reads the account holders' identities (API 3.0).
	Identities *IdentitiesService
	// Enrich looks up transaction descriptions with Basiq Enrich.
	Enrich *EnrichService

	// The services as NewClient made them. Internal code uses these, never
	// the exported fields above, which a caller may replace (with a stub, or nil).
	users        *UsersService
	jobs         *JobsService
	connections  *ConnectionsService
	institutions *InstitutionsService
	connectors   *ConnectorsService
	consents     *ConsentsService
	events       *EventsService
	webhooks     *WebhooksService
	accounts     *AccountsService
	transactions *TransactionsService

	apiKey          *secret // behind a pointer: fmt prints only its address when nested
	baseURL         *url.URL
	consentBase     *url.URL
	version         APIVersion
	userAgentHeader []string // []string{userAgent}, shared by every request; never modified
	jsonHeader      []string // []string{"application/json"}, likewise
	logger          *slog.Logger
	http            *transport.Transport
	tokens          *tokenManager
	// pageDecoded, when set (by tests), sees each list page's body right
	// after the page is decoded, while the body is still held.
	pageDecoded func(body []byte)
}

// NewClient returns a client for the given API key (as shown in Basiq's
// dashboard: already base64, sent verbatim after "Basic ").
func NewClient(apiKey string, opts ...Option) (*Client, error) {
	apiKey = strings.TrimSpace(apiKey)
	if apiKey == "" {
		return nil, invalidInput("empty API key")
	}
	if strings.ContainsAny(apiKey, " \t\r\n") {
		return nil, invalidInput("API key contains white space")
	}
	cfg := config{
		baseURL:         DefaultBaseURL,
		version:         V3,
		httpClient:      defaultHTTPClient(),
		retry:           DefaultRetryPolicy(),
		earlyRefresh:    5 * time.Minute,
		clientCacheSize: 1024,
		bodyLimit:       defaultBodyLimit,
		consentBaseURL:  DefaultConsentBaseURL,
	}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(&cfg); err != nil {
			return nil, err
		}
	}
	base, err := parseBaseURL(cfg.baseURL)
	if err != nil {
		return nil, err
	}
	consentBase, err := parseBaseURL(cfg.consentBaseURL)
	if err != nil {
		return nil, fmt.Errorf("%w (WithConsentBaseURL)", err)
	}
	ua := "basiq-go/" + Version
	if cfg.userAgent != "" {
		ua = cfg.userAgent + " " + ua
	}
	c := &Client{
		apiKey:          newSecret(apiKey),
		baseURL:         base,
		consentBase:     consentBase,
		version:         cfg.version,
		userAgentHeader: []string{ua},
		jsonHeader:      []string{"application/json"},
		logger:          cfg.logger,
		http: transport.New(cfg.httpClient, transport.Policy{
			MaxAttempts: cfg.retry.MaxAttempts, MinBackoff: cfg.retry.MinBackoff, MaxBackoff: cfg.retry.MaxBackoff,
		}, cfg.bodyLimit),
	}
	c.tokens = newTokenManager(c, cfg.tokenCache, cfg.earlyRefresh, cfg.clientCacheSize)
	c.users = &UsersService{c: c}
	c.jobs = newJobsService(c)
	c.connections = &ConnectionsService{c: c}
	c.institutions = newInstitutionsService(c)
	c.connectors = &ConnectorsService{c: c}
	c.consents = &ConsentsService{c: c}
	c.Users, c.Jobs, c.Connections, c.Institutions, c.Connectors = c.users, c.jobs, c.connections, c.institutions, c.connectors
	c.events, c.webhooks = &EventsService{c: c}, &WebhooksService{c: c}
	c.Consents, c.Events, c.Webhooks = c.consents, c.events, c.webhooks
	c.accounts, c.transactions = &AccountsService{c: c}, &TransactionsService{c: c}
	c.Accounts, c.Transactions = c.accounts, c.transactions
	c.Reports, c.Statements, c.AuthLinks = &ReportsService{c: c}, &StatementsService{c: c}, &AuthLinksService{c: c}
	c.Identities, c.Enrich = &IdentitiesService{c: c}, &EnrichService{c: c}
	return c, nil
}

// defaultHTTPClient is the client used without WithHTTPClient: its own
// connection pool, sized for many concurrent pollers against one host, and a
// 60-second limit per attempt.
func defaultHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 64
	return &http.Client{Transport: t, Timeout: 60 * time.Second}
}

// APIVersion returns the API version the client's tokens are minted for
// ("" for a Client not made by NewClient).
func (c *Client) APIVersion() APIVersion {
	if c == nil {
		return ""
	}
	return c.version
}

// errNotInitialized is returned by every method of a Client, a service or a
// Poller that was not made by NewClient (a zero value, or nil).
func errNotInitialized() error {
	return invalidInput("client not initialized: use NewClient")
}

// ready reports whether c was made by NewClient. Internal paths call it
// before touching any field, so that zero values fail instead of panicking.
func (c *Client) ready() error {
	if c == nil || c.tokens == nil {
		return errNotInitialized()
	}
	return nil
}

// String identifies the client without revealing the API key.
func (c *Client) String() string {
	if c.ready() != nil {
		return "basiq.Client{not initialized}"
	}
	return fmt.Sprintf("basiq.Client{baseURL: %s, version: %s}", c.baseURL, c.version)
}

// GoString is String: the API key never appears in %#v.
func (c *Client) GoString() string { return c.String() }

// Format prints String for every verb: without it %d, %t and the like would
// print the fields, the API key among them.
func (c *Client) Format(f fmt.State, _ rune) { fmt.Fprint(f, c.String()) }

func parseBaseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimRight(raw, "/"))
	if err != nil {
		// The parser's message quotes parts of the URL, which may hold a
		// password: say only that it did not parse.
		return nil, invalidInput("base URL does not parse as a URL")
	}
	if u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		// Never echo the credentials, query or fragment: they may hold secrets.
		safe := (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String()
		return nil, invalidInput("base URL %q must be scheme://host[/prefix] without credentials, query or fragment", safe)
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !isLoopback(u.Hostname()) {
			return nil, invalidInput("base URL %q: plain http is only allowed for loopback hosts", raw)
		}
	default:
		return nil, invalidInput("base URL %q: scheme must be https", raw)
	}
	return u, nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// errUnsupported reports a call the configured API version does not have.
func (c *Client) errUnsupported(call string) error {
	if err := c.ready(); err != nil {
		return err
	}
	return fmt.Errorf("%w: %s is not available on API version %s", ErrUnsupportedVersion, call, c.version)
}

// client returns the service's Client; nil for a nil or zero service, whose
// calls then fail in Client.ready.
func (s *UsersService) client() *Client {
	if s == nil {
		return nil
	}
	return s.c
}

func (s *JobsService) client() *Client {
	if s == nil {
		return nil
	}
	return s.c
}

func (s *ConnectionsService) client() *Client {
	if s == nil {
		return nil
	}
	return s.c
}

func (s *InstitutionsService) client() *Client {
	if s == nil {
		return nil
	}
	return s.c
}

func (s *ConnectorsService) client() *Client {
	if s == nil {
		return nil
	}
	return s.c
}
