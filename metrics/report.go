package metrics

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"

	"github.com/tell-project/tell/atomicfile"
)

// Report is the content of metrics.json (docs/outputs.md). UF1 and UAR are computed
// from the confusion pooled over all folds, not averaged over folds.
type Report struct {
	Protocol  string                `json:"protocol"`
	Classes   []string              `json:"classes"`
	N         int                   `json:"n"`
	UF1       float64               `json:"uf1"`
	UAR       float64               `json:"uar"`
	Accuracy  float64               `json:"accuracy"`
	PerClass  map[string]ClassScore `json:"per_class"`
	Confusion [][]int               `json:"confusion"`
	Folds     []FoldReport          `json:"folds"`
	// Seconds is the wall time of an evaluation; training runs leave it
	// out (their timings are in run.json), so that their bytes depend only
	// on the data, config and split.
	Seconds float64 `json:"seconds,omitempty"`
	// UF1CI and UARCI are bootstrap intervals (absent when not computed).
	UF1CI *CI `json:"uf1_ci,omitempty"`
	UARCI *CI `json:"uar_ci,omitempty"`
	// PerDataset scores each source dataset of a composite set on its own
	// (MEGC2019 reports CASME II, SAMM and SMIC beside the composite);
	// absent unless folds were added with dataset tags.
	PerDataset map[string]GroupScore `json:"per_dataset,omitempty"`
	// ECE is the expected calibration error of the predicted classes'
	// probabilities (10 bins, see ECE): how far the model's stated
	// confidence is from its accuracy. Absent unless every prediction
	// came with its probability (AddFoldScored).
	ECE *float64 `json:"ece,omitempty"`
}

// GroupScore is the pooled score of one part of the test predictions.
type GroupScore struct {
	N        int      `json:"n"`
	UF1      float64  `json:"uf1"`
	UAR      float64  `json:"uar"`
	Accuracy float64  `json:"accuracy"`
	ECE      *float64 `json:"ece,omitempty"`
}

// FoldReport is one fold's entry in metrics.json.
type FoldReport struct {
	TestSubjects []string `json:"test_subjects"`
	N            int      `json:"n"`
	Accuracy     float64  `json:"accuracy"`
}

// Evaluation collects the test predictions of every fold of a protocol and
// turns them into a Report. Folds are pooled: one confusion over all test
// predictions, as the MEGC 2019 composite
// protocol defines UF1 and UAR (per-class TP/FP/FN summed over folds).
type Evaluation struct {
	protocol string
	pooled   *Confusion
	folds    []FoldReport
	truth    []int
	pred     []int
	subjects []string
	datasets []string // per test sample; "" when untagged
	// conf is the probability of each prediction; scored is false once a
	// fold came without them.
	conf   []float64
	scored bool
}

// NewEvaluationOutside is NewEvaluation with answers outside the task's
// classes (NewConfusionOutside): a zero-shot net's classes the task lacks.
func NewEvaluationOutside(protocol string, classes, outside []string) (*Evaluation, error) {
	cm, err := NewConfusionOutside(classes, outside)
	if err != nil {
		return nil, err
	}
	return &Evaluation{protocol: protocol, pooled: cm, scored: true}, nil
}

// NewEvaluation starts an evaluation of the given protocol ("loso",
// "kfold", "holdout", ...) over the given classes.
func NewEvaluation(protocol string, classes []string) (*Evaluation, error) {
	cm, err := NewConfusion(classes)
	if err != nil {
		return nil, err
	}
	return &Evaluation{protocol: protocol, pooled: cm, scored: true}, nil
}

// AddFold records one fold's test predictions: truth[i] and pred[i] are
// class indices and subjects[i] the subject of test sample i.
func (e *Evaluation) AddFold(testSubjects []string, truth, pred []int, subjects []string) error {
	return e.AddFoldTagged(testSubjects, truth, pred, subjects, nil)
}

// AddFoldTagged is AddFold with the source dataset of each test sample
// (the manifest's dataset column), for per-dataset scores in the report.
// datasets may be nil.
func (e *Evaluation) AddFoldTagged(testSubjects []string, truth, pred []int, subjects, datasets []string) error {
	return e.AddFoldScored(testSubjects, truth, pred, subjects, datasets, nil)
}

// AddFoldScored is AddFoldTagged with conf[i], the probability the model
// gave its prediction pred[i], so that the report includes the expected
// calibration error (ECE). conf may be nil (then the report has none).
func (e *Evaluation) AddFoldScored(testSubjects []string, truth, pred []int, subjects, datasets []string, conf []float64) error {
	if conf != nil && len(conf) != len(truth) {
		return fmt.Errorf("evaluation: fold %d: %d probabilities for %d samples", len(e.folds), len(conf), len(truth))
	}
	for i, c := range conf {
		if !(c >= 0 && c <= 1) {
			return fmt.Errorf("evaluation: fold %d sample %d: probability %v outside [0,1]", len(e.folds), i, c)
		}
	}
	if len(truth) != len(pred) || len(subjects) != len(truth) {
		return fmt.Errorf("evaluation: fold %d: %d truths, %d predictions, %d subjects", len(e.folds), len(truth), len(pred), len(subjects))
	}
	if datasets != nil && len(datasets) != len(truth) {
		return fmt.Errorf("evaluation: fold %d: %d dataset tags for %d samples", len(e.folds), len(datasets), len(truth))
	}
	fold := e.pooled.emptyLike()
	for i := range truth {
		if err := fold.Add(truth[i], pred[i]); err != nil {
			return fmt.Errorf("evaluation: fold %d sample %d: %w", len(e.folds), i, err)
		}
	}
	_ = e.pooled.Merge(fold)
	e.folds = append(e.folds, FoldReport{TestSubjects: slices.Clone(testSubjects), N: fold.N(), Accuracy: fold.Accuracy()})
	e.truth = append(e.truth, truth...)
	e.pred = append(e.pred, pred...)
	e.subjects = append(e.subjects, subjects...)
	if datasets == nil {
		datasets = make([]string, len(truth))
	}
	e.datasets = append(e.datasets, datasets...)
	if conf == nil {
		e.scored = e.scored && len(truth) == 0
	}
	e.conf = append(e.conf, conf...)
	return nil
}

