package train

import (
	"context"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/tell-project/tell/model"
	"github.com/tell-project/tell/parallel"
)

// panicking is the centroid family with a Fit that panics on its second
// call (a fold on one of the executor's goroutines).
type panicking struct {
	*centroid
	calls atomic.Int32
}

func (p *panicking) Fit(ctx context.Context, spec model.Spec, d *FitData, opt FitOptions) (model.Net, error) {
	if p.calls.Add(1) == 2 {
		var rows []int
		_ = rows[opt.Seed%7+7] // a runtime panic in the fold's goroutine
	}
	return p.centroid.Fit(ctx, spec, d, opt)
}

// TestFoldPanicReachesRun: a fold that panics on the executor's goroutine
// panics Run's caller (where tell worker's job handler recovers it) with
// the fold's stack, instead of ending the process; the other folds take
// no new unit after it.
func TestFoldPanicReachesRun(t *testing.T) {
	dir := t.TempDir()
	man, err := WriteSynth(dir, SynthOptions{Seed: 9, Subjects: SynthSubjects(6, 2)})
	if err != nil {
		t.Fatal(err)
	}
	fam := &panicking{centroid: &centroid{}}
	cfg := DefaultConfig(model.Families{fam})
	cfg.Workers = 2
	got := func() (got any) {
		defer func() { got = recover() }()
		Run(context.Background(), RunOptions{Manifest: man, Protocol: ProtocolLOSO, Out: filepath.Join(dir, "run"),
			Config: cfg, Families: model.Families{fam}, Bootstrap: -1})
		return nil
	}()
	p, ok := got.(*parallel.Panic)
	if !ok || !strings.Contains(p.Error(), "index out of range") || !strings.Contains(string(p.Stack), "(*panicking).Fit") {
		t.Fatalf("Run's caller got %v, want the fold's panic with its stack", got)
	}
	if n := fam.calls.Load(); n > 3 {
		t.Errorf("%d fits after the panic began, want the pool stopped (at most the one in progress)", n-2)
	}
}
