package face

import (
	"fmt"
	"math"
	"runtime"
	"slices"
	"syscall"
	"testing"

	"github.com/tell-project/tell/portrait"
	"github.com/tell-project/tell/raster"
)

// astronautGray is the portrait in dlib's grey.
func astronautGray(t testing.TB) *raster.Gray {
	t.Helper()
	img, err := portrait.Astronaut()
	if err != nil {
		t.Fatal(err)
	}
	return raster.FromImage(img)
}

// paste copies src into a w×h canvas of grey 120 with its top-left at (x, y).
func paste(src *raster.Gray, w, h, x, y int) *raster.Gray {
	dst := raster.NewGray(w, h)
	for i := range dst.Pix {
		dst.Pix[i] = 120
	}
	for sy := 0; sy < src.H; sy++ {
		for sx := 0; sx < src.W; sx++ {
			dx, dy := sx+x, sy+y
			if dx >= 0 && dy >= 0 && dx < w && dy < h {
				dst.Pix[dy*dst.Stride+dx] = src.Pix[sy*src.Stride+sx]
			}
		}
	}
	return dst
}

// dlibBox is dlib's HOG detector box for the astronaut (dlib_landmarks.cpp
// without a box).
var dlibBox = Rect{179, 83, 88, 88}

func TestDetectAstronaut(t *testing.T) {
	d, err := NewDetector()
	if err != nil {
		t.Fatal(err)
	}
	dets := d.Detect(astronautGray(t))
	if len(dets) != 1 {
		t.Fatalf("got %d detections %v, want 1", len(dets), dets)
	}
	if v := IoU(dets[0].Box, dlibBox); v < 0.8 {
		t.Errorf("box %v vs dlib's %v: IoU %.2f", dets[0].Box, dlibBox, v)
	}
	if len(d.Detect(raster.NewGray(320, 240))) != 0 {
		t.Error("faces found in a blank image")
	}
}

func TestDetectTwoFaces(t *testing.T) {
	d, err := NewDetector()
	if err != nil {
		t.Fatal(err)
	}
	a := astronautGray(t)
	// Two crops of the head side by side, the second mirrored.
	canvas := raster.NewGray(400, 220)
	for y := 0; y < 220; y++ {
		for x := 0; x < 200; x++ {
			v := a.Pix[(y+20)*a.Stride+x+123]
			canvas.Pix[y*canvas.Stride+x] = v
			canvas.Pix[y*canvas.Stride+399-x] = v
		}
	}
	dets := d.Detect(canvas)
	if len(dets) != 2 {
		t.Fatalf("got %d detections %v, want 2", len(dets), dets)
	}
	if dets[0].Score < dets[1].Score {
		t.Error("detections not sorted by score")
	}
	left, right := dets[0].Box, dets[1].Box
	if left.X > right.X {
		left, right = right, left
	}
	// Mirror images: the boxes mirror too (within a few pixels).
	if mid := float64(left.X+left.W+right.X) / 2; math.Abs(mid-200) > 6 {
		t.Errorf("boxes %v %v not symmetric about x=200", left, right)
	}
}

func TestFitSimilarityRecovers(t *testing.T) {
	tpl := Template(100)
	for _, tc := range []struct{ scale, angle, tx, ty float64 }{
		{1, 0, 0, 0}, {2.5, 0.3, 10, -4}, {0.5, -1.2, 300, 200}, {1.3, math.Pi, 0, 7},
	} {
		want := Transform{
			A: tc.scale * math.Cos(tc.angle), B: -tc.scale * math.Sin(tc.angle),
			C: tc.scale * math.Sin(tc.angle), D: tc.scale * math.Cos(tc.angle), Tx: tc.tx, Ty: tc.ty,
		}
		moved := want.ApplyShape(tpl)
		got := FitSimilarity(&tpl, &moved, nil)
		for _, p := range tpl {
			a, b := got.Apply(p), want.Apply(p)
			if math.Hypot(a.X-b.X, a.Y-b.Y) > 1e-9 {
				t.Fatalf("%+v: got %+v", tc, got)
			}
		}
		if math.Abs(got.Scale()-tc.scale) > 1e-9 {
			t.Errorf("scale %v, want %v", got.Scale(), tc.scale)
		}
		back := got.Inverse().Apply(got.Apply(Point{3, 4}))
		if math.Hypot(back.X-3, back.Y-4) > 1e-9 {
			t.Errorf("inverse round trip: %v", back)
		}
	}
}

