package train

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
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

	"github.com/tell-project/tell/atomicfile"
	"github.com/tell-project/tell/dataset"
	"github.com/tell-project/tell/facs"
	"github.com/tell-project/tell/metrics"
	"github.com/tell-project/tell/model"
	"github.com/tell-project/tell/parallel"
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
	// Fleet, when set, trains the folds and the final model as jobs on a
	// queue that `tell worker` processes run; nil trains them here.
	Fleet *Fleet
	// Progress, when set, is told of each prepared row and each trained
	// epoch (steps "prepare" and "train N folds").
	Progress Progress
	Log      *slog.Logger // run log; nil for none
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
	// Worker names the fleet worker that trained the fold ("" here).
	Worker string `json:"worker,omitempty"`
}

// RunResult summarises a run.
type RunResult struct {
	Report    metrics.Report
	RowErrors []RowError
	Resumed   int // folds taken from an earlier run
	Model     string
	// Timing is what Out/run.json holds: wall and CPU time, where folds ran.
	Timing Timing
}

// Timing is a run's cost, kept out of metrics.json (whose bytes depend only
// on the data, the config and the split, wherever the folds ran) in
// Out/run.json.
type Timing struct {
	// WallSeconds is the run's wall time; CPUSeconds the CPU time of this
	// process during it (user + system; with a fleet, the workers' CPU is
	// theirs).
	WallSeconds float64 `json:"wall_seconds"`
	CPUSeconds  float64 `json:"cpu_seconds"`
	// FoldSeconds sums the wall time of the folds trained in this call.
	FoldSeconds float64 `json:"fold_seconds"`
	Folds       int     `json:"folds"`
	Resumed     int     `json:"resumed"`
	// Where is "local" or "fleet"; Workers the local worker count.
	Where   string `json:"where"`
	Workers int    `json:"workers,omitempty"`
}

// Run trains and evaluates under a protocol: folds in parallel (one per core
// by default, each deterministic for the seed whatever the scheduling), or
// as jobs of a fleet (RunOptions.Fleet), a log per fold, pooled
// metrics.json with bootstrap intervals, and a final model on all rows in
// Out/model.safetensors. Bad rows are reported, not fatal. metrics.json is
// the same, byte for byte, for the same data, config and split, whether its
// folds ran here or on a fleet; timings go to Out/run.json.
func Run(ctx context.Context, opt RunOptions) (*RunResult, error) {
	start, cpu0 := time.Now(), cpuSeconds()
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
	ds, err := Load(ctx, opt.Manifest, cfg.Input, opt.Cache, opt.Out, opt.Progress, log)
	if err != nil {
		return nil, err
	}
	res := &RunResult{RowErrors: ds.RowErrors}
	if len(ds.Classes) < 2 {
		return nil, fmt.Errorf("train: %s: need at least 2 classes to train, have %v", opt.Manifest, ds.Classes)
	}
	split := Split{Protocol: opt.Protocol, Folds: opt.Folds, Fraction: opt.HoldoutFraction, Seed: uint64(cfg.Seed)}
	p, err := newPlan(ds, fam, cfg, split, opt.Out, !opt.NoFinal, opt.Families, log)
	if err != nil {
		return nil, fmt.Errorf("train: %s: %w", opt.Manifest, err)
	}
	res.Resumed = p.resumed
	units := p.units()
	ex := executor(localExecutor{workers: cfg.Workers})
	if opt.Fleet != nil {
		ex = opt.Fleet
	}
	err = ex.execute(ctx, units, epochCounter(opt.Progress, units, fmt.Sprintf("train %d folds", len(units))), log)
	if cerr := ctx.Err(); cerr != nil {
		return nil, fmt.Errorf("train: interrupted (finished folds are kept; run again to resume): %w", cerr)
	}
	if err != nil {
		return nil, err
	}
	rep, err := p.report(opt.Bootstrap)
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
		res.Model = p.modelPath
	}
	res.Timing = Timing{WallSeconds: time.Since(start).Seconds(), CPUSeconds: cpuSeconds() - cpu0,
		FoldSeconds: p.trainedSeconds(units), Folds: len(p.folds), Resumed: p.resumed, Where: ex.where()}
	if opt.Fleet == nil {
		res.Timing.Workers = workerCount(cfg.Workers)
	}
	if err := writeJSON(filepath.Join(opt.Out, "run.json"), res.Timing); err != nil {
		return nil, err
	}
	return res, nil
}

