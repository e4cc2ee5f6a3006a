package au

import "math"

// similarity is x' = s·R(θ)·x + t, stored as a = s cosθ, b = s sinθ.
type similarity struct{ a, b, tx, ty float64 }

func (m similarity) apply(x, y float64) (float64, float64) {
	return m.a*x - m.b*y + m.tx, m.b*x + m.a*y + m.ty
}

func (m similarity) scale() float64 { return math.Hypot(m.a, m.b) }

// fitSimilarity returns the weighted least-squares similarity taking src to
// dst (Umeyama without reflection, closed form for 2-D).
func fitSimilarity(src, dst [][2]float64, w []float64) similarity {
	var sw, sx, sy, dx, dy float64
	for i := range src {
		sw += w[i]
		sx += w[i] * src[i][0]
		sy += w[i] * src[i][1]
		dx += w[i] * dst[i][0]
		dy += w[i] * dst[i][1]
	}
	if sw == 0 {
		return similarity{a: 1}
	}
	sx, sy, dx, dy = sx/sw, sy/sw, dx/sw, dy/sw
	var num1, num2, den float64
	for i := range src {
		px, py := src[i][0]-sx, src[i][1]-sy
		qx, qy := dst[i][0]-dx, dst[i][1]-dy
		num1 += w[i] * (px*qx + py*qy)
		num2 += w[i] * (px*qy - py*qx)
		den += w[i] * (px*px + py*py)
	}
	if den == 0 {
		return similarity{a: 1, tx: dx - sx, ty: dy - sy}
	}
	a, b := num1/den, num2/den
	return similarity{a: a, b: b, tx: dx - (a*sx - b*sy), ty: dy - (b*sx + a*sy)}
}

// robustSimilarity fits, then refits with Huber weights so that one stable
// point caught by an expression does not tilt the head estimate.
func robustSimilarity(src, dst [][2]float64, w []float64, huber float64) similarity {
	m := fitSimilarity(src, dst, w)
	rw := make([]float64, len(w))
	for pass := 0; pass < 4; pass++ {
		for i := range src {
			x, y := m.apply(src[i][0], src[i][1])
			r := math.Hypot(x-dst[i][0], y-dst[i][1])
			rw[i] = w[i]
			if r > huber {
				rw[i] = w[i] * huber / r
			}
		}
		m = fitSimilarity(src, dst, rw)
	}
	return m
}
