package basiqtest_test

import (
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/banklink-go/basiq/basiqtest"
	"github.com/stretchr/testify/assert"
)

// The fake's API key and its tokens are secrets like any other: no
// formatted form of a Server shows them.
func TestServerFormatHidesSecrets(t *testing.T) {
	srv := basiqtest.NewServer(basiqtest.InMemory(), basiqtest.WithAPIKey("c2VjcmV0LWFwaS1rZXk6c2VjcmV0"))
	defer srv.Close()
	a := newAPI(t, srv)
	tok := a.serverToken("3.0")
	for _, format := range []string{"%v", "%+v", "%#v", "%s"} {
		out := fmt.Sprintf(format, srv)
		assert.NotContains(t, out, srv.APIKey(), format)
		assert.NotContains(t, out, tok, format)
		assert.Contains(t, out, srv.URL, format)
	}
	var buf strings.Builder
	slog.New(slog.NewTextHandler(&buf, nil)).Info("fake", "srv", srv)
	assert.NotContains(t, buf.String(), srv.APIKey())
	assert.Contains(t, buf.String(), srv.URL)
	var none *basiqtest.Server
	assert.Equal(t, "basiqtest.Server(nil)", fmt.Sprint(none))
}