func TestWarpKnownAnswer(t *testing.T) {
	// src(x, y) = 2x + 3y is linear, so bilinear sampling is exact inside.
	src := raster.NewGray(50, 50)
	for y := 0; y < 50; y++ {
		for x := 0; x < 50; x++ {
			src.Pix[y*50+x] = float32(2*x + 3*y)
		}
	}
	inv := Transform{A: 0.5, B: -0.25, C: 0.25, D: 0.5, Tx: 10, Ty: 12}
	dst := raster.NewGray(20, 20)
	Warp(dst, src, inv)
	for y := 0; y < 20; y++ {
		for x := 0; x < 20; x++ {
			p := inv.Apply(Point{float64(x), float64(y)})
			want := 2*p.X + 3*p.Y
			if got := float64(dst.Pix[y*20+x]); math.Abs(got-want) > 1e-3 {
				t.Fatalf("dst(%d,%d) = %v, want %v", x, y, got, want)
			}
		}
	}
}

// TestAlignRotatedFace: aligning the portrait and its 15°-rotated copy puts
// the landmarks in the same place, and the transform maps back.
func TestAlignRotatedFace(t *testing.T) {
	p := testPredictor(t)
	straight := astronautGray(t)
	rotated := loadGray(t, "testdata/rotated.png")
	s1 := p.Predict(straight, dlibBox)
	s2 := p.Predict(rotated, dlibBox)
	a1, t1 := Align(straight, s1, AlignSize)
	a2, t2 := Align(rotated, s2, AlignSize)
	if a1.W != AlignSize || a1.H != AlignSize {
		t.Fatalf("aligned size %dx%d", a1.W, a1.H)
	}
	// The rotation (testdata_gen_test.go: 15°) shows up in the transforms.
	ang1, ang2 := math.Atan2(t1.C, t1.A), math.Atan2(t2.C, t2.A)
	if d := (ang2 - ang1) * 180 / math.Pi; math.Abs(math.Abs(d)-15) > 2 {
		t.Errorf("rotation between transforms %.1f°, want ±15°", d)
	}
	tpl := Template(AlignSize)
	for _, i := range rigidPoints {
		q1, q2 := t1.Apply(s1[i]), t2.Apply(s2[i])
		if math.Hypot(q1.X-q2.X, q1.Y-q2.Y) > 3 || math.Hypot(q1.X-tpl[i].X, q1.Y-tpl[i].Y) > 8 {
			t.Errorf("point %d aligned at %v and %v, template %v", i, q1, q2, tpl[i])
		}
		b := t1.Inverse().Apply(q1)
		if math.Hypot(b.X-s1[i].X, b.Y-s1[i].Y) > 1e-9 {
			t.Errorf("inverse: %v vs %v", b, s1[i])
		}
	}
	// The aligned images agree where the face is (mean absolute difference
	// of a central patch, in grey levels).
	var diff float64
	n := 0
	for y := 40; y < 100; y++ {
		for x := 30; x < 98; x++ {
			diff += math.Abs(float64(a1.Pix[y*a1.Stride+x] - a2.Pix[y*a2.Stride+x]))
			n++
		}
	}
	if diff/float64(n) > 12 {
		t.Errorf("aligned faces differ by %.1f grey levels on average", diff/float64(n))
	}
}

func TestTracker(t *testing.T) {
	p := testPredictor(t)
	d, err := NewDetector()
	if err != nil {
		t.Fatal(err)
	}
	face := astronautGray(t)
	tr := NewTracker(d, p, TrackerOptions{RedetectEvery: -1})
	blank := paste(raster.NewGray(1, 1), 640, 480, 0, 0)
	var lastBox Rect
	for f := 0; f < 12; f++ {
		var img *raster.Gray
		switch {
		case f < 8: // drifting 3 px right, 2 px down per frame
			img = paste(face, 640, 480, 20+3*f, -20+2*f)
		case f < 11: // the face leaves
			img = blank
		default:
			img = paste(face, 640, 480, 100, 0)
		}
		faces := tr.Update(img)
		switch {
		case f < 8:
			if len(faces) != 1 || faces[0].ID != 0 {
				t.Fatalf("frame %d: %+v", f, faces)
			}
			if f > 0 && faces[0].Redetected {
				t.Errorf("frame %d: full detection while the face barely moved", f)
			}
			want := Rect{dlibBox.X + 20 + 3*f, dlibBox.Y - 20 + 2*f, dlibBox.W, dlibBox.H}
			if v := IoU(faces[0].Box, want); v < 0.7 {
				t.Errorf("frame %d: box %v, want near %v (IoU %.2f)", f, faces[0].Box, want, v)
			}
			nose := faces[0].Shape[30]
			if nose.X < float64(faces[0].Box.X) || nose.X > float64(faces[0].Box.X+faces[0].Box.W) {
				t.Errorf("frame %d: nose %v outside box %v", f, nose, faces[0].Box)
			}
			lastBox = faces[0].Box
		case f < 11:
			if len(faces) != 0 {
				t.Errorf("frame %d: %d faces in a blank frame", f, len(faces))
			}
		default:
			if len(faces) != 1 || faces[0].ID != 1 || !faces[0].Redetected {
				t.Errorf("frame %d: want a new track, got %+v", f, faces)
			}
		}
	}
	_ = lastBox
}