// writeJSON writes v as indented JSON, atomically.
func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("train: %s: %w", path, err)
	}
	return atomicfile.WriteFile(path, append(b, '\n'))
}

// plan is one run's work: its data, config and folds, what earlier calls
// finished, and where results go.
type plan struct {
	ld        *Loaded
	fam       Family
	fs        model.Families
	cfg       Config
	split     Split
	folds     []dataset.Fold
	fp        string
	out       string
	results   []*foldResult
	final     bool // the final model is still to train
	modelPath string
	resumed   int
	log       *slog.Logger
}

// newPlan divides the rows, reads the folds (and final model) an earlier
// call finished under the same fingerprint, and warns of single-class
// training sides.
func newPlan(ld *Loaded, fam Family, cfg Config, split Split, out string, final bool, fs model.Families, log *slog.Logger) (*plan, error) {
	folds, err := split.Make(ld.Data.Samples)
	if err != nil {
		return nil, err
	}
	for i := range folds {
		if tr := folds[i].Train(); len(tr.Labels()) < 2 {
			log.Warn("fold trains on a single class; it can only predict that class", "fold", i,
				"test_subjects", strings.Join(folds[i].TestSubjects(), ","), "train_labels", strings.Join(tr.Labels(), ","))
		}
	}
	p := &plan{ld: ld, fam: fam, fs: fs, cfg: cfg, split: split.normal(), folds: folds, fp: ld.fingerprint(cfg, split), out: out,
		results: make([]*foldResult, len(folds)), modelPath: filepath.Join(out, "model.safetensors"), log: log}
	for i := range folds {
		if r, err := readFold(foldPath(out, i)); err == nil && r.Fingerprint == p.fp {
			p.results[i] = r
			p.resumed++
		}
	}
	if p.resumed > 0 {
		log.Info("resuming", "finished_folds", p.resumed, "of", len(folds), "run", out)
	}
	if final {
		p.final = true
		if m, err := model.Load(p.modelPath, fs); err == nil && m.Fingerprint == p.fp {
			p.final = false
			log.Info("final model already trained", "path", p.modelPath)
		}
	}
	return p, nil
}

// unit is one job of a plan: a fold, or the final model (fold −1).
type unit struct {
	p    *plan
	fold int
}

// units lists the plan's unfinished jobs: the final model first (the
// longest), then the folds.
func (p *plan) units() []unit {
	var us []unit
	if p.final {
		us = append(us, unit{p, -1})
	}
	for i := range p.folds {
		if p.results[i] == nil {
			us = append(us, unit{p, i})
		}
	}
	return us
}

func (u unit) epochs() int { return u.p.cfg.Members * u.p.cfg.Spec.Epochs() }

// trainedSeconds sums the wall time of the folds of units.
func (p *plan) trainedSeconds(units []unit) float64 {
	var s float64
	for _, u := range units {
		if u.p == p && u.fold >= 0 && p.results[u.fold] != nil {
			s += p.results[u.fold].Seconds
		}
	}
	return s
}

// executor trains units: here (localExecutor) or on a fleet (Fleet).
type executor interface {
	execute(ctx context.Context, units []unit, epoch func(int), log *slog.Logger) error
	where() string
}

// localExecutor trains units on this machine, workers at once.
type localExecutor struct{ workers int }

func (localExecutor) where() string { return "local" }

func workerCount(n int) int {
	if n <= 0 {
		return runtime.NumCPU()
	}
	return n
}

