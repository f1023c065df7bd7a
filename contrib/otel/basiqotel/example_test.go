package basiqotel_test

import (
	"log"
	"os"

	"github.com/banklink-go/basiq"
	"github.com/banklink-go/basiq/contrib/otel/basiqotel"
)

// The client's operations go to the global tracer and meter providers, set
// up by the application's OpenTelemetry start-up.
func Example() {
	obs, err := basiqotel.NewObserver()
	if err != nil {
		log.Fatal(err)
	}
	client, err := basiq.NewClient(os.Getenv("BASIQ_API_KEY"), basiq.WithObserver(obs))
	if err != nil {
		log.Fatal(err)
	}
	_ = client // every call now makes a span "basiq GET /users/{userId}" and records metrics
}
