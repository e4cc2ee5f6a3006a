package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tell-project/tell/train"
)

// TestSweepCommand runs a two-candidate sweep through the command line on a
// small synthetic manifest, then checks its refusals.
func TestSweepCommand(t *testing.T) {
	dir := t.TempDir()
	man, err := train.WriteSynth(dir, train.SynthOptions{Seed: 2, Subjects: train.SynthSubjects(4, 2)})
	if err != nil {
		t.Fatal(err)
	}
	a, b := filepath.Join(dir, "short.json"), filepath.Join(dir, "flip.json")
	os.WriteFile(a, []byte(`{"input": {"align": false}, "cnn": {"train": {"epochs": 1, "warmup": 0}}}`), 0o644)
	os.WriteFile(b, []byte(`{"input": {"align": false}, "cnn": {"train": {"epochs": 1, "warmup": 0}, "augment": {"test_flip": true}}}`), 0o644)
	out := filepath.Join(dir, "sweep")
	code, stdout, stderr := runTell(t, "sweep", a, b, "--manifest", man, "--protocol", "kfold", "--folds", "2", "--seeds", "2", "--out", out, "--bootstrap", "20", "--quiet")
	if code != 0 || !strings.Contains(stdout, "candidate=short") || !strings.Contains(stdout, "candidate=flip") || !strings.Contains(stdout, "chosen=") {
		t.Fatalf("sweep: exit %d\n%s\n%s", code, stdout, stderr)
	}
	for _, f := range []string{"rule.json", "sweep.json", "sweep.md", "chosen.json", "runs/short/seed-2/metrics.json", "runs/flip/seed-1/folds/fold-001.json"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("sweep wrote no %s", f)
		}
	}
	// Another margin in the same folder is refused.
	code, _, stderr = runTell(t, "sweep", a, b, "--manifest", man, "--protocol", "kfold", "--folds", "2", "--seeds", "2", "--out", out, "--margin", "0.02", "--quiet")
	if code == 0 || !strings.Contains(stderr, "another rule") {
		t.Errorf("changed margin: exit %d %s", code, stderr)
	}
	// A held-out manifest that shares subjects with the development rows.
	code, _, stderr = runTell(t, "sweep", a, "--manifest", man, "--protocol", "loso", "--seeds", "1", "--out", filepath.Join(dir, "s2"), "--held-out", man, "--quiet")
	if code == 0 || !strings.Contains(stderr, "held-out manifest") {
		t.Errorf("held-out overlap: exit %d %s", code, stderr)
	}
	for _, args := range [][]string{
		{"sweep", "--manifest", man, "--protocol", "kfold", "--out", "o"},
		{"sweep", a, "--manifest", man, "--protocol", "holdout", "--out", "o"},
		{"sweep", a, "--manifest", man, "--protocol", "kfold", "--out", "o", "--seeds", "0"},
		{"sweep", a, "--manifest", man, "--protocol", "kfold", "--out", "o", "--margin", "-1"},
	} {
		if code, _, _ := runTell(t, args...); code != 2 {
			t.Errorf("tell %v: exit %d, want 2", args, code)
		}
	}
}
