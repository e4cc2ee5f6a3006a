package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
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

// TestTrainAndSweepOnAFleet: tell serve with NATS on a loopback port and no
// local worker; one tell worker trains the folds that tell train --nats and
// tell sweep --nats queue; their metrics.json and table equal the same
// commands' run here.
func TestTrainAndSweepOnAFleet(t *testing.T) {
	dir := t.TempDir()
	man, err := train.WriteSynth(dir, train.SynthOptions{Seed: 2, Subjects: train.SynthSubjects(4, 2)})
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "c.json")
	os.WriteFile(cfg, []byte(`{"input": {"align": false}, "cnn": {"train": {"epochs": 2, "warmup": 0}}}`), 0o644)
	natsURL, _, _ := startTell(t, regexp.MustCompile(`NATS for tell worker and tell batch at (nats://\S+)`),
		"serve", "--addr", "127.0.0.1:0", "--data", t.TempDir(), "--workers", "0", "--nats-listen", "127.0.0.1:0")
	startTell(t, nil, "worker", "--nats", natsURL, "--workdir", t.TempDir())
	cache := filepath.Join(dir, "cache")
	for _, where := range [][]string{nil, {"--nats", natsURL}} {
		out := filepath.Join(dir, fmt.Sprint("train", len(where)))
		args := append([]string{"train", "--manifest", man, "--protocol", "kfold", "--folds", "2", "--config", cfg, "--cache", cache, "--out", out, "--quiet"}, where...)
		if code, stdout, stderr := runTell(t, args...); code != 0 || !strings.Contains(stdout, "uf1=") {
			t.Fatalf("tell %v: exit %d\n%s\n%s", args, code, stdout, stderr)
		}
		sout := filepath.Join(dir, fmt.Sprint("sweep", len(where)))
		args = append([]string{"sweep", cfg, "--manifest", man, "--protocol", "kfold", "--folds", "2", "--seeds", "2", "--cache", cache, "--out", sout, "--bootstrap", "20", "--quiet"}, where...)
		if code, stdout, stderr := runTell(t, args...); code != 0 || !strings.Contains(stdout, "chosen=c") {
			t.Fatalf("tell %v: exit %d\n%s\n%s", args, code, stdout, stderr)
		}
	}
	for _, f := range []string{"train0/metrics.json", "train0/model.safetensors", "sweep0/runs/c/seed-2/metrics.json"} {
		here, _ := os.ReadFile(filepath.Join(dir, f))
		fleet, _ := os.ReadFile(filepath.Join(dir, strings.Replace(f, "0/", "2/", 1)))
		if len(here) == 0 || !bytes.Equal(here, fleet) {
			t.Errorf("%s differs between here and the fleet", f)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "train2", "run.json")); !strings.Contains(string(b), `"where": "fleet"`) {
		t.Errorf("tell train --nats ran here: %s", b)
	}
	var here, fleet train.SweepResult
	for i, p := range []string{"sweep0/sweep.json", "sweep2/sweep.json"} {
		b, _ := os.ReadFile(filepath.Join(dir, p))
		if err := json.Unmarshal(b, []*train.SweepResult{&here, &fleet}[i]); err != nil {
			t.Fatal(err)
		}
	}
	if here.Rows[0].Score != fleet.Rows[0].Score || here.Rows[0].Seeds[1].UF1 != fleet.Rows[0].Seeds[1].UF1 || fleet.Timing.Where != "fleet" {
		t.Errorf("sweep here %+v, on the fleet %+v", here.Rows[0], fleet.Rows[0])
	}
}
