package eval

import (
	"fmt"
	"math"
	"slices"

	"github.com/tell-project/tell/cot"
)

// calibrationRow is one prediction for fitting a temperature: the
// engine's scores over its labels and the index of the true label.
type calibrationRow struct {
	scores []float64
	truth  int
}

// fitTemperature is the temperature t that minimises the negative
// log-likelihood of the true labels under softmax(t·scores) (rows whose
// truth is not among their labels are left out), searched over
// [0.05, 200] by golden section on log t; the likelihood is concave in t,
// so the search finds its maximum. No rows give 1.
func fitTemperature(rows []calibrationRow) float64 {
	if len(rows) == 0 {
		return 1
	}
	nll := func(t float64) float64 {
		var s float64
		for _, r := range rows {
			p := cot.Reading{Scores: r.scores}.Probabilities(t)
			s -= math.Log(math.Max(p[r.truth], 1e-300))
		}
		return s
	}
	lo, hi := math.Log(0.05), math.Log(200)
	g := (math.Sqrt(5) - 1) / 2
	a, b := hi-g*(hi-lo), lo+g*(hi-lo)
	fa, fb := nll(math.Exp(a)), nll(math.Exp(b))
	for range 80 {
		if fa <= fb {
			hi, b, fb = b, a, fa
			a = hi - g*(hi-lo)
			fa = nll(math.Exp(a))
		} else {
			lo, a, fa = a, b, fb
			b = lo + g*(hi-lo)
			fb = nll(math.Exp(b))
		}
	}
	return math.Exp((lo + hi) / 2)
}

// calibrationRows turns scored rows into fitting rows.
func calibrationRows(rows []*CoTRow) []calibrationRow {
	var out []calibrationRow
	for _, r := range rows {
		if k := slices.Index(r.Reading.Labels, r.Truth); k >= 0 {
			out = append(out, calibrationRow{r.Reading.Scores, k})
		}
	}
	return out
}

// CoTCalibration is the engine's temperature refitted on a manifest.
type CoTCalibration struct {
	// Temperature is fitted on every row of both tasks.
	Temperature float64
	// Subjects is the number of folds of the leave-one-subject-out
	// refit: each row's ConfLOSO comes from a temperature fitted on the
	// other subjects' rows.
	Subjects int
}

// Calibrate fits the engine's temperature (cot.Temperature) on the
// score's rows, both tasks pooled, and, leaving one subject (a dataset's
// subject) out at a time, refits it on the other subjects' rows and sets
// the held-out rows' ConfLOSO: their label's probability at the refitted
// temperature, a confidence whose calibration was not fitted on the row.
func (sc *CoTScore) Calibrate() (*CoTCalibration, error) {
	var all []*CoTRow
	for i := range sc.Basic {
		all = append(all, &sc.Basic[i])
	}
	for i := range sc.ThreeClass {
		all = append(all, &sc.ThreeClass[i])
	}
	key := func(r *CoTRow) string { return r.Dataset + "/" + r.Subject }
	var subjects []string
	for _, r := range all {
		subjects = append(subjects, key(r))
	}
	subjects = distinctSorted(subjects)
	for _, s := range subjects {
		var train, test []*CoTRow
		for _, r := range all {
			if key(r) == s {
				test = append(test, r)
			} else {
				train = append(train, r)
			}
		}
		t := fitTemperature(calibrationRows(train))
		for _, r := range test {
			k := slices.Index(r.Reading.Labels, r.Pred)
			if k < 0 {
				return nil, fmt.Errorf("calibration: %s's prediction %s is not among the engine's labels %v", s, r.Pred, r.Reading.Labels)
			}
			r.ConfLOSO = r.Reading.Probabilities(t)[k]
		}
	}
	return &CoTCalibration{Temperature: fitTemperature(calibrationRows(all)), Subjects: len(subjects)}, nil
}
