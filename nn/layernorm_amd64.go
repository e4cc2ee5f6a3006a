//go:build amd64 && !purego

package nn

//go:noescape
func lnForwardAVX2(x, a, s, y, gain, b, mean, rstd *float32, rows, d int, fd, eps float32)

//go:noescape
func lnBackwardAVX2(x, dy, res, dx, gain, mean, rstd *float32, rows, d int, fd float32)

//go:noescape
func lnParamGradAVX2(x, dy, mean, rstd, gg, bg *float32, rows, d, cols int)

// lnForwardRows normalises rows [lo, hi) of x into y, keeping each row's
// mean and 1/σ; with a non-nil, it normalises s = x + a (stored in s)
// instead.
func lnForwardRows(x, a, s, y, g, b, mean, rstd []float32, lo, hi, d int, eps float32) {
	if vecAsm() && d%8 == 0 && hi > lo {
		_, _ = x[hi*d-1], y[hi*d-1]
		_, _, _, _ = g[d-1], b[d-1], mean[hi-1], rstd[hi-1]
		var ap, sp *float32
		if a != nil {
			_, _ = a[hi*d-1], s[hi*d-1]
			ap, sp = &a[lo*d], &s[lo*d]
		}
		lnForwardAVX2(&x[lo*d], ap, sp, &y[lo*d], &g[0], &b[0], &mean[lo], &rstd[lo], hi-lo, d, float32(d), eps)
		return
	}
	lnForwardRowsGo(x, a, s, y, g, b, mean, rstd, lo, hi, d, eps)
}

// lnBackwardRows writes dx for rows [lo, hi), plus res where res is not nil.
func lnBackwardRows(x, dy, res, dx, g, mean, rstd []float32, lo, hi, d int) {
	if vecAsm() && d%8 == 0 && hi > lo {
		_, _, _ = x[hi*d-1], dy[hi*d-1], dx[hi*d-1]
		_, _, _ = g[d-1], mean[hi-1], rstd[hi-1]
		var rp *float32
		if res != nil {
			_ = res[hi*d-1]
			rp = &res[lo*d]
		}
		lnBackwardAVX2(&x[lo*d], &dy[lo*d], rp, &dx[lo*d], &g[0], &mean[lo], &rstd[lo], hi-lo, d, float32(d))
		return
	}
	lnBackwardRowsGo(x, dy, res, dx, g, mean, rstd, lo, hi, d)
}

// lnParamGrad adds the gain and bias gradients of columns [lo, hi) over
// all n rows, rows in order.
func lnParamGrad(x, dy, mean, rstd, gg, bg []float32, n, d, lo, hi int) {
	if vecAsm() && n > 0 {
		if c := (hi - lo) &^ 7; c > 0 {
			_, _ = x[(n-1)*d+lo+c-1], dy[(n-1)*d+lo+c-1]
			_, _, _, _ = mean[n-1], rstd[n-1], gg[lo+c-1], bg[lo+c-1]
			lnParamGradAVX2(&x[lo], &dy[lo], &mean[0], &rstd[0], &gg[lo], &bg[lo], n, d, c)
			lo += c
		}
	}
	lnParamGradGo(x, dy, mean, rstd, gg, bg, n, d, lo, hi)
}
