package basiqtest_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"time"

	"github.com/banklink-go/basiq/basiqtest"
)

// received is what a webhook receiver got: a request whose signature it
// verified.
type received struct {
	Method, Path string
	Header       http.Header
	Body         []byte
}

// webhookReceiver is application code under test: it checks a Basiq
// webhook's Standard Webhooks signature (HMAC-SHA256 keyed with the
// secret's bytes over id.timestamp.body) before it reads the body, and
// hands what it got on.
func webhookReceiver(secret string, got chan<- received) http.Handler {
	key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		mac := hmac.New(sha256.New, key)
		mac.Write([]byte(r.Header.Get("webhook-id") + "." + r.Header.Get("webhook-timestamp") + "."))
		mac.Write(body)
		want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
		valid := false
		for _, sig := range strings.Fields(r.Header.Get("webhook-signature")) {
			valid = valid || hmac.Equal([]byte(sig), []byte(want))
		}
		if !valid {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		got <- received{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: body}
		w.WriteHeader(http.StatusNoContent)
	})
}

// An application registers a webhook, something happens (a user is
// created), and DeliverWebhooks sends the signed message to the
// application's receiver, here a real loopback server.
func ExampleServer_DeliverWebhooks() {
	srv := basiqtest.NewServer(basiqtest.InMemory())
	defer srv.Close()
	hc, api := srv.Client(), srv.URL
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := basiqCall(hc, "POST", api+"/token", "Basic "+srv.APIKey(), "application/x-www-form-urlencoded", "scope=SERVER_ACCESS", &tok); err != nil {
		panic(err)
	}
	bearer := "Bearer " + tok.AccessToken

	// The receiver needs the secret, which Basiq shows once, on create: its
	// address is known first, and it starts once it has the secret.
	got := make(chan received, 10)
	rcv := httptest.NewUnstartedServer(nil)
	defer rcv.Close()
	var webhook struct {
		Secret string `json:"secret"`
		Status string `json:"status"`
	}
	body := `{"url":"http://` + rcv.Listener.Addr().String() + `/basiq/webhooks","subscribedEvents":["user.created"]}`
	if err := basiqCall(hc, "POST", api+"/notifications/webhooks", bearer, "application/json", body, &webhook); err != nil {
		panic(err)
	}
	rcv.Config.Handler = webhookReceiver(webhook.Secret, got)
	rcv.Start()
	fmt.Println("webhook:", webhook.Status)

	var user struct{ ID string }
	if err := basiqCall(hc, "POST", api+"/users", bearer, "application/json", `{"email":"max@example.com"}`, &user); err != nil {
		panic(err)
	}
	n, err := srv.DeliverWebhooks(context.Background())
	if err != nil {
		panic(err)
	}
	fmt.Println("attempts:", n)
	// DeliverWebhooks returns once the receiver has answered.
	var r received
	select {
	case r = <-got:
	default:
		fmt.Println("the receiver rejected the message")
		return
	}
	fmt.Println(r.Method, r.Path)
	fmt.Println("webhook-id is the message's id:", r.Header.Get("webhook-id") == srv.WebhookMessages()[0].ID)
	fmt.Println("webhook-signature:", regexp.MustCompile(`^v1,[A-Za-z0-9+/]{43}=$`).MatchString(r.Header.Get("webhook-signature")))
	ids := strings.NewReplacer(user.ID, "<user id>")
	fmt.Println(regexp.MustCompile(`[0-9a-f]{64}`).ReplaceAllString(ids.Replace(string(r.Body)), "<event id>"))

	// The message is thin: the event, with a snapshot of the user, is at
	// links.event.
	var msg struct {
		Links struct {
			Event string `json:"event"`
		} `json:"links"`
	}
	var event struct {
		Entity    string `json:"entity"`
		EventType string `json:"eventType"`
		UserID    string `json:"userId"`
	}
	if err := json.Unmarshal(r.Body, &msg); err != nil {
		panic(err)
	}
	if err := basiqCall(hc, "GET", msg.Links.Event, bearer, "", "", &event); err != nil {
		panic(err)
	}
	fmt.Println("event:", event.Entity, event.EventType, "for the new user:", event.UserID == user.ID)
	// Output:
	// webhook: active
	// attempts: 1
	// POST /basiq/webhooks
	// webhook-id is the message's id: true
	// webhook-signature: true
	// {"eventTypeId":"user.created","eventId":"<event id>","links":{"event":"https://basiq.test/events/<event id>","eventEntity":"https://basiq.test/users/<user id>"}}
	// event: user created for the new user: true
}

// FailWebhookDeliveries exercises a receiver's handling of retries: the
// first attempts reach it but count as failed, so Basiq's schedule sends
// the same message (the same webhook-id) again. The test moves the fake's
// clock to each attempt.
func ExampleServer_FailWebhookDeliveries() {
	now := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	seen := map[string]int{} // webhook-id → deliveries: a receiver must drop repeats
	receiver := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { seen[r.Header.Get("webhook-id")]++ })
	srv := basiqtest.NewServer(basiqtest.InMemory(), basiqtest.WithClock(func() time.Time { return now }),
		basiqtest.WithWebhookClient(&http.Client{Transport: basiqtest.HandlerTransport(receiver)}))
	defer srv.Close()
	hc, api := srv.Client(), srv.URL
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := basiqCall(hc, "POST", api+"/token", "Basic "+srv.APIKey(), "application/x-www-form-urlencoded", "scope=SERVER_ACCESS", &tok); err != nil {
		panic(err)
	}
	bearer := "Bearer " + tok.AccessToken
	var ignored struct{}
	if err := basiqCall(hc, "POST", api+"/notifications/webhooks", bearer, "application/json",
		`{"url":"https://app.example/basiq/webhooks","subscribedEvents":"user.created"}`, &ignored); err != nil {
		panic(err)
	}

	srv.FailWebhookDeliveries(3)
	if err := basiqCall(hc, "POST", api+"/users", bearer, "application/json", `{"email":"max@example.com"}`, &ignored); err != nil {
		panic(err)
	}
	start := now
	for {
		next, ok := srv.NextWebhookAttempt()
		if !ok {
			break
		}
		now = next
		if _, err := srv.DeliverWebhooks(context.Background()); err != nil {
			panic(err)
		}
	}
	m := srv.WebhookMessages()[0]
	for i, a := range m.Attempts {
		fmt.Printf("attempt %d at +%v: %d\n", i+1, a.Time.Sub(start), a.StatusCode)
	}
	fmt.Println("delivered:", m.Delivered, "- the receiver saw the message", seen[m.ID], "times")
	// Output:
	// attempt 1 at +0s: 500
	// attempt 2 at +5s: 500
	// attempt 3 at +5m5s: 500
	// attempt 4 at +35m5s: 200
	// delivered: true - the receiver saw the message 4 times
}
