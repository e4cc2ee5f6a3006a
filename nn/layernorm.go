package nn

import "fmt"

// LayerNorm normalises the last axis to zero mean and unit variance
// (eps 1e-5, biased variance, as PyTorch) and applies gain and bias.
// Parameters: NAME.weight (gain, initialised to 1), NAME.bias.
type LayerNorm struct {
	Dim   int
	Eps   float32
	G, B  *Param
	x     *Tensor
	mean  []float32
	rstd  []float32
	sum   *Tensor // ForwardSum's x + a
	y, dx *Tensor
}

// NewLayerNorm returns a LayerNorm over vectors of length dim.
func NewLayerNorm(name string, dim int) *LayerNorm {
	ln := &LayerNorm{Dim: dim, Eps: 1e-5, G: NewParam(name+".weight", dim), B: NewParam(name+".bias", dim)}
	for i := range ln.G.Data {
		ln.G.Data[i] = 1
	}
	ln.G.NoDecay, ln.B.NoDecay = true, true
	return ln
}

// Params returns gain and bias.
func (ln *LayerNorm) Params() []*Param { return []*Param{ln.G, ln.B} }

// Forward normalises each row of x.
func (ln *LayerNorm) Forward(x *Tensor) *Tensor {
	return ln.forward(x, nil)
}

// ForwardSum returns s = x + a (a residual connection; owned by the layer
// like y) and y = LayerNorm(s), in one pass over the rows: the pre-norm
// transformer's x + Attn(·) followed by its second norm.
func (ln *LayerNorm) ForwardSum(x, a *Tensor) (s, y *Tensor) {
	if len(a.Data) != len(x.Data) {
		panic(fmt.Sprintf("nn: layernorm: residual of %d values for %d", len(a.Data), len(x.Data)))
	}
	s = Ensure(&ln.sum, x.Shape...)
	return s, ln.forward(x, a)
}

func (ln *LayerNorm) forward(x, a *Tensor) *Tensor {
	d := ln.Dim
	n := x.Rows()
	y := Ensure(&ln.y, x.Shape...)
	ln.mean = growF(ln.mean, n)
	ln.rstd = growF(ln.rstd, n)
	var ad, sd []float32
	ln.x = x
	if a != nil {
		ad, sd = a.Data, ln.sum.Data
		ln.x = ln.sum
	}
	parallelFor(n, 4*d, func(lo, hi int) {
		lnForwardRows(x.Data, ad, sd, y.Data, ln.G.Data, ln.B.Data, ln.mean, ln.rstd, lo, hi, d, ln.Eps)
	})
	return y
}

// Backward accumulates dgain, dbias and returns dx.
func (ln *LayerNorm) Backward(dy *Tensor) *Tensor { return ln.backward(dy, nil) }

// BackwardSum is Backward returning dx + res: the gradient of a residual
// stream that also flows around the norm, in the same pass.
func (ln *LayerNorm) BackwardSum(dy, res *Tensor) *Tensor {
	if len(res.Data) != len(dy.Data) {
		panic(fmt.Sprintf("nn: layernorm: residual gradient of %d values for %d", len(res.Data), len(dy.Data)))
	}
	return ln.backward(dy, res)
}

func (ln *LayerNorm) backward(dy, res *Tensor) *Tensor {
	d := ln.Dim
	n := dy.Rows()
	dx := Ensure(&ln.dx, dy.Shape...)
	var rd []float32
	if res != nil {
		rd = res.Data
	}
	parallelFor(n, 6*d, func(lo, hi int) {
		lnBackwardRows(ln.x.Data, dy.Data, rd, dx.Data, ln.G.Data, ln.mean, ln.rstd, lo, hi, d)
	})
	// Parameter gradients: groups of 32 columns (two cache lines of a
	// row) split across workers, rows in order.
	groups := (d + 31) / 32
	parallelFor(groups, 3*32*n, func(lo, hi int) {
		lnParamGrad(ln.x.Data, dy.Data, ln.mean, ln.rstd, ln.G.Grad, ln.B.Grad, n, d, lo*32, min(hi*32, d))
	})
	return dx
}

