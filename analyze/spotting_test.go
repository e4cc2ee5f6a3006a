package analyze

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tell-project/tell/face/facetest"
	"github.com/tell-project/tell/portrait"
	"github.com/tell-project/tell/raster"
	"github.com/tell-project/tell/synth"
	"github.com/tell-project/tell/video"
)

func TestSameFrame(t *testing.T) {
	a := raster.NewGray(4, 3)
	for i := range a.Pix {
		a.Pix[i] = float32(i)
	}
	b := a.Clone()
	if !sameFrame(a, b) {
		t.Error("a copy is not the same frame")
	}
	b.Pix[11]++
	if sameFrame(a, b) || sameFrame(a, nil) || sameFrame(a, raster.NewGray(3, 4)) {
		t.Error("different frames reported the same")
	}
}

// TestCutDetector: frame-to-frame changes of a grey level or two, a blink's
// few more, are no cut; a jump to tens of grey levels is, once.
func TestCutDetector(t *testing.T) {
	var c cutDetector
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 200; i++ {
		d := 1.5 + 0.5*rng.Float64()
		if i%50 == 25 {
			d = 6 // a blink
		}
		if c.observe(d) {
			t.Fatalf("frame %d: change %.1f called a cut", i, d)
		}
	}
	if !c.observe(35) {
		t.Error("a change of 35 grey levels is not a cut")
	}
	if c.observe(1.6) {
		t.Error("the frame after a cut is a cut")
	}
	// Without history, a small change is never a cut.
	c.reset()
	if c.observe(5) {
		t.Error("5 grey levels called a cut without history")
	}
	// A face moving a few pixels a frame changes its crop by 10–20 grey
	// levels on every frame, from the first: no cut (each cut would forget
	// the history and call the next frame a cut again).
	c.reset()
	for i := 0; i < 50; i++ {
		if d := 12 + 8*rng.Float64(); c.observe(d) {
			t.Fatalf("moving face, frame %d: change %.1f called a cut", i, d)
		}
	}
	if !c.observe(150) {
		t.Error("a change of 150 grey levels on a moving face is not a cut")
	}
}

// TestFastFaceNotACut: the astronaut crossing a 640×360 clip at 1.5–5 px a
// frame (the whole pipeline: detector, tracker, cut detector) keeps the
// neutral reference it found on the first frame: no frame is a cut (with
// the cut detector's history empty at the start and after every cut, every
// frame after the first was one from 2.5 px a frame, and 6 of 40 at 1.5).
func TestFastFaceNotACut(t *testing.T) {
	lm, err := NewFaceLandmarker(facetest.ModelPath(t))
	if err != nil {
		t.Fatal(err)
	}
	img, err := portrait.Astronaut()
	if err != nil {
		t.Fatal(err)
	}
	ps := []synth.Portrait{{Name: "astronaut", Img: raster.RGBFromImage(img), CX: 223, CY: 127, Side: 86}}
	for _, v := range []float64{1.5, 5} {
		const frames = 30
		c, err := synth.NewCrowd(ps, nil, 640, 360, frames, 30, []synth.Walker{{Source: 0, From: [2]float64{100, 180}, To: [2]float64{100 + v*(frames-1), 180}, Side: 90, Depth: 1}})
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		log := slog.New(slog.NewTextHandler(&buf, nil))
		out := filepath.Join(t.TempDir(), "out")
		res, err := Run(context.Background(), writeCrowd(t, c), Options{Out: out, FPS: 30, Landmarker: lm, MaxFaces: 1, GeometryOnly: true, Log: log})
		if err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(buf.String(), "neutral reference set"); n != 1 || res.Tracked != frames {
			t.Errorf("%.1f px a frame: %d neutral references (want 1), %d of %d frames tracked", v, n, res.Tracked, frames)
		}
	}
}

