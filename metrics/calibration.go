package metrics

import (
	"fmt"
	"math"
)

// DefaultECEBins is the number of equal-width confidence bins ECE uses
// when given 0: ten, the usual choice (Guo et al. 2017, "On Calibration of
// Modern Neural Networks").
const DefaultECEBins = 10

// ECE is the expected calibration error of predictions whose stated
// confidence (the probability the predictor gave its own answer) is
// conf[i] and whose answer was right when correct[i]: the confidences are
// put in equal-width bins over [0,1], and ECE is the mean over bins of
// |accuracy − mean confidence|, weighted by the bin's share of the
// predictions. 0 is perfect calibration; a predictor that says 0.9 and is
// right half the time scores 0.4. Confidences outside [0,1] or NaN are an
// error; no predictions give 0.
func ECE(conf []float64, correct []bool, bins int) (float64, error) {
	rel, err := Reliability(conf, correct, bins)
	if err != nil {
		return 0, err
	}
	var ece float64
	for _, b := range rel {
		if b.N == 0 {
			continue
		}
		ece += float64(b.N) / float64(len(conf)) * math.Abs(b.Accuracy-b.Confidence)
	}
	return ece, nil
}

// Bin is one confidence bin of a reliability diagram.
type Bin struct {
	Lo, Hi     float64 // the bin's confidences: (Lo, Hi], the first [0, Hi]
	N          int     // predictions in the bin
	Confidence float64 // their mean confidence (0 when N is 0)
	Accuracy   float64 // the share of them that were right (0 when N is 0)
}

// Reliability puts predictions in equal-width confidence bins over [0,1]
// (DefaultECEBins when bins is 0), as ECE does, and returns every bin,
// empty ones included: the reliability diagram behind ECE. A calibrated
// predictor's bins have Accuracy ≈ Confidence.
func Reliability(conf []float64, correct []bool, bins int) ([]Bin, error) {
	if len(conf) != len(correct) {
		return nil, fmt.Errorf("ece: %d confidences for %d predictions", len(conf), len(correct))
	}
	if bins <= 0 {
		bins = DefaultECEBins
	}
	out := make([]Bin, bins)
	for b := range out {
		out[b].Lo, out[b].Hi = float64(b)/float64(bins), float64(b+1)/float64(bins)
	}
	for i, c := range conf {
		if !(c >= 0 && c <= 1) {
			return nil, fmt.Errorf("ece: prediction %d: confidence %v outside [0,1]", i, c)
		}
		// Bins are (lo, hi], the first one [0, hi]: a confidence of
		// exactly 1 falls in the last bin.
		b := int(math.Ceil(c*float64(bins))) - 1
		b = min(max(b, 0), bins-1)
		out[b].Confidence += c
		out[b].N++
		if correct[i] {
			out[b].Accuracy++
		}
	}
	for b := range out {
		if n := out[b].N; n > 0 {
			out[b].Confidence /= float64(n)
			out[b].Accuracy /= float64(n)
		}
	}
	return out, nil
}
