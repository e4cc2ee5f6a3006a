package au

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/tell-project/tell/raster"
	"github.com/tell-project/tell/synth"
)

// TestTrackLanesSameBits: points tracked eight at a time end exactly where
// trackPoint puts them one by one (position, residual, verdict), with
// radii mixed, points that leave the image, flat templates and starts far
// enough off to take several iterations or diverge; with the assembly and
// with the Go sums.
func TestTrackLanesSameBits(t *testing.T) {
	ref := astronaut(t)
	moved := shifted(ref, 1.7, -0.9, 0.04, 230, 140)
	rng := rand.New(rand.NewPCG(3, 28))
	var tpl []template
	var starts [][2]float32
	for i := 0; i < 61; i++ {
		r := []int{3, 5, 10}[i%3]
		x, y := 20+rng.Float32()*float32(ref.W-40), 20+rng.Float32()*float32(ref.H-40)
		switch i % 11 {
		case 4: // near the edge: the window leaves the image
			x = float32(r) + 0.5
		case 7: // a flat patch, which cannot be tracked
			x, y = 5, 5
		}
		tpl = append(tpl, makeTemplate(ref, x, y, r))
		d := float32(rng.NormFloat64() * 2.5)
		if i%13 == 0 {
			d = 9
		}
		starts = append(starts, [2]float32{x + d, y - d/2})
	}
	asm := laneAsm
	defer func() { setLaneAsm(asm) }()
	for _, useAsm := range []bool{false, true} {
		if useAsm && !asm {
			continue
		}
		setLaneAsm(useAsm)
		groups := groupTemplates(tpl)
		inGroup := 0
		buf := make([]float32, lanes*21*21)
		for k := range groups {
			lg := &groups[k]
			inGroup += len(lg.pts)
			var q [lanes][2]float32
			var res [lanes]float32
			var ok [lanes]bool
			for l, i := range lg.pts {
				q[l] = starts[i]
			}
			lg.track(moved, &q, &res, &ok, buf)
			for l, i := range lg.pts {
				wx, wy, wres, wok := trackPoint(moved, &tpl[i], starts[i][0], starts[i][1], make([]float32, 21*21))
				if math.Float32bits(q[l][0]) != math.Float32bits(wx) || math.Float32bits(q[l][1]) != math.Float32bits(wy) ||
					math.Float32bits(res[l]) != math.Float32bits(wres) || ok[l] != wok {
					t.Errorf("asm %v, point %d (r %d): lanes (%v, %v, %v, %v), trackPoint (%v, %v, %v, %v)",
						useAsm, i, tpl[i].r, q[l][0], q[l][1], res[l], ok[l], wx, wy, wres, wok)
				}
			}
		}
		usable := 0
		for i := range tpl {
			if tpl[i].ok {
				usable++
			}
		}
		if inGroup != usable || usable == len(tpl) {
			t.Fatalf("%d points in groups, %d usable of %d (want equal, and some flat)", inGroup, usable, len(tpl))
		}
	}
}

// TestMeasureLanesSameBits: Measure gives the same measurement with the
// points tracked eight at a time as one by one.
func TestMeasureLanesSameBits(t *testing.T) {
	ref := astronaut(t)
	one, err := New(ref, synth.AstronautLandmarks())
	if err != nil {
		t.Fatal(err)
	}
	eight, err := New(ref, synth.AstronautLandmarks())
	if err != nil {
		t.Fatal(err)
	}
	if eight.laneBuf == nil {
		t.Skip("no lane assembly on this machine")
	}
	one.laneBuf = nil
	var m1, m8 Measurement
	for k, f := range [][3]float64{{0.6, 0.3, 0}, {2.5, -1.2, 0.03}, {4, 2, -0.05}, {1, 1, 0.01}} {
		fr := shifted(ref, f[0], f[1], f[2], 225, 130)
		e1, e8 := one.Measure(fr, &m1), eight.Measure(fr, &m8)
		if (e1 == nil) != (e8 == nil) {
			t.Fatalf("frame %d: errors %v and %v", k, e1, e8)
		}
		for i := range one.cur {
			if one.ok[i] != eight.ok[i] || one.cur[i] != eight.cur[i] {
				t.Fatalf("frame %d, point %d: %v %v against %v %v", k, i, one.ok[i], one.cur[i], eight.ok[i], eight.cur[i])
			}
		}
		for i := range m1.Intensity {
			if math.Float32bits(m1.Intensity[i]) != math.Float32bits(m8.Intensity[i]) {
				t.Fatalf("frame %d, AU %d: %v against %v", k, i, m1.Intensity[i], m8.Intensity[i])
			}
		}
		if m1.Confidence != m8.Confidence {
			t.Fatalf("frame %d: confidence %v against %v", k, m1.Confidence, m8.Confidence)
		}
	}
}

