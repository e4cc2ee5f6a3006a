package nn

import (
	"math"
	"math/rand/v2"
)

// GELU is the exact (erf) Gaussian error linear unit, as PyTorch's default.
// Forward also keeps the derivative, so Backward is one multiply.
type GELU struct {
	deriv []float32
	y, dx *Tensor
}

const invSqrt2 = 0.70710678118654752
const invSqrt2Pi = 0.39894228040143268

// Forward returns GELU(x) = x·Φ(x).
func (g *GELU) Forward(x *Tensor) *Tensor {
	y := Ensure(&g.y, x.Shape...)
	g.deriv = growF(g.deriv, len(x.Data))
	parallelFor(len(x.Data), 8, func(lo, hi int) {
		geluBlock(x.Data[lo:hi], y.Data[lo:hi], g.deriv[lo:hi])
	})
	return y
}

// Backward returns dy·(Φ(x) + x·φ(x)).
func (g *GELU) Backward(dy *Tensor) *Tensor {
	dx := Ensure(&g.dx, dy.Shape...)
	parallelFor(len(dy.Data), 2, func(lo, hi int) {
		mulVec(dx.Data[lo:hi], dy.Data[lo:hi], g.deriv[lo:hi])
	})
	return dx
}

// ReLU is max(x, 0).
type ReLU struct {
	y, dx *Tensor
}

// Forward returns max(x, 0).
func (r *ReLU) Forward(x *Tensor) *Tensor {
	y := Ensure(&r.y, x.Shape...)
	for i, v := range x.Data {
		y.Data[i] = max(v, 0)
	}
	return y
}

// Backward passes dy where the output was positive.
func (r *ReLU) Backward(dy *Tensor) *Tensor {
	dx := Ensure(&r.dx, dy.Shape...)
	for i, v := range r.y.Data {
		if v > 0 {
			dx.Data[i] = dy.Data[i]
		} else {
			dx.Data[i] = 0
		}
	}
	return dx
}

// Dropout zeroes each value with probability P during training and scales
// the rest by 1/(1-P). The mask comes from its own seeded generator, so runs
// are reproducible; with Training false it is the identity.
type Dropout struct {
	P        float32
	Training bool
	rng      *rand.Rand
	mask     []float32
	y, dx    *Tensor
}

// NewDropout returns a dropout layer with drop probability p and a
// generator seeded by seed.
func NewDropout(p float32, seed uint64) *Dropout {
	return &Dropout{P: p, Training: true, rng: NewRNG(seed)}
}

// Forward applies dropout.
func (d *Dropout) Forward(x *Tensor) *Tensor {
	if !d.Training || d.P == 0 {
		d.mask = d.mask[:0]
		return x
	}
	y := Ensure(&d.y, x.Shape...)
	if cap(d.mask) < len(x.Data) {
		d.mask = make([]float32, len(x.Data))
	}
	d.mask = d.mask[:len(x.Data)]
	keep := 1 / (1 - d.P)
	for i, v := range x.Data {
		if d.rng.Float32() < d.P {
			d.mask[i] = 0
		} else {
			d.mask[i] = keep
		}
		y.Data[i] = v * d.mask[i]
	}
	return y
}

// Backward applies the same mask to dy.
func (d *Dropout) Backward(dy *Tensor) *Tensor {
	if len(d.mask) == 0 {
		return dy
	}
	dx := Ensure(&d.dx, dy.Shape...)
	for i, v := range dy.Data {
		dx.Data[i] = v * d.mask[i]
	}
	return dx
}

// sqrtf is float32 square root.
func sqrtf(x float32) float32 { return float32(math.Sqrt(float64(x))) }
