package basiq

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestSpecFilesAreInTheRepository(t *testing.T) {
	for _, p := range []string{
		"testdata/README.md",
		"testdata/basiq-spec/v2.1/swagger.json",
		"testdata/basiq-spec/v2.1/examples/jobs__getJob.json",
		"testdata/basiq-spec/v3/core.json",
		"testdata/basiq-spec/v3/data.json",
		"testdata/basiq-spec/v3/webhooks.json",
		"testdata/basiq-spec/v3/reporting.json",
		"testdata/basiq-spec/v3/enrich.json",
		"testdata/basiq-spec/v3/identity.json",
		"testdata/basiq-spec/v3/affordability.json",
	} {
		_, err := os.Stat(filepath.FromSlash(p))
		assert.NoError(t, err, "a clean clone must have %s", p)
	}
}
