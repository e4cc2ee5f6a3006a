package flow

// resizeBilinear resamples src (sw×sh) to dst (dw×dh) with bilinear
// interpolation on pixel centres (OpenCV's INTER_LINEAR mapping) and
// multiplies the result by mul (used to rescale flow vectors).
func resizeBilinear(src []float32, sw, sh int, dst []float32, dw, dh int, mul float32) {
	sx := float32(sw) / float32(dw)
	sy := float32(sh) / float32(dh)
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
		for x := range out {
			fx := (float32(x)+0.5)*sx - 0.5
			x0, ax := splitCoord(fx, sw)
			x1 := x0 + 1
			if x1 >= sw {
				x1 = sw - 1
			}
			top := r0[x0] + ax*(r0[x1]-r0[x0])
			bot := r1[x0] + ax*(r1[x1]-r1[x0])
			out[x] = (top + ay*(bot-top)) * mul
		}
	}
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

// centredGradient computes central differences of src (w×h) for rows
// [y0,y1), with one-sided halves at the borders, as OpenCV's TV-L1 does.
func centredGradient(src []float32, w, h int, dx, dy []float32, y0, y1 int) {
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

// cubic3 samples three same-sized images at (fx, fy) with bicubic
// interpolation and replicate borders, sharing the weights.
func cubic3(a, b, c []float32, w, h int, fx, fy float32) (va, vb, vc float32) {
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

func clampInt(v, n int) int {
	if v < 0 {
		return 0
	}
	if v >= n {
		return n - 1
	}
	return v
}
