package basiqtest

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Webhooks (API 3.0): the application's subscriptions, managed at
// /notifications/webhooks with a SERVER_ACCESS token. Each has a signing
// secret, shown only when the webhook is created or updated, and receives a
// message for every event of a type it subscribes to (webhook_messages.go),
// delivered on the fake's clock (webhook_delivery.go).

// webhook is one subscription.
type webhook struct {
	id          string
	name        string
	description string
	url         string
	events      []string // subscribed event types, without repeats, in the order given
	secret      string   // "whsec_" and the base64 of key
	key         []byte
	created     time.Time
	activeFrom  time.Time  // pending-approval until then (WithWebhookActivationDelay)
	messages    []*message // oldest first, at most maxMessages
	sending     bool       // a DeliverWebhooks call is delivering to it
}

// Webhook statuses (WH3).
const (
	webhookActive  = "active"
	webhookPending = "pending-approval"
)

// Limits of the fake, not documented by Basiq.
const (
	maxWebhookURL  = 2048
	maxWebhookText = 1000 // name and description
)

// status is the webhook's status at now.
func (w *webhook) status(now time.Time) string {
	if now.Before(w.activeFrom) {
		return webhookPending
	}
	return webhookActive
}

// activeAt reports whether the webhook existed and was active at t, and so
// gets a message for an event that happened then.
func (w *webhook) activeAt(t time.Time) bool {
	return !t.Before(w.created) && !t.Before(w.activeFrom)
}

func (w *webhook) subscribes(eventType string) bool { return slices.Contains(w.events, eventType) }

// newWebhookSecret returns a signing secret in the Standard Webhooks form:
// "whsec_" and the standard base64 of 24 random bytes (32 characters, no
// padding), and the key itself.
func newWebhookSecret() (string, []byte) {
	key := make([]byte, 24)
	_, _ = rand.Read(key) // crypto/rand.Read never fails (Go 1.24+).
	return "whsec_" + base64.StdEncoding.EncodeToString(key), key
}

// WithWebhookActivationDelay makes a new webhook "pending-approval" for d
// after it is created: events in that time get no message for it. Basiq
// says a new subscription can take up to 15 minutes to start delivering;
// by default the fake activates it at once. Non-positive values mean at
// once.
func WithWebhookActivationDelay(d time.Duration) Option {
	return func(c *config) { c.webhookActivation = max(d, 0) }
}

func (s *Server) webhookURL(id string) string { return s.URL + "/notifications/webhooks/" + id }

// webhookView is the wire form of a webhook. The secret shows only in the
// answers to create and update. subscribedEvents is always an array (WH3's
// request schema); Basiq's examples show a single string.
type webhookView struct {
	Type             string   `json:"type"`
	ID               string   `json:"id"`
	Name             string   `json:"name"`
	Description      string   `json:"description"`
	URL              string   `json:"url"`
	Status           string   `json:"status"`
	Secret           string   `json:"secret,omitempty"`
	SubscribedEvents []string `json:"subscribedEvents"`
	Links            selfLink `json:"links"`
}

func (s *Server) webhookView(w *webhook, now time.Time, withSecret bool) webhookView {
	v := webhookView{Type: "webhook", ID: w.id, Name: w.name, Description: w.description, URL: w.url,
		Status: w.status(now), SubscribedEvents: slices.Clone(w.events), Links: selfLink{Self: s.webhookURL(w.id)}}
	if withSecret {
		v.Secret = w.secret
	}
	return v
}

// webhookInput is the body of create and update. subscribedEvents is an
// array of event types or, as Basiq's examples write it, a single string.
type webhookInput struct {
	Name             *string         `json:"name"`
	Description      *string         `json:"description"`
	URL              *string         `json:"url"`
	SubscribedEvents json.RawMessage `json:"subscribedEvents"`
}

func errPostedNotValid(why string) apiError {
	return errInvalidContent("Posted request not valid: " + why)
}

