package spot

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// bump is a raised-cosine event from on to off peaking at peak.
func bump(t, on, off int, peak float64) float64 {
	if t < on || t > off {
		return 0
	}
	return peak * 0.5 * (1 - math.Cos(2*math.Pi*float64(t-on)/float64(off-on)))
}

func run(t *testing.T, o Options, sig []float64, ok []bool) []Interval {
	t.Helper()
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	var out []Interval
	for i, v := range sig {
		out = append(out, s.Push(i, v, ok == nil || ok[i])...)
	}
	return append(out, s.Flush()...)
}

func TestSpotsBumps(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const fps = 30
	type ev struct {
		on, off int
		peak    float64
		kind    string
	}
	evs := []ev{{60, 72, 0.8, "micro"}, {200, 260, 1.5, "macro"}, {400, 410, 0.25, "micro"}}
	sig := make([]float64, 600)
	for i := range sig {
		// Noise adds in quadrature like tracking noise.
		n := 0.025 * math.Abs(1+0.3*rng.NormFloat64())
		var s float64
		for _, e := range evs {
			s += bump(i, e.on, e.off, e.peak)
		}
		sig[i] = math.Hypot(n, s)
	}
	got := run(t, Options{FPS: fps}, sig, nil)
	if len(got) != len(evs) {
		t.Fatalf("spotted %v, want %d events", got, len(evs))
	}
	for i, e := range evs {
		g := got[i]
		lo, hi := max(g.Onset, e.on), min(g.Offset, e.off)
		iou := float64(hi-lo+1) / float64(max(g.Offset, e.off)-min(g.Onset, e.on)+1)
		if iou < 0.5 {
			t.Errorf("event %d: got [%d %d], want [%d %d] (IoU %.2f)", i, g.Onset, g.Offset, e.on, e.off, iou)
		}
		if mid := (e.on + e.off) / 2; g.Apex < mid-2 || g.Apex > mid+2 {
			t.Errorf("event %d: apex %d, want about %d", i, g.Apex, mid)
		}
		if g.Kind != e.kind {
			t.Errorf("event %d: kind %s, want %s", i, g.Kind, e.kind)
		}
	}
}

func TestNoiseOnly(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	sig := make([]float64, 3000)
	for i := range sig {
		sig[i] = 0.03 * math.Abs(1+0.3*rng.NormFloat64())
	}
	if got := run(t, Options{FPS: 30}, sig, nil); len(got) != 0 {
		t.Errorf("spotted %v in noise", got)
	}
}

func TestLostFaceClosesEvent(t *testing.T) {
	sig := make([]float64, 120)
	ok := make([]bool, 120)
	for i := range sig {
		sig[i] = 0.02 + bump(i, 40, 80, 1)
		ok[i] = i < 60 || i > 70
	}
	got := run(t, Options{FPS: 30}, sig, ok)
	if len(got) == 0 || got[0].Offset >= 60 {
		t.Fatalf("got %v: want an event ending before the face was lost at 60", got)
	}
}

func TestBadOptions(t *testing.T) {
	// NaN, infinite and absurd rates or windows are refused, not allocated
	// (tell analyze --fps 1e308 panicked in makeslice).
	for _, o := range []Options{
		{},
		{FPS: -30},
		{FPS: math.NaN()},
		{FPS: math.Inf(1)},
		{FPS: 1e308},
		{FPS: MaxFPS * 2},
		{FPS: 30, MaxSeconds: 1e300},
		{FPS: 30, MaxSeconds: math.Inf(1)},
	} {
		if _, err := New(o); err == nil {
			t.Errorf("%+v: want an error", o)
		}
	}
	if _, err := New(Options{FPS: MaxFPS}); err != nil {
		t.Errorf("MaxFPS refused: %v", err)
	}
}

func TestBoundedMemory(t *testing.T) {
	s, _ := New(Options{FPS: 200})
	n := len(s.ring)
	for i := 0; i < 200000; i++ {
		s.Push(i, 0.02+bump(i%4000, 1000, 1100, 1), true)
	}
	if len(s.ring) != n {
		t.Errorf("ring grew from %d to %d", n, len(s.ring))
	}
}

func BenchmarkPush(b *testing.B) {
	s, _ := New(Options{FPS: 30})
	for i := 0; i < b.N; i++ {
		s.Push(i, 0.02+bump(i%300, 100, 120, 1), true)
	}
}

func ExampleSpotter() {
	s, _ := New(Options{FPS: 30})
	var got []Interval
	for t := 0; t < 120; t++ {
		got = append(got, s.Push(t, 0.02+bump(t, 50, 62, 1), true)...)
	}
	got = append(got, s.Flush()...)
	for _, iv := range got {
		fmt.Println(iv.Onset, iv.Apex, iv.Offset, iv.Kind)
	}
	// Output: 51 56 60 micro
}
