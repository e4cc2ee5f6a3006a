package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tell-project/tell/analyze"
)

// Job states, as GET /v1/jobs/{id} reports them.
const (
	StateQueued   = "queued"
	StateRunning  = "running"
	StateDone     = "done"
	StateFailed   = "failed"
	StateCanceled = "canceled"
)

// errQueueFull is returned when MaxQueued jobs already wait.
var errQueueFull = errors.New("too many jobs waiting; try again later")

// job is one analysis. Fields above mu never change after creation.
type job struct {
	id      string
	dir     string // the job's folder: the upload and out/
	out     string // analyze's output folder
	input   string // what is analysed
	upload  bool   // input is an upload of ours, removed after the run
	name    string // display name of the input
	created time.Time
	ctx     context.Context
	cancel  context.CancelFunc
	done    chan struct{} // closed when the job's goroutine has stopped

	frames, total atomic.Int64

	mu       sync.Mutex
	state    string
	err      string
	started  time.Time
	finished time.Time
	result   *Summary
}

// Summary is the gist of a finished job's events.json.
type Summary struct {
	Status          string   `json:"status"` // events.json's status: complete or partial
	Frames          int      `json:"frames"`
	Tracked         int      `json:"tracked_frames"`
	Events          int      `json:"events"`
	Labels          []string `json:"labels,omitempty"`
	FramesPerSecond float64  `json:"frames_per_second"`
}

// Progress is the frames done so far.
type Progress struct {
	Frames int `json:"frames"`
	// Total is the frame count when known, else -1.
	Total int `json:"total"`
	// Fraction is Frames/Total in [0,1] when Total is known.
	Fraction float64 `json:"fraction,omitempty"`
}

// JobStatus is the answer of GET /v1/jobs/{id}.
type JobStatus struct {
	ID       string            `json:"id"`
	State    string            `json:"status"`
	Input    string            `json:"input"`
	Progress Progress          `json:"progress"`
	Error    string            `json:"error,omitempty"`
	Created  time.Time         `json:"created"`
	Started  *time.Time        `json:"started,omitempty"`
	Finished *time.Time        `json:"finished,omitempty"`
	Result   *Summary          `json:"result,omitempty"`
	Links    map[string]string `json:"links"`
}

func (j *job) status() JobStatus {
	j.mu.Lock()
	defer j.mu.Unlock()
	st := JobStatus{ID: j.id, State: j.state, Input: j.name, Error: j.err, Created: j.created, Result: j.result}
	st.Progress = Progress{Frames: int(j.frames.Load()), Total: int(j.total.Load())}
	if st.Progress.Total > 0 {
		st.Progress.Fraction = min(1, float64(st.Progress.Frames)/float64(st.Progress.Total))
	}
	if !j.started.IsZero() {
		t := j.started
		st.Started = &t
	}
	if !j.finished.IsZero() {
		t := j.finished
		st.Finished = &t
	}
	base := "/v1/jobs/" + j.id
	st.Links = map[string]string{"self": base}
	// Outputs are listed once written: a failed run still leaves partial ones.
	for _, name := range outputFiles {
		if _, err := os.Stat(filepath.Join(j.out, name)); err == nil && !j.finished.IsZero() {
			st.Links[name] = base + "/" + name
		}
	}
	return st
}

func (j *job) setState(state, errText string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.state = state
	j.err = errText
	now := time.Now().UTC()
	switch state {
	case StateRunning:
		j.started = now
	case StateDone, StateFailed, StateCanceled:
		j.finished = now
	}
}

// outputFiles are the files a job serves, and the only names it serves.
var outputFiles = []string{"events.json", "frames.csv", "report.html"}

