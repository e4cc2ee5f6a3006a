package cnn

import (
	"context"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/tell-project/tell/facs"
	"github.com/tell-project/tell/merclip"
	"github.com/tell-project/tell/metrics"
	"github.com/tell-project/tell/model"
	"github.com/tell-project/tell/nn"
	"github.com/tell-project/tell/train"
)

// Model is the network:
//
//	x [B, C, H, W] → conv (C → Σstreams, 3×3, padding 1) → ReLU → BatchNorm
//	  → max-pool 3×3 stride 3 padding 1 → average pool 2×2 stride 2
//	  → flatten → dropout → linear → class scores
//
// (the part before the flatten is one fused layer, trunk).
//
// Tensor names in model files: "conv", "bn", "fc", each with .weight/.bias,
// and "bn.running_mean", "bn.running_var".
type Model struct {
	Cfg  Config
	Seed int64
	model.Info

	trunk *trunk
	drop  *nn.Dropout
	fc    *nn.Linear
	au    *nn.Linear // AU head (AUConfig), nil without
	feat  int        // features into fc

	xbuf, flat, pooled *nn.Tensor // pooled: a view of dflat as [B, N, h, w]
}

// NewModel builds a freshly initialised model for info's input and classes.
func NewModel(cfg Config, seed int64, info model.Info) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("cnn: config: %w", err)
	}
	l := info.Layout
	if len(info.Classes) < 1 {
		return nil, fmt.Errorf("cnn: no classes")
	}
	if l.Frames != 1 || l.H < 6 || l.W < 6 {
		return nil, fmt.Errorf("cnn: input %d×%d×%d×%d: want one frame of at least 6×6", l.Frames, l.Channels, l.H, l.W)
	}
	info.Classes = append([]string(nil), info.Classes...)
	rng := nn.NewRNG(uint64(seed))
	n := cfg.channels()
	m := &Model{Cfg: cfg, Seed: seed, Info: info,
		trunk: newTrunk(l.Channels, n, cfg.Net.BatchNorm, rng),
		drop:  nn.NewDropout(float32(cfg.Net.Dropout), uint64(seed)*1000003+17),
	}
	c, h, w := m.trunk.outShape(l.H, l.W)
	m.feat = c * h * w
	m.fc = nn.NewLinear("fc", m.feat, len(info.Classes), true, rng)
	if cfg.AU.Weight > 0 {
		m.au = nn.NewLinear("au", m.feat, 2*maxAU, true, rng)
	}
	return m, nil
}

// maxAU bounds the AU head's AU numbers (1..maxAU; head and eye positions
// from 50 on are left out).
const maxAU = 46

// auTargets writes the AU head's targets for code into dst (2·maxAU
// values: AU n on the left at 2(n−1), on the right at 2(n−1)+1). Every
// alternative of a term counts.
func auTargets(dst []float32, code facs.Code) {
	clear(dst)
	for _, a := range code.AUs() {
		if a.Number < 1 || a.Number > maxAU {
			continue
		}
		i := 2 * (a.Number - 1)
		if a.Side != facs.Right {
			dst[i] = 1
		}
		if a.Side != facs.Left {
			dst[i+1] = 1
		}
	}
}

// Params returns every trainable parameter (model-file order).
func (m *Model) Params() []*nn.Param {
	ps := append(m.trunk.params(), m.fc.Params()...)
	if m.au != nil {
		ps = append(ps, m.au.Params()...)
	}
	return ps
}

func (m *Model) setTraining(on bool) {
	m.trunk.training = on
	m.drop.Training = on
}

// forward maps a batch x [B, C, H, W] to class scores [B, K].
func (m *Model) forward(x *nn.Tensor) (*nn.Tensor, error) {
	h, err := m.trunk.forward(x)
	if err != nil {
		return nil, err
	}
	B := x.Shape[0]
	flat := nn.Ensure(&m.flat, B, m.feat)
	copy(flat.Data, h.Data)
	if m.pooled == nil {
		m.pooled = &nn.Tensor{}
	}
	m.pooled.Shape = append(m.pooled.Shape[:0], h.Shape...)
	return m.fc.Forward(m.drop.Forward(flat)), nil
}