// ece returns the ECE of the samples with index in idx (all when nil),
// or nil when the evaluation has no probabilities.
func (e *Evaluation) ece(idx []int) *float64 {
	if !e.scored || len(e.conf) != len(e.truth) || len(e.truth) == 0 {
		return nil
	}
	var conf []float64
	var right []bool
	add := func(i int) {
		conf = append(conf, e.conf[i])
		right = append(right, e.truth[i] == e.pred[i])
	}
	if idx == nil {
		for i := range e.truth {
			add(i)
		}
	} else {
		for _, i := range idx {
			add(i)
		}
	}
	v, err := ECE(conf, right, 0)
	if err != nil {
		return nil
	}
	return &v
}

// Pooled returns the confusion pooled over the folds added so far.
func (e *Evaluation) Pooled() *Confusion { return e.pooled }

// Report builds the metrics.json content. With bootstrapReps > 0 it adds
// 95% intervals for UF1 and UAR, resampling subjects (the unit LOSO holds out).
func (e *Evaluation) Report(seconds float64, bootstrapReps int, seed uint64) (Report, error) {
	r := NewReport(e.protocol, e.pooled, e.folds, seconds)
	if bootstrapReps > 0 && len(e.truth) > 0 {
		f1, uar, err := BootstrapCI(e.truth, e.pred, e.pooled.K(), BootstrapOptions{Reps: bootstrapReps, Seed: seed, Groups: e.subjects, Scored: e.pooled.scored})
		if err != nil {
			return r, err
		}
		r.UF1CI, r.UARCI = &f1, &uar
	}
	r.ECE = e.ece(nil)
	parts := map[string]*Confusion{}
	members := map[string][]int{}
	for i, d := range e.datasets {
		if d == "" {
			continue
		}
		cm, ok := parts[d]
		if !ok {
			cm = e.pooled.emptyLike()
			parts[d] = cm
		}
		cm.counts[e.truth[i]*cm.K()+e.pred[i]]++
		members[d] = append(members[d], i)
	}
	if len(parts) > 0 {
		r.PerDataset = map[string]GroupScore{}
		for d, cm := range parts {
			r.PerDataset[d] = GroupScore{N: cm.N(), UF1: cm.UF1(), UAR: cm.UAR(), Accuracy: cm.Accuracy(), ECE: e.ece(members[d])}
		}
	}
	return r, nil
}

// NewReport builds a Report from a pooled confusion and per-fold entries.
func NewReport(protocol string, pooled *Confusion, folds []FoldReport, seconds float64) Report {
	r := Report{
		Protocol:  protocol,
		Classes:   pooled.Classes(),
		N:         pooled.N(),
		UF1:       pooled.UF1(),
		UAR:       pooled.UAR(),
		Accuracy:  pooled.Accuracy(),
		PerClass:  map[string]ClassScore{},
		Confusion: pooled.Matrix(),
		Folds:     slices.Clone(folds),
		Seconds:   seconds,
	}
	if r.Folds == nil {
		r.Folds = []FoldReport{}
	}
	for _, s := range pooled.PerClass() {
		r.PerClass[s.Class] = s
	}
	return r
}

// WriteJSON writes r to path as indented JSON, atomically.
func WriteJSON(path string, r Report) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("metrics.json: %w", err)
	}
	data = append(data, '\n')
	if err := atomicfile.WriteFile(path, data); err != nil {
		return fmt.Errorf("metrics.json: %w", err)
	}
	return nil
}

// ReadJSON reads a metrics.json file.
func ReadJSON(path string) (Report, error) {
	var r Report
	data, err := os.ReadFile(path)
	if err != nil {
		return r, fmt.Errorf("metrics.json: %w", err)
	}
	if err := json.Unmarshal(data, &r); err != nil {
		return r, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}

// PrintPerDataset writes each source dataset's scores, as the MEGC tables
// report them, one line each in the datasets' order:
// dataset=NAME n=N uf1=… uar=… accuracy=… [ece=…].
func (r Report) PrintPerDataset(w io.Writer) {
	for _, d := range slices.Sorted(maps.Keys(r.PerDataset)) {
		g := r.PerDataset[d]
		ece := ""
		if g.ECE != nil {
			ece = fmt.Sprintf(" ece=%.4f", *g.ECE)
		}
		fmt.Fprintf(w, "dataset=%s n=%d uf1=%.4f uar=%.4f accuracy=%.4f%s\n", d, g.N, g.UF1, g.UAR, g.Accuracy, ece)
	}
}
