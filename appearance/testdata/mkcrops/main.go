// Command mkcrops writes the face crops of appearance's golden test: parts
// of the committed astronaut portrait (package portrait) at several
// framings and sizes, PNG (exact pixels). Run by scripts/fer-golden.sh:
//
//	go run ./appearance/testdata/mkcrops appearance/testdata/crops
package main

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"

	"github.com/tell-project/tell/portrait"
)

// crop is a rectangle of the 512×512 portrait (face landmarks span about
// x 179–272, y 87–178) resampled to w×h.
type crop struct {
	name         string
	x, y, cw, ch float64
	w, h         int
	grey         bool
}

var crops = []crop{
	{"face140_48", 160, 50, 140, 140, 48, 48, false},
	{"face140_100", 160, 50, 140, 140, 100, 100, false},
	{"face140_112", 160, 50, 140, 140, 112, 112, false},
	{"tight110_64_grey", 175, 70, 110, 110, 64, 64, true},
	{"loose250_224", 100, 0, 250, 250, 224, 224, false},
	{"portrait_280x340", 140, 30, 170, 206.43, 280, 340, false},
	{"wide_200x150", 130, 60, 190, 142.5, 200, 150, false},
	{"odd_97x130", 165, 55, 120, 160.8, 97, 130, false},
	{"cut_left_120", 200, 60, 120, 120, 120, 120, false},
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: mkcrops OUTDIR")
		os.Exit(2)
	}
	src, err := portrait.Astronaut()
	if err != nil {
		panic(err)
	}
	if err := os.MkdirAll(os.Args[1], 0o755); err != nil {
		panic(err)
	}
	for _, c := range crops {
		img := resample(src, c)
		f, err := os.Create(filepath.Join(os.Args[1], c.name+".png"))
		if err != nil {
			panic(err)
		}
		if err := png.Encode(f, img); err != nil {
			panic(err)
		}
		if err := f.Close(); err != nil {
			panic(err)
		}
	}
}

// resample averages 4×4 point samples per output pixel (nearest source
// pixel each): a box filter good enough for making test inputs.
func resample(src image.Image, c crop) image.Image {
	var out image.Image
	rgba := image.NewRGBA(image.Rect(0, 0, c.w, c.h))
	grey := image.NewGray(image.Rect(0, 0, c.w, c.h))
	sx, sy := c.cw/float64(c.w), c.ch/float64(c.h)
	for y := 0; y < c.h; y++ {
		for x := 0; x < c.w; x++ {
			var r, g, b uint32
			for j := 0; j < 4; j++ {
				for i := 0; i < 4; i++ {
					px := int(c.x + (float64(x)+(float64(i)+0.5)/4)*sx)
					py := int(c.y + (float64(y)+(float64(j)+0.5)/4)*sy)
					cr, cg, cb, _ := src.At(px, py).RGBA()
					r, g, b = r+cr>>8, g+cg>>8, b+cb>>8
				}
			}
			col := color.RGBA{uint8((r + 8) / 16), uint8((g + 8) / 16), uint8((b + 8) / 16), 255}
			rgba.SetRGBA(x, y, col)
			grey.SetGray(x, y, color.GrayModel.Convert(col).(color.Gray))
		}
	}
	out = rgba
	if c.grey {
		out = grey
	}
	return out
}
