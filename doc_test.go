package basiq

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPackageDocsStandAlone(t *testing.T) {
	var files []string
	require.NoError(t, filepath.WalkDir(".", func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "testdata" {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(p, ".go") && !strings.HasSuffix(p, "_test.go") {
			files = append(files, p)
		}
		return nil
	}))
	require.Greater(t, len(files), 30)
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		for i, line := range strings.Split(string(b), "\n") {
			for _, bad := range []string{"DESIGN.md", "basiq-api.md", "basiq-api-v3.md", "../shared"} {
				assert.NotContains(t, line, bad, "%s:%d points users at a file they do not have", f, i+1)
			}
			if strings.Contains(strings.ReplaceAll(line, "au-api.basiq.io", ""), "api.basiq.io") &&
				!strings.Contains(line, "https://api.basiq.io/reference") && !strings.Contains(line, "https://api.basiq.io/docs") {
				t.Errorf("%s:%d names api.basiq.io, but the API is at au-api.basiq.io", f, i+1)
			}
		}
	}
}
