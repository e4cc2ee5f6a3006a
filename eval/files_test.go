package eval

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tell-project/tell/face"
	"github.com/tell-project/tell/flow"
)

// TestFlowFiles: the pair read from files moves one pixel right; against
// a ground truth of that motion the end-point error is small, and the
// lines are the peer's.
func TestFlowFiles(t *testing.T) {
	const w, h = 48, 40
	dir := t.TempDir()
	for i, name := range []string{"a.png", "b.png"} {
		img := image.NewGray(image.Rect(0, 0, w, h))
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				img.SetGray(x, y, color.Gray{Y: uint8(128 + 60*math.Sin(float64(x-i)/5)*math.Cos(float64(y)/6))})
			}
		}
		var b bytes.Buffer
		if err := png.Encode(&b, img); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	gt := &flow.Field{W: w, H: h, U: make([]float32, w*h), V: make([]float32, w*h)}
	for i := range gt.U {
		gt.U[i] = 1
	}
	if err := flow.SaveFlo(filepath.Join(dir, "gt.flo"), gt); err != nil {
		t.Fatal(err)
	}
	r, err := FlowFiles(t.Context(), flow.Fast(), filepath.Join(dir, "a.png"), filepath.Join(dir, "b.png"), filepath.Join(dir, "gt.flo"))
	if err != nil {
		t.Fatal(err)
	}
	if r.EPE == nil || *r.EPE > 0.5 {
		t.Errorf("epe %v", r.EPE)
	}
	var b bytes.Buffer
	r.Print(&b)
	if lines := strings.Split(strings.TrimSpace(b.String()), "\n"); len(lines) != 3 || !strings.HasPrefix(lines[0], "epe=") || !strings.HasPrefix(lines[2], "tell_tvl1_ms=") {
		t.Errorf("lines %q", b.String())
	}
	if _, err := FlowFiles(t.Context(), flow.Fast(), filepath.Join(dir, "a.png"), filepath.Join(dir, "none.png"), ""); err == nil {
		t.Error("a missing image")
	}
}

// TestLandmarksFile: in the box given, the points are the predictor's;
// the first line names the box.
func TestLandmarksFile(t *testing.T) {
	if _, err := face.ResolveModelPath(""); err != nil {
		t.Skipf("skipping: %v", err) // TestLandmarks fails in CI without it
	}
	box := face.Rect{X: 179, Y: 83, W: 88, H: 88}
	r, err := LandmarksFile(t.Context(), filepath.Join("..", "portrait", "astronaut.png"), "", &box, 2)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	r.Print(&b)
	if lines := strings.Split(b.String(), "\n"); lines[0] != "box 179 83 88 88" || len(lines) != 72 {
		t.Errorf("%d lines, first %q", len(lines), lines[0])
	}
}
