package nn

import (
	"math"
	"runtime"
	"testing"
)

func tinyRefConfig() RefConfig {
	return RefConfig{Channels: 3, Image: 8, Patch: 4, Width: 16, Heads: 2, MLP: 32,
		Depth: 2, EIMDepth: 2, Classes: 3, Vocab: 20, TextLen: 5, TextDep: 1, Seed: 7}
}

func refBatch(cfg RefConfig, B int, seed uint64) (*Tensor, []int32, []int) {
	rng := NewRNG(seed)
	x := randTensor(seed, 1, B, cfg.Channels, cfg.Image, cfg.Image)
	text := make([]int32, B*cfg.TextLen)
	for i := range text {
		text[i] = int32(rng.IntN(cfg.Vocab))
	}
	y := make([]int, B)
	for i := range y {
		y[i] = rng.IntN(cfg.Classes)
	}
	return x, text, y
}

// TestGradRefModel checks the whole model's gradient, every parameter,
// against central differences of the loss.
func TestGradRefModel(t *testing.T) {
	cfg := tinyRefConfig()
	m := NewRefModel(cfg)
	x, text, y := refBatch(cfg, 4, 3)
	ps := m.Params()
	ZeroGrad(ps)
	if _, err := m.Forward(x, text, y); err != nil {
		t.Fatal(err)
	}
	m.Backward()
	checkGrads(t, paramCases(ps), func() float64 {
		l, err := m.Forward(x, text, y)
		if err != nil {
			t.Fatal(err)
		}
		return float64(l)
	}, 2e-3, 12)
}

// trainRef runs steps of AdamW on the tiny model and returns the losses.
func trainRef(t *testing.T, m *RefModel, opt *AdamW, steps int, seed uint64) []float32 {
	var losses []float32
	for s := 0; s < steps; s++ {
		x, text, y := refBatch(m.Cfg, 6, seed+uint64(opt.Step))
		ZeroGrad(opt.Params())
		l, err := m.Forward(x, text, y)
		if err != nil {
			t.Fatal(err)
		}
		m.Backward()
		ClipGradNorm(opt.Params(), 1)
		opt.LR = WarmupCosine(opt.Step, 3, 20, 1e-3, 1e-5)
		opt.Update()
		losses = append(losses, l)
	}
	return losses
}

// TestRefModelThreadInvariant: training gives bit-identical losses and
// weights with 1 and 3 threads.
func TestRefModelThreadInvariant(t *testing.T) {
	run := func(threads int) ([]float32, []float32) {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(threads))
		cfg := tinyRefConfig()
		cfg.Width, cfg.MLP = 64, 256 // large enough for the kernels to split
		m := NewRefModel(cfg)
		opt := NewAdamW(m.Params(), 1e-3, 0.05)
		l := trainRef(t, m, opt, 4, 50)
		return l, m.Params()[5].Data
	}
	l1, w1 := run(1)
	l3, w3 := run(3)
	for i := range l1 {
		if math.Float32bits(l1[i]) != math.Float32bits(l3[i]) {
			t.Fatalf("step %d: loss %v with 1 thread, %v with 3", i, l1[i], l3[i])
		}
	}
	for i := range w1 {
		if math.Float32bits(w1[i]) != math.Float32bits(w3[i]) {
			t.Fatalf("weight %d differs between thread counts", i)
		}
	}
}
