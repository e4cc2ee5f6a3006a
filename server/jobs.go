package server

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"sort"
	"sync"
	"time"

	"github.com/tell-project/tell/queue"
)

// Job states, as GET /v1/jobs/{id} reports them.
const (
	StateQueued   = queue.StateQueued
	StateRunning  = queue.StateRunning
	StateDone     = queue.StateDone
	StateFailed   = queue.StateFailed
	StateCanceled = queue.StateCanceled
)

var states = []string{StateQueued, StateRunning, StateDone, StateFailed, StateCanceled}

// Summary is the gist of a finished job's events.json.
type Summary struct {
	Status          string   `json:"status"` // events.json's status: complete or partial
	Frames          int      `json:"frames"`
	Tracked         int      `json:"tracked_frames"`
	Events          int      `json:"events"`
	Labels          []string `json:"labels,omitempty"`
	FramesPerSecond float64  `json:"frames_per_second"`
	// StageCPU is the analysis's CPU seconds by stage (package profile's
	// names: decode, detect, landmarks, flow, appearance, ...).
	StageCPU map[string]float64 `json:"stage_cpu_s,omitempty"`
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
	ID    string `json:"id"`
	State string `json:"status"`
	// Owner is the key the job belongs to (empty without keys).
	Owner string `json:"owner,omitempty"`
	// Held: the job waits for its key's earlier jobs (its quota of jobs
	// in flight) before it is queued for a worker.
	Held bool `json:"held,omitempty"`
	// Work is the job's budget in decoded pixel-frames.
	Work     int64             `json:"work,omitempty"`
	Input    string            `json:"input"`
	Progress Progress          `json:"progress"`
	Error    string            `json:"error,omitempty"`
	Attempts int               `json:"attempts"`
	Created  time.Time         `json:"created"`
	Started  *time.Time        `json:"started,omitempty"`
	Finished *time.Time        `json:"finished,omitempty"`
	Result   *Summary          `json:"result,omitempty"`
	Links    map[string]string `json:"links"`
}

// outputFiles are the files a job serves, and the only names it serves.
var outputFiles = []string{"events.json", "frames.csv", "report.html", "preview.jpgs"}

func statusOf(j queue.Job) JobStatus {
	st := JobStatus{ID: j.ID, State: j.State, Owner: j.Owner, Held: j.Held && j.State == StateQueued, Work: j.Work,
		Input: j.Name, Error: j.Error, Attempts: j.Attempts, Created: j.Created}
	st.Progress = Progress{Frames: j.Frames, Total: j.Total}
	if j.Total > 0 {
		st.Progress.Fraction = min(1, float64(j.Frames)/float64(j.Total))
	}
	if !j.Started.IsZero() {
		t := j.Started
		st.Started = &t
	}
	if !j.Finished.IsZero() {
		t := j.Finished
		st.Finished = &t
	}
	if len(j.Result) > 0 {
		var sum Summary
		if json.Unmarshal(j.Result, &sum) == nil {
			st.Result = &sum
		}
	}
	base := "/v1/jobs/" + j.ID
	st.Links = map[string]string{"self": base}
	// Outputs are listed once stored: a failed run still leaves partial ones.
	for _, name := range outputFiles {
		if _, ok := j.Outputs[name]; ok {
			st.Links[name] = base + "/" + name
		}
	}
	return st
}

// newID returns 128 random bits in hex: unguessable, and safe as a key.
func newID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// idFor derives a job id from a client's Idempotency-Key: the same key of
// the same owner names the same job, and no owner can guess another's.
func idFor(owner, key string) string {
	h := sha256.Sum256([]byte("tell-job\x00" + owner + "\x00" + key))
	return hex.EncodeToString(h[:16])
}

// validID reports whether s has newID's shape; anything else is never a
// job, whatever the store holds.
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

// index is the server's view of the queue's jobs, kept current by a watch
// on their records: the job list, the counts by state and by owner for
// admission, quotas and metrics, and what the janitor removes.
type index struct {
	mu     sync.Mutex
	jobs   map[string]queue.Job
	counts map[string]int
	owners map[string]*ownerCounts
	caught chan struct{} // closed once the stored jobs are loaded
	once   sync.Once
	// After a broken watch (Err), a Reset starts a replay: seen collects
	// the jobs it shows, and at its end the others are dropped.
	seen     map[string]bool
	watchErr error // the watch is broken (nil once it has caught up again)
}

// ownerCounts are one owner's unfinished jobs.
type ownerCounts struct {
	held    int // stored, waiting for the owner's turn
	queued  int // in the work queue, waiting for a worker
	running int
}

func newIndex() *index {
	return &index{jobs: map[string]queue.Job{}, counts: map[string]int{}, owners: map[string]*ownerCounts{}, caught: make(chan struct{})}
}

// tally adds d to the counts of j.
func (ix *index) tally(j queue.Job, d int) {
	ix.counts[j.State] += d
	if queue.Terminal(j.State) {
		return
	}
	oc := ix.owners[j.Owner]
	if oc == nil {
		oc = &ownerCounts{}
		ix.owners[j.Owner] = oc
	}
	switch {
	case j.State == StateRunning:
		oc.running += d
	case j.Held:
		oc.held += d
	default:
		oc.queued += d
	}
	if *oc == (ownerCounts{}) {
		delete(ix.owners, j.Owner)
	}
}

