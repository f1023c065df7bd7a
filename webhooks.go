package basiq

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Webhook is an endpoint of the application that Basiq delivers events to.
type Webhook struct {
	Type        string // "webhook"
	ID          string
	Name        string
	Description string
	URL         string
	Status      string // "active", "pending-approval"
	// Secret signs the deliveries (verify them with webhook.NewVerifier).
	// Basiq shows it when a webhook is created or updated, not on a GET.
	// It formats as [REDACTED]; read the field itself to store it.
	Secret           WebhookSecret
	SubscribedEvents []EventType
	Self             string // links.self
}

// LogValue implements slog.LogValuer: the webhook without its secret (a
// struct logged by slog's JSON handler would otherwise show every field).
func (w Webhook) LogValue() slog.Value {
	events := make([]string, len(w.SubscribedEvents))
	for i, e := range w.SubscribedEvents {
		events[i] = string(e)
	}
	return slog.GroupValue(slog.String("id", w.ID), slog.String("url", w.URL), slog.String("status", w.Status),
		slog.String("subscribed_events", strings.Join(events, ",")), slog.String("secret", mask(string(w.Secret))))
}

// WebhookSecret is a webhook's signing secret. Formatted with any verb, or
// logged, it shows [REDACTED]; the value itself is the string.
type WebhookSecret string

// String redacts the secret.
func (s WebhookSecret) String() string { return mask(string(s)) }

// GoString redacts the secret.
func (s WebhookSecret) GoString() string { return mask(string(s)) }

// Format redacts the secret for every verb.
func (s WebhookSecret) Format(f fmt.State, _ rune) { fmt.Fprint(f, mask(string(s))) }

// LogValue redacts the secret.
func (s WebhookSecret) LogValue() slog.Value { return slog.StringValue(mask(string(s))) }

// MarshalJSON encodes the secret as "[REDACTED]" (or "" when there is none),
// so that a Webhook inside a logged struct or slice does not leak it. Store
// the secret by reading the field, string(w.Secret).
func (s WebhookSecret) MarshalJSON() ([]byte, error) { return json.Marshal(redactJSON(string(s))) }

// UnmarshalJSON decodes a webhook leniently: subscribedEvents as a list or
// one string (Basiq's examples send a string).
func (w *Webhook) UnmarshalJSON(b []byte) error {
	var aux struct {
		Type             lenientString  `json:"type"`
		ID               lenientString  `json:"id"`
		Name             lenientString  `json:"name"`
		Description      lenientString  `json:"description"`
		URL              lenientString  `json:"url"`
		Status           lenientString  `json:"status"`
		Secret           lenientString  `json:"secret"`
		SubscribedEvents lenientStrings `json:"subscribedEvents"`
		Links            struct {
			Self lenientString `json:"self"`
		} `json:"links"`
	}
	if err := json.Unmarshal(b, &aux); err != nil && !memberTypeError(err) {
		return err
	}
	*w = Webhook{
		Type: string(aux.Type), ID: string(aux.ID), Name: string(aux.Name), Description: string(aux.Description),
		URL: string(aux.URL), Status: string(aux.Status), Secret: WebhookSecret(aux.Secret), Self: string(aux.Links.Self),
	}
	for _, e := range aux.SubscribedEvents {
		w.SubscribedEvents = append(w.SubscribedEvents, EventType(e))
	}
	return nil
}

// WebhookParams are the fields of a webhook to create or update. URL is
// required on both (Basiq's update requires it too).
type WebhookParams struct {
	URL              string      `json:"url,omitempty"`
	Name             string      `json:"name,omitempty"`
	Description      string      `json:"description,omitempty"`
	SubscribedEvents []EventType `json:"subscribedEvents,omitempty"`
}

