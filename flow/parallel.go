package flow

import (
	"sync"
	"sync/atomic"

	"github.com/tell-project/tell/parallel"
)

// team runs the row chunks of one pass on the caller's goroutine and a
// fixed set of worker goroutines. Chunks are claimed, not assigned: the
// caller takes them from the top of the image and workers from the bottom,
// so on a busy machine a worker that is not scheduled in time costs
// nothing — the caller simply does its chunks — while on an idle one each
// goroutine keeps roughly the same rows from pass to pass (cache locality).
// A pass allocates nothing. A chunk that panics counts as finished, so the
// pass still ends; do then raises the panic on the caller's goroutine.
type team struct {
	n     int             // participants, the caller included
	wake  []chan struct{} // one per worker, holding at most one token
	state atomic.Uint64   // gen<<48 | lo<<24 | hi: chunks [lo,hi) unclaimed
	done  atomic.Int64    // chunks finished in the current pass
	// finished receives one token when a worker finishes a pass's last
	// chunk, so the caller blocks instead of spinning: a spinning caller
	// takes a core from the workers it waits for on a loaded machine (and
	// from the other jobs of tell serve --jobs N).
	finished chan struct{}
	gen      uint64
	job      job // the current pass; published by the store to state
	once     sync.Once
	caught   parallel.Catcher // the pass's first panic
}

// job is one pass: chunks of rows [0,h) run by r.
type job struct {
	r      runner
	kind   int
	chunks int
	h      int
}

// runner executes rows [y0,y1) of a pass as chunk number chunk, on
// participant worker (0 is the caller), whose scratch it may use.
type runner interface {
	band(kind, chunk, worker, y0, y1 int)
}

func newTeam(n int) *team {
	if n < 1 {
		n = 1
	}
	t := &team{n: n, finished: make(chan struct{}, 1)}
	for i := 1; i < n; i++ {
		ch := make(chan struct{}, 1)
		t.wake = append(t.wake, ch)
		go t.work(i, ch)
	}
	return t
}

// maxChunks is the most chunks chunks() returns, for sizing per-chunk
// state.
func (t *team) maxChunks() int { return 2 * t.n }

// chunks returns how many chunks a pass over h rows of w pixels should
// use: one for small levels (a hand-off costs about as much as a few
// thousand pixel updates), else two per participant.
func (t *team) chunks(w, h int) int {
	const minPixels = 6000
	if t.n == 1 || w*h < minPixels {
		return 1
	}
	return max(1, min(t.maxChunks(), h/4))
}

func pack(gen uint64, lo, hi int) uint64 { return gen<<48 | uint64(lo)<<24 | uint64(hi) }

// claim takes an unclaimed chunk of the current pass, from the top (the
// caller) or the bottom (workers); it returns -1 when none is left.
func (t *team) claim(fromTop bool) int {
	for {
		s := t.state.Load()
		gen, lo, hi := s>>48, int(s>>24&(1<<24-1)), int(s&(1<<24-1))
		if lo >= hi {
			return -1
		}
		c, ns := lo, pack(gen, lo+1, hi)
		if !fromTop {
			c, ns = hi-1, pack(gen, lo, hi-1)
		}
		if t.state.CompareAndSwap(s, ns) {
			return c
		}
	}
}

// run executes chunk c of the current pass on participant w and reports
// whether it was the pass's last chunk to finish.
func (t *team) run(c, w int) bool {
	j := &t.job
	n := j.chunks // read before done counts it: the caller may then reset the job
	t.band(j, c, w, n)
	return t.done.Add(1) == int64(n)
}

// band runs chunk c of j's n, keeping a panic of it for do to raise.
func (t *team) band(j *job, c, w, n int) {
	defer t.caught.Recover()
	j.r.band(j.kind, c, w, c*j.h/n, (c+1)*j.h/n)
}

func (t *team) work(id int, wake chan struct{}) {
	for range wake {
		for c := t.claim(false); c >= 0; c = t.claim(false) {
			if t.run(c, id) {
				t.finished <- struct{}{}
			}
		}
	}
}

// do runs kind over rows [0,h) in the given number of chunks and returns
// when all are done; if a chunk panicked, do panics with it then (a
// *parallel.Panic).
func (t *team) do(r runner, kind, chunks, h int) {
	if chunks <= 1 {
		r.band(kind, 0, 0, 0, h)
		return
	}
	t.job = job{r: r, kind: kind, chunks: chunks, h: h}
	t.done.Store(0)
	t.gen = (t.gen + 1) & (1<<16 - 1)
	t.state.Store(pack(t.gen, 0, chunks))
	for _, ch := range t.wake {
		select {
		case ch <- struct{}{}:
		default: // a token is already waiting
		}
	}
	last := false
	for c := t.claim(true); c >= 0; c = t.claim(true) {
		last = t.run(c, 0) || last
	}
	// Only chunks that running workers claimed remain: the one finishing
	// the last of them hands a token over.
	if !last {
		<-t.finished
	}
	// Drop the runner: between passes the team must not reach the
	// estimator, or the cleanup registered on it (whose argument is the
	// team) would keep the estimator alive forever.
	t.job = job{}
	t.caught.Repanic()
}

// close stops the workers; the team must not be used afterwards.
func (t *team) close() {
	t.once.Do(func() {
		for _, ch := range t.wake {
			close(ch)
		}
	})
}
