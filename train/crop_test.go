package train

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/draw"
	"image/jpeg"
	"os"
	"path/filepath"
	"testing"

	"github.com/tell-project/tell/dataset"
	"github.com/tell-project/tell/face/facetest"
	"github.com/tell-project/tell/model"
	"github.com/tell-project/tell/portrait"
	"github.com/tell-project/tell/synth"
)

// faceCropRect is a crop whose shorter side is the landmarks' extent / fill,
// centred on them, aspect h/w.
func faceCropRect(lm [68][2]float32, fill, aspect float64) image.Rectangle {
	x0, y0, x1, y1 := float32(1e9), float32(1e9), float32(-1e9), float32(-1e9)
	for _, p := range lm {
		x0, y0, x1, y1 = min(x0, p[0]), min(y0, p[1]), max(x1, p[0]), max(y1, p[1])
	}
	side := float64(max(x1-x0, y1-y0)) / fill
	cx, cy := float64(x0+x1)/2, float64(y0+y1)/2
	return image.Rect(int(cx-side/2), int(cy-side*aspect/2), int(cx+side/2), int(cy+side*aspect/2))
}

func writeJPEGCrop(t *testing.T, path string, src image.Image, r image.Rectangle) {
	t.Helper()
	crop := image.NewRGBA(image.Rect(0, 0, r.Dx(), r.Dy()))
	draw.Draw(crop, crop.Bounds(), src, r.Min, draw.Src)
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, crop, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestPrepareFaceCrops: tell prepare aligns apex-frame crops (image rows)
// and clips of cropped frames (frames rows) whose faces fill the frame,
// which a plain scan does not find, and says how many were crops.
func TestPrepareFaceCrops(t *testing.T) {
	facetest.ModelPath(t)
	dir := t.TempDir()
	src, err := portrait.Astronaut()
	if err != nil {
		t.Fatal(err)
	}
	var images []dataset.Sample
	for i, fill := range []float64{1.0, 1.15, 1.3} {
		p := filepath.Join(dir, fmt.Sprintf("apex%d.jpg", i))
		writeJPEGCrop(t, p, src, faceCropRect(synth.AstronautLandmarks(), fill, 1))
		images = append(images, dataset.Sample{ID: fmt.Sprint("i", i), Subject: "s", Label: "x", Image: p})
	}
	d, err := Prepare(context.Background(), images, model.KindImage, PrepareOptions{Size: 28, Align: true, Workers: 1})
	if err != nil || len(d.Errors) > 0 {
		t.Fatal(err, d.Errors)
	}
	if d.Aligned != 3 || d.AlignedCrops != 3 {
		t.Errorf("image rows: aligned %d (in crops %d) of 3", d.Aligned, d.AlignedCrops)
	}
	clips, err := synth.Plan(synth.NewFace(src, synth.AstronautLandmarks()), synth.Config{Seed: 3, FPS: 30, Kind: "macro"}, 1)
	if err != nil {
		t.Fatal(err)
	}
	c := clips[0]
	r := faceCropRect(c.Landmarks(0), 1.15, 1.2)
	frames := filepath.Join(dir, "clip")
	os.MkdirAll(frames, 0o755)
	apex := c.Events[0].Apex
	for _, i := range []int{0, apex} {
		writeJPEGCrop(t, filepath.Join(frames, fmt.Sprintf("reg_img%d.jpg", i+1)), c.Frame(i, nil), r)
	}
	row := []dataset.Sample{{ID: "f", Subject: "s", Label: "x", Frames: frames, Onset: "1", Apex: fmt.Sprint(apex + 1)}}
	d, err = Prepare(context.Background(), row, model.KindFlow, PrepareOptions{Size: 28, Align: true})
	if err != nil || len(d.Errors) > 0 {
		t.Fatal(err, d.Errors)
	}
	if d.Aligned != 1 || d.AlignedCrops != 1 {
		t.Errorf("frames row: aligned %d (in crops %d)", d.Aligned, d.AlignedCrops)
	}
}
