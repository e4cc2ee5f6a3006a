//go:build amd64 && !purego

package nn

//go:noescape
func lnForwardAVX2(x, y, gain, b, mean, rstd *float32, rows, d int, fd, eps float32)

//go:noescape
func lnBackwardAVX2(x, dy, dx, gain, mean, rstd *float32, rows, d int, fd float32)

//go:noescape
func lnParamGradAVX2(x, dy, mean, rstd, gg, bg *float32, rows, d, cols int)

// lnForwardRows normalises rows [lo, hi) of x into y, keeping each row's
// mean and 1/σ.
func lnForwardRows(x, y, g, b, mean, rstd []float32, lo, hi, d int, eps float32) {
	if vecAsm() && d%8 == 0 && hi > lo {
		_, _ = x[hi*d-1], y[hi*d-1]
		_, _, _, _ = g[d-1], b[d-1], mean[hi-1], rstd[hi-1]
		lnForwardAVX2(&x[lo*d], &y[lo*d], &g[0], &b[0], &mean[lo], &rstd[lo], hi-lo, d, float32(d), eps)
		return
	}
	lnForwardRowsGo(x, y, g, b, mean, rstd, lo, hi, d, eps)
}

// lnBackwardRows writes dx for rows [lo, hi).
func lnBackwardRows(x, dy, dx, g, mean, rstd []float32, lo, hi, d int) {
	if vecAsm() && d%8 == 0 && hi > lo {
		_, _, _ = x[hi*d-1], dy[hi*d-1], dx[hi*d-1]
		_, _, _ = g[d-1], mean[hi-1], rstd[hi-1]
		lnBackwardAVX2(&x[lo*d], &dy[lo*d], &dx[lo*d], &g[0], &mean[lo], &rstd[lo], hi-lo, d, float32(d))
		return
	}
	lnBackwardRowsGo(x, dy, dx, g, mean, rstd, lo, hi, d)
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
