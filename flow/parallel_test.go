package flow

import (
	"runtime"
	"sync/atomic"
	"testing"
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
