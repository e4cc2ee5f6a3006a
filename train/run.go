package train

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
	"maps"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/tell-project/tell/atomicfile"
	"github.com/tell-project/tell/dataset"
	"github.com/tell-project/tell/facs"
	"github.com/tell-project/tell/metrics"
	"github.com/tell-project/tell/model"
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
	// Families are the model families Config.Model may name.
	Families model.Families
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
	Datasets     []string `json:"datasets,omitempty"`
	// Probs are the test rows' class probabilities (averaged over the
	// members of a seed ensemble).
	Probs   [][]float32 `json:"probs,omitempty"`
	Seconds float64     `json:"seconds"`
	Error   string      `json:"error,omitempty"`
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
		return nil, fmt.Errorf("train: config: %w", err)
	}
	fam, err := trainer(opt.Families, cfg.Model)
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	switch opt.Protocol {
	case ProtocolLOSO, ProtocolKFold, ProtocolHoldout:
	default:
		return nil, fmt.Errorf("train: unknown protocol %q (want loso, kfold or holdout)", opt.Protocol)
	}
	log := opt.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(filepath.Join(opt.Out, "folds"), 0o755); err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	ds, err := Load(ctx, opt.Manifest, cfg.Input, opt.Cache, opt.Out, opt.Bar, log)
	if err != nil {
		return nil, err
	}
	res := &RunResult{RowErrors: ds.RowErrors}
	if len(ds.Classes) < 2 {
		return nil, fmt.Errorf("train: %s: need at least 2 classes to train, have %v", opt.Manifest, ds.Classes)
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
		return nil, fmt.Errorf("train: unknown protocol %q (want loso, kfold or holdout)", opt.Protocol)
	}
	if err != nil {
		return nil, fmt.Errorf("train: %s: %w", opt.Manifest, err)
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
		if m, err := model.Load(modelPath, opt.Families); err == nil && m.Fingerprint == fp {
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
		bar = progressbar.NewOptions(len(jobs)*cfg.Members*cfg.Spec.Epochs(), progressbar.OptionSetWriter(opt.Bar),
			progressbar.OptionSetDescription(fmt.Sprintf("train %d folds", len(jobs))),
			progressbar.OptionSetPredictTime(true), progressbar.OptionShowElapsedTimeOnFinish(),
			progressbar.OptionThrottle(500*time.Millisecond), progressbar.OptionOnCompletion(func() { fmt.Fprintln(opt.Bar) }))
	}
	workers := cfg.Workers
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
					err = ds.trainFinal(ctx, fam, cfg, fp, modelPath, opt.Out, epochFn)
				} else {
					var r *foldResult
					r, err = ds.runFold(ctx, fam, cfg, fp, &folds[j.fold], opt.Out, epochFn)
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
		return nil, fmt.Errorf("train: interrupted (finished folds are kept; run again to resume): %w", err)
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
	RowErrors []RowError
}

// Load reads and prepares a manifest: bad rows become RowErrors (logged),
// AU strings are parsed leniently (what is not FACS is logged and only that
// part loses its AU code), labels are indexed over the sorted classes.
func Load(ctx context.Context, manifest string, in model.Input, cache, out string, bar io.Writer, log *slog.Logger) (*Loaded, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	samples, rowErrs, err := ReadManifest(manifest)
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	if cache == "" && out != "" {
		cache = filepath.Join(out, "cache")
	}
	kind := KindOf(samples)
	data, err := Prepare(ctx, samples, kind, PrepareOptions{Size: in.Size, Apex: in.Apex, Align: in.Align, Cache: cache, Bar: bar})
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
		return nil, fmt.Errorf("train: %s: no usable rows (%d left out)", manifest, len(rowErrs))
	}
	ld := &Loaded{Data: data, RowErrors: rowErrs}
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
			log.Warn("AU string partly not FACS; row trains with the AUs of the rest", "sample", s.ID, "line", s.Line, "aus", s.AUs, "not_facs", strings.Join(texts, " | "), "kept", code.String())
		}
		ld.AUs = append(ld.AUs, code)
	}
	log.Info("prepared", "rows", len(data.Samples), "left_out", len(rowErrs), "cached", data.Cached, "kind", kind, "classes", strings.Join(ld.Classes, ","))
	return ld, nil
}

