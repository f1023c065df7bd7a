package webhook_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"time"

	"github.com/banklink-go/basiq"
	"github.com/banklink-go/basiq/webhook"
)

// Verify a delivery by hand: here TV1 of the Standard Webhooks test vectors,
// with the clock pinned to its timestamp.
func ExampleVerifier_Verify() {
	sent := time.Unix(1614265330, 0)
	v, err := webhook.NewVerifier("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
		webhook.WithClock(func() time.Time { return sent.Add(time.Minute) }))
	if err != nil {
		panic(err)
	}
	h := http.Header{}
	h.Set("webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek")
	h.Set("webhook-timestamp", "1614265330")
	h.Set("webhook-signature", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")

	m, err := v.Verify(h, []byte(`{"test": 2432232314}`))
	fmt.Println(m.ID, err)

	_, err = v.Verify(h, []byte(`{"test": 2432232315}`))
	fmt.Println(errors.Is(err, webhook.ErrInvalidSignature))
	// Output:
	// msg_p5jXN8AQM9LWM0D4loKWxJek <nil>
	// true
}

// Serve Basiq's webhooks: the callback runs once per message, and its error
// makes Basiq retry.
func ExampleHandler() {
	secret := "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	v, err := webhook.NewVerifier(secret)
	if err != nil {
		panic(err)
	}
	h := webhook.Handler(v, func(ctx context.Context, m webhook.Message) error {
		if m.Type == basiq.EventConnectionInvalidated {
			// With a client: client.Events.Advise on client.Events.Get(ctx, m.EventURL) says what to do.
			fmt.Println("connection", m.ConnectionID(), "of user", m.UserID(), "needs attention")
		}
		return nil
	})

	// Basiq delivers the same message twice (it never saw the first 200).
	body := `{"eventTypeId":"connection.invalidated","eventId":"ev1","links":{` +
		`"event":"https://au-api.basiq.io/events/ev1","eventEntity":"https://au-api.basiq.io/users/u1/connections/c1"}}`
	for range 2 {
		now := time.Now()
		sig, err := webhook.Sign(secret, "msg_1", now, []byte(body))
		if err != nil {
			panic(err)
		}
		r := httptest.NewRequest(http.MethodPost, "/basiq/webhooks", strings.NewReader(body))
		r.Header.Set("webhook-id", "msg_1")
		r.Header.Set("webhook-timestamp", strconv.FormatInt(now.Unix(), 10))
		r.Header.Set("webhook-signature", sig)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		fmt.Println(w.Code)
	}
	// Output:
	// connection c1 of user u1 needs attention
	// 200
	// 200
}

// A secret that is not base64 is refused without being quoted.
func ExampleNewVerifier() {
	_, err := webhook.NewVerifier("whsec_not base64!")
	fmt.Println(errors.Is(err, basiq.ErrInvalidInput))
	// Output: true
}
