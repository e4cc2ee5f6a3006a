package merclip

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/tell-project/tell/atomicfile"
	"github.com/tell-project/tell/dataset"
	"github.com/tell-project/tell/facs"
	"github.com/tell-project/tell/metrics"
)

// Protocols accepted by Run.
const (
	ProtocolLOSO    = "loso"
	ProtocolKFold   = "kfold"
	ProtocolHoldout = "holdout"
)

// RunOptions configures Run (`tell train`).
type RunOptions struct {
	Manifest string
	Protocol string // loso, kfold or holdout
	Folds    int    // k for kfold (default 5)
	// HoldoutFraction is the test share for holdout (default 0.2).
	HoldoutFraction float64
	Out             string // run folder
	// Cache is the prepare cache (default Out/cache).
	Cache  string
	Config Config
	// Bootstrap is the number of bootstrap resamples for the intervals
	// (default 1000; negative for none).
	Bootstrap int
	// NoFinal skips training the final model on all rows.
	NoFinal bool
	Bar     io.Writer    // progress bars; nil for none
	Log     *slog.Logger // run log; nil for none
}

// foldResult is one finished fold, stored as Out/folds/fold-NNN.json so that
// a killed run resumes after the last finished fold.
type foldResult struct {
	Fingerprint  string   `json:"fingerprint"`
	Fold         int      `json:"fold"`
	TestSubjects []string `json:"test_subjects"`
	Samples      []string `json:"samples"`
	Truth        []int    `json:"truth"`
	Pred         []int    `json:"pred"`
	Subjects     []string `json:"subjects"`
	Seconds      float64  `json:"seconds"`
	Error        string   `json:"error,omitempty"`
}

// RunResult summarises a run.
type RunResult struct {
	Report    metrics.Report
	RowErrors []RowError
	Resumed   int // folds taken from an earlier run
	Model     string
}

