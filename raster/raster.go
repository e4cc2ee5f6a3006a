// Package raster holds the flat float32 image type that tell's vision packages
// share (face, flow, au, video), with conversions from and to image.Image.
//
// Limits: grey float32 and 8-bit RGB only; no colour management, no alpha.
//
// Pixels are stored row-major in a flat slice; intensities are on the 0..255
// scale of 8-bit images so that thresholds read the same as in OpenCV and dlib.
package raster

import (
	"fmt"
	"image"
	"image/color"
)

// Gray is a single-channel float32 image. Pixel (x, y) is Pix[y*Stride+x].
// The zero value is an empty image.
type Gray struct {
	W, H   int
	Stride int
	Pix    []float32
}

// NewGray returns a zeroed w×h image.
func NewGray(w, h int) *Gray {
	if w < 0 || h < 0 {
		panic(fmt.Sprintf("raster: negative size %dx%d", w, h))
	}
	return &Gray{W: w, H: h, Stride: w, Pix: make([]float32, w*h)}
}

// At returns pixel (x, y); coordinates outside the image are clamped to the
// border (replicate padding), as dlib and OpenCV do for lookups.
func (g *Gray) At(x, y int) float32 {
	if x < 0 {
		x = 0
	} else if x >= g.W {
		x = g.W - 1
	}
	if y < 0 {
		y = 0
	} else if y >= g.H {
		y = g.H - 1
	}
	return g.Pix[y*g.Stride+x]
}

// Bilinear samples the image at a real-valued position with bilinear
// interpolation and replicate padding.
func (g *Gray) Bilinear(x, y float32) float32 {
	x0f, y0f := floor32(x), floor32(y)
	x0, y0 := int(x0f), int(y0f)
	ax, ay := x-x0f, y-y0f
	var p00, p10, p01, p11 float32
	if uint(x0) < uint(g.W-1) && uint(y0) < uint(g.H-1) {
		// All four pixels inside: read them without At's clamping (the
		// same values, a third of the time in the crops of a video).
		i := y0*g.Stride + x0
		a := g.Pix[i : i+2 : i+2]
		b := g.Pix[i+g.Stride : i+g.Stride+2 : i+g.Stride+2]
		p00, p10, p01, p11 = a[0], a[1], b[0], b[1]
	} else {
		p00 = g.At(x0, y0)
		p10 = g.At(x0+1, y0)
		p01 = g.At(x0, y0+1)
		p11 = g.At(x0+1, y0+1)
	}
	top := p00 + ax*(p10-p00)
	bot := p01 + ax*(p11-p01)
	return top + ay*(bot-top)
}

func floor32(v float32) float32 {
	i := float32(int32(v))
	if i > v {
		i--
	}
	return i
}

// Clone returns a deep copy with a compact stride.
func (g *Gray) Clone() *Gray {
	c := NewGray(g.W, g.H)
	for y := 0; y < g.H; y++ {
		copy(c.Pix[y*c.Stride:y*c.Stride+g.W], g.Pix[y*g.Stride:y*g.Stride+g.W])
	}
	return c
}

// Image converts g to an 8-bit grey image, rounding and clamping to 0..255.
func (g *Gray) Image() *image.Gray {
	out := image.NewGray(image.Rect(0, 0, g.W, g.H))
	for y := 0; y < g.H; y++ {
		for x := 0; x < g.W; x++ {
			v := g.Pix[y*g.Stride+x] + 0.5
			if v < 0 {
				v = 0
			} else if v > 255 {
				v = 255
			}
			out.Pix[y*out.Stride+x] = uint8(v)
		}
	}
	return out
}

// ColorModel, Bounds and At make *Gray usable where an image.Image is wanted
// (encoding, drawing) without a copy.
type imageView struct{ g *Gray }

// View returns an image.Image view of g (values clamped to 0..255).
func (g *Gray) View() image.Image { return imageView{g} }

func (v imageView) ColorModel() color.Model { return color.GrayModel }
func (v imageView) Bounds() image.Rectangle { return image.Rect(0, 0, v.g.W, v.g.H) }
func (v imageView) At(x, y int) color.Color {
	f := v.g.Pix[y*v.g.Stride+x] + 0.5
	if f < 0 {
		f = 0
	} else if f > 255 {
		f = 255
	}
	return color.Gray{Y: uint8(f)}
}
