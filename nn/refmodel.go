package nn

import (
	"fmt"
	"math"
)

// RefConfig sizes the reference model. DefaultRefConfig is the model of the
// project's PyTorch peer benchmark (bench/torch_step.py).
type RefConfig struct {
	Channels, Image, Patch  int // input C×Image×Image, square patches
	Width, Heads, MLP       int
	Depth, EIMDepth         int // vision blocks, emotion-inference blocks
	Classes                 int
	Vocab, TextLen, TextDep int
	Seed                    uint64
}

// DefaultRefConfig: 3×28×28 flow images, patch 4, width 128, 4 heads, MLP
// 512, depth 4 + 2 EIM blocks, 3 classes, text vocab 512 × 16 tokens, depth 2.
func DefaultRefConfig() RefConfig {
	return RefConfig{Channels: 3, Image: 28, Patch: 4, Width: 128, Heads: 4, MLP: 512,
		Depth: 4, EIMDepth: 2, Classes: 3, Vocab: 512, TextLen: 16, TextDep: 2, Seed: 0}
}

// RefModel is the reference MER model: a ViT over flow images (class token,
// learned positions), two emotion-inference blocks with a class-token head,
// an AU-text transformer with mean pooling, and a loss of cross-entropy on
// the classes plus symmetric InfoNCE between the image class token and the
// text embedding. It is the benchmark workload and an end-to-end gradient
// test of the layers.
//
// Parameter names: patch.{weight,bias}, cls, pos, vis.N.*, eim.N.*,
// head.*, vproj.*, tok.weight, tpos, txt.N.*, tproj.*, clip.logit_scale.
type RefModel struct {
	Cfg      RefConfig
	Patch    *PatchEmbed
	Cls, Pos *Param
	Vis, EIM []*Block
	Head     *Linear
	VProj    *Linear
	Tok      *Embedding
	TPos     *Param
	Txt      []*Block
	TProj    *Linear
	CE       CrossEntropy
	NCE      *InfoNCE
	ecls     Token
	mean     MeanTokens

	tokens         int
	x0, t0         *Tensor
	dv0            *Tensor
	vc, esum, usum *Tensor
}

// NewRefModel builds the model with weights drawn from cfg.Seed.
func NewRefModel(cfg RefConfig) *RefModel {
	rng := NewRNG(cfg.Seed)
	g := cfg.Image / cfg.Patch
	m := &RefModel{Cfg: cfg, tokens: g*g + 1}
	W := cfg.Width
	m.Patch = NewPatchEmbed("patch", cfg.Channels, cfg.Patch, W, rng)
	m.Cls = NewParam("cls", 1, 1, W)
	m.Pos = NewParam("pos", 1, m.tokens, W)
	normalInit(m.Cls.Data, 0.02, rng)
	normalInit(m.Pos.Data, 0.02, rng)
	m.Cls.NoDecay, m.Pos.NoDecay = true, true
	for i := 0; i < cfg.Depth; i++ {
		m.Vis = append(m.Vis, NewBlock(fmt.Sprintf("vis.%d", i), W, cfg.Heads, cfg.MLP, rng))
	}
	for i := 0; i < cfg.EIMDepth; i++ {
		m.EIM = append(m.EIM, NewBlock(fmt.Sprintf("eim.%d", i), W, cfg.Heads, cfg.MLP, rng))
	}
	if n := len(m.EIM); n > 0 {
		// Only the class token of the last EIM block reaches the head.
		m.EIM[n-1].Queries = 1
	}
	m.Head = NewLinear("head", W, cfg.Classes, true, rng)
	m.VProj = NewLinear("vproj", W, W, true, rng)
	m.Tok = NewEmbedding("tok", cfg.Vocab, W, rng)
	m.TPos = NewParam("tpos", 1, cfg.TextLen, W)
	normalInit(m.TPos.Data, 0.02, rng)
	m.TPos.NoDecay = true
	for i := 0; i < cfg.TextDep; i++ {
		m.Txt = append(m.Txt, NewBlock(fmt.Sprintf("txt.%d", i), W, cfg.Heads, cfg.MLP, rng))
	}
	m.TProj = NewLinear("tproj", W, W, true, rng)
	m.NCE = NewInfoNCE("clip")
	m.NCE.LogScale.Data[0] = 2.659
	m.NCE.MaxLogScale = 0 // as the peer: no clamp
	return m
}

// Params returns every parameter in a stable order.
func (m *RefModel) Params() []*Param {
	ps := append([]*Param{}, m.Patch.Params()...)
	ps = append(ps, m.Cls, m.Pos)
	for _, b := range m.Vis {
		ps = append(ps, b.Params()...)
	}
	for _, b := range m.EIM {
		ps = append(ps, b.Params()...)
	}
	ps = append(ps, m.Head.Params()...)
	ps = append(ps, m.VProj.Params()...)
	ps = append(ps, m.Tok.Params()...)
	ps = append(ps, m.TPos)
	for _, b := range m.Txt {
		ps = append(ps, b.Params()...)
	}
	ps = append(ps, m.TProj.Params()...)
	return append(ps, m.NCE.Params()...)
}

