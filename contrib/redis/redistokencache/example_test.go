package redistokencache_test

import (
	"context"
	"crypto/tls"
	"log"
	"log/slog"
	"os"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/banklink-go/basiq"
	"github.com/banklink-go/basiq/contrib/redis/redistokencache"
)

// Every replica of a service builds its Basiq client like this, with the same
// Redis and prefix, so that the fleet shares one SERVER_ACCESS token an hour.
func Example() {
	// A private, authenticated Redis: the values stored are live bearer tokens.
	rdb := redis.NewClient(&redis.Options{
		Addr:      os.Getenv("REDIS_ADDR"), // e.g. "redis.internal:6380"
		Username:  os.Getenv("REDIS_USERNAME"),
		Password:  os.Getenv("REDIS_PASSWORD"),
		TLSConfig: &tls.Config{MinVersion: tls.VersionTLS12},
		// Short timeouts: a token refresh waits for Redis before falling back.
		DialTimeout:           time.Second,
		ReadTimeout:           time.Second,
		WriteTimeout:          time.Second,
		ContextTimeoutEnabled: true,
	})
	defer rdb.Close()

	cache := redistokencache.New(rdb,
		redistokencache.WithPrefix("payments:"),
		redistokencache.WithTimeout(500*time.Millisecond),
	)
	client, err := basiq.NewClient(os.Getenv("BASIQ_API_KEY"),
		basiq.WithTokenCache(cache),
		basiq.WithLogger(slog.Default()), // logs cache failures, never tokens
	)
	if err != nil {
		log.Fatal(err)
	}

	// The first call on any replica mints a token and stores it in Redis; the
	// other replicas take it from there.
	user, err := client.Users.Create(context.Background(), basiq.UserParams{Email: "gavin@hooli.com"})
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("created user %s", user.ID)
}
