package batch

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLoad: the manifest wins over the folder, and no input is an error
// naming the folder.
func TestLoad(t *testing.T) {
	dir := t.TempDir()
	if _, err := Load("", dir, 0); err == nil || !strings.Contains(err.Error(), dir+": nothing to analyse") {
		t.Errorf("empty folder: %v", err)
	}
	png, err := os.ReadFile("../portrait/astronaut.png")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "a.png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
	items, err := Load("", dir, 0)
	if err != nil || len(items) != 1 {
		t.Fatalf("folder: %d items, %v", len(items), err)
	}
	man := filepath.Join(t.TempDir(), "m.csv")
	if err := os.WriteFile(man, []byte("sample,image\nx,"+filepath.Join(dir, "a.png")+"\ny,"+filepath.Join(dir, "a.png")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if items, err := Load(man, "", 0); err != nil || len(items) != 1 {
		t.Errorf("manifest: %d items, %v", len(items), err)
	}
}
