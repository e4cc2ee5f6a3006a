package nn

import (
	"fmt"
	"math"
)

// BatchNorm normalises each channel of x [B, C, ...] (NCHW or [B, C]) as
// PyTorch's BatchNorm1d/2d: in training, with the batch's mean and biased
// variance over B and the spatial axes, updating running statistics
// (momentum, unbiased variance); in evaluation, with the running statistics.
// Parameters: NAME.weight (γ, ones) and NAME.bias (β, zeros); the running
// statistics are buffers named NAME.running_mean and NAME.running_var
// (Buffers), which checkpoints must keep alongside the parameters.
type BatchNorm struct {
	C        int
	Eps      float32 // default 1e-5
	Momentum float32 // default 0.1
	Training bool
	G, B     *Param
	// RunMean and RunVar are the running statistics used in evaluation.
	RunMean, RunVar []float32

	shape  []int
	xhat   []float32
	invStd []float32
	y, dx  *Tensor
}

// NewBatchNorm returns a batch normalisation layer over c channels, in
// training mode, with PyTorch's initialisation.
func NewBatchNorm(name string, c int) *BatchNorm {
	bn := &BatchNorm{C: c, Eps: 1e-5, Momentum: 0.1, Training: true,
		G: NewParam(name+".weight", c), B: NewParam(name+".bias", c),
		RunMean: make([]float32, c), RunVar: make([]float32, c), invStd: make([]float32, c)}
	for i := range bn.G.Data {
		bn.G.Data[i] = 1
		bn.RunVar[i] = 1
	}
	bn.G.NoDecay, bn.B.NoDecay = true, true
	return bn
}

// Params returns γ and β.
func (bn *BatchNorm) Params() []*Param { return []*Param{bn.G, bn.B} }

// Buffers returns the running statistics as named tensors (views), for
// checkpoints: NAME.running_mean and NAME.running_var.
func (bn *BatchNorm) Buffers() map[string]*Tensor {
	name := bn.G.Name[:len(bn.G.Name)-len(".weight")]
	return map[string]*Tensor{
		name + ".running_mean": FromData(bn.RunMean, bn.C),
		name + ".running_var":  FromData(bn.RunVar, bn.C),
	}
}

// Forward returns the normalised tensor, the same shape as x.
func (bn *BatchNorm) Forward(x *Tensor) (*Tensor, error) {
	if len(x.Shape) < 2 || x.Shape[1] != bn.C {
		return nil, fmt.Errorf("nn: batchnorm %s: input shape %v, want [B %d ...]", bn.G.Name, x.Shape, bn.C)
	}
	B, C := x.Shape[0], bn.C
	hw := len(x.Data) / (B * C)
	n := B * hw
	if bn.Training && n < 2 {
		return nil, fmt.Errorf("nn: batchnorm %s: training needs more than one value per channel, got %v", bn.G.Name, x.Shape)
	}
	bn.shape = append(bn.shape[:0], x.Shape...)
	y := Ensure(&bn.y, x.Shape...)
	bn.xhat = growF(bn.xhat, len(x.Data))
	for c := 0; c < C; c++ {
		var mean, inv float64
		if bn.Training {
			var s float64
			for b := 0; b < B; b++ {
				for _, v := range x.Data[(b*C+c)*hw : (b*C+c+1)*hw] {
					s += float64(v)
				}
			}
			mean = s / float64(n)
			var ss float64
			for b := 0; b < B; b++ {
				for _, v := range x.Data[(b*C+c)*hw : (b*C+c+1)*hw] {
					d := float64(v) - mean
					ss += d * d
				}
			}
			v := ss / float64(n)
			inv = 1 / math.Sqrt(v+float64(bn.Eps))
			m := float64(bn.Momentum)
			bn.RunMean[c] = float32((1-m)*float64(bn.RunMean[c]) + m*mean)
			bn.RunVar[c] = float32((1-m)*float64(bn.RunVar[c]) + m*ss/float64(n-1))
		} else {
			mean = float64(bn.RunMean[c])
			inv = 1 / math.Sqrt(float64(bn.RunVar[c])+float64(bn.Eps))
		}
		bn.invStd[c] = float32(inv)
		mu, is, g, be := float32(mean), float32(inv), bn.G.Data[c], bn.B.Data[c]
		for b := 0; b < B; b++ {
			off := (b*C + c) * hw
			for i, v := range x.Data[off : off+hw] {
				h := (v - mu) * is
				bn.xhat[off+i] = h
				y.Data[off+i] = g*h + be
			}
		}
	}
	return y, nil
}

// Backward accumulates dγ, dβ from dy and returns dx. In training mode the
// gradient flows through the batch statistics, as PyTorch's.
func (bn *BatchNorm) Backward(dy *Tensor) *Tensor {
	B, C := bn.shape[0], bn.C
	hw := len(dy.Data) / (B * C)
	n := float32(B * hw)
	dx := Ensure(&bn.dx, bn.shape...)
	for c := 0; c < C; c++ {
		var sdy, sdyh float64
		for b := 0; b < B; b++ {
			off := (b*C + c) * hw
			for i, d := range dy.Data[off : off+hw] {
				sdy += float64(d)
				sdyh += float64(d) * float64(bn.xhat[off+i])
			}
		}
		bn.G.Grad[c] += float32(sdyh)
		bn.B.Grad[c] += float32(sdy)
		g, is := bn.G.Data[c], bn.invStd[c]
		if !bn.Training {
			for b := 0; b < B; b++ {
				off := (b*C + c) * hw
				for i, d := range dy.Data[off : off+hw] {
					dx.Data[off+i] = d * g * is
				}
			}
			continue
		}
		// dx = γ·invstd/n · (n·dy − Σdy − x̂·Σ(dy·x̂))
		k := g * is / n
		mdy, mdyh := float32(sdy), float32(sdyh)
		for b := 0; b < B; b++ {
			off := (b*C + c) * hw
			for i, d := range dy.Data[off : off+hw] {
				dx.Data[off+i] = k * (n*d - mdy - bn.xhat[off+i]*mdyh)
			}
		}
	}
	return dx
}
