package flow

import (
	"context"
	"runtime"
	"testing"
	"weak"

	"github.com/tell-project/tell/raster"
)

// TestEstimatorIsCollected checks that an estimator that ran a parallel pass
// becomes garbage once dropped, with or without Close: analyze makes one per
// event, so a retained estimator grows memory with the video's length.
func TestEstimatorIsCollected(t *testing.T) {
	for _, closeIt := range []bool{true, false} {
		a, b := raster.NewGray(128, 128), raster.NewGray(128, 128)
		for i := range a.Pix {
			a.Pix[i] = float32(i % 251)
			b.Pix[i] = float32((i + 1) % 251)
		}
		p := Fast()
		p.Workers = 2 // force the worker team, whatever GOMAXPROCS is
		tv, err := NewTVL1(p)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tv.Compute(context.Background(), a, b); err != nil {
			t.Fatal(err)
		}
		if closeIt {
			tv.Close()
		}
		w := weak.Make(tv)
		tv = nil
		for i := 0; i < 10 && w.Value() != nil; i++ {
			runtime.GC()
			runtime.Gosched()
		}
		if w.Value() != nil {
			t.Errorf("Close=%v: estimator still reachable after GC", closeIt)
		}
	}
}