func BenchmarkTrackLanes(b *testing.B) {
	g := astronaut(b)
	est, _ := New(g, synth.AstronautLandmarks())
	f := shifted(g, 0.6, 0.3, 0, 225, 130)
	x0, y0 := est.box[0], est.box[1]
	est.pyr.build(f, x0, y0, est.box[2], est.box[3])
	b.Run("lanes", func(b *testing.B) {
		if est.laneBuf == nil {
			b.Skip("no lane assembly")
		}
		for b.Loop() {
			est.trackLanes(x0, y0)
		}
	})
	b.Run("one-by-one", func(b *testing.B) {
		for b.Loop() {
			for i := range est.refPts {
				gx := float32(est.prevPts[i][0] - float64(x0))
				gy := float32(est.prevPts[i][1] - float64(y0))
				qx, qy, _, ok := trackPoint(est.pyr.lv[1], &est.tpl[1][i], gx/2, gy/2, est.buf)
				if ok {
					qx, qy = 2*qx, 2*qy
				} else {
					qx, qy = gx, gy
				}
				trackPoint(est.pyr.lv[0], &est.tpl[0][i], qx, qy, est.buf)
			}
		}
	})
}

// TestCropAsmSameBytes: Crop gives the same bytes with its rows sampled
// four at a time as pixel by pixel, for heads moved, turned and scaled
// so that the crop runs over the frame's edges, at several sizes, in
// whole frames and sub-images.
func TestCropAsmSameBytes(t *testing.T) {
	ref := astronaut(t)
	e, err := New(ref, synth.AstronautLandmarks())
	if err != nil {
		t.Fatal(err)
	}
	if !cropAsm {
		t.Skip("no crop assembly on this machine")
	}
	defer setCropAsm(true)
	rng := rand.New(rand.NewPCG(28, 30))
	for k := 0; k < 40; k++ {
		th, s := rng.NormFloat64()*0.3, 0.7+0.8*rng.Float64()
		e.prev = similarity{a: s * math.Cos(th), b: s * math.Sin(th), tx: rng.NormFloat64() * 120, ty: rng.NormFloat64() * 120}
		size := []int{96, 5, 17, 234, 1}[k%5]
		frame := ref
		if k%3 == 1 {
			// A sub-image: rows longer than the frame is wide.
			frame = &raster.Gray{W: ref.W - 10, H: ref.H - 10, Stride: ref.Stride, Pix: ref.Pix[5*ref.Stride+5:]}
		}
		got, want := make([]uint8, size*size), make([]uint8, size*size)
		setCropAsm(true)
		e.Crop(frame, size, got)
		setCropAsm(false)
		e.Crop(frame, size, want)
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("case %d (size %d, %+v): pixel %d: %d, want %d", k, size, e.prev, i, got[i], want[i])
			}
		}
	}
}

func BenchmarkCrop(b *testing.B) {
	g := astronaut(b)
	e, _ := New(g, synth.AstronautLandmarks())
	e.prev = similarity{a: 1.01, b: 0.02, tx: 1.5, ty: -0.7}
	dst := make([]uint8, 234*234)
	for b.Loop() {
		e.Crop(g, 234, dst)
	}
}

