package nn

import (
	"runtime"

	"github.com/tell-project/tell/parallel"
)

// parallelFor runs fn over [0,n) split into contiguous chunks, one goroutine
// per chunk, using GOMAXPROCS workers. Callers only split work whose results
// do not depend on the split (each output written by exactly one chunk, with a
// fixed reduction order), so results are identical for any thread count.
// work estimates the cost of one item; small jobs run inline. A panic in a
// chunk is raised again on the caller's goroutine once every chunk has
// ended (package parallel).
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
	var g parallel.Group
	for t := 0; t < threads; t++ {
		lo, hi := t*n/threads, (t+1)*n/threads
		if lo == hi {
			continue
		}
		if t == threads-1 {
			g.Do(func() { fn(lo, hi) })
			continue
		}
		g.Go(func() { fn(lo, hi) })
	}
	g.Wait()
}
