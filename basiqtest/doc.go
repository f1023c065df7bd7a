// Package basiqtest is an in-process fake of the Basiq API for tests and
// examples, in the spirit of net/http/httptest.
//
// It speaks Basiq's wire format (API versions 2.0, 2.1 and 3.0): POST /token,
// users, connections (create, get, list, refresh, refresh all, update
// credentials, delete), jobs (get, list, MFA answers), institutions and
// connectors, with Basiq's error envelope, status codes, scopes and input
// validation.
//
//	srv := basiqtest.NewServer()
//	defer srv.Close()
//	// point your Basiq client at srv.URL with srv.APIKey()
//
// With InMemory there is no listener at all: use Server.Client or
// Server.Transport, which call the handler directly and so work inside a
// testing/synctest bubble, where job progress follows virtual time.
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
// password):
//
//	Wentworth-Smith / whislter, Whistler / ShowBox   MFA: ["Basiq", "AU00000"]
//	Gilfoyle / PiedPiper, gavinBelson / hooli2016    MFA: ["Hooli"]
//	jared / django, richard / tabsnotspaces          MFA: ["1234"]
//	laurieBream / business2024, ashMann / hooli2024  MFA: ["1234"]
//
// and these always fail (step configurable with WithFailureStep):
//
//	bighead / password    invalid-credentials "Account is locked", verify-credentials
//	erlich / aviato       account-not-accessible-requires-user-action, retrieve-accounts
//	jianYang / nothotdog  service-unavailable, retrieve-transactions
//
// A wrong password or an unknown login fails verify-credentials with
// invalid-credentials. MFA is asked by Pied Piper Bank (AU00002) and other
// "user-mfa" institutions on every job, and by Nucleus Bank (AU00003) and
// other "user-mfa-intermittent" ones on every other job, starting with the
// first. Hooli (AU00000) and HooliGov (AU00004) never ask. The catalogue also
// holds a dozen or so illustrative real-world institutions (invented ids)
// across tiers, stages and statuses, including a partial and a major outage.
//
// # Control and inspection
//
// Tests steer the fake with SetInstitutionStatus, SetLoginOutcome,
// SetLoginPassword, Connect (the Consent UI of API 3.0), ExpireTokens and
// InjectFault (statuses with Retry-After, delays, connection resets, truncated
// bodies), and inspect it with Job, Requests, RequestCount and TokenRequests.
package basiqtest
