package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tell-project/tell/train"
)

// TestTrainEvalPrepare runs prepare, train (kfold, tiny epochs) and eval
// through the command line on a small synthetic flow manifest.
func TestTrainEvalPrepare(t *testing.T) {
	dir := t.TempDir()
	man, err := train.WriteSynth(dir, train.SynthOptions{Seed: 2, Subjects: train.SynthSubjects(4, 2)})
	if err != nil {
		t.Fatal(err)
	}
	cache := filepath.Join(dir, "cache")
	code, out, errOut := runTell(t, "prepare", "--manifest", man, "--out", cache)
	if code != 0 || !strings.Contains(out, "prepared=24") {
		t.Fatalf("prepare: exit %d\n%s\n%s", code, out, errOut)
	}
	cfgPath := filepath.Join(dir, "cfg.json")
	os.WriteFile(cfgPath, []byte(`{"model":"merclip","merclip":{"train":{"epochs":2},"mix":{"enabled":false}}}`), 0o644)
	run := filepath.Join(dir, "run")
	code, out, errOut = runTell(t, "train", "--manifest", man, "--protocol", "kfold", "--folds", "2",
		"--config", cfgPath, "--cache", cache, "--out", run, "--bootstrap", "20")
	if code != 0 || !strings.Contains(out, "uf1=") || !strings.Contains(out, "model=") || !strings.Contains(out, "dataset=synth n=24") {
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
	if code != 2 || !strings.Contains(errOut, `--protocol "bogus"`) {
		t.Fatalf("bad protocol: exit %d %s", code, errOut)
	}
	code, _, errOut = runTell(t, "train", "--manifest", man)
	if code != 2 || !strings.Contains(errOut, "--out") {
		t.Fatalf("missing --out: exit %d %s", code, errOut)
	}
	code, out, _ = runTell(t, "train", "--print-config")
	if code != 0 || !strings.Contains(out, `"model": "cnn"`) || !strings.Contains(out, `"streams"`) {
		t.Fatalf("print-config: exit %d %s", code, out)
	}
	code, out, _ = runTell(t, "train", "--print-config", "--config", cfgPath, "--epochs", "7")
	if code != 0 || !strings.Contains(out, `"focal_gamma": 2`) || !strings.Contains(out, `"epochs": 7`) {
		t.Fatalf("print-config merclip: exit %d %s", code, out)
	}
	// The default family through the command line, then a cross-dataset
	// eval: a model trained on one manifest scores another's rows.
	run2 := filepath.Join(dir, "run2")
	code, out, errOut = runTell(t, "train", "--manifest", man, "--protocol", "holdout", "--epochs", "2", "--cache", cache, "--out", run2, "--bootstrap", "0")
	if code != 0 || !strings.Contains(out, "model=") {
		t.Fatalf("train cnn: exit %d\n%s\n%s", code, out, errOut)
	}
	other, err := train.WriteSynth(filepath.Join(dir, "other"), train.SynthOptions{Seed: 3, Subjects: train.SynthSubjects(2, 2), Datasets: []string{"smic", "smic"}})
	if err != nil {
		t.Fatal(err)
	}
	code, out, errOut = runTell(t, "eval", "--model", filepath.Join(run2, "model.safetensors"), "--manifest", other, "--out", filepath.Join(dir, "eval2"))
	if code != 0 || !strings.Contains(out, "n=12") || !strings.Contains(out, "dataset=smic n=12") {
		t.Fatalf("cross-dataset eval: exit %d\n%s\n%s", code, out, errOut)
	}
}

// TestTrainPreconditions: a manifest that cannot meet the protocol is
// refused before any row is prepared, naming the manifest, and the run
// folder is not created.
func TestTrainPreconditions(t *testing.T) {
	dir := t.TempDir()
	write := func(name, rows string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte("sample,subject,label,flow\n"+rows), 0o644)
		return p
	}
	one := write("one.csv", "a,s1,happiness,a.png\nb,s1,surprise,b.png\n")
	three := write("three.csv", "a,s1,happiness,a.png\nb,s2,surprise,b.png\nc,s3,happiness,c.png\n")
	same := write("same.csv", "a,s1,happiness,a.png\nb,s2,happiness,b.png\n")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--manifest", one, "--protocol", "loso"}, "need at least 2 subjects, have 1"},
		{[]string{"--manifest", one, "--protocol", "holdout"}, "need at least 2 subjects, have 1"},
		{[]string{"--manifest", three, "--protocol", "kfold", "--folds", "5"}, "5 folds but only 3 subjects"},
		{[]string{"--manifest", same, "--protocol", "loso"}, "at least 2 labels, the manifest has 1 label"},
	} {
		out := filepath.Join(dir, "run")
		code, _, errOut := runTell(t, append([]string{"train", "--out", out, "--quiet"}, c.args...)...)
		if code != 1 || !strings.Contains(errOut, c.want) || !strings.Contains(errOut, ".csv") {
			t.Errorf("train %v: exit %d, %q; want exit 1 naming the manifest and %q", c.args, code, errOut, c.want)
		}
		if _, err := os.Stat(out); !os.IsNotExist(err) {
			t.Errorf("train %v created %s", c.args, out)
		}
	}
	// Preconditions met but no row can be prepared (the flow files are
	// missing): the run fails and removes what it created.
	missing := write("missing.csv", "a,s1,happiness,a.png\nb,s2,surprise,b.png\nc,s1,surprise,c.png\nd,s2,happiness,d.png\n")
	out := filepath.Join(dir, "run2")
	code, _, errOut := runTell(t, "train", "--manifest", missing, "--protocol", "loso", "--out", out, "--quiet", "--epochs", "1")
	if code != 1 {
		t.Fatalf("missing flows: exit %d %s", code, errOut)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		ents, _ := os.ReadDir(out)
		t.Errorf("a failed run left %s behind (%v)", out, ents)
	}
}
