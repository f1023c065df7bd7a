package basiqtest

import (
	"net/http"
	"strings"
	"time"
)

// Auth links (/users/{userId}/auth_link, Basiq's Core API): the
// legacy hosted link. A user has at most one that works, the newest: a new
// one replaces it. A link lasts seven days on 3.0 (three on 2.x, as Basiq's
// 2.1 reference says) by the fake's clock; GET of one that has expired or
// was deleted answers 410 resource-no-longer-available. links.public points
// at the fake (it serves no page there).

// authLink is a user's newest auth link.
type authLink struct {
	id, userID, mobile string
	created, expires   time.Time
	deleted            bool
}

// authLinkLife is how long a link works on an API version.
func authLinkLife(version string) time.Duration {
	if version == "3.0" {
		return 7 * 24 * time.Hour
	}
	return 3 * 24 * time.Hour
}

// live reports whether l still works at now.
func (l *authLink) live(now time.Time) bool {
	return l != nil && !l.deleted && now.Before(l.expires)
}

type authLinkLinks struct {
	Self   string `json:"self"`
	Public string `json:"public"`
}

// authLinkView is the wire form: POST answers it without id, GET with.
type authLinkView struct {
	Type      string        `json:"type"`
	ID        string        `json:"id,omitempty"`
	UserID    string        `json:"userId"`
	Mobile    string        `json:"mobile"`
	ExpiresAt string        `json:"expiresAt"`
	Links     authLinkLinks `json:"links"`
}

func (s *Server) authLinkView(l *authLink, withID bool) authLinkView {
	v := authLinkView{Type: "auth_link", UserID: l.userID, Mobile: l.mobile, ExpiresAt: stamp(l.expires),
		Links: authLinkLinks{Self: s.userURL(l.userID) + "/auth_link", Public: s.URL + "/connect/" + l.id}}
	if withID {
		v.ID = l.id
	}
	return v
}

// createAuthLink serves POST /users/{userId}/auth_link. The body
// {"mobile": …} is optional when the user has a mobile; given, it
// overrides the user's.
func (s *Server) createAuthLink(c *call) reply {
	u, rp, ok := s.lookupUser(c)
	if !ok {
		return rp
	}
	var in struct {
		Mobile *string `json:"mobile"`
	}
	if len(strings.TrimSpace(string(c.body))) > 0 {
		if rp, ok := decodeJSON(c, &in, "Posted auth link is not in valid format."); !ok {
			return rp
		}
	}
	mobile := u.fields.Mobile
	if in.Mobile != nil && strings.TrimSpace(*in.Mobile) != "" {
		mobile = strings.TrimSpace(*in.Mobile)
		if !validMobile(mobile) {
			return errorReply(http.StatusBadRequest, errNotValid("Provided mobile is in bad format.", "mobile", "mobile"))
		}
	}
	if mobile == "" {
		return errorReply(http.StatusBadRequest,
			errNotSupplied("Mobile is required: the user has none, and the request gives none.", "mobile", "mobile"))
	}
	l := &authLink{id: newUUID()[:8], userID: u.id, mobile: mobile, created: c.now, expires: c.now.Add(authLinkLife(c.version()))}
	s.st.authLinks[u.id] = l
	return jsonReply(http.StatusCreated, s.authLinkView(l, false))
}

// errAuthLinkGone is the 410 of an expired or deleted link.
func errAuthLinkGone() apiError {
	return newError("resource-no-longer-available", "Requested resource is no longer available.",
		"The auth link has expired or was deleted; create a new one.")
}

// getAuthLink serves GET /users/{userId}/auth_link.
func (s *Server) getAuthLink(c *call) reply {
	u, rp, ok := s.lookupUser(c)
	if !ok {
		return rp
	}
	l := s.st.authLinks[u.id]
	switch {
	case l == nil:
		return errorReply(http.StatusNotFound, errNotFound("Requested auth link does not exist."))
	case !l.live(c.now):
		return errorReply(http.StatusGone, errAuthLinkGone())
	}
	return jsonReply(http.StatusOK, s.authLinkView(l, true))
}

// deleteAuthLink serves DELETE /users/{userId}/auth_link: the link stops
// working at once (204); there is nothing to delete once it was.
func (s *Server) deleteAuthLink(c *call) reply {
	u, rp, ok := s.lookupUser(c)
	if !ok {
		return rp
	}
	l := s.st.authLinks[u.id]
	if l == nil || l.deleted {
		return errorReply(http.StatusNotFound, errNotFound("Requested auth link does not exist."))
	}
	l.deleted = true
	return emptyReply(http.StatusNoContent)
}

// authLinkURL is GET /users/{userId}'s links.auth_link: the link's
// resource while it works, else null.
func (s *Server) authLinkURL(u *user, now time.Time) *string {
	if l := s.st.authLinks[u.id]; l.live(now) {
		url := s.userURL(u.id) + "/auth_link"
		return &url
	}
	return nil
}