// backward takes d scores [B, K] (and, with an AU head, d AU logits
// [B, 2·maxAU] or nil; with the AU-text alignment, d features [B, feat] or
// nil) and accumulates parameter gradients.
func (m *Model) backward(dy, dau, dfeat *nn.Tensor) {
	d := m.drop.Backward(m.fc.Backward(dy))
	if dau != nil {
		nn.AddTo(d.Data, m.au.Backward(dau).Data)
	}
	if dfeat != nil {
		nn.AddTo(d.Data, dfeat.Data)
	}
	p := m.pooled
	p.Data = d.Data
	m.trunk.backwardParams(p) // the input needs no gradient
}

// batch copies xs into the input buffer [B, C, H, W].
func (m *Model) batch(xs [][]float32) *nn.Tensor {
	l := m.Layout
	t := nn.Ensure(&m.xbuf, len(xs), l.Channels, l.H, l.W)
	for i, x := range xs {
		copy(t.Data[i*l.Len():(i+1)*l.Len()], x)
	}
	return t
}

// center returns x with its median u and median v subtracted from the u
// and v channels (NetConfig.Center), in a new slice; x as is otherwise.
func (m *Model) center(x []float32) []float32 {
	l := m.Layout
	if !m.Cfg.Net.Center || len(l.Motion) < 2 || !l.Motion[0] || !l.Motion[1] {
		return x
	}
	out := append([]float32(nil), x...)
	plane := l.H * l.W
	for c := 0; c < 2; c++ {
		ch := out[c*plane : (c+1)*plane]
		med := median(ch)
		for i := range ch {
			ch[i] -= med
		}
	}
	return out
}

// median returns the median of x (the mean of the two middle values for an
// even length), leaving x unchanged.
func median(x []float32) float32 {
	s := slices.Clone(x)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return 0.5 * (s[n/2-1] + s[n/2])
}

// Scores implements model.Net: class scores (logits) in evaluation mode;
// with Augment.TestFlip, the mean of the scores of each input and its mirror
// image.
func (m *Model) Scores(xs [][]float32) [][]float32 {
	out := m.scores(xs)
	if !m.Cfg.Augment.TestFlip {
		return out
	}
	flipped := make([][]float32, len(xs))
	for i, x := range xs {
		flipped[i] = append([]float32(nil), x...)
		train.Mirror(flipped[i], m.Layout)
	}
	for i, s := range m.scores(flipped) {
		for k := range s {
			out[i][k] = 0.5 * (out[i][k] + s[k])
		}
	}
	return out
}

func (m *Model) scores(xs [][]float32) [][]float32 {
	m.setTraining(false)
	if m.Cfg.Net.Center {
		c := make([][]float32, len(xs))
		for i, x := range xs {
			c[i] = m.center(x)
		}
		xs = c
	}
	const bs = 64
	K := len(m.Classes)
	out := make([][]float32, len(xs))
	for lo := 0; lo < len(xs); lo += bs {
		hi := min(lo+bs, len(xs))
		y, err := m.forward(m.batch(xs[lo:hi]))
		if err != nil { // shapes are fixed at construction: cannot happen
			panic(fmt.Sprintf("cnn: %v", err))
		}
		for i := lo; i < hi; i++ {
			out[i] = append([]float32(nil), y.Data[(i-lo)*K:(i-lo+1)*K]...)
		}
	}
	return out
}

// auLoss is the AU head's loss: binary cross-entropy with logits, summed
// over the 2·maxAU outputs and averaged over the rows that have AUs, times
// a weight; rows without AUs get no gradient.
type auLoss struct {
	target []float32
	d      *nn.Tensor
}