// checked is a webhook input that passed validation.
type checkedWebhook struct {
	name, description *string
	url               string
	events            []string // nil: not given
}

// checkWebhookInput validates a create or update body.
func checkWebhookInput(c *call) (checkedWebhook, reply, bool) {
	var in webhookInput
	if rp, ok := decodeJSON(c, &in, "Posted request not valid."); !ok {
		return checkedWebhook{}, rp, false
	}
	bad := func(e apiError) (checkedWebhook, reply, bool) {
		return checkedWebhook{}, errorReply(http.StatusBadRequest, e), false
	}
	out := checkedWebhook{name: in.Name, description: in.Description}
	if in.URL == nil || strings.TrimSpace(*in.URL) == "" {
		return bad(errPostedNotValid("url is required."))
	}
	out.url = strings.TrimSpace(*in.URL)
	if !validWebhookURL(out.url) {
		return bad(errPostedNotValid("url must be an absolute https URL (http only on a loopback host) without user info, at most 2048 characters."))
	}
	for _, p := range []*string{in.Name, in.Description} {
		if p != nil && len(*p) > maxWebhookText {
			return bad(errPostedNotValid("name and description may have at most 1000 characters."))
		}
	}
	events, given, e, ok := parseSubscribedEvents(in.SubscribedEvents)
	if !ok {
		return bad(e)
	}
	if given {
		out.events = events
	}
	return out, reply{}, true
}

// parseSubscribedEvents reads subscribedEvents: absent or null (given is
// false), a string, or an array of strings, each a type Basiq delivers by
// webhook. Repeats are dropped.
func parseSubscribedEvents(raw json.RawMessage) (events []string, given bool, e apiError, ok bool) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, false, apiError{}, true
	}
	var list []string
	var one string
	switch {
	case json.Unmarshal(raw, &one) == nil:
		list = []string{one}
	case json.Unmarshal(raw, &list) == nil:
	default:
		return nil, true, errPostedNotValid("subscribedEvents must be an array of event types."), false
	}
	for _, t := range list {
		t = strings.TrimSpace(t)
		if !deliverable(t) {
			return nil, true, errInvalidContent("Posted subscribedEvents contains unsupported event types."), false
		}
		if !slices.Contains(events, t) {
			events = append(events, t)
		}
	}
	if len(events) == 0 {
		return nil, true, errPostedNotValid("subscribedEvents must name at least one event type."), false
	}
	return events, true, apiError{}, true
}

