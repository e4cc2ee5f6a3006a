package merclip

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// testConfig is a small, fast config for the end-to-end tests.
func testConfig() Config {
	c := DefaultConfig()
	c.Visual = EncoderConfig{Patch: 7, Dim: 32, Layers: 1, Heads: 4, MLP: 2}
	c.Text = TextConfig{Dim: 32, Layers: 1, Heads: 4, MaxLen: 40}
	c.EIM = EIMConfig{Enabled: true, Dim: 32, Layers: 2, Heads: 4, Dropout: 0.1}
	c.EmbedDim = 32
	c.Train.Epochs = 12
	c.Train.Batch = 16
	c.Train.Warmup = 1
	c.Train.LR = 2e-3
	return c
}

func synthSet(t *testing.T, shuffle bool) string {
	t.Helper()
	dir := t.TempDir()
	path, err := WriteSynth(dir, SynthOptions{Seed: 5, Subjects: SynthSubjects(10, 4), ShuffleLabels: shuffle})
	if err != nil {
		t.Fatal(err)
	}
	return path
}

// TestLOSOLearnsAndDoesNotLeak: on synthetic flows with class-specific
// motion the pipeline reaches UF1 ≥ 0.9 under LOSO, while the same data with
// shuffled labels stays near chance (1/3 for three classes).
func TestLOSOLearnsAndDoesNotLeak(t *testing.T) {
	if testing.Short() {
		t.Skip("trains 2×10 folds")
	}
	for _, tc := range []struct {
		shuffle bool
	}{{false}, {true}} {
		man := synthSet(t, tc.shuffle)
		out := t.TempDir()
		res, err := Run(context.Background(), RunOptions{Manifest: man, Protocol: ProtocolLOSO, Out: out, Config: testConfig(), NoFinal: true, Bootstrap: 200})
		if err != nil {
			t.Fatal(err)
		}
		r := res.Report
		t.Logf("shuffled=%v: UF1 %.3f UAR %.3f acc %.3f CI %+v", tc.shuffle, r.UF1, r.UAR, r.Accuracy, r.UF1CI)
		if r.N != 120 || len(r.Folds) != 10 {
			t.Fatalf("n=%d folds=%d, want 120 and 10", r.N, len(r.Folds))
		}
		if !tc.shuffle && r.UF1 < 0.9 {
			t.Errorf("UF1 %.3f < 0.9 on learnable data", r.UF1)
		}
		if tc.shuffle && r.UF1 > 0.55 {
			t.Errorf("UF1 %.3f on shuffled labels: the pipeline leaks", r.UF1)
		}
	}
}

// TestRunDeterministicAndResumes: the same seed gives the same metrics
// (apart from the wall-clock "seconds"); deleting some fold results and
// running again retrains just those and gives the same metrics again.
func TestRunDeterministicAndResumes(t *testing.T) {
	dir := t.TempDir()
	man, err := WriteSynth(dir, SynthOptions{Seed: 9, Subjects: SynthSubjects(4, 2)})
	if err != nil {
		t.Fatal(err)
	}
	cfg := testConfig()
	cfg.Train.Epochs = 2
	run := func(out string) []byte {
		t.Helper()
		if _, err := Run(context.Background(), RunOptions{Manifest: man, Protocol: ProtocolLOSO, Out: out, Config: cfg, Bootstrap: 50}); err != nil {
			t.Fatal(err)
		}
		return metricsWithoutSeconds(t, filepath.Join(out, "metrics.json"))
	}
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	ma, mb := run(a), run(b)
	if !bytes.Equal(ma, mb) {
		t.Fatalf("same seed, different metrics:\n%s\n%s", ma, mb)
	}
	wa, _ := os.ReadFile(filepath.Join(a, "model.safetensors"))
	wb, _ := os.ReadFile(filepath.Join(b, "model.safetensors"))
	if len(wa) == 0 || !bytes.Equal(wa, wb) {
		t.Fatal("same seed, different final model")
	}
	// Resume: drop two folds; the rerun retrains only those.
	os.Remove(foldPath(a, 1))
	os.Remove(foldPath(a, 3))
	res, err := Run(context.Background(), RunOptions{Manifest: man, Protocol: ProtocolLOSO, Out: a, Config: cfg, Bootstrap: 50})
	if err != nil {
		t.Fatal(err)
	}
	if res.Resumed != 2 {
		t.Errorf("resumed %d folds, want 2", res.Resumed)
	}
	if got := metricsWithoutSeconds(t, filepath.Join(a, "metrics.json")); !bytes.Equal(got, ma) {
		t.Fatalf("resumed run differs:\n%s\n%s", got, ma)
	}
	// A different seed trains different models.
	cfg.Seed = 2
	res, err = Run(context.Background(), RunOptions{Manifest: man, Protocol: ProtocolLOSO, Out: a, Config: cfg, Bootstrap: 50})
	if err != nil {
		t.Fatal(err)
	}
	if res.Resumed != 0 {
		t.Errorf("a new seed resumed %d folds of the old one", res.Resumed)
	}
}

