package train

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"sync"
	"time"

	"github.com/tell-project/tell/atomicfile"
	"github.com/tell-project/tell/model"
	"github.com/tell-project/tell/queue"
)

// Fleet trains folds as jobs on a queue (NATS JetStream, the queue `tell
// analyze` jobs use), run by `tell worker` processes anywhere: each fold,
// and the final model, is one job of Kind "train". The prepared rows of a
// run travel once, as a blob (queue.PutBlob); a job's input is a small JSON
// naming the blob, the config, the split and the fold. A worker rebuilds
// the same folds from the same rows and checks the run's fingerprint before
// it trains, so a fold trained on a fleet is the fold trained here: the same
// bytes of fold results, model and metrics.json.
//
// Job ids are the hash of the run's fingerprint and the fold: submitting a
// run again finds its jobs (queue.Submit is idempotent), a finished fold is
// collected, not retrained, and the queue keeps one result per job (a
// killed worker's fold runs again elsewhere; a late duplicate's result is
// dropped). Results are written to the run folder as they arrive, and a
// job is deleted once its result is there, so an interrupted run resumes
// from its folder and the queue.
//
// Limits: workers must run the same build as the submitter (a worker of
// another build leaves the job to others, see queue.ErrNotHandled); the
// rows must fit a worker's memory budget (WorkerOptions.MaxDataBytes); jobs
// are not cancelled when the submitter is interrupted (they finish, and a
// rerun collects them).
type Fleet struct {
	Queue *queue.Queue
	// Owner is recorded as the jobs' owner.
	Owner string
	// Scope names the runs the prepared rows belong to (default: the first
	// run folder's absolute path): the blob's name depends on it, so runs
	// of other scopes never share, or remove, each other's blob, while a
	// rerun of the same scope finds it.
	Scope string
	// Poll is how often unfinished jobs are read again when the queue's
	// watch has been silent (default 15 s).
	Poll time.Duration
}

// JobKind is the queue.Job.Kind of training jobs.
const JobKind = "train"

// fleetVersion is the version of the job input format.
const fleetVersion = 1

// fleetSpec is a training job's input.
type fleetSpec struct {
	Version     int             `json:"v"`
	Data        string          `json:"data"` // blob key of the prepared rows
	DataBytes   int64           `json:"data_bytes"`
	Config      json.RawMessage `json:"config"`
	Split       Split           `json:"split"`
	Fold        int             `json:"fold"` // −1: the final model
	Fingerprint string          `json:"fingerprint"`
	// Build is the submitter's build (vcs revision); a worker of another
	// build leaves the job to others.
	Build string `json:"build,omitempty"`
}

// fleetSummary is a training job's summary (queue.Job.Result); the fold's
// result itself is the job's output fold.json, the final model its output
// model.safetensors.
type fleetSummary struct {
	Fingerprint string  `json:"fingerprint"`
	Fold        int     `json:"fold"`
	Error       string  `json:"error,omitempty"`
	Seconds     float64 `json:"seconds"`
}

// Outputs of a training job.
const (
	outFold  = "fold.json"
	outLog   = "fold.log"
	outModel = "model.safetensors"
)

// maxFoldBytes bounds a fold result read back from the queue.
const maxFoldBytes = 1 << 30

func (f *Fleet) where() string { return "fleet" }

// jobID names the job of a run's fold (−1: final model).
func jobID(fp string, fold int) string {
	h := sha256.Sum256(fmt.Appendf(nil, "%s/%d", fp, fold))
	return "train-" + hex.EncodeToString(h[:16])
}

// build is this program's vcs revision ("" when unknown, as in tests).
func build() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	var rev, mod string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			mod = s.Value
		}
	}
	if rev != "" && mod == "true" {
		rev += "+modified"
	}
	return rev
}

// fleetJob is a submitted unit.
type fleetJob struct {
	u      unit
	id     string
	epochs int // epochs reported so far
	done   bool
}

