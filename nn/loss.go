package nn

import (
	"fmt"
	"math"
)

// CrossEntropy is softmax cross-entropy over logits [N, K] with integer
// targets, optional per-class weights and label smoothing, matching
// PyTorch's F.cross_entropy(weight=w, label_smoothing=s, reduction="mean"):
//
//	loss_i = (1−s)·w[y_i]·(−log p_i[y_i]) + (s/K)·Σ_k w[k]·(−log p_i[k])
//	loss   = Σ_i loss_i / Σ_i w[y_i]
type CrossEntropy struct {
	Weights   []float32 // per class; nil means all 1
	Smoothing float32
	dlogits   *Tensor
}

// Forward returns the mean loss and the gradient with respect to logits
// (owned by the loss, overwritten on the next call).
func (ce *CrossEntropy) Forward(logits *Tensor, targets []int) (float32, *Tensor, error) {
	n, k := logits.Rows(), logits.Dim()
	if len(targets) != n {
		return 0, nil, fmt.Errorf("nn: cross-entropy: %d targets for %d rows", len(targets), n)
	}
	if ce.Weights != nil && len(ce.Weights) != k {
		return 0, nil, fmt.Errorf("nn: cross-entropy: %d class weights for %d classes", len(ce.Weights), k)
	}
	w := func(c int) float64 {
		if ce.Weights == nil {
			return 1
		}
		return float64(ce.Weights[c])
	}
	d := Ensure(&ce.dlogits, logits.Shape...)
	s := float64(ce.Smoothing)
	var total, wsum float64
	for i := 0; i < n; i++ {
		y := targets[i]
		if y < 0 || y >= k {
			return 0, nil, fmt.Errorf("nn: cross-entropy: target %d of row %d outside %d classes", y, i, k)
		}
		row := logits.Data[i*k : (i+1)*k]
		lse := logSumExp(row)
		wsum += w(y)
		var li float64
		for c, v := range row {
			nll := lse - float64(v)
			coef := s / float64(k) * w(c)
			if c == y {
				coef += (1 - s) * w(y)
			}
			li += coef * nll
		}
		total += li
		// d loss_i / d z_c = p_c·Σ_k coef_k − coef_c
		var csum float64
		for c := 0; c < k; c++ {
			csum += s / float64(k) * w(c)
		}
		csum += (1 - s) * w(y)
		dr := d.Data[i*k : (i+1)*k]
		for c, v := range row {
			coef := s / float64(k) * w(c)
			if c == y {
				coef += (1 - s) * w(y)
			}
			p := math.Exp(float64(v) - lse)
			dr[c] = float32(p*csum - coef)
		}
	}
	if wsum == 0 {
		return 0, nil, fmt.Errorf("nn: cross-entropy: total target weight is zero")
	}
	Scale(d.Data, float32(1/wsum))
	return float32(total / wsum), d, nil
}

func logSumExp(row []float32) float64 {
	m := math.Inf(-1)
	for _, v := range row {
		m = math.Max(m, float64(v))
	}
	var s float64
	for _, v := range row {
		s += math.Exp(float64(v) - m)
	}
	return m + math.Log(s)
}

// Focal is the focal loss −α_y·(1−p_y)^γ·log p_y averaged over rows (Lin et
// al. 2017), for class imbalance. Alpha holds optional per-class weights.
type Focal struct {
	Gamma   float32
	Alpha   []float32
	dlogits *Tensor
}

