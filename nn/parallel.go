package nn

import (
	"runtime"
	"sync/atomic"

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
	run := func() {
		for {
			c := int(next.Add(1)) - 1
			if c >= chunks {
				return
			}
			fn(c*n/chunks, (c+1)*n/chunks)
		}
	}
	var g parallel.Group
	for t := 1; t < threads; t++ {
		g.Go(run)
	}
	g.Do(run)
	g.Wait()
}

// parallelChunks is how many chunks parallelFor makes per worker.
const parallelChunks = 4
