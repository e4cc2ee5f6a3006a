package cnn

import (
	"math"
	"math/rand/v2"

	"github.com/tell-project/tell/facs"
	"github.com/tell-project/tell/merclip"
	"github.com/tell-project/tell/nn"
)

// tower is the text tower's shape: the fields set, MER-CLIP's defaults for
// the rest.
func (t TextConfig) tower() merclip.TextConfig {
	d := merclip.DefaultConfig().Text
	if t.Dim > 0 {
		d.Dim = t.Dim
	}
	if t.Layers > 0 {
		d.Layers = t.Layers
	}
	if t.Heads > 0 {
		d.Heads = t.Heads
	}
	if t.MaxLen > 0 {
		d.MaxLen = t.MaxLen
	}
	return d
}

func (t TextConfig) embed() int {
	if t.EmbedDim > 0 {
		return t.EmbedDim
	}
	return merclip.DefaultConfig().EmbedDim
}

func (t TextConfig) temperature() float64 {
	if t.Temperature > 0 {
		return t.Temperature
	}
	return merclip.DefaultConfig().Loss.Temperature
}

// aligner is the AU-text alignment of TextConfig: the projection of the
// CNN's features, MER-CLIP's text tower and the InfoNCE between them. It
// lives for one Fit; its random stream (sentence templates) and its
// initialisation are its own, so the rest of training draws what it draws
// without it.
type aligner struct {
	weight float32
	vocab  *merclip.Vocab
	maxLen int
	proj   *nn.Linear // features → embedding, no bias
	text   *merclip.TextTower
	nce    *nn.InfoNCE
	rng    *rand.Rand

	ids           []int32
	rows          []int
	gather, dfeat *nn.Tensor
}

func newAligner(cfg TextConfig, feat int, seed int64, stream uint64) *aligner {
	tc := cfg.tower()
	init := nn.NewRNG(uint64(seed)*0x9e3779b97f4a7c15 + 0x74657874)
	a := &aligner{weight: float32(cfg.Weight), vocab: merclip.NewVocab(merclip.TextCorpus()), maxLen: tc.MaxLen,
		rng: rand.New(rand.NewPCG(uint64(seed), 0x74657874^stream))}
	a.proj = nn.NewLinear("align.proj", feat, cfg.embed(), false, init)
	a.text = merclip.NewTextTower("align.text", tc, cfg.embed(), a.vocab, init)
	a.nce = nn.NewInfoNCE("align")
	a.nce.LogScale.Data[0] = float32(math.Log(1 / cfg.temperature()))
	return a
}

// params are the aligner's trainable parameters.
func (a *aligner) params() []*nn.Param {
	ps := append(a.proj.Params(), a.text.Params()...)
	return append(ps, a.nce.Params()...)
}

// step computes the weighted alignment loss of a batch: flat are the
// features [B, feat], codes the rows' AU codes (as augmented). It returns
// the loss and the gradient of the features [B, feat] (nil when fewer than
// two rows have AUs: a contrast needs a pair), and accumulates the
// gradients of its own parameters.
func (a *aligner) step(flat *nn.Tensor, codes []facs.Code) (float32, *nn.Tensor, error) {
	B, F := flat.Shape[0], flat.Shape[1]
	a.rows = a.rows[:0]
	for b := 0; b < B; b++ {
		if !codes[b].Empty() {
			a.rows = append(a.rows, b)
		}
	}
	n := len(a.rows)
	if n < 2 {
		return 0, nil, nil
	}
	if cap(a.ids) < n*a.maxLen {
		a.ids = make([]int32, n*a.maxLen)
	}
	ids := a.ids[:n*a.maxLen]
	L := 0
	for r, b := range a.rows {
		L = max(L, a.vocab.Encode(facs.Sentence(codes[b], a.rng), ids[r*a.maxLen:(r+1)*a.maxLen]))
	}
	// Pack the ids to the batch's longest sentence.
	for r := 0; r < n; r++ {
		copy(ids[r*L:(r+1)*L], ids[r*a.maxLen:r*a.maxLen+L])
	}
	g := nn.Ensure(&a.gather, n, F)
	for r, b := range a.rows {
		copy(g.Data[r*F:(r+1)*F], flat.Data[b*F:(b+1)*F])
	}
	vemb := a.proj.Forward(g)
	temb, err := a.text.Forward(ids[:n*L], n, L)
	if err != nil {
		return 0, nil, err
	}
	g0 := a.nce.LogScale.Grad[0]
	loss, dv, dt, err := a.nce.Forward(vemb, temb)
	if err != nil {
		return 0, nil, err
	}
	w := a.weight
	a.nce.LogScale.Grad[0] = g0 + w*(a.nce.LogScale.Grad[0]-g0)
	nn.Scale(dv.Data, w)
	nn.Scale(dt.Data, w)
	a.text.Backward(dt, L)
	dg := a.proj.Backward(dv)
	d := nn.Ensure(&a.dfeat, B, F)
	clear(d.Data)
	for r, b := range a.rows {
		copy(d.Data[b*F:(b+1)*F], dg.Data[r*F:(r+1)*F])
	}
	return w * loss, d, nil
}
