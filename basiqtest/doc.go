// Package basiqtest is an in-process fake of the Basiq API for tests and
// examples, in the spirit of net/http/httptest.
//
// It speaks Basiq's wire format (API versions 2.0, 2.1 and 3.0): POST /token,
// users, connections (create, get, list, refresh, refresh all, update
// credentials, delete), jobs (get, list, MFA answers), accounts and
// transactions, institutions and connectors, with Basiq's error envelope,
// status codes, scopes and input validation.
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
// # What is served
//
// Links in responses point where Basiq's do, and the fake serves them,
// including the accounts and transactions links of connections and job
// results. Where Basiq's documents disagree or say nothing, the fake picks:
//   - the connections filter takes Basiq's bare properties (status,
//     institution.id, id) and, more leniently than Basiq, the same with a
//     "connection." prefix;
//   - 3.0 connections carry method "web" and expiryDate "" (DATA3 requires
//     both; the date is for open-banking consents only);
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
// last retrieval, by the fake's clock, a few a day over up to two years; the
// first min(3, n/8) of each account are pending, with a null postDate (their
// ids stay stable, where Basiq's change at every refresh). transactionDate is
// a date, "" or null, as seen from Basiq.
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
//     and its lastUsed is set when a job completes.
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
// Basiq documents MFA answers for the first six logins only (basiq-api.md
// §8). On a bank that asks, the fake gives laurieBream, ashMann, the failing
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
// from Connect has none either, since the Consent UI takes the MFA answer
// before it hands the job back. The catalogue also
// holds a dozen or so illustrative real-world institutions (invented ids)
// across tiers, stages and statuses, including a partial and a major outage.
//
// # Control and inspection
//
// Tests steer the fake with WithTransactionsPerAccount, WithDataSeed,
// SetInstitutionStatus, SetLoginOutcome,
// SetLoginPassword, Connect (the Consent UI of API 3.0), ExpireTokens and
// InjectFault (statuses with Retry-After, delays, connection resets, truncated
// bodies), and inspect it with Job, Requests, RequestCount and TokenRequests.
package basiqtest
