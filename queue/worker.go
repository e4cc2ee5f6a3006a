package queue

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Task is one job handed to a Handler.
type Task struct {
	Job Job
	// Input is the job's input on local disk: a file named input+Job.Ext,
	// or a folder of frame images for Kind "frames".
	Input string
	// Out is the folder the handler writes its outputs in; every regular
	// file there is stored when the handler returns.
	Out      string
	progress func(done, total int)
	// frames and total are the last progress, stored with the result.
	frames, total int
}

// Progress reports the frames done and the total (-1 when unknown); the
// worker stores it with its next heartbeat.
func (t *Task) Progress(done, total int) {
	if t.progress != nil {
		t.progress(done, total)
	}
}

// Handler runs a task and returns the job's summary. An error fails the
// job for good (it is not tried again); the outputs written so far are
// kept, except for ErrNotHandled. A handler must return soon after ctx is
// cancelled.
type Handler func(ctx context.Context, t *Task) (summary json.RawMessage, err error)

// ErrNotHandled is what a handler returns (possibly wrapped) for a job of a
// kind it does not run: the job goes back to the queue, for a worker that
// runs that kind, without counting as an attempt. A worker of an older
// build, or one that only analyses, thus leaves a training job to others.
var ErrNotHandled = errors.New("job kind not run by this worker")

// A job refused with ErrNotHandled is delivered again after
// notHandledDelay, while the refusing slot waits notHandledPause before it
// asks for another job: the oldest pull request gets a redelivered message,
// so a refusing worker that asked again at once would be offered the same
// job every time while a worker that runs it waited.
const (
	notHandledDelay = time.Second
	notHandledPause = 3 * time.Second
)

// Route returns a handler that runs each job with the handler of its Kind,
// and refuses (ErrNotHandled) a kind it has none for. A "" entry handles
// every kind not listed.
func Route(handlers map[string]Handler) Handler {
	return func(ctx context.Context, t *Task) (json.RawMessage, error) {
		h, ok := handlers[t.Job.Kind]
		if !ok {
			h, ok = handlers[""]
		}
		if !ok || h == nil {
			return nil, fmt.Errorf("%w: %q", ErrNotHandled, t.Job.Kind)
		}
		return h(ctx, t)
	}
}

// WorkerConfig configures Work.
type WorkerConfig struct {
	// Name identifies the worker in job records (default host-pid).
	Name string
	// Jobs is how many jobs run at once (default 1).
	Jobs int
	// Dir holds the worker's folder (tell-worker-PID) of running jobs'
	// inputs and outputs, each removed after its job (default os.TempDir()).
	Dir     string
	Handler Handler
	// Log receives job logs (default: discard).
	Log *slog.Logger
	// MaxFrames bounds the files of a "frames" input (default 100000).
	MaxFrames int
	// FetchWait is how long one request for a job waits (default 5 s).
	FetchWait time.Duration
}

// Errors that end a run without a result of its own.
var (
	errLost = errors.New("job taken over, cancelled or deleted")
	errBusy = errors.New("another worker runs the job")
)