// apply records a change; it returns the job as it was before.
func (ix *index) apply(ev queue.Event) (old queue.Job, had bool) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	switch {
	case ev.Err != nil:
		ix.watchErr = ev.Err
		return queue.Job{}, false
	case ev.Reset:
		ix.seen = map[string]bool{}
		return queue.Job{}, false
	case ev.Caught:
		if ix.seen != nil {
			// Jobs the new replay did not show were removed meanwhile.
			for id, j := range ix.jobs {
				if !ix.seen[id] {
					ix.tally(j, -1)
					delete(ix.jobs, id)
				}
			}
			ix.seen = nil
		}
		ix.watchErr = nil
		ix.once.Do(func() { close(ix.caught) })
		return queue.Job{}, false
	}
	if ix.seen != nil && !ev.Deleted {
		ix.seen[ev.Job.ID] = true
	}
	old, had = ix.jobs[ev.Job.ID]
	if had {
		ix.tally(old, -1)
	}
	if ev.Deleted {
		delete(ix.jobs, ev.Job.ID)
		return old, had
	}
	ix.jobs[ev.Job.ID] = ev.Job
	ix.tally(ev.Job, 1)
	return old, had
}

// broken is the watch's error while it is down, else nil.
func (ix *index) broken() error {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	return ix.watchErr
}

// put records a job the server itself has just stored, unless its watch
// has reported it already: the watch may be ahead (a fast worker may have
// finished the job), and an older record must not replace a newer one.
func (ix *index) put(j queue.Job) {
	ix.mu.Lock()
	_, seen := ix.jobs[j.ID]
	ix.mu.Unlock()
	if !seen {
		ix.apply(queue.Event{Job: j})
	}
}

// released records that this server released a held job, unless the
// watch has reported a later state already.
func (ix *index) released(j queue.Job) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if old, ok := ix.jobs[j.ID]; ok && old.Held && old.State == StateQueued {
		ix.tally(old, -1)
		ix.jobs[j.ID] = j
		ix.tally(j, 1)
	}
}

func (ix *index) remove(id string) { ix.apply(queue.Event{Job: queue.Job{ID: id}, Deleted: true}) }

func (ix *index) get(id string) (queue.Job, bool) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	j, ok := ix.jobs[id]
	return j, ok
}

func (ix *index) count(state string) int {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	return ix.counts[state]
}

// owner returns an owner's unfinished jobs.
func (ix *index) owner(name string) ownerCounts {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if oc := ix.owners[name]; oc != nil {
		return *oc
	}
	return ownerCounts{}
}

func (ix *index) total() int {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	return len(ix.jobs)
}

// list returns owner's jobs (every job when all), newest first.
func (ix *index) list(owner string, all bool) []queue.Job {
	ix.mu.Lock()
	out := make([]queue.Job, 0, len(ix.jobs))
	for _, j := range ix.jobs {
		if all || j.Owner == owner {
			out = append(out, j)
		}
	}
	ix.mu.Unlock()
	sort.Slice(out, func(a, b int) bool { return out[a].Created.After(out[b].Created) })
	return out
}

// held returns the held jobs of owners with room, oldest first per owner:
// room(owner, counts) says how many of that owner's may be released.
func (ix *index) held(room func(owner string, oc ownerCounts) int) []queue.Job {
	ix.mu.Lock()
	byOwner := map[string][]queue.Job{}
	for _, j := range ix.jobs {
		if j.Held && j.State == StateQueued {
			byOwner[j.Owner] = append(byOwner[j.Owner], j)
		}
	}
	counts := map[string]ownerCounts{}
	for o := range byOwner {
		counts[o] = *ix.owners[o]
	}
	ix.mu.Unlock()
	var out []queue.Job
	for o, js := range byOwner {
		n := room(o, counts[o])
		if n <= 0 {
			continue
		}
		sort.Slice(js, func(a, b int) bool { return js[a].Created.Before(js[b].Created) })
		out = append(out, js[:min(n, len(js))]...)
	}
	return out
}

// evictable returns the finished jobs to remove: those finished before
// cutoff, then the oldest finished until at most maxJobs jobs and
// maxBytes stored bytes remain.
func (ix *index) evictable(cutoff time.Time, maxJobs int, maxBytes int64) []string {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	var finished []queue.Job
	var bytes int64
	for _, j := range ix.jobs {
		bytes += j.OutputBytes() + j.InputBytes
		if queue.Terminal(j.State) {
			finished = append(finished, j)
		}
	}
	sort.Slice(finished, func(a, b int) bool { return finished[a].Finished.Before(finished[b].Finished) })
	n := len(ix.jobs)
	var out []string
	for _, j := range finished {
		if !j.Finished.Before(cutoff) && n <= maxJobs && bytes <= maxBytes {
			break
		}
		out = append(out, j.ID)
		n--
		bytes -= j.OutputBytes() + j.InputBytes
	}
	return out
}