func metricsWithoutSeconds(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	delete(m, "seconds")
	out, _ := json.Marshal(m)
	return out
}

// TestRunSurvivesBadRows: malformed rows, an unreadable image and a fold
// whose training side has one class are reported and the run goes on.
func TestRunSurvivesBadRows(t *testing.T) {
	dir := t.TempDir()
	man, err := WriteSynth(dir, SynthOptions{Seed: 3, Subjects: SynthSubjects(3, 2)})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "flow", "broken.png"), []byte("not a png"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(man, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("bad1,s02,,synth,flow/s02_0_00.png,4\n")             // empty label
	f.WriteString("bad2,s02,negative,synth,flow/broken.png,4\n")       // unreadable image
	f.WriteString("bad3,s03,positive,synth,flow/missing.png,12\n")     // missing file
	f.WriteString("bad4,s03,positive\n")                               // too few fields
	f.WriteString("odd,s09,surprise,synth,flow/s03_2_00.png,1+2+zz\n") // bad AU string: row kept, no text
	f.WriteString("lonely,s10,surprise,synth,flow/s03_2_01.png,1+2\n") // subject with one class
	f.Close()
	out := t.TempDir()
	cfg := testConfig()
	cfg.Train.Epochs = 1
	res, err := Run(context.Background(), RunOptions{Manifest: man, Protocol: ProtocolLOSO, Out: out, Config: cfg, NoFinal: true, Bootstrap: -1})
	if err != nil {
		t.Fatal(err)
	}
	var msgs []string
	for _, e := range res.RowErrors {
		msgs = append(msgs, e.Error())
	}
	all := strings.Join(msgs, "\n")
	for _, want := range []string{"bad1", "bad2", "broken.png", "bad3", "missing.png", "line 22"} {
		if !strings.Contains(all, want) {
			t.Errorf("row errors do not mention %q:\n%s", want, all)
		}
	}
	if len(res.RowErrors) != 4 {
		t.Errorf("%d row errors, want 4:\n%s", len(res.RowErrors), all)
	}
	if res.Report.N != 18+2 {
		t.Errorf("scored %d samples, want 20", res.Report.N)
	}
	if b, err := os.ReadFile(filepath.Join(out, "errors.txt")); err != nil || !strings.Contains(string(b), "broken.png") {
		t.Errorf("errors.txt: %v %q", err, b)
	}
}

// TestRunOneClassTraining: a fold whose training side holds one class trains,
// logs a warning, and the run still produces metrics.
func TestRunOneClassTraining(t *testing.T) {
	dir := t.TempDir()
	// Subject 1 has only negatives, subject 2 only positives: each LOSO
	// fold trains on a single class.
	man, err := WriteSynth(dir, SynthOptions{Seed: 1, Subjects: [][]int{{3, 0, 0}, {0, 3, 0}}})
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	cfg := testConfig()
	cfg.Train.Epochs = 1
	res, err := Run(context.Background(), RunOptions{Manifest: man, Protocol: ProtocolLOSO, Out: out, Config: cfg, NoFinal: true, Bootstrap: -1})
	if err != nil {
		t.Fatal(err)
	}
	if res.Report.N != 6 || res.Report.Accuracy != 0 {
		t.Errorf("n=%d acc=%v, want 6 and 0", res.Report.N, res.Report.Accuracy)
	}
	log, _ := os.ReadFile(filepath.Join(out, "folds", "fold-000.log"))
	if !strings.Contains(string(log), "single class") {
		t.Errorf("fold log lacks the one-class warning:\n%s", log)
	}
}
