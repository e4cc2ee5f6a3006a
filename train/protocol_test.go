package train

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckProtocol: a manifest with one label, or too few subjects for the
// split, is refused before anything is prepared, naming the manifest.
func TestCheckProtocol(t *testing.T) {
	dir := t.TempDir()
	write := func(rows string) string {
		p := filepath.Join(dir, "m.csv")
		if err := os.WriteFile(p, []byte("sample,subject,label,flow\n"+rows), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	one := write("a,s1,x,a.png\nb,s2,x,b.png\n")
	if err := CheckProtocol(one, ProtocolLOSO, 0, 0, 1); err == nil || !strings.Contains(err.Error(), "has 1 label") {
		t.Errorf("one label: %v", err)
	}
	two := write("a,s1,x,a.png\nb,s2,y,b.png\nc,s3,x,c.png\n")
	if err := CheckProtocol(two, ProtocolLOSO, 0, 0, 1); err != nil {
		t.Errorf("LOSO on 3 subjects: %v", err)
	}
	if err := CheckProtocol(two, ProtocolKFold, 5, 0, 1); err == nil || !strings.Contains(err.Error(), two) {
		t.Errorf("5 folds of 3 subjects: %v", err)
	}
	if err := CheckProtocol(two, "nope", 0, 0, 1); err == nil {
		t.Error("unknown protocol accepted")
	}
}

// TestRunDirCleanup: a failed run removes what it made and keeps what was
// there; with a finished fold it keeps everything (a rerun resumes).
func TestRunDirCleanup(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, "mine.txt"), []byte("x"), 0o644)
	d, err := SnapshotDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "made.txt"), []byte("y"), 0o644)
	d.Cleanup(nil)
	if _, err := os.Stat(filepath.Join(dir, "made.txt")); err == nil {
		t.Error("the run's file was kept")
	}
	if _, err := os.Stat(filepath.Join(dir, "mine.txt")); err != nil {
		t.Error("the earlier file was removed")
	}
	fresh := filepath.Join(t.TempDir(), "new")
	d, _ = SnapshotDir(fresh)
	os.MkdirAll(filepath.Join(fresh, "folds"), 0o755)
	os.WriteFile(filepath.Join(fresh, "folds", "fold-000.json"), []byte("{}"), 0o644)
	d.Cleanup(nil)
	if _, err := os.Stat(filepath.Join(fresh, "folds", "fold-000.json")); err != nil {
		t.Error("a finished fold was removed")
	}
}
