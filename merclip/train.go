package merclip

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/tell-project/tell/facs"
	"github.com/tell-project/tell/nn"
	"github.com/tell-project/tell/train"
)

// batch is one step's input.
type batch struct {
	x     []float32 // B × Layout.Len(), normalised
	y     []int
	ids   []int32 // n × L token ids of the rows that have AUs
	rows  []int   // batch positions of those rows
	L     int
	wCon  float64
	wCls  float64
	train bool
}

// stepLoss runs forward and backward on one batch, accumulating gradients,
// and returns the classification and contrastive losses (unweighted).
func (m *Model) stepLoss(b *batch) (cls, con float32, err error) {
	B := len(b.y)
	m.setTraining(b.train)
	scores := m.forwardVisual(b.x, B)
	cls, dsc, err := m.focal.Forward(scores, b.y)
	if err != nil {
		return 0, 0, err
	}
	nn.Scale(dsc.Data, float32(b.wCls))
	var dvemb *nn.Tensor
	if m.nce != nil && len(b.rows) >= 2 && b.wCon > 0 {
		E := m.Cfg.EmbedDim
		vemb := m.vproj.Forward(m.vcls)
		n := len(b.rows)
		a := nn.Ensure(&m.gather, n, E)
		for i, r := range b.rows {
			copy(a.Data[i*E:(i+1)*E], vemb.Data[r*E:(r+1)*E])
		}
		temb, err := m.text.Forward(b.ids, n, b.L)
		if err != nil {
			return 0, 0, err
		}
		g0 := m.nce.LogScale.Grad[0]
		var da, dt *nn.Tensor
		con, da, dt, err = m.nce.Forward(a, temb)
		if err != nil {
			return 0, 0, err
		}
		w := float32(b.wCon)
		m.nce.LogScale.Grad[0] = g0 + w*(m.nce.LogScale.Grad[0]-g0)
		full := nn.Ensure(&m.dfull, B, E)
		clear(full.Data)
		for i, r := range b.rows {
			dst := full.Data[r*E : (r+1)*E]
			for j := range dst {
				dst[j] = w * da.Data[i*E+j]
			}
		}
		dvemb = full
		if !m.Cfg.Text.Freeze {
			nn.Scale(dt.Data, w)
			m.text.Backward(dt, b.L)
		}
	}
	m.backwardVisual(dsc, dvemb)
	return cls, con, nil
}

