package flow

import (
	"context"
	"errors"
	"math"
	"math/rand"
	"testing"

	"github.com/tell-project/tell/portrait"
	"github.com/tell-project/tell/raster"
)

// face returns the astronaut portrait in grey, box-downsampled to size×size
// (size must divide 512).
func face(t testing.TB, size int) *raster.Gray {
	t.Helper()
	img, err := portrait.Astronaut()
	if err != nil {
		t.Fatal(err)
	}
	full := raster.FromImage(img)
	k := full.W / size
	g := raster.NewGray(size, size)
	for y := 0; y < size; y++ {
		for x := 0; x < size; x++ {
			var s float32
			for j := 0; j < k; j++ {
				for i := 0; i < k; i++ {
					s += full.Pix[(y*k+j)*full.Stride+x*k+i]
				}
			}
			g.Pix[y*size+x] = s / float32(k*k)
		}
	}
	return g
}

// warpPair returns b with b(x) = a(x - flow(x)) for a smooth flow of
// micro-expression scale (a global sinusoidal field up to ~1.5 px plus a
// local bump), so that the flow from a to b is the returned field.
func warpPair(a *raster.Gray, seed int64) (*raster.Gray, *Field) {
	rng := rand.New(rand.NewSource(seed))
	w, h := a.W, a.H
	gt := NewField(w, h)
	ph := [4]float64{rng.Float64() * 6, rng.Float64() * 6, rng.Float64() * 6, rng.Float64() * 6}
	cx, cy := (0.3+0.4*rng.Float64())*float64(w), (0.5+0.3*rng.Float64())*float64(h)
	r := 0.12 * float64(w)
	bu, bv := rng.Float64()*6-3, rng.Float64()*6-3
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			fx, fy := float64(x)/float64(w), float64(y)/float64(h)
			bump := math.Exp(-((float64(x)-cx)*(float64(x)-cx) + (float64(y)-cy)*(float64(y)-cy)) / (2 * r * r))
			gt.U[y*w+x] = float32(0.8*math.Sin(3*fx+ph[0])*math.Cos(2*fy+ph[1]) + bu*bump)
			gt.V[y*w+x] = float32(0.8*math.Cos(2*fx+ph[2])*math.Sin(3*fy+ph[3]) + bv*bump)
		}
	}
	b := raster.NewGray(w, h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			i := y*w + x
			b.Pix[i] = a.Bilinear(float32(x)-gt.U[i], float32(y)-gt.V[i])
		}
	}
	return b, gt
}

func TestTVL1Accuracy(t *testing.T) {
	if testing.Short() {
		t.Skip("accuracy runs take a few seconds")
	}
	a := face(t, 128)
	tests := []struct {
		name   string
		params Params
		maxEPE float64
	}{
		{"default", Default(), 0.2},
		{"fast", Fast(), 0.3},
	}
	for _, tc := range tests {
		est, err := NewTVL1(tc.params)
		if err != nil {
			t.Fatal(err)
		}
		for seed := int64(1); seed <= 2; seed++ {
			b, gt := warpPair(a, seed)
			f, err := est.Compute(context.Background(), a, b)
			if err != nil {
				t.Fatal(err)
			}
			epe, err := EPE(f, gt, 8)
			if err != nil {
				t.Fatal(err)
			}
			zero, _ := EPE(NewField(128, 128), gt, 8)
			t.Logf("%s seed %d: EPE %.4f (zero flow %.4f), %d iterations", tc.name, seed, epe, zero, est.Iterations())
			if epe > tc.maxEPE || math.IsNaN(epe) {
				t.Errorf("%s seed %d: EPE %.4f, want < %.2f", tc.name, seed, epe, tc.maxEPE)
			}
		}
		est.Close()
	}
}

func TestTVL1Translation(t *testing.T) {
	// A whole-image shift by (1.5, -0.75): the flow inside must be that.
	a := face(t, 128)
	gt := NewField(128, 128)
	for i := range gt.U {
		gt.U[i], gt.V[i] = 1.5, -0.75
	}
	b := raster.NewGray(128, 128)
	for y := 0; y < 128; y++ {
		for x := 0; x < 128; x++ {
			b.Pix[y*128+x] = a.Bilinear(float32(x)-1.5, float32(y)+0.75)
		}
	}
	est, _ := NewTVL1(Fast())
	defer est.Close()
	f, err := est.Compute(context.Background(), a, b)
	if err != nil {
		t.Fatal(err)
	}
	if epe, _ := EPE(f, gt, 8); epe > 0.1 {
		t.Errorf("translation EPE %.4f, want < 0.1", epe)
	}
}

