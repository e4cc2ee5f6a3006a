package cot

import (
	"strings"
	"testing"

	"github.com/tell-project/tell/facs"
)

// TestConcludeLabel: whatever the evidence, the Conclusion is the label
// given, and Des2Exp reads it back from the text alone.
func TestConcludeLabel(t *testing.T) {
	labels := []string{facs.Happiness, facs.Sadness, facs.Surprise, facs.Fear, facs.Anger, facs.Disgust, facs.Contempt, facs.Neutral, facs.Others}
	for _, code := range []string{"", "6+12", "4+7+23", "1+2+5B+26", "R12A", "9+10", "45"} {
		var ev []Evidence
		if code != "" {
			ev = EvidenceFromCode(facs.MustParse(code))
		}
		for _, l := range labels {
			for seed := uint64(0); seed < 3; seed++ {
				c, err := Conclude(ev, l, 0.62, ConcludeOptions{Options: Options{Seed: seed}, Appearance: &Appearance{Model: "m", Probs: map[string]float64{l: 0.62, "neutral": 0.2}}})
				if err != nil {
					t.Fatal(err)
				}
				if c.Conclusion.Label != l || c.Conclusion.Confidence != 0.62 {
					t.Fatalf("%s as %s: conclusion %+v", code, l, c.Conclusion)
				}
				if v := c.Verification; !v.ReadBack || v.Flagged || v.ReadLabel != l {
					t.Fatalf("%s as %s: %+v\n%s", code, l, v, c.Text)
				}
				checkShape(t, c)
			}
		}
	}
}

func TestConcludeSupportAndContradiction(t *testing.T) {
	ev := EvidenceFromCode(facs.MustParse("6C+12C"))
	app := &Appearance{Model: "face-api", Probs: map[string]float64{"happiness": 0.81, "neutral": 0.12, "anger": 0.07}, Onset: map[string]float64{"happiness": 0.1}}
	c, _ := Conclude(ev, "happiness", 0.9, ConcludeOptions{Appearance: app})
	it := c.Interpretation.Rationale
	for _, want := range []string{"appearance model (face-api) reads the face as happiness (0.81), then neutral (0.12)", "at the onset it gave happiness 0.10", "AU6 and AU12", "support happiness"} {
		if !strings.Contains(it, want) {
			t.Errorf("happiness: %q missing from %q", want, it)
		}
	}
	if c.Appearance != app {
		t.Error("appearance not kept in the CoT")
	}
	c, _ = Conclude(ev, "anger", 0.4, ConcludeOptions{})
	it = c.Interpretation.Rationale
	for _, want := range []string{"argue against it", "On the AUs alone the reading would be happiness"} {
		if !strings.Contains(it, want) {
			t.Errorf("anger: %q missing from %q", want, it)
		}
	}
	c, _ = Conclude(nil, "neutral", 0.8, ConcludeOptions{})
	if !strings.Contains(c.Text, "agrees with a face at rest") {
		t.Errorf("neutral at rest: %s", c.Text)
	}
}

// TestConcludeUncalibrated: indications are called so, and nothing in the
// text presents them as a measured display.
func TestConcludeUncalibrated(t *testing.T) {
	ev := EvidenceFromCode(facs.MustParse("15E+23E+26D"))
	c, _ := Conclude(ev, "neutral", 0.83, ConcludeOptions{Uncalibrated: true, Appearance: &Appearance{Probs: map[string]float64{"neutral": 0.83}}, Basis: "the appearance model"})
	for _, o := range c.Observations {
		if !o.Indication {
			t.Errorf("AU%d not marked an indication", o.AU)
		}
	}
	for _, want := range []string{"indications rather than measured movements", "are indicated by the geometry", "not weighed"} {
		if !strings.Contains(c.Text, want) {
			t.Errorf("%q missing from\n%s", want, c.Text)
		}
	}
	for _, bad := range []string{"unmasked", "pronounced", "moved"} {
		if strings.Contains(c.Interpretation.Rationale, bad) {
			t.Errorf("uncalibrated text says %q:\n%s", bad, c.Text)
		}
	}
}
