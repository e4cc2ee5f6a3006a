package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tell-project/tell/merclip"
)

// TestTrainEvalPrepare runs prepare, train (kfold, tiny epochs) and eval
// through the command line on a small synthetic flow manifest.
func TestTrainEvalPrepare(t *testing.T) {
	dir := t.TempDir()
	man, err := merclip.WriteSynth(dir, merclip.SynthOptions{Seed: 2, Subjects: merclip.SynthSubjects(4, 2)})
	if err != nil {
		t.Fatal(err)
	}
	cache := filepath.Join(dir, "cache")
	code, out, errOut := runTell(t, "prepare", "--manifest", man, "--out", cache)
	if code != 0 || !strings.Contains(out, "prepared=24") {
		t.Fatalf("prepare: exit %d\n%s\n%s", code, out, errOut)
	}
	cfgPath := filepath.Join(dir, "cfg.json")
	os.WriteFile(cfgPath, []byte(`{"train":{"epochs":2},"mix":{"enabled":false}}`), 0o644)
	run := filepath.Join(dir, "run")
	code, out, errOut = runTell(t, "train", "--manifest", man, "--protocol", "kfold", "--folds", "2",
		"--config", cfgPath, "--cache", cache, "--out", run, "--bootstrap", "20")
	if code != 0 || !strings.Contains(out, "uf1=") || !strings.Contains(out, "model=") {
		t.Fatalf("train: exit %d\n%s\n%s", code, out, errOut)
	}
	var m map[string]any
	b, _ := os.ReadFile(filepath.Join(run, "metrics.json"))
	if err := json.Unmarshal(b, &m); err != nil || m["protocol"] != "kfold" || m["uf1_ci"] == nil {
		t.Fatalf("metrics.json: %v %s", err, b)
	}
	code, out, errOut = runTell(t, "eval", "--model", filepath.Join(run, "model.safetensors"), "--manifest", man, "--out", filepath.Join(dir, "eval"))
	if code != 0 || !strings.Contains(out, "n=24") {
		t.Fatalf("eval: exit %d\n%s\n%s", code, out, errOut)
	}
	code, _, errOut = runTell(t, "train", "--manifest", man, "--protocol", "bogus", "--out", run, "--epochs", "1")
	if code != 1 || !strings.Contains(errOut, `unknown protocol "bogus"`) {
		t.Fatalf("bad protocol: exit %d %s", code, errOut)
	}
	code, _, errOut = runTell(t, "train", "--manifest", man)
	if code != 2 || !strings.Contains(errOut, "--out") {
		t.Fatalf("missing --out: exit %d %s", code, errOut)
	}
	code, out, _ = runTell(t, "train", "--print-config")
	if code != 0 || !strings.Contains(out, `"focal_gamma": 2`) {
		t.Fatalf("print-config: exit %d %s", code, out)
	}
}