// Run trains and evaluates under a protocol: folds in parallel (one per core
// by default, each deterministic for the seed whatever the scheduling), a log
// per fold, pooled metrics.json with bootstrap intervals, and a final model on
// all rows in Out/model.safetensors. Bad rows are reported, not fatal.
func Run(ctx context.Context, opt RunOptions) (*RunResult, error) {
	start := time.Now()
	cfg := opt.Config
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("merclip: config: %w", err)
	}
	switch opt.Protocol {
	case ProtocolLOSO, ProtocolKFold, ProtocolHoldout:
	default:
		return nil, fmt.Errorf("merclip: unknown protocol %q (want loso, kfold or holdout)", opt.Protocol)
	}
	log := opt.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(filepath.Join(opt.Out, "folds"), 0o755); err != nil {
		return nil, fmt.Errorf("merclip: %w", err)
	}
	ds, err := Load(ctx, opt.Manifest, cfg, opt.Cache, opt.Out, opt.Bar, log)
	if err != nil {
		return nil, err
	}
	res := &RunResult{RowErrors: ds.RowErrors}
	if len(ds.Classes) < 2 {
		return nil, fmt.Errorf("merclip: %s: need at least 2 classes to train, have %v", opt.Manifest, ds.Classes)
	}
	var folds []dataset.Fold
	switch opt.Protocol {
	case ProtocolLOSO:
		folds, err = dataset.LOSO(ds.Data.Samples)
	case ProtocolKFold:
		k := opt.Folds
		if k == 0 {
			k = 5
		}
		folds, err = dataset.KFold(ds.Data.Samples, k, uint64(cfg.Seed))
	case ProtocolHoldout:
		f := opt.HoldoutFraction
		if f == 0 {
			f = 0.2
		}
		var fold dataset.Fold
		fold, err = dataset.Holdout(ds.Data.Samples, f, uint64(cfg.Seed))
		folds = []dataset.Fold{fold}
	default:
		return nil, fmt.Errorf("merclip: unknown protocol %q (want loso, kfold or holdout)", opt.Protocol)
	}
	if err != nil {
		return nil, fmt.Errorf("merclip: %s: %w", opt.Manifest, err)
	}
	for i := range folds {
		if tr := folds[i].Train(); len(tr.Labels()) < 2 {
			log.Warn("fold trains on a single class; it can only predict that class", "fold", i,
				"test_subjects", strings.Join(folds[i].TestSubjects(), ","), "train_labels", strings.Join(tr.Labels(), ","))
		}
	}
	fp := ds.fingerprint(cfg, opt.Protocol)
	results := make([]*foldResult, len(folds))
	for i := range folds {
		if r, err := readFold(foldPath(opt.Out, i)); err == nil && r.Fingerprint == fp {
			results[i] = r
			res.Resumed++
		}
	}
	if res.Resumed > 0 {
		log.Info("resuming", "finished_folds", res.Resumed, "of", len(folds))
	}
	modelPath := filepath.Join(opt.Out, "model.safetensors")
	needFinal := !opt.NoFinal
	if needFinal {
		if m, err := LoadModel(modelPath); err == nil && m.Fingerprint == fp {
			needFinal = false
			log.Info("final model already trained", "path", modelPath)
		}
	}
	// Jobs: the final model first (the longest), then the unfinished folds.
	type job struct{ fold int } // -1: final model
	var jobs []job
	if needFinal {
		jobs = append(jobs, job{-1})
	}
	for i := range folds {
		if results[i] == nil {
			jobs = append(jobs, job{i})
		}
	}
	var bar *progressbar.ProgressBar
	if opt.Bar != nil && len(jobs) > 0 {
		bar = progressbar.NewOptions(len(jobs)*cfg.Train.Epochs, progressbar.OptionSetWriter(opt.Bar),
			progressbar.OptionSetDescription(fmt.Sprintf("train %d folds", len(jobs))),
			progressbar.OptionSetPredictTime(true), progressbar.OptionShowElapsedTimeOnFinish(),
			progressbar.OptionThrottle(500*time.Millisecond), progressbar.OptionOnCompletion(func() { fmt.Fprintln(opt.Bar) }))
	}
	workers := cfg.Train.Workers
	if workers <= 0 {
		workers = runtime.NumCPU()
	}
	var (
		mu      sync.Mutex
		next    int
		wg      sync.WaitGroup
		runErr  error
		epochFn = func(int) {
			if bar != nil {
				bar.Add(1)
			}
		}
	)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				if next >= len(jobs) || runErr != nil || ctx.Err() != nil {
					mu.Unlock()
					return
				}
				j := jobs[next]
				next++
				mu.Unlock()
				var err error
				if j.fold < 0 {
					err = ds.trainFinal(ctx, cfg, fp, modelPath, opt.Out, epochFn)
				} else {
					var r *foldResult
					r, err = ds.runFold(ctx, cfg, fp, &folds[j.fold], opt.Out, epochFn)
					if err == nil {
						results[j.fold] = r
						if r.Error != "" {
							log.Warn("fold failed", "fold", j.fold, "error", r.Error)
						}
					}
				}
				if err != nil {
					mu.Lock()
					if runErr == nil {
						runErr = err
					}
					mu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	if bar != nil {
		bar.Finish()
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("merclip: interrupted (finished folds are kept; run again to resume): %w", err)
	}
	if runErr != nil {
		return nil, runErr
	}
	rep, err := ds.report(opt.Protocol, results, opt.Bootstrap, cfg, time.Since(start).Seconds())
	if err != nil {
		return nil, err
	}
	if err := metrics.WriteJSON(filepath.Join(opt.Out, "metrics.json"), rep); err != nil {
		return nil, err
	}
	if err := writeRowErrors(filepath.Join(opt.Out, "errors.txt"), res.RowErrors); err != nil {
		return nil, err
	}
	res.Report = rep
	if !opt.NoFinal {
		res.Model = modelPath
	}
	return res, nil
}

// Loaded is a manifest read and prepared for training or evaluation.
type Loaded struct {
	Data      *Data
	Classes   []string
	Y         []int
	AUs       []facs.Code
	Vocab     *Vocab
	RowErrors []RowError
}

