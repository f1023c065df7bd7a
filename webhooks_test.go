package basiq

import (
	"bytes"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestWebhookLoggedWithoutSecret(t *testing.T) {
	w := Webhook{ID: "w-1", URL: "https://app.example/hook", Secret: "whsec_SECRETSECRET", SubscribedEvents: []EventType{EventUserCreated}}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("created", "webhook", w, "ptr", &w)
	assert.NotContains(t, buf.String(), "SECRETSECRET")
	assert.Contains(t, buf.String(), `"id":"w-1"`)
}
