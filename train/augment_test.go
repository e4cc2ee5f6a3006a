package train

import (
	"math"
	"testing"

	"github.com/tell-project/tell/facs"
	"github.com/tell-project/tell/model"
	"github.com/tell-project/tell/nn"
)

var flowLayout = model.Layout{Frames: 1, Channels: 3, H: 5, W: 6, Motion: []bool{true, true, true}}

// flowOf builds one flow sample from per-pixel functions of (x, y).
func flowOf(l model.Layout, u, v, s func(x, y float64) float64) []float32 {
	out := make([]float32, l.Len())
	plane := l.H * l.W
	for y := 0; y < l.H; y++ {
		for x := 0; x < l.W; x++ {
			i := y*l.W + x
			out[i] = float32(u(float64(x), float64(y)))
			out[plane+i] = float32(v(float64(x), float64(y)))
			out[2*plane+i] = float32(s(float64(x), float64(y)))
		}
	}
	return out
}

// TestMirror: the mirror image of a face moving right on its left side is a
// face moving left on its right side; v and strain only move; twice is the
// identity.
func TestMirror(t *testing.T) {
	l := flowLayout
	left := func(x, y float64) float64 {
		if x < 3 {
			return 1
		}
		return 0
	}
	x := flowOf(l, left, func(x, y float64) float64 { return y }, func(x, y float64) float64 { return x })
	Mirror(x, l)
	want := flowOf(l, func(x, y float64) float64 { return -left(5-x, y) }, func(x, y float64) float64 { return y }, func(x, y float64) float64 { return 5 - x })
	for i := range want {
		if x[i] != want[i] {
			t.Fatalf("mirrored value %d = %v, want %v", i, x[i], want[i])
		}
	}
	Mirror(x, l)
	Mirror(want, l)
	for i := range want {
		if x[i] != want[i] {
			t.Fatal("mirroring twice is not the identity")
		}
	}
}

func TestMirrorAUs(t *testing.T) {
	for in, want := range map[string]string{
		"L12+R14+4+A15": "R12+L14+4+A15",
		"R6/L12B":       "L6/R12B",
		"":              "",
	} {
		if got := MirrorAUs(facs.MustParse(in)).String(); got != want {
			t.Errorf("MirrorAUs(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestTransform: the identity copies; a shift of one pixel moves the image;
// a rotation turns a uniform motion field's vectors by the same angle (in
// the interior, away from the zero padding) while strain stays put.
func TestTransform(t *testing.T) {
	l := model.Layout{Frames: 1, Channels: 3, H: 9, W: 9, Motion: []bool{true, true, true}}
	x := flowOf(l, func(x, y float64) float64 { return x + 10*y }, func(x, y float64) float64 { return -x }, func(x, y float64) float64 { return y })
	dst := make([]float32, l.Len())
	Transform{Scale: 1}.Apply(dst, x, l)
	for i := range x {
		if math.Abs(float64(dst[i]-x[i])) > 1e-5 {
			t.Fatalf("identity changed value %d: %v → %v", i, x[i], dst[i])
		}
	}
	Transform{Scale: 1, TX: 1}.Apply(dst, x, l)
	if dst[4*9+5] != x[4*9+4] || dst[4*9] != 0 {
		t.Errorf("shift right: got %v and %v, want %v and 0", dst[4*9+5], dst[4*9], x[4*9+4])
	}
	th := 20 * math.Pi / 180
	uniform := flowOf(l, func(x, y float64) float64 { return 1 }, func(x, y float64) float64 { return 0 }, func(x, y float64) float64 { return 0.5 })
	Transform{Theta: th, Scale: 1.1}.Apply(dst, uniform, l)
	c := 4*9 + 4
	if u, v := float64(dst[c]), float64(dst[81+c]); math.Abs(u-1.1*math.Cos(th)) > 1e-5 || math.Abs(v-1.1*math.Sin(th)) > 1e-5 {
		t.Errorf("rotated vector (%v, %v), want 1.1·(cos 20°, sin 20°)", u, v)
	}
	if s := dst[2*81+c]; math.Abs(float64(s)-0.5) > 1e-6 {
		t.Errorf("strain %v, want 0.5", s)
	}
	// Draw stays within bounds.
	j := Jitter{Shift: 1, Rotate: 10, Scale: 0.05}
	rng := nn.NewRNG(3)
	for i := 0; i < 200; i++ {
		tr := j.Draw(rng)
		if math.Abs(tr.TX) > 1 || math.Abs(tr.TY) > 1 || math.Abs(tr.Theta) > 10*math.Pi/180 || math.Abs(tr.Scale-1) > 0.05 {
			t.Fatalf("draw %+v outside %+v", tr, j)
		}
	}
	if !(Jitter{}).Zero() || j.Zero() {
		t.Error("Zero")
	}
}
