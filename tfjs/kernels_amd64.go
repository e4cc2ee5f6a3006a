//go:build amd64 && !purego

package tfjs

import (
	"math"

	"github.com/tell-project/tell/nn"
	"golang.org/x/sys/cpu"
)

//go:noescape
func addAVX(dst, a, b *float32, n int)

//go:noescape
func mulAVX(dst, a, b *float32, n int)

//go:noescape
func maxAVX(dst, a, b *float32, n int)

//go:noescape
func clampAVX(dst, src *float32, n int, lo, hi, z float32)

//go:noescape
func biasClampAVX(dst, bias *float32, rows, cols int, lo, hi, z float32)

//go:noescape
func preluAVX(dst, src, alpha *float32, n int)

//go:noescape
func biasPreluAVX(dst, bias, alpha *float32, rows, cols, bstep int)

//go:noescape
func dwRowsAVX(dst, src, w *float32, npix, c, sstep, ntap, tstep, nrow, rstep, wstep int)

//go:noescape
func dwRowsAVX512(dst, src, w *float32, npix, c, sstep, ntap, tstep, nrow, rstep, wstep int)

//go:noescape
func dwTapAVX(dst, src, w *float32, npix, c, sstep int)

// useAVX is nn's switch (AVX2 and FMA present, TELL_NN_NOASM unset), so
// one detection and one variable govern all the assembly.
var useAVX = nn.AsmAVX2()

// useAVX512 adds the 512-bit depthwise kernel where the CPU has AVX-512
// (and the assembly may run at all).
var useAVX512 = useAVX && cpu.X86.HasAVX512F

// avxLen is how many leading elements of n the element-wise AVX kernels
// take (whole blocks of 8); the Go loops do the rest.
func avxLen(n int) int {
	if useAVX {
		return n &^ 7
	}
	return 0
}

func vadd(dst, a, b []float32) {
	n := avxLen(len(dst))
	if n > 0 {
		_, _ = a[n-1], b[n-1]
		addAVX(&dst[0], &a[0], &b[0], n)
	}
	addGo(dst[n:], a[n:len(dst)], b[n:len(dst)])
}

func vmul(dst, a, b []float32) {
	n := avxLen(len(dst))
	if n > 0 {
		_, _ = a[n-1], b[n-1]
		mulAVX(&dst[0], &a[0], &b[0], n)
	}
	mulGo(dst[n:], a[n:len(dst)], b[n:len(dst)])
}

func vmax(dst, a, b []float32) {
	n := avxLen(len(dst))
	if n > 0 {
		_, _ = a[n-1], b[n-1]
		maxAVX(&dst[0], &a[0], &b[0], n)
	}
	maxGo(dst[n:], a[n:len(dst)], b[n:len(dst)])
}

// clampBounds reports whether clampAVX and biasClampAVX give Go's values
// for bounds lo and hi (neither NaN, hi not -0: every activation's are,
// 0, 6 and ±Inf), and the z they take: +0 for lo = +0, else -0.
func clampBounds(lo, hi float32) (z float32, ok bool) {
	z = float32(math.Copysign(0, -1))
	if lo == 0 && !math.Signbit(float64(lo)) {
		z = 0
	}
	return z, lo == lo && hi == hi && !(hi == 0 && math.Signbit(float64(hi)))
}

func vclamp(dst, src []float32, lo, hi float32) {
	z, ok := clampBounds(lo, hi)
	if !ok {
		clampGo(dst, src, lo, hi)
		return
	}
	n := avxLen(len(dst))
	if n > 0 {
		_ = src[n-1]
		clampAVX(&dst[0], &src[0], n, lo, hi, z)
	}
	clampGo(dst[n:], src[n:len(dst)], lo, hi)
}

func biasClamp(dst, bias []float32, rows, cols int, lo, hi float32) {
	if z, ok := clampBounds(lo, hi); ok && useAVX && cols%8 == 0 && rows > 0 && cols > 0 {
		_, _ = dst[rows*cols-1], bias[cols-1]
		biasClampAVX(&dst[0], &bias[0], rows, cols, lo, hi, z)
		return
	}
	biasClampGo(dst, bias, rows, cols, lo, hi)
}

func dwTap(dst, src, w []float32, npix, c, sstep int) {
	if npix <= 0 {
		return
	}
	if useAVX && c%8 == 0 {
		_, _, _ = dst[npix*c-1], src[(npix-1)*sstep+c-1], w[c-1]
		dwTapAVX(&dst[0], &src[0], &w[0], npix, c, sstep)
		return
	}
	dwTapGo(dst, src, w, npix, c, sstep)
}

// biasPrelu adds bias to a rows×cols matrix, the same row to every row
// (bstep 0) or row r's at bias[r*bstep:] (bstep cols: a whole tensor),
// and applies PReLU with alpha (per column) in one pass.
func biasPrelu(dst, bias, alpha []float32, rows, cols, bstep int) {
	if useAVX && cols%8 == 0 && rows > 0 && cols > 0 {
		_, _, _ = dst[rows*cols-1], bias[(rows-1)*bstep+cols-1], alpha[cols-1]
		biasPreluAVX(&dst[0], &bias[0], &alpha[0], rows, cols, bstep)
		return
	}
	biasPreluGo(dst, bias, alpha, rows, cols, bstep)
}

func vprelu(dst, src, alpha []float32) {
	n := avxLen(len(dst))
	if n > 0 {
		_, _ = src[n-1], alpha[n-1]
		preluAVX(&dst[0], &src[0], &alpha[0], n)
	}
	preluGo(dst[n:], src[n:len(dst)], alpha[n:len(dst)])
}

// dwRowFast reports whether dwRows runs in assembly for c channels (else
// depthwiseConv goes tap by tap with dwTap, as the two must agree).
func dwRowFast(c int) bool { return useAVX && c%8 == 0 }

// dwRows applies nrow kernel rows of ntap taps each to npix output pixels:
// for each row r and tap t in order,
// dst[p*c+j] += src[p*sstep+r*rstep+t*tstep+j] * w[r*wstep+t*c+j].
func dwRows(dst, src, w []float32, npix, c, sstep, ntap, tstep, nrow, rstep, wstep int) {
	if npix <= 0 || ntap <= 0 || nrow <= 0 || c <= 0 {
		return
	}
	_, _, _ = dst[npix*c-1], src[(npix-1)*sstep+(nrow-1)*rstep+(ntap-1)*tstep+c-1], w[(nrow-1)*wstep+ntap*c-1]
	if useAVX512 && c%16 == 0 {
		dwRowsAVX512(&dst[0], &src[0], &w[0], npix, c, sstep, ntap, tstep, nrow, rstep, wstep)
		return
	}
	dwRowsAVX(&dst[0], &src[0], &w[0], npix, c, sstep, ntap, tstep, nrow, rstep, wstep)
}