// Load reads and prepares a manifest: bad rows become RowErrors (logged),
// AU strings are parsed leniently (what is not FACS is logged and only that
// part loses its text), labels are indexed over the sorted classes.
func Load(ctx context.Context, manifest string, cfg Config, cache, out string, bar io.Writer, log *slog.Logger) (*Loaded, error) {
	samples, rowErrs, err := ReadManifest(manifest)
	if err != nil {
		return nil, fmt.Errorf("merclip: %w", err)
	}
	if cache == "" && out != "" {
		cache = filepath.Join(out, "cache")
	}
	kind := KindOf(samples)
	data, err := Prepare(ctx, samples, kind, PrepareOptions{Size: cfg.Input.Size, Apex: cfg.Input.Apex, Align: cfg.Input.Align, Cache: cache, Bar: bar})
	if err != nil {
		return nil, err
	}
	rowErrs = append(rowErrs, data.Errors...)
	if data.AlignError != "" {
		log.Warn("faces not aligned; frames and images taken as given", "reason", data.AlignError)
	}
	if data.Unaligned > 0 {
		log.Warn("no face found in some rows; taken as given", "rows", data.Unaligned, "aligned", data.Aligned)
	}
	for _, e := range rowErrs {
		log.Warn("row left out", "manifest", manifest, "row", e.Error())
	}
	if len(data.Samples) == 0 {
		return nil, fmt.Errorf("merclip: %s: no usable rows (%d left out)", manifest, len(rowErrs))
	}
	ld := &Loaded{Data: data, RowErrors: rowErrs, Vocab: NewVocab(TextCorpus())}
	labels := make([]string, len(data.Samples))
	for i, s := range data.Samples {
		labels[i] = s.Label
	}
	ld.Classes = ClassesOf(labels)
	idx := map[string]int{}
	for i, c := range ld.Classes {
		idx[c] = i
	}
	for _, s := range data.Samples {
		ld.Y = append(ld.Y, idx[s.Label])
		// A string only partly FACS keeps the AU text of its FACS part.
		code, remarks := facs.ParseLenient(s.AUs)
		if len(remarks) > 0 {
			texts := make([]string, len(remarks))
			for i, r := range remarks {
				texts[i] = r.Text
			}
			log.Warn("AU string partly not FACS; row trains with the AU text of the rest", "sample", s.ID, "line", s.Line, "aus", s.AUs, "not_facs", strings.Join(texts, " | "), "kept", code.String())
		}
		ld.AUs = append(ld.AUs, code)
	}
	log.Info("prepared", "rows", len(data.Samples), "left_out", len(rowErrs), "cached", data.Cached, "kind", kind, "classes", strings.Join(ld.Classes, ","))
	return ld, nil
}

// fingerprint identifies the data, config and protocol, so that a resumed
// run never mixes folds trained on something else.
func (ld *Loaded) fingerprint(cfg Config, protocol string) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s|%s|%s|%s\x00", prepVersion, cfg.Hash(), protocol, strings.Join(ld.Classes, "\x01"))
	var b [4]byte
	for i, s := range ld.Data.Samples {
		fmt.Fprintf(h, "%s\x01%s\x01%s\x01%s\x00", s.ID, s.Subject, s.Label, ld.AUs[i].String())
		for _, v := range ld.Data.X[i] {
			binary.LittleEndian.PutUint32(b[:], math.Float32bits(v))
			h.Write(b[:])
		}
	}
	return hex.EncodeToString(h.Sum(nil)[:12])
}

func (ld *Loaded) trainSet(idx []int) TrainSet {
	var ts TrainSet
	for _, i := range idx {
		ts.X = append(ts.X, ld.Data.X[i])
		ts.Static = append(ts.Static, ld.Data.Static[i])
		ts.Y = append(ts.Y, ld.Y[i])
		ts.AUs = append(ts.AUs, ld.AUs[i])
	}
	return ts
}

func foldPath(out string, i int) string {
	return filepath.Join(out, "folds", fmt.Sprintf("fold-%03d.json", i))
}

func readFold(path string) (*foldResult, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r foldResult
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &r, nil
}

// foldLogger opens the fold's own log file.
func foldLogger(path string) (*slog.Logger, func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, nil, fmt.Errorf("merclip: %w", err)
	}
	return slog.New(slog.NewTextHandler(f, &slog.HandlerOptions{Level: slog.LevelDebug})), func() { f.Close() }, nil
}

