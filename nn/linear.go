package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
)

// Linear is y = x·Wᵀ + b over the last axis, with W stored [out, in] as in
// PyTorch. Parameters: NAME.weight, NAME.bias.
type Linear struct {
	In, Out int
	W, B    *Param

	x     *Tensor
	y, dx *Tensor
}

// NewLinear returns a Linear layer initialised like PyTorch's
// (U(-1/√in, 1/√in) for weight and bias). bias=false omits the bias.
func NewLinear(name string, in, out int, bias bool, rng *rand.Rand) *Linear {
	l := &Linear{In: in, Out: out, W: NewParam(name+".weight", out, in)}
	bound := 1 / math.Sqrt(float64(in))
	uniformInit(l.W.Data, bound, rng)
	if bias {
		l.B = NewParam(name+".bias", out)
		l.B.NoDecay = true
		uniformInit(l.B.Data, bound, rng)
	}
	return l
}

// Params returns the layer's parameters.
func (l *Linear) Params() []*Param {
	if l.B == nil {
		return []*Param{l.W}
	}
	return []*Param{l.W, l.B}
}

// Forward maps x [..., in] to y [..., out]. x is kept for Backward.
// A last axis other than In is a wiring error: Gemm would read past rows
// or mix them silently, so it panics naming the layer.
func (l *Linear) Forward(x *Tensor) *Tensor {
	if d := x.Dim(); d != l.In {
		panic(fmt.Sprintf("nn: linear %s: input width %d, want %d", strings.TrimSuffix(l.W.Name, ".weight"), d, l.In))
	}
	n := x.Rows()
	y := Ensure(&l.y, withLast(x.Shape, l.Out)...)
	if l.B != nil {
		gemmBias(false, true, n, l.Out, l.In, x.Data, l.In, l.W.Data, l.In, l.B.Data, y.Data, l.Out)
	} else {
		Gemm(false, true, n, l.Out, l.In, 1, x.Data, l.In, l.W.Data, l.In, 0, y.Data, l.Out)
	}
	l.x = x
	return y
}

// Backward accumulates dW, db from dy [..., out] and returns dx [..., in].
func (l *Linear) Backward(dy *Tensor) *Tensor {
	n := dy.Rows()
	dx := Ensure(&l.dx, l.x.Shape...)
	// dx = dy·W and dW += dyᵀ·x on one set of workers (one hand-off).
	gemmPair(gemmOp{m: n, n: l.In, k: l.Out, a: dy.Data, lda: l.Out, b: l.W.Data, ldb: l.In, c: dx.Data, ldc: l.In},
		gemmOp{transA: true, m: l.Out, n: l.In, k: n, a: dy.Data, lda: l.Out, b: l.x.Data, ldb: l.In, beta: 1, c: l.W.Grad, ldc: l.In})
	l.biasGrad(dy)
	return dx
}

// BackwardParams accumulates only the parameter gradients, for a first layer
// whose input needs no gradient.
func (l *Linear) BackwardParams(dy *Tensor) {
	n := dy.Rows()
	Gemm(true, false, l.Out, l.In, n, 1, dy.Data, l.Out, l.x.Data, l.In, 1, l.W.Grad, l.In)
	l.biasGrad(dy)
}

func (l *Linear) biasGrad(dy *Tensor) {
	if l.B != nil {
		colSum(l.B.Grad, dy.Data, dy.Rows(), l.Out)
	}
}

// colSum adds the column sums of the n×d matrix x into dst, rows in order.
func colSum(dst, x []float32, n, d int) {
	groups := (d + 7) / 8 // whole vectors per worker
	parallelFor(groups, 8*n, func(lo, hi int) {
		lo, hi = lo*8, min(hi*8, d)
		colSumVec(dst[lo:hi], x[lo:], n, d)
	})
}
