package merclip

import (
	"bytes"
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/tell-project/tell/model"
	"github.com/tell-project/tell/nn"
	"github.com/tell-project/tell/train"
)

// families is the family list of these tests.
var families = model.Families{Family{}}

// classifier wraps one model as a model file's content.
func classifier(m *Model) *model.Classifier {
	cfg := train.DefaultConfig(families)
	cfg.Spec, cfg.Input.Size, cfg.Seed = m.Cfg, m.Layout.W, m.Seed
	return &model.Classifier{Info: m.Info, Config: cfg.Config, Trained: cfg.JSON(), Members: []model.Net{m}, Fingerprint: "abc"}
}

// TestSaveLoadRoundTrip: a saved model loads with identical predictions,
// classes, config and vocabulary; a damaged or foreign file is an error
// naming what is wrong.
func TestSaveLoadRoundTrip(t *testing.T) {
	cfg := tinyConfig()
	m, err := NewModel(cfg, 3, flowInfo(8, "neg", "pos"), NewVocab(TextCorpus()))
	if err != nil {
		t.Fatal(err)
	}
	m.Mean[1], m.Std[2] = 0.25, 3
	x := make([]float32, m.Layout.Len())
	for i := range x {
		x[i] = float32(i%7) - 3
	}
	want := m.Predict([][]float32{x})[0]
	path := filepath.Join(t.TempDir(), "model.safetensors")
	c := classifier(m)
	if err := c.Save(path); err != nil {
		t.Fatal(err)
	}
	c2, err := model.Load(path, families)
	if err != nil {
		t.Fatal(err)
	}
	m2 := c2.Members[0].(*Model)
	got := m2.Predict([][]float32{x})[0]
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("scores %v after load, want %v", got, want)
		}
	}
	if c2.Fingerprint != "abc" || c2.Classes[1] != "pos" || !bytes.Equal(c2.Trained, c.Trained) || c2.Config.Input != c.Config.Input || !reflect.DeepEqual(c2.Config.Spec, c.Config.Spec) || m2.Vocab.Size() != m.Vocab.Size() || m2.Seed != 3 {
		t.Fatal("metadata lost in round trip")
	}
	// From bytes (an embedded model): the same model, no file needed.
	b, _ := os.ReadFile(path)
	c3, err := model.Decode(b, families)
	if err != nil {
		t.Fatal(err)
	}
	if got := c3.Members[0].Scores([][]float32{x})[0]; !slices.Equal(got, want) {
		t.Fatalf("scores %v from bytes, want %v", got, want)
	}
	if _, err := model.Decode(b[:len(b)/2], families); err == nil {
		t.Error("truncated bytes decoded")
	}
	// A tensor with the wrong shape is named.
	tensors, meta, err := nn.DecodeSafetensors(b)
	if err != nil {
		t.Fatal(err)
	}
	tensors["m0.eim.head1.weight"] = nn.NewTensor(3, 3)
	bad, _ := nn.EncodeSafetensors(tensors, stripCRC(meta))
	os.WriteFile(path, bad, 0o644)
	if _, err := model.Load(path, families); err == nil || !strings.Contains(err.Error(), "eim.head1.weight") {
		t.Errorf("wrong shape: %v", err)
	}
	delete(tensors, "m0.eim.head1.weight")
	bad, _ = nn.EncodeSafetensors(tensors, stripCRC(meta))
	os.WriteFile(path, bad, 0o644)
	if _, err := model.Load(path, families); err == nil || !strings.Contains(err.Error(), `"eim.head1.weight" missing`) {
		t.Errorf("missing tensor: %v", err)
	}
	os.WriteFile(path, []byte("short"), 0o644)
	if _, err := model.Load(path, families); err == nil || !strings.Contains(err.Error(), path) {
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
	m, err := NewModel(c, 1, flowInfo(28, "a", "b"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if m.eimIn != nil || m.text != nil || m.head == nil || m.nce != nil {
		t.Fatal("ablated parts still built")
	}
	for _, tc := range []struct{ json, field string }{
		{`{"visual":{"dim":30}}`, "visual.heads"},
		{`{"mix":{"p":1.5}}`, "mix.p"},
		{`{"loss":{"temperature":0}}`, "loss.temperature"},
		{`{"train":{"epochs":0}}`, "train.epochs"},
		{`{"input":{"size":28}}`, "input"},
		{`{"trian":{}}`, "trian"},
	} {
		if _, err := ParseConfig([]byte(tc.json)); err == nil || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%s: error %v, want one naming %s", tc.json, err, tc.field)
		}
	}
	c5, err := ParseConfig([]byte(`{"visual":{"patch":5}}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewModel(c5, 1, flowInfo(28, "a", "b"), nil); err == nil || !strings.Contains(err.Error(), "visual.patch") {
		t.Errorf("patch 5 on 28×28: %v, want an error naming visual.patch", err)
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
	man, err := train.WriteSynth(dir, train.SynthOptions{Seed: 11, Subjects: train.SynthSubjects(6, 4)})
	if err != nil {
		t.Fatal(err)
	}
	// Reuse the synthetic PNGs as face images: an image-only manifest.
	b, _ := os.ReadFile(man)
	img := strings.Replace(string(b), "sample,subject,label,dataset,flow,aus", "sample,subject,label,dataset,image,aus", 1)
	img += "alien,s01,anger,synth,flow/s01_0_00.png,4\n"
	imgMan := filepath.Join(dir, "images.csv")
	os.WriteFile(imgMan, []byte(img), 0o644)
	cfg := train.DefaultConfig(families)
	cfg.Spec = cfg.Spec.WithEpochs(10)
	run := filepath.Join(dir, "run")
	res, err := train.Run(context.Background(), train.RunOptions{Manifest: man, Protocol: train.ProtocolHoldout, Out: run, Config: cfg, Families: families, Bootstrap: -1})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Report.Folds) != 1 {
		t.Fatalf("holdout gave %d folds", len(res.Report.Folds))
	}
	ev, err := train.Evaluate(context.Background(), train.EvalOptions{Model: filepath.Join(run, "model.safetensors"), Families: families, Manifest: man, Out: filepath.Join(dir, "eval"), Bootstrap: 50})
	if err != nil {
		t.Fatal(err)
	}
	if ev.Report.N != 72 || ev.Report.Accuracy < 0.6 {
		t.Errorf("eval on the training rows: n=%d accuracy %.3f", ev.Report.N, ev.Report.Accuracy)
	}
	f, _ := os.Open(filepath.Join(dir, "eval", "predictions.csv"))
	rows, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil || len(rows) != 73 || rows[0][3] != "score_negative" {
		t.Fatalf("predictions.csv: %v %d rows %v", err, len(rows), rows[0])
	}
	// Image-only manifest: an appearance model; the unknown class is a
	// class of its own in training, so evaluate with the flow model instead
	// to see the unknown-label report.
	cfg.Spec = cfg.Spec.WithEpochs(2)
	ires, err := train.Run(context.Background(), train.RunOptions{Manifest: imgMan, Protocol: train.ProtocolKFold, Folds: 3, Out: filepath.Join(dir, "img"), Config: cfg, Families: families, Bootstrap: -1, NoFinal: true})
	if err != nil {
		t.Fatal(err)
	}
	if ires.Report.N != 73 || len(ires.Report.Classes) != 4 {
		t.Errorf("image run: n=%d classes=%v", ires.Report.N, ires.Report.Classes)
	}
	if _, err := train.Evaluate(context.Background(), train.EvalOptions{Model: filepath.Join(run, "model.safetensors"), Families: families, Manifest: imgMan, Out: filepath.Join(dir, "eval2")}); err == nil || !strings.Contains(err.Error(), "image inputs") {
		t.Errorf("flow model on an image manifest: %v", err)
	}
}

// FuzzParseConfig: no input panics the config reader, and an accepted
// config builds a model.
func FuzzParseConfig(f *testing.F) {
	f.Add([]byte(`{"eim":{"enabled":false}}`))
	f.Add([]byte(`{"visual":{"patch":7,"dim":16,"heads":2}}`))
	f.Add([]byte(`{"visual":{"patch":1}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseConfig(b)
		if err != nil {
			return
		}
		if c.Visual.Patch > 16 || c.Visual.Dim > 64 || c.Text.Dim > 64 || c.EIM.Dim > 64 || c.EmbedDim > 64 ||
			c.Visual.Layers > 4 || c.Text.Layers > 4 || c.EIM.Layers > 4 || c.Text.MaxLen > 256 || c.Visual.MLP > 8 {
			return // valid but too big to build quickly
		}
		if _, err := NewModel(c, 1, flowInfo(2*c.Visual.Patch, "a", "b"), NewVocab(TextCorpus())); err != nil {
			t.Fatalf("valid config %s does not build: %v", b, err)
		}
	})
}

// TestLOSOLearnsAndDoesNotLeak: on synthetic flows with class-specific
// motion the MER-CLIP family reaches UF1 ≥ 0.9 under LOSO, while the same
// data with shuffled labels stays near chance (1/3 for three classes).
func TestLOSOLearnsAndDoesNotLeak(t *testing.T) {
	if testing.Short() {
		t.Skip("trains 2×10 folds")
	}
	for _, shuffle := range []bool{false, true} {
		man, err := train.WriteSynth(t.TempDir(), train.SynthOptions{Seed: 5, Subjects: train.SynthSubjects(10, 6), ShuffleLabels: shuffle})
		if err != nil {
			t.Fatal(err)
		}
		res, err := train.Run(context.Background(), train.RunOptions{Manifest: man, Protocol: train.ProtocolLOSO, Out: t.TempDir(),
			Config: train.DefaultConfig(families), Families: families, NoFinal: true, Bootstrap: 200})
		if err != nil {
			t.Fatal(err)
		}
		r := res.Report
		t.Logf("shuffled=%v: UF1 %.3f UAR %.3f acc %.3f CI %+v", shuffle, r.UF1, r.UAR, r.Accuracy, r.UF1CI)
		if r.N != 180 || len(r.Folds) != 10 {
			t.Fatalf("n=%d folds=%d, want 180 and 10", r.N, len(r.Folds))
		}
		if !shuffle && r.UF1 < 0.9 {
			t.Errorf("UF1 %.3f < 0.9 on learnable data", r.UF1)
		}
		if shuffle && r.UF1 > 0.55 {
			t.Errorf("UF1 %.3f on shuffled labels: the pipeline leaks", r.UF1)
		}
	}
}
