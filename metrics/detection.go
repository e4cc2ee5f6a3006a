package metrics

import (
	"fmt"
	"slices"
)

// AUDetection accumulates per-AU detection counts (presence vs absence) over
// frames or clips and reports F1 per AU and their mean.
type AUDetection struct {
	aus        []int
	tp, fp, fn []int
}

// NewAUDetection returns an accumulator for the given AU numbers.
func NewAUDetection(aus []int) *AUDetection {
	n := len(aus)
	return &AUDetection{aus: slices.Clone(aus), tp: make([]int, n), fp: make([]int, n), fn: make([]int, n)}
}

// AddPresence counts one frame or clip: truth[i] and pred[i] say whether
// AU aus[i] is present.
func (d *AUDetection) AddPresence(truth, pred []bool) error {
	if len(truth) != len(d.aus) || len(pred) != len(d.aus) {
		return fmt.Errorf("au detection: %d truths and %d predictions for %d AUs", len(truth), len(pred), len(d.aus))
	}
	for i := range d.aus {
		switch {
		case truth[i] && pred[i]:
			d.tp[i]++
		case pred[i]:
			d.fp[i]++
		case truth[i]:
			d.fn[i]++
		}
	}
	return nil
}

// AddSets counts one frame or clip given the sets of AU numbers present in
// truth and prediction. AUs outside the tracked list are ignored.
func (d *AUDetection) AddSets(truth, pred []int) {
	for i, au := range d.aus {
		t, p := slices.Contains(truth, au), slices.Contains(pred, au)
		switch {
		case t && p:
			d.tp[i]++
		case p:
			d.fp[i]++
		case t:
			d.fn[i]++
		}
	}
}

// AUScore is one AU's detection scores.
type AUScore struct {
	AU        int     `json:"au"`
	F1        float64 `json:"f1"`
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	Support   int     `json:"support"` // frames or clips where the AU is truly present
}

// PerAU returns every tracked AU's scores in the order given to NewAUDetection.
func (d *AUDetection) PerAU() []AUScore {
	out := make([]AUScore, len(d.aus))
	for i, au := range d.aus {
		tp, fp, fn := d.tp[i], d.fp[i], d.fn[i]
		out[i] = AUScore{AU: au, F1: ratio(2*tp, 2*tp+fp+fn), Precision: ratio(tp, tp+fp), Recall: ratio(tp, tp+fn), Support: tp + fn}
	}
	return out
}

// MeanF1 returns the mean F1 over AUs that occur in truth or prediction
// (an AU never present and never predicted has no defined F1).
func (d *AUDetection) MeanF1() float64 {
	sum, n := 0.0, 0
	for i := range d.aus {
		den := 2*d.tp[i] + d.fp[i] + d.fn[i]
		if den == 0 {
			continue
		}
		sum += float64(2*d.tp[i]) / float64(den)
		n++
	}
	if n == 0 {
		return 0
	}
	return sum / float64(n)
}

// Pooled is the precision and recall over every tracked AU's decisions
// together (each listed AU one decision): how much of what was listed was
// true, and how much of the truth was listed.
func (d *AUDetection) Pooled() (precision, recall float64) {
	var tp, fp, fn int
	for i := range d.aus {
		tp, fp, fn = tp+d.tp[i], fp+d.fp[i], fn+d.fn[i]
	}
	return ratio(tp, tp+fp), ratio(tp, tp+fn)
}

// Interval is a span of frames, onset and offset inclusive.
type Interval struct {
	Onset, Offset int
}

// Len returns the number of frames in the interval (0 if empty).
func (iv Interval) Len() int { return max(0, iv.Offset-iv.Onset+1) }

// IoU returns the intersection over union of two frame intervals, counting
// frames inclusively as MEGC does.
func IoU(a, b Interval) float64 {
	inter := Interval{max(a.Onset, b.Onset), min(a.Offset, b.Offset)}.Len()
	union := a.Len() + b.Len() - inter
	if union == 0 {
		return 0
	}
	return float64(inter) / float64(union)
}

// MatchIntervals matches spotted intervals to ground-truth intervals one to
// one, a pair being allowed when IoU >= threshold, and returns the counts of
// the largest such matching: TP matched pairs, FP unmatched spots, FN
// unmatched truths. The matching is maximum-cardinality (augmenting paths),
// so the result does not depend on the order of the intervals.
func MatchIntervals(truth, spotted []Interval, threshold float64) (tp, fp, fn int) {
	tp = len(MatchPairs(truth, spotted, threshold))
	return tp, len(spotted) - tp, len(truth) - tp
}

// MatchPairs returns the pairs (truth index, spotted index) of the matching
// MatchIntervals counts, in truth order.
func MatchPairs(truth, spotted []Interval, threshold float64) [][2]int {
	adj := make([][]int, len(spotted))
	for s, sp := range spotted {
		for g, gt := range truth {
			if IoU(sp, gt) >= threshold {
				adj[s] = append(adj[s], g)
			}
		}
	}
	owner := make([]int, len(truth)) // truth g → spot matched to it, or -1
	for i := range owner {
		owner[i] = -1
	}
	seen := make([]bool, len(truth))
	var augment func(s int) bool
	augment = func(s int) bool {
		for _, g := range adj[s] {
			if seen[g] {
				continue
			}
			seen[g] = true
			if owner[g] < 0 || augment(owner[g]) {
				owner[g] = s
				return true
			}
		}
		return false
	}
	for s := range spotted {
		clear(seen)
		augment(s)
	}
	var out [][2]int
	for g, s := range owner {
		if s >= 0 {
			out = append(out, [2]int{g, s})
		}
	}
	return out
}

// SpotThreshold is the MEGC IoU threshold for a spotted interval to count.
const SpotThreshold = 0.5

// Spotting pools spotting counts over videos (MEGC: TP, FP, FN summed over
// all videos, then one F1).
type Spotting struct {
	TP, FP, FN int
}

// AddVideo matches one video's spotted intervals against its ground truth
// with IoU >= 0.5 and adds the counts.
func (s *Spotting) AddVideo(truth, spotted []Interval) {
	tp, fp, fn := MatchIntervals(truth, spotted, SpotThreshold)
	s.TP += tp
	s.FP += fp
	s.FN += fn
}

// Precision returns TP/(TP+FP).
func (s Spotting) Precision() float64 { return ratio(s.TP, s.TP+s.FP) }

// Recall returns TP/(TP+FN).
func (s Spotting) Recall() float64 { return ratio(s.TP, s.TP+s.FN) }

// F1 returns 2TP/(2TP+FP+FN).
func (s Spotting) F1() float64 { return ratio(2*s.TP, 2*s.TP+s.FP+s.FN) }
