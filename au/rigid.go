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

// headMotion is the head's rigid motion to first order in small
// out-of-plane rotations: a similarity in the image plane plus a shift of
// each point proportional to its depth. Turning the head by a small yaw φ
// moves a point at depth z (towards the camera) sideways by about z·φ, and
// a small pitch ψ moves it vertically by z·ψ, so that the nose and the
// mouth, in front of the eye corners, shift against the jaw behind them: a
// similarity alone leaves that pattern in the residual, where it reads as
// an expression (lip corners pulled sideways, brows raised).
//
// The model is p' = A·p + t + z·(u, v) with A = [[a, −b], [b, a]], u and
// v the depth shifts in frame px per IOD of depth, fitted by weighted
// least squares; it is linear in all six parameters.
type headMotion struct {
	similarity
	u, v float64
}

// apply moves a reference point at depth z (IOD units) by the head motion.
func (h headMotion) apply(x, y, z float64) (float64, float64) {
	px, py := h.similarity.apply(x, y)
	return px + z*h.u, py + z*h.v
}

// fitHead returns the weighted least-squares head motion taking src (depths
// z, IOD units) to dst. With depths all equal it is fitSimilarity's answer.
func fitHead(src, dst [][2]float64, z, w []float64) headMotion {
	// Centre the points and depths for conditioning; the translation is
	// recovered at the end.
	var sw, sx, sy, dx, dy, sz float64
	for i := range src {
		sw += w[i]
		sx += w[i] * src[i][0]
		sy += w[i] * src[i][1]
		dx += w[i] * dst[i][0]
		dy += w[i] * dst[i][1]
		sz += w[i] * z[i]
	}
	if sw == 0 {
		return headMotion{similarity: similarity{a: 1}}
	}
	sx, sy, dx, dy, sz = sx/sw, sy/sw, dx/sw, dy/sw, sz/sw
	// Unknowns (a, b, u, v) after centring; rows:
	//   x: a·px − b·py + u·pz = qx
	//   y: b·px + a·py + v·pz = qy
	var n [4][4]float64
	var rhs [4]float64
	add := func(row [4]float64, q, wi float64) {
		for r := 0; r < 4; r++ {
			rhs[r] += wi * row[r] * q
			for c := 0; c < 4; c++ {
				n[r][c] += wi * row[r] * row[c]
			}
		}
	}
	for i := range src {
		px, py, pz := src[i][0]-sx, src[i][1]-sy, z[i]-sz
		qx, qy := dst[i][0]-dx, dst[i][1]-dy
		add([4]float64{px, -py, pz, 0}, qx, w[i])
		add([4]float64{py, px, 0, pz}, qy, w[i])
	}
	sol, ok := solve4(n, rhs)
	if !ok {
		// Depths without spread: no out-of-plane information.
		return headMotion{similarity: fitSimilarity(src, dst, w)}
	}
	a, b, u, v := sol[0], sol[1], sol[2], sol[3]
	h := headMotion{similarity: similarity{a: a, b: b}, u: u, v: v}
	h.tx = dx - (a*sx - b*sy) - u*sz
	h.ty = dy - (b*sx + a*sy) - v*sz
	return h
}

// solve4 solves n·x = r by Gaussian elimination with partial pivoting;
// ok is false for a (nearly) singular system.
func solve4(n [4][4]float64, r [4]float64) ([4]float64, bool) {
	var scale float64
	for i := 0; i < 4; i++ {
		scale = math.Max(scale, math.Abs(n[i][i]))
	}
	for c := 0; c < 4; c++ {
		p := c
		for i := c + 1; i < 4; i++ {
			if math.Abs(n[i][c]) > math.Abs(n[p][c]) {
				p = i
			}
		}
		if math.Abs(n[p][c]) <= 1e-9*scale {
			return [4]float64{}, false
		}
		n[c], n[p] = n[p], n[c]
		r[c], r[p] = r[p], r[c]
		for i := c + 1; i < 4; i++ {
			f := n[i][c] / n[c][c]
			for k := c; k < 4; k++ {
				n[i][k] -= f * n[c][k]
			}
			r[i] -= f * r[c]
		}
	}
	var x [4]float64
	for i := 3; i >= 0; i-- {
		s := r[i]
		for k := i + 1; k < 4; k++ {
			s -= n[i][k] * x[k]
		}
		x[i] = s / n[i][i]
	}
	return x, true
}

// robustHead fits, then refits with Huber weights so that one stable point
// caught by an expression does not tilt the head estimate.
func robustHead(src, dst [][2]float64, z, w []float64, huber float64) headMotion {
	m := fitHead(src, dst, z, w)
	rw := make([]float64, len(w))
	for pass := 0; pass < 4; pass++ {
		for i := range src {
			x, y := m.apply(src[i][0], src[i][1], z[i])
			r := math.Hypot(x-dst[i][0], y-dst[i][1])
			rw[i] = w[i]
			if r > huber {
				rw[i] = w[i] * huber / r
			}
		}
		m = fitHead(src, dst, z, rw)
	}
	return m
}
