package basiq

import (
	"bytes"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMemoryTokenCacheHeldByValueFormatsNoToken(t *testing.T) {
	app := struct{ Cache MemoryTokenCache }{}
	require.NoError(t, app.Cache.Set(t.Context(), "k", Token{AccessToken: "SECRET-ACCESS-TOKEN", ExpiresAt: time.Now().Add(time.Hour)}))
	out := fmt.Sprintf("%v|%+v|%#v", &app, &app, &app)
	assert.NotContains(t, out, "SECRET-ACCESS-TOKEN")
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("m", "app", &app)
	assert.NotContains(t, buf.String(), "SECRET-ACCESS-TOKEN")
}

func TestZeroMemoryTokenCacheWorks(t *testing.T) {
	var m MemoryTokenCache
	tok := Token{AccessToken: "a", ExpiresAt: time.Now().Add(time.Hour)}
	require.NoError(t, m.Set(t.Context(), "k", tok))
	got, ok, err := m.Get(t.Context(), "k")
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, "a", got.AccessToken)
	assert.Equal(t, 1, m.Len())

	var nilCache *MemoryTokenCache
	assert.ErrorIs(t, nilCache.Set(t.Context(), "k", tok), ErrInvalidInput)
	_, _, err = nilCache.Get(t.Context(), "k")
	assert.ErrorIs(t, err, ErrInvalidInput)
}
