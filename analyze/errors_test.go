package analyze

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/tell-project/tell/au"
	"github.com/tell-project/tell/cot"
	"github.com/tell-project/tell/flow"
	"github.com/tell-project/tell/frames"
	"github.com/tell-project/tell/portrait"
	"github.com/tell-project/tell/raster"
	"github.com/tell-project/tell/synth"
	"github.com/tell-project/tell/video"
)

// noFace never finds a face.
type noFace struct{}

func (noFace) Landmarks(*raster.Gray) ([68][2]float32, bool, error) {
	return [68][2]float32{}, false, nil
}

// readResult loads events.json and checks that all three outputs exist.
func readResult(t *testing.T, out string) Result {
	t.Helper()
	for _, name := range []string{"frames.csv", "events.json", "report.html"} {
		if _, err := os.Stat(filepath.Join(out, name)); err != nil {
			t.Fatalf("output missing: %v", err)
		}
	}
	var r Result
	b, _ := os.ReadFile(filepath.Join(out, "events.json"))
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestBadInputs(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.mp4")
	os.WriteFile(empty, nil, 0o644)
	corrupt := filepath.Join(dir, "corrupt.mp4")
	os.WriteFile(corrupt, []byte("this is not a video at all, just text"), 0o644)
	badPNG := filepath.Join(dir, "bad.png")
	os.WriteFile(badPNG, []byte("\x89PNG\r\n\x1a\nbroken"), 0o644)
	noFrames := filepath.Join(dir, "noframes")
	os.Mkdir(noFrames, 0o755)
	tests := []struct {
		name, input, want string
	}{
		{"0-byte file", empty, "empty file (0 bytes)"},
		{"corrupt video", corrupt, "ffprobe cannot read"},
		{"corrupt image", badPNG, "bad.png"},
		{"missing", filepath.Join(dir, "nope.mp4"), "no such file"},
		{"folder without frames", noFrames, "holds no PNG, JPEG or BMP frames"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "corrupt video" {
				if _, err := os.Stat("/usr/bin/ffprobe"); err != nil {
					t.Skip("ffprobe not installed")
				}
			}
			// A fresh --out is not created; an earlier run's is left as it was.
			fresh := filepath.Join(t.TempDir(), "run")
			_, err := Run(context.Background(), tc.input, Options{Out: fresh, Landmarker: noFace{}})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want it to mention %q", err, tc.want)
			}
			if _, err := os.Stat(fresh); !os.IsNotExist(err) {
				t.Errorf("the output folder was created: %v", err)
			}
			earlier := t.TempDir()
			prev := []byte(`{"input":"good.mp4","status":"complete"}`)
			os.WriteFile(filepath.Join(earlier, "events.json"), prev, 0o644)
			os.WriteFile(filepath.Join(earlier, "frames.csv"), []byte("frame\n1\n"), 0o644)
			for _, force := range []bool{false, true} {
				_, err = Run(context.Background(), tc.input, Options{Out: earlier, Landmarker: noFace{}, Force: force})
				if err == nil {
					t.Fatal("no error")
				}
				if b, _ := os.ReadFile(filepath.Join(earlier, "events.json")); string(b) != string(prev) {
					t.Errorf("force %v: the earlier run's events.json was changed: %s", force, b)
				}
			}
			if ents, _ := os.ReadDir(filepath.Dir(fresh)); len(ents) != 0 {
				t.Errorf("left behind: %v", ents)
			}
		})
	}
}

