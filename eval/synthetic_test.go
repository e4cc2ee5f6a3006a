package eval

import (
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/tell-project/tell/analyze"
	"github.com/tell-project/tell/portrait"
	"github.com/tell-project/tell/raster"
	"github.com/tell-project/tell/synth"
)

// truthLandmarker stands in for face detection: the clip's true landmarks
// of frame 0 (the tracker still measures every frame from pixels).
type truthLandmarker struct{ c *synth.Clip }

func (l truthLandmarker) Landmarks(*raster.Gray) ([68][2]float32, bool, error) {
	return l.c.Landmarks(0), true, nil
}

// TestScoreSynthetic scores two Muscle micro-expressions (a generator
// built apart from the estimator): every expression is counted once, the
// rows agree with the pooled counts, the interval is seeded and the
// printed lines end with au_event_f1.
func TestScoreSynthetic(t *testing.T) {
	if testing.Short() {
		t.Skip("renders and analyses two clips")
	}
	img, err := portrait.Astronaut()
	if err != nil {
		t.Fatal(err)
	}
	clips, err := synth.Plan(synth.NewFace(img, synth.AstronautLandmarks()), synth.Config{Model: synth.Muscle, Seed: 5, Kind: "micro", FPS: 30}, 2)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ScoreSynthetic(t.Context(), clips, analyze.Options{Out: t.TempDir(), Landmarker: truthLandmarker{clips[0]}})
	if err != nil {
		t.Fatal(err)
	}
	if s.Expressions != 2 || len(s.Rows) != 2 || s.Matched < 1 || s.Spotting.TP+s.Spotting.FN != 2 {
		t.Fatalf("score %+v", s)
	}
	for _, r := range s.Rows {
		if len(r.Truth) == 0 || len(r.ApexTruth) == 0 || (!r.Matched && len(r.Event) > 0) {
			t.Errorf("row %+v", r)
		}
	}
	a, b := s.MeanF1CI(false, 200, 7), s.MeanF1CI(false, 200, 7)
	if a != b || a[0] > a[1] || a[0] < 0 || a[1] > 1 {
		t.Errorf("interval %v then %v", a, b)
	}
	var out strings.Builder
	s.Print(&out, true, 7)
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if !strings.HasPrefix(lines[0], "expression ") || !strings.HasPrefix(lines[len(lines)-1], "au_event_f1=") {
		t.Errorf("printed:\n%s", out.String())
	}
}

// TestReadPresence reads frames.csv's AUxx_c columns, OpenFace's ", "
// separators included.
func TestReadPresence(t *testing.T) {
	path := filepath.Join(t.TempDir(), "frames.csv")
	os.WriteFile(path, []byte("frame, AU01_r, AU01_c, AU12_c\n1, 0.5, 0, 1\n2, 2.0, 1, 1\n3, 0, 0, 0\n"), 0o644)
	got, err := readPresence(path)
	if err != nil {
		t.Fatal(err)
	}
	want := map[int][]int{1: {12}, 2: {1, 12}}
	for fr, aus := range want {
		if !reflect.DeepEqual(slices.Sorted(slices.Values(got[fr])), aus) {
			t.Errorf("frame %d: %v, want %v", fr, got[fr], aus)
		}
	}
	if len(got[3]) != 0 {
		t.Errorf("frame 3: %v", got[3])
	}
	os.WriteFile(path, []byte("a,b\n1,2\n"), 0o644)
	if _, err := readPresence(path); err == nil || !strings.Contains(err.Error(), "no frame") {
		t.Errorf("no AU columns: %v", err)
	}
}

// TestSynthEmotions: the AU expert's and the knowledge's readings scored
// per kind by hand; class VII (others) is left out, a missed expression is
// wrong.
func TestSynthEmotions(t *testing.T) {
	s := &SynthScore{Rows: []SynthRow{
		{Kind: "micro", Emotion: truthEmotion("class I"), AULabel: "happiness", AUConf: 0.9, Knowledge: "happiness"},
		{Kind: "micro", Emotion: truthEmotion("class III"), AULabel: "disgust", AUConf: 0.6, Knowledge: "anger"},
		{Kind: "micro", Emotion: truthEmotion("class IV"), AULabel: "", Knowledge: "disgust"},
		{Kind: "micro", Emotion: truthEmotion("class II"), AULabel: "surprise", AUConf: 0.8, Knowledge: "surprise"},
		{Kind: "micro", Emotion: truthEmotion("class VII"), AULabel: "anger", Knowledge: "contempt"},
		{Kind: "macro", Emotion: truthEmotion("sadness"), AULabel: "sadness", Knowledge: "sadness"},
	}}
	e := s.Emotions("micro", false, 100, 1)
	// 4 rows: right happiness, surprise; F1 happiness 1, surprise 1,
	// anger 0, disgust 0 → UF1 0.5. Three classes: positive, negative,
	// negative, surprise against positive, negative, missed, surprise:
	// accuracy 3/4; F1 positive 1, negative 2/3, surprise 1.
	if e.N != 4 || e.Accuracy != 0.5 || e.UF1 != 0.5 || e.ThreeAccuracy != 0.75 || math.Abs(e.ThreeUF1-8.0/9) > 1e-12 {
		t.Errorf("micro, measured: %+v", e)
	}
	// ECE over the 3 answered rows, each in its own bin: (0.1 + 0.6 + 0.2)/3.
	if math.Abs(e.ECE-0.3) > 1e-12 {
		t.Errorf("micro, measured: ECE %v, want 0.3", e.ECE)
	}
	if e.AccuracyCI[0] > e.Accuracy || e.AccuracyCI[1] < e.Accuracy {
		t.Errorf("interval %v around %v", e.AccuracyCI, e.Accuracy)
	}
	if k := s.Emotions("micro", true, 100, 1); k.Accuracy != 1 {
		t.Errorf("micro, knowledge: %+v", k)
	}
	if m := s.Emotions("macro", false, 100, 1); m.N != 1 || m.Accuracy != 1 {
		t.Errorf("macro: %+v", m)
	}
	if got, p, err := knowledgeLabel([]synth.ActiveAU{{AU: 6}, {AU: 12}}); err != nil || got != "happiness" || p <= 0.5 || p > 1 {
		t.Errorf("6+12: %s %v %v", got, p, err)
	}
}

// TestScorePairs: accuracy and UF1 over the true classes, an answer
// outside them (missed) counting against recall only; the bootstrap
// intervals hold the point values.
func TestScorePairs(t *testing.T) {
	ps := []labelPair{{"a", "a"}, {"a", "b"}, {"b", "b"}, {"b", "missed"}}
	acc, uf1 := scorePairs(ps)
	if acc != 0.5 || math.Abs(uf1-(2.0/3+0.5)/2) > 1e-12 {
		t.Errorf("acc %v uf1 %v, want 0.5 and %v", acc, uf1, (2.0/3+0.5)/2)
	}
	a, u := bootPairs(ps, 500, 1)
	if !(a[0] <= acc && acc <= a[1]) || !(u[0] <= uf1 && uf1 <= u[1]) || a[1] > 1 || u[0] < 0 {
		t.Errorf("intervals acc %v uf1 %v", a, u)
	}
}