// execute submits every unit as a job, then collects results as jobs end,
// until every one has ended. Results are stored as they arrive; a failed
// job is reported when all have ended.
func (f *Fleet) execute(ctx context.Context, units []unit, epoch func(int), log *slog.Logger) error {
	if len(units) == 0 {
		return nil
	}
	q := f.Queue
	if q == nil {
		return errors.New("train: fleet without a queue")
	}
	scope := f.Scope
	if scope == "" {
		scope, _ = filepath.Abs(units[0].p.out)
	}
	// One blob per prepared data set: its bytes carry the scope, so that
	// two scopes never share (and remove) one blob.
	keys := map[*Loaded]string{}
	sizes := map[*Loaded]int64{}
	for _, u := range units {
		ld := u.p.ld
		if _, ok := keys[ld]; ok {
			continue
		}
		b, err := encodePrepared(ld, scope)
		if err != nil {
			return err
		}
		key, err := q.PutBlob(ctx, b)
		if err != nil {
			return fmt.Errorf("train: fleet: %w", err)
		}
		keys[ld], sizes[ld] = key, int64(len(b))
		log.Info("prepared rows stored for the fleet", "blob", key[:12], "bytes", len(b), "rows", len(ld.Y))
	}
	jobs := map[string]*fleetJob{}
	order := make([]*fleetJob, 0, len(units))
	for _, u := range units {
		cfg, err := json.Marshal(u.p.cfg)
		if err != nil {
			return err
		}
		spec, _ := json.Marshal(fleetSpec{Version: fleetVersion, Data: keys[u.p.ld], DataBytes: sizes[u.p.ld], Config: cfg,
			Split: u.p.split, Fold: u.fold, Fingerprint: u.p.fp, Build: build()})
		id := jobID(u.p.fp, u.fold)
		what := fmt.Sprintf("fold-%03d", u.fold)
		if u.fold < 0 {
			what = "final"
		}
		job := queue.Job{ID: id, Owner: f.Owner, Name: fmt.Sprintf("%s %s (%s)", filepath.Base(u.p.out), what, u.p.cfg.Model), Kind: JobKind, Ext: ".json"}
		j, created, err := q.Submit(ctx, job, bytes.NewReader(spec))
		if err == nil && !created && (j.State == queue.StateFailed || j.State == queue.StateCanceled) {
			// An earlier call's job ended without a result: try again.
			log.Info("job of an earlier call ended without a result; submitting it again", "job", id, "state", j.State, "error", j.Error)
			if err = q.Delete(ctx, id); err == nil {
				_, _, err = q.Submit(ctx, job, bytes.NewReader(spec))
			}
		}
		if err != nil {
			return fmt.Errorf("train: fleet: %w", err)
		}
		fj := &fleetJob{u: u, id: id}
		jobs[id] = fj
		order = append(order, fj)
	}
	log.Info("training jobs queued", "jobs", len(order))

	// Changes arrive through the queue's watch; jobs are read again when it
	// has been silent for a while, in case the watch stopped.
	var (
		mu      sync.Mutex
		changed []queue.Job
	)
	wake := make(chan struct{}, 1)
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if err := q.Watch(wctx, func(e queue.Event) {
		if e.Deleted || e.Caught {
			return
		}
		if _, ok := jobs[e.Job.ID]; !ok {
			return
		}
		mu.Lock()
		changed = append(changed, e.Job)
		mu.Unlock()
		select {
		case wake <- struct{}{}:
		default:
		}
	}); err != nil {
		log.Warn("watching the queue; reading jobs instead", "err", err)
	}
	poll := f.Poll
	if poll <= 0 {
		poll = 15 * time.Second
	}
	timer := time.NewTimer(poll)
	defer timer.Stop()
	left := len(order)
	var errs []error
	handle := func(j queue.Job) {
		fj := jobs[j.ID]
		if fj == nil || fj.done {
			return
		}
		if d := j.Frames - fj.epochs; d > 0 && j.Total > 0 {
			for range d {
				epoch(0)
			}
			fj.epochs = j.Frames
		}
		if !queue.Terminal(j.State) {
			return
		}
		fj.done = true
		left--
		for range fj.u.epochs() - fj.epochs {
			epoch(0)
		}
		if err := f.collect(ctx, j, fj.u, log); err != nil {
			errs = append(errs, err)
		}
	}
	for left > 0 {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-wake:
			mu.Lock()
			batch := changed
			changed = nil
			mu.Unlock()
			for _, j := range batch {
				handle(j)
			}
		case <-timer.C:
			for _, fj := range order {
				if fj.done {
					continue
				}
				j, err := q.Get(ctx, fj.id)
				if errors.Is(err, queue.ErrNotFound) {
					fj.done = true
					left--
					errs = append(errs, fmt.Errorf("train: fleet: %s %s: its job %s was deleted before it finished", fj.u.p.out, foldName(fj.u.fold), fj.id))
					continue
				}
				if err != nil {
					log.Warn("reading a job", "job", fj.id, "err", err)
					continue
				}
				handle(j)
			}
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(poll)
	}
	bg := context.WithoutCancel(ctx)
	for _, key := range keys {
		if err := q.DeleteBlob(bg, key); err != nil {
			log.Warn("removing the prepared rows from the queue", "err", err)
		}
	}
	return errors.Join(errs...)
}

func foldName(fold int) string {
	if fold < 0 {
		return "final model"
	}
	return fmt.Sprintf("fold %d", fold)
}

