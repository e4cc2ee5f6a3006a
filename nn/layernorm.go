package nn

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
	d := ln.Dim
	n := x.Rows()
	y := Ensure(&ln.y, x.Shape...)
	ln.mean = growF(ln.mean, n)
	ln.rstd = growF(ln.rstd, n)
	g, b := ln.G.Data, ln.B.Data
	parallelFor(n, 4*d, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			row := x.Data[i*d : (i+1)*d]
			var s float32
			for _, v := range row {
				s += v
			}
			m := s / float32(d)
			var v2 float32
			for _, v := range row {
				v2 += (v - m) * (v - m)
			}
			rs := 1 / sqrtf(v2/float32(d)+ln.Eps)
			ln.mean[i], ln.rstd[i] = m, rs
			out := y.Data[i*d : (i+1)*d]
			for j, v := range row {
				out[j] = (v-m)*rs*g[j] + b[j]
			}
		}
	})
	ln.x = x
	return y
}

// Backward accumulates dgain, dbias and returns dx.
func (ln *LayerNorm) Backward(dy *Tensor) *Tensor {
	d := ln.Dim
	n := dy.Rows()
	dx := Ensure(&ln.dx, dy.Shape...)
	g := ln.G.Data
	parallelFor(n, 6*d, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			row := ln.x.Data[i*d : (i+1)*d]
			dr := dy.Data[i*d : (i+1)*d]
			m, rs := ln.mean[i], ln.rstd[i]
			var sg, sgx float32
			for j, v := range row {
				xh := (v - m) * rs
				t := dr[j] * g[j]
				sg += t
				sgx += t * xh
			}
			sg /= float32(d)
			sgx /= float32(d)
			out := dx.Data[i*d : (i+1)*d]
			for j, v := range row {
				xh := (v - m) * rs
				out[j] = (dr[j]*g[j] - sg - xh*sgx) * rs
			}
		}
	})
	// Parameter gradients: columns split across workers, rows in order.
	gg, bg := ln.G.Grad, ln.B.Grad
	parallelFor(d, 3*n, func(lo, hi int) {
		for i := 0; i < n; i++ {
			row := ln.x.Data[i*d : (i+1)*d]
			dr := dy.Data[i*d : (i+1)*d]
			m, rs := ln.mean[i], ln.rstd[i]
			for j := lo; j < hi; j++ {
				gg[j] += dr[j] * (row[j] - m) * rs
				bg[j] += dr[j]
			}
		}
	})
	return dx
}

func growF(s []float32, n int) []float32 {
	if cap(s) < n {
		return make([]float32, n)
	}
	return s[:n]
}