// Forward returns the mean focal loss and its gradient with respect to logits.
func (f *Focal) Forward(logits *Tensor, targets []int) (float32, *Tensor, error) {
	n, k := logits.Rows(), logits.Dim()
	if len(targets) != n {
		return 0, nil, fmt.Errorf("nn: focal: %d targets for %d rows", len(targets), n)
	}
	if f.Alpha != nil && len(f.Alpha) != k {
		return 0, nil, fmt.Errorf("nn: focal: %d class weights for %d classes", len(f.Alpha), k)
	}
	d := Ensure(&f.dlogits, logits.Shape...)
	g := float64(f.Gamma)
	var total float64
	for i := 0; i < n; i++ {
		y := targets[i]
		if y < 0 || y >= k {
			return 0, nil, fmt.Errorf("nn: focal: target %d of row %d outside %d classes", y, i, k)
		}
		row := logits.Data[i*k : (i+1)*k]
		lse := logSumExp(row)
		logp := float64(row[y]) - lse
		p := math.Exp(logp)
		a := 1.0
		if f.Alpha != nil {
			a = float64(f.Alpha[y])
		}
		// 1−p from logp directly: 1-p loses every digit when p is near 1.
		om := -math.Expm1(logp)
		omg := math.Pow(om, g)
		total += -a * omg * logp
		// dL/dlogp_y = a·(γ·(1−p)^(γ−1)·p·logp − (1−p)^γ); dlogp_y/dz_c = δ − p_c.
		// (1−p)^(γ−1) is infinite at p = 1 when γ < 1, while logp is 0:
		// written as (1−p)^γ·(logp/(1−p)), whose limit is (1−p)^γ·(−1) → 0,
		// the product stays finite.
		var dlp float64
		if g == 0 {
			dlp = -a
		} else {
			ratio := -1.0 // logp/(1−p) at p = 1
			if om > 0 {
				ratio = logp / om
			}
			dlp = a * (g*omg*p*ratio - omg)
		}
		dr := d.Data[i*k : (i+1)*k]
		for c, v := range row {
			pc := math.Exp(float64(v) - lse)
			delta := 0.0
			if c == y {
				delta = 1
			}
			dr[c] = float32(dlp * (delta - pc) / float64(n))
		}
	}
	return float32(total / float64(n)), d, nil
}

// InfoNCE is the symmetric contrastive loss of CLIP between paired rows of
// two embedding matrices a, b [N, D] (L2-normalised inside): with
// S = exp(LogScale)·â·b̂ᵀ, loss = (CE(S, I) + CE(Sᵀ, I)) / 2. LogScale is a
// learnable parameter (NAME.logit_scale, initialised to log(1/0.07)).
type InfoNCE struct {
	LogScale *Param
	// MaxLogScale clamps the temperature as CLIP does (log 100); 0 means no clamp.
	MaxLogScale float32

	n, d       int
	an, bn     []float32 // normalised rows
	ainv, binv []float32 // 1/‖row‖
	sim        []float32
	da, db     *Tensor
}

// NewInfoNCE returns the loss with its temperature parameter.
func NewInfoNCE(name string) *InfoNCE {
	p := NewParam(name+".logit_scale", 1)
	p.Data[0] = float32(math.Log(1 / 0.07))
	p.NoDecay = true
	return &InfoNCE{LogScale: p, MaxLogScale: float32(math.Log(100))}
}

// Params returns the temperature parameter.
func (l *InfoNCE) Params() []*Param { return []*Param{l.LogScale} }

