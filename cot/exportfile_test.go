package cot

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
)

// TestExportFile: a failed export leaves nothing behind; problems print
// up to the limit.
func TestExportFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.jsonl")
	if _, err := ExportFile(context.Background(), path, []Record{{ID: "a", Line: 2}}, ExportOptions{Format: FormatLLaVA}); err == nil {
		t.Fatal("an export of no exportable row succeeded")
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("a failed export left %s: %v", path, err)
	}
	var b bytes.Buffer
	ExportSummary{Problems: []string{"p1", "p2", "p3"}}.PrintProblems(&b, "x: ", 2)
	if got, want := b.String(), "x: p1\nx: p2\nx: ... and 1 more\n"; got != want {
		t.Errorf("problems %q, want %q", got, want)
	}
}
