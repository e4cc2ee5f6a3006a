package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBenchCot: the command prints the rows asked for and the score (the
// score's known answers are package eval's TestCoT); no manifest is a
// usage error.
func TestBenchCot(t *testing.T) {
	manifest := filepath.Join(t.TempDir(), "m.csv")
	rows := "sample,subject,label,dataset,aus,frames\n" +
		"a,s1,happiness,casme2,R12,clips/x\n" +
		"b,s2,disgust,casme2,4,clips/x\n"
	if err := os.WriteFile(manifest, []byte(rows), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runTell(t, "bench", "cot", manifest, "--rows")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"# row b dataset=casme2 label=disgust aus=4 basic=anger 3class=negative\n", "rows=2\n", "basic_all_n=2\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in\n%s", want, out)
		}
	}
	if !strings.HasSuffix(out, "3class_all_uf1=1.000\n") {
		t.Errorf("3class_all_uf1 is not the last line:\n%s", out)
	}
	if code, _, _ := runTell(t, "bench", "cot"); code != 2 {
		t.Errorf("no manifest: exit %d, want 2", code)
	}
}