// validate checks the parameters before anything is sent; Basiq requires
// the URL on a create and on an update.
func (p WebhookParams) validate() error {
	if p.URL == "" {
		return invalidInput("WebhookParams.URL is empty")
	}
	u, err := url.Parse(p.URL)
	if err != nil || u.Host == "" || (u.Scheme != "https" && !(u.Scheme == "http" && isLoopback(u.Hostname()))) {
		return invalidInput("WebhookParams.URL must be an absolute https URL")
	}
	for _, e := range p.SubscribedEvents {
		if err := validateID("SubscribedEvents", string(e)); err != nil {
			return err
		}
	}
	return nil
}

// WebhookMessage is one delivery of an event to a webhook, with its attempts.
type WebhookMessage struct {
	ID        string
	WebhookID string
	EventType EventType // eventTypeId
	EventID   string
	// Payload is the body Basiq delivered, as it sent it.
	Payload  json.RawMessage
	Attempts []WebhookAttempt
	Self     string // links.self
	Webhook  string // links.webhook: the webhook's URL on the API
}

// WebhookAttempt is one attempt to deliver a message.
type WebhookAttempt struct {
	ID         string
	URL        string
	Response   string // the endpoint's answer, e.g. "OK"
	StatusCode int    // responseStatusCode
	Time       time.Time
	Status     string // "Success" or "Failed"
}

// UnmarshalJSON decodes a message leniently (status codes as numbers or
// strings).
func (m *WebhookMessage) UnmarshalJSON(b []byte) error {
	var aux struct {
		ID        lenientString   `json:"id"`
		WebhookID lenientString   `json:"webhookId"`
		EventType lenientString   `json:"eventTypeId"`
		EventID   lenientString   `json:"eventId"`
		Payload   json.RawMessage `json:"payload"`
		Attempts  []struct {
			ID         lenientString `json:"id"`
			URL        lenientString `json:"url"`
			Response   lenientString `json:"response"`
			StatusCode lenientInt    `json:"responseStatusCode"`
			Time       lenientTime   `json:"timestamp"`
			Status     lenientString `json:"status"`
		} `json:"attempts"`
		Links struct {
			Self    lenientString `json:"self"`
			Webhook lenientString `json:"webhook"`
		} `json:"links"`
	}
	if err := json.Unmarshal(b, &aux); err != nil && !memberTypeError(err) {
		return err
	}
	*m = WebhookMessage{ID: string(aux.ID), WebhookID: string(aux.WebhookID), EventType: EventType(aux.EventType),
		EventID: string(aux.EventID), Payload: rawOrNil(aux.Payload), Self: string(aux.Links.Self), Webhook: string(aux.Links.Webhook)}
	if m.EventType == "" || m.EventID == "" {
		// The payload says it too.
		var p struct {
			EventType lenientString `json:"eventTypeId"`
			EventID   lenientString `json:"eventId"`
		}
		if json.Unmarshal(bytes.TrimSpace(aux.Payload), &p) == nil {
			if m.EventType == "" {
				m.EventType = EventType(p.EventType)
			}
			if m.EventID == "" {
				m.EventID = string(p.EventID)
			}
		}
	}
	for _, a := range aux.Attempts {
		m.Attempts = append(m.Attempts, WebhookAttempt{ID: string(a.ID), URL: string(a.URL), Response: string(a.Response),
			StatusCode: int(a.StatusCode), Time: time.Time(a.Time), Status: string(a.Status)})
	}
	return nil
}

// WebhooksService manages the application's webhooks (API version 3.0).
type WebhooksService struct {
	c *Client
}

func (s *WebhooksService) client() *Client {
	if s == nil {
		return nil
	}
	return s.c
}

// v3 returns the client, or ErrUnsupportedVersion for call on 2.1.
func (s *WebhooksService) v3(call string) (*Client, error) {
	c := s.client()
	if err := c.ready(); err != nil {
		return nil, err
	}
	if c.version != V3 {
		return nil, c.errUnsupported(call)
	}
	return c, nil
}

