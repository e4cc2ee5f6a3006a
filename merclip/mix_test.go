package merclip

import (
	"math/rand/v2"
	"testing"

	"github.com/tell-project/tell/model"
)

func TestRegionBounds(t *testing.T) {
	// MER-CLIP's LocalStaticFaceMix (Liu et al., arXiv 2505.05937): forehead rows [0,H/4); chin rows [3H/4,H); left cheek
	// rows [H/4,3H/4) cols [0,W/2); right cheek same rows, cols [W/2,W).
	tests := []struct {
		r              Region
		h, w           int
		y0, y1, x0, x1 int
	}{
		{Forehead, 28, 28, 0, 7, 0, 28},
		{Chin, 28, 28, 21, 28, 0, 28},
		{LeftCheek, 28, 28, 7, 21, 0, 14},
		{RightCheek, 28, 28, 7, 21, 14, 28},
		{Forehead, 224, 224, 0, 56, 0, 224},
		{Chin, 224, 224, 168, 224, 0, 224},
		{LeftCheek, 10, 7, 2, 7, 0, 3},
		{RightCheek, 10, 7, 2, 7, 3, 7},
		{Chin, 10, 7, 7, 10, 0, 7},
	}
	for _, tc := range tests {
		y0, y1, x0, x1 := tc.r.Bounds(tc.h, tc.w)
		if y0 != tc.y0 || y1 != tc.y1 || x0 != tc.x0 || x1 != tc.x1 {
			t.Errorf("%v on %dx%d: rows [%d,%d) cols [%d,%d), want rows [%d,%d) cols [%d,%d)",
				tc.r, tc.h, tc.w, y0, y1, x0, x1, tc.y0, tc.y1, tc.x0, tc.x1)
		}
	}
}

func inRegion(r Region, h, w, y, x int) bool {
	y0, y1, x0, x1 := r.Bounds(h, w)
	return y >= y0 && y < y1 && x >= x0 && x < x1
}

// TestMixRegionFrames checks the frame form: alpha·frame + (1−alpha)·static
// inside the region in every frame, untouched elsewhere.
func TestMixRegionFrames(t *testing.T) {
	l := model.Layout{Frames: 3, Channels: 2, H: 8, W: 6}
	rng := rand.New(rand.NewPCG(1, 2))
	x := make([]float32, l.Len())
	for i := range x {
		x[i] = rng.Float32()*10 + 1
	}
	static := make([]float32, l.StaticLen())
	for i := range static {
		static[i] = -rng.Float32()
	}
	for r := Forehead; r < numRegions; r++ {
		got := append([]float32(nil), x...)
		MixRegion(got, l, static, r, 0.5)
		for f := 0; f < l.Frames; f++ {
			for c := 0; c < l.Channels; c++ {
				for y := 0; y < l.H; y++ {
					for xx := 0; xx < l.W; xx++ {
						i := ((f*l.Channels+c)*l.H+y)*l.W + xx
						s := static[(c*l.H+y)*l.W+xx]
						want := x[i]
						if inRegion(r, l.H, l.W, y, xx) {
							want = 0.5*x[i] + 0.5*s
						}
						if got[i] != want {
							t.Fatalf("%v f%d c%d (%d,%d): got %v want %v", r, f, c, y, xx, got[i], want)
						}
					}
				}
			}
		}
	}
}

// TestMixRegionFlow checks the flow adaptation: a static face has no motion,
// so motion channels are scaled by alpha in the region while appearance
// channels blend with the static face; motion elsewhere is intact.
func TestMixRegionFlow(t *testing.T) {
	l := model.Layout{Frames: 1, Channels: 4, H: 28, W: 28, Motion: []bool{true, true, true, false}}
	x := make([]float32, l.Len())
	for i := range x {
		x[i] = float32(i%97) + 1
	}
	static := make([]float32, l.StaticLen())
	for i := range static {
		static[i] = 1000 // would show up if blended into a motion channel
	}
	got := append([]float32(nil), x...)
	MixRegion(got, l, static, LeftCheek, 0.25)
	for c := 0; c < 4; c++ {
		for y := 0; y < 28; y++ {
			for xx := 0; xx < 28; xx++ {
				i := (c*28+y)*28 + xx
				want := x[i]
				if inRegion(LeftCheek, 28, 28, y, xx) {
					if c < 3 {
						want = 0.25 * x[i]
					} else {
						want = 0.25*x[i] + 0.75*1000
					}
				}
				if got[i] != want {
					t.Fatalf("c%d (%d,%d): got %v want %v", c, y, xx, got[i], want)
				}
			}
		}
	}
	// A flow-only layout needs no static face at all.
	flowOnly := model.Layout{Frames: 1, Channels: 3, H: 28, W: 28, Motion: []bool{true, true, true}}
	y := make([]float32, flowOnly.Len())
	for i := range y {
		y[i] = 2
	}
	MixRegion(y, flowOnly, nil, Chin, 0.5)
	if y[(0*28+27)*28+5] != 1 || y[(2*28+20)*28+5] != 2 {
		t.Fatalf("flow-only chin mix: in %v, out %v", y[(0*28+27)*28+5], y[(2*28+20)*28+5])
	}
}

// TestMixerTrainingPoolOnly plants marker values in the test fold's static
// faces and checks they never reach an augmented training sample, while
// every training static face gets used.
func TestMixerTrainingPoolOnly(t *testing.T) {
	l := model.Layout{Frames: 1, Channels: 1, H: 8, W: 8}
	const nTrain, nTest = 5, 3
	var train, test [][]float32
	for i := 0; i < nTrain; i++ {
		s := make([]float32, l.StaticLen())
		for k := range s {
			s[k] = float32(2 * (i + 1)) // mixes to i+1 with x=0, alpha=0.5
		}
		train = append(train, s)
	}
	for i := 0; i < nTest; i++ {
		s := make([]float32, l.StaticLen())
		for k := range s {
			s[k] = -100
		}
		test = append(test, s)
	}
	_ = test // the test fold's statics are never handed to the mixer
	m, err := NewMixer(0.5, 0.5, l, train)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(7, 7))
	used := map[int]bool{}
	mixed := 0
	const n = 2000
	for it := 0; it < n; it++ {
		x := make([]float32, l.Len())
		r, j := m.Apply(rng, x)
		if r < 0 {
			for _, v := range x {
				if v != 0 {
					t.Fatal("unmixed sample changed")
				}
			}
			continue
		}
		mixed++
		used[j] = true
		for _, v := range x {
			if v < 0 {
				t.Fatal("a test-fold static face reached training")
			}
			if v != 0 && v != float32(j+1) {
				t.Fatalf("value %v not from static face %d", v, j)
			}
		}
	}
	if len(used) != nTrain {
		t.Errorf("used %d of %d training statics", len(used), nTrain)
	}
	if p := float64(mixed) / n; p < 0.45 || p > 0.55 {
		t.Errorf("mixed fraction %.3f, want about 0.5", p)
	}
	if _, err := NewMixer(0.5, 0.5, l, [][]float32{make([]float32, 3)}); err == nil {
		t.Error("wrong static length accepted")
	}
}

func BenchmarkMixRegion(b *testing.B) {
	l := model.Layout{Frames: 1, Channels: 3, H: 28, W: 28, Motion: []bool{true, true, true}}
	x := make([]float32, l.Len())
	for i := 0; i < b.N; i++ {
		MixRegion(x, l, nil, Region(i%4), 0.5)
	}
}