// Work runs jobs until ctx ends, cfg.Jobs at once. A job still running
// then is put back in the queue for another worker.
func (q *Queue) Work(ctx context.Context, cfg WorkerConfig) error {
	if cfg.Handler == nil {
		return errors.New("queue: worker without a handler")
	}
	if cfg.Jobs <= 0 {
		cfg.Jobs = 1
	}
	if cfg.Dir == "" {
		cfg.Dir = os.TempDir()
	}
	if cfg.MaxFrames <= 0 {
		cfg.MaxFrames = 100000
	}
	if cfg.FetchWait <= 0 {
		cfg.FetchWait = 5 * time.Second
	}
	if cfg.Name == "" {
		host, _ := os.Hostname()
		cfg.Name = fmt.Sprintf("%s-%d", host, os.Getpid())
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	cons, err := q.js.Consumer(ctx, Stream, consumerName)
	if err != nil {
		return fmt.Errorf("queue: worker: %w", err)
	}
	// Job folders live in this worker's own scratch folder, so that those
	// of a worker killed mid-job are removed by the next one.
	if cfg.Dir, err = ScratchDir(cfg.Dir, "tell-worker"); err != nil {
		return fmt.Errorf("queue: worker folder: %w", err)
	}
	defer os.RemoveAll(cfg.Dir)
	var wg sync.WaitGroup
	// A finished job's outputs are stored while the slot's next job runs:
	// storing is JetStream round trips, not analysis, and a worker running
	// one analysis at a time would otherwise wait on them. At most Jobs
	// results are being stored at once.
	storing := make(chan struct{}, cfg.Jobs)
	for slot := range cfg.Jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := cfg.Name
			if cfg.Jobs > 1 {
				name = fmt.Sprintf("%s/%d", cfg.Name, slot)
			}
			for ctx.Err() == nil {
				fctx, cancel := context.WithTimeout(ctx, cfg.FetchWait)
				msg, err := cons.Next(jetstream.FetchContext(fctx))
				cancel()
				if err != nil {
					if ctx.Err() == nil && (!idle(err) || !q.nc.IsConnected()) {
						cfg.Log.Warn("fetching a job", "err", err)
						sleep(ctx, time.Second)
					}
					continue
				}
				if store := q.handle(ctx, msg, cfg, name); store != nil {
					storing <- struct{}{}
					wg.Add(1)
					go func() {
						defer wg.Done()
						defer func() { <-storing }()
						store()
					}()
				}
			}
		}()
	}
	wg.Wait()
	return nil
}