// ClassesOf returns the sorted distinct labels.
func ClassesOf(labels []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, l := range labels {
		if l != "" && !seen[l] {
			seen[l] = true
			out = append(out, l)
		}
	}
	sort.Strings(out)
	return out
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

func (ld *Loaded) info() model.Info {
	return model.Info{Kind: ld.Data.Kind, Layout: ld.Data.Layout, Classes: ld.Classes}
}

// fitData gathers rows idx (a fold's training side) for a family's Fit.
func (ld *Loaded) fitData(idx []int) *FitData {
	d := &FitData{Info: ld.info()}
	for _, i := range idx {
		d.X = append(d.X, ld.Data.X[i])
		d.Static = append(d.Static, ld.Data.Static[i])
		d.Y = append(d.Y, ld.Y[i])
		d.AUs = append(d.AUs, ld.AUs[i])
		d.Datasets = append(d.Datasets, ld.Data.Samples[i].Dataset)
	}
	return d
}

// fit trains the members of a seed ensemble on d.
func (ld *Loaded) fit(ctx context.Context, fam Family, cfg Config, d *FitData, stream uint64, log *slog.Logger, epoch func(int)) (*model.Classifier, error) {
	c := &model.Classifier{Info: ld.info(), Config: cfg.Config, Trained: cfg.JSON()}
	for k := 0; k < cfg.Members; k++ {
		if cfg.Members > 1 {
			log.Info("member", "index", k, "seed", cfg.Seed+int64(k))
		}
		m, err := fam.Fit(ctx, cfg.Spec, d, FitOptions{Seed: cfg.Seed + int64(k), Stream: stream, Log: log, Epoch: epoch})
		if err != nil {
			return nil, err
		}
		c.Members = append(c.Members, m)
	}
	return c, nil
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
		return nil, nil, fmt.Errorf("train: %w", err)
	}
	return slog.New(slog.NewTextHandler(f, &slog.HandlerOptions{Level: slog.LevelDebug})), func() { f.Close() }, nil
}

// runFold trains on the fold's training side (the only data any fitting
// sees: normalisation, class weights, augmentation sources, the optional
// validation subjects) and predicts its test side. A fold that cannot train
// is recorded with its error and the run goes on.
func (ld *Loaded) runFold(ctx context.Context, fam Family, cfg Config, fp string, f *dataset.Fold, out string, epoch func(int)) (*foldResult, error) {
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
	if len(train.Labels()) < 2 {
		log.Warn("training side has a single class; the model can only predict it")
	}
	d, err := ld.splitValidation(train.Indices(), cfg, uint64(i)+1)
	if err != nil {
		return nil, err
	}
	if d.Val != nil {
		log.Info("validation", "subjects", strings.Join(d.Val.Subjects, ","), "rows", len(d.Val.Y))
	}
	c, err := ld.fit(ctx, fam, cfg, d, uint64(i)+1, log, epoch)
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
		probs := c.Probabilities(xs)
		pred := model.Classify(probs)
		for k, j := range test.Indices() {
			s := ld.Data.Samples[j]
			r.Samples = append(r.Samples, s.ID)
			r.Subjects = append(r.Subjects, s.Subject)
			r.Datasets = append(r.Datasets, s.Dataset)
			r.Truth = append(r.Truth, ld.Y[j])
			r.Pred = append(r.Pred, pred[k])
			r.Probs = append(r.Probs, probs[k])
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

// splitValidation builds the FitData of training rows idx; with
// cfg.Validation > 0 it moves a seeded share of their subjects (at least
// one, never all) into FitData.Val. Only training rows are ever touched.
func (ld *Loaded) splitValidation(idx []int, cfg Config, stream uint64) (*FitData, error) {
	if cfg.Validation <= 0 {
		return ld.fitData(idx), nil
	}
	var subjects []string
	seen := map[string]bool{}
	for _, i := range idx {
		if s := ld.Data.Samples[i].Subject; !seen[s] {
			seen[s] = true
			subjects = append(subjects, s)
		}
	}
	sort.Strings(subjects)
	if len(subjects) < 2 {
		return nil, fmt.Errorf("train: validation needs at least 2 training subjects, have %d", len(subjects))
	}
	rng := rand.New(rand.NewPCG(uint64(cfg.Seed), 0x76616c^stream))
	rng.Shuffle(len(subjects), func(a, b int) { subjects[a], subjects[b] = subjects[b], subjects[a] })
	n := min(max(1, int(math.Round(cfg.Validation*float64(len(subjects))))), len(subjects)-1)
	val := map[string]bool{}
	for _, s := range subjects[:n] {
		val[s] = true
	}
	var tr []int
	v := &ValData{Subjects: slices.Sorted(maps.Keys(val))}
	for _, i := range idx {
		if val[ld.Data.Samples[i].Subject] {
			v.X = append(v.X, ld.Data.X[i])
			v.Y = append(v.Y, ld.Y[i])
		} else {
			tr = append(tr, i)
		}
	}
	d := ld.fitData(tr)
	d.Val = v
	return d, nil
}

func (ld *Loaded) trainFinal(ctx context.Context, fam Family, cfg Config, fp, path, out string, epoch func(int)) error {
	log, closeLog, err := foldLogger(filepath.Join(out, "final.log"))
	if err != nil {
		return err
	}
	defer closeLog()
	all := make([]int, len(ld.Y))
	for i := range all {
		all[i] = i
	}
	d, err := ld.splitValidation(all, cfg, 0)
	if err != nil {
		return err
	}
	c, err := ld.fit(ctx, fam, cfg, d, 0, log, epoch)
	if err != nil {
		return fmt.Errorf("train: final model: %w", err)
	}
	c.Fingerprint = fp
	return c.Save(path)
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
		if err := ev.AddFoldTagged(r.TestSubjects, r.Truth, r.Pred, r.Subjects, tags(r.Datasets, len(r.Truth))); err != nil {
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

// tags returns the dataset tags of a fold, or nil when no row has one (the
// report then has no per-dataset part).
func tags(ds []string, n int) []string {
	if len(ds) != n {
		return nil
	}
	for _, d := range ds {
		if d != "" {
			return ds
		}
	}
	return nil
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
