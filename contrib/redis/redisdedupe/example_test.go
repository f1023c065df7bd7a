package redisdedupe_test

import (
	"context"
	"crypto/tls"
	"log"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/banklink-go/basiq/contrib/redis/redisdedupe"
	"github.com/banklink-go/basiq/webhook"
)

// Every replica serves Basiq's webhooks like this, with the same Redis and
// prefix, so that a message is handled once by the whole fleet.
func Example() {
	rdb := redis.NewClient(&redis.Options{
		Addr:      os.Getenv("REDIS_ADDR"), // e.g. "redis.internal:6380"
		Username:  os.Getenv("REDIS_USERNAME"),
		Password:  os.Getenv("REDIS_PASSWORD"),
		TLSConfig: &tls.Config{MinVersion: tls.VersionTLS12},
		// Short timeouts: a delivery waits for Redis before answering.
		DialTimeout:           time.Second,
		ReadTimeout:           time.Second,
		WriteTimeout:          time.Second,
		ContextTimeoutEnabled: true,
	})
	defer rdb.Close()

	v, err := webhook.NewVerifier(os.Getenv("BASIQ_WEBHOOK_SECRET"))
	if err != nil {
		log.Fatal(err)
	}
	h := webhook.Handler(v, func(ctx context.Context, m webhook.Message) error {
		log.Printf("event %s (%s)", m.EventID, m.Type)
		return nil
	},
		webhook.WithDeduper(redisdedupe.New(rdb, redisdedupe.WithPrefix("payments:"))),
		webhook.WithLogger(slog.Default()),
	)
	http.Handle("POST /basiq/webhooks", h)
	log.Fatal(http.ListenAndServe(":8080", nil))
}
