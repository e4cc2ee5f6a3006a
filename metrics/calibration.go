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
	if len(conf) != len(correct) {
		return 0, fmt.Errorf("ece: %d confidences for %d predictions", len(conf), len(correct))
	}
	if bins <= 0 {
		bins = DefaultECEBins
	}
	if len(conf) == 0 {
		return 0, nil
	}
	sumConf := make([]float64, bins)
	hits := make([]int, bins)
	n := make([]int, bins)
	for i, c := range conf {
		if !(c >= 0 && c <= 1) {
			return 0, fmt.Errorf("ece: prediction %d: confidence %v outside [0,1]", i, c)
		}
		// Bins are (lo, hi], the first one [0, hi]: a confidence of
		// exactly 1 falls in the last bin.
		b := int(math.Ceil(c*float64(bins))) - 1
		b = min(max(b, 0), bins-1)
		sumConf[b] += c
		n[b]++
		if correct[i] {
			hits[b]++
		}
	}
	var ece float64
	for b := range bins {
		if n[b] == 0 {
			continue
		}
		acc := float64(hits[b]) / float64(n[b])
		mean := sumConf[b] / float64(n[b])
		ece += float64(n[b]) / float64(len(conf)) * math.Abs(acc-mean)
	}
	return ece, nil
}
