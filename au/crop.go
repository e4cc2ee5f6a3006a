package au

import (
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
	// The per-column products, computed once (the same values as per
	// pixel: the sums below keep their order).
	ux := make([]float64, 2*size)
	for u := 0; u < size; u++ {
		ou := (float64(u) - float64(size)/2 + 0.5) * step
		ux[2*u], ux[2*u+1] = ou*e.ex[0], ou*e.ex[1]
	}
	for v := 0; v < size; v++ {
		// Reference position along the reference face axes, then the head.
		ov := (float64(v) - float64(size)/2 + 0.5) * step
		vy0, vy1 := ov*e.ey[0], ov*e.ey[1]
		row := dst[v*size : v*size+size]
		for u := range row {
			rx := cx + ux[2*u] + vy0
			ry := cy + ux[2*u+1] + vy1
			x, y := sim.apply(rx, ry)
			p := float64(frame.Bilinear(float32(x), float32(y)) + 0.5)
			switch {
			case p <= 0:
				row[u] = 0
			case p >= 255:
				row[u] = 255
			default:
				row[u] = uint8(p)
			}
		}
	}
}