// TestNeverClobber: a finished run is refused without Force and replaced
// with it; a folder with files tell did not write is always refused; the
// temporary folder never stays behind.
func TestNeverClobber(t *testing.T) {
	clips, _ := synth.Plan(testFace(t), synth.Config{Seed: 1, FPS: 30, Kind: "micro", Width: 96, Height: 96}, 1)
	c := clips[0]
	parent := t.TempDir()
	out := filepath.Join(parent, "run1")
	run := func(force bool) error {
		_, err := RunSource(context.Background(), &clipSource{c: c}, "clip", Options{Out: out, Landmarker: truthLandmarker{c}, Force: force})
		return err
	}
	if err := run(false); err != nil {
		t.Fatal(err)
	}
	first := readResult(t, out)
	if first.Status != StatusComplete {
		t.Fatalf("status %s", first.Status)
	}
	before, _ := os.ReadFile(filepath.Join(out, "frames.csv"))
	err := run(false)
	if !errors.Is(err, ErrOutputExists) || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("second run without force: %v", err)
	}
	if after, _ := os.ReadFile(filepath.Join(out, "frames.csv")); string(after) != string(before) {
		t.Error("a refused run changed frames.csv")
	}
	if err := run(true); err != nil {
		t.Fatalf("with force: %v", err)
	}
	if r := readResult(t, out); r.Status != StatusComplete {
		t.Errorf("after force: status %s", r.Status)
	}
	// A partial run is replaced without force.
	os.WriteFile(filepath.Join(out, "events.json"), []byte(`{"status":"partial"}`), 0o644)
	if err := run(false); err != nil {
		t.Errorf("over a partial run: %v", err)
	}
	// Somebody's own files are never swept away.
	mine := filepath.Join(parent, "mine")
	os.Mkdir(mine, 0o755)
	os.WriteFile(filepath.Join(mine, "thesis.tex"), []byte("x"), 0o644)
	for _, force := range []bool{false, true} {
		_, err := RunSource(context.Background(), &clipSource{c: c}, "clip", Options{Out: mine, Landmarker: truthLandmarker{c}, Force: force})
		if !errors.Is(err, ErrOutputExists) || !strings.Contains(err.Error(), "thesis.tex") {
			t.Errorf("force %v: folder with other files: %v", force, err)
		}
	}
	ents, _ := os.ReadDir(parent)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if len(names) != 2 {
		t.Errorf("beside the outputs: %v, want only run1 and mine", names)
	}
}

func TestNoFace(t *testing.T) {
	clips, _ := synth.Plan(testFace(t), synth.Config{Seed: 1, FPS: 30, Kind: "micro", Width: 96, Height: 96}, 1)
	out := t.TempDir()
	_, err := RunSource(context.Background(), &clipSource{c: clips[0]}, "x", Options{Out: out, Landmarker: noFace{}})
	if !errors.Is(err, ErrNoFace) {
		t.Fatalf("err %v, want ErrNoFace", err)
	}
	r := readResult(t, out)
	if r.Status != StatusPartial || r.Tracked != 0 || r.Frames != clips[0].Frames {
		t.Errorf("status %s tracked %d frames %d", r.Status, r.Tracked, r.Frames)
	}
	b, _ := os.ReadFile(filepath.Join(out, "frames.csv"))
	if n := strings.Count(string(b), "\n"); n != clips[0].Frames+1 {
		t.Errorf("frames.csv has %d lines, want a row per frame", n)
	}
}