// validWebhookURL accepts an absolute https URL, or http on a loopback host
// (localhost, 127.0.0.0/8, ::1) for tests, without user info: the URL shows
// in every message's attempts, so it must not carry a password.
func validWebhookURL(raw string) bool {
	if len(raw) > maxWebhookURL || strings.ContainsFunc(raw, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		return false
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Opaque != "" || u.User != nil {
		return false
	}
	switch u.Scheme {
	case "https":
		return true
	case "http":
		h := u.Hostname()
		ip := net.ParseIP(h)
		return strings.EqualFold(h, "localhost") || ip != nil && ip.IsLoopback()
	}
	return false
}

// urlTaken reports whether a webhook other than self has the URL.
func (s *Server) urlTaken(u string, self *webhook) bool {
	return slices.ContainsFunc(s.st.webhooks, func(w *webhook) bool { return w != self && w.url == u })
}

func errWebhookURLTaken() apiError {
	return newError("resource-already-exists", "Resource already exists", "Webhook with provided url already exists.")
}

// createWebhook serves POST /notifications/webhooks: 201 with the webhook
// and its new secret. Without subscribedEvents the webhook subscribes to
// every type Basiq delivers by webhook (the fake's choice: Basiq requires
// only url).
func (s *Server) createWebhook(c *call) reply {
	in, rp, ok := checkWebhookInput(c)
	if !ok {
		return rp
	}
	if s.urlTaken(in.url, nil) {
		return errorReply(http.StatusConflict, errWebhookURLTaken())
	}
	w := &webhook{id: newUUID(), url: in.url, created: c.now, activeFrom: c.now.Add(s.cfg.webhookActivation)}
	w.secret, w.key = newWebhookSecret()
	if in.name != nil {
		w.name = *in.name
	}
	if in.description != nil {
		w.description = *in.description
	}
	w.events = in.events
	if w.events == nil {
		for _, t := range eventTypeTable() {
			if t.webhook {
				w.events = append(w.events, t.id)
			}
		}
	}
	s.st.webhooks = append(s.st.webhooks, w)
	s.st.webhookByID[w.id] = w
	return jsonReply(http.StatusCreated, s.webhookView(w, c.now, true))
}

// listWebhooks serves GET /notifications/webhooks, oldest first, without
// secrets.
func (s *Server) listWebhooks(c *call) reply {
	out := struct {
		Type  string        `json:"type"`
		Size  int           `json:"size"`
		Count int           `json:"count"`
		Data  []webhookView `json:"data"`
		Links selfLink      `json:"links"`
	}{Type: "list", Data: []webhookView{}, Links: selfLink{Self: s.URL + "/notifications/webhooks"}}
	for _, w := range s.st.webhooks {
		out.Data = append(out.Data, s.webhookView(w, c.now, false))
	}
	out.Size, out.Count = len(out.Data), len(out.Data)
	return jsonReply(http.StatusOK, out)
}

// lookupWebhook returns the webhook of the path, or a 404 reply. The
// dispatcher has already checked that its id is a UUID.
func (s *Server) lookupWebhook(c *call) (*webhook, reply, bool) {
	w := s.st.webhookByID[strings.ToLower(c.param("webhookId"))]
	if w == nil {
		return nil, errorReply(http.StatusNotFound, errNotFound("Webhook with provided id doesn't exist.")), false
	}
	return w, reply{}, true
}

// getWebhook serves GET /notifications/webhooks/{webhookId}, without the
// secret.
func (s *Server) getWebhook(c *call) reply {
	w, rp, ok := s.lookupWebhook(c)
	if !ok {
		return rp
	}
	return jsonReply(http.StatusOK, s.webhookView(w, c.now, false))
}

// updateWebhook serves POST /notifications/webhooks/{webhookId}: url is
// required, as on create; name, description and subscribedEvents change
// when given. The secret stays the same and is shown again. Messages
// already queued keep being delivered, to the new URL.
func (s *Server) updateWebhook(c *call) reply {
	w, rp, ok := s.lookupWebhook(c)
	if !ok {
		return rp
	}
	in, rp, ok := checkWebhookInput(c)
	if !ok {
		return rp
	}
	if s.urlTaken(in.url, w) {
		return errorReply(http.StatusConflict, errWebhookURLTaken())
	}
	w.url = in.url
	if in.name != nil {
		w.name = *in.name
	}
	if in.description != nil {
		w.description = *in.description
	}
	if in.events != nil {
		w.events = in.events
	}
	return jsonReply(http.StatusOK, s.webhookView(w, c.now, true))
}

// deleteWebhook serves DELETE /notifications/webhooks/{webhookId}: the
// webhook and its messages go; attempts still to come are not made.
func (s *Server) deleteWebhook(c *call) reply {
	w, rp, ok := s.lookupWebhook(c)
	if !ok {
		return rp
	}
	delete(s.st.webhookByID, w.id)
	s.st.webhooks = slices.DeleteFunc(s.st.webhooks, func(o *webhook) bool { return o == w })
	s.st.pending = slices.DeleteFunc(s.st.pending, func(m *message) bool { return m.wh == w })
	for _, m := range w.messages {
		m.next = time.Time{}
	}
	w.messages = nil
	return emptyReply(http.StatusNoContent)
}