// TestRiseOf: a known rise over a known baseline in Gaussian jitter.
func TestRiseOf(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const sigma, base, amp = 0.05, 0.1, 0.5
	const pre, n, w = 20, 80, 8
	tr := make([]float64, pre+n)
	for i := range tr {
		v := base + sigma*rng.NormFloat64()
		if i >= pre {
			v += amp * math.Sin(math.Pi*float64(i-pre)/float64(n-1))
		}
		tr[i] = v
	}
	tr[pre+5] = math.NaN() // an untracked frame
	rise, noise := riseOf(tr, pre, w, make([]float64, 0, len(tr)))
	if math.Abs(rise-amp) > 0.05 {
		t.Errorf("rise %.3f, want %.3f", rise, amp)
	}
	want := sigma * math.Sqrt(1.0/w+1.57/pre)
	if math.Abs(noise-want) > 0.35*want {
		t.Errorf("noise %.4f, want about %.4f", noise, want)
	}
	// Jitter alone does not rise by auRiseK noises.
	flat := make([]float64, len(tr))
	for i := range flat {
		flat[i] = base + sigma*rng.NormFloat64()
	}
	if r, nz := riseOf(flat, pre, w, make([]float64, 0, len(tr))); r >= auRiseK*nz {
		t.Errorf("noise rose %.3f ≥ %d × %.3f", r, auRiseK, nz)
	}
	// A clip cut at its onset has no frames before it: its first frames
	// are the baseline.
	if r, _ := riseOf(tr[pre:], 0, w, make([]float64, 0, len(tr))); math.Abs(r-amp) > 0.08 {
		t.Errorf("no frames before the onset: rise %.3f, want %.3f", r, amp)
	}
}

func TestIntervalCheck(t *testing.T) {
	for _, iv := range []Interval{{-1, 0, 5}, {5, 0, 4}, {2, 1, 9}, {2, 10, 9}} {
		if iv.Check() == nil {
			t.Errorf("%+v accepted", iv)
		}
	}
	// Frame 0 exists in a folder numbered from 0 (frame_0000.png).
	for _, iv := range []Interval{{0, 0, 5}, {1, 0, 1}, {2, 5, 9}, {2, 2, 9}, {2, 9, 9}} {
		if err := iv.Check(); err != nil {
			t.Errorf("%+v: %v", iv, err)
		}
	}
}

// TestKnownInterval: with the timing given, a synthetic clip yields one
// event with exactly that onset and offset, its apex found inside (frames
// from 1), or the apex given.
func TestKnownInterval(t *testing.T) {
	clips, err := synth.Plan(testFace(t), synth.Config{Seed: 31, Kind: "micro", FPS: 200}, 1)
	if err != nil {
		t.Fatal(err)
	}
	c := clips[0]
	e := c.Events[0]
	for _, apex := range []int{0, e.Apex + 1} {
		iv := &Interval{Onset: e.Onset + 1, Apex: apex, Offset: e.Offset + 1}
		res, err := RunSource(context.Background(), &clipSource{c: c}, c.Name, Options{Out: t.TempDir(), Landmarker: truthLandmarker{c}, Interval: iv})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Events) != 1 {
			t.Fatalf("%d events, want 1", len(res.Events))
		}
		got := res.Events[0]
		if got.Onset != iv.Onset || got.Offset != iv.Offset {
			t.Errorf("event %d..%d, want %d..%d", got.Onset, got.Offset, iv.Onset, iv.Offset)
		}
		want := e.Apex + 1
		if d := got.Apex - want; d < -3 || d > 3 {
			t.Errorf("apex given as %d: %d, want %d", apex, got.Apex, want)
		}
		if len(got.AUs) == 0 {
			t.Errorf("no AUs in %s (%s)", c.Name, e.AUString())
		}
	}
	// An offset past the clip's end is refused before any work.
	_, err = RunSource(context.Background(), &clipSource{c: c}, c.Name, Options{Out: t.TempDir(), Landmarker: truthLandmarker{c}, Interval: &Interval{Onset: 1, Offset: c.Frames + 1}})
	if err == nil {
		t.Error("offset after the last frame accepted")
	}
}