// execute runs the units in order on a pool of goroutines. Each unit's
// result is stored by the unit itself (fold file, model file) and in its
// plan; the first error stops the pool. A unit that panics stops it too,
// and the panic is raised again here once the other units in progress end
// (package parallel), so a worker's job handler fails that job only.
func (e localExecutor) execute(ctx context.Context, units []unit, epoch func(int), log *slog.Logger) error {
	var (
		mu     sync.Mutex
		next   int
		g      parallel.Group
		runErr error
	)
	errPanicked := errors.New("a fold panicked")
	work := func() {
		for {
			mu.Lock()
			if next >= len(units) || runErr != nil || ctx.Err() != nil {
				mu.Unlock()
				return
			}
			u := units[next]
			next++
			mu.Unlock()
			err := u.runLocal(ctx, epoch)
			if err != nil {
				mu.Lock()
				if runErr == nil {
					runErr = err
				}
				mu.Unlock()
				return
			}
		}
	}
	for w := 0; w < workerCount(e.workers); w++ {
		g.Go(func() {
			ended := false
			defer func() {
				if !ended { // panicking: the others take no new unit
					mu.Lock()
					runErr = errPanicked
					mu.Unlock()
				}
			}()
			work()
			ended = true
		})
	}
	g.Wait()
	return runErr
}

// runLocal trains the unit here and stores its result.
func (u unit) runLocal(ctx context.Context, epoch func(int)) error {
	p := u.p
	if u.fold < 0 {
		return p.ld.trainFinal(ctx, p.fam, p.cfg, p.fp, p.modelPath, p.out, epoch)
	}
	r, err := p.ld.runFold(ctx, p.fam, p.cfg, p.fp, &p.folds[u.fold], p.out, epoch)
	if err != nil {
		return err
	}
	p.results[u.fold] = r
	if r.Error != "" {
		p.log.Warn("fold failed", "fold", u.fold, "error", r.Error)
	}
	return nil
}

// Progress is told how far a long step has come: done of total units
// (prepared rows, trained epochs) of the step it names ("prepare", "train
// 5 folds"). Calls never overlap; done reaches total when the step ends.
// Libraries report through it and draw nothing: the command draws the bar.
type Progress func(step string, done, total int)