// The row sums of LayerNorm run in eight lanes, as the AVX2 kernels
// (layernorm_amd64.s) add them: lane l sums the values at j ≡ l (mod 8) in
// order, lanes combine as lnHsum, and the d mod 8 values past the last full
// lane group follow one by one. Every other operation is element-wise, in
// the kernels' order with no fused multiply–add (the float32 conversions
// keep the compiler from fusing), so both give the same bits.

// lnHsum combines eight lane sums as ((s0+s4)+(s2+s6)) + ((s1+s5)+(s3+s7)).
func lnHsum(s *[8]float32) float32 {
	return ((s[0] + s[4]) + (s[2] + s[6])) + ((s[1] + s[5]) + (s[3] + s[7]))
}

func lnForwardRowsGo(x, a, s, y, g, b, mean, rstd []float32, lo, hi, d int, eps float32) {
	fd := float32(d)
	d8 := d &^ 7
	for i := lo; i < hi; i++ {
		row := x[i*d : (i+1)*d]
		if a != nil {
			sr := s[i*d : (i+1)*d]
			for j, v := range row {
				sr[j] = v + a[i*d+j]
			}
			row = sr
		}
		var acc [8]float32
		for j := 0; j < d8; j += 8 {
			for l := range acc {
				acc[l] += row[j+l]
			}
		}
		sum := lnHsum(&acc)
		for _, v := range row[d8:] {
			sum += v
		}
		m := sum / fd
		acc = [8]float32{}
		for j := 0; j < d8; j += 8 {
			for l := range acc {
				c := row[j+l] - m
				acc[l] += float32(c * c)
			}
		}
		v2 := lnHsum(&acc)
		for _, v := range row[d8:] {
			c := v - m
			v2 += float32(c * c)
		}
		rs := 1 / sqrtf(v2/fd+eps)
		mean[i], rstd[i] = m, rs
		out := y[i*d : (i+1)*d]
		for j, v := range row {
			out[j] = float32((v-m)*rs*g[j]) + b[j]
		}
	}
}

func lnBackwardRowsGo(x, dy, res, dx, g, mean, rstd []float32, lo, hi, d int) {
	fd := float32(d)
	d8 := d &^ 7
	for i := lo; i < hi; i++ {
		row := x[i*d : (i+1)*d]
		dr := dy[i*d : (i+1)*d]
		m, rs := mean[i], rstd[i]
		var s1, s2 [8]float32
		for j := 0; j < d8; j += 8 {
			for l := range s1 {
				xh := (row[j+l] - m) * rs
				t := dr[j+l] * g[j+l]
				s1[l] += t
				s2[l] += float32(t * xh)
			}
		}
		sg, sgx := lnHsum(&s1), lnHsum(&s2)
		for j := d8; j < d; j++ {
			xh := (row[j] - m) * rs
			t := dr[j] * g[j]
			sg += t
			sgx += float32(t * xh)
		}
		sg /= fd
		sgx /= fd
		out := dx[i*d : (i+1)*d]
		for j, v := range row {
			xh := (v - m) * rs
			out[j] = (float32(dr[j]*g[j]) - sg - float32(xh*sgx)) * rs
		}
		if res != nil {
			addVec(out, out, res[i*d:(i+1)*d])
		}
	}
}

func lnParamGradGo(x, dy, mean, rstd, gg, bg []float32, n, d, lo, hi int) {
	for i := 0; i < n; i++ {
		row := x[i*d : (i+1)*d]
		dr := dy[i*d : (i+1)*d]
		m, rs := mean[i], rstd[i]
		for j := lo; j < hi; j++ {
			gg[j] += float32(dr[j] * (row[j] - m) * rs)
			bg[j] += dr[j]
		}
	}
}

func growF(s []float32, n int) []float32 {
	if cap(s) < n {
		return make([]float32, n)
	}
	return s[:n]
}
