package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Attention is multi-head self-attention over x [B, T, C]: a fused QKV
// projection (NAME.qkv, [3C, C], rows q then k then v as PyTorch's in_proj),
// scaled dot-product attention per head and an output projection
// (NAME.proj).
type Attention struct {
	Dim, Heads int
	QKV, Proj  *Linear
	// KeyMask, when non-nil, has one entry per (batch, token): false keys are
	// ignored (padding). Every row must keep at least one key.
	KeyMask []bool
	// Queries, when positive, makes only the first Queries tokens attend
	// (keys and values still come from every token) and the output
	// [B, Queries, C]: a last layer whose class token alone is read needs no
	// more.
	Queries int

	b, t, nq int
	qkv      *Tensor
	probs    []float32 // [B, H, T, T]
	att      *Tensor   // [B, T, C] heads concatenated
	dqkv     *Tensor
	y        *Tensor
}

// NewAttention returns a self-attention layer; dim must divide by heads.
func NewAttention(name string, dim, heads int, rng *rand.Rand) *Attention {
	if dim%heads != 0 {
		panic(fmt.Sprintf("nn: attention %s: dim %d not divisible by %d heads", name, dim, heads))
	}
	return &Attention{Dim: dim, Heads: heads,
		QKV:  NewLinear(name+".qkv", dim, 3*dim, true, rng),
		Proj: NewLinear(name+".proj", dim, dim, true, rng)}
}

// Params returns the projection parameters.
func (a *Attention) Params() []*Param { return append(a.QKV.Params(), a.Proj.Params()...) }

// Forward returns attention(x) for x [B, T, C].
func (a *Attention) Forward(x *Tensor) *Tensor {
	B, T, C := x.Shape[0], x.Shape[1], x.Shape[2]
	H, hd := a.Heads, C/a.Heads
	nq := T
	if a.Queries > 0 && a.Queries < T {
		nq = a.Queries
	}
	a.b, a.t, a.nq = B, T, nq
	qkv := a.QKV.Forward(x)
	a.qkv = qkv
	a.probs = growF(a.probs, B*H*nq*T)
	att := Ensure(&a.att, B, nq, C)
	scale := float32(1 / math.Sqrt(float64(hd)))
	mask := a.KeyMask
	parallelFor(B*H, nq*T*hd*4, func(lo, hi int) {
		for bh := lo; bh < hi; bh++ {
			b, h := bh/H, bh%H
			base := b * T * 3 * C
			q := qkv.Data[base+h*hd:]
			k := qkv.Data[base+C+h*hd:]
			v := qkv.Data[base+2*C+h*hd:]
			p := a.probs[bh*nq*T : (bh+1)*nq*T]
			gemmSerial(false, true, nq, T, hd, 1, q, 3*C, k, 3*C, 0, p, T)
			softmaxRows(p, nq, T, scale, mask, b)
			gemmSerial(false, false, nq, hd, T, 1, p, T, v, 3*C, 0, att.Data[b*nq*C+h*hd:], C)
		}
	})
	a.y = a.Proj.Forward(att)
	return a.y
}

// Backward accumulates the projection gradients and returns dx.
func (a *Attention) Backward(dy *Tensor) *Tensor {
	B, T, C, nq := a.b, a.t, a.Dim, a.nq
	H, hd := a.Heads, C/a.Heads
	datt := a.Proj.Backward(dy)
	dqkv := Ensure(&a.dqkv, B, T, 3*C)
	if nq < T {
		// Tokens that asked nothing get no query gradient.
		for b := 0; b < B; b++ {
			for t := nq; t < T; t++ {
				clear(dqkv.Data[(b*T+t)*3*C : (b*T+t)*3*C+C])
			}
		}
	}
	scale := float32(1 / math.Sqrt(float64(hd)))
	qkv := a.qkv.Data
	parallelFor(B*H, nq*T*hd*8, func(lo, hi int) {
		dpb := getFloats(nq * T)
		defer putFloats(dpb)
		dp := *dpb
		for bh := lo; bh < hi; bh++ {
			b, h := bh/H, bh%H
			base := b * T * 3 * C
			q := qkv[base+h*hd:]
			k := qkv[base+C+h*hd:]
			v := qkv[base+2*C+h*hd:]
			dq := dqkv.Data[base+h*hd:]
			dk := dqkv.Data[base+C+h*hd:]
			dv := dqkv.Data[base+2*C+h*hd:]
			p := a.probs[bh*nq*T : (bh+1)*nq*T]
			do := datt.Data[b*nq*C+h*hd:]
			// dP = dO·Vᵀ, dV = Pᵀ·dO
			gemmSerial(false, true, nq, T, hd, 1, do, C, v, 3*C, 0, dp, T)
			gemmSerial(true, false, T, hd, nq, 1, p, T, do, C, 0, dv, 3*C)
			// dS = P ⊙ (dP − rowsum(dP ⊙ P)) · scale
			softmaxBackRows(p, dp, nq, T, scale)
			// dQ = dS·K, dK = dSᵀ·Q
			gemmSerial(false, false, nq, hd, T, 1, dp, T, k, 3*C, 0, dq, 3*C)
			gemmSerial(true, false, T, hd, nq, 1, dp, T, q, 3*C, 0, dk, 3*C)
		}
	})
	return a.QKV.Backward(dqkv)
}
