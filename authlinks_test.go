package basiq

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAuthLinksKeepTheURLOutOfLogs(t *testing.T) {
	const public = "https://connect.basiq.io/63448be4"
	link := fmt.Sprintf(`{"type":"auth_link","id":"63448be4","userId":"ec4ea48d","mobile":61410000000,"expiresAt":"2019-11-21T04:08:50Z",
		"links":{"public":%q,"self":"/users/ec4ea48d/auth_link"}}`, public)
	a := newCoreAPI(t)
	a.handle(http.MethodPost, "/users/ec4ea48d/auth_link", http.StatusCreated, link)
	a.handle(http.MethodGet, "/users/ec4ea48d/auth_link", http.StatusOK, link)
	a.handle(http.MethodDelete, "/users/ec4ea48d/auth_link", http.StatusNoContent, "")
	var logs bytes.Buffer
	c := newCoreClient(t, a, WithLogger(slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	ctx := context.Background()
	l, err := c.AuthLinks.Create(ctx, "ec4ea48d", nil)
	require.NoError(t, err)
	assert.Equal(t, public, l.URL)
	assert.Equal(t, "61410000000", l.Mobile, "a number is read as text")
	assert.Equal(t, time.Date(2019, 11, 21, 4, 8, 50, 0, time.UTC), l.Expires)
	assert.JSONEq(t, `{}`, string(a.apiRequests()[0].Body))
	_, err = c.AuthLinks.Create(ctx, "ec4ea48d", &AuthLinkParams{Mobile: "+61410000000"})
	require.NoError(t, err)
	assert.JSONEq(t, `{"mobile":"+61410000000"}`, string(a.apiRequests()[1].Body))
	got, err := c.AuthLinks.Get(ctx, "ec4ea48d")
	require.NoError(t, err)
	require.NoError(t, c.AuthLinks.Delete(ctx, "ec4ea48d"))

	slog.New(slog.NewJSONHandler(&logs, nil)).Info("link", "link", *got, "ptr", got)
	js, err := json.Marshal(struct{ L AuthLink }{*got})
	require.NoError(t, err)
	for _, out := range []string{logs.String(), fmt.Sprintf("%v %+v %#v %s", *got, *got, *got, got), string(js)} {
		assert.NotContains(t, out, "63448be4", out)
	}
	assert.Contains(t, logs.String(), "ec4ea48d", "the user id is logged")
}
