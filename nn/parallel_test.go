package nn

import (
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/tell-project/tell/parallel"
)

// TestParallelForPanicReachesCaller: a chunk that panics on one of
// parallelFor's goroutines panics the caller (a *parallel.Panic with the
// goroutine's stack), after every chunk has run, instead of the process.
func TestParallelForPanicReachesCaller(t *testing.T) {
	old := runtime.GOMAXPROCS(4)
	defer runtime.GOMAXPROCS(old)
	for _, loop := range []struct {
		name string
		run  func(fn func(lo, hi int))
	}{
		{"parallelFor", func(fn func(lo, hi int)) { parallelFor(4, 1<<20, fn) }},
		{"parallelForN", func(fn func(lo, hi int)) { parallelForN(4, 4, 1<<20, fn) }},
	} {
		var ran atomic.Int32
		r := func() (r any) {
			defer func() { r = recover() }()
			loop.run(func(lo, hi int) {
				ran.Add(1)
				if lo == 1 { // a goroutine's chunk: the caller runs the first or the last
					chunkPanics()
				}
			})
			return nil
		}()
		p, ok := r.(*parallel.Panic)
		if !ok || p.Error() != "planted" || !strings.Contains(string(p.Stack), "chunkPanics") {
			t.Errorf("%s: caller got %v, want the planted panic with its goroutine's stack", loop.name, r)
		}
		if ran.Load() != 4 {
			t.Errorf("%s: %d of 4 chunks ran", loop.name, ran.Load())
		}
	}
}

func chunkPanics() { panic("planted") }
