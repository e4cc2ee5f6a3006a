package flow

// resizeBilinear resamples src (sw×sh) to dst (dw×dh) with bilinear
// interpolation on pixel centres (OpenCV's INTER_LINEAR mapping) and
// multiplies the result by mul (used to rescale flow vectors). cols is
// scratch for the columns' taps (grown when shorter than dw): they are the
// same for every row, so they are worked out once.
func resizeBilinear(src []float32, sw, sh int, dst []float32, dw, dh int, mul float32, cols *[]colTap) {
	sx := float32(sw) / float32(dw)
	sy := float32(sh) / float32(dh)
	if cap(*cols) < dw {
		*cols = make([]colTap, dw)
	}
	taps := (*cols)[:dw]
	for x := range taps {
		fx := (float32(x)+0.5)*sx - 0.5
		x0, ax := splitCoord(fx, sw)
		x1 := x0 + 1
		if x1 >= sw {
			x1 = sw - 1
		}
		taps[x] = colTap{x0: int32(x0), x1: int32(x1), ax: ax}
	}
	for y := 0; y < dh; y++ {
		fy := (float32(y)+0.5)*sy - 0.5
		y0, ay := splitCoord(fy, sh)
		y1 := y0 + 1
		if y1 >= sh {
			y1 = sh - 1
		}
		r0 := src[y0*sw : (y0+1)*sw]
		r1 := src[y1*sw : (y1+1)*sw]
		out := dst[y*dw : (y+1)*dw]
		out = out[:len(taps)]
		for x, c := range taps {
			ax := c.ax
			top := r0[c.x0] + ax*(r0[c.x1]-r0[c.x0])
			bot := r1[c.x0] + ax*(r1[c.x1]-r1[c.x0])
			out[x] = (top + ay*(bot-top)) * mul
		}
	}
}

// colTap is one output column's source columns and weight in
// resizeBilinear.
type colTap struct {
	x0, x1 int32
	ax     float32
}

// splitCoord returns the integer cell and fraction of coordinate f clamped
// to [0, n-1].
func splitCoord(f float32, n int) (int, float32) {
	if f <= 0 {
		return 0, 0
	}
	if f >= float32(n-1) {
		return n - 1, 0
	}
	i := int(f)
	return i, f - float32(i)
}

// Warping reads I1 and its gradient from one interleaved, padded image:
// pixel (x, y) holds (I1, ∂x I1, ∂y I1, 0) at ((y+padLo)*pw + x+padLo)*4,
// with pw = w+padLo+padHi and replicated borders. Clamping a sample
// position to [-1, w] × [-1, h] then keeps every bicubic tap inside the
// padding and gives the same value as replicating the border without
// bound, so the warp needs no per-tap bounds logic.
const (
	padLo = 2
	padHi = 3
)

// gradientPadded fills rows [y0,y1) of the padded image (including their
// left and right padding) from src and its centred gradient (OpenCV's
// TV-L1 differences: halved one-sided ones at the borders).
func gradientPadded(src []float32, w, h int, pad []float32, y0, y1 int) {
	pw := w + padLo + padHi
	for y := y0; y < y1; y++ {
		row := src[y*w : (y+1)*w]
		up, down := row, row
		if y > 0 {
			up = src[(y-1)*w : y*w]
		}
		if y+1 < h {
			down = src[(y+1)*w : (y+2)*w]
		}
		o := (y + padLo) * pw * 4
		out := pad[o : o+pw*4]
		for x := range row {
			l, r := x-1, x+1
			if l < 0 {
				l = 0
			}
			if r >= w {
				r = w - 1
			}
			q := out[(x+padLo)*4 : (x+padLo)*4+4]
			q[0] = row[x]
			q[1] = 0.5 * (row[r] - row[l])
			q[2] = 0.5 * (down[x] - up[x])
			q[3] = 0
		}
		for x := 0; x < padLo; x++ {
			copy(out[x*4:x*4+4], out[padLo*4:padLo*4+4])
		}
		last := (padLo + w - 1) * 4
		for x := padLo + w; x < pw; x++ {
			copy(out[x*4:x*4+4], out[last:last+4])
		}
	}
}

// padRows replicates the first and last image rows into the padding rows.
func padRows(pad []float32, w, h int) {
	pw4 := (w + padLo + padHi) * 4
	first := pad[padLo*pw4 : (padLo+1)*pw4]
	last := pad[(padLo+h-1)*pw4 : (padLo+h)*pw4]
	for y := 0; y < padLo; y++ {
		copy(pad[y*pw4:(y+1)*pw4], first)
	}
	for y := padLo + h; y < h+padLo+padHi; y++ {
		copy(pad[y*pw4:(y+1)*pw4], last)
	}
}

// warpPadded samples the padded image at (x+u1[x], y+u2[x]) for the w
// pixels of row y with bicubic interpolation and writes I1, ∂x I1 and
// ∂y I1 there to v, vx, vy.
func warpPadded(pad []float32, w, h, y int, u1, u2, v, vx, vy []float32) {
	pw := w + padLo + padHi
	fw, fh := float32(w), float32(h)
	u2 = u2[:len(u1)]
	v = v[:len(u1)]
	vx = vx[:len(u1)]
	vy = vy[:len(u1)]
	for x := range u1 {
		// Written so that NaN clamps to -1 (as the AVX kernel's MAXSS
		// does) instead of reaching the index computation.
		fx, fy := float32(x)+u1[x], float32(y)+u2[x]
		if !(fx >= -1) {
			fx = -1
		} else if fx > fw {
			fx = fw
		}
		if !(fy >= -1) {
			fy = -1
		} else if fy > fh {
			fy = fh
		}
		xi := int(fx+2) - 2 // floor for fx >= -2
		yi := int(fy+2) - 2
		wx0, wx1, wx2, wx3 := cubicWeights(fx - float32(xi))
		wy0, wy1, wy2, wy3 := cubicWeights(fy - float32(yi))
		o := ((yi-1+padLo)*pw + xi - 1 + padLo) * 4
		var acc [3]float32
		for j, wy := range [4]float32{wy0, wy1, wy2, wy3} {
			q := pad[o : o+16 : o+16]
			for c := 0; c < 3; c++ {
				acc[c] += wy * (wx0*q[c] + wx1*q[4+c] + wx2*q[8+c] + wx3*q[12+c])
			}
			o += pw * 4
			_ = j
		}
		v[x], vx[x], vy[x] = acc[0], acc[1], acc[2]
	}
}

// cubicWeights returns Keys' cubic convolution weights (a = -0.75, as
// OpenCV's INTER_CUBIC) for taps at -1, 0, 1, 2 from the cell start, for a
// fraction t in [0,1).
func cubicWeights(t float32) (c0, c1, c2, c3 float32) {
	const a = -0.75
	s := t + 1
	c0 = ((a*s-5*a)*s+8*a)*s - 4*a
	c1 = ((a+2)*t-(a+3))*t*t + 1
	r := 1 - t
	c2 = ((a+2)*r-(a+3))*r*r + 1
	c3 = 1 - c0 - c1 - c2
	return
}

func clampInt(v, n int) int {
	if v < 0 {
		return 0
	}
	if v >= n {
		return n - 1
	}
	return v
}
