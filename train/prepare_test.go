package train

import (
	"context"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tell-project/tell/dataset"
	"github.com/tell-project/tell/face/facetest"
	"github.com/tell-project/tell/model"
	"github.com/tell-project/tell/portrait"
	"github.com/tell-project/tell/raster"
)

func writePNG(t *testing.T, path string, img image.Image) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

// TestPrepareFlowImage decodes a hand-made flow image: mid grey is zero
// motion, 255 is +1, 0 is −1; strain is B/255.
func TestPrepareFlowImage(t *testing.T) {
	dir := t.TempDir()
	img := image.NewRGBA(image.Rect(0, 0, 4, 4))
	for y := 0; y < 4; y++ {
		for x := 0; x < 4; x++ {
			img.Set(x, y, color.RGBA{255, 0, 51, 255})
		}
	}
	img.Set(1, 2, color.RGBA{128, 127, 0, 255})
	writePNG(t, filepath.Join(dir, "f.png"), img)
	s := []dataset.Sample{{ID: "a", Subject: "s", Label: "x", Flow: filepath.Join(dir, "f.png")}}
	cache := filepath.Join(dir, "cache")
	d, err := Prepare(context.Background(), s, model.KindFlow, PrepareOptions{Size: 4, Cache: cache})
	if err != nil || len(d.Errors) > 0 {
		t.Fatal(err, d.Errors)
	}
	x := d.X[0]
	if x[0] != 1 || x[16] != -1 || math.Abs(float64(x[32])-0.2) > 1e-6 {
		t.Fatalf("decoded u,v,strain = %v %v %v", x[0], x[16], x[32])
	}
	if i := 2*4 + 1; math.Abs(float64(x[i])-0.5/127.5) > 1e-6 || math.Abs(float64(x[16+i])+0.5/127.5) > 1e-6 || x[32+i] != 0 {
		t.Fatalf("mid grey: %v %v %v", x[i], x[16+i], x[32+i])
	}
	// Second run: served from the cache, same values.
	d2, err := Prepare(context.Background(), s, model.KindFlow, PrepareOptions{Size: 4, Cache: cache})
	if err != nil || d2.Cached != 1 {
		t.Fatalf("cached=%d err=%v", d2.Cached, err)
	}
	for i := range x {
		if d2.X[0][i] != x[i] {
			t.Fatal("cached values differ")
		}
	}
	// A damaged cache entry (a run killed mid-write cannot leave one, but a
	// disk can) is recomputed, not trusted.
	entries, _ := filepath.Glob(filepath.Join(cache, "*", "*.bin"))
	if len(entries) != 1 {
		t.Fatalf("%d cache entries", len(entries))
	}
	os.WriteFile(entries[0], []byte("TELLPRP1garbage"), 0o644)
	d3, err := Prepare(context.Background(), s, model.KindFlow, PrepareOptions{Size: 4, Cache: cache})
	if err != nil || d3.Cached != 0 || d3.X[0][0] != 1 {
		t.Fatalf("damaged entry: cached=%d err=%v", d3.Cached, err)
	}
	// With Apex, a flow row's image (the release's apex crop) becomes the
	// fourth channel, grey/255; a row without one gets zeros; the flow
	// channels are unchanged.
	apex := image.NewGray(image.Rect(0, 0, 8, 8))
	for i := range apex.Pix {
		apex.Pix[i] = 204
	}
	writePNG(t, filepath.Join(dir, "apex.png"), apex)
	s = append(s, dataset.Sample{ID: "b", Subject: "s", Label: "x", Flow: filepath.Join(dir, "f.png")})
	s[0].Image = filepath.Join(dir, "apex.png")
	d4, err := Prepare(context.Background(), s, model.KindFlow, PrepareOptions{Size: 4, Apex: true, Cache: cache})
	if err != nil || len(d4.Errors) > 0 || d4.Layout.Channels != 4 {
		t.Fatal(err, d4.Errors, d4.Layout)
	}
	for i := 0; i < 16; i++ {
		if math.Abs(float64(d4.X[0][48+i])-0.8) > 1e-6 || d4.X[1][48+i] != 0 || d4.X[0][i] != x[i] {
			t.Fatalf("apex channel %v, %v; u %v", d4.X[0][48:], d4.X[1][48:], d4.X[0][:16])
		}
	}
}

