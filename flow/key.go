package flow

import (
	"image"
	"image/color"
)

// ColorWheelKey renders the key of ColorWheel's coding: a size×size disc in
// which each pixel shows the colour of a motion from the centre towards it,
// full length (maxMag) at the rim; outside the disc is transparent. Beside
// a flow image it reads as "this colour moved this way".
func ColorWheelKey(size int) *image.RGBA {
	size = max(size, 3)
	f := NewField(size, size)
	c := float32(size-1) / 2
	for y := 0; y < size; y++ {
		for x := 0; x < size; x++ {
			f.U[y*size+x] = (float32(x) - c) / c
			f.V[y*size+x] = (float32(y) - c) / c
		}
	}
	img, _ := ColorWheel(f, 1) // the field is valid by construction
	for y := 0; y < size; y++ {
		for x := 0; x < size; x++ {
			u, v := f.U[y*size+x], f.V[y*size+x]
			if u*u+v*v > 1 {
				img.SetRGBA(x, y, color.RGBA{})
			}
		}
	}
	return img
}
