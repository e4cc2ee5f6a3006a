package au

import (
	"errors"
	"fmt"
	"math"
	"testing"

	"github.com/tell-project/tell/portrait"
	"github.com/tell-project/tell/raster"
	"github.com/tell-project/tell/synth"
)

func astronaut(t testing.TB) *raster.Gray {
	img, err := portrait.Astronaut()
	if err != nil {
		t.Fatal(err)
	}
	return raster.FromImage(img)
}

// shifted resamples g moved by (dx, dy) and rotated by th about (cx, cy).
func shifted(g *raster.Gray, dx, dy, th, cx, cy float64) *raster.Gray {
	out := raster.NewGray(g.W, g.H)
	c, s := math.Cos(-th), math.Sin(-th)
	for y := 0; y < g.H; y++ {
		for x := 0; x < g.W; x++ {
			px, py := float64(x)-dx-cx, float64(y)-dy-cy
			sx, sy := c*px-s*py+cx, s*px+c*py+cy
			out.Pix[y*g.W+x] = g.Bilinear(float32(sx), float32(sy))
		}
	}
	return out
}

func TestFitSimilarity(t *testing.T) {
	want := similarity{a: 1.1 * math.Cos(0.2), b: 1.1 * math.Sin(0.2), tx: 3, ty: -2}
	var src, dst [][2]float64
	var w []float64
	for i := 0; i < 6; i++ {
		p := [2]float64{float64(i * 7 % 5), float64(i * 3 % 4)}
		x, y := want.apply(p[0], p[1])
		src, dst, w = append(src, p), append(dst, [2]float64{x, y}), append(w, 1)
	}
	// One outlier: the robust fit must shrug it off.
	src, dst, w = append(src, [2]float64{2, 2}), append(dst, [2]float64{9, 9}), append(w, 1)
	errOf := func(m similarity) float64 {
		return math.Abs(m.a-want.a) + math.Abs(m.b-want.b) + math.Abs(m.tx-want.tx) + math.Abs(m.ty-want.ty)
	}
	plain := fitSimilarity(src, dst, w)
	got := robustSimilarity(src, dst, w, 0.5)
	if errOf(got) > 0.15 || errOf(got) > errOf(plain)/5 {
		t.Fatalf("robust %+v (err %.3f), plain err %.3f, want %+v", got, errOf(got), errOf(plain), want)
	}
	// Without the outlier the fit is exact.
	if e := errOf(fitSimilarity(src[:6], dst[:6], w[:6])); e > 1e-9 {
		t.Errorf("exact data: error %g", e)
	}
}

// TestRigidMotionIsNotAnAU moves the whole face: the pose must absorb it
// and no AU may fire.
func TestRigidMotionIsNotAnAU(t *testing.T) {
	g := astronaut(t)
	est, err := New(g, synth.AstronautLandmarks())
	if err != nil {
		t.Fatal(err)
	}
	var m Measurement
	for _, mv := range [][3]float64{{0.7, -0.4, 0}, {2.5, 1.5, 0.02}, {-1.2, 0.3, -0.01}} {
		f := shifted(g, mv[0], mv[1], mv[2], 225, 130)
		if err := est.Measure(f, &m); err != nil {
			t.Fatal(err)
		}
		if math.Abs(float64(m.Rotation)-mv[2]) > 0.005 {
			t.Errorf("move %v: rotation %.4f", mv, m.Rotation)
		}
		for i, a := range aus {
			if m.Present[i] {
				t.Errorf("move %v: AU%d present at %.2f", mv, a, m.Intensity[i])
			}
		}
		// Landmark 30 (nose tip) should follow the move.
		p := synth.AstronautLandmarks()[30]
		c, s := math.Cos(mv[2]), math.Sin(mv[2])
		ex := c*(float64(p[0])-225) - s*(float64(p[1])-130) + 225 + mv[0]
		ey := s*(float64(p[0])-225) + c*(float64(p[1])-130) + 130 + mv[1]
		if d := math.Hypot(float64(m.Landmarks[30][0])-ex, float64(m.Landmarks[30][1])-ey); d > 0.15 {
			t.Errorf("move %v: nose tip off by %.2f px", mv, d)
		}
	}
}

