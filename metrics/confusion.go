// Package metrics scores classifiers, AU detectors and expression spotters the
// way the micro-expression literature does: accuracy, per-class precision,
// recall and F1, confusion matrices, UF1 and UAR pooled over folds
// (MEGC 2019 convention), AU-detection F1, spotting F1 under the IoU >= 0.5 rule,
// bootstrap confidence intervals and the metrics.json file (docs/outputs.md).
//
// Limits: spotting uses the IoU ≥ 0.5 rule only; bootstrap intervals
// resample subjects, so they need several subjects to mean anything.
package metrics

import (
	"fmt"
	"slices"
)

// Confusion is a confusion matrix: rows are true classes, columns predicted
// classes. Pooling over folds (as UF1 and UAR require) is Merge: counts add.
type Confusion struct {
	classes []string
	index   map[string]int
	counts  []int // k*k, row-major: counts[truth*k+pred]
	// scored is how many leading classes are the task's: the others are
	// answers outside it (a pretrained net's "neutral" on a task without
	// one), always wrong, never averaged in UF1 or UAR. 0: all are scored.
	scored int
}

// NewConfusionOutside returns an empty matrix over the task's classes and
// answers outside the task (after them): a prediction outside counts as a
// miss of its true class, and UF1 and UAR average over the task's classes
// only, as for a classifier restricted to the task that got it wrong.
func NewConfusionOutside(classes, outside []string) (*Confusion, error) {
	c, err := NewConfusion(append(slices.Clone(classes), outside...))
	if err != nil {
		return nil, err
	}
	c.scored = len(classes)
	return c, nil
}

// Scored is the number of the task's classes (the leading ones; the rest
// are answers outside the task).
func (c *Confusion) Scored() int {
	if c.scored == 0 {
		return len(c.classes)
	}
	return c.scored
}

// emptyLike is an empty matrix over c's classes, with c's task.
func (c *Confusion) emptyLike() *Confusion {
	e, _ := NewConfusion(c.classes)
	e.scored = c.scored
	return e
}

// NewConfusion returns an empty matrix over the given class names.
func NewConfusion(classes []string) (*Confusion, error) {
	if len(classes) == 0 {
		return nil, fmt.Errorf("confusion: no classes")
	}
	idx := make(map[string]int, len(classes))
	for i, c := range classes {
		if _, dup := idx[c]; dup {
			return nil, fmt.Errorf("confusion: duplicate class %q", c)
		}
		idx[c] = i
	}
	return &Confusion{classes: slices.Clone(classes), index: idx, counts: make([]int, len(classes)*len(classes))}, nil
}

// Classes returns the class names in index order.
func (c *Confusion) Classes() []string { return slices.Clone(c.classes) }

// K returns the number of classes.
func (c *Confusion) K() int { return len(c.classes) }

// Index returns the index of class name, or -1.
func (c *Confusion) Index(name string) int {
	if i, ok := c.index[name]; ok {
		return i
	}
	return -1
}

// Add counts one sample of true class truth predicted as pred.
func (c *Confusion) Add(truth, pred int) error {
	k := len(c.classes)
	if truth < 0 || truth >= k || pred < 0 || pred >= k {
		return fmt.Errorf("confusion: class index (%d, %d) outside [0,%d)", truth, pred, k)
	}
	c.counts[truth*k+pred]++
	return nil
}

// AddLabel counts one sample by class names.
func (c *Confusion) AddLabel(truth, pred string) error {
	t, ok := c.index[truth]
	if !ok {
		return fmt.Errorf("confusion: unknown true class %q", truth)
	}
	p, ok := c.index[pred]
	if !ok {
		return fmt.Errorf("confusion: unknown predicted class %q", pred)
	}
	c.counts[t*len(c.classes)+p]++
	return nil
}

// Count returns how many samples of class truth were predicted as pred.
func (c *Confusion) Count(truth, pred int) int { return c.counts[truth*len(c.classes)+pred] }

