package merclip

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/tell-project/tell/model"
	"github.com/tell-project/tell/nn"
)

// Model is the MER-CLIP network:
//
//	visual: patches → linear → [cls]+tokens + position → pre-norm blocks
//	        cls → LayerNorm → linear → visual embedding (for InfoNCE)
//	EIM:    all tokens → linear + LayerNorm → blocks; after each block
//	        cls → LayerNorm → dropout → linear → scores; scores averaged
//	        (without EIM: cls → LayerNorm → linear → scores)
//	text:   [cls]+words → embedding + position → pre-norm blocks (padding
//	        masked) → cls → LayerNorm → linear → text embedding
//
// Tensor names in checkpoints are the layer names below ("visual.patch",
// "visual.block0", "eim.head1", "text.tok", ...), each with .weight/.bias.
type Model struct {
	Cfg  Config
	Seed int64
	model.Info
	Vocab *Vocab
	// Mean and Std normalise each input channel; they are fitted on the
	// training side of a fold only.
	Mean, Std []float32

	patches, tokens int // patches per image; tokens = patches + 1

	patch   *nn.Linear
	cls     *nn.Param
	pos     *nn.Param
	vblocks []*nn.Block
	vtok    nn.Token
	vln     *nn.LayerNorm
	vproj   *nn.Linear
	head    *nn.Linear // without EIM

	eimIn     *nn.Linear
	eimLN     *nn.LayerNorm
	eimBlocks []*nn.Block
	eimTok    []nn.Token
	eimHeadLN []*nn.LayerNorm
	eimDrop   []*nn.Dropout
	eimHead   []*nn.Linear

	text  *TextTower // nil without the contrastive loss
	nce   *nn.InfoNCE
	focal nn.Focal

	// scratch reused across steps
	xbuf, seq, dseq, pbuf *nn.Tensor
	logits, dlog          *nn.Tensor
	vcls                  *nn.Tensor // LayerNorm of the visual class token
	gather, dfull         *nn.Tensor
}

// NewModel builds a freshly initialised model for the input and classes of
// info; seed initialises the weights.
func NewModel(cfg Config, seed int64, info model.Info, vocab *Vocab) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("merclip: config: %w", err)
	}
	if len(info.Classes) < 1 {
		return nil, fmt.Errorf("merclip: no classes")
	}
	l := info.Layout
	if l.H != l.W || l.W%cfg.Visual.Patch != 0 {
		return nil, fmt.Errorf("merclip: visual.patch %d does not divide the %dx%d input", cfg.Visual.Patch, l.W, l.H)
	}
	info.Classes = append([]string(nil), info.Classes...)
	m := &Model{Cfg: cfg, Seed: seed, Info: info, Vocab: vocab}
	classes := info.Classes
	m.Mean = make([]float32, l.Channels)
	m.Std = make([]float32, l.Channels)
	for i := range m.Std {
		m.Std[i] = 1
	}
	rng := nn.NewRNG(uint64(seed))
	p := cfg.Visual.Patch
	g := l.W / p
	m.patches, m.tokens = g*g, g*g+1
	D, K := cfg.Visual.Dim, len(classes)
	m.patch = nn.NewLinear("visual.patch", l.Channels*p*p, D, true, rng)
	m.cls = nn.NewParam("visual.cls", D)
	m.pos = nn.NewParam("visual.pos", m.tokens, D)
	normal(m.cls.Data, 0.02, rng)
	normal(m.pos.Data, 0.02, rng)
	m.cls.NoDecay, m.pos.NoDecay = true, true
	for i := 0; i < cfg.Visual.Layers; i++ {
		m.vblocks = append(m.vblocks, nn.NewBlock(fmt.Sprintf("visual.block%d", i), D, cfg.Visual.Heads, cfg.Visual.MLP*D, rng))
	}
	m.vln = nn.NewLayerNorm("visual.ln", D)
	if cfg.Loss.Contrastive {
		m.vproj = nn.NewLinear("visual.proj", D, cfg.EmbedDim, false, rng)
	}
	if cfg.EIM.Enabled {
		E := cfg.EIM.Dim
		m.eimIn = nn.NewLinear("eim.in", D, E, true, rng)
		m.eimLN = nn.NewLayerNorm("eim.ln", E)
		for i := 0; i < cfg.EIM.Layers; i++ {
			m.eimBlocks = append(m.eimBlocks, nn.NewBlock(fmt.Sprintf("eim.block%d", i), E, cfg.EIM.Heads, 4*E, rng))
			m.eimHeadLN = append(m.eimHeadLN, nn.NewLayerNorm(fmt.Sprintf("eim.head%d.ln", i), E))
			m.eimDrop = append(m.eimDrop, nn.NewDropout(float32(cfg.EIM.Dropout), uint64(seed)*1000003+uint64(i)))
			m.eimHead = append(m.eimHead, nn.NewLinear(fmt.Sprintf("eim.head%d", i), E, K, true, rng))
		}
		m.eimTok = make([]nn.Token, cfg.EIM.Layers)
		// The last EIM block's class token alone reaches a head.
		m.eimBlocks[len(m.eimBlocks)-1].Queries = 1
	} else {
		m.head = nn.NewLinear("head", D, K, true, rng)
		// Without the EIM only the visual class token is read (head and
		// projection): the last visual block computes no other row.
		if n := len(m.vblocks); n > 0 {
			m.vblocks[n-1].Queries = 1
		}
	}
	if cfg.Loss.Contrastive {
		if vocab == nil {
			return nil, fmt.Errorf("merclip: contrastive loss needs a vocabulary")
		}
		m.text = NewTextTower("text", cfg.Text, cfg.EmbedDim, vocab, rng)
		m.nce = nn.NewInfoNCE("loss")
		m.nce.LogScale.Data[0] = float32(math.Log(1 / cfg.Loss.Temperature))
	}
	m.focal.Gamma = float32(cfg.Loss.FocalGamma)
	return m, nil
}

