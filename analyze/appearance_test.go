package analyze

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tell-project/tell/appearance"
	"github.com/tell-project/tell/frames"
	"github.com/tell-project/tell/models"
	"github.com/tell-project/tell/portrait"
	"github.com/tell-project/tell/synth"
)

// testNet loads face-api's expression net, skipping when it is not
// installed (failing under TELL_REQUIRE_MODELS).
func testNet(t *testing.T) *appearance.Net {
	t.Helper()
	n, note, err := LoadAppearance(models.Root(""), "faceapi")
	if err != nil {
		t.Fatal(err)
	}
	if n == nil {
		if models.Required() {
			t.Fatal(note)
		}
		t.Skip(note)
	}
	return n
}

// neutralFace is a real, neutral, frontal face: the official portrait of
// Rear Admiral Grace Hopper (US Navy photograph, public domain) that
// Debian's python-matplotlib-data ships; scripts/deps.sh installs it.
const neutralFace = "/usr/share/matplotlib/mpl-data/sample_data/grace_hopper.jpg"

// TestNeutralRealFaceReadsNeutral: a neutral real face is labelled
// neutral, its mean-shape AUs are reported as indications (not weighed, not
// presented as observed), and the chain of thought says what the
// appearance net saw and concludes the label.
func TestNeutralRealFaceReadsNeutral(t *testing.T) {
	lm := dlibLandmarker(t)
	if _, err := os.Stat(neutralFace); err != nil {
		if models.Required() {
			t.Fatalf("%v (scripts/deps.sh installs python-matplotlib-data)", err)
		}
		t.Skip(err)
	}
	net := testNet(t)
	out := t.TempDir()
	res, err := Run(context.Background(), neutralFace, Options{Out: out, Landmarker: lm, Appearance: net})
	if err != nil {
		t.Fatal(err)
	}
	e := res.Events[0]
	if e.Label != "neutral" || e.AUReference != auMeanShape || e.Appearance == nil || e.Appearance.Probs["neutral"] < 0.5 {
		t.Fatalf("label %s (%.2f), reference %s, appearance %+v", e.Label, e.Confidence, e.AUReference, e.Appearance)
	}
	c := e.CoT
	if c.Conclusion.Label != e.Label || !c.Verification.ReadBack {
		t.Errorf("conclusion %s, verification %+v", c.Conclusion.Label, c.Verification)
	}
	for _, o := range c.Observations {
		if !o.Indication {
			t.Errorf("AU%d presented as observed", o.AU)
		}
	}
	for _, want := range []string{"appearance model", "indications"} {
		if !strings.Contains(c.Text, want) {
			t.Errorf("CoT lacks %q:\n%s", want, c.Text)
		}
	}
	checkExpressionColumns(t, out, 1)
}

// TestStillWithNeutralReference: --neutral turns indications into
// measurements; the same image as its own reference has no movement.
func TestStillWithNeutralReference(t *testing.T) {
	lm := dlibLandmarker(t)
	net := testNet(t)
	img := filepath.Join(t.TempDir(), "astronaut.png")
	os.WriteFile(img, portrait.AstronautPNG(), 0o644)
	res, err := Run(context.Background(), img, Options{Out: t.TempDir(), Landmarker: lm, Appearance: net, Neutral: img})
	if err != nil {
		t.Fatal(err)
	}
	e := res.Events[0]
	if e.AUReference != auNeutralImage || len(e.AUs) != 0 || e.Label != "happiness" {
		t.Fatalf("reference %s, AUs %v, label %s", e.AUReference, e.AUs, e.Label)
	}
	for _, o := range e.CoT.Observations {
		if o.Indication {
			t.Errorf("AU%d called an indication with a reference", o.AU)
		}
	}
	if _, err := Run(context.Background(), img, Options{Out: t.TempDir(), Landmarker: lm, Neutral: filepath.Join(t.TempDir(), "none.png")}); err == nil {
		t.Error("missing --neutral image accepted")
	}
}

// TestVideoAppearance: every tracked frame gets the net's probabilities in
// frames.csv; every event carries them, publishes the fused probabilities
// and concludes its label; the report draws the probabilities.
func TestVideoAppearance(t *testing.T) {
	net := testNet(t)
	clips, err := synth.Plan(testFace(t), synth.Config{Seed: 21, FPS: 30, Long: true, Duration: 6, Events: 2}, 1)
	if err != nil {
		t.Fatal(err)
	}
	c := clips[0]
	out := t.TempDir()
	res, err := RunSource(context.Background(), &clipSource{c: c}, "clip", Options{Out: out, Landmarker: truthLandmarker{c}, Appearance: net})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Events) == 0 {
		t.Fatal("no events")
	}
	for _, e := range res.Events {
		if e.Appearance == nil || e.AUReference != auNeutralFrame || e.CoT.Conclusion.Label != e.Label || e.CoT.Appearance == nil {
			t.Errorf("event %d: appearance %v, reference %s, conclusion %s, label %s", e.ID, e.Appearance, e.AUReference, e.CoT.Conclusion.Label, e.Label)
		}
		if _, ok := e.Emotions["neutral"]; !ok || len(e.Emotions) != 8 {
			t.Errorf("event %d: emotions %v", e.ID, e.Emotions)
		}
	}
	checkExpressionColumns(t, out, res.Tracked)
	rep, _ := os.ReadFile(filepath.Join(out, "report.html"))
	if !strings.Contains(string(rep), "Expression probabilities from appearance") {
		t.Error("report has no expression timeline")
	}
}

// checkExpressionColumns reads frames.csv: py-feat's seven columns after the
// AUs, probabilities summing to 1 on tracked frames.
func checkExpressionColumns(t *testing.T, out string, tracked int) {
	t.Helper()
	rd := openFrames(t, out)
	ex := rd.Layout().Extra
	if len(ex) < 7 || strings.Join(ex[:7], ",") != "anger,disgust,fear,happiness,sadness,surprise,neutral" {
		t.Fatalf("extra columns %v", ex)
	}
	var row frames.Row
	n := 0
	for {
		err := rd.Read(&row)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if !row.Success {
			continue
		}
		sum := 0.0
		for _, v := range row.Extra[:7] {
			sum += v
		}
		if sum < 0.99 || sum > 1.01 {
			t.Errorf("frame %d: probabilities sum to %v", row.Frame, sum)
		}
		n++
	}
	if n != tracked {
		t.Errorf("%d rows with probabilities, %d tracked frames", n, tracked)
	}
}
