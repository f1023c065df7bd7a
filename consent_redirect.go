package basiq

import (
	"crypto/subtle"
	"net/url"
	"strings"
)

// maxRedirectJobs bounds the job ids one Consent UI redirect may carry: a
// user connects a handful of institutions at a time, and each id starts a
// poll loop.
const maxRedirectJobs = 50

// maxJobIDLen bounds one job id taken from a redirect (Basiq's are UUIDs).
const maxJobIDLen = 64

// ConsentRedirect is what Basiq's Consent UI hands back on the redirect to the
// application: the jobs it started and the state the application sent.
type ConsentRedirect struct {
	// JobIDs are the connection jobs to wait for (Jobs.WaitAll), in the
	// order given, without repeats. Empty when the user left the Consent UI
	// without connecting anything (Basiq documents no cancel or error
	// parameter).
	JobIDs []string
	// State is ConsentURLOptions.State as it came back.
	State string
}

// StateMatches reports whether the redirect's state is want (the value the
// application put in ConsentURLOptions.State and kept in the user's
// session), comparing in constant time. An empty want never matches.
func (r ConsentRedirect) StateMatches(want string) bool {
	return want != "" && subtle.ConstantTimeCompare([]byte(r.State), []byte(want)) == 1
}

// ParseConsentRedirect reads the redirect Basiq's Consent UI sends the user
// back with (the request URL of the application's Redirect URL handler):
// jobIds (a comma-separated list) and jobId, merged in order with repeats
// dropped, and state. A job id that does not look like one (over 64 bytes,
// or with characters other than letters, digits, '-' and '_'), more than 50
// ids, or several state parameters make the whole redirect an error
// matching ErrInvalidInput, so that a tampered redirect never makes the
// application request anything but a job.
//
// Compare State with the value kept in the user's session
// (ConsentRedirect.StateMatches) before acting on it, and wait with
// PollOptions.UserID set to that user, so that a job id that is well formed
// but another user's ends the wait instead of being followed.
func ParseConsentRedirect(u *url.URL) (ConsentRedirect, error) {
	if u == nil {
		return ConsentRedirect{}, invalidInput("nil redirect URL")
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return ConsentRedirect{}, invalidInput("redirect query does not parse")
	}
	var r ConsentRedirect
	switch states := q["state"]; len(states) {
	case 0:
	case 1:
		r.State = states[0]
	default:
		return ConsentRedirect{}, invalidInput("redirect has %d state parameters", len(states))
	}
	seen := map[string]bool{}
	var raw []string
	for _, v := range q["jobIds"] {
		raw = append(raw, strings.Split(v, ",")...)
	}
	raw = append(raw, q["jobId"]...)
	for _, id := range raw {
		id = strings.TrimSpace(id)
		if id == "" || seen[id] {
			continue
		}
		if !isJobID(id) {
			return ConsentRedirect{}, invalidInput("redirect job id %q is not a job id", clipLine(id, 40))
		}
		seen[id] = true
		r.JobIDs = append(r.JobIDs, id)
		if len(r.JobIDs) > maxRedirectJobs {
			return ConsentRedirect{}, invalidInput("redirect has more than %d job ids", maxRedirectJobs)
		}
	}
	return r, nil
}

// isJobID reports whether s has the shape of a Basiq job id.
func isJobID(s string) bool {
	if len(s) > maxJobIDLen {
		return false
	}
	for _, c := range []byte(s) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return s != ""
}

// RedactURL returns raw with the value of every query parameter that can
// carry a secret (token, and the usual names for access tokens and codes)
// replaced by [REDACTED], for logging a Consent UI link or a redirect. A URL
// that does not parse is replaced whole.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return redacted
	}
	if u.User != nil {
		u.User = url.User(redacted)
	}
	parts := strings.Split(u.RawQuery, "&")
	for i, p := range parts {
		k, _, _ := strings.Cut(p, "=")
		name, err := url.QueryUnescape(k)
		if err != nil {
			name = k
		}
		switch strings.ToLower(name) {
		case "token", "access_token", "id_token", "code", "client_secret", "password", "secret":
			parts[i] = k + "=" + redacted
		}
	}
	u.RawQuery = strings.Join(parts, "&")
	frag := u.Fragment != ""
	u.Fragment, u.RawFragment = "", ""
	if frag {
		return u.String() + "#" + redacted
	}
	return u.String()
}
