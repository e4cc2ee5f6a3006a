package merclip

import (
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tell-project/tell/nn"
)

// TestSaveLoadRoundTrip: a saved model loads with identical predictions,
// classes, config and vocabulary; a damaged or foreign file is an error
// naming what is wrong.
func TestSaveLoadRoundTrip(t *testing.T) {
	cfg := tinyConfig()
	m, err := NewModel(cfg, KindFlow, []string{"neg", "pos"}, NewVocab(TextCorpus()))
	if err != nil {
		t.Fatal(err)
	}
	m.Mean[1], m.Std[2] = 0.25, 3
	m.Fingerprint = "abc"
	x := make([]float32, m.Layout.Len())
	for i := range x {
		x[i] = float32(i%7) - 3
	}
	want := m.Predict([][]float32{x})[0]
	path := filepath.Join(t.TempDir(), "model.safetensors")
	if err := m.Save(path); err != nil {
		t.Fatal(err)
	}
	m2, err := LoadModel(path)
	if err != nil {
		t.Fatal(err)
	}
	got := m2.Predict([][]float32{x})[0]
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("scores %v after load, want %v", got, want)
		}
	}
	if m2.Fingerprint != "abc" || m2.Classes[1] != "pos" || m2.Cfg.Hash() != cfg.Hash() || m2.Vocab.Size() != m.Vocab.Size() {
		t.Fatal("metadata lost in round trip")
	}
	// From bytes (an embedded model): the same model, no file needed.
	b, _ := os.ReadFile(path)
	m3, err := DecodeModel(b, "embedded")
	if err != nil {
		t.Fatal(err)
	}
	if got := m3.Predict([][]float32{x})[0]; !slices.Equal(got, want) {
		t.Fatalf("scores %v from bytes, want %v", got, want)
	}
	if _, err := DecodeModel(b[:len(b)/2], "embedded"); err == nil || !strings.Contains(err.Error(), "embedded") {
		t.Errorf("truncated bytes: %v, want an error naming them", err)
	}
	// A tensor with the wrong shape is named.
	tensors, meta, err := nn.DecodeSafetensors(b)
	if err != nil {
		t.Fatal(err)
	}
	tensors["eim.head1.weight"] = nn.NewTensor(3, 3)
	bad, _ := nn.EncodeSafetensors(tensors, stripCRC(meta))
	os.WriteFile(path, bad, 0o644)
	if _, err := LoadModel(path); err == nil || !strings.Contains(err.Error(), "eim.head1.weight") {
		t.Errorf("wrong shape: %v", err)
	}
	delete(tensors, "eim.head1.weight")
	bad, _ = nn.EncodeSafetensors(tensors, stripCRC(meta))
	os.WriteFile(path, bad, 0o644)
	if _, err := LoadModel(path); err == nil || !strings.Contains(err.Error(), `"eim.head1.weight" missing`) {
		t.Errorf("missing tensor: %v", err)
	}
	os.WriteFile(path, []byte("short"), 0o644)
	if _, err := LoadModel(path); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("garbage file: %v", err)
	}
}

func stripCRC(meta map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range meta {
		if !strings.HasPrefix(k, "nn.") {
			out[k] = v
		}
	}
	return out
}