// TestPrepareFrames computes flow from an onset and an apex frame whose
// content moved right by 2 pixels: u must come out positive on the texture.
func TestPrepareFrames(t *testing.T) {
	dir := t.TempDir()
	frames := filepath.Join(dir, "clip one")
	os.MkdirAll(frames, 0o755)
	const n = 64
	mk := func(shift float64) *image.Gray {
		g := image.NewGray(image.Rect(0, 0, n, n))
		for y := 0; y < n; y++ {
			for x := 0; x < n; x++ {
				xs := float64(x) - shift
				v := 128 + 60*math.Sin(xs*0.35)*math.Cos(float64(y)*0.3) + 40*math.Sin(0.17*xs+0.23*float64(y))
				g.SetGray(x, y, color.Gray{uint8(v)})
			}
		}
		return g
	}
	writePNG(t, filepath.Join(frames, "reg_img46.png"), mk(0))
	writePNG(t, filepath.Join(frames, "reg_img50.png"), mk(2))
	writePNG(t, filepath.Join(frames, "reg_img47.png"), mk(0.5))
	s := []dataset.Sample{
		{ID: "a", Subject: "s", Label: "x", Frames: frames, Onset: "46", Apex: "50", Line: 2},
		{ID: "b", Subject: "s", Label: "x", Frames: frames, Onset: "46", Apex: "99", Line: 3},
		{ID: "c", Subject: "s", Label: "x", Frames: frames, Onset: "reg_img46.png", Apex: "/", Offset: "48", Line: 4},
	}
	d, err := Prepare(context.Background(), s, model.KindFlow, PrepareOptions{Size: 16, Apex: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Errors) != 1 || d.Errors[0].Line != 3 || !strings.Contains(d.Errors[0].Error(), "no image file numbered 99") {
		t.Fatalf("errors: %v", d.Errors)
	}
	if len(d.X) != 2 || d.Layout.Channels != 4 {
		t.Fatalf("prepared %d rows, %d channels", len(d.X), d.Layout.Channels)
	}
	plane := 16 * 16
	mean := func(v []float32) float64 {
		var s float64
		for _, x := range v {
			s += float64(x)
		}
		return s / float64(len(v))
	}
	// 2 px at 64 px is 0.5 px on the 16-px output grid.
	if u, v := mean(d.X[0][:plane]), mean(d.X[0][plane:2*plane]); u < 0.3 || u > 0.7 || math.Abs(v) > 0.1 {
		t.Errorf("mean flow (%.3f, %.3f), want about (0.5, 0)", u, v)
	}
	// Row c: apex "/" → middle of onset..offset = frame 47 (0.5 px → 0.125).
	if u := mean(d.X[1][:plane]); u < 0.05 || u > 0.25 {
		t.Errorf("row c mean u %.3f, want about 0.125", u)
	}
	if d.Static[0] == nil || mean(d.Static[0][3*plane:]) < 0.3 {
		t.Error("apex layout lacks the onset frame as static face")
	}
	// The same input outside a manifest (tell analyze's path).
	in := model.Input{Size: 16, Apex: true}
	m := &model.Classifier{Info: model.Info{Kind: model.KindFlow, Layout: in.Layout(model.KindFlow), Classes: []string{"a", "b"}}}
	x, err := m.InputFromFrames(context.Background(), raster.FromImage(mk(0)), raster.FromImage(mk(2)))
	if err != nil {
		t.Fatal(err)
	}
	for i := range x {
		if x[i] != d.X[0][i] {
			t.Fatalf("InputFromFrames differs from Prepare at %d: %v vs %v", i, x[i], d.X[0][i])
		}
	}
}

// TestPrepareAlignsFaces: frames of the astronaut portrait, the apex moved
// 2 px right and 1 px down, are aligned once per clip (the same transform for
// both), so the flow still shows the motion; a face-less image row is taken
// as given.
func TestPrepareAlignsFaces(t *testing.T) {
	facetest.ModelPath(t)
	dir := t.TempDir()
	frames := filepath.Join(dir, "clip")
	os.MkdirAll(frames, 0o755)
	src, err := portrait.Astronaut()
	if err != nil {
		t.Fatal(err)
	}
	b := src.Bounds()
	shifted := image.NewRGBA(b)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			shifted.Set(x, y, src.At(max(x-2, b.Min.X), max(y-1, b.Min.Y)))
		}
	}
	writePNG(t, filepath.Join(frames, "img1.png"), src)
	writePNG(t, filepath.Join(frames, "img2.png"), shifted)
	flat := image.NewGray(image.Rect(0, 0, 64, 64))
	writePNG(t, filepath.Join(dir, "flat.png"), flat)
	s := []dataset.Sample{{ID: "a", Subject: "s", Label: "x", Frames: frames, Onset: "1", Apex: "2"}}
	d, err := Prepare(context.Background(), s, model.KindFlow, PrepareOptions{Size: 28, Align: true})
	if err != nil || len(d.Errors) > 0 {
		t.Fatal(err, d.Errors)
	}
	if d.Aligned != 1 || d.AlignError != "" {
		t.Fatalf("aligned=%d unaligned=%d err=%q", d.Aligned, d.Unaligned, d.AlignError)
	}
	var u, v float64
	for i := 0; i < 28*28; i++ {
		u += float64(d.X[0][i])
		v += float64(d.X[0][28*28+i])
	}
	if u <= 0 || v <= 0 {
		t.Errorf("mean flow (%.3f, %.3f) should point right and down", u/784, v/784)
	}
	img := []dataset.Sample{{ID: "b", Subject: "s", Label: "x", Image: filepath.Join(dir, "flat.png")}}
	d, err = Prepare(context.Background(), img, model.KindImage, PrepareOptions{Size: 28, Align: true})
	if err != nil || d.Unaligned != 1 || len(d.X) != 1 {
		t.Fatalf("face-less image: %v unaligned=%d rows=%d", err, d.Unaligned, len(d.X))
	}
}