// Create registers a webhook (POST /notifications/webhooks). The returned
// webhook carries its Secret: store it, it is shown only now (and on
// Update). Basiq may take up to 15 minutes to start delivering.
func (s *WebhooksService) Create(ctx context.Context, p WebhookParams) (*Webhook, error) {
	c, err := s.v3("Webhooks.Create")
	if err != nil {
		return nil, err
	}
	if err := p.validate(); err != nil {
		return nil, err
	}
	var w Webhook
	if _, err := c.do(ctx, apiRequest{method: http.MethodPost, route: "/notifications/webhooks", body: p}, &w); err != nil {
		return nil, err
	}
	return &w, nil
}

// List returns the application's webhooks (GET /notifications/webhooks),
// every page of them (following links.next, as Webhooks.Messages does).
func (s *WebhooksService) List(ctx context.Context) ([]Webhook, error) {
	c, err := s.v3("Webhooks.List")
	if err != nil {
		return nil, err
	}
	first := apiRequest{method: http.MethodGet, route: "/notifications/webhooks"}
	firstPath, _, err := c.requestTarget(first)
	if err != nil {
		return nil, err
	}
	var all []Webhook
	seen := map[string]bool{}
	r := first
	for page := 1; ; page++ {
		var list struct {
			Data  lenientList[Webhook] `json:"data"`
			Links struct {
				Next string `json:"next"`
			} `json:"links"`
		}
		if _, err := c.do(ctx, r, &list); err != nil {
			return nil, err
		}
		all = append(all, list.Data...)
		if list.Links.Next == "" {
			return all, nil
		}
		link, err := c.checkNextLink(firstPath, list.Links.Next)
		if err != nil {
			return nil, err
		}
		if seen[link.url] || page >= maxWebhookPages {
			return nil, fmt.Errorf("%w: GET %s: page %d links back to a page already fetched, or too many pages", ErrPagingLoop, firstPath, page)
		}
		seen[link.url] = true
		r = first
		r.next = link
	}
}

// maxWebhookPages bounds Webhooks.List (an application has a handful of
// webhooks).
const maxWebhookPages = 100

// Get returns one webhook (without its secret).
func (s *WebhooksService) Get(ctx context.Context, webhookID string) (*Webhook, error) {
	c, err := s.v3("Webhooks.Get")
	if err != nil {
		return nil, err
	}
	var w Webhook
	if _, err := c.do(ctx, apiRequest{method: http.MethodGet, route: "/notifications/webhooks/{webhookId}", params: []string{webhookID}}, &w); err != nil {
		return nil, err
	}
	return &w, nil
}

// Update changes a webhook (POST /notifications/webhooks/{webhookId}).
// Basiq requires the URL on an update as on a create, so p.URL must be set
// (pass the webhook's current URL to keep it); the other fields are sent
// only when non-empty. Basiq shows the secret in the answer.
func (s *WebhooksService) Update(ctx context.Context, webhookID string, p WebhookParams) (*Webhook, error) {
	c, err := s.v3("Webhooks.Update")
	if err != nil {
		return nil, err
	}
	if err := p.validate(); err != nil {
		return nil, err
	}
	var w Webhook
	if _, err := c.do(ctx, apiRequest{method: http.MethodPost, route: "/notifications/webhooks/{webhookId}", params: []string{webhookID}, body: p}, &w); err != nil {
		return nil, err
	}
	return &w, nil
}

// Delete removes a webhook. If an attempt fails and the retry finds it gone,
// Delete succeeds.
func (s *WebhooksService) Delete(ctx context.Context, webhookID string) error {
	c, err := s.v3("Webhooks.Delete")
	if err != nil {
		return err
	}
	return c.remove(ctx, apiRequest{route: "/notifications/webhooks/{webhookId}", params: []string{webhookID}})
}