// TestPyramidAsmSameBits: the pyramid's rows in assembly give the same
// levels as in Go, for boxes inside the frame, over its edges and of odd
// sizes.
func TestPyramidAsmSameBits(t *testing.T) {
	if !laneAsm {
		t.Skip("no assembly on this machine")
	}
	defer setLaneAsm(true)
	g := astronaut(t)
	for _, b := range [][4]int{{100, 80, 250, 300}, {-7, -3, 61, 45}, {480, 490, 77, 33}, {3, 5, 9, 9}, {0, 0, 512, 512}, {200, 100, 17, 2}} {
		var asm, plain pyramid
		setLaneAsm(true)
		asm.build(g, b[0], b[1], b[2], b[3])
		setLaneAsm(false)
		plain.build(g, b[0], b[1], b[2], b[3])
		for lv := range asm.lv {
			for i, v := range asm.lv[lv].Pix {
				if w := plain.lv[lv].Pix[i]; math.Float32bits(v) != math.Float32bits(w) {
					t.Fatalf("box %v level %d pixel %d: %v, want %v", b, lv, i, v, w)
				}
			}
		}
	}
}

func BenchmarkPyramid(b *testing.B) {
	g := astronaut(b)
	var p pyramid
	for b.Loop() {
		p.build(g, 100, 80, 350, 370)
	}
}

// TestFlowSampleAsmSameBits: the region flow's crop gives the same floats
// with its rows sampled four at a time as pixel by pixel, heads moved,
// turned and scaled off the frame's edges included.
func TestFlowSampleAsmSameBits(t *testing.T) {
	ref := astronaut(t)
	e, err := New(ref, synth.AstronautLandmarks())
	if err != nil {
		t.Fatal(err)
	}
	if !cropAsm || e.fl == nil || e.fl.refStd == 0 {
		t.Skip("no crop assembly on this machine")
	}
	defer setCropAsm(true)
	rng := rand.New(rand.NewPCG(28, 31))
	want := make([]float32, len(e.fl.cur.Pix))
	for k := 0; k < 40; k++ {
		th, s := rng.NormFloat64()*0.3, 0.7+0.8*rng.Float64()
		sim := similarity{a: s * math.Cos(th), b: s * math.Sin(th), tx: rng.NormFloat64() * 150, ty: rng.NormFloat64() * 150}
		setCropAsm(false)
		e.fl.sample(e, ref, sim)
		copy(want, e.fl.cur.Pix)
		setCropAsm(true)
		e.fl.sample(e, ref, sim)
		for i, v := range e.fl.cur.Pix {
			if math.Float32bits(v) != math.Float32bits(want[i]) {
				t.Fatalf("case %d (%+v): pixel %d: %v, want %v", k, sim, i, v, want[i])
			}
		}
	}
}

// TestKernelReadable: the crop kernels, which index Pix without bounds
// checks, run only on frames whose every row lies within Pix: a sub-image
// ending at its parent's last pixel may, one a pixel short may not.
func TestKernelReadable(t *testing.T) {
	pix := make([]float32, 10*8)
	for _, c := range []struct {
		what string
		g    raster.Gray
		want bool
	}{
		{"whole frame", raster.Gray{W: 10, H: 8, Stride: 10, Pix: pix}, true},
		{"bottom-right sub-image", raster.Gray{W: 4, H: 3, Stride: 10, Pix: pix[5*10+6:]}, true},
		{"last row a pixel short", raster.Gray{W: 4, H: 3, Stride: 10, Pix: pix[5*10+6 : 7*10+9]}, false},
		{"one column", raster.Gray{W: 1, H: 8, Stride: 10, Pix: pix}, false},
		{"one row", raster.Gray{W: 10, H: 1, Stride: 10, Pix: pix}, false},
		{"rows overlapping", raster.Gray{W: 10, H: 8, Stride: 9, Pix: pix}, false},
	} {
		if got := kernelReadable(&c.g); got != c.want {
			t.Errorf("%s: %v, want %v", c.what, got, c.want)
		}
	}
}
