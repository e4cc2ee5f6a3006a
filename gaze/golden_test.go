package gaze

import (
	"encoding/json"
	"flag"
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/tell-project/tell/models"
	"github.com/tell-project/tell/portrait"
	"github.com/tell-project/tell/raster"
	"github.com/tell-project/tell/video"
)

var genTestdata = flag.Bool("gen-testdata", false, "rewrite gaze/testdata/eyes.png")

// goldenEyes are the crops of the golden test: the astronaut's two eyes
// (corners read off the portrait), levelled, the image-right one mirrored,
// as Pupils frames them, side by side in one 128×64 PNG.
func goldenEyes(t *testing.T) *raster.RGB {
	img, err := portrait.Astronaut()
	if err != nil {
		t.Fatal(err)
	}
	src := Image{RGB: raster.RGBFromImage(img)}
	var lm [68][2]float32
	lm[36], lm[39] = [2]float32{191, 103}, [2]float32{214, 104}
	lm[42], lm[45] = [2]float32{236, 105}, [2]float32{259, 104}
	out := raster.NewRGB(2*CropSize, CropSize)
	for k := 0; k < 2; k++ {
		f := frameOf(&lm, k)
		for v := 0; v < CropSize; v++ {
			for u := 0; u < CropSize; u++ {
				x, y := f.toImage(float64(u)+0.5, float64(v)+0.5)
				var acc [3]float32
				src.sample(x, y, &acc)
				for c := 0; c < 3; c++ {
					out.Pix[v*out.Stride+3*(k*CropSize+u)+c] = uint8(math.Round(float64(acc[c]) * 255))
				}
			}
		}
	}
	return out
}