// WebhookMessageFilter narrows Webhooks.Messages. Empty fields do not filter.
type WebhookMessageFilter struct {
	EventType EventType // eventTypeId
	EventID   string    // eventId
	Status    string    // status
	// Where adds statements beyond the fields, ANDed with them. Basiq
	// documents date, status, eventTypeId, webhookId and eventId (WH3 names
	// no operators: eq and ne, as Basiq's filter grammar has them, are taken
	// for all, and every comparison for date, such as
	// {"date", FilterGteq, {"2024-06-01"}}).
	Where []Condition
	// PageSize is the number of messages a page asks for (limit); 0 for
	// Basiq's default, 500 (also the most).
	PageSize int
}

// messageShape names a message's members (its decoder keeps them all).
var messageShape = rawShape("id", "webhookId", "eventTypeId", "eventId", "payload", "attempts", "links", "type")

// validMessage rejects a list item that is not a message.
func validMessage(m *WebhookMessage) error {
	if m.ID == "" {
		return errors.New("an item without an id where a webhook message should be")
	}
	return nil
}

// Messages returns the messages sent to a webhook, with their attempts
// (GET /notifications/webhooks/{webhookId}/messages), following links.next
// page by page; an error ends the sequence.
func (s *WebhooksService) Messages(ctx context.Context, webhookID string, filter *WebhookMessageFilter) iter.Seq2[WebhookMessage, error] {
	fail := func(err error) iter.Seq2[WebhookMessage, error] {
		return func(yield func(WebhookMessage, error) bool) { yield(WebhookMessage{}, err) }
	}
	c, err := s.v3("Webhooks.Messages")
	if err != nil {
		return fail(err)
	}
	var f WebhookMessageFilter
	if filter != nil {
		f = *filter
	}
	if f.PageSize < 0 || f.PageSize > 500 {
		return fail(invalidInput("WebhookMessageFilter.PageSize must be 0 to 500"))
	}
	st, err := eqFields([2]string{"eventTypeId", string(f.EventType)}, [2]string{"eventId", f.EventID}, [2]string{"status", f.Status})
	if err != nil {
		return fail(err)
	}
	more, err := conditions("WebhookMessageFilter", messageVocab, f.Where)
	if err != nil {
		return fail(err)
	}
	st = append(st, more...)
	q := filterQuery(st...)
	if f.PageSize > 0 {
		if q == nil {
			q = url.Values{}
		}
		q.Set("limit", strconv.Itoa(f.PageSize))
	}
	return listAll(ctx, c, apiRequest{method: http.MethodGet, route: "/notifications/webhooks/{webhookId}/messages",
		params: []string{webhookID}, query: q}, listSource[WebhookMessage]{shape: messageShape, items: plainItems(validMessage)})
}

// Message returns one delivery of a webhook with its attempts.
func (s *WebhooksService) Message(ctx context.Context, webhookID, messageID string) (*WebhookMessage, error) {
	c, err := s.v3("Webhooks.Message")
	if err != nil {
		return nil, err
	}
	var m WebhookMessage
	if _, err := c.do(ctx, apiRequest{method: http.MethodGet, route: "/notifications/webhooks/{webhookId}/messages/{messageId}",
		params: []string{webhookID, messageID}}, &m); err != nil {
		return nil, err
	}
	return &m, nil
}

// SendTest asks Basiq to deliver a test message of the given event type to
// the application's webhooks (POST /notifications/messages/test). text goes
// in the message's Text field.
func (s *WebhooksService) SendTest(ctx context.Context, eventType EventType, text string) error {
	c, err := s.v3("Webhooks.SendTest")
	if err != nil {
		return err
	}
	if err := validateID("eventType", string(eventType)); err != nil {
		return err
	}
	body := struct {
		EventType EventType `json:"eventTypeId"`
		Text      string    `json:"Text,omitempty"`
	}{eventType, text}
	_, err = c.do(ctx, apiRequest{method: http.MethodPost, route: "/notifications/messages/test", body: body}, nil)
	return err
}
