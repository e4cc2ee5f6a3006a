package nn

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tell-project/tell/parallel"
)

// parallelFor runs fn over [0,n) split into contiguous chunks on
// GOMAXPROCS workers, the caller's goroutine one of them. Callers only
// split work whose results do not depend on the split (each output written
// by exactly one chunk, with a fixed reduction order), so results are
// identical for any thread count. work estimates the cost of one item;
// small jobs run inline. Workers take parallelChunks chunks each on
// average, handed out as they ask: on a shared machine a worker whose core
// is taken by another process does less instead of holding up the rest
// with a fixed share. A panic in a chunk is raised again on the caller's
// goroutine once every other chunk has ended (package parallel).
func parallelFor(n int, work int, fn func(lo, hi int)) {
	threads := runtime.GOMAXPROCS(0)
	if threads > n {
		threads = n
	}
	if threads <= 1 || n*work < 32768 {
		if n > 0 {
			fn(0, n)
		}
		return
	}
	chunks := min(n, threads*parallelChunks)
	next := new(atomic.Int64)
	runWorkers(threads, func() {
		for {
			c := int(next.Add(1)) - 1
			if c >= chunks {
				return
			}
			fn(c*n/chunks, (c+1)*n/chunks)
		}
	})
}

// parallelChunks is how many chunks parallelFor makes per worker.
const parallelChunks = 4

// runWorkers calls work on workers goroutines at once, the caller's one of
// them, and returns when every call has returned; the first panic of any
// call is raised again on the caller's goroutine (package parallel). The
// other calls run on the team's helpers, which wait for the next region
// by spinning a while before they sleep: waking a sleeping goroutine on an
// idle core took ~110 µs on the 2-core development VM (the core is halted;
// a spinning helper starts in under 1 µs), and a training step of the
// reference model has ~190 parallel regions, most of 0.1–0.6 ms. When the
// team is busy (a region on another goroutine, or nested in a region) the
// calls go to new goroutines instead.
func runWorkers(workers int, work func()) {
	if workers <= 1 {
		work()
		return
	}
	t := &workTeam
	if !t.mu.TryLock() {
		var g parallel.Group
		for w := 1; w < workers; w++ {
			g.Go(work)
		}
		g.Do(work)
		g.Wait()
		return
	}
	for len(t.helpers) < workers-1 {
		h := &helper{wake: make(chan struct{}, 1)}
		t.helpers = append(t.helpers, h)
		go h.loop()
	}
	j := &teamJob{work: work}
	j.pending.Store(int32(workers - 1))
	for _, h := range t.helpers[:workers-1] {
		h.give(j)
	}
	j.lead(&t.mu)
	j.c.Repanic()
}

// lead runs the caller's part, waits for the helpers' and unlocks mu, also
// when the part ends the caller's goroutine (runtime.Goexit, as t.FailNow
// does): the team is then free for later regions, as it is after a panic.
func (j *teamJob) lead(mu *sync.Mutex) {
	defer func() {
		// The helpers are at most one chunk from done: wait by spinning
		// too (sleeping would hand the caller's wake-up to the same slow
		// path).
		for j.pending.Load() != 0 {
			runtime.Gosched()
		}
		mu.Unlock()
	}()
	j.run()
}

// team is the helpers runWorkers hands regions to; mu is held by the
// region in flight.
type team struct {
	mu      sync.Mutex
	helpers []*helper
}

// workTeam is the package's team: its helpers start with the first
// parallel region and sleep when nothing runs (no state that results
// depend on: which worker runs a chunk never changes a result).
var workTeam team

// teamSpin is how long a helper spins for the next region before it
// sleeps: longer than most gaps between a training step's regions, short
// enough that an idle process gives its core back at once.
const teamSpin = 200 * time.Microsecond

// teamJob is one region as the helpers see it.
type teamJob struct {
	work    func()
	pending atomic.Int32 // helpers still running work
	c       parallel.Catcher
}

// run calls work as one of the region's parts, keeping its panic.
func (j *teamJob) run() {
	defer j.c.Recover()
	j.work()
}

// helper is one goroutine of the team.
type helper struct {
	job    atomic.Pointer[teamJob]
	asleep atomic.Bool
	wake   chan struct{} // one token: a job was given while asleep
}

// give hands j to h, waking it if it sleeps.
func (h *helper) give(j *teamJob) {
	h.job.Store(j)
	if h.asleep.Load() {
		select {
		case h.wake <- struct{}{}:
		default:
		}
	}
}

// loop runs the helper's jobs for the life of the process. A part that
// ends the helper's goroutine (runtime.Goexit) still counts as done, and a
// new goroutine takes the helper's place: the region returns, as
// parallel.Group's Wait does, and later regions find the helper.
func (h *helper) loop() {
	var j *teamJob
	defer func() {
		// Only Goexit gets here: run recovers panics, the loop never ends.
		j.pending.Add(-1)
		go h.loop()
	}()
	for {
		j = h.next()
		j.run()
		j.pending.Add(-1)
		j = nil // a sleeping helper keeps nothing of the region alive
	}
}

// next returns the next job: it spins for teamSpin, then sleeps until give
// wakes it. give stores the job before it reads asleep and next sets
// asleep before it reads the job, so a job is never missed; a stale wake
// token costs one more turn of the loop.
func (h *helper) next() *teamJob {
	deadline := time.Now().Add(teamSpin)
	for i := 1; ; i++ {
		if j := h.job.Swap(nil); j != nil {
			return j
		}
		if i%32 == 0 && time.Now().After(deadline) {
			break
		}
		runtime.Gosched()
	}
	h.asleep.Store(true)
	for {
		if j := h.job.Swap(nil); j != nil {
			h.asleep.Store(false)
			return j
		}
		<-h.wake
	}
}
