package webhook

import "errors"

// Errors returned by Verify (and answered with a 4xx by Handler), matched with
// errors.Is. Their text names what was wrong and never quotes the secret, a
// signature or the body.
var (
	// ErrMissingHeader: a webhook-id, webhook-timestamp or webhook-signature
	// header is absent or empty.
	ErrMissingHeader = errors.New("webhook: missing header")
	// ErrTimestamp: webhook-timestamp is not an integer number of Unix
	// seconds, or is not within the Verifier's tolerance of its clock (a
	// replay, or a badly skewed clock).
	ErrTimestamp = errors.New("webhook: invalid timestamp")
	// ErrInvalidSignature: no v1 signature in webhook-signature matches the
	// id, timestamp and body under the Verifier's secret.
	ErrInvalidSignature = errors.New("webhook: invalid signature")
	// ErrBodyTooLarge: the body is over the Verifier's size limit
	// (WithMaxBodySize). It is not verified.
	ErrBodyTooLarge = errors.New("webhook: body too large")
	// ErrInvalidPayload: the signature is valid but the body is not valid
	// JSON with an object at its top level. Verify returns it with a Message whose ID, Timestamp and Body
	// are set and whose payload fields are empty, so a caller can log or
	// keep it; Handler answers 422 and does not call back.
	ErrInvalidPayload = errors.New("webhook: body is not a JSON object")
)