// idle reports whether a fetch error means only that no job came.
func idle(err error) bool {
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) ||
		errors.Is(err, jetstream.ErrNoMessages) || errors.Is(err, nats.ErrTimeout)
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// handle runs one delivered job. When the job ran to an end of its own it
// returns the work that stores the result and acknowledges the message.
func (q *Queue) handle(ctx context.Context, msg jetstream.Msg, cfg WorkerConfig, name string) (store func()) {
	// A message names its job, owner and budget in headers, its data is
	// the inline input or the id (messages of earlier versions: the bare
	// id, no headers).
	id, inline := msg.Headers().Get(headerJob), msg.Data()
	if id == "" {
		id, inline = string(msg.Data()), nil
	}
	owner := msg.Headers().Get(headerOwner)
	var work int64
	if w := msg.Headers().Get(headerWork); w != "" {
		var err error
		if work, err = strconv.ParseInt(w, 10, 64); err != nil || work < 0 {
			work = -1 // matches no record
		}
	}
	log := cfg.Log.With("job", id)
	// Records are written even while the worker stops, so that a job is
	// never left marked as running by a worker that has gone.
	bg := context.WithoutCancel(ctx)
	now := time.Now().UTC()
	phase := now // phases are logged with the job: claim, input, run, store
	j, rev, err := q.updateFrom(ctx, id, Job{}, 0, func(j *Job) error {
		switch {
		case Terminal(j.State):
			return errStop // a duplicate delivery: the job has its result
		case j.InputInline && int64(len(inline)) != j.InputBytes:
			// Not the job's own message (which carries its input): a
			// stray copy that must not claim the job it cannot run.
			return errStop
		case j.Owner != owner || j.Work != work:
			// The record is not what was submitted: whoever changed it
			// must not get the job run under another owner or budget.
			j.State, j.Finished, j.Held = StateFailed, now, false
			j.Error = "refused: the job's record does not match its submission (owner or budget changed after it was queued)"
			return nil
		case j.State == StateRunning && now.Sub(j.Heartbeat) < q.cfg.AckWait:
			return errBusy
		case j.Attempts >= q.cfg.MaxAttempts:
			j.State, j.Finished = StateFailed, now
			j.Error = fmt.Sprintf("stopped %d times before finishing: each worker that ran it died or was stopped", j.Attempts)
			return nil
		}
		j.State, j.Worker, j.Heartbeat, j.Error, j.Held = StateRunning, name, now, "", false
		j.Attempts++
		j.Frames, j.Total = 0, -1
		if j.Started.IsZero() {
			j.Started = now
		}
		return nil
	})
	switch {
	case errors.Is(err, ErrNotFound), errors.Is(err, errStop):
		msg.Ack()
		return nil
	case errors.Is(err, errBusy):
		// Presumed dead by the stream but still reporting: look again later.
		msg.NakWithDelay(q.cfg.AckWait)
		return nil
	case err != nil:
		log.Warn("job record", "err", err)
		msg.NakWithDelay(time.Second)
		return nil
	case j.State == StateFailed:
		log.Warn("job failed", "err", j.Error)
		if !j.InputInline {
			q.obj.Delete(bg, inputObject(id))
		}
		msg.Ack()
		return nil
	}
	attempt := j.Attempts
	log = log.With("attempt", attempt)
	log.Info("job started", "worker", name, "claim_ms", time.Since(phase).Milliseconds())
	phase = time.Now()

	jctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	// mu guards the progress and the record as this worker last stored
	// it (cur, rev): heartbeats and the result start from it.
	var mu sync.Mutex
	frames, total := 0, -1
	cur := j
	hbDone := make(chan struct{})
	go func() {
		defer close(hbDone)
		// Each beat also reads the record: a job cancelled, deleted or
		// taken over stops within a beat.
		t := time.NewTicker(min(time.Second, q.cfg.AckWait/3))
		defer t.Stop()
		for {
			select {
			case <-jctx.Done():
				return
			case <-t.C:
			}
			msg.InProgress()
			mu.Lock()
			f, n, known, krev := frames, total, cur, rev
			mu.Unlock()
			stored, nrev, err := q.updateFrom(jctx, id, known, krev, func(j *Job) error {
				if j.State != StateRunning || j.Attempts != attempt {
					return errLost
				}
				j.Heartbeat, j.Frames, j.Total = time.Now().UTC(), f, n
				return nil
			})
			if err == nil {
				mu.Lock()
				cur, rev = stored, nrev
				mu.Unlock()
			}
			if errors.Is(err, errLost) || errors.Is(err, ErrNotFound) {
				cancel(errLost)
				return
			}
		}
	}()

	dir, err := os.MkdirTemp(cfg.Dir, "job-")
	if err != nil {
		cancel(err)
		<-hbDone
		log.Warn("job folder", "err", err)
		q.requeue(bg, id, attempt)
		msg.NakWithDelay(time.Second)
		return nil
	}
	keep := false // the folder goes to the store function
	defer func() {
		if !keep {
			os.RemoveAll(dir)
		}
	}()
	task := &Task{Job: j, Out: filepath.Join(dir, "out"), progress: func(done, n int) {
		mu.Lock()
		frames, total = done, n
		mu.Unlock()
	}}
	var summary json.RawMessage
	runErr := os.Mkdir(task.Out, 0o755)
	if runErr == nil {
		task.Input, runErr = q.fetchInput(jctx, j, inline, dir, cfg.MaxFrames)
	}
	// The store failing to hand over the input (a timeout under load) is
	// not the job's fault: it waits for another try, and a try counts, so
	// that a store that keeps failing ends in a failed job, not a loop.
	var transient *transientError
	if errors.As(runErr, &transient) && ctx.Err() == nil && !errors.Is(context.Cause(jctx), errLost) {
		cancel(nil)
		<-hbDone
		log.Warn("job put back: reading its input failed", "err", runErr)
		q.update(bg, id, func(j *Job) error {
			if j.State != StateRunning || j.Attempts != attempt {
				return errStop
			}
			j.State, j.Worker, j.Heartbeat = StateQueued, "", time.Time{}
			return nil
		})
		msg.NakWithDelay(time.Second)
		return nil
	}
	inputMS := time.Since(phase).Milliseconds()
	phase = time.Now()
	if runErr == nil {
		summary, runErr = runHandler(jctx, cfg.Handler, task, log)
	}
	log = log.With("input_ms", inputMS, "run_ms", time.Since(phase).Milliseconds())
	cancel(nil)
	<-hbDone
	cause := context.Cause(jctx)
	switch {
	case ctx.Err() != nil:
		log.Info("job put back: worker stopping")
		q.requeue(bg, id, attempt)
		msg.Nak()
		return nil
	case errors.Is(cause, errLost):
		log.Info("job stopped: cancelled, deleted or taken over")
		if cur, err := q.Get(bg, id); errors.Is(err, ErrNotFound) || err == nil && cur.State == StateCanceled {
			msg.Ack()
		}
		return nil
	case errors.Is(runErr, ErrNotHandled):
		log.Info("job left to another worker", "kind", j.Kind)
		q.requeue(bg, id, attempt)
		msg.NakWithDelay(notHandledDelay)
		sleep(ctx, notHandledPause)
		return nil
	}
	mu.Lock()
	task.frames, task.total = frames, total
	known, krev := cur, rev
	mu.Unlock()
	keep = true
	return func() {
		defer os.RemoveAll(dir)
		q.finish(bg, msg, task, known, krev, summary, runErr, log)
	}
}

