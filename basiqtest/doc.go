// Package basiqtest is an in-process fake of the Basiq API for tests and
// examples, in the spirit of net/http/httptest.
//
// It speaks Basiq's wire format, API version 3.0 unless a token asks for
// 2.0 or 2.1: POST /token, users, connections (get, list, refresh, refresh
// all, delete, purge; create and update credentials on 2.x), jobs (get,
// list, MFA answers), consents (list, delete), accounts and transactions,
// institutions and connectors, events and webhooks, reports, statement
// uploads, auth links, identities and Enrich, with Basiq's error
// envelope, status codes, scopes and input validation. It also plays
// Basiq's hosted Consent UI, where 3.0 connections are made
// (CompleteConsent, ConsentPage), and delivers signed webhook messages
// (DeliverWebhooks).
//
//	srv := basiqtest.NewServer()
//	defer srv.Close()
//	// point your Basiq client at srv.URL with srv.APIKey()
//
// With InMemory there is no listener at all: use Server.Client or
// Server.Transport, which call the handler directly and so work inside a
// testing/synctest bubble, where job progress follows virtual time. They
// call the handler directly even when there is a listener (unlike
// httptest.Server.Client); to go through the socket, use your own
// http.Client with Server.URL.
//
// # Connecting a bank on API 3.0: the Consent UI
//
// On 3.0 an application does not post bank credentials. It mints a
// CLIENT_ACCESS token bound to the user (POST /token with basiq-version 3.0
// and the form scope=CLIENT_ACCESS&userId=…), sends the user's browser to
// Basiq's Consent UI, https://consent.basiq.io/home?token=…&state=…, and
// learns the outcome from the redirect back to its Redirect URL, which
// carries jobId, jobIds (comma-separated) and state. In a test,
// CompleteConsent plays the user in the Consent UI:
//
//	redirect, err := srv.CompleteConsent(consentURL, basiqtest.WithConsentLogins(
//		basiqtest.ConsentLogin{InstitutionID: "AU00000", LoginID: "gavinBelson", Password: "hooli2016"}))
//	// redirect: https://app.example/basiq/callback?jobId=…&jobIds=…&state=…
//
// It checks the URL as the real Consent UI would (the token, the action,
// institutionId, connectionId, state), captures or reuses the user's
// consent, makes one connection per login and starts its job, and builds
// the redirect. The actions (none or null, connect, manage, extend,
// update, reauthorise), connectionId (credential update, bank
// re-authorisation), cancelling (WithConsentCancel) and abandoning a
// bank's authorisation (ConsentLogin.Abandon) are described at
// CompleteConsent. For browser demos the fake serves a small consent page
// at ConsentPageURL (also mountable: ConsentPage); point the application's
// consent links there and its Redirect URL at the application
// (WithConsentRedirectURL). Connect is the short form of the default flow
// with one login.
//
// The user's consents (GET /users/{userId}/consents, with a SERVER_ACCESS
// token or the user's CLIENT_ACCESS token) keep their history: active, then
// revoked or expired ones. DELETE /users/{userId}/consents/{consentId}
// (SERVER_ACCESS) deletes the consent and the connections made under it.
// The application's consent policy, which consents snapshot, is set with
// SetConsentPolicy.
//
// Where Basiq's documents say nothing, the fake picks:
//   - a redirect with no job (cancel, manage, extend, every login
//     abandoned) carries state only: Basiq documents no error or cancel
//     parameter;
//   - institutions with an open-banking connector (AU10001 to AU10004,
//     AU10006 and AU10007 in the catalogue) connect through the Consent UI
//     by open banking: method "open-banking" (the spelling of DATA3's
//     connection example), expiryDate the consent's expiry (one year by
//     default), no mfa-challenge step ever; the other institutions connect
//     over the web (method "web", expiryDate ""). A user with a web
//     connection to an institution cannot add an open-banking one to it;
//   - an open-banking connection may be refreshed 20 times in any rolling
//     24 hours (Basiq: 20 a day); the 21st refresh answers 429
//     too-many-requests with the time the next one is allowed (Basiq
//     documents no status). A refresh answered with a job already running
//     costs nothing; refresh all leaves a connection at its limit out;
//   - an open-banking connection whose authorisation the user abandoned is
//     pre-init: it cannot be refreshed (400) until the user goes through
//     the Consent UI again, with connectionId or the same login;
//   - purge (POST /users/{userId}/connections/{connectionId}/purge, 3.0,
//     SERVER_ACCESS) takes only active connections (400 parameter-not-valid
//     otherwise); it deletes the connection's accounts and transactions,
//     and the next job that succeeds on the connection brings new ones;
//   - action=update with changed scopes deletes every connection of the
//     user, those made with 2.x credentials too; revoking or deleting a
//     consent deletes the connections made under it; a consent that expires
//     deletes nothing, its status turns expired;
//   - action=payment (Basiq Payments) is not simulated; the fake reads at
//     most 16 KiB of a consent URL and 4 KiB of state.
//
// # Connecting a bank on API 2.1: credentials
//
// On 2.0 and 2.1 an application posts the user's bank credentials
// (POST /users/{userId}/connections, with a SERVER_ACCESS token or the
// user's CLIENT_ACCESS token), polls the job, and on 2.1 answers MFA
// challenges (POST /jobs/{jobId}/mfa); a refresh that fails with
// invalid-credentials is fixed by posting new credentials (POST
// /users/{userId}/connections/{connectionId}). These routes answer 404
// "Route not found for this API version" to 3.0 tokens, as Basiq's do.
//
// # What is served
//
// Links in responses point where Basiq's do, and the fake serves them,
// including the accounts and transactions links of connections and job
// results. Where Basiq's documents disagree or say nothing, the fake picks:
//   - the connections filter takes Basiq's bare properties (status,
//     institution.id, id) and, more leniently than Basiq, the same with a
//     "connection." prefix;
//   - 3.0 connections carry method and expiryDate (DATA3 requires both):
//     "web" and "" for web connections, "open-banking" and the
//     authorisation's expiry for open-banking ones;
//   - a connector's open-banking method is reported as "openbanking" (the
//     DATA3 enum) to 3.0 tokens and "open-banking" to 2.x tokens; both
//     spellings are accepted in GET /connectors/{id}/{method} and in
//     connector.method filters, whatever the version;
//   - tokens are JWTs signed by the fake; one expired for more than its TTL
//     is forgotten when a new token is minted, and still answers 403
//     access-denied, as an expired token does.
//
// # Accounts and transactions
//
// GET /users/{userId}/accounts[/{accountId}] and
// GET /users/{userId}/transactions[/{transactionId}] answer SERVER_ACCESS
// tokens of every version, with API 3.0's full shapes. A connection's three
// accounts (everyday, savings, credit card: BSB, holder, masked and unmasked
// numbers, credit limit, intervals, rates, a credit card's meta) appear when
// its job's retrieve-accounts step succeeds; their transactions when
// retrieve-transactions does (so jianYang, who fails there, has accounts and
// no transactions).
//
// Transactions are generated, never stored: WithTransactionsPerAccount sets
// how many each account has (default 20, so thousands cost nothing) and
// WithDataSeed seeds them. With the same seed the same login's accounts get
// the same transactions on every server: classes, directions, amounts
// (negative for debits), descriptions, references, merchants with Enrich data
// for card payments ("enrich": null otherwise), BPAY details, and ids made of
// the account id and the index. Post dates count back from the day of the
// connection's first retrieval, by the fake's clock, a few a day over up to
// two years; the first min(3, n/8) of each account are pending, with a null
// postDate. transactionDate is a date, "" or null, as seen from Basiq.
//
// Each later retrieval (a refresh) evolves them as Basiq's evolve,
// deterministically from the seed: each pending transaction is posted under
// its id (dated the refresh's day), replaced by a pending one with a new id
// and the same details, or left; 0 to 2 new pending and 1 to 3 new posted
// transactions appear; one refresh in two brings a late posting dated 1 to
// 10 days before the previous retrieval's day; one in three corrects the
// description of a recent posting (as when Enrich runs again). Posted
// transactions keep their ids and dates. A purge empties the connection, and the next
// retrieval starts a new history under the new accounts' ids.
//
// The list is in Basiq's order (by account, pending first, then newest post
// date first), limit transactions a page (default and most 500; another
// value is 400 parameter-not-valid for "limit"), with an absolute links.next
// carrying an opaque next cursor that holds the filter and limit, absent on
// the last page. count is the number of transactions on the page and size
// the limit. Filters: account.id, connection.id, institution.id,
// transaction.status, transaction.direction and transaction.class with eq and
// ne, and transaction.postDate with eq, ne, gt, gteq, lt, lteq and bt (by
// calendar day, inclusive; pending transactions match no date). Accounts
// filter on account.id, connection.id and institution.id with eq and ne. Any
// other filter is 400 parameter-not-valid with source.parameter "filter", as
// Basiq answers.
//
// # Jobs and time
//
// Connection jobs run verify-credentials, [mfa-challenge],
// retrieve-accounts and retrieve-transactions. Each step lasts the
// institution's stats.averageDurationMs for it (Hooli: 8.2 s, 3.8 s, 7.1 s),
// times WithTimeScale. Nothing runs in the background: a job's state is
// computed from its start time and the fake's clock (WithClock, default
// time.Now) whenever it is looked at.
//
// The fake follows Basiq's documented job rules:
//   - a refresh while the connection has a job queued or running answers 200
//     with that job instead of starting another;
//   - a second connection with the same institution and login while a job for
//     them runs gets a new job that waits six minutes before starting (for the
//     same user the existing connection is reused, with a new job);
//   - an update of credentials that fails with service-unavailable is retried
//     every two hours (the step runs again) until it succeeds or seven days
//     after the job started;
//   - the connection turns active when verify-credentials succeeds, invalid
//     on invalid-credentials or account-not-accessible-requires-user-action,
//     and its lastUsed is set when a job completes. On 2.x an invalid
//     connection cannot be refreshed while its credentials are the problem
//     (400 invalid-credentials: update them first); one the bank blocked with
//     a popup can be, once the user has cleared it, as Basiq's job guidance
//     says.
//
// # Sandbox
//
// Every institution knows the sandbox logins of Basiq's test bank (loginId /
// password) and their answers to MFA challenges:
//
//	Wentworth-Smith / whislter, Whistler / ShowBox   MFA: ["Basiq", "AU00000"]
//	Gilfoyle / PiedPiper, gavinBelson / hooli2016    MFA: ["Hooli"]
//	jared / django, richard / tabsnotspaces          MFA: ["1234"]
//	laurieBream / business2024, ashMann / hooli2024  MFA: ["1234"] (the fake's invention)
//
// and these always fail (step configurable with WithFailureStep):
//
//	bighead / password    invalid-credentials "Account is locked", verify-credentials
//	erlich / aviato       account-not-accessible-requires-user-action, retrieve-accounts
//	jianYang / nothotdog  service-unavailable, retrieve-transactions
//
// Basiq documents MFA answers for the first six logins only (its Testing
// page). On a bank that asks, the fake gives laurieBream, ashMann, the failing
// logins and logins added with SetLoginPassword jared's one-time-password
// challenge, answered ["1234"]: that answer is the fake's own invention.
//
// A wrong password or an unknown login fails verify-credentials with
// invalid-credentials. MFA is asked by Pied Piper Bank (AU00002) and other
// "user-mfa" institutions on every job, and by Nucleus Bank (AU00003) and
// other "user-mfa-intermittent" ones on every other job of a connection,
// starting with the connection's first (each connection keeps its own turn,
// so parallel tests do not affect one another). Hooli (AU00000) and HooliGov
// (AU00004) never ask. MFA exists from API 2.1: a job started with a 2.0
// token has no mfa-challenge step (and takes no intermittent turn). A job
// from the Consent UI (CompleteConsent, Connect, the consent page) has none
// either, since the Consent UI takes the MFA answer before it hands the job
// back, and jobs of open-banking connections never have one. On
// open-banking institutions the sandbox logins stand for the user's login
// at the bank's own authorisation page. The catalogue also
// holds a dozen or so illustrative real-world institutions (invented ids)
// across tiers, stages and statuses, including a partial and a major outage.
//
// # Events and webhooks
//
// On API 3.0 (SERVER_ACCESS tokens) the fake records an event whenever its
// own state changes, serves the last seven days of them, and delivers
// signed webhook messages for them on its clock.
//
// What records which event (type, then trigger); each event's data is a
// snapshot of its entity as the fake serves it to a 3.0 SERVER_ACCESS
// token at that moment:
//
//	user.created, user.updated, user.deleted   POST /users, POST and DELETE /users/{userId}
//	connection.created                         a connection is made (credential POST on 2.x, Consent UI on 3.0)
//	connection.deleted                         DELETE of it or of its consent; revoked in the Consent UI; re-consent with new scopes
//	connection.updated                         its status changes, or a job on it completes (lastUsed); never delivered by webhook
//	connection.activated                       its status turns active from any other: first verified credentials, or after invalid
//	connection.invalidated                     its status turns invalid: invalid-credentials, account-not-accessible-requires-user-action, user-action-required
//	transactions.updated                       retrieve-transactions succeeds; data {"type":"transactions","count":"60","connection":{…},"links":{"self":".../transactions?filter=connection.id.eq('…')"}}
//	consent.created                            the Consent UI captures a consent (also Connect)
//	consent.updated                            action=extend, action=update (a re-consent with new scopes also revokes the old consent and creates a new one)
//	consent.revoked                            revoked in the Consent UI, or an active consent deleted with DELETE /users/{userId}/consents/{consentId}
//	consent.warning, consent.expired           seven days before its expiry, and at its expiry, by the fake's clock
//	consent.reminder                           90 days after the consent was last updated, by the fake's clock
//
// Deleting a user records user.deleted only. account.updated has no trigger
// (the fake's accounts change nothing but balances, which Basiq leaves out
// of it), nor does an open-banking connection's expiry; a test message
// delivers either type. Events that come with time are, like job progress,
// computed from the clock whenever the fake is looked at (any request,
// Job, DeliverWebhooks), and dated when they fell due.
//
// GET /events lists the last seven days, newest first, with the filters
// user.id.eq(…), event.entity.eq(…) and event.type.eq(…) (also ne and in;
// values quoted or bare; event.type takes "connection.invalidated" or
// "invalidated"); any other filter is 400 parameter-not-valid for
// "filter". Basiq documents no paging for /events: the fake pages like its
// transactions, limit events a page (default and most 500) with links.next
// while more remain. GET /events/{eventId} answers 404 resource-not-found
// once an event is older than seven days. Event ids are 64 hexadecimal
// digits. GET /events/types[/{eventTypeId}] lists the fifteen types a
// webhook may subscribe to.
//
// Webhooks are managed at /notifications/webhooks: create (201, with a new
// secret "whsec_" and the base64 of 24 random bytes), list, get, update
// (POST; the same secret, shown again), delete, a webhook's messages
// (limit, filter on eventTypeId, eventId, webhookId, status and date, and
// links.next) and one message with its attempts, and POST
// /notifications/messages/test. A webhook's url must be absolute https, or
// http on a loopback host, without user info; one already registered is 409
// resource-already-exists. subscribedEvents is an array of types, or a
// single string as in Basiq's examples; without it a webhook subscribes to
// all fifteen; an unknown type or connection.updated is 400 invalid-content.
// The fake answers subscribedEvents as an array, and lets several webhooks
// subscribe to one type. A new webhook is active at once unless
// WithWebhookActivationDelay (Basiq: up to 15 minutes) keeps it
// pending-approval, and gets messages for events from then on. A test
// message is an event of the given type with no user and the data
// {"type":"test","text":…}, delivered to the webhooks subscribed to it.
//
// Every event of a type a webhook subscribes to makes a message for it: a
// POST of {"eventTypeId","eventId","links":{"event","eventEntity"}} with the
// headers webhook-id (the message id, the same on every attempt),
// webhook-timestamp (Unix seconds of the attempt, by the fake's clock) and
// webhook-signature "v1," and the base64 HMAC-SHA256 of
// "<webhook-id>.<webhook-timestamp>.<body>" keyed with the secret's bytes
// (Standard Webhooks). A 2xx answer delivers it; anything else, a
// transport error, a redirect (never followed) or no answer within 15
// seconds fails the attempt, and the next falls due on Basiq's schedule,
// each after the previous attempt: at once, +5 s, +5 min, +30 min, +2 h,
// +5 h, +10 h, +10 h. After eight failures the message is given up; the
// webhook stays active.
//
// Nothing is sent in the background by default. In tests, move the fake's
// clock (WithClock, or time in a testing/synctest bubble) and call
// DeliverWebhooks, which makes every attempt due by then (a receiver that
// checks webhook-timestamp against its clock must use the fake's clock
// too); NextWebhookAttempt
// says when the next one falls due, WebhookMessages shows every message and
// attempt, and FailWebhookDeliveries makes the next attempts fail (sent, and
// counted as a 500) to exercise a receiver's handling of repeats.
// Deliveries go through WithWebhookClient's client: with
// HandlerTransport(receiver) they reach a handler in memory, so a whole
// flow runs inside a synctest bubble. For demos, StartWebhookDelivery
// delivers in the background until Close.
//
// # Reports
//
// POST /reports (3.0, SERVER_ACCESS) takes Basiq's {reportType, title,
// filters: [{name, value}]} and checks it as Basiq documents: a known
// reportType (CON_AFFOR_01 or STATEMENT_01, as GET /reports/types lists
// them), a title of 1 to 50 characters, only the type's filters, once each,
// every required one, fromDate and toDate as YYYY-MM-DD (fromDate not
// after toDate; a missing toDate is today), users (and user) naming users
// that exist, accounts an array of ids (empty: all of the users' accounts),
// includeMetrics and includeGroups an array of codes (ME…, INC-…/EXP-…) or
// null. Anything else is 400 with parameter-not-supplied or
// parameter-not-valid and source.pointer "filters/<name>". It answers 202
// with a job (jobType "report", links.source the report from the start, as
// in CORE3's examples) whose one step, create-report, takes 3 s times
// WithTimeScale. The report's id is the job's. The step fails with
// invalid-field-value when a user is gone, when accounts names an account
// none of the users has with retrieved data, or when the users have no
// account data yet (no bank connected, or its job not done); the detail
// says which.
//
// As it succeeds, create-report copies the posted transactions of the
// selected accounts within fromDate..toDate (each with the account's
// balance after it): GET /reports/{reportId}/transactions serves that
// snapshot (filters account.id, connection.id, institution.id,
// transaction.id, .direction, .class, .status with eq and ne,
// transaction.postDate with every date operator; limit and links.next),
// unchanged whatever happens to the data later. CON_AFFOR_01 is computed
// from it: every transaction falls in one group (salary, interest and other
// credits; groceries, dining out, fuel, retail, utilities, ATM, fees, loan
// repayments, refunds, by class and merchant), each group and each of its
// subgroups (a merchant or a description) with REP's analysis (counts,
// shares, range, total, min, max, averages and medians per transaction and
// per calendar month, stable and secure months, frequency); and twenty
// metrics (ME001, ME002, ME004, ME008 to ME016, ME018, ME025, ME028,
// ME030, ME033, ME034, ME040, ME041) with REP's titles, as result {value,
// format}: money as decimal strings, monthly means over the range's days /
// 30.4375. includeMetrics and includeGroups select as Basiq documents
// (absent or [] all, null none). STATEMENT_01 (filters fromDate, account,
// user, toDate) has REP's STATEMENT shape. A report is the same for the
// same data: the same seed and logins give the same figures.
//
// GET /reports/{reportId} answers the JSON, or with Accept:
// application/pdf a one-page PDF of it; GET /reports lists the reports,
// newest first, with limit and links.next; DELETE removes one. A report can
// be read for 24 hours after its creation ("retrieved up to 24 hours after
// creation", REP), then it is 404, like one that never was.
//
// # Statements, auth links, identities, Enrich
//
// POST /users/{userId}/statements takes multipart/form-data with
// institutionId and statement (415 for another content type; 400
// parameter-not-supplied for a missing field; 400 institution-not-supported
// on the sandbox banks, AU00000 and the other test banks). Like every body,
// the fake reads at most 1 MiB of it. The upload makes a connection
// to the institution (jobType "connection", as in CORE3's statement
// examples) and a job with verify-credentials (reading the file),
// retrieve-accounts and retrieve-transactions. A PDF (a file starting
// "%PDF-") is not parsed: it gives one transaction account with generated
// transactions, seeded by the file. A CSV is read for real, in the fake's
// format (Basiq gives its own to partners on request): a header naming
// account_number, date, description and amount (required), balance,
// account_name and bsb (optional), any order and case, then one row per
// transaction; rows of one account_number are one account, dates are
// YYYY-MM-DD or DD/MM/YYYY. A file it cannot read fails verify-credentials
// with Basiq's statement codes: bank-statement-invalid (neither a PDF nor
// such a CSV), empty-file, missing-required-field, missing-required-field-
// value, invalid-field-value, invalid-csv-row, account-data-differs,
// row-count-exceeded (over 5000 rows); the connection turns invalid. A
// statement connection cannot be refreshed (400: upload a new statement).
//
// /users/{userId}/auth_link: POST (201, without id; the body's mobile, or
// the user's, else 400) makes the user's newest link, which alone works;
// GET answers it (200, with id), 404 when there never was one, 410
// resource-no-longer-available once it expired (seven days on 3.0, three
// on 2.x, by the fake's clock) or was deleted; DELETE (SERVER_ACCESS or the
// user's CLIENT_ACCESS) answers 204, then 404. GET /users/{userId} carries
// links.auth_link while a link works. links.public points at the fake,
// which serves no page there.
//
// GET /users/{userId}/identities[/{identityId}] (3.0) lists one identity
// per connection whose credentials were verified: the sandbox login's
// profile, with an id derived from the connection's. GET /enrich (q,
// institution and country required; mcc, accountType and amount checked)
// matches the description against the merchants of the fake's card
// payments by their key word ("WOOLWORTHS", "GARFISH", "JB HI FI", any
// case): merchant, ANZSIC category, location and logos; other text gets a
// class from its words (ATM, FEE, SALARY...) and no merchant. The
// direction is the amount's sign (debit without one).
//
// # Control and inspection
//
// Tests steer the fake with CompleteConsent and Connect (the Consent UI of
// API 3.0), SetConsentPolicy, WithTransactionsPerAccount, WithDataSeed,
// SetInstitutionStatus, SetLoginOutcome, SetLoginPassword, ExpireTokens,
// InjectFault (statuses with Retry-After, delays, connection resets,
// truncated bodies), DeliverWebhooks and FailWebhookDeliveries, and inspect
// it with Job, Requests, RequestCount, TokenRequests, WebhookMessages and
// NextWebhookAttempt.
package basiqtest
