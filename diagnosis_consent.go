package basiq

// User messages on API 3.0, where the user fixes their login in Basiq's
// Consent UI rather than in the application.
const (
	userMessageCheckCredentialsV3  = "Your bank didn't accept those login details. Please connect your bank again and check them as you enter them; it can help to first log in on your bank's website (not its app) to make sure they work."
	userMessageUpdateCredentialsV3 = "We couldn't log in to your bank with your saved details. If you've changed your internet banking password, please reconnect your bank with your current login details."
	userMessageDisableMFAV3        = "Your bank asked for a kind of multi-factor authentication we can't use. Please try logging in to your bank's website without it, then reconnect your bank here."
	userMessageRetryV3             = "Something went wrong while connecting to your bank. Please try connecting again."
	userMessageRetryWithMFAV3      = "We couldn't reach your bank just now. Please reconnect your bank in a little while; your bank will ask you to confirm it's you."
	userMessageResolveAtBankMFAV3  = "Your bank needs you to do something first: log in to your internet banking, open your accounts and transactions, and respond to any message or new terms shown there. Then reconnect your bank here."
)

// throughConsentUI adapts a failure's diagnosis to API 3.0: a remedy that
// needs the user's credentials or consent is a trip through the Consent UI,
// on the job's connection whenever it is known (a create's too: its
// connection exists, invalid, and the fix belongs on it), or for a new one
// at instID.
func (d *Diagnosis) throughConsentUI(instID string, mfa bool) {
	if mfa && d.ConnectionID != "" {
		// A new job on a bank that asks for MFA at every login needs the
		// user there to answer: the Consent UI on the connection.
		switch d.Action {
		case ActionRetryLater, ActionWaitForInstitution:
			d.UserMessage = userMessageRetryWithMFAV3
			d.Consent = &ConsentURLOptions{ConnectionID: d.ConnectionID}
			return
		case ActionResolveAtBank:
			d.UserMessage = userMessageResolveAtBankMFAV3
			d.Consent = &ConsentURLOptions{ConnectionID: d.ConnectionID}
			return
		}
	}
	switch d.Action {
	case ActionCheckCredentials:
		d.UserMessage = userMessageCheckCredentialsV3
	case ActionUpdateCredentials:
		d.UserMessage = userMessageUpdateCredentialsV3
	case ActionDisableMFA:
		d.UserMessage = userMessageDisableMFAV3
	case ActionRetry:
		d.UserMessage = userMessageRetryV3
	case ActionReconnect:
	default:
		return
	}
	if d.ConnectionID != "" {
		// Credential update (web) or re-authorisation (open banking) of the
		// connection: Basiq's documented ?connectionId= link, with no
		// action (action=update would re-consent and delete every
		// connection).
		d.Consent = &ConsentURLOptions{ConnectionID: d.ConnectionID}
		return
	}
	d.Consent = &ConsentURLOptions{Action: ConsentConnect, InstitutionID: instID}
}