// runFold trains on the fold's training side (the only data any fitting
// sees: normalisation, class weights, LocalStaticFaceMix sources) and
// predicts its test side. A fold that cannot train is recorded with its
// error and the run goes on.
func (ld *Loaded) runFold(ctx context.Context, cfg Config, fp string, f *dataset.Fold, out string, epoch func(int)) (*foldResult, error) {
	t0 := time.Now()
	i := f.Index()
	log, closeLog, err := foldLogger(filepath.Join(out, "folds", fmt.Sprintf("fold-%03d.log", i)))
	if err != nil {
		return nil, err
	}
	defer closeLog()
	train, test := f.Train(), f.Test()
	r := &foldResult{Fingerprint: fp, Fold: i, TestSubjects: f.TestSubjects()}
	log.Info("fold", "index", i, "test_subjects", strings.Join(r.TestSubjects, ","), "train", train.Len(), "test", test.Len(), "train_labels", strings.Join(train.Labels(), ","))
	ts := ld.trainSet(train.Indices())
	m, err := Fit(ctx, cfg, ld.Data.Kind, ld.Classes, ld.Vocab, ts, FitOptions{Stream: uint64(i) + 1, Log: log, Epoch: epoch})
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		r.Error = err.Error()
		log.Error("fold failed", "error", err)
	} else {
		var xs [][]float32
		for _, j := range test.Indices() {
			xs = append(xs, ld.Data.X[j])
		}
		pred := Classify(m.Predict(xs))
		for k, j := range test.Indices() {
			r.Samples = append(r.Samples, ld.Data.Samples[j].ID)
			r.Subjects = append(r.Subjects, ld.Data.Samples[j].Subject)
			r.Truth = append(r.Truth, ld.Y[j])
			r.Pred = append(r.Pred, pred[k])
		}
	}
	r.Seconds = time.Since(t0).Seconds()
	correct := 0
	for k := range r.Truth {
		if r.Truth[k] == r.Pred[k] {
			correct++
		}
	}
	log.Info("fold done", "seconds", r.Seconds, "test", len(r.Truth), "correct", correct)
	b, _ := json.MarshalIndent(r, "", " ")
	if err := atomicfile.WriteFile(foldPath(out, i), b); err != nil {
		return nil, err
	}
	return r, nil
}

func (ld *Loaded) trainFinal(ctx context.Context, cfg Config, fp, path, out string, epoch func(int)) error {
	log, closeLog, err := foldLogger(filepath.Join(out, "final.log"))
	if err != nil {
		return err
	}
	defer closeLog()
	all := make([]int, len(ld.Y))
	for i := range all {
		all[i] = i
	}
	m, err := Fit(ctx, cfg, ld.Data.Kind, ld.Classes, ld.Vocab, ld.trainSet(all), FitOptions{Stream: 0, Log: log, Epoch: epoch})
	if err != nil {
		return fmt.Errorf("merclip: final model: %w", err)
	}
	m.Fingerprint = fp
	return m.Save(path)
}

func (ld *Loaded) report(protocol string, results []*foldResult, reps int, cfg Config, seconds float64) (metrics.Report, error) {
	ev, err := metrics.NewEvaluation(protocol, ld.Classes)
	if err != nil {
		return metrics.Report{}, err
	}
	for _, r := range results {
		if r == nil || r.Error != "" {
			continue
		}
		if err := ev.AddFold(r.TestSubjects, r.Truth, r.Pred, r.Subjects); err != nil {
			return metrics.Report{}, err
		}
	}
	if reps == 0 {
		reps = 1000
	}
	if reps < 0 {
		reps = 0
	}
	rep, err := ev.Report(seconds, reps, uint64(cfg.Seed))
	if err != nil && ev.Pooled().N() > 0 {
		return rep, err
	}
	return rep, nil
}

func writeRowErrors(path string, errs []RowError) error {
	if len(errs) == 0 {
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		return nil
	}
	var b strings.Builder
	for _, e := range errs {
		b.WriteString(e.Error())
		b.WriteByte('\n')
	}
	return atomicfile.WriteFile(path, []byte(b.String()))
}