// newID returns 128 random bits in hex: unguessable, and safe as a file name.
func newID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// validID reports whether s has newID's shape; anything else is never a
// job, whatever the store holds, so no request text reaches a file path.
func validID(s string) bool {
	if len(s) != 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// jobStore holds the jobs and bounds how many run at once.
type jobStore struct {
	mu        sync.Mutex
	jobs      map[string]*job
	waiting   int
	maxQueued int
	slots     chan struct{} // one token per worker
	wg        sync.WaitGroup
}

func newJobStore(workers, maxQueued int) *jobStore {
	return &jobStore{jobs: map[string]*job{}, maxQueued: maxQueued, slots: make(chan struct{}, workers)}
}

func (st *jobStore) get(id string) (*job, bool) {
	if !validID(id) {
		return nil, false
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	j, ok := st.jobs[id]
	return j, ok
}

func (st *jobStore) forget(id string) {
	st.mu.Lock()
	delete(st.jobs, id)
	st.mu.Unlock()
}

// list returns the jobs, newest first.
func (st *jobStore) list() []*job {
	st.mu.Lock()
	js := make([]*job, 0, len(st.jobs))
	for _, j := range st.jobs {
		js = append(js, j)
	}
	st.mu.Unlock()
	sort.Slice(js, func(a, b int) bool { return js[a].created.After(js[b].created) })
	return js
}

// expired returns the jobs finished before t.
func (st *jobStore) expired(t time.Time) []*job {
	var out []*job
	for _, j := range st.list() {
		j.mu.Lock()
		if !j.finished.IsZero() && j.finished.Before(t) {
			out = append(out, j)
		}
		j.mu.Unlock()
	}
	return out
}

// start registers j and runs work in the background once a worker slot is
// free; a job cancelled while it waits never runs. It fails with
// errQueueFull when too many jobs wait.
func (st *jobStore) start(j *job, work func()) error {
	st.mu.Lock()
	if st.waiting >= st.maxQueued {
		st.mu.Unlock()
		return errQueueFull
	}
	st.waiting++
	st.jobs[j.id] = j
	st.wg.Add(1)
	st.mu.Unlock()
	go func() {
		defer st.wg.Done()
		defer close(j.done)
		select {
		case st.slots <- struct{}{}:
		case <-j.ctx.Done():
			st.mu.Lock()
			st.waiting--
			st.mu.Unlock()
			j.setState(StateCanceled, "cancelled before it started")
			return
		}
		st.mu.Lock()
		st.waiting--
		st.mu.Unlock()
		defer func() { <-st.slots }()
		work()
	}()
	return nil
}

// wait blocks until every job's goroutine has stopped.
func (st *jobStore) wait() { st.wg.Wait() }

// runJob is a job's work: analyze the input into out/, then remove an
// uploaded input (the outputs stay until the job is deleted or expires).
func (s *Server) runJob(j *job) {
	defer func() {
		if j.upload {
			os.Remove(j.input)
		}
	}()
	if j.ctx.Err() != nil {
		j.setState(StateCanceled, "cancelled before it started")
		return
	}
	j.setState(StateRunning, "")
	log := s.log.With("job", j.id)
	log.Info("job started", "input", j.name)
	lm, err := s.landmarker.get()
	if err != nil {
		j.setState(StateFailed, "landmark model: "+err.Error())
		log.Error("job failed", "err", err)
		return
	}
	opt := analyze.Options{
		Out:        j.out,
		Landmarker: lm,
		Log:        log,
		Progress: func(done, total int) {
			j.frames.Store(int64(done))
			j.total.Store(int64(total))
		},
	}
	res, err := s.cfg.Analyze(j.ctx, j.input, opt)
	if res != nil {
		sum := &Summary{Status: res.Status, Frames: res.Frames, Tracked: res.Tracked, Events: len(res.Events), FramesPerSecond: res.FramesPerSecond}
		for _, e := range res.Events {
			sum.Labels = append(sum.Labels, e.Label)
		}
		j.mu.Lock()
		j.result = sum
		j.mu.Unlock()
		j.frames.Store(int64(res.Frames))
	}
	switch {
	case j.ctx.Err() != nil:
		j.setState(StateCanceled, "cancelled")
		log.Info("job cancelled")
	case err != nil:
		j.setState(StateFailed, s.scrub(err.Error(), j))
		log.Warn("job failed", "err", err)
	default:
		j.setState(StateDone, "")
		log.Info("job done", "frames", res.Frames, "events", len(res.Events))
	}
}