// TestSolverRecovers: a residual made of known AU movements decomposes
// back into them.
func TestSolverRecovers(t *testing.T) {
	comp := buildBasis()
	s := newSolver(comp)
	r := make([]float64, 2*numPoints)
	w := make([]float64, 2*numPoints)
	for i := range w {
		w[i] = 1
	}
	add := func(au, side int, k float64) {
		for _, c := range comp {
			if c.au == au && c.side == side {
				for d, v := range c.v {
					r[d] += k * v
				}
				return
			}
		}
		t.Fatalf("no component AU%d side %d", au, side)
	}
	add(1, 1, 4)
	add(1, 2, 4)
	add(12, 1, 6) // right only
	add(26, 0, 3)
	m := newMeasurement()
	s.solve(r, w, &m)
	idx := func(a int) int { return s.index[a] }
	check := func(name string, got, want float32) {
		if math.Abs(float64(got-want)) > 0.1 {
			t.Errorf("%s = %.2f, want %.2f", name, got, want)
		}
	}
	check("AU1", m.Intensity[idx(1)], 4*IntensityPerPixel)
	check("AU12 right", m.Right[idx(12)], 6*IntensityPerPixel)
	check("AU12 left", m.Left[idx(12)], 0)
	check("AU26", m.Intensity[idx(26)], 3*IntensityPerPixel)
	check("AU4", m.Intensity[idx(4)], 0)
	if m.Expression <= 0 {
		t.Error("no expression energy")
	}
}

func TestMeasureShape(t *testing.T) {
	neutral := synth.AstronautLandmarks()
	var m Measurement
	if err := MeasureShape(neutral, neutral, &m); err != nil {
		t.Fatal(err)
	}
	for i, a := range aus {
		if m.Intensity[i] > 0.01 {
			t.Errorf("neutral vs itself: AU%d %.2f", a, m.Intensity[i])
		}
	}
	// Lower the lip corners by 4% of the eye distance.
	lm := neutral
	for _, p := range []int{48, 54, 60, 64} {
		lm[p][1] += 0.04 * 45
	}
	if err := MeasureShape(lm, neutral, &m); err != nil {
		t.Fatal(err)
	}
	if v := m.Intensity[newSolver(nil).index[15]]; v < 1 {
		t.Errorf("corners down: AU15 %.2f, want ≥ 1", v)
	}
}

func TestLostFace(t *testing.T) {
	g := astronaut(t)
	est, err := New(g, synth.AstronautLandmarks())
	if err != nil {
		t.Fatal(err)
	}
	blank := raster.NewGray(g.W, g.H)
	var m Measurement
	if err := est.Measure(blank, &m); !errors.Is(err, ErrLost) {
		t.Fatalf("blank frame: err %v, want ErrLost", err)
	}
	// The face comes back: tracking resumes against the same reference.
	if err := est.Measure(g, &m); err != nil {
		t.Fatalf("face back: %v", err)
	}
}

func TestTooSmall(t *testing.T) {
	var lm [68][2]float32
	if _, err := New(raster.NewGray(64, 64), lm); err == nil {
		t.Error("degenerate landmarks: want an error")
	}
}

func BenchmarkMeasure(b *testing.B) {
	g := astronaut(b)
	est, _ := New(g, synth.AstronautLandmarks())
	f := shifted(g, 0.6, 0.3, 0, 225, 130)
	var m Measurement
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		est.Measure(f, &m)
	}
}

func ExampleEstimator() {
	img, _ := portrait.Astronaut()
	ref := raster.FromImage(img)
	est, _ := New(ref, synth.AstronautLandmarks())
	// The same face one pixel to the right: head motion, not an expression.
	var m Measurement
	est.Measure(shifted(ref, 1, 0, 0, 0, 0), &m)
	present := 0
	for _, p := range m.Present {
		if p {
			present++
		}
	}
	fmt.Printf("tx %.1f px, %d AUs present\n", m.TX, present)
	// Output: tx 1.0 px, 0 AUs present
}