// fetchInput writes the job's input into dir: from its message (inline)
// or from the object store.
func (q *Queue) fetchInput(ctx context.Context, j Job, inline []byte, dir string, maxFrames int) (string, error) {
	var r io.Reader
	if j.InputInline {
		if int64(len(inline)) != j.InputBytes {
			return "", fmt.Errorf("the job's message holds %d bytes of input, its record says %d", len(inline), j.InputBytes)
		}
		r = bytes.NewReader(inline)
	} else {
		or, err := q.obj.Get(ctx, inputObject(j.ID))
		if err != nil {
			if errors.Is(err, jetstream.ErrObjectNotFound) {
				return "", errors.New("the job's input is gone from the store")
			}
			return "", &transientError{fmt.Errorf("reading the input: %w", err)}
		}
		defer or.Close()
		r = or
	}
	if j.Kind == "frames" {
		folder := filepath.Join(dir, "frames")
		if err := Untar(r, folder, maxFrames); err != nil {
			return "", err
		}
		return folder, nil
	}
	ext := j.Ext
	if !validExt(ext) {
		return "", fmt.Errorf("bad input extension %q", ext)
	}
	path := filepath.Join(dir, "input"+ext)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", err
	}
	_, err = io.Copy(f, r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", &transientError{fmt.Errorf("reading the input: %w", err)}
	}
	return path, nil
}

// runHandler runs h on t, turning a panic of h into the job's error (it
// fails the job for good: a redelivery would panic again) with the panic's
// value and stack in the log, so that one input that crashes its analysis
// fails its job and never the worker's process. A panic in a goroutine
// that h starts reaches here when that goroutine recovers it and h's
// goroutine raises it again (package parallel does); the log then holds
// the stack of the goroutine where it happened too.
func runHandler(ctx context.Context, h Handler, t *Task, log *slog.Logger) (summary json.RawMessage, err error) {
	defer func() {
		if r := recover(); r != nil {
			attrs := []any{"panic", fmt.Sprint(r), "stack", string(debug.Stack())}
			if g, ok := r.(interface{ GoroutineStack() []byte }); ok {
				attrs = append(attrs, "goroutine_stack", string(g.GoroutineStack()))
			}
			log.Error("job panicked", attrs...)
			summary, err = nil, fmt.Errorf("the analysis panicked: %v", r)
		}
	}()
	return h(ctx, t)
}

// transientError is a failure of the store, not of the job.
type transientError struct{ err error }

func (e *transientError) Error() string { return e.err.Error() }
func (e *transientError) Unwrap() error { return e.err }

