package train

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/tell-project/tell/atomicfile"
	"github.com/tell-project/tell/metrics"
	"github.com/tell-project/tell/model"
)

// EvalOptions configures Evaluate (`tell eval`).
type EvalOptions struct {
	Model     string // model.safetensors
	Families  model.Families
	Manifest  string
	Out       string
	Cache     string   // default Out/cache
	Bootstrap int      // default 1000; negative for none
	Progress  Progress // rows prepared
	Log       *slog.Logger
}

// EvalResult summarises an evaluation.
type EvalResult struct {
	Report    metrics.Report
	RowErrors []RowError
}

// Evaluate scores a trained model on every row of a manifest. Rows whose
// label the model does not know are reported and left out.
func Evaluate(ctx context.Context, opt EvalOptions) (*EvalResult, error) {
	start := time.Now()
	log := opt.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m, err := model.Load(opt.Model, opt.Families)
	if err != nil {
		return nil, err
	}
	trained, err := ParseConfig(m.Trained, opt.Families)
	if err != nil {
		return nil, fmt.Errorf("train: %s: config: %w", opt.Model, err)
	}
	if err := os.MkdirAll(opt.Out, 0o755); err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	samples, rowErrs, err := ReadManifest(opt.Manifest)
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	if k := KindOf(samples); k != m.Kind && len(samples) > 0 {
		return nil, fmt.Errorf("train: %s: rows are %s inputs, model %s sees %s inputs", opt.Manifest, k, opt.Model, m.Kind)
	}
	cache := opt.Cache
	if cache == "" {
		cache = filepath.Join(opt.Out, "cache")
	}
	in := m.Config.Input
	d, err := Prepare(ctx, samples, m.Kind, PrepareOptions{Size: in.Size, Apex: in.Apex, Align: in.Align, Cache: cache, Progress: opt.Progress})
	if err != nil {
		return nil, err
	}
	rowErrs = append(rowErrs, d.Errors...)
	idx := map[string]int{}
	for i, c := range m.Classes {
		idx[c] = i
	}
	var xs [][]float32
	var truth []int
	var keep []int
	for i, s := range d.Samples {
		y, ok := idx[s.Label]
		if !ok {
			rowErrs = append(rowErrs, RowError{Line: s.Line, Sample: s.ID, Err: fmt.Errorf("label %q is not one of the model's classes %v", s.Label, m.Classes)})
			continue
		}
		xs = append(xs, d.X[i])
		truth = append(truth, y)
		keep = append(keep, i)
	}
	for _, e := range rowErrs {
		log.Warn("row left out", "manifest", opt.Manifest, "row", e.Error())
	}
	if len(xs) == 0 {
		return nil, fmt.Errorf("train: %s: no row to evaluate (%d left out)", opt.Manifest, len(rowErrs))
	}
	scores := m.Probabilities(xs)
	pred := model.Classify(scores)
	ev, err := metrics.NewEvaluation("eval", m.Classes)
	if err != nil {
		return nil, err
	}
	subjects := make([]string, len(keep))
	datasets := make([]string, len(keep))
	seen := map[string]bool{}
	var testSubjects []string
	for k, i := range keep {
		subjects[k] = d.Samples[i].Subject
		datasets[k] = d.Samples[i].Dataset
		if !seen[subjects[k]] {
			seen[subjects[k]] = true
			testSubjects = append(testSubjects, subjects[k])
		}
	}
	conf := make([]float64, len(pred))
	for k, p := range pred {
		conf[k] = min(1, max(0, float64(scores[k][p])))
	}
	if err := ev.AddFoldScored(testSubjects, truth, pred, subjects, tags(datasets, len(truth)), conf); err != nil {
		return nil, err
	}
	reps := opt.Bootstrap
	if reps == 0 {
		reps = 1000
	}
	if reps < 0 {
		reps = 0
	}
	rep, err := ev.Report(time.Since(start).Seconds(), reps, uint64(trained.Seed))
	if err != nil {
		return nil, err
	}
	if err := metrics.WriteJSON(filepath.Join(opt.Out, "metrics.json"), rep); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	header := []string{"sample", "label", "pred"}
	for _, c := range m.Classes {
		header = append(header, "score_"+c)
	}
	w.Write(header)
	for k, i := range keep {
		s := d.Samples[i]
		row := []string{s.ID, s.Label, m.Classes[pred[k]]}
		for _, v := range scores[k] {
			row = append(row, strconv.FormatFloat(float64(v), 'g', 6, 32))
		}
		w.Write(row)
	}
	w.Flush()
	if err := errors.Join(w.Error(), atomicfile.WriteFile(filepath.Join(opt.Out, "predictions.csv"), buf.Bytes())); err != nil {
		return nil, err
	}
	if err := writeRowErrors(filepath.Join(opt.Out, "errors.txt"), rowErrs); err != nil {
		return nil, err
	}
	return &EvalResult{Report: rep, RowErrors: rowErrs}, nil
}
