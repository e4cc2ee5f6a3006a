package analyze

import (
	"context"
	"image"
	"math"
	"path/filepath"
	"testing"

	"github.com/tell-project/tell/cot"
	"github.com/tell-project/tell/merclip"
	"github.com/tell-project/tell/model"
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
	r, err := NewModelReasoner(path, fs)
	if err != nil {
		t.Fatal(err)
	}
	on, ap := image.NewGray(image.Rect(0, 0, 96, 96)), image.NewGray(image.Rect(0, 0, 96, 96))
	for i := range on.Pix {
		on.Pix[i] = uint8(i * 7 % 251)
		ap.Pix[i] = uint8((i + 3) * 7 % 251)
	}
	ev := []cot.Evidence{{AU: 6, Intensity: 0.6}, {AU: 12, Intensity: 0.7}}
	cl, probs, err := r.FlowScores(context.Background(), []image.Image{on, ap})
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