// TestReseed: a head that jumps further than the tracker follows is lost;
// restarted from the landmarks where the face now is, the tracking
// resumes against the same neutral reference, with the jump in the pose
// and no AU from it.
func TestReseed(t *testing.T) {
	g := astronaut(t)
	est, err := New(g, synth.AstronautLandmarks())
	if err != nil {
		t.Fatal(err)
	}
	const dx, dy, th = 40, -25, 0.02
	f := shifted(g, dx, dy, th, 225, 130)
	var m Measurement
	if err := est.Measure(f, &m); !errors.Is(err, ErrLost) {
		t.Fatalf("a %d px jump: err %v, want ErrLost", dx, err)
	}
	var moved [68][2]float32
	c, s := math.Cos(th), math.Sin(th)
	for i, p := range synth.AstronautLandmarks() {
		x, y := float64(p[0])-225, float64(p[1])-130
		// A detector's landmarks are off by a pixel or so: the seed need
		// not be exact.
		moved[i] = [2]float32{float32(c*x - s*y + 225 + dx + float64(i%3) - 1), float32(s*x + c*y + 130 + dy + float64(i%2))}
	}
	est.Reseed(moved)
	if err := est.Measure(f, &m); err != nil {
		t.Fatalf("after Reseed: %v", err)
	}
	// The move as a similarity about the origin.
	tx, ty := 225-(c*225-s*130)+dx, 130-(s*225+c*130)+dy
	if math.Abs(float64(m.TX)-tx) > 1 || math.Abs(float64(m.TY)-ty) > 1 || math.Abs(float64(m.Rotation)-th) > 0.005 {
		t.Errorf("pose after the jump: tx %.1f ty %.1f rotation %.3f, want %.1f %.1f %.2f", m.TX, m.TY, m.Rotation, tx, ty, th)
	}
	for i, a := range aus {
		if m.Present[i] {
			t.Errorf("AU%d present at %.2f after the jump", a, m.Intensity[i])
		}
	}
}

// TestPyramidEdges: the pyramid of a crop reaching past the frame's edges
// is the replicate-padded filter of the frame, bit for bit (the fast
// interior path reads the same pixels as At).
func TestPyramidEdges(t *testing.T) {
	f := &raster.Gray{W: 23, H: 17, Stride: 25, Pix: make([]float32, 25*17)}
	for i := range f.Pix {
		f.Pix[i] = float32((i*53)%241) + 0.5*float32(i%3)
	}
	for _, b := range [][4]int{{-4, -3, 12, 10}, {15, 9, 14, 12}, {-2, 4, 30, 6}, {3, 3, 8, 8}, {0, 0, 23, 17}} {
		var p pyramid
		p.build(f, b[0], b[1], b[2], b[3])
		w, h := b[2], b[3]
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				sx, sy := x+b[0], y+b[1]
				want := 0.25*f.At(sx-1, sy) + 0.5*f.At(sx, sy) + 0.25*f.At(sx+1, sy)
				if got := p.tmp.Pix[y*w+x]; got != want {
					t.Fatalf("box %v: (%d,%d) = %v, want %v", b, x, y, got, want)
				}
			}
		}
	}
}

// TestCropMatchesBilinear: the crop's inlined sampling gives what
// raster.Gray.Bilinear gives, for a face near the frame's edges too.
func TestCropMatchesBilinear(t *testing.T) {
	g := astronaut(t)
	est, err := New(g, synth.AstronautLandmarks())
	if err != nil {
		t.Fatal(err)
	}
	for _, sim := range []similarity{{a: 1}, {a: 0.93, b: 0.21, tx: -180, ty: 160}, {a: 1.4, b: -0.1, tx: 120, ty: -90}} {
		est.prev = sim
		const size = 64
		got := make([]uint8, size*size)
		est.Crop(g, size, got)
		var cx, cy float64
		for _, i := range []int{36, 39, 42, 45, 48, 54} {
			cx += est.refPts[i][0] / 6
			cy += est.refPts[i][1] / 6
		}
		step := 2.4 * est.iod / size
		for y := 0; y < size; y++ {
			for x := 0; x < size; x++ {
				ou := (float64(x) - size/2 + 0.5) * step
				ov := (float64(y) - size/2 + 0.5) * step
				px, py := sim.apply(cx+ou*est.ex[0]+ov*est.ey[0], cy+ou*est.ex[1]+ov*est.ey[1])
				p := g.Bilinear(float32(px), float32(py)) + 0.5
				if want := uint8(math.Max(0, math.Min(255, float64(p)))); got[y*size+x] != want {
					t.Fatalf("sim %+v: (%d,%d) = %d, want %d", sim, x, y, got[y*size+x], want)
				}
			}
		}
	}
	// Crop runs on every frame: once its buffers are grown, a crop of
	// that size or smaller allocates nothing.
	dst := make([]uint8, 96*96)
	est.Crop(g, 96, dst)
	if n := testing.AllocsPerRun(5, func() { est.Crop(g, 64, dst[:64*64]); est.Crop(g, 96, dst) }); n != 0 {
		t.Errorf("two crops allocate %v times", n)
	}
}
