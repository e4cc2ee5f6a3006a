package blazeface

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

// genTestdata rewrites testdata/scene.png, the net input of the golden
// test (go test ./blazeface -run TestGenerateScene -gen-testdata; then
// scripts/blazeface-golden.sh).
var genTestdata = flag.Bool("gen-testdata", false, "rewrite blazeface/testdata/scene.png")

// scene composes the astronaut portrait four times into a 256×256 image:
// half size (face about 50 pixels), mirrored at a quarter, turned 30° at a
// quarter, and at an eighth (face about 13 pixels), on a grey gradient.
func scene(t testing.TB) *raster.RGB {
	img, err := portrait.Astronaut()
	if err != nil {
		t.Fatal(err)
	}
	src := raster.RGBFromImage(img)
	out := raster.NewRGB(Size, Size)
	for y := 0; y < Size; y++ {
		for x := 0; x < Size; x++ {
			v := uint8(60 + (x+y)/4)
			p := out.Pix[y*out.Stride+3*x:]
			p[0], p[1], p[2] = v, v, v+20
		}
	}
	// paste draws src scaled by k (output pixels per source pixel), turned
	// by deg about its centre and mirrored when flip, centred at (cx, cy),
	// nearest source pixel, inside a disc of radius r output pixels.
	paste := func(k, deg float64, flip bool, cx, cy, r float64) {
		sin, cos := math.Sincos(deg * math.Pi / 180)
		for y := 0; y < Size; y++ {
			for x := 0; x < Size; x++ {
				dx, dy := float64(x)-cx, float64(y)-cy
				if dx*dx+dy*dy > r*r {
					continue
				}
				ux, uy := (cos*dx+sin*dy)/k, (-sin*dx+cos*dy)/k
				if flip {
					ux = -ux
				}
				// The face centre of the portrait is about (225, 130).
				sx, sy := int(math.Floor(225+ux)), int(math.Floor(130+uy))
				if sx < 0 || sy < 0 || sx >= src.W || sy >= src.H {
					continue
				}
				copy(out.Pix[y*out.Stride+3*x:y*out.Stride+3*x+3], src.Pix[sy*src.Stride+3*sx:])
			}
		}
	}
	paste(0.5, 0, false, 70, 70, 68)
	paste(0.25, 0, true, 190, 60, 45)
	paste(0.25, 30, false, 70, 190, 45)
	paste(0.125, 0, false, 190, 190, 25)
	return out
}

func TestGenerateScene(t *testing.T) {
	if !*genTestdata {
		t.Skip("set -gen-testdata to rewrite testdata/scene.png")
	}
	s := scene(t)
	im := image.NewNRGBA(image.Rect(0, 0, s.W, s.H))
	for i := 0; i < s.W*s.H; i++ {
		copy(im.Pix[4*i:4*i+3], s.Pix[3*i:3*i+3])
		im.Pix[4*i+3] = 255
	}
	f, err := os.Create(filepath.Join("testdata", "scene.png"))
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
