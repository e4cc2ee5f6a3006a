package analyze

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tell-project/tell/portrait"
	"github.com/tell-project/tell/raster"
	"github.com/tell-project/tell/synth"
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
			out := t.TempDir()
			_, err := Run(context.Background(), tc.input, Options{Out: out, Landmarker: noFace{}})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want it to mention %q", err, tc.want)
			}
			if !strings.Contains(err.Error(), "partial") {
				t.Errorf("err %v does not say the outputs are partial", err)
			}
			r := readResult(t, out)
			if r.Status != StatusPartial || !strings.Contains(r.Error, tc.want) {
				t.Errorf("events.json status %q error %q", r.Status, r.Error)
			}
		})
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
	if len(res.Notes) == 0 || !strings.Contains(res.Notes[0], "no face tracked") {
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
	lm, err := NewFaceLandmarker("")
	if err != nil {
		t.Skipf("dlib model not installed: %v", err)
	}
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
}