func TestTVL1BadInput(t *testing.T) {
	est, _ := NewTVL1(Fast())
	defer est.Close()
	ctx := context.Background()
	tests := []struct {
		name string
		a, b *raster.Gray
	}{
		{"nil", nil, raster.NewGray(8, 8)},
		{"sizes differ", raster.NewGray(32, 32), raster.NewGray(32, 31)},
		{"empty", raster.NewGray(0, 0), raster.NewGray(0, 0)},
		{"too small", raster.NewGray(2, 5), raster.NewGray(2, 5)},
		{"short pixels", &raster.Gray{W: 4, H: 4, Stride: 4, Pix: make([]float32, 10)}, raster.NewGray(4, 4)},
		{"NaN pixel", raster.NewGray(8, 8), &raster.Gray{W: 8, H: 8, Stride: 8, Pix: append(make([]float32, 63), float32(math.NaN()))}},
		{"infinite pixel", &raster.Gray{W: 8, H: 8, Stride: 8, Pix: append([]float32{float32(math.Inf(1))}, make([]float32, 63)...)}, raster.NewGray(8, 8)},
	}
	for _, tc := range tests {
		if _, err := est.Compute(ctx, tc.a, tc.b); err == nil {
			t.Errorf("%s: no error", tc.name)
		} else {
			t.Logf("%s: %v", tc.name, err)
		}
	}
	if _, err := NewTVL1(Params{}); err == nil {
		t.Error("zero Params accepted")
	}
	p := Default()
	p.MedianFiltering = 4
	if _, err := NewTVL1(p); err == nil {
		t.Error("median 4 accepted")
	}
}

func TestTVL1ConstantAndSmall(t *testing.T) {
	// Constant images carry no motion information: the flow is exactly 0.
	// Tiny images (below the pyramid's 16 px) run on one level.
	est, _ := NewTVL1(Default())
	defer est.Close()
	for _, sz := range [][2]int{{40, 30}, {3, 3}, {17, 5}} {
		a, b := raster.NewGray(sz[0], sz[1]), raster.NewGray(sz[0], sz[1])
		for i := range a.Pix {
			a.Pix[i], b.Pix[i] = 100, 100
		}
		f, err := est.Compute(context.Background(), a, b)
		if err != nil {
			t.Fatalf("%v: %v", sz, err)
		}
		for i := range f.U {
			if f.U[i] != 0 || f.V[i] != 0 {
				t.Fatalf("%v: flow (%v,%v) at %d, want 0", sz, f.U[i], f.V[i], i)
			}
		}
	}
}

func TestTVL1Stride(t *testing.T) {
	// A sub-image view (stride > width) gives the same flow as a copy.
	a := face(t, 128)
	b, _ := warpPair(a, 3)
	wide := func(g *raster.Gray) *raster.Gray {
		v := &raster.Gray{W: g.W, H: g.H, Stride: g.W + 7, Pix: make([]float32, (g.W+7)*g.H)}
		for y := 0; y < g.H; y++ {
			copy(v.Pix[y*v.Stride:], g.Pix[y*g.W:(y+1)*g.W])
		}
		return v
	}
	est, _ := NewTVL1(Fast())
	defer est.Close()
	f1, _ := est.Compute(context.Background(), a, b)
	f2, _ := est.Compute(context.Background(), wide(a), wide(b))
	for i := range f1.U {
		if f1.U[i] != f2.U[i] || f1.V[i] != f2.V[i] {
			t.Fatalf("pixel %d differs", i)
		}
	}
}

