package synth

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"testing"
)

// pngDir is where visual checks are written (TELL_SYNTH_PNG=DIR); empty
// skips them. They are for looking at, not for asserting.
func pngDir(t *testing.T) string {
	d := os.Getenv("TELL_SYNTH_PNG")
	if d == "" {
		t.Skip("set TELL_SYNTH_PNG=DIR to write the visual checks")
	}
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	return d
}

// crop renders the box (x0, y0, w, h) of face f, enlarged k times, with its
// landmarks as red dots when dots is set.
func crop(f *Face, x0, y0, w, h, k int, dots bool) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w*k, h*k))
	for y := 0; y < h*k; y++ {
		for x := 0; x < w*k; x++ {
			sx, sy := float64(x0)+(float64(x)+0.5)/float64(k)-0.5, float64(y0)+(float64(y)+0.5)/float64(k)-0.5
			r := cubic(f.R, f.W, f.H, sx, sy)
			g := cubic(f.G, f.W, f.H, sx, sy)
			b := cubic(f.B, f.W, f.H, sx, sy)
			img.Set(x, y, color.RGBA{uint8(r), uint8(g), uint8(b), 255})
		}
	}
	if dots {
		for _, p := range f.LM {
			cx, cy := int((float64(p[0])-float64(x0)+0.5)*float64(k)), int((float64(p[1])-float64(y0)+0.5)*float64(k))
			for dy := -1; dy <= 1; dy++ {
				for dx := -1; dx <= 1; dx++ {
					img.Set(cx+dx, cy+dy, color.RGBA{255, 0, 0, 255})
				}
			}
		}
	}
	return img
}

func writePNG(t *testing.T, path string, img image.Image) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s", path)
}

// TestNeutralVisual writes the portrait and its neutral version side by
// side (with and without landmarks) for a person to judge.
func TestNeutralVisual(t *testing.T) {
	dir := pngDir(t)
	f := testFace(t)
	n, info, err := Neutralize(f)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(info)
	const x0, y0, w, h, k = 165, 70, 120, 125, 4
	pair := image.NewRGBA(image.Rect(0, 0, 2*w*k, 2*h*k))
	for i, im := range []*image.RGBA{crop(f, x0, y0, w, h, k, false), crop(n, x0, y0, w, h, k, false), crop(f, x0, y0, w, h, k, true), crop(n, x0, y0, w, h, k, true)} {
		ox, oy := (i%2)*w*k, (i/2)*h*k
		for y := 0; y < h*k; y++ {
			copy(pair.Pix[(oy+y)*pair.Stride+4*ox:], im.Pix[y*im.Stride:y*im.Stride+4*w*k])
		}
	}
	writePNG(t, filepath.Join(dir, "neutral.png"), pair)
}

// TestNeutralMouthVisual: the mouth of the portrait and of its neutral
// version, 8× (the lips must meet, no teeth left, corners not raised).
func TestNeutralMouthVisual(t *testing.T) {
	dir := pngDir(t)
	f := testFace(t)
	n, _, err := Neutralize(f)
	if err != nil {
		t.Fatal(err)
	}
	const x0, y0, w, h, k = 190, 120, 70, 45, 8
	pair := image.NewRGBA(image.Rect(0, 0, w*k, 2*h*k))
	for i, im := range []*image.RGBA{crop(f, x0, y0, w, h, k, false), crop(n, x0, y0, w, h, k, false)} {
		for y := 0; y < h*k; y++ {
			copy(pair.Pix[(i*h*k+y)*pair.Stride:], im.Pix[y*im.Stride:y*im.Stride+4*w*k])
		}
	}
	writePNG(t, filepath.Join(dir, "neutral-mouth.png"), pair)
}

// TestNeutralFullVisual writes the whole neutral portrait (512×512), for
// checks by other programs (an expression classifier, a landmark detector).
func TestNeutralFullVisual(t *testing.T) {
	dir := pngDir(t)
	n, _, err := Neutralize(testFace(t))
	if err != nil {
		t.Fatal(err)
	}
	writePNG(t, filepath.Join(dir, "neutral-full.png"), crop(n, 0, 0, n.W, n.H, 1, false))
}

// TestMuscleAUVisual writes, for each AU of the muscle model at intensity
// E, the neutral frame, the apex frame and their difference (grey 128 =
// none), so that each AU's look can be judged against FACS's description.
func TestMuscleAUVisual(t *testing.T) {
	dir := pngDir(t)
	f := testFace(t)
	const W, H = 200, 220
	aus := MuscleAUs()
	out := image.NewRGBA(image.Rect(0, 0, 3*W, len(aus)*H))
	for r, au := range aus {
		clips, err := Plan(f, Config{Model: Muscle, Seed: uint64(au), Codes: []string{fmt.Sprintf("%dE", au)}, Kind: "macro",
			MacroAmp: [2]float64{6, 6}, Noise: -1, Head: -1, Illum: -1, Width: W, Height: H, Scale: 2.2, FPS: 30}, 1)
		if err != nil {
			t.Fatal(err)
		}
		c := clips[0]
		e := c.Events[0]
		a, b := c.Frame(0, nil), c.Frame(e.Apex, nil)
		for y := 0; y < H; y++ {
			for x := 0; x < W; x++ {
				i := y*a.Stride + 4*x
				o := (r*H+y)*out.Stride + 4*x
				copy(out.Pix[o:o+4], a.Pix[i:i+4])
				copy(out.Pix[o+4*W:o+4*W+4], b.Pix[i:i+4])
				for ch := 0; ch < 3; ch++ {
					d := 128 + 3*(int(b.Pix[i+ch])-int(a.Pix[i+ch]))
					out.Pix[o+8*W+ch] = uint8(min(255, max(0, d)))
				}
				out.Pix[o+8*W+3] = 255
			}
		}
		l0, l1 := c.Landmarks(0), c.Landmarks(e.Apex)
		for i := range l0 {
			for k, p := range [][2]float32{l0[i], l1[i]} {
				x, y := int(p[0]+0.5)+(k+1)*W, int(p[1]+0.5)+r*H
				if k == 0 {
					x += W // neutral landmarks on the difference image, red
				}
				clr := color.RGBA{255, 0, 0, 255}
				if k == 1 {
					clr = color.RGBA{0, 255, 0, 255}
					x += W
				}
				out.Set(x, y, clr)
			}
		}
		t.Logf("AU%d: %s, apex frame %d, peak %.1f px", au, e.AUString(), e.Apex, e.mus.amp)
	}
	writePNG(t, filepath.Join(dir, "muscle-aus.png"), out)
}
