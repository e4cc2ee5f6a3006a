package nn

import "math"

// AdamW is Adam with decoupled weight decay (Loshchilov & Hutter), the update
// of PyTorch's torch.optim.AdamW. Parameters with NoDecay set are not
// decayed. Its state (moments and step count) is saved in checkpoints.
type AdamW struct {
	LR, Beta1, Beta2, Eps, WeightDecay float32
	Step                               int
	params                             []*Param
	m, v                               [][]float32
}

// NewAdamW returns an optimiser over params with PyTorch's defaults
// (β=(0.9, 0.999), ε=1e-8).
func NewAdamW(params []*Param, lr, weightDecay float32) *AdamW {
	o := &AdamW{LR: lr, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: weightDecay, params: params}
	for _, p := range params {
		o.m = append(o.m, make([]float32, len(p.Data)))
		o.v = append(o.v, make([]float32, len(p.Data)))
	}
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
	stepSize := lr / bc1
	for i, p := range o.params {
		m, v := o.m[i], o.v[i]
		decay := float32(1)
		if !p.NoDecay {
			decay = 1 - lr*o.WeightDecay
		}
		parallelFor(len(p.Data), 16, func(lo, hi int) {
			for j := lo; j < hi; j++ {
				g := p.Grad[j]
				m[j] = o.Beta1*m[j] + (1-o.Beta1)*g
				v[j] = o.Beta2*v[j] + (1-o.Beta2)*g*g
				p.Data[j] = p.Data[j]*decay - stepSize*m[j]/(sqrtf(v[j])/bc2+o.Eps)
			}
		})
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
