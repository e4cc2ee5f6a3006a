package flow

import "math"

// Strain returns the optical strain magnitude of f at every pixel,
//
//	ε = sqrt(εxx² + εyy² + 2·εxy²),  εxx = ∂u/∂x, εyy = ∂v/∂y, εxy = ½(∂u/∂y + ∂v/∂x),
//
// the Frobenius norm of the symmetric part of the flow's Jacobian (Shreve et
// al. 2011; the third channel of STSTNet's input). Derivatives are central
// differences, one-sided at the borders. Translation and rotation have zero
// strain; a linear deformation u = ax+by, v = cx+dy has
// sqrt(a² + d² + (b+c)²/2) everywhere.
func Strain(f *Field) []float32 {
	out := make([]float32, f.W*f.H)
	StrainInto(f, out)
	return out
}

// StrainInto is Strain writing into dst (length W*H), for callers that
// reuse buffers.
func StrainInto(f *Field, dst []float32) {
	w, h := f.W, f.H
	if w == 0 || h == 0 {
		return
	}
	dst = dst[:w*h]
	for y := 0; y < h; y++ {
		ya, yb, sy := y-1, y+1, float32(0.5)
		if ya < 0 {
			ya, sy = y, 1
		}
		if yb >= h {
			yb, sy = y, 1
		}
		if h == 1 {
			sy = 0
		}
		for x := 0; x < w; x++ {
			xa, xb, sx := x-1, x+1, float32(0.5)
			if xa < 0 {
				xa, sx = x, 1
			}
			if xb >= w {
				xb, sx = x, 1
			}
			if w == 1 {
				sx = 0
			}
			ux := sx * (f.U[y*w+xb] - f.U[y*w+xa])
			vx := sx * (f.V[y*w+xb] - f.V[y*w+xa])
			uy := sy * (f.U[yb*w+x] - f.U[ya*w+x])
			vy := sy * (f.V[yb*w+x] - f.V[ya*w+x])
			exy := 0.5 * (uy + vx)
			dst[y*w+x] = float32(math.Sqrt(float64(ux*ux + vy*vy + 2*exy*exy)))
		}
	}
}
