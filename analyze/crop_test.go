package analyze

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"image"
	"image/draw"
	"image/jpeg"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/tell-project/tell/face"
	"github.com/tell-project/tell/portrait"
	"github.com/tell-project/tell/raster"
	"github.com/tell-project/tell/synth"
	"github.com/tell-project/tell/video"
)

// cropRect is a w×h crop centred on landmarks lm whose extent fills fill of
// the crop's shorter side (a face crop as datasets ship them).
func cropRect(lm [68][2]float32, fill float64, aspect float64) image.Rectangle {
	x0, y0, x1, y1 := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for _, p := range lm {
		x0, y0 = min(x0, float64(p[0])), min(y0, float64(p[1]))
		x1, y1 = max(x1, float64(p[0])), max(y1, float64(p[1]))
	}
	side := max(x1-x0, y1-y0) / fill
	w, h := side, side*aspect
	cx, cy := (x0+x1)/2, (y0+y1)/2
	return image.Rect(int(cx-w/2), int(cy-h/2), int(cx+w/2), int(cy+h/2))
}

// TestFaceCropStill: a JPEG face crop of the portrait, as tight as
// CASME II's cropped release (the face overflows the frame), is analysed:
// the face is found in the crop and said so in events.json and the report.
func TestFaceCropStill(t *testing.T) {
	lm := dlibLandmarker(t)
	img, _ := portrait.Astronaut()
	r := cropRect(synth.AstronautLandmarks(), 1.15, 340.0/280)
	crop := image.NewRGBA(image.Rect(0, 0, r.Dx(), r.Dy()))
	draw.Draw(crop, crop.Bounds(), img, r.Min, draw.Src)
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, crop, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "crop.jpg")
	os.WriteFile(path, buf.Bytes(), 0o644)
	out := t.TempDir()
	res, err := Run(context.Background(), path, Options{Out: out, Landmarker: lm})
	if err != nil {
		t.Fatal(err)
	}
	if res.Tracked != 1 || !strings.Contains(strings.Join(res.Notes, "\n"), "face found in a face crop") {
		t.Fatalf("tracked %d, notes %q", res.Tracked, res.Notes)
	}
	html, _ := os.ReadFile(filepath.Join(out, "report.html"))
	if !strings.Contains(string(html), "face found in a face crop") {
		t.Error("the report does not say how the face was found")
	}
	if conf := framesConfidence(t, out); len(conf) != 1 || conf[0] < 0.5 {
		t.Errorf("frames.csv confidence %v", conf)
	}
	// --face detect never assumes a crop; --face full always does.
	det, _ := NewFaceLandmarkerMode("", face.FindDetect)
	if _, _, path, ok, _ := det.FindFace(mustGray(t, path)); ok && path == face.PathFrame.String() {
		t.Error("--face detect fitted the whole frame")
	}
}

func mustGray(t *testing.T, path string) *raster.Gray {
	t.Helper()
	src, err := OpenSource(context.Background(), path, video.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	g, err := src.Next(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// framesConfidence reads frames.csv's confidence column.
func framesConfidence(t *testing.T, out string) []float64 {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(out, "frames.csv"))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil || len(rows) < 2 {
		t.Fatalf("frames.csv: %v", err)
	}
	col := -1
	for i, h := range rows[0] {
		if strings.TrimSpace(h) == "confidence" {
			col = i
		}
	}
	var out2 []float64
	for _, r := range rows[1:] {
		v, _ := strconv.ParseFloat(strings.TrimSpace(r[col]), 64)
		out2 = append(out2, v)
	}
	return out2
}

// TestFaceCropVideo: the frames of a synthetic clip cut to the face (the
// face fills the frame, as in CASME II's cropped release) are analysed as a
// folder of frames: the face is found and tracked.
func TestFaceCropVideo(t *testing.T) {
	lm := dlibLandmarker(t)
	clips, err := synth.Plan(testFace(t), synth.Config{Seed: 5, FPS: 30, Kind: "macro", Width: 256, Height: 256}, 1)
	if err != nil {
		t.Fatal(err)
	}
	c := clips[0]
	r := cropRect(c.Landmarks(0), 1.1, 1.2)
	dir := t.TempDir()
	for i := 0; i < c.Frames; i++ {
		f := c.Frame(i, nil)
		crop := image.NewRGBA(image.Rect(0, 0, r.Dx(), r.Dy()))
		draw.Draw(crop, crop.Bounds(), f, r.Min, draw.Src)
		var buf bytes.Buffer
		png.Encode(&buf, crop)
		os.WriteFile(filepath.Join(dir, fmt.Sprintf("reg_img%03d.png", i+1)), buf.Bytes(), 0o644)
	}
	out := t.TempDir()
	res, err := Run(context.Background(), dir, Options{Out: out, Landmarker: lm, FPS: c.FPS})
	if err != nil {
		t.Fatal(err)
	}
	if res.Tracked*10 < res.Frames*9 {
		t.Errorf("face tracked in %d of %d cropped frames", res.Tracked, res.Frames)
	}
	if !strings.Contains(strings.Join(res.Notes, "\n"), "face found in a face crop") {
		t.Errorf("notes %q do not say the face was found in a crop", res.Notes)
	}
}

// TestFaceCropNote: the note calls a face a face crop only when it fills
// or overflows the frame; a face found by a rescan in an ordinary frame
// (raw 640×480 frames, the face half the width) is noted as such.
func TestFaceCropNote(t *testing.T) {
	box := func(x0, y0, x1, y1 float32) *[68][2]float32 {
		var lm [68][2]float32
		for i := range lm {
			f := float32(i) / 67
			lm[i] = [2]float32{x0 + f*(x1-x0), y0 + f*(y1-y0)}
		}
		return &lm
	}
	for _, c := range []struct {
		lm    *[68][2]float32
		fills bool
	}{
		{box(200, 150, 440, 370), false}, // landmarks 240 px of 640: half-width face
		{box(20, 20, 600, 460), true},    // 580 of 640
		{box(2, 100, 200, 300), true},    // cut by the left edge
		{box(300, 200, 420, 478), true},  // chin at the bottom edge
	} {
		if got := fillsFrame(c.lm, 640, 480); got != c.fills {
			t.Errorf("landmarks %v..%v in 640×480: fills %v, want %v", c.lm[0], c.lm[67], got, c.fills)
		}
	}
	raw := facePathNote(map[facePath]int{{"padded rescan", false}: 3})
	if strings.Contains(raw, "face crop") || !strings.Contains(raw, "where a plain scan missed it: padded rescan 3 times") {
		t.Errorf("rescan in an ordinary frame: %q", raw)
	}
	crop := facePathNote(map[facePath]int{{"whole frame", true}: 1, {"padded rescan", false}: 2})
	if !strings.Contains(crop, "face crop (the face fills or overflows the frame; a plain scan did not find it): whole frame 1 time") ||
		!strings.Contains(crop, "where a plain scan missed it: padded rescan 2 times") {
		t.Errorf("mixed: %q", crop)
	}
}
