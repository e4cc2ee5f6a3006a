package analyze

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/tell-project/tell/cnn"
	"github.com/tell-project/tell/cot"
	"github.com/tell-project/tell/dataset"
	"github.com/tell-project/tell/face"
	"github.com/tell-project/tell/face/facetest"
	"github.com/tell-project/tell/merclip"
	"github.com/tell-project/tell/model"
	"github.com/tell-project/tell/raster"
	"github.com/tell-project/tell/synth"
	"github.com/tell-project/tell/train"
)

// TestModelReasoner runs an (untrained) MER-CLIP model file through the
// seam: probabilities over its classes, its label in the conclusion, a CoT.
func TestModelReasoner(t *testing.T) {
	classes := []string{"negative", "positive", "surprise"}
	fs := model.Families{merclip.Family{}}
	cfg := model.DefaultConfig(fs)
	info := model.Info{Kind: model.KindFlow, Layout: cfg.Input.Layout(model.KindFlow), Classes: classes}
	m, err := merclip.NewModel(merclip.DefaultConfig(), 1, info, merclip.NewVocab(merclip.TextCorpus()))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "model.safetensors")
	file := &model.Classifier{Info: info, Config: cfg, Members: []model.Net{m}}
	if err := file.Save(path); err != nil {
		t.Fatal(err)
	}
	r, err := NewModelReasoner(path, fs, "", face.FindAuto)
	if err != nil {
		t.Fatal(err)
	}
	on, ap := image.NewGray(image.Rect(0, 0, 96, 96)), image.NewGray(image.Rect(0, 0, 96, 96))
	for i := range on.Pix {
		on.Pix[i] = uint8(i * 7 % 251)
		ap.Pix[i] = uint8((i + 3) * 7 % 251)
	}
	ev := []cot.Evidence{{AU: 6, Intensity: 0.6}, {AU: 12, Intensity: 0.7}}
	cl, probs, err := r.FlowScores(context.Background(), FlowInput{Onset: raster.FromImage(on), Apex: raster.FromImage(ap)})
	if err != nil || len(cl) != 3 {
		t.Fatal(cl, err)
	}
	c, err := r.Reason(context.Background(), ev, []image.Image{on, ap})
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, k := range classes {
		sum += probs[k]
	}
	if math.Abs(sum-1) > 0.01 {
		t.Errorf("probabilities sum to %v: %v", sum, probs)
	}
	if _, ok := probs[c.Conclusion.Label]; !ok || c.Text == "" || !c.Verification.ReadBack {
		t.Errorf("label %q (p %v), text %q", c.Conclusion.Label, probs[c.Conclusion.Label], c.Text)
	}
	if _, err := r.Reason(context.Background(), ev, nil); err == nil {
		t.Error("no images: want an error")
	}
}

// captureScorer is a trained model's FlowScorer that records the input
// tensor analyze builds for each event (and answers uniformly).
type captureScorer struct {
	*ModelReasoner
	got [][]float32
}

func (c *captureScorer) FlowScores(ctx context.Context, in FlowInput) ([]string, map[string]float64, error) {
	x, err := c.Input(ctx, in)
	if err != nil {
		return nil, nil, err
	}
	c.got = append(c.got, x)
	p := map[string]float64{}
	for _, k := range c.Model.Classes {
		p[k] = 1 / float64(len(c.Model.Classes))
	}
	return c.Model.Classes, p, nil
}

func (c *captureScorer) Reason(ctx context.Context, ev []cot.Evidence, images []image.Image) (cot.CoT, error) {
	return BuiltinReasoner{}.Reason(ctx, ev, images)
}

// TestModelInputIsPrepare: tell analyze --model gives a trained model
// (default cnn config: aligned 28×28 flow) exactly the tensor that tell
// prepare makes of a frames row with the same onset and apex frames.
func TestModelInputIsPrepare(t *testing.T) {
	facetest.ModelPath(t)
	clips, err := synth.Plan(testFace(t), synth.Config{Seed: 31, FPS: 30, Kind: "micro", Width: 320, Height: 240, Model: synth.Muscle}, 1)
	if err != nil {
		t.Fatal(err)
	}
	c := clips[0]
	dir := t.TempDir()
	frames := filepath.Join(dir, "frames")
	if err := os.Mkdir(frames, 0o755); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < c.Frames; i++ {
		var buf bytes.Buffer
		if err := png.Encode(&buf, c.Frame(i, nil)); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(frames, fmt.Sprintf("%04d.png", i+1)), buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	e := c.Events[0]
	iv := Interval{Onset: e.Onset + 1, Apex: e.Apex + 1, Offset: e.Offset + 1}
	fs := model.Families{cnn.Family{}}
	cfg := model.DefaultConfig(fs)
	if !cfg.Input.Align {
		t.Fatal("the default config no longer aligns: the test would not cover alignment")
	}
	info := model.Info{Kind: model.KindFlow, Layout: cfg.Input.Layout(model.KindFlow), Classes: []string{"negative", "positive", "surprise"}}
	cs := &captureScorer{ModelReasoner: &ModelReasoner{Model: &model.Classifier{Info: info, Config: cfg}}}
	lm, err := NewFaceLandmarker("")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Run(context.Background(), frames, Options{Out: t.TempDir(), Landmarker: lm, FPS: c.FPS, Interval: &iv, Reasoner: cs, Name: "capture"}); err != nil {
		t.Fatal(err)
	}
	if len(cs.got) != 1 {
		t.Fatalf("%d model inputs for the known interval, want 1", len(cs.got))
	}
	row := dataset.Sample{ID: "clip", Subject: "s", Label: "positive", Frames: frames,
		Onset: fmt.Sprintf("%04d.png", iv.Onset), Apex: fmt.Sprintf("%04d.png", iv.Apex), Offset: fmt.Sprintf("%04d.png", iv.Offset)}
	d, err := train.Prepare(context.Background(), []dataset.Sample{row}, model.KindFlow, train.PrepareOptions{Size: cfg.Input.Size, Align: true, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.X) != 1 || d.Aligned != 1 {
		t.Fatalf("prepare: %d rows, %d aligned, errors %v", len(d.X), d.Aligned, d.Errors)
	}
	want, got := d.X[0], cs.got[0]
	if len(want) != len(got) {
		t.Fatalf("analyze's input has %d values, prepare's %d", len(got), len(want))
	}
	for i := range want {
		if math.Float32bits(want[i]) != math.Float32bits(got[i]) {
			t.Fatalf("value %d: analyze %v, prepare %v (the two paths differ)", i, got[i], want[i])
		}
	}
}
