package nn

import (
	"context"
	"fmt"
	"sort"
	"time"
)

// RefBenchResult is the outcome of BenchRef.
type RefBenchResult struct {
	Params    int
	StepMS    []float64 // timed steps
	MedianMS  float64
	LastLoss  float32
	FirstLoss float32
}

// BenchRef trains the reference model (cfg) with AdamW (lr 1e-3, wd 0.05,
// decay on every parameter as torch.optim.AdamW's default) on one random
// batch of the given size, as bench/torch_step.py does: warmup untimed
// steps, then timed steps; it returns the per-step wall times.
func BenchRef(ctx context.Context, cfg RefConfig, batch, warmup, timed int) (RefBenchResult, error) {
	m := NewRefModel(cfg)
	ps := m.Params()
	for _, p := range ps {
		p.NoDecay = false
	}
	opt := NewAdamW(ps, 1e-3, 0.05)
	rng := NewRNG(cfg.Seed + 1)
	x := NewTensor(batch, cfg.Channels, cfg.Image, cfg.Image)
	normalInit(x.Data, 1, rng)
	text := make([]int32, batch*cfg.TextLen)
	for i := range text {
		text[i] = int32(rng.IntN(cfg.Vocab))
	}
	y := make([]int, batch)
	for i := range y {
		y[i] = rng.IntN(cfg.Classes)
	}
	var res RefBenchResult
	for _, p := range ps {
		res.Params += len(p.Data)
	}
	for s := 0; s < warmup+timed; s++ {
		if err := ctx.Err(); err != nil {
			return res, fmt.Errorf("nn: bench: %w", err)
		}
		t0 := time.Now()
		ZeroGrad(ps)
		loss, err := m.Forward(x, text, y)
		if err != nil {
			return res, err
		}
		m.Backward()
		opt.Update()
		ms := float64(time.Since(t0).Microseconds()) / 1000
		if s == 0 {
			res.FirstLoss = loss
		}
		res.LastLoss = loss
		if s >= warmup {
			res.StepMS = append(res.StepMS, ms)
		}
	}
	sorted := append([]float64(nil), res.StepMS...)
	sort.Float64s(sorted)
	if n := len(sorted); n > 0 {
		res.MedianMS = sorted[n/2]
		if n%2 == 0 {
			res.MedianMS = (sorted[n/2-1] + sorted[n/2]) / 2
		}
	}
	return res, nil
}
