package report

// Timeline keeps a per-frame signal at bounded size: at most Bins bins, each
// holding the maximum of the frames it covers. When the bins fill up,
// neighbours merge and each bin covers twice as many frames, so an hour of
// video costs as much memory as a minute.
type Timeline struct {
	NAU   int       // AUs per frame
	Width int       // frames per bin
	AU    []float32 // bin-major: AU[b*NAU+k]
	Sig   []float32 // per bin: the expression signal
	Lost  []bool    // per bin: some frame had no tracked face
	// NExpr expression probabilities per frame (AddExpression); ExprSum
	// holds their sum per bin (bin-major), ExprN the frames that had them.
	NExpr   int
	ExprSum []float32
	ExprN   []int32
	max     int
	n       int // frames added
}

// NewTimeline returns a timeline with at most bins bins (even, ≥ 2).
func NewTimeline(naus, bins int) *Timeline {
	bins = max(2, bins&^1)
	return &Timeline{NAU: naus, Width: 1, max: bins}
}

// Frames is the number of frames added.
func (t *Timeline) Frames() int { return t.n }

// Bins is the number of bins in use.
func (t *Timeline) Bins() int { return len(t.Sig) }

// Add appends one frame: AU intensities (len NAU), signal, tracked.
func (t *Timeline) Add(aus []float32, sig float32, ok bool) {
	b := t.n / t.Width
	if b >= t.max {
		t.halve()
		b = t.n / t.Width
	}
	if b == len(t.Sig) {
		t.Sig = append(t.Sig, 0)
		t.Lost = append(t.Lost, false)
		for k := 0; k < t.NAU; k++ {
			t.AU = append(t.AU, 0)
		}
	}
	if !ok {
		t.Lost[b] = true
	}
	t.Sig[b] = max(t.Sig[b], sig)
	row := t.AU[b*t.NAU : (b+1)*t.NAU]
	for k, v := range aus[:t.NAU] {
		row[k] = max(row[k], v)
	}
	t.n++
}

// AddExpression records the expression probabilities of the frame last
// added (nil when it has none); bins keep their mean.
func (t *Timeline) AddExpression(p []float32) {
	if p == nil || t.n == 0 {
		return
	}
	if t.NExpr == 0 {
		t.NExpr = len(p)
	}
	if len(p) != t.NExpr {
		return
	}
	b := (t.n - 1) / t.Width
	for len(t.ExprN) <= b {
		t.ExprN = append(t.ExprN, 0)
		t.ExprSum = append(t.ExprSum, make([]float32, t.NExpr)...)
	}
	row := t.ExprSum[b*t.NExpr : (b+1)*t.NExpr]
	for k, v := range p {
		row[k] += v
	}
	t.ExprN[b]++
}

// Expr returns the mean probability k of bin b, and false when no frame of
// the bin had probabilities.
func (t *Timeline) Expr(b, k int) (float32, bool) {
	if b >= len(t.ExprN) || t.ExprN[b] == 0 {
		return 0, false
	}
	return t.ExprSum[b*t.NExpr+k] / float32(t.ExprN[b]), true
}

// halve merges bin pairs.
func (t *Timeline) halve() {
	if t.NExpr > 0 {
		for len(t.ExprN) < len(t.Sig) {
			t.ExprN = append(t.ExprN, 0)
			t.ExprSum = append(t.ExprSum, make([]float32, t.NExpr)...)
		}
		h := len(t.Sig) / 2
		for i := 0; i < h; i++ {
			t.ExprN[i] = t.ExprN[2*i] + t.ExprN[2*i+1]
			for k := 0; k < t.NExpr; k++ {
				t.ExprSum[i*t.NExpr+k] = t.ExprSum[2*i*t.NExpr+k] + t.ExprSum[(2*i+1)*t.NExpr+k]
			}
		}
		t.ExprN, t.ExprSum = t.ExprN[:h], t.ExprSum[:h*t.NExpr]
	}
	h := len(t.Sig) / 2
	for i := 0; i < h; i++ {
		t.Sig[i] = max(t.Sig[2*i], t.Sig[2*i+1])
		t.Lost[i] = t.Lost[2*i] || t.Lost[2*i+1]
		for k := 0; k < t.NAU; k++ {
			t.AU[i*t.NAU+k] = max(t.AU[2*i*t.NAU+k], t.AU[(2*i+1)*t.NAU+k])
		}
	}
	t.Sig, t.Lost, t.AU = t.Sig[:h], t.Lost[:h], t.AU[:h*t.NAU]
	t.Width *= 2
}
