package nn

import (
	"math"
	"sort"
)

// AdamW is Adam with decoupled weight decay (Loshchilov & Hutter), the update
// of PyTorch's torch.optim.AdamW. Parameters with NoDecay set are not
// decayed. Its state (moments and step count) is saved in checkpoints.
type AdamW struct {
	LR, Beta1, Beta2, Eps, WeightDecay float32
	Step                               int
	params                             []*Param
	m, v                               [][]float32
	offs                               []int // params[i] starts at offs[i] of all values
	consts                             []adamwConsts
}

// NewAdamW returns an optimiser over params with PyTorch's defaults
// (β=(0.9, 0.999), ε=1e-8).
func NewAdamW(params []*Param, lr, weightDecay float32) *AdamW {
	o := &AdamW{LR: lr, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: weightDecay, params: params}
	n := 0
	for _, p := range params {
		o.m = append(o.m, make([]float32, len(p.Data)))
		o.v = append(o.v, make([]float32, len(p.Data)))
		o.offs = append(o.offs, n)
		n += len(p.Data)
	}
	o.offs = append(o.offs, n)
	o.consts = make([]adamwConsts, len(params))
	return o
}

// Params returns the optimised parameters.
func (o *AdamW) Params() []*Param { return o.params }

// Update applies one step with the current learning rate o.LR.
func (o *AdamW) Update() {
	o.Step++
	b1, b2 := float64(o.Beta1), float64(o.Beta2)
	bc1 := float32(1 - math.Pow(b1, float64(o.Step)))
	bc2 := float32(math.Sqrt(1 - math.Pow(b2, float64(o.Step))))
	lr := o.LR
	c := adamwConsts{b1: o.Beta1, c1: 1 - o.Beta1, b2: o.Beta2, c2: 1 - o.Beta2,
		step: lr / bc1, bc2: bc2, eps: o.Eps}
	for i, p := range o.params {
		o.consts[i] = c
		o.consts[i].decay = 1
		if !p.NoDecay {
			o.consts[i].decay = 1 - lr*o.WeightDecay
		}
	}
	// One split over all parameters' values (each updated on its own, so
	// the split changes nothing): a hand-off per step, not per tensor.
	parallelFor(o.offs[len(o.params)], 16, func(lo, hi int) {
		i := sort.SearchInts(o.offs, lo+1) - 1
		for ; i < len(o.params) && o.offs[i] < hi; i++ {
			a, b := max(lo, o.offs[i])-o.offs[i], min(hi, o.offs[i+1])-o.offs[i]
			p := o.params[i]
			adamwVec(p.Data[a:b], p.Grad[a:b], o.m[i][a:b], o.v[i][a:b], &o.consts[i])
		}
	})
}

// adamwConsts are one step's constants, in the layout adamwAVX2 reads.
type adamwConsts struct {
	b1, c1, b2, c2   float32 // β1, 1−β1, β2, 1−β2
	decay, step, bc2 float32 // 1−lr·wd (or 1), lr/(1−β1^t), √(1−β2^t)
	eps              float32
}

// adamwGo is the element-wise AdamW update; the float32 conversions keep
// the compiler from fusing multiply–adds, so the AVX2 kernel's plain
// multiplies and adds give the same bits.
func adamwGo(p, g, m, v []float32, c *adamwConsts) {
	g, m, v = g[:len(p)], m[:len(p)], v[:len(p)]
	for j, gj := range g {
		m[j] = float32(c.b1*m[j]) + float32(c.c1*gj)
		v[j] = float32(c.b2*v[j]) + float32(c.c2*gj*gj)
		p[j] = float32(p[j]*c.decay) - c.step*m[j]/(sqrtf(v[j])/c.bc2+c.eps)
	}
}

// ClipGradNorm scales all gradients so that their global L2 norm is at most
// maxNorm, and returns the norm before clipping.
func ClipGradNorm(params []*Param, maxNorm float32) float32 {
	var s float64
	for _, p := range params {
		for _, g := range p.Grad {
			s += float64(g) * float64(g)
		}
	}
	norm := float32(math.Sqrt(s))
	if norm > maxNorm && norm > 0 {
		c := maxNorm / (norm + 1e-6)
		for _, p := range params {
			Scale(p.Grad, c)
		}
	}
	return norm
}

// WarmupCosine returns the learning rate at step (0-based): linear warm-up
// from 0 to base over warmup steps, then cosine decay to minLR at total.
func WarmupCosine(step, warmup, total int, base, minLR float32) float32 {
	if step < warmup {
		return base * float32(step+1) / float32(warmup)
	}
	if step >= total {
		return minLR
	}
	t := float64(step-warmup) / float64(max(1, total-warmup))
	return minLR + (base-minLR)*float32(0.5*(1+math.Cos(math.Pi*t)))
}