func normal(p []float32, std float64, rng *rand.Rand) {
	for i := range p {
		p[i] = float32(rng.NormFloat64() * std)
	}
}

// VisualParams returns the parameters of the visual encoder and the
// classifier (everything but the text tower), in a stable order.
func (m *Model) VisualParams() []*nn.Param {
	ps := append(m.patch.Params(), m.cls, m.pos)
	for _, b := range m.vblocks {
		ps = append(ps, b.Params()...)
	}
	ps = append(ps, m.vln.Params()...)
	if m.vproj != nil {
		ps = append(ps, m.vproj.Params()...)
	}
	if m.head != nil {
		ps = append(ps, m.head.Params()...)
	}
	if m.eimIn != nil {
		ps = append(ps, m.eimIn.Params()...)
		ps = append(ps, m.eimLN.Params()...)
		for i := range m.eimBlocks {
			ps = append(ps, m.eimBlocks[i].Params()...)
			ps = append(ps, m.eimHeadLN[i].Params()...)
			ps = append(ps, m.eimHead[i].Params()...)
		}
	}
	return ps
}

// TextParams returns the text tower's parameters.
func (m *Model) TextParams() []*nn.Param {
	if m.text == nil {
		return nil
	}
	return m.text.Params()
}

// Params returns every parameter (checkpoint order).
func (m *Model) Params() []*nn.Param {
	ps := m.VisualParams()
	ps = append(ps, m.TextParams()...)
	if m.nce != nil {
		ps = append(ps, m.nce.Params()...)
	}
	return ps
}

// setTraining switches dropout.
func (m *Model) setTraining(on bool) {
	for _, d := range m.eimDrop {
		d.Training = on
	}
}

// forwardVisual runs the visual encoder and classifier on a batch x
// (B×Layout.Len(), already normalised) and returns the class scores [B, K].
func (m *Model) forwardVisual(x []float32, B int) *nn.Tensor {
	l := m.Layout
	p := m.Cfg.Visual.Patch
	g := l.W / p
	pd := l.Channels * p * p
	D := m.Cfg.Visual.Dim
	pt := nn.Ensure(&m.pbuf, B, m.patches, pd)
	plane := l.H * l.W
	for b := 0; b < B; b++ {
		img := x[b*l.Len() : (b+1)*l.Len()]
		for py := 0; py < g; py++ {
			for px := 0; px < g; px++ {
				dst := pt.Data[((b*m.patches)+py*g+px)*pd:]
				k := 0
				for c := 0; c < l.Channels; c++ {
					for y := 0; y < p; y++ {
						src := img[c*plane+(py*p+y)*l.W+px*p:]
						copy(dst[k:k+p], src[:p])
						k += p
					}
				}
			}
		}
	}
	e := m.patch.Forward(pt)
	seq := nn.Ensure(&m.seq, B, m.tokens, D)
	for b := 0; b < B; b++ {
		row := seq.Data[b*m.tokens*D:]
		for j := 0; j < D; j++ {
			row[j] = m.cls.Data[j] + m.pos.Data[j]
		}
		copy(row[D:m.tokens*D], e.Data[b*m.patches*D:(b+1)*m.patches*D])
		for j := D; j < m.tokens*D; j++ {
			row[j] += m.pos.Data[j]
		}
	}
	h := seq
	for _, blk := range m.vblocks {
		h = blk.Forward(h)
	}
	if m.vproj != nil || m.head != nil {
		m.vcls = m.vln.Forward(m.vtok.Forward(h))
	}
	if m.head != nil {
		return m.head.Forward(m.vcls)
	}
	z := m.eimLN.Forward(m.eimIn.Forward(h))
	K := len(m.Classes)
	sc := nn.Ensure(&m.logits, B, K)
	clear(sc.Data)
	inv := 1 / float32(len(m.eimBlocks))
	for i, blk := range m.eimBlocks {
		z = blk.Forward(z)
		s := m.eimHead[i].Forward(m.eimDrop[i].Forward(m.eimHeadLN[i].Forward(m.eimTok[i].Forward(z))))
		for j, v := range s.Data {
			sc.Data[j] += v * inv
		}
	}
	return sc
}