// Fit trains a new model on d (the training side of a fold, or every row
// for the final model); d.Classes is the label space of the whole manifest,
// so that folds agree. A validation set, if any, is not used.
func Fit(ctx context.Context, cfg Config, ts *train.FitData, opt train.FitOptions) (*Model, error) {
	if len(ts.X) == 0 {
		return nil, fmt.Errorf("merclip: fit: no training samples")
	}
	var vocab *Vocab
	if cfg.Loss.Contrastive {
		vocab = NewVocab(TextCorpus())
	}
	m, err := NewModel(cfg, opt.Seed, ts.Info, vocab)
	if err != nil {
		return nil, err
	}
	classes := ts.Classes
	log := opt.Logger()
	if cfg.Loss.Contrastive && cfg.Text.Init != "" {
		if err := m.LoadTextTower(cfg.Text.Init); err != nil {
			return nil, err
		}
	}
	m.fitNormalisation(ts.X)
	K := len(classes)
	counts := make([]int, K)
	for _, y := range ts.Y {
		counts[y]++
	}
	present := 0
	for _, c := range counts {
		if c > 0 {
			present++
		}
	}
	if present < 2 {
		log.Warn("training side has a single class; the model can only predict it", "classes", present)
	}
	// Balanced class weights α_c = n/(K_present·n_c), fitted on the training side.
	m.focal.Alpha = make([]float32, K)
	for c, n := range counts {
		if n > 0 {
			m.focal.Alpha[c] = float32(len(ts.Y)) / float32(present*n)
		}
	}
	var mixer *Mixer
	if cfg.Mix.Enabled {
		if mixer, err = NewMixer(cfg.Mix.P, cfg.Mix.Alpha, m.Layout, ts.Static); err != nil {
			return nil, err
		}
	}
	params := m.VisualParams()
	if !cfg.Text.Freeze {
		params = append(params, m.TextParams()...)
	}
	if m.nce != nil {
		params = append(params, m.nce.Params()...)
	}
	opt2 := nn.NewAdamW(params, float32(cfg.Train.LR), float32(cfg.Train.WeightDecay))
	rng := rand.New(rand.NewPCG(uint64(opt.Seed), 0x6d6572636c6970^opt.Stream))
	n := len(ts.X)
	bs := min(cfg.Train.Batch, n)
	spe := (n + bs - 1) / bs
	total := spe * cfg.Train.Epochs
	warm := spe * cfg.Train.Warmup
	perm := make([]int, n)
	for i := range perm {
		perm[i] = i
	}
	l := m.Layout
	raw := make([][]float32, bs)
	for i := range raw {
		raw[i] = make([]float32, l.Len())
	}
	b := &batch{train: true}
	ids := make([]int32, bs*cfg.Text.MaxLen)
	lens := make([]int, bs)
	step := 0
	for ep := 0; ep < cfg.Train.Epochs; ep++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		rng.Shuffle(n, func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
		var sumCls, sumCon float64
		for lo := 0; lo < n; lo += bs {
			hi := min(lo+bs, n)
			B := hi - lo
			b.y = b.y[:0]
			b.rows = b.rows[:0]
			b.L = 0
			for k := 0; k < B; k++ {
				i := perm[lo+k]
				copy(raw[k], ts.X[i])
				mixer.Apply(rng, raw[k])
				b.y = append(b.y, ts.Y[i])
				if m.nce != nil && i < len(ts.AUs) && !ts.AUs[i].Empty() {
					r := len(b.rows)
					lens[r] = vocab.Encode(facs.Sentence(ts.AUs[i], rng), ids[r*cfg.Text.MaxLen:(r+1)*cfg.Text.MaxLen])
					b.L = max(b.L, lens[r])
					b.rows = append(b.rows, k)
				}
			}
			// Pack the text ids to the batch's longest sentence.
			b.ids = b.ids[:0]
			for r := range b.rows {
				b.ids = append(b.ids, ids[r*cfg.Text.MaxLen:r*cfg.Text.MaxLen+b.L]...)
			}
			b.x = m.normalise(raw[:B])
			b.wCon, b.wCls = cfg.lossWeights(float64(step) / float64(max(1, total-1)))
			nn.ZeroGrad(params)
			if m.nce == nil || cfg.Text.Freeze {
				nn.ZeroGrad(m.TextParams()) // frozen: keep their gradients from piling up
			}
			lc, lt, err := m.stepLoss(b)
			if err != nil {
				return nil, err
			}
			if cfg.Train.ClipNorm > 0 {
				nn.ClipGradNorm(params, float32(cfg.Train.ClipNorm))
			}
			opt2.LR = nn.WarmupCosine(step, warm, total, float32(cfg.Train.LR), float32(cfg.Train.LR)*0.01)
			opt2.Update()
			step++
			sumCls += float64(lc) * float64(B)
			sumCon += float64(lt) * float64(B)
		}
		log.Debug("epoch", "epoch", ep+1, "focal", sumCls/float64(n), "infonce", sumCon/float64(n), "lr", opt2.LR)
		if opt.Epoch != nil {
			opt.Epoch(ep + 1)
		}
	}
	log.Info("trained", "samples", n, "epochs", cfg.Train.Epochs, "steps", step)
	return m, nil
}

// TextCorpus returns the sentences the AU vocabulary is built from: the
// seven templates and every catalogue AU's movement text, both sides, with
// the connecting words facs uses.
func TextCorpus() []string {
	c := append([]string(nil), facs.Templates()...)
	c = append(c, "a combination of", "and", "or", "might be present", "more strongly on one side",
		"on the left side", "on the right side", "no visible facial movement", "(upper lip)", "(lower lip)")
	for _, info := range facs.Catalogue() {
		c = append(c, info.Movement)
		if info.Sided != "" {
			c = append(c, fmt.Sprintf(info.Sided, "left"), fmt.Sprintf(info.Sided, "right"))
		}
	}
	return c
}
