package flow

import (
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tell-project/tell/parallel"
)

// rowCounter counts how often each row is run in a pass.
type rowCounter struct{ rows []atomic.Int32 }

func (r *rowCounter) band(kind, chunk, worker, y0, y1 int) {
	for y := y0; y < y1; y++ {
		r.rows[y].Add(1)
	}
}

// TestTeamPasses: every pass runs each row exactly once and returns only
// when all rows are done, whether the workers get a core or not (one
// processor: they are scheduled only when the caller blocks).
func TestTeamPasses(t *testing.T) {
	for _, procs := range []int{1, 2, 4} {
		old := runtime.GOMAXPROCS(procs)
		tm := newTeam(4)
		for pass := 0; pass < 3000; pass++ {
			h := 8 + pass%57
			chunks := 1 + pass%tm.maxChunks()
			r := &rowCounter{rows: make([]atomic.Int32, h)}
			tm.do(r, 0, min(chunks, h), h)
			for y := range r.rows {
				if n := r.rows[y].Load(); n != 1 {
					t.Fatalf("GOMAXPROCS %d, pass %d: row %d ran %d times when do returned", procs, pass, y, n)
				}
			}
		}
		tm.close()
		runtime.GOMAXPROCS(old)
	}
}

func BenchmarkTeamPass(b *testing.B) {
	tm := newTeam(runtime.GOMAXPROCS(0))
	defer tm.close()
	r := &rowCounter{rows: make([]atomic.Int32, 64)}
	for i := 0; i < b.N; i++ {
		tm.do(r, 0, tm.maxChunks(), 64)
	}
}

// panicky panics in the first chunk a worker (not the caller) runs; the
// caller's first chunk waits for a worker to start, so that one does.
type panicky struct {
	rowCounter
	workerStarted atomic.Bool
}

func (r *panicky) band(kind, chunk, worker, y0, y1 int) {
	if worker != 0 {
		if r.workerStarted.CompareAndSwap(false, true) {
			workerChunkPanics()
		}
	} else {
		for i := 0; i < 1000 && !r.workerStarted.Load(); i++ {
			time.Sleep(time.Millisecond)
		}
	}
	r.rowCounter.band(kind, chunk, worker, y0, y1)
}

func workerChunkPanics() { panic("planted in a worker") }

// TestTeamPanicReachesCaller: a chunk that panics on a worker goroutine
// panics do's caller once the pass has ended (not the process), with the
// worker's stack, and the team runs the next pass as before.
func TestTeamPanicReachesCaller(t *testing.T) {
	old := runtime.GOMAXPROCS(4)
	defer runtime.GOMAXPROCS(old)
	tm := newTeam(4)
	defer tm.close()
	r := &panicky{rowCounter: rowCounter{rows: make([]atomic.Int32, 64)}}
	got := func() (got any) {
		defer func() { got = recover() }()
		tm.do(r, 0, tm.maxChunks(), 64)
		return nil
	}()
	p, ok := got.(*parallel.Panic)
	if !ok || p.Error() != "planted in a worker" || !strings.Contains(string(p.Stack), "workerChunkPanics") {
		t.Fatalf("do's caller got %v, want the worker's panic with its stack", got)
	}
	ok2 := &rowCounter{rows: make([]atomic.Int32, 64)}
	tm.do(ok2, 0, tm.maxChunks(), 64)
	for y := range ok2.rows {
		if n := ok2.rows[y].Load(); n != 1 {
			t.Fatalf("the pass after the panic ran row %d %d times", y, n)
		}
	}
}