// collect stores the result of an ended job in its run folder and deletes
// the job. A job that failed is kept in the queue (its record says why) and
// reported.
func (f *Fleet) collect(ctx context.Context, j queue.Job, u unit, log *slog.Logger) error {
	q, p := f.Queue, u.p
	if j.State != queue.StateDone {
		return fmt.Errorf("train: fleet: %s %s: job %s %s: %s", p.out, foldName(u.fold), j.ID, j.State, j.Error)
	}
	read := func(name string, max int64) ([]byte, error) {
		r, _, err := q.Output(ctx, j, name)
		// On a cluster a replica may answer before it has the object the
		// record names: look again for a while.
		for try := 1; errors.Is(err, queue.ErrNotFound) && try <= 20 && ctx.Err() == nil; try++ {
			if _, ok := j.Outputs[name]; !ok {
				break
			}
			time.Sleep(time.Duration(try) * 50 * time.Millisecond)
			r, _, err = q.Output(ctx, j, name)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		defer r.Close()
		b, err := io.ReadAll(io.LimitReader(r, max+1))
		if err == nil && int64(len(b)) > max {
			err = fmt.Errorf("over %d bytes", max)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		return b, nil
	}
	bad := func(err error) error {
		return fmt.Errorf("train: fleet: %s %s: job %s: %w", p.out, foldName(u.fold), j.ID, err)
	}
	logName := "final.log"
	if u.fold >= 0 {
		logName = filepath.Join("folds", fmt.Sprintf("fold-%03d.log", u.fold))
	}
	if b, err := read(outLog, 64<<20); err == nil {
		if err := atomicfile.WriteFile(filepath.Join(p.out, logName), b); err != nil {
			return bad(err)
		}
	}
	if u.fold < 0 {
		b, err := read(outModel, maxFoldBytes)
		if err != nil {
			return bad(err)
		}
		c, err := model.Decode(b, p.fs)
		if err != nil {
			return bad(fmt.Errorf("model: %w", err))
		}
		if c.Fingerprint != p.fp {
			return bad(fmt.Errorf("model trained under fingerprint %s, the run's is %s", c.Fingerprint, p.fp))
		}
		if err := atomicfile.WriteFile(p.modelPath, b); err != nil {
			return bad(err)
		}
	} else {
		b, err := read(outFold, maxFoldBytes)
		if err != nil {
			return bad(err)
		}
		var r foldResult
		if err := json.Unmarshal(b, &r); err != nil {
			return bad(fmt.Errorf("%s: %w", outFold, err))
		}
		if r.Fingerprint != p.fp || r.Fold != u.fold {
			return bad(fmt.Errorf("result is fold %d of fingerprint %s, want fold %d of %s", r.Fold, r.Fingerprint, u.fold, p.fp))
		}
		r.Worker = j.Worker
		if err := writeFold(p.out, &r); err != nil {
			return bad(err)
		}
		p.results[u.fold] = &r
		if r.Error != "" {
			log.Warn("fold failed", "run", p.out, "fold", u.fold, "error", r.Error)
		}
	}
	if err := q.Delete(context.WithoutCancel(ctx), j.ID); err != nil && !errors.Is(err, queue.ErrNotFound) {
		log.Warn("removing a collected job", "job", j.ID, "err", err)
	}
	return nil
}

// WorkerOptions configure the handler of training jobs (WorkerHandler).
type WorkerOptions struct {
	// Families are the model families a job's config may name.
	Families model.Families
	// MaxDataBytes bounds the prepared rows of one run a worker loads
	// (default 1 GiB); a worker keeps the rows of its last two runs.
	MaxDataBytes int64
	// Log receives each job's summary line (default: discard); the fold's
	// own log is the job's output fold.log.
	Log *slog.Logger
}

// WorkerHandler returns the queue handler of training jobs (Kind "train"),
// for `tell worker`: it loads the run's prepared rows (cached across jobs),
// rebuilds the run's folds, checks the fingerprint, trains the fold or the
// final model and writes fold.json or model.safetensors, with fold.log, as
// the job's outputs.
func WorkerHandler(q *queue.Queue, opt WorkerOptions) queue.Handler {
	if opt.MaxDataBytes <= 0 {
		opt.MaxDataBytes = 1 << 30
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	w := &fleetWorker{q: q, opt: opt}
	return w.handle
}

type fleetWorker struct {
	q   *queue.Queue
	opt WorkerOptions

	mu   sync.Mutex
	data []*dataEntry // most recently used last
}

// dataEntry is one run's prepared rows, loaded once for every job.
type dataEntry struct {
	key  string
	once sync.Once
	ld   *Loaded
	err  error
}

// maxSpecBytes bounds a training job's input.
const maxSpecBytes = 1 << 20

func (w *fleetWorker) handle(ctx context.Context, t *queue.Task) (json.RawMessage, error) {
	if t.Job.Kind != JobKind {
		return nil, fmt.Errorf("%w: %q", queue.ErrNotHandled, t.Job.Kind)
	}
	f, err := os.Open(t.Input)
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(io.LimitReader(f, maxSpecBytes+1))
	f.Close()
	if err != nil {
		return nil, err
	}
	if len(b) > maxSpecBytes {
		return nil, fmt.Errorf("training job input over %d bytes", maxSpecBytes)
	}
	var spec fleetSpec
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&spec); err != nil {
		// A later format this build cannot read: another worker's.
		return nil, fmt.Errorf("%w: training job input: %v", queue.ErrNotHandled, err)
	}
	if spec.Fold < -1 {
		return nil, fmt.Errorf("training job for fold %d", spec.Fold)
	}
	if spec.Version != fleetVersion {
		return nil, fmt.Errorf("%w: training job format %d, this worker reads %d", queue.ErrNotHandled, spec.Version, fleetVersion)
	}
	if mine := build(); spec.Build != mine {
		// Another build could train other bytes: the job waits for a
		// worker of the submitter's build.
		return nil, fmt.Errorf("%w: job built by %q, this worker by %q", queue.ErrNotHandled, spec.Build, mine)
	}
	cfg, err := ParseConfig(spec.Config, w.opt.Families)
	if err != nil {
		return nil, fmt.Errorf("training job config: %w", err)
	}
	fam, err := trainer(w.opt.Families, cfg.Model)
	if err != nil {
		return nil, err
	}
	ld, err := w.load(ctx, spec.Data, spec.DataBytes)
	if err != nil {
		return nil, err
	}
	fp := ld.fingerprint(cfg, spec.Split)
	if fp != spec.Fingerprint {
		return nil, fmt.Errorf("the rows and config give fingerprint %s here, %s where the job was made", fp, spec.Fingerprint)
	}
	lf, err := os.Create(filepath.Join(t.Out, outLog))
	if err != nil {
		return nil, err
	}
	defer lf.Close()
	log := slog.New(slog.NewTextHandler(lf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	total := cfg.Members * cfg.Spec.Epochs()
	done := 0
	var pmu sync.Mutex
	epoch := func(int) {
		pmu.Lock()
		done++
		t.Progress(done, total)
		pmu.Unlock()
	}
	t0 := time.Now()
	sum := fleetSummary{Fingerprint: fp, Fold: spec.Fold}
	if spec.Fold < 0 {
		c, err := ld.fitFinal(ctx, fam, cfg, fp, log, epoch)
		if err != nil {
			return nil, err
		}
		mb, err := c.Encode()
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(t.Out, outModel), mb, 0o644); err != nil {
			return nil, err
		}
	} else {
		folds, err := spec.Split.Make(ld.Data.Samples)
		if err != nil {
			return nil, err
		}
		if spec.Fold >= len(folds) {
			return nil, fmt.Errorf("fold %d of a split with %d folds", spec.Fold, len(folds))
		}
		r, err := ld.fitFold(ctx, fam, cfg, fp, &folds[spec.Fold], log, epoch)
		if err != nil {
			return nil, err
		}
		sum.Error = r.Error
		rb, _ := json.MarshalIndent(r, "", " ")
		if err := os.WriteFile(filepath.Join(t.Out, outFold), rb, 0o644); err != nil {
			return nil, err
		}
	}
	sum.Seconds = time.Since(t0).Seconds()
	w.opt.Log.Info("training job done", "job", t.Job.ID, "fold", spec.Fold, "seconds", sum.Seconds)
	return json.Marshal(sum)
}

// load returns the prepared rows stored under key, from the worker's cache
// or the queue.
func (w *fleetWorker) load(ctx context.Context, key string, size int64) (*Loaded, error) {
	if size > w.opt.MaxDataBytes {
		return nil, fmt.Errorf("the run's prepared rows take %d bytes, over this worker's %d", size, w.opt.MaxDataBytes)
	}
	w.mu.Lock()
	var e *dataEntry
	for i, d := range w.data {
		if d.key == key {
			e = d
			w.data = append(append(w.data[:i:i], w.data[i+1:]...), d)
			break
		}
	}
	if e == nil {
		e = &dataEntry{key: key}
		w.data = append(w.data, e)
		if len(w.data) > 2 {
			w.data = w.data[1:]
		}
	}
	w.mu.Unlock()
	e.once.Do(func() {
		var b []byte
		if b, e.err = w.q.Blob(ctx, key, w.opt.MaxDataBytes); e.err == nil {
			e.ld, e.err = decodePrepared(b)
		}
	})
	if e.err != nil {
		// Not kept: the next job tries again (the error may be this job's
		// cancellation).
		w.mu.Lock()
		for i, d := range w.data {
			if d == e {
				w.data = append(w.data[:i], w.data[i+1:]...)
				break
			}
		}
		w.mu.Unlock()
		return nil, fmt.Errorf("the run's prepared rows: %w", e.err)
	}
	return e.ld, nil
}