func TestTVL1ReferenceReuse(t *testing.T) {
	// One estimator fed a stream of pairs (the same first image, then one
	// differing in one pixel, then the first again) gives
	// every pair the bits a fresh estimator gives it: the first image's
	// pyramid is kept only while its pixels are the same.
	a := face(t, 64)
	a2 := a.Clone()
	a2.Pix[37*64+21] += 8
	b1, _ := warpPair(a, 7)
	b2, _ := warpPair(a, 8)
	pairs := [][2]*raster.Gray{{a, b1}, {a, b2}, {a2, b1}, {a2, b2}, {a, b1}}
	est, _ := NewTVL1(Fast())
	defer est.Close()
	for k, pr := range pairs {
		got, err := est.Compute(context.Background(), pr[0], pr[1])
		if err != nil {
			t.Fatal(err)
		}
		fresh, _ := NewTVL1(Fast())
		want, _ := fresh.Compute(context.Background(), pr[0], pr[1])
		fresh.Close()
		for i := range want.U {
			if math.Float32bits(got.U[i]) != math.Float32bits(want.U[i]) || math.Float32bits(got.V[i]) != math.Float32bits(want.V[i]) {
				t.Fatalf("pair %d: pixel %d = (%v, %v), a fresh estimator gives (%v, %v)", k, i, got.U[i], got.V[i], want.U[i], want.V[i])
			}
		}
	}
}

func TestTVL1WorkersAgree(t *testing.T) {
	// Bands only change the summation order of the stopping criterion.
	a := face(t, 128)
	b, _ := warpPair(a, 4)
	var fs [2]*Field
	for i, n := range []int{1, 3} {
		p := Fast()
		p.Workers = n
		est, _ := NewTVL1(p)
		f, err := est.Compute(context.Background(), a, b)
		if err != nil {
			t.Fatal(err)
		}
		est.Close()
		fs[i] = f
	}
	if d, _ := EPE(fs[0], fs[1], 0); d > 1e-3 {
		t.Errorf("1 and 3 workers differ by %.5f px on average", d)
	}
}

