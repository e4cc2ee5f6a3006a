package nn

import (
	"fmt"
	"math/rand/v2"
)

// Tensor is a dense row-major float32 array with an explicit shape. Layers
// own the tensors they return and overwrite them on the next call, so a
// caller that needs a value across calls must copy it.
type Tensor struct {
	Shape []int
	Data  []float32
}

// NewTensor returns a zero tensor of the given shape.
func NewTensor(shape ...int) *Tensor {
	return &Tensor{Shape: append([]int(nil), shape...), Data: make([]float32, numel(shape))}
}

// FromData wraps data (not copied) as a tensor of the given shape. It panics
// if the sizes disagree, which is a programming error.
func FromData(data []float32, shape ...int) *Tensor {
	if numel(shape) != len(data) {
		panic(fmt.Sprintf("nn: FromData: %d values for shape %v", len(data), shape))
	}
	return &Tensor{Shape: append([]int(nil), shape...), Data: data}
}

// Len returns the number of elements.
func (t *Tensor) Len() int { return len(t.Data) }

// Dim returns the size of the last axis.
func (t *Tensor) Dim() int { return t.Shape[len(t.Shape)-1] }

// Rows returns the number of vectors along the last axis (Len/Dim).
func (t *Tensor) Rows() int { return len(t.Data) / t.Dim() }

func numel(shape []int) int {
	n := 1
	for _, s := range shape {
		n *= s
	}
	return n
}

// Ensure returns *t resized to shape, reusing its storage when it is large
// enough; hot paths call it so that steady-state training allocates nothing.
func Ensure(t **Tensor, shape ...int) *Tensor {
	n := numel(shape)
	if *t == nil {
		*t = &Tensor{}
	}
	x := *t
	if cap(x.Data) < n {
		x.Data = make([]float32, n)
	}
	x.Data = x.Data[:n]
	x.Shape = append(x.Shape[:0], shape...)
	return x
}

// withLast returns shape with its last axis replaced by d.
func withLast(shape []int, d int) []int {
	s := append([]int(nil), shape...)
	s[len(s)-1] = d
	return s
}

// Param is a trainable tensor with its gradient. Name is the stable key used
// in checkpoints; NoDecay excludes it from AdamW weight decay.
type Param struct {
	Name    string
	Shape   []int
	Data    []float32
	Grad    []float32
	NoDecay bool
}

// NewParam returns a zero parameter of the given shape.
func NewParam(name string, shape ...int) *Param {
	n := numel(shape)
	return &Param{Name: name, Shape: append([]int(nil), shape...), Data: make([]float32, n), Grad: make([]float32, n)}
}

// Tensor returns a tensor view of the parameter's values.
func (p *Param) Tensor() *Tensor { return &Tensor{Shape: p.Shape, Data: p.Data} }

// ZeroGrad clears the gradients of ps, tensors split across workers.
func ZeroGrad(ps []*Param) {
	n := 0
	for _, p := range ps {
		n += len(p.Grad)
	}
	parallelFor(len(ps), n/max(1, len(ps)), func(lo, hi int) {
		for _, p := range ps[lo:hi] {
			clear(p.Grad)
		}
	})
}

// NewRNG returns the deterministic generator used for initialisation and
// dropout: the same seed gives the same numbers on every machine.
func NewRNG(seed uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
}

// uniformInit fills p with U(-bound, bound).
func uniformInit(p []float32, bound float64, rng *rand.Rand) {
	for i := range p {
		p[i] = float32((rng.Float64()*2 - 1) * bound)
	}
}

// normalInit fills p with N(0, std^2).
func normalInit(p []float32, std float64, rng *rand.Rand) {
	for i := range p {
		p[i] = float32(rng.NormFloat64() * std)
	}
}

// Add writes a+b into out (all the same length); the residual connection.
func Add(out, a, b []float32) {
	if len(a) < len(out) || len(b) < len(out) {
		panic("nn: Add: operands shorter than the output")
	}
	addVec(out, a, b)
}

// AddTo adds src into dst: the backward of a residual branch.
func AddTo(dst, src []float32) {
	if len(src) < len(dst) {
		panic("nn: AddTo: source shorter than the destination")
	}
	addVec(dst, dst, src)
}

// addGo is addVec's portable body (and its tail).
func addGo(dst, a, b []float32) {
	a, b = a[:len(dst)], b[:len(dst)]
	for i := range dst {
		dst[i] = a[i] + b[i]
	}
}

// mulGo is mulVec's portable body (and its tail).
func mulGo(dst, a, b []float32) {
	a, b = a[:len(dst)], b[:len(dst)]
	for i := range dst {
		dst[i] = a[i] * b[i]
	}
}

// colSumGo adds the column sums of the n rows (stride ld) of x's first
// len(dst) columns into dst, rows in order.
func colSumGo(dst, x []float32, n, ld int) {
	if len(dst) == 0 {
		return
	}
	for i := 0; i < n; i++ {
		AddTo(dst, x[i*ld:i*ld+len(dst)])
	}
}

// Scale multiplies x by s in place.
func Scale(x []float32, s float32) {
	for i := range x {
		x[i] *= s
	}
}
