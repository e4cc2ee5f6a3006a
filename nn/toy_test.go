package nn

import "testing"

// TestToyLearns: a one-block transformer with mean pooling learns a
// separable 3-class token task to 100% on held-out samples.
func TestToyLearns(t *testing.T) {
	const T, D, K = 4, 8, 3
	rng := NewRNG(40)
	centres := randTensor(41, 2, K, D)
	sample := func(n int) (*Tensor, []int) {
		x := NewTensor(n, T, D)
		y := make([]int, n)
		for i := range y {
			y[i] = rng.IntN(K)
			for tk := 0; tk < T; tk++ {
				for j := 0; j < D; j++ {
					x.Data[(i*T+tk)*D+j] = centres.Data[y[i]*D+j] + float32(rng.NormFloat64()*0.5)
				}
			}
		}
		return x, y
	}
	blk := NewBlock("blk", D, 2, 16, rng)
	pool := &MeanTokens{}
	head := NewLinear("head", D, K, true, rng)
	ps := append(blk.Params(), head.Params()...)
	opt := NewAdamW(ps, 1e-2, 0.01)
	ce := &CrossEntropy{Smoothing: 0.05}
	for step := 0; step < 150; step++ {
		x, y := sample(32)
		ZeroGrad(ps)
		logits := head.Forward(pool.Forward(blk.Forward(x)))
		_, d, err := ce.Forward(logits, y)
		if err != nil {
			t.Fatal(err)
		}
		blk.Backward(pool.Backward(head.Backward(d)))
		ClipGradNorm(ps, 5)
		opt.Update()
	}
	x, y := sample(200)
	logits := head.Forward(pool.Forward(blk.Forward(x)))
	correct := 0
	for i, c := range y {
		row := logits.Data[i*K : (i+1)*K]
		best := 0
		for k := range row {
			if row[k] > row[best] {
				best = k
			}
		}
		if best == c {
			correct++
		}
	}
	if correct != len(y) {
		t.Fatalf("toy accuracy %d/%d, want 100%%", correct, len(y))
	}
}
