package merclip

import (
	"fmt"
	"math/rand/v2"

	"github.com/tell-project/tell/nn"
)

// TextTower is MER-CLIP's AU text encoder: [cls]+words → token embedding +
// learned position → pre-norm transformer blocks (padding masked) → the
// class token → LayerNorm → linear (no bias) → text embedding. The cnn
// family uses it for its AU-text alignment loss.
//
// Tensor names: NAME.tok, NAME.pos, NAME.block<i>, NAME.ln, NAME.proj.
type TextTower struct {
	Dim, MaxLen int

	tok    *nn.Embedding
	pos    *nn.Param
	blocks []*nn.Block
	cls    nn.Token
	ln     *nn.LayerNorm
	proj   *nn.Linear

	seq  *nn.Tensor
	mask []bool
}

// NewTextTower builds a tower of cfg's shape over vocab, projecting to
// embed values; rng initialises it (in a fixed order).
func NewTextTower(name string, cfg TextConfig, embed int, vocab *Vocab, rng *rand.Rand) *TextTower {
	T := cfg.Dim
	t := &TextTower{Dim: T, MaxLen: cfg.MaxLen}
	t.tok = nn.NewEmbedding(name+".tok", vocab.Size(), T, rng)
	normal(t.tok.W.Data, 0.02, rng)
	t.pos = nn.NewParam(name+".pos", cfg.MaxLen, T)
	normal(t.pos.Data, 0.01, rng)
	t.pos.NoDecay = true
	for i := 0; i < cfg.Layers; i++ {
		t.blocks = append(t.blocks, nn.NewBlock(fmt.Sprintf("%s.block%d", name, i), T, cfg.Heads, 4*T, rng))
	}
	if n := len(t.blocks); n > 0 {
		// Only the class token of the last block is read: its other rows'
		// attention output, MLP and norms are never computed.
		t.blocks[n-1].Queries = 1
	}
	t.ln = nn.NewLayerNorm(name+".ln", T)
	t.proj = nn.NewLinear(name+".proj", T, embed, false, rng)
	return t
}

// Params returns the tower's parameters in a stable order.
func (t *TextTower) Params() []*nn.Param {
	ps := append(t.tok.Params(), t.pos)
	for _, b := range t.blocks {
		ps = append(ps, b.Params()...)
	}
	ps = append(ps, t.ln.Params()...)
	return append(ps, t.proj.Params()...)
}

// Forward encodes n token sequences of length L (ids n×L, TokPad after the
// end; L ≤ MaxLen) to text embeddings [n, embed].
func (t *TextTower) Forward(ids []int32, n, L int) (*nn.Tensor, error) {
	if L > t.MaxLen {
		return nil, fmt.Errorf("merclip: %d tokens, the text tower takes %d", L, t.MaxLen)
	}
	T := t.Dim
	e, err := t.tok.Forward(ids, n, L)
	if err != nil {
		return nil, err
	}
	seq := nn.Ensure(&t.seq, n, L, T)
	for i := 0; i < n; i++ {
		for k := 0; k < L; k++ {
			dst := seq.Data[(i*L+k)*T : (i*L+k+1)*T]
			src := e.Data[(i*L+k)*T : (i*L+k+1)*T]
			pos := t.pos.Data[k*T : (k+1)*T]
			for j := range dst {
				dst[j] = src[j] + pos[j]
			}
		}
	}
	if cap(t.mask) < n*L {
		t.mask = make([]bool, n*L)
	}
	t.mask = t.mask[:n*L]
	for i, id := range ids {
		t.mask[i] = id != TokPad
	}
	h := seq
	for _, blk := range t.blocks {
		blk.Attn.KeyMask = t.mask
		h = blk.Forward(h)
	}
	return t.proj.Forward(t.ln.Forward(t.cls.Forward(h))), nil
}

// Backward takes the gradient of the last Forward's embeddings [n, embed]
// (sequences of length L) and accumulates the parameters' gradients.
func (t *TextTower) Backward(demb *nn.Tensor, L int) {
	dh := t.cls.Backward(t.ln.Backward(t.proj.Backward(demb)))
	for i := len(t.blocks) - 1; i >= 0; i-- {
		dh = t.blocks[i].Backward(dh)
	}
	T := t.Dim
	n := dh.Shape[0]
	for i := 0; i < n; i++ {
		nn.AddTo(t.pos.Grad[:L*T], dh.Data[i*L*T:(i+1)*L*T])
	}
	t.tok.Backward(dh)
}
