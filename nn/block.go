package nn

import "math/rand/v2"

// Block is a pre-norm transformer encoder layer, as PyTorch's
// TransformerEncoderLayer(norm_first=True, activation="gelu", dropout=0):
//
//	x = x + Attn(LN1(x));  x = x + FC2(GELU(FC1(LN2(x))))
//
// Parameter names: NAME.ln1, NAME.attn.qkv, NAME.attn.proj, NAME.ln2,
// NAME.fc1, NAME.fc2 (each .weight/.bias).
type Block struct {
	LN1, LN2 *LayerNorm
	Attn     *Attention
	FC1, FC2 *Linear
	Act      GELU
	// Queries, when positive, computes the block's output for the first
	// Queries tokens only ([B, Queries, C]); see Attention.Queries.
	Queries int

	x1, y, dx *Tensor
	t         int
}

// NewBlock returns a block of width dim with the given heads and an MLP of
// hidden width mlp (4·dim in the reference model).
func NewBlock(name string, dim, heads, mlp int, rng *rand.Rand) *Block {
	return &Block{
		LN1:  NewLayerNorm(name+".ln1", dim),
		Attn: NewAttention(name+".attn", dim, heads, rng),
		LN2:  NewLayerNorm(name+".ln2", dim),
		FC1:  NewLinear(name+".fc1", dim, mlp, true, rng),
		FC2:  NewLinear(name+".fc2", mlp, dim, true, rng),
	}
}

// Params returns the block's parameters in a stable order.
func (b *Block) Params() []*Param {
	var ps []*Param
	ps = append(ps, b.LN1.Params()...)
	ps = append(ps, b.Attn.Params()...)
	ps = append(ps, b.LN2.Params()...)
	ps = append(ps, b.FC1.Params()...)
	ps = append(ps, b.FC2.Params()...)
	return ps
}

// Forward maps x [B, T, C] to the block's output of the same shape.
func (b *Block) Forward(x *Tensor) *Tensor {
	x1, m := b.ForwardPair(x, nil)
	y := Ensure(&b.y, x1.Shape...)
	Add(y.Data, x1.Data, m.Data)
	return y
}

// ForwardPair is Forward for an input given as the sum x + r (r nil: x
// alone), and it returns the output as the pair (x1, m) whose sum x1 + m
// is Forward's output. A chain of blocks hands the pair on: the next
// block's first norm adds it in the pass that normalises it, one pass over
// [B, T, C] fewer per block, with the same bits. Backward is the same for
// both forms (its dy and dx are gradients of the sums).
func (b *Block) ForwardPair(x, r *Tensor) (x1, m *Tensor) {
	b.Attn.Queries = b.Queries
	b.t = x.Shape[1]
	var h1 *Tensor
	if r != nil {
		x, h1 = b.LN1.ForwardSum(x, r)
	} else {
		h1 = b.LN1.Forward(x)
	}
	a := b.Attn.Forward(h1)
	var h *Tensor
	if nq := a.Shape[1]; nq == b.t {
		// x1 = x + a and LN2(x1) in one pass over the rows.
		x1, h = b.LN2.ForwardSum(x, a)
	} else {
		x1 = Ensure(&b.x1, a.Shape...)
		C := a.Shape[2]
		for i := 0; i < a.Shape[0]; i++ {
			Add(x1.Data[i*nq*C:(i+1)*nq*C], x.Data[i*b.t*C:(i*b.t+nq)*C], a.Data[i*nq*C:(i+1)*nq*C])
		}
		h = b.LN2.Forward(x1)
	}
	m = b.FC2.Forward(b.Act.Forward(b.FC1.Forward(h)))
	return x1, m
}

// Backward accumulates parameter gradients and returns dx.
func (b *Block) Backward(dy *Tensor) *Tensor {
	// dx1 = dy + LN2'(…): the residual gradient added in the norm's pass.
	dx1 := b.LN2.BackwardSum(b.FC1.Backward(b.Act.Backward(b.FC2.Backward(dy))), dy)
	da := b.Attn.Backward(dx1)
	nq := dy.Shape[1]
	if nq == b.t {
		return b.LN1.BackwardSum(da, dx1)
	}
	da = b.LN1.Backward(da)
	dx := Ensure(&b.dx, da.Shape...)
	C := dy.Shape[2]
	copy(dx.Data, da.Data)
	for i := 0; i < dy.Shape[0]; i++ {
		AddTo(dx.Data[i*b.t*C:(i*b.t+nq)*C], dx1.Data[i*nq*C:(i+1)*nq*C])
	}
	return dx
}
