package tfjs

// Portable kernels; the amd64 build uses AVX2 versions where the CPU has
// them and these for the remainders.

func addGo(dst, a, b []float32) {
	a, b = a[:len(dst)], b[:len(dst)]
	for i := range dst {
		dst[i] = a[i] + b[i]
	}
}

func mulGo(dst, a, b []float32) {
	a, b = a[:len(dst)], b[:len(dst)]
	for i := range dst {
		dst[i] = a[i] * b[i]
	}
}

func maxGo(dst, a, b []float32) {
	a, b = a[:len(dst)], b[:len(dst)]
	for i := range dst {
		dst[i] = max(a[i], b[i])
	}
}

func clampGo(dst, src []float32, lo, hi float32) {
	src = src[:len(dst)]
	for i, v := range src {
		dst[i] = min(max(v, lo), hi)
	}
}

func biasClampGo(dst, bias []float32, rows, cols int, lo, hi float32) {
	bias = bias[:cols]
	for r := 0; r < rows; r++ {
		row := dst[r*cols : (r+1)*cols]
		for j, b := range bias {
			row[j] = min(max(row[j]+b, lo), hi)
		}
	}
}

func dwTapGo(dst, src, w []float32, npix, c, sstep int) {
	w = w[:c]
	for p := 0; p < npix; p++ {
		d := dst[p*c : p*c+c]
		s := src[p*sstep : p*sstep+c]
		for j, wv := range w {
			d[j] += s[j] * wv
		}
	}
}

// preluGo is branch-free: the sign of an activation is a coin toss, and a
// mispredicted branch per element cost more than the multiply (the same
// value: v + a·0 for v ≥ 0, 0 + a·v below).
func preluGo(dst, src, alpha []float32) {
	src, alpha = src[:len(dst)], alpha[:len(dst)]
	for i := range dst {
		v := src[i]
		dst[i] = max(v, 0) + alpha[i]*min(v, 0)
	}
}

// biasPreluGo is a bias (row r's at bias[r*bstep:]) then PReLU, per
// column, in one pass: the values of biasClampGo over (-Inf, +Inf) (or
// addGo) then preluGo.
func biasPreluGo(dst, bias, alpha []float32, rows, cols, bstep int) {
	alpha = alpha[:cols]
	for r := 0; r < rows; r++ {
		row := dst[r*cols : (r+1)*cols]
		b := bias[r*bstep : r*bstep+cols]
		for j, a := range alpha {
			v := row[j] + b[j]
			row[j] = max(v, 0) + a*min(v, 0)
		}
	}
}
