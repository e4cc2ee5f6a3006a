package face

import (
	"flag"
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/tell-project/tell/portrait"
	"github.com/tell-project/tell/raster"
)

// genTestdata rewrites the transformed portraits in testdata/ that
// testdata/golden.sh feeds to dlib. The images are committed; regenerate only
// on purpose (go test ./face -run TestGenerateTestdata -gen-testdata).
var genTestdata = flag.Bool("gen-testdata", false, "rewrite face/testdata/*.png")

// testImages are the transformed portraits: a smaller copy, a rotated one, a
// mirrored one and an off-centre crop that puts the face at the image border
// (so that some feature pixels fall outside and read 0).
var testImages = []string{"small.png", "rotated.png", "mirrored.png", "edge.png"}

func TestGenerateTestdata(t *testing.T) {
	if !*genTestdata {
		t.Skip("set -gen-testdata to rewrite testdata images")
	}
	img, err := portrait.Astronaut()
	if err != nil {
		t.Fatal(err)
	}
	g := raster.FromImage(img)
	w, h := g.W, g.H
	out := map[string]*image.Gray{}

	small := image.NewGray(image.Rect(0, 0, w/2, h/2))
	for y := 0; y < h/2; y++ {
		for x := 0; x < w/2; x++ {
			s := g.Pix[2*y*w+2*x] + g.Pix[2*y*w+2*x+1] + g.Pix[(2*y+1)*w+2*x] + g.Pix[(2*y+1)*w+2*x+1]
			small.Pix[y*small.Stride+x] = uint8((int(s) + 2) / 4)
		}
	}
	out["small.png"] = small

	// Rotate 15° about the face centre (about (223,127)), bilinear.
	rot := image.NewGray(image.Rect(0, 0, w, h))
	cx, cy := 223.0, 127.0
	sin, cos := math.Sincos(15 * math.Pi / 180)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			dx, dy := float64(x)-cx, float64(y)-cy
			sx, sy := cos*dx-sin*dy+cx, sin*dx+cos*dy+cy
			v := g.Bilinear(float32(sx), float32(sy))
			rot.Pix[y*rot.Stride+x] = uint8(math.Floor(float64(v) + 0.5))
		}
	}
	out["rotated.png"] = rot

	mir := image.NewGray(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			mir.Pix[y*mir.Stride+x] = uint8(g.Pix[y*w+(w-1-x)])
		}
	}
	out["mirrored.png"] = mir

	// Crop 200×160 starting at (195, 70): the face's left half and chin are cut off.
	edge := image.NewGray(image.Rect(0, 0, 200, 160))
	for y := 0; y < 160; y++ {
		for x := 0; x < 200; x++ {
			edge.Pix[y*edge.Stride+x] = uint8(g.Pix[(y+70)*w+x+195])
		}
	}
	out["edge.png"] = edge

	for _, name := range testImages {
		f, err := os.Create(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := png.Encode(f, out[name]); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