// Merge adds o's counts into c; both must have the same classes in the same order.
func (c *Confusion) Merge(o *Confusion) error {
	if !slices.Equal(c.classes, o.classes) {
		return fmt.Errorf("confusion: merge of different classes %v and %v", c.classes, o.classes)
	}
	for i, v := range o.counts {
		c.counts[i] += v
	}
	return nil
}

// Reset sets every count to zero.
func (c *Confusion) Reset() { clear(c.counts) }

// Matrix returns the counts as rows (true class) of columns (predicted class).
func (c *Confusion) Matrix() [][]int {
	k := len(c.classes)
	m := make([][]int, k)
	for i := range m {
		m[i] = slices.Clone(c.counts[i*k : (i+1)*k])
	}
	return m
}

// N returns the number of samples counted.
func (c *Confusion) N() int {
	n := 0
	for _, v := range c.counts {
		n += v
	}
	return n
}

// Accuracy returns the fraction of samples on the diagonal (0 when empty).
func (c *Confusion) Accuracy() float64 {
	k := len(c.classes)
	diag := 0
	for i := 0; i < k; i++ {
		diag += c.counts[i*k+i]
	}
	return ratio(diag, c.N())
}

// ClassScore holds one class's scores.
type ClassScore struct {
	Class     string  `json:"-"`
	Precision float64 `json:"precision"` // TP/(TP+FP); 0 when the class is never predicted
	Recall    float64 `json:"recall"`    // TP/(TP+FN); 0 when the class has no samples
	F1        float64 `json:"f1"`        // 2TP/(2TP+FP+FN); 0 when undefined
	Support   int     `json:"support"`   // number of true samples of the class
	TP        int     `json:"-"`
	FP        int     `json:"-"`
	FN        int     `json:"-"`
}

// counts returns TP, FP and FN of class i.
func (c *Confusion) tpFpFn(i int) (tp, fp, fn int) {
	k := len(c.classes)
	tp = c.counts[i*k+i]
	for j := 0; j < k; j++ {
		if j == i {
			continue
		}
		fn += c.counts[i*k+j]
		fp += c.counts[j*k+i]
	}
	return tp, fp, fn
}

// PerClass returns every class's precision, recall, F1 and support.
func (c *Confusion) PerClass() []ClassScore {
	out := make([]ClassScore, len(c.classes))
	for i, name := range c.classes {
		tp, fp, fn := c.tpFpFn(i)
		out[i] = ClassScore{
			Class: name, TP: tp, FP: fp, FN: fn, Support: tp + fn,
			Precision: ratio(tp, tp+fp), Recall: ratio(tp, tp+fn), F1: ratio(2*tp, 2*tp+fp+fn),
		}
	}
	return out
}

// UF1 returns the unweighted F1: the mean over classes of 2TP/(2TP+FP+FN)
// computed from these (pooled) counts. A class with neither samples nor
// predictions has no defined F1 and is left out of the mean; a class with
// samples that is never predicted counts as F1 = 0.
func (c *Confusion) UF1() float64 {
	sum, n := 0.0, 0
	for i := range c.Scored() {
		tp, fp, fn := c.tpFpFn(i)
		if 2*tp+fp+fn == 0 {
			continue
		}
		sum += float64(2*tp) / float64(2*tp+fp+fn)
		n++
	}
	if n == 0 {
		return 0
	}
	return sum / float64(n)
}

// UAR returns the unweighted average recall: the mean over classes with at
// least one sample of TP_c/N_c.
func (c *Confusion) UAR() float64 {
	sum, n := 0.0, 0
	for i := range c.Scored() {
		tp, _, fn := c.tpFpFn(i)
		if tp+fn == 0 {
			continue
		}
		sum += float64(tp) / float64(tp+fn)
		n++
	}
	if n == 0 {
		return 0
	}
	return sum / float64(n)
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}
