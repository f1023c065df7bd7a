// Package basiq is a client for Basiq's API (https://au-api.basiq.io), the
// Australian open-banking aggregator: users, consents, bank connections,
// jobs, accounts and transactions, events and webhooks, institutions and
// connectors.
//
// # Connecting a bank (API 3.0)
//
// API 3.0 is the default. Connections are made in Basiq's hosted Consent UI:
// Consents.URL builds the link (with a CLIENT_ACCESS token for the user; do
// not log it, see RedactURL), ParseConsentRedirect reads the job ids Basiq
// sends the browser back with, and Jobs.WaitAll waits for every job. A
// failed job's Diagnosis carries the Consent UI options that fix it
// (Diagnosis.Consent). API 2.1 (WithAPIVersion(V2_1)) creates connections
// with credentials instead (Connections.Create).
//
// # Authentication
//
// NewClient takes the API key from Basiq's dashboard. The client mints a
// SERVER_ACCESS token on first use, shares it across goroutines, refreshes it
// in the background shortly before it expires, and replaces it once when the
// API rejects it (Basiq answers an expired token with 403 access-denied). A
// rejected API key is an *AuthError and is never retried. ClientToken mints
// CLIENT_ACCESS tokens bound to a user, for front ends. WithTokenCache shares
// tokens between processes.
//
// # Errors
//
// API failures are *APIError values carrying the status, Basiq's error codes
// and correlation id; match their category with errors.Is and the sentinels
// (ErrNotFound, ErrRateLimited, ErrTokenExpired, ...). Invalid arguments fail
// with ErrInvalidInput before any request is sent.
//
// # Jobs and polling
//
// Creating, refreshing and updating a connection start a Job. Jobs.Poller
// follows a job step by step (verify-credentials, mfa-challenge,
// retrieve-accounts, retrieve-transactions); a failed step comes back as a
// *JobFailedError whose Diagnosis says what to do and what to tell the user.
// Poller.WaitForStep(ctx, StepVerifyCredentials) is the "keep the user until
// their login is verified" wait: while the bank's MFA prompt waits for
// answers it returns an *MFARequiredError (ErrMFARequired); send the answers
// with Jobs.SubmitMFA and wait again.
//
// # Accounts and transactions
//
// Accounts.List and Accounts.Get read a user's accounts. Transactions.All
// streams a user's transactions as an iter.Seq2, following Basiq's
// links.next page by page with one page in memory, and stops fetching when
// the loop breaks; Transactions.Get reads one. Client.Do calls an endpoint
// the SDK does not wrap yet with the same tokens, retries, errors and logging,
// and a body of any content type. Each filter type's Where takes any
// condition Basiq documents for its list (Condition: every ne, date
// comparisons); WithListTotals reads a list's count and totalCount.
//
// # Reports, statements and the rest of the API
//
// Reports.Create asks for a report (ReportAffordability, Basiq's income and
// expenses assessment, or ReportStatement) and returns its job: wait for it
// like any job, then Reports.Get(ctx, job.ReportID()) reads its metrics, and
// Reports.PDF its PDF. Statements.Upload streams a bank statement file into a
// job that reads it, sent once (an *UploadError says whether Basiq may have
// acted on a failed upload). AuthLinks, Identities, Enrich and Events.Types
// wrap the rest of Basiq's published 3.0 API; the Diagnosis of a report or
// statement job speaks of the report or the statement.
//
// # Events and webhooks
//
// Events.Get and Events.All read what happened to the application's users;
// Events.Advise says what to do about an event. Webhooks manages the
// endpoints Basiq delivers events to; package webhook verifies and handles
// the deliveries. Job completion has no event: wait for jobs.
//
// # Retries
//
// GET and DELETE requests are retried on network errors, 429, 500, 502, 503
// and 504 with exponential backoff and full jitter, honouring Retry-After.
// POST requests are retried only when the server cannot have acted on them
// (429, Basiq's 403 throttling, or a connection that never opened).
//
// # Logging
//
// WithLogger logs one debug line per request and a warning per retry and
// re-authentication, with stable keys (user_id, connection_id, job_id,
// correlation_id, status, attempt). API keys, tokens, passwords, consent
// links and auth links are never logged.
//
// # Redirects
//
// Basiq's API never redirects, so the client follows no redirect: a 3xx is
// an *APIError, and nothing (no token, no password) is sent to its Location.
package basiq
