package basiq

import (
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestAPIKeyNeverFormatted formats the client, its services and a struct of
// the caller's holding them, with every verb, and asserts the key never shows.
func TestAPIKeyNeverFormatted(t *testing.T) {
	const key = "c2VjcmV0LWtleS0xMjM0NTY3ODkw"
	c, err := NewClient(key)
	require.NoError(t, err)
	type app struct {
		client *Client
		jobs   *JobsService
		Users  *UsersService
		Conns  *ConnectionsService
	}
	values := []any{c, *c, c.Jobs, c.Users, c.Connections, c.Institutions, c.Connectors,
		app{c, c.Jobs, c.Users, c.Connections}, &app{c, c.Jobs, c.Users, c.Connections}, c.apiKey}
	var out strings.Builder
	for _, v := range values {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%d", "%q", "%x", "%t"} {
			fmt.Fprintf(&out, verb+"\n", v)
		}
	}
	logger := slog.New(slog.NewTextHandler(&out, nil))
	logger.Info("client", "c", c, "jobs", c.Jobs, "key", c.apiKey)
	// Keep a failure readable: report only whether the key showed.
	assert.False(t, strings.Contains(out.String(), key), "the API key was formatted")
	assert.False(t, strings.Contains(out.String(), fmt.Sprintf("%x", key)), "the API key was formatted in hex")
	assert.Contains(t, out.String(), redacted)
}
