package raster

import (
	"fmt"
	"image"
	"image/draw"
)

// RGB is an 8-bit colour image, channels interleaved: pixel (x, y) is
// Pix[y*Stride+3*x : y*Stride+3*x+3] (R, G, B). The pretrained appearance
// models read faces in colour; the geometry works on Gray.
type RGB struct {
	W, H   int
	Stride int
	Pix    []uint8
}

// NewRGB returns a black w×h image.
func NewRGB(w, h int) *RGB {
	if w < 0 || h < 0 {
		panic(fmt.Sprintf("raster: negative size %dx%d", w, h))
	}
	return &RGB{W: w, H: h, Stride: 3 * w, Pix: make([]uint8, 3*w*h)}
}

// RGBFromImage converts any image to 8-bit RGB. Non-premultiplied colour
// (NRGBA, as PNG files store it) is taken as stored; alpha is dropped.
func RGBFromImage(img image.Image) *RGB {
	b := img.Bounds()
	out := NewRGB(b.Dx(), b.Dy())
	var pix []uint8
	var stride int
	switch src := img.(type) {
	case *image.NRGBA:
		pix, stride = src.Pix, src.Stride
	case *image.RGBA:
		pix, stride = src.Pix, src.Stride
	case *image.Gray:
		for y := 0; y < out.H; y++ {
			row := src.Pix[y*src.Stride : y*src.Stride+out.W]
			o := out.Pix[y*out.Stride:]
			for x, v := range row {
				o[3*x], o[3*x+1], o[3*x+2] = v, v, v
			}
		}
		return out
	case *image.YCbCr:
		if src.Rect.Min == (image.Point{}) {
			// A JPEG's colours as libjpeg (and so dlib, browsers,
			// Pillow) decodes them: the pixels FromImage averages.
			ycbcrRows(src, func(y int, ys, cbs, crs []uint8) {
				o := out.Pix[y*out.Stride : y*out.Stride+3*out.W]
				for x, yv := range ys {
					r, g, b := yccRGB(yv, cbs[x], crs[x])
					o[3*x], o[3*x+1], o[3*x+2] = uint8(r), uint8(g), uint8(b)
				}
			})
			return out
		}
		pix, stride = nrgba(img)
	default:
		pix, stride = nrgba(img)
	}
	for y := 0; y < out.H; y++ {
		row := pix[y*stride : y*stride+4*out.W]
		o := out.Pix[y*out.Stride : y*out.Stride+3*out.W]
		for x := 0; x < out.W; x++ {
			o[3*x], o[3*x+1], o[3*x+2] = row[4*x], row[4*x+1], row[4*x+2]
		}
	}
	return out
}

// nrgba draws img into a new NRGBA image and returns its pixels.
func nrgba(img image.Image) ([]uint8, int) {
	b := img.Bounds()
	n := image.NewNRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(n, n.Bounds(), img, b.Min, draw.Src)
	return n.Pix, n.Stride
}

// Gray converts to grey as FromImage does: dlib's mean (R+G+B)/3.
func (c *RGB) Gray() *Gray {
	g := NewGray(c.W, c.H)
	if c.Stride == 3*c.W {
		// Rows back to back: one run over the whole frame, the assembly
		// for most of it (the same values).
		n := c.W * c.H
		done := greyRun(g.Pix, c.Pix, n)
		greyGo(g.Pix[done:n], c.Pix[3*done:3*n])
		return g
	}
	for y := 0; y < c.H; y++ {
		out := g.Pix[y*g.W : (y+1)*g.W]
		row := c.Pix[y*c.Stride : y*c.Stride+3*len(out)]
		greyGo(out, row)
	}
	return g
}

// greyGo writes the grey of the RGB pixels of row into out.
func greyGo(out []float32, row []byte) {
	row = row[:3*len(out)]
	for x := range out {
		p := row[3*x : 3*x+3 : 3*x+3]
		out[x] = greyOfSum[int(p[0])+int(p[1])+int(p[2])]
	}
}

// greyOfSum maps r+g+b to dlib's grey, (r+g+b)/3 rounded down.
var greyOfSum = func() (t [3*255 + 1]float32) {
	for s := range t {
		t[s] = float32(s / 3)
	}
	return t
}()

// Image returns c as an *image.RGBA (a copy).
func (c *RGB) Image() *image.RGBA {
	out := image.NewRGBA(image.Rect(0, 0, c.W, c.H))
	for y := 0; y < c.H; y++ {
		row := c.Pix[y*c.Stride:]
		o := out.Pix[y*out.Stride:]
		for x := 0; x < c.W; x++ {
			o[4*x], o[4*x+1], o[4*x+2], o[4*x+3] = row[3*x], row[3*x+1], row[3*x+2], 255
		}
	}
	return out
}
