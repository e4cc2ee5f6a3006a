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
