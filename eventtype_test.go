package basiq_test

import (
	"encoding/json"
	"os"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banklink-go/basiq"
)

// TestEventTypesMatchSpec reads GET /events/types' example from Basiq's
// published Core spec: every type it lists is a constant delivered by
// webhook, and WebhookEventTypes is exactly that list.
func TestEventTypesMatchSpec(t *testing.T) {
	raw, err := os.ReadFile("testdata/basiq-spec/v3/core.json")
	require.NoError(t, err)
	var spec struct {
		Paths map[string]map[string]struct {
			Responses map[string]struct {
				Content map[string]struct {
					Examples map[string]struct {
						Value json.RawMessage `json:"value"`
					} `json:"examples"`
				} `json:"content"`
			} `json:"responses"`
		} `json:"paths"`
	}
	require.NoError(t, json.Unmarshal(raw, &spec))
	var value struct {
		Data []struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	require.NoError(t, json.Unmarshal(
		spec.Paths["/events/types"]["get"].Responses["200"].Content["application/json"].Examples["Success"].Value, &value))
	listed := value.Data
	require.Len(t, listed, 15, "the spec's /events/types example")

	var fromSpec []basiq.EventType
	for _, item := range listed {
		et := basiq.EventType(item.ID)
		assert.True(t, et.Known(), "%s is not a known constant", et)
		assert.True(t, et.ByWebhook(), "%s is listed by /events/types but not ByWebhook", et)
		fromSpec = append(fromSpec, et)
	}
	got := basiq.WebhookEventTypes()
	slices.Sort(got)
	slices.Sort(fromSpec)
	assert.Equal(t, fromSpec, got)

	// A new slice each time: a caller's edit does not leak into the next call.
	basiq.WebhookEventTypes()[0] = "changed"
	assert.NotEqual(t, basiq.EventType("changed"), basiq.WebhookEventTypes()[0])
}

func TestEventTypeHelpers(t *testing.T) {
	cases := []struct {
		t              basiq.EventType
		entity, action string
		known, webhook bool
	}{
		{basiq.EventConnectionInvalidated, "connection", "invalidated", true, true},
		{basiq.EventConnectionUpdated, "connection", "updated", true, false}, // event only
		{basiq.EventConsentArchived, "consent", "archived", true, false},     // not known to be subscribable
		{basiq.EventTransactionsUpdated, "transactions", "updated", true, true},
		{basiq.EventAccountUpdated, "account", "updated", true, true},
		{basiq.EventUserDeleted, "user", "deleted", true, true},
		{"payment.settled", "payment", "settled", false, false}, // unknown, kept
		{"job.finished", "job", "finished", false, false},       // there is no job event
		{"nodot", "", "", false, false},
		{"", "", "", false, false},
		{"a.b.c", "a", "b.c", false, false},
	}
	for _, c := range cases {
		assert.Equal(t, c.entity, c.t.Entity(), "%q.Entity()", c.t)
		assert.Equal(t, c.action, c.t.Action(), "%q.Action()", c.t)
		assert.Equal(t, c.known, c.t.Known(), "%q.Known()", c.t)
		assert.Equal(t, c.webhook, c.t.ByWebhook(), "%q.ByWebhook()", c.t)
	}

	// Unknown values survive a JSON round trip unchanged.
	var got struct{ Type basiq.EventType }
	require.NoError(t, json.Unmarshal([]byte(`{"Type":"payment.settled"}`), &got))
	assert.Equal(t, basiq.EventType("payment.settled"), got.Type)
}

// TestEventTypeConstants: all 17 documented types, no two alike.
func TestEventTypeConstants(t *testing.T) {
	all := []basiq.EventType{
		basiq.EventConnectionCreated, basiq.EventConnectionUpdated, basiq.EventConnectionDeleted,
		basiq.EventConnectionActivated, basiq.EventConnectionInvalidated, basiq.EventAccountUpdated,
		basiq.EventTransactionsUpdated, basiq.EventConsentCreated, basiq.EventConsentUpdated,
		basiq.EventConsentRevoked, basiq.EventConsentExpired, basiq.EventConsentWarning,
		basiq.EventConsentReminder, basiq.EventConsentArchived, basiq.EventUserCreated,
		basiq.EventUserUpdated, basiq.EventUserDeleted,
	}
	seen := map[basiq.EventType]bool{}
	for _, et := range all {
		assert.False(t, seen[et], "duplicate %s", et)
		seen[et] = true
		assert.True(t, et.Known(), "%s", et)
		assert.NotEmpty(t, et.Entity(), "%s", et)
	}
	assert.Len(t, seen, 17)
}