// Forward computes the loss for images x [B, C, H, W], text token ids
// [B, TextLen] and class labels [B], keeping what Backward needs.
func (m *RefModel) Forward(x *Tensor, text []int32, labels []int) (float32, error) {
	B, W, T := x.Shape[0], m.Cfg.Width, m.tokens
	p, err := m.Patch.Forward(x)
	if err != nil {
		return 0, err
	}
	if p.Shape[1] != T-1 {
		return 0, fmt.Errorf("nn: reference model: %d patches, want %d", p.Shape[1], T-1)
	}
	x0 := Ensure(&m.x0, B, T, W)
	for b := 0; b < B; b++ {
		Add(x0.Data[b*T*W:b*T*W+W], m.Cls.Data, m.Pos.Data[:W])
		Add(x0.Data[b*T*W+W:(b+1)*T*W], p.Data[b*(T-1)*W:(b+1)*(T-1)*W], m.Pos.Data[W:])
	}
	// Blocks hand their output on as an unsummed pair (Block.ForwardPair);
	// it is added where something other than a block reads it.
	v, rv := x0, (*Tensor)(nil)
	for _, blk := range m.Vis {
		v, rv = blk.ForwardPair(v, rv)
	}
	e, re := v, rv
	for _, blk := range m.EIM {
		e, re = blk.ForwardPair(e, re)
	}
	logits := m.Head.Forward(m.ecls.Forward(pairSum(&m.esum, e, re)))
	lce, _, err := m.CE.Forward(logits, labels)
	if err != nil {
		return 0, err
	}
	// The projection reads the vision class tokens alone.
	vc := Ensure(&m.vc, B, W)
	for b := 0; b < B; b++ {
		if rv == nil {
			copy(vc.Data[b*W:(b+1)*W], v.Data[b*T*W:])
		} else {
			Add(vc.Data[b*W:(b+1)*W], v.Data[b*T*W:b*T*W+W], rv.Data[b*T*W:b*T*W+W])
		}
	}
	z := m.VProj.Forward(vc)
	L := m.Cfg.TextLen
	emb, err := m.Tok.Forward(text, B, L)
	if err != nil {
		return 0, err
	}
	t0 := Ensure(&m.t0, B, L, W)
	for b := 0; b < B; b++ {
		Add(t0.Data[b*L*W:(b+1)*L*W], emb.Data[b*L*W:(b+1)*L*W], m.TPos.Data)
	}
	u, ru := t0, (*Tensor)(nil)
	for _, blk := range m.Txt {
		u, ru = blk.ForwardPair(u, ru)
	}
	u = m.TProj.Forward(m.mean.Forward(pairSum(&m.usum, u, ru)))
	lnce, _, _, err := m.NCE.Forward(z, u)
	if err != nil {
		return 0, err
	}
	loss := lce + lnce
	if math.IsNaN(float64(loss)) {
		return loss, fmt.Errorf("nn: reference model: loss is NaN")
	}
	return loss, nil
}

// Backward accumulates all parameter gradients of the last Forward.
func (m *RefModel) Backward() {
	B, W, T := m.x0.Shape[0], m.Cfg.Width, m.tokens
	de := m.ecls.Backward(m.Head.Backward(m.CE.dlogits))
	for i := len(m.EIM) - 1; i >= 0; i-- {
		de = m.EIM[i].Backward(de)
	}
	// The projection reads the vision class tokens only: its gradient is
	// added to those rows of de in place (de is the first EIM block's
	// buffer, rewritten by its next Backward), not through a [B, T, W]
	// tensor of zeros and a full-size add.
	dz := m.VProj.Backward(m.NCE.da)
	for b := 0; b < B; b++ {
		AddTo(de.Data[b*T*W:b*T*W+W], dz.Data[b*W:(b+1)*W])
	}
	dv := de
	for i := len(m.Vis) - 1; i >= 0; i-- {
		dv = m.Vis[i].Backward(dv)
	}
	dp := Ensure(&m.dv0, B, T-1, W)
	for b := 0; b < B; b++ {
		AddTo(m.Cls.Grad, dv.Data[b*T*W:b*T*W+W])
		AddTo(m.Pos.Grad, dv.Data[b*T*W:(b+1)*T*W])
		copy(dp.Data[b*(T-1)*W:(b+1)*(T-1)*W], dv.Data[b*T*W+W:(b+1)*T*W])
	}
	m.Patch.Backward(dp)
	du := m.mean.Backward(m.TProj.Backward(m.NCE.db))
	for i := len(m.Txt) - 1; i >= 0; i-- {
		du = m.Txt[i].Backward(du)
	}
	L := m.Cfg.TextLen
	for b := 0; b < B; b++ {
		AddTo(m.TPos.Grad, du.Data[b*L*W:(b+1)*L*W])
	}
	m.Tok.Backward(du)
}

// pairSum returns x + r into *buf (x itself when r is nil).
func pairSum(buf **Tensor, x, r *Tensor) *Tensor {
	if r == nil {
		return x
	}
	y := Ensure(buf, x.Shape...)
	Add(y.Data, x.Data, r.Data)
	return y
}