// TestFaceLostMidVideo blanks a stretch of a long clip: the frames get
// success 0, the note says where, tracking resumes and later expressions
// are still found.
func TestFaceLostMidVideo(t *testing.T) {
	clips, err := synth.Plan(testFace(t), synth.Config{Seed: 8, Long: true, Duration: 12, Events: 3}, 1)
	if err != nil {
		t.Fatal(err)
	}
	c := clips[0]
	// Blank between the first and second event.
	from := c.Events[0].Offset + 10
	to := from + 20
	if to >= c.Events[1].Onset-10 {
		t.Fatalf("test layout: no room between events (%d..%d, next at %d)", from, to, c.Events[1].Onset)
	}
	out := t.TempDir()
	res, err := RunSource(context.Background(), &clipSource{c: c, lostFrom: from, lostTo: to}, "x", Options{Out: out, Landmarker: truthLandmarker{c}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Tracked > c.Frames-(to-from) || res.Tracked < c.Frames-(to-from)-int(c.FPS) {
		t.Errorf("tracked %d of %d with %d blank", res.Tracked, c.Frames, to-from)
	}
	if !slices.ContainsFunc(res.Notes, func(n string) bool { return strings.Contains(n, "no face tracked") }) {
		t.Errorf("notes %v", res.Notes)
	}
	last := c.Events[len(c.Events)-1]
	if ev, iou := bestMatch(res, last); ev == nil || iou < 0.5 {
		t.Errorf("last expression not found after the face came back (IoU %.2f)", iou)
	}
	html, _ := os.ReadFile(filepath.Join(out, "report.html"))
	if !strings.Contains(string(html), "no face tracked") {
		t.Error("report does not mention the lost face")
	}
}

// TestStillImage analyses the astronaut portrait alone: one "still" event
// measured against the landmark model's mean shape.
func TestStillImage(t *testing.T) {
	lm := dlibLandmarker(t)
	dir := t.TempDir()
	img := filepath.Join(dir, "astronaut.png")
	os.WriteFile(img, portrait.AstronautPNG(), 0o644)
	out := t.TempDir()
	res, err := Run(context.Background(), img, Options{Out: out, Landmarker: lm})
	if err != nil {
		t.Fatal(err)
	}
	if res.Frames != 1 || res.Tracked != 1 || len(res.Events) != 1 || res.Events[0].Kind != "still" {
		t.Fatalf("frames %d tracked %d events %+v", res.Frames, res.Tracked, res.Events)
	}
	if res.Events[0].CoT.Text == "" || len(res.Notes) == 0 {
		t.Errorf("still image: no CoT or no note about the neutral shape")
	}
	r := readResult(t, out)
	if r.Status != StatusComplete {
		t.Errorf("status %s", r.Status)
	}
	// The report shows the face with its landmarks, not a timeline.
	html, _ := os.ReadFile(filepath.Join(out, "report.html"))
	if n := strings.Count(string(html), "<circle "); n != 68 || strings.Contains(string(html), "time (s)") {
		t.Errorf("still report: %d landmark dots, timeline %v", n, strings.Contains(string(html), "time (s)"))
	}
	// Scratch outputs (tell serve's: not synced) are the same files, but
	// for the run's timings.
	scratch := filepath.Join(t.TempDir(), "out")
	if _, err := Run(context.Background(), img, Options{Out: scratch, Landmarker: lm, Scratch: true}); err != nil {
		t.Fatal(err)
	}
	timings := regexp.MustCompile(`"(elapsed_s|frames_per_second)": [0-9.e+-]+`)
	for _, name := range outputFiles {
		a, _ := os.ReadFile(filepath.Join(out, name))
		b, err := os.ReadFile(filepath.Join(scratch, name))
		a, b = timings.ReplaceAll(a, nil), timings.ReplaceAll(b, nil)
		if err != nil || !bytes.Equal(a, b) || len(a) == 0 {
			t.Errorf("%s: scratch output differs (%d vs %d bytes, %v)", name, len(a), len(b), err)
		}
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(scratch), ".*")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// failingSource ends with err after n frames of c, as a truncated video
// does.
type failingSource struct {
	clipSource
	n   int
	err error
}

func (s *failingSource) Next(ctx context.Context) (*raster.Gray, error) {
	if s.t >= s.n {
		return nil, s.err
	}
	return s.clipSource.Next(ctx)
}

// TestTruncatedInput: a source that stops with an error after some frames
// (video.ErrIncomplete from a cut file) gives partial outputs with the
// reason, and an error wrapping ErrPartial and the cause.
func TestTruncatedInput(t *testing.T) {
	clips, _ := synth.Plan(testFace(t), synth.Config{Seed: 2, FPS: 30, Kind: "micro", Width: 96, Height: 96}, 1)
	c := clips[0]
	cause := fmt.Errorf("video: cut.mp4: %w (truncated or damaged file): decoded 20 of the 40 frames the container announces", video.ErrIncomplete)
	out := filepath.Join(t.TempDir(), "run")
	res, err := RunSource(context.Background(), &failingSource{clipSource{c: c}, 20, cause}, "cut.mp4", Options{Out: out, Landmarker: truthLandmarker{c}})
	if !errors.Is(err, ErrPartial) || !errors.Is(err, video.ErrIncomplete) {
		t.Fatalf("err %v, want ErrPartial and video.ErrIncomplete", err)
	}
	r := readResult(t, out)
	if r.Status != StatusPartial || !strings.Contains(r.Error, "decoded 20 of the 40 frames") || r.Frames != 20 || res.Frames != 20 {
		t.Errorf("events.json: status %q, error %q, frames %d", r.Status, r.Error, r.Frames)
	}
	html, _ := os.ReadFile(filepath.Join(out, "report.html"))
	if !strings.Contains(string(html), "Partial result") {
		t.Error("the report does not say the result is partial")
	}
}

// TestFramesCSV reads an analysis's frames.csv back with package frames:
// OpenFace's leading columns, one row per frame numbered from 1, the
// tracker's per-frame confidence (not a constant), a plausible head pose
// and the flow extras.
func TestFramesCSV(t *testing.T) {
	clips, _ := synth.Plan(testFace(t), synth.Config{Seed: 3, FPS: 30, Kind: "micro"}, 1)
	c := clips[0]
	out := t.TempDir()
	if _, err := RunSource(context.Background(), &clipSource{c: c}, "clip", Options{Out: out, Landmarker: truthLandmarker{c}}); err != nil {
		t.Fatal(err)
	}
	rd := openFrames(t, out)
	// Every AU tell measures, and OpenFace's AU28_c (kept empty).
	want := append(slices.Clone(au.AUs()), 28)
	slices.Sort(want)
	if l := rd.Layout(); !slices.Equal(l.AUs, want) || !slices.Contains(l.Extra, "AU12_flow") || !slices.Contains(l.Extra, "AU12_strain") {
		t.Errorf("layout %+v", l)
	}
	var row frames.Row
	n := 0
	confs := map[float64]bool{}
	flow := slices.Index(rd.Layout().Extra, "AU12_flow")
	for {
		if err := rd.Read(&row); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		n++
		if row.Frame != n || !row.Success {
			t.Fatalf("row %d: frame %d success %v", n, row.Frame, row.Success)
		}
		if row.Confidence <= 0 || row.Confidence > 1 {
			t.Errorf("frame %d: confidence %v", n, row.Confidence)
		}
		confs[row.Confidence] = true
		p := row.Pose
		if p.Tz < 150 || p.Tz > 3000 || math.Abs(p.Rx) > 0.5 || math.Abs(p.Ry) > 0.5 || math.Abs(p.Rz) > 0.5 {
			t.Errorf("frame %d: implausible pose %+v for a near-frontal face", n, p)
		}
		if math.IsNaN(row.Extra[flow]) {
			t.Errorf("frame %d: no AU12_flow at 30 fps", n)
		}
	}
	if n != c.Frames {
		t.Errorf("%d rows, want %d", n, c.Frames)
	}
	if len(confs) < 2 {
		t.Errorf("confidence takes %d value(s) over %d frames: not a per-frame measure", len(confs), n)
	}
}

// TestOneScaleOneLabel: every view of an event tells the same story. The
// label is the most probable emotion and the confidence its probability;
// each AU's letter is the FACS letter of its 0–5 intensity as stored; the
// chain of thought observes the same AUs (all of them: each rose
// significantly) with the same intensities and letters. The letters'
// boundaries are tested one by one in TestEventAULetterBoundaries; here
// they are read off the stored number independently of facs.
func TestOneScaleOneLabel(t *testing.T) {
	clips, _ := synth.Plan(testFace(t), synth.Config{Seed: 11, FPS: 30, Long: true, Duration: 12, Events: 3}, 1)
	c := clips[0]
	res, err := RunSource(context.Background(), &clipSource{c: c}, "clip", Options{Out: t.TempDir(), Landmarker: truthLandmarker{c}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Events) == 0 {
		t.Fatal("no events")
	}
	for _, e := range res.Events {
		var best string
		for k, p := range e.Emotions {
			if best == "" || p > e.Emotions[best] || p == e.Emotions[best] && k < best {
				best = k
			}
		}
		if e.Label != best || e.Confidence != e.Emotions[best] {
			t.Errorf("event %d: label %s (%.3f), but %s tops the probabilities (%.3f)", e.ID, e.Label, e.Confidence, best, e.Emotions[best])
		}
		obs := map[int]cot.Observation{}
		for _, o := range e.CoT.Observations {
			obs[o.AU] = o
		}
		if len(e.AUs) > 0 && strings.Contains(e.CoT.Text, "No Action Unit is active") {
			t.Errorf("event %d lists %d AUs but its text says none is active:\n%s", e.ID, len(e.AUs), e.CoT.Text)
		}
		for _, a := range e.AUs {
			if want := scaleLetter(a.Intensity); a.Letter != want {
				t.Errorf("event %d AU%d: intensity %.2f with letter %q, want %q", e.ID, a.AU, a.Intensity, a.Letter, want)
			}
			// Every event AU rose significantly, so every one is evidence
			// the text names, below trace level too.
			if a.SNR < cot.SignificantSNR {
				t.Errorf("event %d AU%d: snr %.1f below %d, yet listed", e.ID, a.AU, a.SNR, cot.SignificantSNR)
			}
			o, ok := obs[a.AU]
			if !ok {
				t.Errorf("event %d AU%d (%.2f %s) missing from the CoT's observations", e.ID, a.AU, a.Intensity, a.Letter)
				continue
			}
			if math.Abs(o.Intensity-a.Intensity) > 0.005 || o.Letter != a.Letter {
				t.Errorf("event %d AU%d: events.json %.2f %s, CoT %.2f %s", e.ID, a.AU, a.Intensity, a.Letter, o.Intensity, o.Letter)
			}
			if !strings.Contains(e.CoT.Text, fmt.Sprintf("%.2f", a.Intensity)) {
				t.Errorf("event %d AU%d: the CoT text does not state %.2f", e.ID, a.AU, a.Intensity)
			}
		}
	}
}

// TestNativeFaces: the report's difference image amplifies the strongest
// change to about 100 grey levels around mid grey, and the flow is
// resampled onto the native face with lengths scaled to its pixels.
func TestNativeFaces(t *testing.T) {
	const n = 40
	onset, apex := make([]uint8, n*n), make([]uint8, n*n)
	for i := range onset {
		onset[i], apex[i] = 100, 100
	}
	// A 10×10 patch 4 levels brighter at the apex: ~6% of the pixels.
	for y := 10; y < 20; y++ {
		for x := 10; x < 20; x++ {
			apex[y*n+x] = 104
		}
	}
	small := eventFaces{field: flow.NewField(20, 20), peak: 1}
	for i := range small.field.U {
		small.field.U[i] = 1 // one crop pixel to the right everywhere
	}
	f := nativeFaces(onset, apex, n, small)
	if f.gain != 20 {
		t.Errorf("gain %v, want 20 (100/4 capped at 20)", f.gain)
	}
	img, err := png.Decode(bytes.NewReader(f.diff))
	if err != nil {
		t.Fatal(err)
	}
	g := img.(*image.Gray)
	if g.Rect.Dx() != n || g.GrayAt(15, 15).Y != 128+80 || g.GrayAt(2, 2).Y != 128 {
		t.Errorf("diff %dx%d, patch %d, elsewhere %d; want %dx%d, 208, 128", g.Rect.Dx(), g.Rect.Dy(), g.GrayAt(15, 15).Y, g.GrayAt(2, 2).Y, n, n)
	}
	if f.peak != 2 { // one pixel at 20 px is two at 40 px
		t.Errorf("flow peak %v px, want 2", f.peak)
	}
	big := resampleField(small.field, n, 2)
	if big.W != n || big.U[n*n/2] != 2 || big.V[n*n/2] != 0 {
		t.Errorf("resampled field %dx%d u %v v %v", big.W, big.H, big.U[n*n/2], big.V[n*n/2])
	}
}

// TestNativeSide: the native crop is 2.4 eye distances wide (even),
// bounded by maxNativeSide and by the memory budget of the window.
func TestNativeSide(t *testing.T) {
	for _, c := range []struct {
		iod  float64
		ring int
		want int
	}{
		{50, 308, 120},   // 30 fps, a 640×480 interview
		{200, 308, 256},  // a close-up: capped
		{200, 2008, 158}, // 200 fps: the budget bounds it
		{5, 308, 0},      // too small to show
	} {
		r := &faceRun{run: &run{}, ring: make([]frameRec, c.ring), nativeBudget: nativeBudget}
		r.allocNative(c.iod)
		if r.native != c.want {
			t.Errorf("IOD %v, window %d: side %d, want %d", c.iod, c.ring, r.native, c.want)
		}
		if c.want > 0 && (len(r.ring[0].native) != c.want*c.want || c.ring*c.want*c.want > nativeBudget) {
			t.Errorf("IOD %v: buffers of %d bytes", c.iod, len(r.ring[0].native))
		}
	}
}

// scaleLetter is the documented 0–5 scale (A = 1 … E = 5, each ±0.5,
// nothing below 0.5), read off a stored two-decimal value in hundredths.
func scaleLetter(v float64) string {
	h := int(math.Round(v * 100))
	for i, lo := range []int{450, 350, 250, 150, 50} {
		if h >= lo {
			return string(rune('E' - i))
		}
	}
	return ""
}

// TestFlowImageColours renders the report's flow picture from a known
// field, a different motion in each quadrant, and compares every quadrant's
// colour with the Middlebury colour of its motion (flow.ColorWheel of that
// one vector) and with the colour family Baker et al.'s key gives it. A
// field read with the wrong row stride shows the top quadrants' colours
// in full-height bands (the report's bug on 640×480 frames).
func TestFlowImageColours(t *testing.T) {
	const small, n = 24, 48
	fl := flow.NewField(small, small)
	dirs := [4][2]float32{{1, 0}, {0, 1}, {-1, 0}, {0, -1}} // right, down, left, up: TL, TR, BL, BR
	for y := 0; y < small; y++ {
		for x := 0; x < small; x++ {
			q := 2*(y/(small/2)) + x/(small/2)
			fl.U[y*small+x], fl.V[y*small+x] = dirs[q][0], dirs[q][1]
		}
	}
	grey := make([]uint8, n*n)
	for i := range grey {
		grey[i] = 128
	}
	f := nativeFaces(grey, grey, n, eventFaces{field: fl, peak: 1})
	img, err := png.Decode(bytes.NewReader(f.flow))
	if err != nil {
		t.Fatal(err)
	}
	family := []struct {
		name string
		ok   func(r, g, b uint8) bool
	}{
		{"red (right)", func(r, g, b uint8) bool { return r > 200 && g < 60 && b < 80 }},
		{"yellow (down)", func(r, g, b uint8) bool { return r > 200 && g > 150 && b < 60 }},
		{"cyan-blue (left)", func(r, g, b uint8) bool { return r < 60 && b > 200 }},
		{"violet (up)", func(r, g, b uint8) bool { return g < 60 && b > 200 }},
	}
	for q, d := range dirs {
		one := flow.NewField(1, 1)
		one.U[0], one.V[0] = d[0]*2, d[1]*2 // lengths in native pixels (×2)
		want, err := flow.ColorWheel(one, 2)
		if err != nil {
			t.Fatal(err)
		}
		x, y := n/4+(q%2)*n/2, n/4+(q/2)*n/2
		r, g, b, _ := img.At(x, y).RGBA()
		got := [3]uint8{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8)}
		w := [3]uint8{want.Pix[0], want.Pix[1], want.Pix[2]}
		for c := range got {
			if e := int(got[c]) - int(w[c]); e < -1 || e > 1 {
				t.Errorf("quadrant %d (motion %v) at (%d,%d): colour %v, want %v", q, d, x, y, got, w)
				break
			}
		}
		if !family[q].ok(got[0], got[1], got[2]) {
			t.Errorf("quadrant %d: colour %v is not %s", q, got, family[q].name)
		}
	}
}
