package au

import (
	"math"

	"github.com/tell-project/tell/raster"
)

// Crop samples an aligned size×size face crop of frame into dst (len
// size²): the square of side 2.4·IOD around the reference face centre,
// moved with the head as last measured, so onset and apex crops of one
// event line up and their optical flow shows the expression, not the head.
func (e *Estimator) Crop(frame *raster.Gray, size int, dst []uint8) {
	var cx, cy float64
	for _, i := range []int{36, 39, 42, 45, 48, 54} {
		cx += e.refPts[i][0] / 6
		cy += e.refPts[i][1] / 6
	}
	step := 2.4 * e.iod / float64(size)
	sim := e.prev
	for v := 0; v < size; v++ {
		for u := 0; u < size; u++ {
			// Reference position along the reference face axes, then the head.
			ou := (float64(u) - float64(size)/2 + 0.5) * step
			ov := (float64(v) - float64(size)/2 + 0.5) * step
			rx := cx + ou*e.ex[0] + ov*e.ey[0]
			ry := cy + ou*e.ex[1] + ov*e.ey[1]
			x, y := sim.apply(rx, ry)
			p := frame.Bilinear(float32(x), float32(y)) + 0.5
			dst[v*size+u] = uint8(math.Max(0, math.Min(255, float64(p))))
		}
	}
}
