package analyze

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/tell-project/tell/models"
	"github.com/tell-project/tell/synth"
)

// TestSameOutputsEverywhere: the same frames give byte-identical
// frames.csv and events.json (timing fields and the input's name aside)
// on 1, 2 and 8 CPUs, run after run, and read from a folder of PNG frames
// or from a lossless video of the same frames. The frames are 640×480, so
// the face search takes its parallel path (face.Detector splits its scan
// from 200×150 on several CPUs); the appearance net runs when installed.
func TestSameOutputsEverywhere(t *testing.T) {
	if testing.Short() {
		t.Skip("analyses one clip five times")
	}
	lm := dlibLandmarker(t)
	clips, err := synth.Plan(testFace(t), synth.Config{Seed: 23, FPS: 30, Kind: "micro", Width: 640, Height: 480, Model: synth.Muscle}, 1)
	if err != nil {
		t.Fatal(err)
	}
	c := clips[0]
	dir := t.TempDir()
	frames := filepath.Join(dir, "frames")
	if err := os.Mkdir(frames, 0o755); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < c.Frames; i++ {
		var buf bytes.Buffer
		if err := png.Encode(&buf, c.Frame(i, nil)); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(frames, fmt.Sprintf("%04d.png", i+1)), buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	net, _, err := LoadAppearance(models.Root(""), "faceapi")
	if err != nil {
		t.Fatal(err)
	}
	run := func(input string, procs int) (csv []byte, events map[string]any) {
		t.Helper()
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		out := t.TempDir()
		opt := Options{Out: out, Landmarker: lm, FPS: c.FPS}
		if net != nil {
			opt.Appearance = net
		}
		if _, err := Run(context.Background(), input, opt); err != nil {
			t.Fatalf("%s on %d CPUs: %v", input, procs, err)
		}
		csv, events = readOutputs(t, out)
		delete(events, "input")
		return csv, events
	}
	csv1, ev1 := run(frames, 1)
	if evs, _ := ev1["events"].([]any); len(evs) == 0 {
		t.Fatalf("no event spotted: the comparison would not cover the events")
	}
	for _, procs := range []int{2, 8, 2} {
		csv, ev := run(frames, procs)
		sameOutputs(t, fmt.Sprintf("folder on 1 and %d CPUs", procs), csv1, csv, ev1, ev)
	}
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Logf("ffmpeg not installed: folder against video not compared")
		return
	}
	video := filepath.Join(dir, "clip.mov")
	cmd := exec.Command("ffmpeg", "-v", "error", "-framerate", "30", "-i", filepath.Join(frames, "%04d.png"), "-c:v", "png", video)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v: %s", err, out)
	}
	csv, ev := run(video, 2)
	// A video names its codec and bit rate; a folder has none.
	if ev["codec"] != "png" || ev["bits_per_pixel"] == nil {
		t.Errorf("the video's codec %v and bits per pixel %v", ev["codec"], ev["bits_per_pixel"])
	}
	delete(ev, "codec")
	delete(ev, "bits_per_pixel")
	sameOutputs(t, "folder and lossless video", csv1, csv, ev1, ev)
}

// TestSameFacesEverywhere: a clip of two faces (TestTwoFacesPassing's)
// gives byte-identical frames.csv and events.json on 1 and 2 CPUs: the
// several-faces path (BlazeFace, fits, claims) reduces in a fixed order.
func TestSameFacesEverywhere(t *testing.T) {
	if testing.Short() {
		t.Skip("analyses a two-face clip twice")
	}
	lm, mf := multiLandmarker(t)
	dir := writeCrowd(t, passingCrowd(t))
	run := func(procs int) (csv []byte, events map[string]any) {
		t.Helper()
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		out := t.TempDir()
		if _, err := Run(context.Background(), dir, Options{Out: out, FPS: 30, Landmarker: lm, Faces: mf, GeometryOnly: true}); err != nil {
			t.Fatalf("on %d CPUs: %v", procs, err)
		}
		return readOutputs(t, out)
	}
	csv1, ev1 := run(1)
	face1 := false
	for _, line := range strings.Split(string(csv1), "\n") {
		if f := strings.Split(line, ", "); len(f) > 4 && f[1] == "1" && f[4] == "1" {
			face1 = true
			break
		}
	}
	if !face1 {
		t.Fatal("face 1 never tracked: the comparison would not cover several faces")
	}
	csv2, ev2 := run(2)
	sameOutputs(t, "two faces on 1 and 2 CPUs", csv1, csv2, ev1, ev2)
}

// readOutputs reads out's frames.csv and events.json, less events.json's
// fields that differ from run to run (elapsed_s, frames_per_second).
func readOutputs(t testing.TB, out string) (csv []byte, events map[string]any) {
	t.Helper()
	csv, err := os.ReadFile(filepath.Join(out, "frames.csv"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(out, "events.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &events); err != nil {
		t.Fatal(err)
	}
	delete(events, "elapsed_s")
	delete(events, "frames_per_second")
	return csv, events
}

// sameOutputs reports where two runs' frames.csv and events.json differ
// (what names the comparison).
func sameOutputs(t testing.TB, what string, csvA, csvB []byte, evA, evB map[string]any) {
	t.Helper()
	if !bytes.Equal(csvA, csvB) {
		t.Errorf("%s: frames.csv differs", what)
	}
	a, _ := json.Marshal(evA)
	b, _ := json.Marshal(evB)
	if !bytes.Equal(a, b) {
		i := 0
		for i < min(len(a), len(b)) && a[i] == b[i] {
			i++
		}
		lo := max(0, i-60)
		t.Errorf("%s: events.json differs at byte %d: …%s… against …%s…", what, i, a[lo:min(len(a), i+40)], b[lo:min(len(b), i+40)])
	}
}