// backwardVisual takes d scores [B, K] and d visual embedding [B, E] (either
// may be nil) and accumulates parameter gradients.
func (m *Model) backwardVisual(dscores *nn.Tensor, dvemb *nn.Tensor) {
	var dh, dc *nn.Tensor
	if dvemb != nil {
		dc = m.vproj.Backward(dvemb)
	}
	if dscores != nil && m.head != nil {
		d := m.head.Backward(dscores)
		if dc == nil {
			dc = d
		} else {
			nn.AddTo(dc.Data, d.Data)
		}
	}
	if dc != nil {
		dh = m.vtok.Backward(m.vln.Backward(dc))
	}
	if dscores != nil && m.head == nil {
		{
			L := len(m.eimBlocks)
			ds := nn.Ensure(&m.dlog, dscores.Shape...)
			inv := 1 / float32(L)
			for j, v := range dscores.Data {
				ds.Data[j] = v * inv
			}
			var dz *nn.Tensor
			for i := L - 1; i >= 0; i-- {
				dt := m.eimTok[i].Backward(m.eimHeadLN[i].Backward(m.eimDrop[i].Backward(m.eimHead[i].Backward(ds))))
				if dz != nil {
					nn.AddTo(dt.Data, dz.Data)
				}
				dz = m.eimBlocks[i].Backward(dt)
			}
			de := m.eimIn.Backward(m.eimLN.Backward(dz))
			if dh == nil {
				dh = de
			} else {
				nn.AddTo(dh.Data, de.Data)
			}
		}
	}
	if dh == nil {
		return
	}
	for i := len(m.vblocks) - 1; i >= 0; i-- {
		dh = m.vblocks[i].Backward(dh)
	}
	B, D := dh.Shape[0], m.Cfg.Visual.Dim
	for b := 0; b < B; b++ {
		row := dh.Data[b*m.tokens*D : (b+1)*m.tokens*D]
		nn.AddTo(m.cls.Grad, row[:D])
		nn.AddTo(m.pos.Grad, row)
	}
	de := nn.Ensure(&m.dseq, B, m.patches, D)
	for b := 0; b < B; b++ {
		copy(de.Data[b*m.patches*D:(b+1)*m.patches*D], dh.Data[(b*m.tokens+1)*D:(b+1)*m.tokens*D])
	}
	m.patch.BackwardParams(de)
}

// Predict returns class scores [n, K] for n inputs (each Layout.Len() values,
// not normalised) in batches.
func (m *Model) Predict(xs [][]float32) [][]float32 {
	m.setTraining(false)
	const bs = 64
	out := make([][]float32, len(xs))
	K := len(m.Classes)
	for lo := 0; lo < len(xs); lo += bs {
		hi := min(lo+bs, len(xs))
		x := m.normalise(xs[lo:hi])
		sc := m.forwardVisual(x, hi-lo)
		for i := lo; i < hi; i++ {
			out[i] = append([]float32(nil), sc.Data[(i-lo)*K:(i-lo+1)*K]...)
		}
	}
	return out
}

// normalise copies a batch into the model's input buffer, standardising
// each channel with Mean and Std.
func (m *Model) normalise(xs [][]float32) []float32 {
	l := m.Layout
	n := l.Len()
	buf := nn.Ensure(&m.xbuf, len(xs), n)
	plane := l.H * l.W
	for b, x := range xs {
		dst := buf.Data[b*n : (b+1)*n]
		for f := 0; f < l.Frames; f++ {
			for c := 0; c < l.Channels; c++ {
				off := (f*l.Channels + c) * plane
				mu, is := m.Mean[c], 1/m.Std[c]
				for i := off; i < off+plane; i++ {
					dst[i] = (x[i] - mu) * is
				}
			}
		}
	}
	return buf.Data
}

// fitNormalisation sets Mean and Std from the training inputs. Motion
// channels get mean 0 so that zero motion stays zero after scaling.
func (m *Model) fitNormalisation(xs [][]float32) {
	l := m.Layout
	plane := l.H * l.W
	for c := 0; c < l.Channels; c++ {
		var s, s2, cnt float64
		for _, x := range xs {
			for f := 0; f < l.Frames; f++ {
				off := (f*l.Channels + c) * plane
				for _, v := range x[off : off+plane] {
					s += float64(v)
					s2 += float64(v) * float64(v)
				}
				cnt += float64(plane)
			}
		}
		if cnt == 0 {
			continue
		}
		mean := s / cnt
		if c < len(l.Motion) && l.Motion[c] {
			mean = 0
		}
		v := s2/cnt - 2*mean*s/cnt + mean*mean
		m.Mean[c] = float32(mean)
		m.Std[c] = float32(math.Sqrt(math.Max(v, 1e-8)))
	}
}