// montage plays clips one after the other, each followed by still frames
// (its last frame repeated), as clips cut from onset to offset are glued
// into one video.
type montage struct {
	clips    []*synth.Clip
	from, to []int // each clip's frames played
	still    int
	i, t     int
	last     *raster.Gray
	fps      float64
}

func (m *montage) Next(ctx context.Context) (*raster.Gray, error) {
	for m.i < len(m.clips) {
		c, n := m.clips[m.i], m.to[m.i]-m.from[m.i]+1
		if m.t < n {
			m.last = raster.FromImage(c.Frame(m.from[m.i]+m.t, nil))
			m.t++
			return m.last, nil
		}
		if m.t < n+m.still {
			m.t++
			return m.last.Clone(), nil
		}
		m.i, m.t = m.i+1, 0
	}
	return nil, io.EOF
}
func (m *montage) FPS() float64 { return m.fps }
func (m *montage) Frames() int  { return -1 }
func (m *montage) Close() error { return nil }

// TestMontage: synthetic clips cut from their onset to their offset (the
// whole clip is the expression), glued with still frames between them,
// each come out as one event that does not run into the stills.
func TestMontage(t *testing.T) {
	if testing.Short() {
		t.Skip("renders ~600 frames")
	}
	clips, err := synth.Plan(testFace(t), synth.Config{Seed: 32, Kind: "micro", FPS: 200}, 3)
	if err != nil {
		t.Fatal(err)
	}
	// Each clip cut to its expression.
	const still = 60
	src := &montage{clips: clips, still: still, fps: 200}
	var truth [][2]int // frames from 1 in the montage
	at := 0
	for _, c := range clips {
		e := c.Events[0]
		src.from, src.to = append(src.from, e.Onset), append(src.to, e.Offset)
		n := e.Offset - e.Onset + 1
		truth = append(truth, [2]int{at + 1, at + n})
		at += n + still
	}
	res, err := RunSource(context.Background(), src, "montage", Options{Out: t.TempDir(), Landmarker: truthLandmarker{clips[0]}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Events) != len(truth) {
		t.Fatalf("%d events %+v, want %d", len(res.Events), res.Events, len(truth))
	}
	for i, e := range res.Events {
		lo, hi := max(e.Onset, truth[i][0]), min(e.Offset, truth[i][1])
		iou := float64(hi-lo+1) / float64(max(e.Offset, truth[i][1])-min(e.Onset, truth[i][0])+1)
		if iou < 0.5 || e.Offset > truth[i][1]+1 {
			t.Errorf("event %d: %d..%d, clip %d..%d (IoU %.2f)", i, e.Onset, e.Offset, truth[i][0], truth[i][1], iou)
		}
	}
}

// TestCompressionNote: a lossy video below LowBitsPerPixel is noted with
// its codec and bits per pixel; a lossless one, a well-compressed one and
// an input without a codec are not.
func TestCompressionNote(t *testing.T) {
	at := func(codec string, bpp float64) *video.Info {
		return &video.Info{Codec: codec, Width: 640, Height: 480, FPS: 30, BitRate: bpp * 640 * 480 * 30}
	}
	if n := compressionNote(at("h264", LowBitsPerPixel/2)); !strings.Contains(n, "h264") || !strings.Contains(n, "washed out") {
		t.Errorf("low bit rate: %q", n)
	}
	for _, in := range []*video.Info{at("h264", LowBitsPerPixel*2), at("ffv1", 0.01), at("", 0.01), {Codec: "h264", Width: 640, Height: 480, FPS: 30}} {
		if n := compressionNote(in); n != "" {
			t.Errorf("%+v: noted %q", in, n)
		}
	}
}
