//go:build !amd64 || purego

package tfjs

func vadd(dst, a, b []float32)                  { addGo(dst, a, b) }
func vmul(dst, a, b []float32)                  { mulGo(dst, a, b) }
func vmax(dst, a, b []float32)                  { maxGo(dst, a, b) }
func vclamp(dst, src []float32, lo, hi float32) { clampGo(dst, src, lo, hi) }
func biasClamp(dst, bias []float32, rows, cols int, lo, hi float32) {
	biasClampGo(dst, bias, rows, cols, lo, hi)
}
func dwTap(dst, src, w []float32, npix, c, sstep int) { dwTapGo(dst, src, w, npix, c, sstep) }
func vprelu(dst, src, alpha []float32)                { preluGo(dst, src, alpha) }
func biasPrelu(dst, bias, alpha []float32, rows, cols, bstep int) {
	biasPreluGo(dst, bias, alpha, rows, cols, bstep)
}

func dwRowFast(c int) bool { return false }

func dwRows(dst, src, w []float32, npix, c, sstep, ntap, tstep, nrow, rstep, wstep int) {
	panic("tfjs: dwRows without assembly")
}
