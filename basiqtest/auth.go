package basiqtest

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// supportedVersions are the basiq-version values POST /token accepts.
func supportedVersions() []string { return []string{"2.0", "2.1", "3.0"} }

// token is an access token the fake issued.
type token struct {
	scope   scope
	version string
	userID  string // CLIENT_ACCESS only: the user the token is bound to
	expires time.Time
	revoked bool // set by ExpireTokens
}

// mayActFor reports whether the token may touch userID's resources: a
// CLIENT_ACCESS token bound to a user only for that user.
func (t *token) mayActFor(userID string) bool {
	return t.scope != scopeClient || t.userID == "" || t.userID == userID
}

// tokenResponse is the body of a successful POST /token.
type tokenResponse struct {
	AccessToken string `json:"access_token"`
	ExpiresIn   int    `json:"expires_in"`
	TokenType   string `json:"token_type"`
}

// postToken serves POST /token.
func (s *Server) postToken(c *call) reply {
	ver := strings.TrimSpace(c.req.Header.Get("basiq-version"))
	if ver == "" {
		return errorReply(http.StatusBadRequest, newError("parameter-not-valid", "Required parameter not valid",
			"Basiq-version must be specified in HTTP request header").withSource("header/basiq-version", "basiq-version"))
	}
	if !slices.Contains(supportedVersions(), ver) {
		return errorReply(http.StatusBadRequest, newError("parameter-not-valid", "Required parameter not valid",
			"Version "+ver+" is not supported. Supported versions are 2.0, 2.1 and 3.0.").withSource("header/basiq-version", "basiq-version"))
	}
	auth := c.req.Header.Get("Authorization")
	if auth == "" {
		return errorReply(http.StatusBadRequest, errNotSupplied("Authorization header parameter is required", "header/Authorization", "Authorization"))
	}
	scheme, key, ok := strings.Cut(auth, " ")
	key = strings.TrimSpace(key)
	if !ok || !strings.EqualFold(scheme, "Basic") || key == "" {
		return errorReply(http.StatusBadRequest, errNotValid("Invalid authorization header", "header/Authorization", "Authorization"))
	}
	if subtle.ConstantTimeCompare([]byte(key), []byte(s.cfg.apiKey)) != 1 {
		return errorReply(http.StatusNotFound, newError("parameter-not-valid", "We have encountered an error",
			"Unable to authenticate. Please, check your API key"))
	}
	form, _ := url.ParseQuery(string(c.body))
	var sc scope
	switch form.Get("scope") {
	case "SERVER_ACCESS":
		sc = scopeServer
	case "CLIENT_ACCESS":
		sc = scopeClient
	default:
		return errorReply(http.StatusForbidden, errForbidden())
	}
	userID := form.Get("userId")
	if sc == scopeServer {
		userID = ""
	}
	if sc == scopeClient && ver == "3.0" && userID == "" {
		return errorReply(http.StatusBadRequest, errNotSupplied("userId is required for a CLIENT_ACCESS token.", "body/userId", "userId"))
	}
	if userID != "" && !isUUID(userID) {
		return errorReply(http.StatusBadRequest, errNotValid("User ID value is not valid", "body/userId", "userId"))
	}
	value := s.mintToken(sc, ver, userID, c.now)
	return jsonReply(http.StatusOK, tokenResponse{
		AccessToken: value,
		ExpiresIn:   int(s.cfg.tokenTTL / time.Second),
		TokenType:   "Bearer",
	})
}

// mintToken issues a token. It is a JWT (Basiq's tokens are JWTs and some
// clients read their claims), signed HS256 with the server's own key. The
// fake validates tokens by lookup, and first forgets those expired for more
// than one TTL, so that a long run does not keep every token it ever issued;
// the signature still tells a forgotten token (403, expired) from a made-up
// one (401).
func (s *Server) mintToken(sc scope, ver, userID string, now time.Time) string {
	s.pruneTokens(now)
	name := "SERVER_ACCESS"
	if sc == scopeClient {
		name = "CLIENT_ACCESS"
	}
	exp := now.Add(s.cfg.tokenTTL)
	claims, _ := json.Marshal(struct {
		Scope   string `json:"scope"`
		UserID  string `json:"userid,omitempty"`
		Version string `json:"version"`
		Issued  int64  `json:"iat"`
		Expires int64  `json:"exp"`
		ID      string `json:"jti"`
	}{name, userID, ver, now.Unix(), exp.Unix(), newUUID()})
	enc := base64.RawURLEncoding
	signed := enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + enc.EncodeToString(claims)
	value := signed + "." + enc.EncodeToString(s.tokenMAC(signed))
	s.st.tokens[value] = &token{scope: sc, version: ver, userID: userID, expires: exp}
	s.st.minted = append(s.st.minted, value)
	return value
}

// tokenMAC is the HS256 signature of a token's header and claims.
func (s *Server) tokenMAC(signed string) []byte {
	m := hmac.New(sha256.New, s.tokenKey)
	m.Write([]byte(signed))
	return m.Sum(nil)
}

// issuedHere reports whether value carries the server's signature, that is,
// whether the fake minted it.
func (s *Server) issuedHere(value string) bool {
	i := strings.LastIndexByte(value, '.')
	if i < 0 {
		return false
	}
	sig, err := base64.RawURLEncoding.DecodeString(value[i+1:])
	return err == nil && hmac.Equal(sig, s.tokenMAC(value[:i]))
}

// pruneTokens forgets the tokens that expired more than one TTL before now,
// oldest first. Tokens are minted in expiry order (one TTL after the clock),
// so this stops at the first token still kept.
func (s *Server) pruneTokens(now time.Time) {
	n := 0
	for _, v := range s.st.minted {
		if t := s.st.tokens[v]; t != nil && !now.After(t.expires.Add(s.cfg.tokenTTL)) {
			break
		}
		delete(s.st.tokens, v)
		n++
	}
	clear(s.st.minted[:n])
	s.st.minted = s.st.minted[n:]
}

// authenticate checks the bearer token of r: missing or unknown is 401
// invalid-authorization-token, expired (or issued here and since forgotten,
// which it is only long after it expired) is 403 access-denied.
func (s *Server) authenticate(r *http.Request, now time.Time) (*token, reply, bool) {
	scheme, value, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return nil, errorReply(http.StatusUnauthorized, errInvalidToken()), false
	}
	value = strings.TrimSpace(value)
	tok := s.st.tokens[value]
	if tok == nil && s.issuedHere(value) {
		return nil, errorReply(http.StatusForbidden, errTokenExpired()), false
	}
	if tok == nil {
		return nil, errorReply(http.StatusUnauthorized, errInvalidToken()), false
	}
	if tok.revoked || !now.Before(tok.expires) {
		return nil, errorReply(http.StatusForbidden, errTokenExpired()), false
	}
	return tok, reply{}, true
}

// ExpireTokens makes every token issued so far expired: the next call with
// one of them gets 403 access-denied "Token has expired", as after an hour
// with the real API. Tokens issued afterwards are valid as usual.
func (s *Server) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.st.tokens {
		t.revoked = true
	}
}