func TestGenerateEyes(t *testing.T) {
	if !*genTestdata {
		t.Skip("set -gen-testdata to rewrite testdata/eyes.png")
	}
	e := goldenEyes(t)
	im := image.NewNRGBA(image.Rect(0, 0, e.W, e.H))
	for i := 0; i < e.W*e.H; i++ {
		copy(im.Pix[4*i:4*i+3], e.Pix[3*i:3*i+3])
		im.Pix[4*i+3] = 255
	}
	f, err := os.Create(filepath.Join("testdata", "eyes.png"))
	if err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(f, im); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestIrisGoldenAgainstTFJS: the whole iris model on the two eye crops of
// testdata/eyes.png (RGB/255, batch of 2) gives TensorFlow.js's outputs
// (testdata/golden.js, WASM backend; contour then iris points) within 1e-3
// crop pixels, and the Net's model, pruned to the iris head, gives the
// whole model's iris points bit for bit.
func TestIrisGoldenAgainstTFJS(t *testing.T) {
	n, err := Load(models.Root(""))
	if err != nil {
		if models.Required() {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	b, err := os.ReadFile(filepath.Join("testdata", "golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	var g struct {
		Out []float64 `json:"out"`
	}
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	// Per eye: 71 contour points, then the iris points (numOut values).
	const whole = 3*71 + numOut
	if len(g.Out) != 2*whole {
		t.Fatalf("golden.json: %d values", len(g.Out))
	}
	eyes, err := video.ReadRGB(filepath.Join("testdata", "eyes.png"), 0)
	if err != nil {
		t.Fatal(err)
	}
	for k := 0; k < 2; k++ {
		for v := 0; v < CropSize; v++ {
			for u := 0; u < CropSize; u++ {
				for c := 0; c < 3; c++ {
					n.in[((k*CropSize+v)*CropSize+u)*3+c] = float32(eyes.Pix[v*eyes.Stride+3*(k*CropSize+u)+c]) / 255
				}
			}
		}
	}
	r, err := n.model.NewRunner([]int{2, CropSize, CropSize, 3})
	if err != nil {
		t.Fatal(err)
	}
	out, err := r.Run(n.in)
	if err != nil {
		t.Fatal(err)
	}
	pruned, err := n.run.Run(n.in)
	if err != nil {
		t.Fatal(err)
	}
	for k := 0; k < 2; k++ {
		for i := 0; i < numOut; i++ {
			if a, b := pruned[0][k*numOut+i], out[0][k*whole+whole-numOut+i]; math.Float32bits(a) != math.Float32bits(b) {
				t.Errorf("eye %d, iris value %d: %v pruned, %v in the whole model", k, i, a, b)
			}
		}
	}
	worst := 0.0
	for i, want := range g.Out {
		d := math.Abs(float64(out[0][i]) - want)
		worst = math.Max(worst, d)
		if d > 1e-3*math.Max(1, math.Abs(want)) {
			t.Errorf("output %d: %.5f, TF.js %.5f", i, out[0][i], want)
		}
	}
	t.Logf("max |Δ| %.2g over %d outputs", worst, len(g.Out))
	// The iris centres lie inside their crops, near the middle.
	for k := 0; k < 2; k++ {
		x, y := pruned[0][k*numOut+3*irisCentre], pruned[0][k*numOut+3*irisCentre+1]
		if x < 20 || x > 44 || y < 20 || y > 44 {
			t.Errorf("eye %d: iris centre (%.1f,%.1f) of a 64-pixel crop", k, x, y)
		}
	}
}

// TestSampleTables: the per-column and per-row tables Pupils samples
// through give toImage's positions for every sample, flipped or not, at
// every sample count (to rounding: toImage may fuse its multiply–adds).
func TestSampleTables(t *testing.T) {
	var n Net
	for _, f := range []eyeFrame{
		{cx: 101.3, cy: 57.9, scale: 0.83, cos: math.Cos(0.2), sin: math.Sin(0.2)},
		{cx: 12.5, cy: 300.25, scale: 3.7, cos: math.Cos(-1.1), sin: math.Sin(-1.1), flip: true},
	} {
		for ss := 1; ss <= maxSamples; ss++ {
			n.sampleTables(&f, ss)
			for sy := 0; sy < CropSize*ss; sy++ {
				for sx := 0; sx < CropSize*ss; sx++ {
					x, y := n.samplePos(&f, sx, sy)
					wx, wy := f.toImage(float64(sx/ss)+(float64(sx%ss)+0.5)/float64(ss), float64(sy/ss)+(float64(sy%ss)+0.5)/float64(ss))
					if math.Abs(x-wx) > 1e-9 || math.Abs(y-wy) > 1e-9 {
						t.Fatalf("frame %+v, %d samples, sample (%d, %d): (%v, %v), toImage (%v, %v)", f, ss, sx, sy, x, y, wx, wy)
					}
				}
			}
		}
	}
}

// TestCropRGB: the colour crop loop gives, bit for bit, what sampling
// through samplePos and Image.sample gives, for eyes inside the image, on
// its edges and past them, at every sample count.
func TestCropRGB(t *testing.T) {
	m := raster.NewRGB(97, 61)
	for i := range m.Pix {
		m.Pix[i] = byte(i*131 + i/7)
	}
	img := Image{RGB: m}
	var n Net
	got := make([]float32, CropSize*CropSize*3)
	for _, f := range []eyeFrame{
		{cx: 48.3, cy: 30.1, scale: 0.41, cos: math.Cos(0.2), sin: math.Sin(0.2)},
		{cx: 2.5, cy: 58.25, scale: 1.7, cos: math.Cos(-1.1), sin: math.Sin(-1.1), flip: true},
		{cx: 90, cy: 3, scale: 2.9, cos: 1, sin: 0},
		{cx: -20, cy: 80, scale: 0.9, cos: math.Cos(2.5), sin: math.Sin(2.5), flip: true},
	} {
		for ss := 1; ss <= maxSamples; ss++ {
			n.sampleTables(&f, ss)
			n.cropRGB(m, &f, ss, got)
			inv := 1 / float32(ss*ss)
			for v := 0; v < CropSize; v++ {
				for u := 0; u < CropSize; u++ {
					var acc [3]float32
					for sy := v * ss; sy < (v+1)*ss; sy++ {
						for sx := u * ss; sx < (u+1)*ss; sx++ {
							x, y := n.samplePos(&f, sx, sy)
							img.sample(x, y, &acc)
						}
					}
					for c := range acc {
						if w, g := acc[c]*inv, got[3*(v*CropSize+u)+c]; math.Float32bits(w) != math.Float32bits(g) {
							t.Fatalf("frame %+v, %d samples, pixel (%d, %d) channel %d: %v, sample gives %v", f, ss, u, v, c, g, w)
						}
					}
				}
			}
		}
	}
}
