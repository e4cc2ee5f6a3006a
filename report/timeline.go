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
	max   int
	n     int // frames added
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

// halve merges bin pairs.
func (t *Timeline) halve() {
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