func TestTVL1Cancel(t *testing.T) {
	a := face(t, 128)
	b, _ := warpPair(a, 5)
	est, _ := NewTVL1(Default())
	defer est.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := est.Compute(ctx, a, b); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func TestTVL1NoAllocs(t *testing.T) {
	a := face(t, 64)
	b, _ := warpPair(a, 6)
	p := Fast()
	p.Workers = 2
	est, _ := NewTVL1(p)
	defer est.Close()
	var f Field
	ctx := context.Background()
	if err := est.ComputeInto(ctx, a, b, &f); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(5, func() { est.ComputeInto(ctx, a, b, &f) }); n != 0 {
		t.Errorf("%v allocations per pair, want 0", n)
	}
}

func TestMedianMatchesSort(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	for _, k := range []int{3, 5} {
		for _, sz := range [][2]int{{9, 7}, {1, 1}, {2, 6}, {31, 3}} {
			w, h := sz[0], sz[1]
			src := make([]float32, w*h)
			for i := range src {
				src[i] = float32(rng.Intn(11)-5) * 0.37 // ties and negatives
			}
			src[0] = float32(math.Copysign(0, -1))
			dst := make([]float32, w*h)
			median(src, dst, w, h, k, 0, h, make([]int32, (w+4)*5))
			for y := 0; y < h; y++ {
				for x := 0; x < w; x++ {
					var win []float32
					for j := -k / 2; j <= k/2; j++ {
						for i := -k / 2; i <= k/2; i++ {
							win = append(win, src[clampInt(y+j, h)*w+clampInt(x+i, w)])
						}
					}
					sortFloats(win)
					if got, want := dst[y*w+x], win[len(win)/2]; got != want {
						t.Fatalf("k=%d %dx%d (%d,%d): median %v, want %v", k, w, h, x, y, got, want)
					}
				}
			}
		}
	}
}

func sortFloats(v []float32) {
	for i := 1; i < len(v); i++ {
		for j := i; j > 0 && v[j] < v[j-1]; j-- {
			v[j], v[j-1] = v[j-1], v[j]
		}
	}
}

func TestFloatKeyOrder(t *testing.T) {
	vals := []float32{float32(math.Inf(-1)), -3e38, -2, -1, -1e-30, 0, 1e-30, 0.5, 1, 2, 3e38, float32(math.Inf(1))}
	for i := 1; i < len(vals); i++ {
		if floatKey(vals[i-1]) >= floatKey(vals[i]) {
			t.Errorf("key(%v) >= key(%v)", vals[i-1], vals[i])
		}
	}
	for _, v := range vals {
		if keyFloat(floatKey(v)) != v {
			t.Errorf("round trip of %v", v)
		}
	}
}

func benchmarkTVL1(b *testing.B, size int, p Params) {
	a := face(b, 512/(512/size))
	if size == 224 {
		a = resample(face(b, 256), 224)
	}
	img, _ := warpPair(a, 1)
	est, err := NewTVL1(p)
	if err != nil {
		b.Fatal(err)
	}
	defer est.Close()
	var f Field
	ctx := context.Background()
	if err := est.ComputeInto(ctx, a, img, &f); err != nil { // allocate the buffers
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := est.ComputeInto(ctx, a, img, &f); err != nil {
			b.Fatal(err)
		}
	}
}

// resample scales g to size×size bilinearly.
func resample(g *raster.Gray, size int) *raster.Gray {
	out := raster.NewGray(size, size)
	s := float32(g.W) / float32(size)
	for y := 0; y < size; y++ {
		for x := 0; x < size; x++ {
			out.Pix[y*size+x] = g.Bilinear((float32(x)+0.5)*s-0.5, (float32(y)+0.5)*s-0.5)
		}
	}
	return out
}

func BenchmarkTVL1Default128(b *testing.B) { benchmarkTVL1(b, 128, Default()) }

func BenchmarkTVL1Default128OneWorker(b *testing.B) {
	p := Default()
	p.Workers = 1
	benchmarkTVL1(b, 128, p)
}

func BenchmarkTVL1Default224OneWorker(b *testing.B) {
	p := Default()
	p.Workers = 1
	benchmarkTVL1(b, 224, p)
}
func BenchmarkTVL1Default224(b *testing.B) { benchmarkTVL1(b, 224, Default()) }
func BenchmarkTVL1Fast128(b *testing.B)    { benchmarkTVL1(b, 128, Fast()) }
func BenchmarkTVL1Fast224(b *testing.B)    { benchmarkTVL1(b, 224, Fast()) }

func TestSIMDMatchesGo(t *testing.T) {
	if !hasSIMD() {
		t.Skip("no AVX2")
	}
	a := face(t, 128)
	b, _ := warpPair(a, 8)
	for _, sz := range [][2]int{{128, 128}, {45, 23}} {
		aa, bb := resample(a, sz[0]), resample(b, sz[0])
		aa.H, bb.H = sz[1], sz[1]
		aa.Pix, bb.Pix = aa.Pix[:sz[0]*sz[1]], bb.Pix[:sz[0]*sz[1]]
		var fs [2]*Field
		for i, simd := range []bool{false, true} {
			est, _ := NewTVL1(Default())
			est.simd = simd
			f, err := est.Compute(context.Background(), aa, bb)
			if err != nil {
				t.Fatal(err)
			}
			est.Close()
			fs[i] = f
		}
		// Fused multiply-adds round differently, so the stopping test may
		// fire an iteration earlier or later: compare to a tolerance.
		if d, _ := EPE(fs[0], fs[1], 0); d > 2e-3 {
			t.Errorf("%v: AVX2 and Go kernels differ by %.5f px on average", sz, d)
		}
	}
}

func TestMedianSIMDMatchesGo(t *testing.T) {
	if !hasSIMD() {
		t.Skip("no AVX2")
	}
	rng := rand.New(rand.NewSource(9))
	for _, k := range []int{3, 5} {
		for _, sz := range [][2]int{{1, 1}, {9, 7}, {16, 3}, {33, 20}, {128, 5}} {
			w, h := sz[0], sz[1]
			src := make([]float32, w*h)
			for i := range src {
				src[i] = float32(rng.NormFloat64())
				if rng.Intn(4) == 0 {
					src[i] = float32(rng.Intn(3) - 1) // ties
				}
			}
			want := make([]float32, w*h)
			got := make([]float32, w*h)
			median(src, want, w, h, k, 0, h, make([]int32, (w+4)*5))
			s := newMedianScratch(w, h)
			// Two bands, as the team runs them.
			medianSIMD(src, got, w, h, k, 0, h/2, s)
			medianSIMD(src, got, w, h, k, h/2, h, s)
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("k=%d %dx%d pixel %d: %v, want %v", k, w, h, i, got[i], want[i])
				}
			}
		}
	}
}
