// Package webhook verifies, deduplicates and handles Basiq's webhook
// deliveries (Standard Webhooks v1).
//
// Basiq POSTs a thin JSON payload to your URL for each event you subscribed
// to: the event type, its id, and links to the event and to the user,
// connection or consent it is about. Three headers come with it:
// webhook-id (the same on every retry of a delivery), webhook-timestamp
// (Unix seconds of this attempt) and webhook-signature ("v1,<base64>"
// entries, several while a secret is rotated). Basiq retries a delivery
// that did not get a 2xx: now, then after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h
// and 10 h.
//
// # Verifying
//
// NewVerifier takes the secret Basiq returned when the webhook was created
// ("whsec_" and base64, or the base64 alone, padded or not). Verify checks,
// before reading any JSON, that the body is within the size limit, that the
// headers are there, that the timestamp is within 5 minutes of the clock
// either way (WithTolerance, WithClock), and that some v1 signature matches
// HMAC-SHA256 over id.timestamp.body, compared in constant time. Then it
// reads the payload into a Message. Errors match ErrMissingHeader,
// ErrTimestamp, ErrInvalidSignature, ErrBodyTooLarge or, for a correctly
// signed body that is not a JSON object, ErrInvalidPayload. The secret never
// appears in an error, a log line or any formatting of a Verifier.
//
// # Handling
//
// Handler wraps a callback in an http.Handler that answers Basiq the way its
// retries need: 2xx only after the callback succeeded; 4xx for a delivery
// that fails verification (the callback is not called); 5xx when the
// callback fails, so that Basiq retries; and 200 without calling back for a
// webhook-id already handled. Deduplication goes through a Deduper: in
// memory by default (one process), or shared by a fleet of replicas (the
// Redis one in contrib/redis/redisdedupe). Its claim, complete
// and release contract makes concurrent deliveries of one message call back
// once, and a failed callback run again on the next delivery. A claim whose
// callback is running is never forgotten to make room: a MemoryDeduper full
// of them refuses new ids (ErrDeduperFull, answered 503, so Basiq retries).
//
// A worked example:
//
//	v, err := webhook.NewVerifier(os.Getenv("BASIQ_WEBHOOK_SECRET"))
//	if err != nil {
//		log.Fatal(err) // matches basiq.ErrInvalidInput; the secret is not quoted
//	}
//	h := webhook.Handler(v, func(ctx context.Context, m webhook.Message) error {
//		ev, err := client.Events.Get(ctx, m.EventURL) // the event the message names
//		if err != nil {
//			return err // 500: Basiq delivers it again later
//		}
//		advice, err := client.Events.Advise(ctx, ev) // what to do about it
//		switch {
//		case err != nil:
//			return err
//		case advice.Diagnosis != nil:
//			// connection.invalidated, still failing: the Diagnosis the
//			// application's callback saw for the same failure (same
//			// ProblemID): tell the user once per ProblemID, or delete
//			// Diagnosis.RemoveConnectionID when it is set.
//			return act(ctx, *advice.Diagnosis)
//		case advice.FetchTransactions:
//			return queue.Enqueue(ctx, "sync-transactions", ev.UserID)
//		case advice.DeleteUserData:
//			return deleteUserData(ctx, ev.UserID)
//		}
//		return nil // connection.created, connection.activated and the rest ask nothing
//	}, webhook.WithLogger(slog.Default()))
//	http.Handle("POST /basiq/webhooks", h)
//
// The reference backend (examples/backend in the SDK's repository) is this
// handler in a whole application, with its end-to-end test.
//
// Job completion has no event: follow a connection job with the SDK's
// poller (Jobs.Wait, Jobs.Poller), not with webhooks.
//
// # Tests
//
// Sign computes the signature Basiq would send, and package webhooktest builds
// signed requests and checks a Deduper against the contract.
package webhook