// cpuTime is the process's user+system CPU time. Benchmarks report it per
// op next to wall time: on a shared, overloaded machine wall time mostly
// measures the queue, CPU time the work.
func cpuTime() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e6
}

// reportCPU adds a cpu-ms/op metric for the loop that started at start.
func reportCPU(b *testing.B, start float64) {
	b.ReportMetric((cpuTime()-start)/float64(b.N), "cpu-ms/op")
}

func BenchmarkDetect640(b *testing.B) {
	d, _ := NewDetector()
	img := paste(astronautGray(b), 640, 480, 60, -20)
	c := cpuTime()
	for b.Loop() {
		d.Detect(img)
	}
	reportCPU(b, c)
}

// BenchmarkPipeline640 is detection + landmarks + alignment (128×128) of
// one face in a 640×480 frame, full detection every frame.
func BenchmarkPipeline640(b *testing.B) {
	p := testPredictor(b)
	d, _ := NewDetector()
	img := paste(astronautGray(b), 640, 480, 60, -20)
	out := raster.NewGray(AlignSize, AlignSize)
	c := cpuTime()
	for b.Loop() {
		for _, det := range d.Detect(img) {
			AlignInto(out, img, p.Predict(img, det.Box))
		}
	}
	reportCPU(b, c)
}

// BenchmarkTracked640 is the same with the Tracker (local re-detection).
func BenchmarkTracked640(b *testing.B) {
	p := testPredictor(b)
	d, _ := NewDetector()
	img := paste(astronautGray(b), 640, 480, 60, -20)
	tr := NewTracker(d, p, TrackerOptions{})
	out := raster.NewGray(AlignSize, AlignSize)
	c := cpuTime()
	for b.Loop() {
		for _, f := range tr.Update(img) {
			AlignInto(out, img, f.Shape)
		}
	}
	reportCPU(b, c)
}

func ExamplePredictor_Predict() {
	path, err := ResolveModelPath("")
	if err != nil {
		fmt.Println(err)
		return
	}
	pred, err := LoadPredictor(path) // once; share across goroutines
	if err != nil {
		fmt.Println(err)
		return
	}
	img, _ := portrait.Astronaut()
	gray := raster.FromImage(img)
	det, _ := NewDetector()
	for _, d := range det.Detect(gray) {
		shape := pred.Predict(gray, d.Box)
		aligned, tform := Align(gray, shape, AlignSize)
		nose := tform.Apply(shape[30])
		fmt.Printf("face %v score %.0f, aligned %dx%d, nose tip at (%.0f, %.0f)\n",
			d.Box, d.Score, aligned.W, aligned.H, nose.X, nose.Y)
	}
	// Needs /usr/share/dlib/shape_predictor_68_face_landmarks.dat, so it is
	// compiled but not run; it prints
	// face {178 82 89 89} score 72, aligned 128x128, nose tip at (...)
}

func ExampleFitSimilarity() {
	tpl := Template(100)
	// The template turned 90°, doubled and moved.
	turned := Transform{A: 0, B: -2, C: 2, D: 0, Tx: 50, Ty: 10}.ApplyShape(tpl)
	t := FitSimilarity(&tpl, &turned, rigidPoints)
	fmt.Printf("scale %.2f angle %.0f°\n", t.Scale(), math.Atan2(t.C, t.A)*180/math.Pi)
	// Output: scale 2.00 angle 90°
}

// TestDetectSameAtAnyGOMAXPROCS: the scan's split into two goroutines must
// not change what it finds (it once restarted the size progression at the
// split and joined the halves in another order, so frames.csv differed
// between 1 and 2 CPUs).
func TestDetectSameAtAnyGOMAXPROCS(t *testing.T) {
	d, err := NewDetector()
	if err != nil {
		t.Fatal(err)
	}
	a := astronautGray(t)
	imgs := []*raster.Gray{a, paste(a, 640, 360, 200, -60), paste(a, 640, 480, 60, -20)}
	old := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(old)
	var one [][]Detection
	for _, img := range imgs {
		one = append(one, d.Detect(img))
	}
	runtime.GOMAXPROCS(2)
	for i, img := range imgs {
		if two := d.Detect(img); !slices.Equal(one[i], two) {
			t.Errorf("image %d (%dx%d): GOMAXPROCS 1 finds %v, 2 finds %v", i, img.W, img.H, one[i], two)
		}
	}
}