func validExt(ext string) bool {
	if len(ext) < 2 || len(ext) > 8 || ext[0] != '.' {
		return false
	}
	for _, c := range ext[1:] {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// requeue marks a job this worker gave up on (while stopping) as waiting.
func (q *Queue) requeue(ctx context.Context, id string, attempt int) {
	q.update(ctx, id, func(j *Job) error {
		if j.State != StateRunning || j.Attempts != attempt {
			return errStop
		}
		j.State, j.Worker, j.Heartbeat = StateQueued, "", time.Time{}
		// A stop on purpose is not a death: it does not count.
		j.Attempts--
		return nil
	})
}

// finish stores the outputs and the final state, then acknowledges. cur
// and rev are the record as the worker last stored it.
func (q *Queue) finish(ctx context.Context, msg jetstream.Msg, t *Task, cur Job, rev uint64, summary json.RawMessage, runErr error, log *slog.Logger) {
	start := time.Now()
	id, attempt := t.Job.ID, cur.Attempts
	prefix := fmt.Sprintf("%s/%d/", id, attempt)
	// The outputs travel as one tar object: one put and one delete
	// instead of one per file.
	outputs := map[string]int64{}
	var files []string
	entries, _ := os.ReadDir(t.Out)
	for _, e := range entries {
		if !e.Type().IsRegular() || strings.HasPrefix(e.Name(), ".") {
			continue // temporary files of an interrupted write
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		files = append(files, filepath.Join(t.Out, e.Name()))
		outputs[e.Name()] = info.Size()
	}
	object := ""
	var storeErr error
	if len(files) > 0 {
		object = prefix + outputsName
		pr, pw := io.Pipe()
		go func() { pw.CloseWithError(Tar(pw, files)) }()
		_, storeErr = q.obj.Put(ctx, jetstream.ObjectMeta{Name: object}, pr)
		pr.CloseWithError(errors.New("put ended"))
	}
	removeMine := func() {
		if object != "" {
			q.obj.Delete(ctx, object)
		}
	}
	if storeErr != nil {
		log.Warn("storing outputs; the job will run again", "err", storeErr)
		removeMine()
		q.requeue(ctx, id, attempt)
		msg.NakWithDelay(time.Second)
		return
	}
	now := time.Now().UTC()
	j, _, err := q.updateFrom(ctx, id, cur, rev, func(j *Job) error {
		if j.State != StateRunning || j.Attempts != attempt {
			return errLost
		}
		j.Finished, j.Heartbeat = now, now
		j.Result, j.Outputs, j.OutputPrefix, j.OutputObject = summary, outputs, prefix, object
		j.InputBytes = 0
		j.Frames, j.Total = t.frames, t.total
		if runErr != nil {
			j.State, j.Error = StateFailed, runErr.Error()
		} else {
			j.State = StateDone
		}
		return nil
	})
	switch {
	case err == nil:
		if !cur.InputInline {
			q.obj.Delete(ctx, inputObject(id))
		}
		if aerr := msg.DoubleAck(ctx); aerr != nil {
			log.Warn("ack", "err", aerr)
		}
		log.Info("job finished", "state", j.State, "store_ms", time.Since(start).Milliseconds())
	case errors.Is(err, ErrNotFound):
		removeMine()
		msg.Ack()
	case errors.Is(err, errLost):
		// Another attempt holds the job or has its result: one result.
		removeMine()
		if cur, gerr := q.Get(ctx, id); gerr == nil && Terminal(cur.State) {
			msg.Ack()
		}
	default:
		log.Warn("storing the result; the job will run again", "err", err)
		removeMine()
		msg.NakWithDelay(time.Second)
	}
}

// Tar writes files (regular files, each stored under its base name) as a
// tar stream: the form a folder of frames travels in.
func Tar(w io.Writer, files []string) error {
	tw := tar.NewWriter(w)
	for _, p := range files {
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		st, err := f.Stat()
		if err == nil && !st.Mode().IsRegular() {
			err = fmt.Errorf("%s: not a regular file", filepath.Base(p))
		}
		if err == nil {
			err = tw.WriteHeader(&tar.Header{Name: filepath.Base(p), Mode: 0o644, Size: st.Size(), ModTime: st.ModTime(), Typeflag: tar.TypeReg})
		}
		if err == nil {
			_, err = io.Copy(tw, f)
		}
		f.Close()
		if err != nil {
			return err
		}
	}
	return tw.Close()
}

// Untar unpacks a tar made by Tar into the new folder dir: regular files
// with plain names only, at most maxFiles of them.
func Untar(r io.Reader, dir string, maxFiles int) error {
	if err := os.Mkdir(dir, 0o755); err != nil {
		return err
	}
	tr := tar.NewReader(r)
	for n := 0; ; n++ {
		h, err := tr.Next()
		if err == io.EOF {
			if n == 0 {
				return errors.New("the folder of frames is empty")
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("folder of frames: %w", err)
		}
		if n >= maxFiles {
			return fmt.Errorf("folder of frames: more than %d files", maxFiles)
		}
		name := h.Name
		if h.Typeflag != tar.TypeReg || name == "" || name != filepath.Base(name) || strings.HasPrefix(name, ".") || strings.ContainsAny(name, `/\`) {
			return fmt.Errorf("folder of frames: refusing entry %q", name)
		}
		f, err := os.OpenFile(filepath.Join(dir, name), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return fmt.Errorf("folder of frames: %w", err)
		}
		_, err = io.Copy(f, tr)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("folder of frames: %w", err)
		}
	}
}
