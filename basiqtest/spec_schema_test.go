package basiqtest_test

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// specSchema returns the response schema of a spec file in
// testdata/basiq-spec/v3 for an operation, status and content type.
func specSchema(t testing.TB, file, path, method, status, contentType string) map[string]any {
	t.Helper()
	doc := specDoc(t, file)
	op, _ := dig(doc, "paths", path, method).(map[string]any)
	require.NotNil(t, op, "%s has %s %s", file, method, path)
	s, _ := dig(op, "responses", status, "content", contentType, "schema").(map[string]any)
	require.NotNil(t, s, "%s %s %s has a %s %s schema", file, method, path, status, contentType)
	return s
}

func specDoc(t testing.TB, file string) map[string]any {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "testdata", "basiq-spec", "v3", file))
	require.NoError(t, err, "the spec files are in the module's testdata")
	var doc map[string]any
	require.NoError(t, json.Unmarshal(raw, &doc))
	return doc
}

func dig(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// requireMatchesSchema checks that body decodes and that, everywhere the
// schema describes it, every required member is present and every value
// present has the schema's JSON type (null is accepted for any type: Basiq
// marks few fields nullable that it sends as null). oneOf/anyOf pass when
// one branch does; $ref is resolved within the file.
func requireMatchesSchema(t testing.TB, file string, schema map[string]any, body []byte) {
	t.Helper()
	var v any
	require.NoError(t, json.Unmarshal(body, &v), "body: %.500s", body)
	doc := specDoc(t, file)
	if errs := schemaErrors(doc, schema, v, "$"); len(errs) > 0 {
		t.Fatalf("response does not match %s's schema:\n%s\nbody: %.1500s", file, strings.Join(errs, "\n"), body)
	}
}

func schemaErrors(doc, s map[string]any, v any, at string) []string {
	if ref, ok := s["$ref"].(string); ok {
		parts := strings.Split(strings.TrimPrefix(ref, "#/"), "/")
		r, _ := dig(doc, parts...).(map[string]any)
		if r == nil {
			return []string{at + ": unresolved " + ref}
		}
		return schemaErrors(doc, r, v, at)
	}
	for _, key := range []string{"oneOf", "anyOf"} {
		if alts, ok := s[key].([]any); ok && v != nil {
			var all []string
			for _, a := range alts {
				am, _ := a.(map[string]any)
				errs := schemaErrors(doc, am, v, at)
				if len(errs) == 0 {
					return nil
				}
				all = append(all, errs...)
			}
			return append([]string{at + ": matches no branch of " + key}, all...)
		}
	}
	if v == nil {
		return nil
	}
	var errs []string
	switch typ, _ := s["type"].(string); typ {
	case "string":
		if _, ok := v.(string); !ok {
			errs = append(errs, fmt.Sprintf("%s: want string, got %T", at, v))
		}
	case "integer":
		if f, ok := v.(float64); !ok || f != math.Trunc(f) {
			errs = append(errs, fmt.Sprintf("%s: want integer, got %v", at, v))
		}
	case "number":
		if _, ok := v.(float64); !ok {
			errs = append(errs, fmt.Sprintf("%s: want number, got %T", at, v))
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			errs = append(errs, fmt.Sprintf("%s: want boolean, got %T", at, v))
		}
	case "array":
		if _, ok := v.([]any); !ok {
			errs = append(errs, fmt.Sprintf("%s: want array, got %T", at, v))
		}
	}
	switch x := v.(type) {
	case map[string]any:
		if req, ok := s["required"].([]any); ok {
			for _, r := range req {
				if _, ok := x[r.(string)]; !ok {
					errs = append(errs, fmt.Sprintf("%s: required member %q missing", at, r))
				}
			}
		}
		props, _ := s["properties"].(map[string]any)
		for k, pv := range props {
			if val, ok := x[k]; ok {
				ps, _ := pv.(map[string]any)
				errs = append(errs, schemaErrors(doc, ps, val, at+"."+k)...)
			}
		}
	case []any:
		if items, ok := s["items"].(map[string]any); ok {
			for i, item := range x {
				errs = append(errs, schemaErrors(doc, items, item, fmt.Sprintf("%s[%d]", at, i))...)
			}
		}
	}
	return errs
}

// TestSchemaCheckerCatchesMismatches shows the checker fails on a missing
// required member and on a wrong type, so the shape tests can fail.
func TestSchemaCheckerCatchesMismatches(t *testing.T) {
	doc := map[string]any{}
	s := map[string]any{"type": "object", "required": []any{"id"},
		"properties": map[string]any{"id": map[string]any{"type": "string"},
			"n": map[string]any{"type": "integer"}}}
	require.Empty(t, schemaErrors(doc, s, map[string]any{"id": "x", "n": 2.0}, "$"))
	require.NotEmpty(t, schemaErrors(doc, s, map[string]any{"n": 2.0}, "$"))
	require.NotEmpty(t, schemaErrors(doc, s, map[string]any{"id": "x", "n": 2.5}, "$"))
	require.NotEmpty(t, schemaErrors(doc, s, map[string]any{"id": 1.0}, "$"))
}
