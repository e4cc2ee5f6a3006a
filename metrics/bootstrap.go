package metrics

import (
	"fmt"
	"math/rand/v2"
	"slices"
)

// CI is a confidence interval.
type CI struct {
	Lo    float64 `json:"lo"`
	Hi    float64 `json:"hi"`
	Level float64 `json:"level"` // e.g. 0.95
}

// BootstrapOptions configures BootstrapCI.
type BootstrapOptions struct {
	Reps  int     // resamples; 0 means 1000
	Level float64 // coverage; 0 means 0.95
	Seed  uint64  // the same seed gives the same interval
	// Groups, when set (one entry per sample, e.g. the subject), makes the
	// bootstrap resample whole groups instead of single samples: under LOSO
	// the samples of one subject are not independent, and resampling them
	// one by one gives intervals that are too narrow.
	Groups []string
	// Scored, when above 0, is how many leading classes are the task's
	// (NewConfusionOutside); the others are answers outside it.
	Scored int
}

// BootstrapCI returns percentile bootstrap intervals for UF1 and UAR of the
// predictions pred against truth (class indices in [0,k)).
func BootstrapCI(truth, pred []int, k int, opt BootstrapOptions) (uf1, uar CI, err error) {
	opt, err = opt.check(truth, pred)
	if err != nil {
		return CI{}, CI{}, err
	}
	f1s := make([]float64, opt.Reps)
	uars := make([]float64, opt.Reps)
	err = resample(truth, pred, k, opt, func(r int, cm *Confusion) {
		f1s[r] = cm.UF1()
		uars[r] = cm.UAR()
	})
	if err != nil {
		return CI{}, CI{}, err
	}
	return percentile(f1s, opt.Level), percentile(uars, opt.Level), nil
}

// BootstrapAccuracyCI is the percentile bootstrap interval of the
// accuracy, from the same resamples as BootstrapCI's for the same options.
func BootstrapAccuracyCI(truth, pred []int, k int, opt BootstrapOptions) (CI, error) {
	opt, err := opt.check(truth, pred)
	if err != nil {
		return CI{}, err
	}
	accs := make([]float64, opt.Reps)
	if err := resample(truth, pred, k, opt, func(r int, cm *Confusion) { accs[r] = cm.Accuracy() }); err != nil {
		return CI{}, err
	}
	return percentile(accs, opt.Level), nil
}

// check checks the samples against the options and fills in the defaults.
func (opt BootstrapOptions) check(truth, pred []int) (BootstrapOptions, error) {
	if len(truth) != len(pred) {
		return opt, fmt.Errorf("bootstrap: %d truths, %d predictions", len(truth), len(pred))
	}
	if len(truth) == 0 {
		return opt, fmt.Errorf("bootstrap: no samples")
	}
	if opt.Groups != nil && len(opt.Groups) != len(truth) {
		return opt, fmt.Errorf("bootstrap: %d groups for %d samples", len(opt.Groups), len(truth))
	}
	if opt.Reps <= 0 {
		opt.Reps = 1000
	}
	if opt.Level <= 0 || opt.Level >= 1 {
		opt.Level = 0.95
	}
	return opt, nil
}

// resample draws opt.Reps resamples of the samples (or of their groups)
// and hands each's confusion matrix to score with its number.
func resample(truth, pred []int, k int, opt BootstrapOptions, score func(r int, cm *Confusion)) error {
	names := make([]string, k)
	for i := range names {
		names[i] = fmt.Sprint(i)
	}
	cm, err := NewConfusion(names)
	if err != nil {
		return err
	}
	if opt.Scored > 0 && opt.Scored < k {
		cm.scored = opt.Scored
	}
	for i := range truth {
		if err := cm.Add(truth[i], pred[i]); err != nil {
			return fmt.Errorf("bootstrap: sample %d: %w", i, err)
		}
	}

	// Resampling units: single samples, or the members of each group.
	var units [][]int
	if opt.Groups == nil {
		units = make([][]int, len(truth))
		for i := range units {
			units[i] = []int{i}
		}
	} else {
		at := map[string]int{}
		for i, g := range opt.Groups {
			j, ok := at[g]
			if !ok {
				j = len(units)
				at[g] = j
				units = append(units, nil)
			}
			units[j] = append(units[j], i)
		}
	}

	rng := rand.New(rand.NewPCG(opt.Seed, 0x9e3779b97f4a7c15))
	for r := 0; r < opt.Reps; r++ {
		cm.Reset()
		for range units {
			for _, i := range units[rng.IntN(len(units))] {
				cm.counts[truth[i]*k+pred[i]]++
			}
		}
		score(r, cm)
	}
	return nil
}

// percentile returns the central interval of the given coverage of xs
// (sorted in place), with linear interpolation between order statistics.
func percentile(xs []float64, level float64) CI {
	slices.Sort(xs)
	q := func(p float64) float64 {
		pos := p * float64(len(xs)-1)
		i := int(pos)
		if i >= len(xs)-1 {
			return xs[len(xs)-1]
		}
		f := pos - float64(i)
		return xs[i]*(1-f) + xs[i+1]*f
	}
	a := (1 - level) / 2
	return CI{Lo: q(a), Hi: q(1 - a), Level: level}
}
