package cot

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/tell-project/tell/facs"
)

// TestConfidenceIsCalibratedProbability: for any evidence and label set,
// the conclusion is the reading's argmax and its confidence the label's
// probability at Temperature; the reading's labels are distinct and its
// probabilities a distribution.
func TestConfidenceIsCalibratedProbability(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	cat := facs.Catalogue()
	sides := []string{"", "left", "right", "asymmetric"}
	classSets := [][]string{nil, {"negative", "positive", "surprise"}, {"happiness", "disgust", "repression", "surprise", "others"}, {"happiness", "others"}}
	for i := range 3000 {
		var ev []Evidence
		for range r.IntN(7) {
			ev = append(ev, Evidence{AU: cat[r.IntN(len(cat))].Number, Side: sides[r.IntN(4)], Intensity: 5 * r.Float64(), SNR: 8 * r.Float64()})
		}
		o := Options{Seed: uint64(i), Classes: classSets[r.IntN(len(classSets))], Dataset: []string{"", "CASME II", "SAMM"}[r.IntN(3)]}
		c, err := Explain(ev, o)
		if err != nil {
			t.Fatal(err)
		}
		rd, err := Read(ev, o)
		if err != nil {
			t.Fatal(err)
		}
		k := slices.Index(rd.Labels, c.Conclusion.Label)
		if rd.Label != c.Conclusion.Label || k < 0 {
			t.Fatalf("%+v %v: reading %s over %v, conclusion %s", ev, o.Classes, rd.Label, rd.Labels, c.Conclusion.Label)
		}
		if slices.Max(rd.Scores) > rd.Scores[k] {
			t.Fatalf("%+v %v: label %s (%.3f) is not the best score %v %v", ev, o.Classes, rd.Label, rd.Scores[k], rd.Labels, rd.Scores)
		}
		p := rd.Probabilities(Temperature)
		sum := 0.0
		for _, v := range p {
			sum += v
		}
		if math.Abs(sum-1) > 1e-12 || c.Conclusion.Confidence != round2(p[k]) {
			t.Fatalf("confidence %.2f, probability %.4f (sum %v)", c.Conclusion.Confidence, p[k], sum)
		}
		seen := map[string]bool{}
		for _, l := range rd.Labels {
			if seen[l] {
				t.Fatalf("label %s twice in %v", l, rd.Labels)
			}
			seen[l] = true
		}
	}
}

// TestReadingKnownAnswer: AU12 coded without intensity reads happiness at
// its partial-form prior 0.85; a face that moved gives others
// NameThreshold; the other six emotions and neutral 0.
func TestReadingKnownAnswer(t *testing.T) {
	rd, err := Read(EvidenceFromCode(facs.MustParse("12")), Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := append(facs.BasicEmotions(), facs.Others, facs.Neutral)
	if !slices.Equal(sortedCopy(rd.Labels), sortedCopy(want)) {
		t.Fatalf("labels %v, want %v", rd.Labels, want)
	}
	for i, l := range rd.Labels {
		w := map[string]float64{facs.Happiness: 0.85, facs.Others: NameThreshold}[l]
		if math.Abs(rd.Scores[i]-w) > 1e-12 {
			t.Errorf("a(%s) = %v, want %v", l, rd.Scores[i], w)
		}
	}
	// p = e^{0.85T} / (e^{0.85T} + e^{0.3T} + 7).
	e := func(x float64) float64 { return math.Exp(Temperature * x) }
	want1 := e(0.85) / (e(0.85) + e(0.3) + 7)
	c := explainCode(t, "12", Options{})
	if c.Conclusion.Label != facs.Happiness || c.Conclusion.Confidence != round2(want1) {
		t.Errorf("AU12: %s %.2f, want happiness %.2f", c.Conclusion.Label, c.Conclusion.Confidence, round2(want1))
	}
	// Nothing moved: neutral at e^T / (e^T + 8).
	c = explainCode(t, "45", Options{})
	if w := round2(e(1) / (e(1) + 8)); c.Conclusion.Label != facs.Neutral || c.Conclusion.Confidence != w {
		t.Errorf("a blink: %s %.2f, want neutral %.2f", c.Conclusion.Label, c.Conclusion.Confidence, w)
	}
}

func sortedCopy(v []string) []string {
	out := slices.Clone(v)
	slices.Sort(out)
	return out
}
