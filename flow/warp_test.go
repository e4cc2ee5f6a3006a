package flow

import (
	"math"
	"math/rand"
	"testing"
)

// Reference versions of the warp's pieces, written the direct way: clamped
// taps instead of a padded image.

// refCentredGradient computes central differences of src (w×h) for rows
// [y0,y1), with one-sided halves at the borders, as OpenCV's TV-L1 does.
func refCentredGradient(src []float32, w, h int, dx, dy []float32, y0, y1 int) {
	for y := y0; y < y1; y++ {
		row := src[y*w : (y+1)*w]
		up, down := row, row
		if y > 0 {
			up = src[(y-1)*w : y*w]
		}
		if y+1 < h {
			down = src[(y+1)*w : (y+2)*w]
		}
		ox := dx[y*w : (y+1)*w]
		oy := dy[y*w : (y+1)*w]
		for x := range row {
			l, r := x-1, x+1
			if l < 0 {
				l = 0
			}
			if r >= w {
				r = w - 1
			}
			ox[x] = 0.5 * (row[r] - row[l])
			oy[x] = 0.5 * (down[x] - up[x])
		}
	}
}

// refCubic3 samples three same-sized images at (fx, fy) with bicubic
// interpolation and replicate borders, sharing the weights.
func refCubic3(a, b, c []float32, w, h int, fx, fy float32) (va, vb, vc float32) {
	xi := int(fx)
	if float32(xi) > fx {
		xi--
	}
	yi := int(fy)
	if float32(yi) > fy {
		yi--
	}
	wx0, wx1, wx2, wx3 := cubicWeights(fx - float32(xi))
	wy0, wy1, wy2, wy3 := cubicWeights(fy - float32(yi))
	if xi >= 1 && xi+2 < w && yi >= 1 && yi+2 < h {
		o := (yi-1)*w + xi - 1
		var ra, rb, rc [4]float32
		for k := 0; k < 4; k++ {
			ia := a[o : o+4 : o+4]
			ib := b[o : o+4 : o+4]
			ic := c[o : o+4 : o+4]
			ra[k] = wx0*ia[0] + wx1*ia[1] + wx2*ia[2] + wx3*ia[3]
			rb[k] = wx0*ib[0] + wx1*ib[1] + wx2*ib[2] + wx3*ib[3]
			rc[k] = wx0*ic[0] + wx1*ic[1] + wx2*ic[2] + wx3*ic[3]
			o += w
		}
		va = wy0*ra[0] + wy1*ra[1] + wy2*ra[2] + wy3*ra[3]
		vb = wy0*rb[0] + wy1*rb[1] + wy2*rb[2] + wy3*rb[3]
		vc = wy0*rc[0] + wy1*rc[1] + wy2*rc[2] + wy3*rc[3]
		return
	}
	// Near or beyond the border: clamp every tap.
	var xs, ys [4]int
	for k := 0; k < 4; k++ {
		xs[k] = clampInt(xi-1+k, w)
		ys[k] = clampInt(yi-1+k, h)
	}
	wxs := [4]float32{wx0, wx1, wx2, wx3}
	wys := [4]float32{wy0, wy1, wy2, wy3}
	for j := 0; j < 4; j++ {
		var sa, sb, sc float32
		o := ys[j] * w
		for k := 0; k < 4; k++ {
			sa += wxs[k] * a[o+xs[k]]
			sb += wxs[k] * b[o+xs[k]]
			sc += wxs[k] * c[o+xs[k]]
		}
		va += wys[j] * sa
		vb += wys[j] * sb
		vc += wys[j] * sc
	}
	return
}

func TestWarpMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewSource(11))
	for _, sz := range [][2]int{{20, 13}, {3, 3}, {64, 64}} {
		w, h := sz[0], sz[1]
		img := make([]float32, w*h)
		for i := range img {
			img[i] = float32(rng.Intn(256))
		}
		dx, dy := make([]float32, w*h), make([]float32, w*h)
		refCentredGradient(img, w, h, dx, dy, 0, h)
		pad := make([]float32, (w+padLo+padHi)*(h+padLo+padHi)*4)
		gradientPadded(img, w, h, pad, 0, h)
		padRows(pad, w, h)
		u1, u2 := make([]float32, w), make([]float32, w)
		v, vx, vy := make([]float32, w), make([]float32, w), make([]float32, w)
		for _, simd := range []bool{false, true} {
			if simd && !hasSIMD() {
				continue
			}
			for y := 0; y < h; y++ {
				for x := range u1 {
					// Mostly small motion, some far outside the image.
					u1[x] = float32(rng.NormFloat64() * 2)
					u2[x] = float32(rng.NormFloat64() * 2)
					switch rng.Intn(20) {
					case 0:
						u1[x] *= 10
					case 1:
						u2[x] = float32(math.NaN()) // must clamp, not crash
					}
				}
				if simd {
					warpRowAVX(&warpArgs{pad: &pad[0], pw: w + padLo + padHi, u1: &u1[0], u2: &u2[0],
						v: &v[0], vx: &vx[0], vy: &vy[0], w: w, y: float32(y), fw: float32(w), fh: float32(h)})
				} else {
					warpPadded(pad, w, h, y, u1, u2, v, vx, vy)
				}
				for x := range u1 {
					if u2[x] != u2[x] {
						u2[x] = -1e9 // the reference of a NaN position: clamped to -1
					}
					a, b, c := refCubic3(img, dx, dy, w, h, float32(x)+u1[x], float32(y)+u2[x])
					if abs(v[x]-a) > 1e-2 || abs(vx[x]-b) > 1e-2 || abs(vy[x]-c) > 1e-2 {
						t.Fatalf("simd=%v %dx%d (%d,%d)+(%v,%v): got (%v,%v,%v), want (%v,%v,%v)",
							simd, w, h, x, y, u1[x], u2[x], v[x], vx[x], vy[x], a, b, c)
					}
				}
			}
		}
	}
}

func abs(v float32) float32 {
	if v < 0 {
		return -v
	}
	return v
}