// Forward returns the loss and the gradients with respect to a and b; the
// gradient of LogScale is accumulated.
func (l *InfoNCE) Forward(a, b *Tensor) (float32, *Tensor, *Tensor, error) {
	n, d := a.Rows(), a.Dim()
	if b.Rows() != n || b.Dim() != d {
		return 0, nil, nil, fmt.Errorf("nn: infonce: shapes %v and %v differ", a.Shape, b.Shape)
	}
	l.n, l.d = n, d
	l.an, l.bn = growF(l.an, n*d), growF(l.bn, n*d)
	l.ainv, l.binv = growF(l.ainv, n), growF(l.binv, n)
	l2normalize(l.an, l.ainv, a.Data, n, d)
	l2normalize(l.bn, l.binv, b.Data, n, d)
	ls := l.LogScale.Data[0]
	clamped := l.MaxLogScale != 0 && ls > l.MaxLogScale
	if clamped {
		ls = l.MaxLogScale
	}
	scale := float32(math.Exp(float64(ls)))
	l.sim = growF(l.sim, n*n)
	// cos[i][j] = â_i·b̂_j
	Gemm(false, true, n, n, d, 1, l.an, d, l.bn, d, 0, l.sim, n)
	// dS accumulates both directions: dS_ij = (softmax_row(S)_ij − δ_ij + softmax_col(S)_ij − δ_ij) / (2N)
	ds := make([]float64, n*n)
	var loss float64
	row := make([]float64, n)
	for i := 0; i < n; i++ {
		m := math.Inf(-1)
		for j := 0; j < n; j++ {
			row[j] = float64(scale * l.sim[i*n+j])
			m = math.Max(m, row[j])
		}
		var s float64
		for j := range row {
			s += math.Exp(row[j] - m)
		}
		lse := m + math.Log(s)
		loss += lse - row[i]
		for j := range row {
			ds[i*n+j] += math.Exp(row[j] - lse)
		}
		ds[i*n+i] -= 1
	}
	for j := 0; j < n; j++ {
		m := math.Inf(-1)
		for i := 0; i < n; i++ {
			row[i] = float64(scale * l.sim[i*n+j])
			m = math.Max(m, row[i])
		}
		var s float64
		for i := range row {
			s += math.Exp(row[i] - m)
		}
		lse := m + math.Log(s)
		loss += lse - row[j]
		for i := range row {
			ds[i*n+j] += math.Exp(row[i] - lse)
		}
		ds[j*n+j] -= 1
	}
	loss /= float64(2 * n)
	// dL/dcos = scale·dS/(2N); dL/dLogScale = Σ dS·S/(2N)
	dcos := make([]float32, n*n)
	var dls float64
	for i, v := range ds {
		v /= float64(2 * n)
		dls += v * float64(scale*l.sim[i])
		dcos[i] = float32(v) * scale
	}
	if !clamped {
		l.LogScale.Grad[0] += float32(dls)
	}
	// dâ = dcos·b̂, db̂ = dcosᵀ·â, then through the normalisation.
	dan := make([]float32, n*d)
	dbn := make([]float32, n*d)
	Gemm(false, false, n, d, n, 1, dcos, n, l.bn, d, 0, dan, d)
	Gemm(true, false, n, d, n, 1, dcos, n, l.an, d, 0, dbn, d)
	da := Ensure(&l.da, a.Shape...)
	db := Ensure(&l.db, b.Shape...)
	l2normalizeBackward(da.Data, dan, l.an, l.ainv, n, d)
	l2normalizeBackward(db.Data, dbn, l.bn, l.binv, n, d)
	return float32(loss), da, db, nil
}

// l2normalize writes x/‖x‖ per row (‖x‖ floored at 1e-12, as F.normalize).
func l2normalize(out, inv, x []float32, n, d int) {
	for i := 0; i < n; i++ {
		row := x[i*d : (i+1)*d]
		var s float64
		for _, v := range row {
			s += float64(v) * float64(v)
		}
		nrm := math.Max(math.Sqrt(s), 1e-12)
		inv[i] = float32(1 / nrm)
		for j, v := range row {
			out[i*d+j] = v * inv[i]
		}
	}
}

// l2normalizeBackward: dx = (dŷ − ŷ·(ŷ·dŷ)) / ‖x‖.
func l2normalizeBackward(dx, dy, y, inv []float32, n, d int) {
	for i := 0; i < n; i++ {
		yr, gr := y[i*d:(i+1)*d], dy[i*d:(i+1)*d]
		var dot float32
		for j := range yr {
			dot += yr[j] * gr[j]
		}
		for j := range yr {
			dx[i*d+j] = (gr[j] - yr[j]*dot) * inv[i]
		}
	}
}
