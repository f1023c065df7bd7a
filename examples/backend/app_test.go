package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// excerptBlock finds a README code block marked as an excerpt of a file.
var excerptBlock = regexp.MustCompile("(?s)<!-- excerpt: (\\S+) -->\n```go\n(.*?)\n```")

// TestReadmeSnippetsAreExcerptsOfTheBackend keeps the README's 3.0 snippets
// from drifting: every block marked as an excerpt must appear in the file it
// names, its lines in order and contiguous (indentation aside).
func TestReadmeSnippetsAreExcerptsOfTheBackend(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := excerptBlock.FindAllStringSubmatch(string(readme), -1)
	if len(blocks) < 5 {
		t.Fatalf("%d excerpt blocks in the README; the 3.0 section has at least 5", len(blocks))
	}
	for _, b := range blocks {
		src, err := os.ReadFile(filepath.Join("..", "..", b[1]))
		if err != nil {
			t.Errorf("the README quotes %s: %v", b[1], err)
			continue
		}
		if !containsLines(trimLines(string(src)), trimLines(b[2])) {
			t.Errorf("this README excerpt is not in %s any more:\n%s", b[1], b[2])
		}
	}
}

func trimLines(s string) []string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSpace(l)
	}
	return lines
}

func containsLines(file, want []string) bool {
	for i := 0; i+len(want) <= len(file); i++ {
		match := true
		for j := range want {
			if file[i+j] != want[j] {
				match = false
				break
			}
		}
		if match {
			return true
		}
	}
	return false
}
