//go:build !amd64 || purego

package nn

func lnForwardRows(x, a, s, y, g, b, mean, rstd []float32, lo, hi, d int, eps float32) {
	lnForwardRowsGo(x, a, s, y, g, b, mean, rstd, lo, hi, d, eps)
}

func lnBackwardRows(x, dy, res, dx, g, mean, rstd []float32, lo, hi, d int) {
	lnBackwardRowsGo(x, dy, res, dx, g, mean, rstd, lo, hi, d)
}

func lnParamGrad(x, dy, mean, rstd, gg, bg []float32, n, d, lo, hi int) {
	lnParamGradGo(x, dy, mean, rstd, gg, bg, n, d, lo, hi)
}