// epochCounter returns the epoch callback of an executor over units: it
// counts the epochs, safe for concurrent folds, and tells p (none when p is
// nil).
func epochCounter(p Progress, units []unit, step string) func(int) {
	total := 0
	for _, u := range units {
		total += u.epochs()
	}
	if p == nil || total == 0 {
		return func(int) {}
	}
	var mu sync.Mutex
	done := 0
	return func(int) {
		mu.Lock()
		defer mu.Unlock()
		done++
		p(step, done, total)
	}
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
func Load(ctx context.Context, manifest string, in model.Input, cache, out string, progress Progress, log *slog.Logger) (*Loaded, error) {
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
	data, err := Prepare(ctx, samples, kind, PrepareOptions{Size: in.Size, Apex: in.Apex, Align: in.Align, Cache: cache, Progress: progress})
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
	ld := newLoaded(data, log)
	ld.RowErrors = rowErrs
	log.Info("prepared", "rows", len(data.Samples), "left_out", len(rowErrs), "cached", data.Cached, "kind", kind, "classes", strings.Join(ld.Classes, ","))
	return ld, nil
}

// newLoaded indexes the labels of prepared data over its sorted classes
// and parses its AU strings leniently (logging what is not FACS).
func newLoaded(data *Data, log *slog.Logger) *Loaded {
	ld := &Loaded{Data: data}
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
	return ld
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

// fingerprint identifies the data, config and split, so that a resumed
// run never mixes folds trained on something else (another k, another
// holdout share), and a fleet worker knows it holds what the run planned.
func (ld *Loaded) fingerprint(cfg Config, split Split) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s|%s|%s|%s\x00", prepVersion, cfg.Hash(), split, strings.Join(ld.Classes, "\x01"))
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

// source is what the flow rows were (model.Classifier.Source): all flow
// images, all frames, or "" when mixed or not a flow model.
func (ld *Loaded) source() string {
	if ld.Data.Kind != model.KindFlow {
		return ""
	}
	images, frames := 0, 0
	for _, s := range ld.Data.Samples {
		switch {
		case s.Flow != "":
			images++
		case s.Frames != "":
			frames++
		}
	}
	switch {
	case images > 0 && frames == 0:
		return model.SourceFlowImages
	case frames > 0 && images == 0:
		return model.SourceFrames
	}
	return ""
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
	c := &model.Classifier{Info: ld.info(), Config: cfg.Config, Trained: cfg.JSON(), Source: ld.source()}
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

// runFold trains the fold here (fitFold) with its own log file
// (Out/folds/fold-NNN.log) and stores its result (Out/folds/fold-NNN.json).
func (ld *Loaded) runFold(ctx context.Context, fam Family, cfg Config, fp string, f *dataset.Fold, out string, epoch func(int)) (*foldResult, error) {
	i := f.Index()
	log, closeLog, err := foldLogger(filepath.Join(out, "folds", fmt.Sprintf("fold-%03d.log", i)))
	if err != nil {
		return nil, err
	}
	defer closeLog()
	r, err := ld.fitFold(ctx, fam, cfg, fp, f, log, epoch)
	if err != nil {
		return nil, err
	}
	if err := writeFold(out, r); err != nil {
		return nil, err
	}
	return r, nil
}

// writeFold stores a fold's result, atomically.
func writeFold(out string, r *foldResult) error {
	b, _ := json.MarshalIndent(r, "", " ")
	return atomicfile.WriteFile(foldPath(out, r.Fold), b)
}

// fitFold trains on the fold's training side (the only data any fitting
// sees: normalisation, class weights, augmentation sources, the optional
// validation subjects) and predicts its test side. A fold that cannot train
// is recorded with its error and the run goes on.
func (ld *Loaded) fitFold(ctx context.Context, fam Family, cfg Config, fp string, f *dataset.Fold, log *slog.Logger, epoch func(int)) (*foldResult, error) {
	t0 := time.Now()
	i := f.Index()
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

// trainFinal trains the final model here (fitFinal), logging to
// Out/final.log, and saves it to path.
func (ld *Loaded) trainFinal(ctx context.Context, fam Family, cfg Config, fp, path, out string, epoch func(int)) error {
	log, closeLog, err := foldLogger(filepath.Join(out, "final.log"))
	if err != nil {
		return err
	}
	defer closeLog()
	c, err := ld.fitFinal(ctx, fam, cfg, fp, log, epoch)
	if err != nil {
		return err
	}
	return c.Save(path)
}

// fitFinal trains the final model on every row.
func (ld *Loaded) fitFinal(ctx context.Context, fam Family, cfg Config, fp string, log *slog.Logger, epoch func(int)) (*model.Classifier, error) {
	all := make([]int, len(ld.Y))
	for i := range all {
		all[i] = i
	}
	d, err := ld.splitValidation(all, cfg, 0)
	if err != nil {
		return nil, err
	}
	c, err := ld.fit(ctx, fam, cfg, d, 0, log, epoch)
	if err != nil {
		return nil, fmt.Errorf("train: final model: %w", err)
	}
	c.Fingerprint = fp
	return c, nil
}

// report pools the plan's fold results into metrics.json's content. It
// holds nothing that depends on where or how fast the folds ran.
func (p *plan) report(reps int) (metrics.Report, error) {
	ev, err := metrics.NewEvaluation(p.split.Protocol, p.ld.Classes)
	if err != nil {
		return metrics.Report{}, err
	}
	for _, r := range p.results {
		if r == nil || r.Error != "" {
			continue
		}
		var conf []float64
		if len(r.Probs) == len(r.Truth) {
			conf = make([]float64, len(r.Truth))
			for k, p := range r.Probs {
				conf[k] = min(1, max(0, float64(p[r.Pred[k]])))
			}
		}
		if err := ev.AddFoldScored(r.TestSubjects, r.Truth, r.Pred, r.Subjects, tags(r.Datasets, len(r.Truth)), conf); err != nil {
			return metrics.Report{}, err
		}
	}
	if reps == 0 {
		reps = 1000
	}
	if reps < 0 {
		reps = 0
	}
	rep, err := ev.Report(0, reps, uint64(p.cfg.Seed))
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