func (a *auLoss) forward(logits *nn.Tensor, codes []facs.Code, w float32) (float32, *nn.Tensor) {
	n := logits.Dim()
	d := nn.Ensure(&a.d, logits.Shape...)
	clear(d.Data)
	if cap(a.target) < n {
		a.target = make([]float32, n)
	}
	t := a.target[:n]
	rows := 0
	for _, c := range codes {
		if !c.Empty() {
			rows++
		}
	}
	if rows == 0 {
		return 0, d
	}
	var loss float64
	scale := w / float32(rows)
	for b, c := range codes {
		if c.Empty() {
			continue
		}
		auTargets(t, c)
		z := logits.Data[b*n : (b+1)*n]
		for j, v := range z {
			// log(1+e^v) − t·v, stable; d/dv = σ(v) − t
			sp := math.Max(float64(v), 0) + math.Log1p(math.Exp(-math.Abs(float64(v))))
			loss += sp - float64(t[j])*float64(v)
			d.Data[b*n+j] = scale * (float32(1/(1+math.Exp(-float64(v)))) - t[j])
		}
	}
	return float32(loss) * scale, d
}

// Fit trains a new model on d (the training side of a fold, or every row
// for the final model). A validation set, if any, is not used.
func Fit(ctx context.Context, cfg Config, d *train.FitData, opt train.FitOptions) (*Model, error) {
	if len(d.X) == 0 {
		return nil, fmt.Errorf("cnn: fit: no training samples")
	}
	if cfg.Train.EarlyStop && (d.Val == nil || len(d.Val.X) == 0) {
		return nil, fmt.Errorf("cnn: train.early_stop needs validation subjects (set the config's \"validation\" share)")
	}
	m, err := NewModel(cfg, opt.Seed, d.Info)
	if err != nil {
		return nil, err
	}
	log := opt.Logger()
	K := len(d.Classes)
	X := d.X
	if cfg.Net.Center {
		X = make([][]float32, len(d.X))
		for i, x := range d.X {
			X[i] = m.center(x)
		}
	}
	ce := nn.CrossEntropy{Smoothing: float32(cfg.Train.LabelSmoothing)}
	if cfg.Train.ClassWeights {
		ce.Weights = train.BalancedWeights(d.Y, K)
	}
	params := m.Params()
	// The AU-text alignment and LocalStaticFaceMix draw from random streams
	// of their own: the shuffles, flips and jitter of training stay those
	// of the same config without them.
	var al *aligner
	if cfg.Text.Weight > 0 {
		al = newAligner(cfg.Text, m.feat, opt.Seed, opt.Stream)
		params = append(params, al.params()...)
	}
	var mixer *merclip.Mixer
	mixRng := rand.New(rand.NewPCG(uint64(opt.Seed), 0x6d6978^opt.Stream))
	if p := cfg.Augment.Mix.P; p > 0 {
		alpha := cfg.Augment.Mix.Alpha
		if alpha == 0 {
			alpha = 0.5
		}
		var err error
		if mixer, err = merclip.NewMixer(p, alpha, d.Layout, d.Static); err != nil {
			return nil, fmt.Errorf("cnn: augment.mix: %w", err)
		}
	}
	adam := nn.NewAdamW(params, float32(cfg.Train.LR), float32(cfg.Train.WeightDecay))
	rng := rand.New(rand.NewPCG(uint64(opt.Seed), 0x636e6e^opt.Stream))
	n := len(X)
	bs := min(cfg.Train.Batch, n)
	if bs < 2 && cfg.Net.BatchNorm && n > 1 {
		bs = 2
	}
	spe := (n + bs - 1) / bs
	total := spe * cfg.Train.Epochs
	warm := spe * cfg.Train.Warmup
	perm := make([]int, n)
	for i := range perm {
		perm[i] = i
	}
	l := m.Layout
	jit := train.Jitter{Shift: cfg.Augment.Shift, Rotate: cfg.Augment.Rotate, Scale: cfg.Augment.Scale}
	raw := make([][]float32, bs)
	for i := range raw {
		raw[i] = make([]float32, l.Len())
	}
	tmp := make([]float32, l.Len())
	ys := make([]int, 0, bs)
	var bce auLoss
	codes := make([]facs.Code, bs)
	step := 0
	var best *snapshot
	bestUF1 := -1.0
	for ep := 0; ep < cfg.Train.Epochs; ep++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		rng.Shuffle(n, func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
		var sum float64
		for lo := 0; lo < n; lo += bs {
			hi := min(lo+bs, n)
			if hi-lo == 1 && cfg.Net.BatchNorm && lo > 0 {
				lo-- // BatchNorm needs two samples: repeat the previous one
			}
			B := hi - lo
			ys = ys[:0]
			for k := 0; k < B; k++ {
				i := perm[lo+k]
				copy(raw[k], X[i])
				codes[k] = facs.Code{}
				if i < len(d.AUs) {
					codes[k] = d.AUs[i]
				}
				if cfg.Augment.Flip > 0 && rng.Float64() < cfg.Augment.Flip {
					train.Mirror(raw[k], l)
					codes[k] = train.MirrorAUs(codes[k])
				}
				if !jit.Zero() {
					jit.Apply(rng, tmp, raw[k], l)
					copy(raw[k], tmp)
				}
				mixer.Apply(mixRng, raw[k])
				ys = append(ys, d.Y[i])
			}
			m.setTraining(true)
			nn.ZeroGrad(params)
			scores, err := m.forward(m.batch(raw[:B]))
			if err != nil {
				return nil, err
			}
			loss, ds, err := ce.Forward(scores, ys)
			if err != nil {
				return nil, err
			}
			var dau *nn.Tensor
			if m.au != nil {
				var la float32
				la, dau = bce.forward(m.au.Forward(m.flat), codes[:B], float32(cfg.AU.Weight))
				loss += la
			}
			var dfeat *nn.Tensor
			if al != nil {
				var lt float32
				if lt, dfeat, err = al.step(m.flat, codes[:B]); err != nil {
					return nil, err
				}
				loss += lt
			}
			m.backward(ds, dau, dfeat)
			if cfg.Train.Cosine {
				adam.LR = nn.WarmupCosine(step, warm, total, float32(cfg.Train.LR), float32(cfg.Train.LR)*0.01)
			} else if step < warm {
				adam.LR = float32(cfg.Train.LR) * float32(step+1) / float32(warm)
			} else {
				adam.LR = float32(cfg.Train.LR)
			}
			adam.Update()
			step++
			sum += float64(loss) * float64(B)
		}
		log.Debug("epoch", "epoch", ep+1, "loss", sum/float64(n), "lr", adam.LR)
		if cfg.Train.EarlyStop {
			uf1 := m.validationUF1(d.Val)
			log.Debug("validation", "epoch", ep+1, "uf1", uf1)
			if uf1 > bestUF1 {
				bestUF1, best = uf1, m.snapshot(best, ep+1)
			}
		}
		if opt.Epoch != nil {
			opt.Epoch(ep + 1)
		}
	}
	if best != nil {
		m.restore(best)
		log.Info("early stop", "epoch", best.epoch, "validation_uf1", bestUF1, "validation_subjects", len(d.Val.Subjects))
	}
	log.Info("trained", "samples", n, "epochs", cfg.Train.Epochs, "steps", step)
	return m, nil
}

// snapshot is a copy of a model's weights and BatchNorm statistics.
type snapshot struct {
	epoch int
	data  [][]float32
}

// snapshot copies the model's state into s (allocated when nil).
func (m *Model) snapshot(s *snapshot, epoch int) *snapshot {
	ts, _ := m.Encode()
	names := slices.Sorted(maps.Keys(ts))
	if s == nil {
		s = &snapshot{data: make([][]float32, len(names))}
	}
	s.epoch = epoch
	for i, k := range names {
		s.data[i] = append(s.data[i][:0], ts[k].Data...)
	}
	return s
}

func (m *Model) restore(s *snapshot) {
	ts, _ := m.Encode()
	for i, k := range slices.Sorted(maps.Keys(ts)) {
		copy(ts[k].Data, s.data[i])
	}
}

// validationUF1 is the UF1 of the model's predictions on the validation
// set, over the classes present there.
func (m *Model) validationUF1(v *train.ValData) float64 {
	cm, err := metrics.NewConfusion(m.Classes)
	if err != nil {
		return 0
	}
	for i, p := range model.Classify(m.Scores(v.X)) {
		cm.Add(v.Y[i], p)
	}
	return cm.UF1()
}
