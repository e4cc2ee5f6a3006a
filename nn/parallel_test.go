package nn

import (
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

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

// TestRunWorkersRunsEachPartOnce: every region runs its work exactly
// workers times, all before runWorkers returns, whether the team's helpers
// spin (back-to-back regions), sleep (a pause longer than teamSpin), the
// region is nested in another, or several goroutines start regions at once
// (all but one go to new goroutines); a region after a panicking one still
// runs on the team.
func TestRunWorkersRunsEachPartOnce(t *testing.T) {
	old := runtime.GOMAXPROCS(4)
	defer runtime.GOMAXPROCS(old)
	region := func(workers int, inner func()) {
		var calls atomic.Int32
		runWorkers(workers, func() {
			calls.Add(1)
			if inner != nil {
				inner()
			}
		})
		if n := calls.Load(); n != int32(workers) {
			t.Errorf("%d workers: work ran %d times before the return", workers, n)
		}
		time.Sleep(time.Microsecond)
		if n := calls.Load(); n != int32(workers) {
			t.Errorf("%d workers: work ran %d times after the return", workers, n)
		}
	}
	for i := 0; i < 200; i++ {
		region(2+i%3, nil)
	}
	for i := 0; i < 5; i++ {
		time.Sleep(3 * teamSpin)
		region(3, nil)
	}
	region(2, func() { region(3, nil) })
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				region(2+i%3, nil)
			}
		}()
	}
	wg.Wait()
	func() {
		defer func() { _ = recover() }()
		runWorkers(3, chunkPanics)
	}()
	if !workTeam.mu.TryLock() {
		t.Fatal("the team is still held after a panicking region")
	}
	workTeam.mu.Unlock()
	region(3, nil)
}

// TestRunWorkersPartGoexit: a part that ends its goroutine
// (runtime.Goexit, as t.FailNow does) ends only itself, as in
// parallel.Group: the region's other parts all run, the caller's
// goroutine ends once they have, and the team's lock and helpers serve
// the regions after it.
func TestRunWorkersPartGoexit(t *testing.T) {
	old := runtime.GOMAXPROCS(4)
	defer runtime.GOMAXPROCS(old)
	for i := 0; i < 3; i++ {
		var calls atomic.Int32
		done := make(chan struct{})
		go func() {
			defer close(done)
			runWorkers(3, func() {
				calls.Add(1)
				runtime.Goexit()
			})
		}()
		<-done
		if n := calls.Load(); n != 3 {
			t.Fatalf("region %d: work ran %d times, want 3", i, n)
		}
		if !workTeam.mu.TryLock() {
			t.Fatalf("region %d: the team is still held after its caller's goroutine ended", i)
		}
		workTeam.mu.Unlock()
	}
	var calls atomic.Int32
	runWorkers(3, func() { calls.Add(1) })
	if n := calls.Load(); n != 3 {
		t.Fatalf("after the ended parts: work ran %d times, want 3", n)
	}
}
