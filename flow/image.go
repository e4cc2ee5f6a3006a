package flow

import (
	"fmt"
	"image"
	"image/color"
	"math"
)

// Flow images store u, v and optical strain in the R, G and B channels of
// an 8-bit RGB image, the layout of the STSTNet and HTNet data releases that
// tell's manifests accept (docs/manifest.md, column `flow`).
//
// Normalisation. With a positive scale s (EncodeImage's scale argument),
// the mapping is fixed and invertible up to quantisation:
//
//	R = 127.5 + 127.5·u/s,  G = 127.5 + 127.5·v/s,  B = 255·ε/s   (clamped to 0..255)
//
// so ±s pixels of motion span the full range. With s = 0 each channel is
// min-max normalised to 0..255 on its own, as the dataset releases do
// (cv2.normalize NORM_MINMAX): the shape of the motion is kept and its
// units are lost.

// EncodeImage encodes f and its strain (nil: computed) as a flow image with
// the normalisation above.
func EncodeImage(f *Field, strain []float32, scale float32) (*image.RGBA, error) {
	if err := f.check(); err != nil {
		return nil, err
	}
	if scale < 0 || math.IsNaN(float64(scale)) || math.IsInf(float64(scale), 0) {
		return nil, fmt.Errorf("flow: image scale %v, want >= 0", scale)
	}
	if strain == nil {
		strain = Strain(f)
	}
	if len(strain) != f.W*f.H {
		return nil, fmt.Errorf("flow: strain has %d values, want %d", len(strain), f.W*f.H)
	}
	img := image.NewRGBA(image.Rect(0, 0, f.W, f.H))
	chans := [3][]float32{f.U, f.V, strain}
	for c, vals := range chans {
		var off, mul float32
		if scale > 0 {
			if c < 2 {
				off, mul = 127.5, 127.5/scale
			} else {
				off, mul = 0, 255/scale
			}
		} else {
			lo, hi := minMax(vals)
			if hi > lo {
				mul = 255 / (hi - lo)
				off = -lo * mul
			} else if c < 2 {
				off = 127.5 // no motion at all: mid grey, as the fixed mapping would give
			}
		}
		for i, v := range vals {
			img.Pix[(i/f.W)*img.Stride+(i%f.W)*4+c] = quantise(off + mul*v)
		}
	}
	for i := 3; i < len(img.Pix); i += 4 {
		img.Pix[i] = 255
	}
	return img, nil
}

// DecodeImage reads a flow image in the layout above. With scale > 0 it
// inverts the fixed mapping and returns pixels of motion; with scale = 0
// (images min-max normalised by others, whose units are unknown) u and v are
// returned in [-1, 1] (0 at mid grey) and strain in [0, 1].
func DecodeImage(img image.Image, scale float32) (*Field, []float32, error) {
	if scale < 0 || math.IsNaN(float64(scale)) || math.IsInf(float64(scale), 0) {
		return nil, nil, fmt.Errorf("flow: image scale %v, want >= 0", scale)
	}
	b := img.Bounds()
	if b.Dx() <= 0 || b.Dy() <= 0 {
		return nil, nil, fmt.Errorf("flow: empty flow image")
	}
	s := scale
	if s == 0 {
		s = 1
	}
	f := NewField(b.Dx(), b.Dy())
	strain := make([]float32, f.W*f.H)
	for y := 0; y < f.H; y++ {
		for x := 0; x < f.W; x++ {
			c := color.NRGBAModel.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.NRGBA)
			i := y*f.W + x
			f.U[i] = (float32(c.R) - 127.5) / 127.5 * s
			f.V[i] = (float32(c.G) - 127.5) / 127.5 * s
			strain[i] = float32(c.B) / 255 * s
		}
	}
	return f, strain, nil
}

func minMax(v []float32) (lo, hi float32) {
	if len(v) == 0 {
		return 0, 0
	}
	lo, hi = v[0], v[0]
	for _, x := range v {
		lo, hi = min(lo, x), max(hi, x)
	}
	return lo, hi
}

func quantise(v float32) uint8 {
	v += 0.5
	if !(v > 0) { // also NaN
		return 0
	}
	if v >= 255 {
		return 255
	}
	return uint8(v)
}

// ColorWheel renders f with the Middlebury colour coding (Baker et al.
// 2011): hue gives the direction, saturation the length relative to maxMag
// (maxMag <= 0: the largest length in f). Zero motion is white.
func ColorWheel(f *Field, maxMag float32) (*image.RGBA, error) {
	if err := f.check(); err != nil {
		return nil, err
	}
	if maxMag <= 0 {
		for i := range f.U {
			m := float32(math.Hypot(float64(f.U[i]), float64(f.V[i])))
			if m > maxMag && !math.IsInf(float64(m), 0) {
				maxMag = m
			}
		}
		if maxMag == 0 {
			maxMag = 1
		}
	}
	wheel := colourWheel()
	n := float64(len(wheel))
	img := image.NewRGBA(image.Rect(0, 0, f.W, f.H))
	for i := range f.U {
		u, v := float64(f.U[i]/maxMag), float64(f.V[i]/maxMag)
		if math.IsNaN(u) || math.IsNaN(v) {
			u, v = 0, 0
		}
		rad := math.Hypot(u, v)
		a := math.Atan2(-v, -u) / math.Pi // -1..1
		fk := (a + 1) / 2 * (n - 1)
		k0 := int(fk)
		k1 := k0 + 1
		if k1 == len(wheel) {
			k1 = 0
		}
		t := fk - float64(k0)
		o := (i/f.W)*img.Stride + (i%f.W)*4
		for c := 0; c < 3; c++ {
			col := ((1-t)*wheel[k0][c] + t*wheel[k1][c]) / 255
			if rad <= 1 {
				col = 1 - rad*(1-col)
			} else {
				col *= 0.75 // out of range
			}
			img.Pix[o+c] = uint8(255*col + 0.5)
		}
		img.Pix[o+3] = 255
	}
	return img, nil
}

// colourWheel returns the 55 hues of the Middlebury colour wheel: red to
// yellow, green, cyan, blue, magenta and back, in steps that make nearby
// directions equally distinguishable.
func colourWheel() [][3]float64 {
	const ry, yg, gc, cb, bm, mr = 15, 6, 4, 11, 13, 6
	var w [][3]float64
	for i := 0; i < ry; i++ {
		w = append(w, [3]float64{255, 255 * float64(i) / ry, 0})
	}
	for i := 0; i < yg; i++ {
		w = append(w, [3]float64{255 - 255*float64(i)/yg, 255, 0})
	}
	for i := 0; i < gc; i++ {
		w = append(w, [3]float64{0, 255, 255 * float64(i) / gc})
	}
	for i := 0; i < cb; i++ {
		w = append(w, [3]float64{0, 255 - 255*float64(i)/cb, 255})
	}
	for i := 0; i < bm; i++ {
		w = append(w, [3]float64{255 * float64(i) / bm, 0, 255})
	}
	for i := 0; i < mr; i++ {
		w = append(w, [3]float64{255, 0, 255 - 255*float64(i)/mr})
	}
	return w
}
