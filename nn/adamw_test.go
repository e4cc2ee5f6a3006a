package nn

import (
	"math"
	"testing"
)

// TestAdamWKnownAnswer: with a constant gradient Adam's bias-corrected step
// is exactly lr, and decay multiplies by (1 − lr·wd) first (worked by hand).
func TestAdamWKnownAnswer(t *testing.T) {
	p := NewParam("w", 1)
	q := NewParam("b", 1)
	q.NoDecay = true
	p.Data[0], q.Data[0] = 1, 1
	o := NewAdamW([]*Param{p, q}, 0.1, 0.1)
	want := [][2]float64{{0.89, 0.9}, {0.7811, 0.8}}
	for s, w := range want {
		p.Grad[0], q.Grad[0] = 0.5, 0.5
		o.Update()
		if math.Abs(float64(p.Data[0])-w[0]) > 1e-6 || math.Abs(float64(q.Data[0])-w[1]) > 1e-6 {
			t.Fatalf("step %d: got %v %v, want %v", s+1, p.Data[0], q.Data[0], w)
		}
	}
}

func TestClipGradNorm(t *testing.T) {
	p := NewParam("w", 2)
	p.Grad[0], p.Grad[1] = 3, 4
	if n := ClipGradNorm([]*Param{p}, 1); n != 5 {
		t.Fatalf("norm %v, want 5", n)
	}
	if math.Abs(float64(p.Grad[0])-0.6) > 1e-5 || math.Abs(float64(p.Grad[1])-0.8) > 1e-5 {
		t.Fatalf("clipped %v", p.Grad)
	}
	ClipGradNorm([]*Param{p}, 10)
	if math.Abs(float64(p.Grad[0])-0.6) > 1e-5 {
		t.Fatal("a small gradient was changed")
	}
}

func TestWarmupCosine(t *testing.T) {
	for _, c := range []struct {
		step int
		want float64
	}{{0, 0.25}, {3, 1}, {4, 1}, {9, 0.55}, {14, 0.1}, {20, 0.1}} {
		got := WarmupCosine(c.step, 4, 14, 1, 0.1)
		if math.Abs(float64(got)-c.want) > 1e-6 {
			t.Errorf("step %d: lr %v, want %v", c.step, got, c.want)
		}
	}
}

// TestAdamWSplitOverParams: one parallel split over every parameter's
// values updates each exactly as the plain per-element formula, with and
// without decay, for tensors that straddle the workers' boundaries.
func TestAdamWSplitOverParams(t *testing.T) {
	var ps []*Param
	for i, n := range []int{1, 0, 5, 3001, 70000, 7} {
		p := NewParam("p", n)
		copy(p.Data, randTensor(uint64(i), 1, n).Data)
		p.NoDecay = i%2 == 1
		ps = append(ps, p)
	}
	type state struct{ p, m, v []float32 }
	ref := make([]state, len(ps))
	for i, p := range ps {
		ref[i] = state{append([]float32(nil), p.Data...), make([]float32, len(p.Data)), make([]float32, len(p.Data))}
	}
	o := NewAdamW(ps, 1e-2, 0.1)
	for step := 1; step <= 3; step++ {
		for i, p := range ps {
			copy(p.Grad, randTensor(uint64(100*step+i), 1, len(p.Grad)).Data)
		}
		o.Update()
		// β as float32 values, as the optimiser holds them
		bc1 := float32(1 - math.Pow(float64(float32(0.9)), float64(step)))
		bc2 := float32(math.Sqrt(1 - math.Pow(float64(float32(0.999)), float64(step))))
		for i, p := range ps {
			decay := float32(1)
			if !p.NoDecay {
				decay = 1 - float32(1e-2)*0.1
			}
			r := ref[i]
			for j, g := range p.Grad {
				r.m[j] = float32(0.9*r.m[j]) + float32((1-float32(0.9))*g)
				r.v[j] = float32(0.999*r.v[j]) + float32((1-float32(0.999))*g*g)
				r.p[j] = float32(r.p[j]*decay) - float32(1e-2/bc1*r.m[j])/float32(float32(math.Sqrt(float64(r.v[j])))/bc2+1e-8)
				if p.Data[j] != r.p[j] {
					t.Fatalf("step %d param %d [%d]: %v, want %v", step, i, j, p.Data[j], r.p[j])
				}
			}
		}
	}
}
