package eval

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/tell-project/tell/appearance"
	"github.com/tell-project/tell/dataset"
	"github.com/tell-project/tell/models"
)

// TestAppearance scores a manifest of the golden crops labelled with the
// peer's own argmax (fer.js): the zero-shot evaluation must agree with
// every one of them, and account for rows it cannot score.
func TestAppearance(t *testing.T) {
	n := loadNet(t, models.FaceAPI())
	golden := readGolden(t, filepath.Join("..", "appearance", "testdata", "golden_faceapi.txt"))
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("sample,subject,label,image\n")
	i := 0
	labels := map[string]bool{}
	for file, p := range golden {
		best := 0
		for k, v := range p {
			if v > p[best] {
				best = k
			}
		}
		abs, _ := filepath.Abs(filepath.Join("..", file))
		fmt.Fprintf(&b, "s%d,subj%d,%s,%s\n", i, i%3, appearance.Labels()[best], abs)
		labels[appearance.Labels()[best]] = true
		i++
	}
	b.WriteString("bad,subj0,contempt," + filepath.Join(dir, "m.csv") + "\n") // a label the net lacks
	manifest := filepath.Join(dir, "m.csv")
	os.WriteFile(manifest, []byte(b.String()), 0o644)
	if len(labels) < 2 {
		t.Skipf("golden crops span %d classes", len(labels))
	}
	res, err := Appearance(context.Background(), AppearanceOptions{Net: n, Manifest: manifest, Out: filepath.Join(dir, "run"), Bootstrap: 50})
	if err != nil {
		t.Fatal(err)
	}
	if res.Report.N != len(golden) || res.Report.Accuracy != 1 || len(res.RowErrors) != 1 {
		t.Fatalf("n %d accuracy %v left out %v", res.Report.N, res.Report.Accuracy, res.RowErrors)
	}
	var m map[string]any
	raw, _ := os.ReadFile(filepath.Join(dir, "run", "metrics.json"))
	if json.Unmarshal(raw, &m) != nil || m["uf1_ci"] == nil {
		t.Errorf("metrics.json: %s", raw)
	}
	// Every answer right: the ECE is the mean shortfall of the net's
	// confidence from 1, within [0, 1) and present.
	if e := res.Report.ECE; e == nil || *e < 0 || *e >= 1 {
		t.Errorf("ECE %v with accuracy 1", e)
	}
	pred, _ := os.ReadFile(filepath.Join(dir, "run", "predictions.csv"))
	if strings.Count(string(pred), "\n") != len(golden)+1 {
		t.Errorf("predictions.csv:\n%s", pred)
	}
}

func TestTaskClasses(t *testing.T) {
	three := []string{"negative", "positive", "surprise", "ne"}
	c, m, err := taskClasses(samples(three...))
	if err != nil || strings.Join(c, ",") != "negative,positive,surprise" || m["sadness"] != "negative" || m["neutral"] != "" || m["happiness"] != "positive" {
		t.Errorf("three-class: %v %v %v", c, m, err)
	}
	c, m, err = taskClasses(samples("Happy", "sad", "Angry", "surprised", "disgust", "fear", "contempt"))
	if err != nil || len(c) != 6 || m["neutral"] != "" || m["happiness"] != "happiness" {
		t.Errorf("six basic + contempt: %v %v %v", c, m, err)
	}
	if _, _, err := taskClasses(samples("a", "b")); err == nil {
		t.Error("labels the net cannot express accepted")
	}
}

func samples(labels ...string) []dataset.Sample {
	var s []dataset.Sample
	for _, l := range labels {
		s = append(s, dataset.Sample{Label: l})
	}
	return s
}

// loadNet loads a pinned appearance net, skipping when it is not installed
// (unless TELL_REQUIRE_MODELS is set).
func loadNet(t testing.TB, m models.Model) *appearance.Net {
	t.Helper()
	n, err := appearance.Load(models.Root(""), m)
	if errors.Is(err, models.ErrNotInstalled) && !models.Required() {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// readGolden reads fer.js's lines: a file and seven probabilities in the
// order angry disgust fear happy sad surprise neutral (appearance.Labels'
// order).
func readGolden(t *testing.T, file string) map[string][7]float64 {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][7]float64{}
	for _, line := range strings.Split(string(b), "\n") {
		fs := strings.Fields(line)
		if len(fs) != 8 {
			continue // the timing line
		}
		var p [7]float64
		for i := range p {
			if p[i], err = strconv.ParseFloat(fs[1+i], 64); err != nil {
				t.Fatal(err)
			}
		}
		out[fs[0]] = p
	}
	return out
}

// TestAppearanceNeutralIsAnAnswer: on a task without neutral, a face the
// net reads as neutral is predicted neutral and counted wrong, not given
// the task class with the largest remainder; predictions.csv has sample,
// label, pred and a score for every class of the net, neutral included.
func TestAppearanceNeutralIsAnAnswer(t *testing.T) {
	n := loadNet(t, models.FaceAPI())
	golden := readGolden(t, filepath.Join("..", "appearance", "testdata", "golden_faceapi.txt"))
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("sample,subject,label,image\n")
	neutral, i := 0, 0
	for file, p := range golden {
		best := 0
		for k, v := range p {
			if v > p[best] {
				best = k
			}
		}
		label := appearance.Labels()[best]
		if label == "neutral" {
			label = "anger" // the task has no neutral
			neutral++
		}
		abs, _ := filepath.Abs(filepath.Join("..", file))
		fmt.Fprintf(&b, "s%d,subj%d,%s,%s\n", i, i%3, label, abs)
		i++
	}
	if neutral == 0 {
		t.Skip("no golden crop reads as neutral")
	}
	manifest := filepath.Join(dir, "m.csv")
	os.WriteFile(manifest, []byte(b.String()), 0o644)
	res, err := Appearance(context.Background(), AppearanceOptions{Net: n, Manifest: manifest, Out: filepath.Join(dir, "run")})
	if err != nil {
		t.Fatal(err)
	}
	if want := float64(len(golden)-neutral) / float64(len(golden)); math.Abs(res.Report.Accuracy-want) > 1e-9 {
		t.Errorf("accuracy %v, want %v: the %d neutral faces must count as misses", res.Report.Accuracy, want, neutral)
	}
	pred, _ := os.ReadFile(filepath.Join(dir, "run", "predictions.csv"))
	lines := strings.Split(strings.TrimSpace(string(pred)), "\n")
	want := "sample,label,pred,score_anger,score_disgust,score_fear,score_happiness,score_sadness,score_surprise,score_neutral"
	if lines[0] != want {
		t.Errorf("predictions.csv header %q, want %q", lines[0], want)
	}
	got := 0
	for _, l := range lines[1:] {
		f := strings.Split(l, ",")
		if len(f) != 10 {
			t.Fatalf("row %q: %d fields", l, len(f))
		}
		if f[1] == "anger" && f[2] == "neutral" {
			got++
		}
	}
	if got != neutral {
		t.Errorf("%d rows labelled anger predicted neutral, want %d", got, neutral)
	}
}
