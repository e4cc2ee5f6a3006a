package metrics

import (
	"math"
	"testing"
)

// TestECEKnownAnswer: hand-computed cases.
func TestECEKnownAnswer(t *testing.T) {
	for _, c := range []struct {
		name    string
		conf    []float64
		correct []bool
		bins    int
		want    float64
	}{
		{"empty", nil, nil, 10, 0},
		// Says 0.9, right half the time: |0.5-0.9| = 0.4.
		{"overconfident", []float64{0.9, 0.9, 0.9, 0.9}, []bool{true, false, true, false}, 10, 0.4},
		// Says 0.75 and 0.25 (different bins), right 3/4 and 1/4: calibrated.
		{"calibrated", []float64{0.75, 0.75, 0.75, 0.75, 0.25, 0.25, 0.25, 0.25},
			[]bool{true, true, true, false, true, false, false, false}, 10, 0},
		// Two bins of two: bin (0.5,1]: confs 0.6, 1.0 (mean 0.8), one right:
		// |0.5-0.8| = 0.3; bin [0,0.5]: confs 0.2, 0.4 (mean 0.3), both
		// right: |1-0.3| = 0.7; ECE = 0.5·0.3 + 0.5·0.7 = 0.5.
		{"two bins", []float64{0.6, 1.0, 0.2, 0.4}, []bool{false, true, true, true}, 2, 0.5},
		// A confidence of exactly 0.5 falls in the lower of two bins.
		{"edge", []float64{0.5, 0.5}, []bool{true, true}, 2, 0.5},
	} {
		got, err := ECE(c.conf, c.correct, c.bins)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if math.Abs(got-c.want) > 1e-12 {
			t.Errorf("%s: ECE %v, want %v", c.name, got, c.want)
		}
	}
}

func TestECEErrors(t *testing.T) {
	if _, err := ECE([]float64{0.5}, nil, 10); err == nil {
		t.Error("length mismatch accepted")
	}
	for _, c := range []float64{-0.1, 1.1, math.NaN()} {
		if _, err := ECE([]float64{c}, []bool{true}, 10); err == nil {
			t.Errorf("confidence %v accepted", c)
		}
	}
}

// TestReportECE: folds added with probabilities give the report's ECE,
// pooled and per dataset; a fold without them leaves it out.
func TestReportECE(t *testing.T) {
	ev, err := NewEvaluation("loso", []string{"a", "b"})
	if err != nil {
		t.Fatal(err)
	}
	// Dataset x: says 0.9, right half the time (0.4); y: says 1, right (0).
	if err := ev.AddFoldScored([]string{"s1"}, []int{0, 0}, []int{0, 1}, []string{"s1", "s1"}, []string{"x", "x"}, []float64{0.9, 0.9}); err != nil {
		t.Fatal(err)
	}
	if err := ev.AddFoldScored([]string{"s2"}, []int{1, 1}, []int{1, 1}, []string{"s2", "s2"}, []string{"y", "y"}, []float64{1, 1}); err != nil {
		t.Fatal(err)
	}
	r, err := ev.Report(0, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	// Pooled: bin (0.8,0.9]: 2 predictions, acc 0.5, conf 0.9 → 0.4·2/4;
	// bin (0.9,1]: acc 1, conf 1 → 0. ECE 0.2.
	if r.ECE == nil || math.Abs(*r.ECE-0.2) > 1e-12 {
		t.Errorf("pooled ECE %v, want 0.2", r.ECE)
	}
	if e := r.PerDataset["x"].ECE; e == nil || math.Abs(*e-0.4) > 1e-12 {
		t.Errorf("dataset x ECE %v, want 0.4", e)
	}
	if err := ev.AddFoldTagged([]string{"s3"}, []int{0}, []int{0}, []string{"s3"}, nil); err != nil {
		t.Fatal(err)
	}
	if r, _ := ev.Report(0, 0, 1); r.ECE != nil {
		t.Errorf("ECE %v with a fold that gave no probabilities", *r.ECE)
	}
	if err := ev.AddFoldScored([]string{"s4"}, []int{0}, []int{0}, []string{"s4"}, nil, []float64{1.5}); err == nil {
		t.Error("probability 1.5 accepted")
	}
}

// TestReliabilityKnownAnswer: the bins behind the "two bins" ECE case.
func TestReliabilityKnownAnswer(t *testing.T) {
	rel, err := Reliability([]float64{0.6, 1.0, 0.2, 0.4, 0.5}, []bool{false, true, true, true, false}, 2)
	if err != nil {
		t.Fatal(err)
	}
	want := []Bin{
		{Lo: 0, Hi: 0.5, N: 3, Confidence: (0.2 + 0.4 + 0.5) / 3, Accuracy: 2.0 / 3},
		{Lo: 0.5, Hi: 1, N: 2, Confidence: 0.8, Accuracy: 0.5},
	}
	for i := range want {
		g, w := rel[i], want[i]
		if g.Lo != w.Lo || g.Hi != w.Hi || g.N != w.N || math.Abs(g.Confidence-w.Confidence) > 1e-12 || math.Abs(g.Accuracy-w.Accuracy) > 1e-12 {
			t.Errorf("bin %d: %+v, want %+v", i, g, w)
		}
	}
	rel, _ = Reliability(nil, nil, 0)
	if len(rel) != DefaultECEBins || rel[9].N != 0 || rel[9].Hi != 1 {
		t.Errorf("empty: %+v", rel)
	}
	if _, err := Reliability([]float64{1.5}, []bool{true}, 2); err == nil {
		t.Error("confidence 1.5 accepted")
	}
}