// TestConfigJSON: unknown fields and impossible values are refused with the
// field named; fields left out keep their defaults; ablations switch parts off.
func TestConfigJSON(t *testing.T) {
	c, err := ParseConfig([]byte(`{"eim":{"enabled":false},"mix":{"enabled":false},"loss":{"contrastive":false}}`))
	if err != nil {
		t.Fatal(err)
	}
	if c.EIM.Enabled || c.Mix.Enabled || c.Loss.Contrastive || c.Visual.Patch != 4 || c.Train.Epochs != 12 {
		t.Fatalf("parsed %+v", c)
	}
	m, err := NewModel(c, KindFlow, []string{"a", "b"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if m.eimIn != nil || m.tok != nil || m.head == nil || m.nce != nil {
		t.Fatal("ablated parts still built")
	}
	for _, tc := range []struct{ json, field string }{
		{`{"visual":{"patch":5}}`, "visual.patch"},
		{`{"visual":{"dim":30}}`, "visual.heads"},
		{`{"mix":{"p":1.5}}`, "mix.p"},
		{`{"loss":{"temperature":0}}`, "loss.temperature"},
		{`{"train":{"epochs":0}}`, "train.epochs"},
		{`{"trian":{}}`, "trian"},
	} {
		if _, err := ParseConfig([]byte(tc.json)); err == nil || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%s: error %v, want one naming %s", tc.json, err, tc.field)
		}
	}
	if w, c := DefaultConfig().lossWeights(0); w != 2 || c != 0 {
		t.Errorf("weights at start %v %v, want 2 0", w, c)
	}
	if w, c := DefaultConfig().lossWeights(1); w != 1 || c != 1 {
		t.Errorf("weights at end %v %v, want 1 1", w, c)
	}
	if w, c := (Config{}).lossWeights(0.3); w != 0 || c != 1 {
		t.Errorf("no contrastive: %v %v, want 0 1", w, c)
	}
}

// TestEvaluateAndImageOnly trains an appearance-only model on an image
// manifest (holdout), then scores it with Evaluate; a label the model does
// not know is reported, not fatal.
func TestEvaluateAndImageOnly(t *testing.T) {
	dir := t.TempDir()
	man, err := WriteSynth(dir, SynthOptions{Seed: 11, Subjects: SynthSubjects(6, 4)})
	if err != nil {
		t.Fatal(err)
	}
	// Reuse the synthetic PNGs as face images: an image-only manifest.
	b, _ := os.ReadFile(man)
	img := strings.Replace(string(b), "sample,subject,label,dataset,flow,aus", "sample,subject,label,dataset,image,aus", 1)
	img += "alien,s01,anger,synth,flow/s01_0_00.png,4\n"
	imgMan := filepath.Join(dir, "images.csv")
	os.WriteFile(imgMan, []byte(img), 0o644)
	cfg := DefaultConfig()
	cfg.Train.Epochs = 10
	run := filepath.Join(dir, "run")
	res, err := Run(context.Background(), RunOptions{Manifest: man, Protocol: ProtocolHoldout, Out: run, Config: cfg, Bootstrap: -1})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Report.Folds) != 1 {
		t.Fatalf("holdout gave %d folds", len(res.Report.Folds))
	}
	ev, err := Evaluate(context.Background(), EvalOptions{Model: filepath.Join(run, "model.safetensors"), Manifest: man, Out: filepath.Join(dir, "eval"), Bootstrap: 50})
	if err != nil {
		t.Fatal(err)
	}
	if ev.Report.N != 72 || ev.Report.Accuracy < 0.6 {
		t.Errorf("eval on the training rows: n=%d accuracy %.3f", ev.Report.N, ev.Report.Accuracy)
	}
	f, _ := os.Open(filepath.Join(dir, "eval", "predictions.csv"))
	rows, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil || len(rows) != 73 || rows[0][4] != "score_negative" {
		t.Fatalf("predictions.csv: %v %d rows %v", err, len(rows), rows[0])
	}
	// Image-only manifest: an appearance model; the unknown class is a
	// class of its own in training, so evaluate with the flow model instead
	// to see the unknown-label report.
	cfg.Train.Epochs = 2
	ires, err := Run(context.Background(), RunOptions{Manifest: imgMan, Protocol: ProtocolKFold, Folds: 3, Out: filepath.Join(dir, "img"), Config: cfg, Bootstrap: -1, NoFinal: true})
	if err != nil {
		t.Fatal(err)
	}
	if ires.Report.N != 73 || len(ires.Report.Classes) != 4 {
		t.Errorf("image run: n=%d classes=%v", ires.Report.N, ires.Report.Classes)
	}
	if _, err := Evaluate(context.Background(), EvalOptions{Model: filepath.Join(run, "model.safetensors"), Manifest: imgMan, Out: filepath.Join(dir, "eval2")}); err == nil || !strings.Contains(err.Error(), "no row") {
		t.Errorf("flow model on an image manifest: %v", err)
	}
}

// FuzzParseConfig: no input panics the config reader, and an accepted
// config builds a model.
func FuzzParseConfig(f *testing.F) {
	f.Add([]byte(`{"eim":{"enabled":false}}`))
	f.Add([]byte(`{"visual":{"patch":7,"dim":16,"heads":2}}`))
	f.Add([]byte(`{"input":{"size":1},"visual":{"patch":1}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseConfig(b)
		if err != nil {
			return
		}
		if c.Input.Size > 64 || c.Visual.Dim > 64 || c.Text.Dim > 64 || c.EIM.Dim > 64 || c.EmbedDim > 64 ||
			c.Visual.Layers > 4 || c.Text.Layers > 4 || c.EIM.Layers > 4 || c.Text.MaxLen > 256 || c.Visual.MLP > 8 {
			return // valid but too big to build quickly
		}
		if _, err := NewModel(c, KindFlow, []string{"a", "b"}, NewVocab(TextCorpus())); err != nil {
			t.Fatalf("valid config %s does not build: %v", b, err)
		}
	})
}
