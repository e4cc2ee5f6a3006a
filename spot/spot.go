// Package spot finds expression intervals (onset, apex, offset) in a stream
// of per-frame facial movement, and calls each a micro-expression (≤ 0.5 s)
// or a macro-expression. docs/spotting.md is the long version.
//
// # Input and units
//
// Each frame brings the non-rigid displacement (x, y) of R face regions from
// the neutral reference, in face units: percent of the inter-ocular distance
// (IOD), so 1 unit is 1 px on a face whose eyes are 100 px apart. Every
// threshold below is stated in these units or as a multiple of the face's
// own measured noise, so the same settings serve a 128×128 crop and a
// 640×480 high-speed recording.
//
// # Noise floor: the face's own jitter
//
// A region's frame-to-frame noise σ is measured on the face itself, from the
// second difference of its displacement over consecutive distinct frames,
// x[k] − (x[k−1] + x[k+1])/2: expressions are smooth over a few frames,
// tracking noise is not, so the median of |second difference| over the last
// NoiseSeconds gives σ (1.4826·median/√1.5 for Gaussian noise) whether or
// not an expression is in progress. Slow wander (head micro-motion left
// after the head fit) is measured as the spread of the displacement from
// its rest on frames between events within three thresholds (inside an
// event, within one), once RestMin seconds of them have been seen. Nothing is learnt from frames assumed quiet, so a clip cut
// from onset to offset, expression from its first frame to its last, is
// judged on its jitter alone. Blinks mask the Eyelids regions (Frame.Blink);
// frames identical to the previous one add no noise sample.
//
// # Decision
//
// Displacements are averaged over Smooth seconds (w frames) and the slowly
// adapting rest baseline b (held during events) is removed. Region r moves
// when |x̄_r − b_r| exceeds
//
//	T_r = max(MinMove, K·max(σ_r/√w, σ_rest,r), afterglow)
//
// MinMove (0.1 % IOD) is the resolution floor; K = 5 sets the false-alarm
// rate (for 2-D Gaussian noise the average exceeds Kσ with probability
// exp(−K²/2) ≈ 4·10⁻⁶ per region and frame); the afterglow, a tenth of the
// last event's largest displacement decaying over a second, keeps an
// event's tail from being a new one. E(t) = max_r |x̄_r − b_r|/T_r: an event
// opens when E ≥ 1. Its intensity at any frame is the displacement
// projected on the pattern of its peak (a matched filter dominated by the
// regions that moved most); it closes once that has stayed below
// max(Rel·peak, Floor) for Hold seconds, when the face is lost, when the
// picture freezes, or at MaxSeconds. The apex is the frame of largest
// displacement over the moved regions; onset and offset extend from the
// stretch around it above threshold while the intensity stays above the
// boundary level. Frames are decided Delay seconds after they arrive (a
// blink's lids move before they shut). Memory is a window of MaxSeconds,
// whatever the video's length.
//
// Limits: any non-rigid facial motion is spotted (speech, chewing, a head
// turning too far for the first-order head fit), not only expressions;
// movements below about 0.1 % IOD are not found; slow wander is only known
// after RestMin seconds at rest; the thresholds follow the noise model
// above and were checked on a handful of real crops and on synthetic clips
// (see the project notes), not tuned on a dataset.
package spot

import (
	"fmt"
	"math"
)

// MaxFPS is the highest frame rate New accepts (high-speed cameras used for
// micro-expressions run at 200 fps; this leaves ample room).
const MaxFPS = 100000

// maxRing bounds the spotter's frame window.
const maxRing = 1 << 22

// Options tune the spotter. Zero fields take the defaults shown.
type Options struct {
	FPS     float64 // frames per second (required)
	Regions int     // number of regions; each frame has 2·Regions values (required)
	// MinMove is the smallest displacement that counts, % IOD; 0.1.
	MinMove float64
	// K is the movement threshold in units of the region's measured noise; 5.
	K float64
	// Smooth is the moving-average window, seconds; 0.04 (at least one frame).
	Smooth float64
	// Rel is the boundary level as a fraction of the event's peak; 0.1.
	Rel float64
	// Floor is the lowest boundary level, in units of the threshold (E);
	// 0.6, i.e. 3σ at K = 5 (slow wander stays above 2σ for long
	// stretches).
	Floor float64
	// Hold is how long E must stay below the boundary level to close an
	// event, seconds; 0.06.
	Hold float64
	// NoiseSeconds is the window of the noise estimate; 2.
	NoiseSeconds float64
	// BaselineSeconds is the time constant of the rest baseline; 2.
	BaselineSeconds float64
	// RestSeconds is the window over which the face's variability at rest
	// is measured; 10. RestMin is how much rest it needs before that
	// measurement counts, seconds; 0.3 (a clip cut from onset to offset
	// rises above threshold sooner, so its expression does not teach it).
	RestSeconds, RestMin float64
	// Settle is how long after an event the baseline relearns the rest
	// (time constant 0.1 s) and no event opens, seconds; 0.3.
	Settle     float64
	MinSeconds float64 // shortest event, seconds; 0.04
	MaxSeconds float64 // longest event; longer ones are cut; 8
	MicroMax   float64 // longest micro-expression, seconds; 0.5
	// Eyelids lists the regions a blink masks.
	Eyelids []int
	// Delay is how long after a frame is pushed it is decided, seconds;
	// 0.1 (a blink's lids move for that long before they shut). Negative:
	// none.
	Delay float64
}

func (o Options) withDefaults() Options {
	def := func(v *float64, d float64) {
		if *v <= 0 || math.IsNaN(*v) {
			*v = d
		}
	}
	def(&o.MinMove, 0.1)
	def(&o.K, 5)
	def(&o.Smooth, 0.04)
	def(&o.Rel, 0.1)
	def(&o.Floor, 0.6)
	def(&o.Hold, 0.06)
	def(&o.NoiseSeconds, 2)
	def(&o.BaselineSeconds, 2)
	def(&o.RestSeconds, 10)
	def(&o.RestMin, 0.3)
	def(&o.MinSeconds, 0.04)
	def(&o.MaxSeconds, 8)
	def(&o.MicroMax, 0.5)
	if o.Delay == 0 || math.IsNaN(o.Delay) {
		o.Delay = 0.1
	}
	o.Delay = max(0, o.Delay)
	return o
}

// Frame is one frame's input.
type Frame struct {
	// X holds the displacement of each region from the neutral reference,
	// x then y, % IOD: len 2·Regions.
	X []float32
	// Valid marks the regions measured in this frame (nil: all). A region
	// that is not (an untracked point, an eye inside a blink) keeps its last
	// value and adds no noise sample.
	Valid []bool
	// Face is false when no face was tracked: an open event closes.
	Face bool
	// Repeat marks a frame identical to the previous one: it adds no noise
	// sample, and a run of repeats (a frozen picture) closes an open event.
	Repeat bool
	// Blink marks a frame with the eyes shut by a blink: the Eyelids
	// regions are masked from Delay before it to Delay after it.
	Blink bool
}

// Interval is one spotted expression; frames are 0-based and inclusive.
type Interval struct {
	Onset, Apex, Offset int
	Kind                string  // "micro" or "macro"
	Peak                float64 // largest region displacement from rest at the apex, % IOD
	Strength            float64 // peak of E: the largest movement in units of its threshold
	// Regions lists the regions that moved (E ≥ 1 at some frame).
	Regions []int
}

// Seconds is the interval's duration.
func (iv Interval) Seconds(fps float64) float64 { return float64(iv.Offset-iv.Onset+1) / fps }

// Spotter is the streaming detector. Push frames in order.
type Spotter struct {
	o        Options
	nr       int // regions
	w        int // smoothing window, frames
	holdN    int
	minN     int
	sustainN int // frames above threshold an event needs
	repeatN  int // consecutive repeats that freeze an event
	delay    int // frames between Push and decision
	pushed   int // last frame pushed
	last     int // last frame decided

	// frames waiting for their decision (blink masking looks back)
	queue      []queued
	blinkUntil int

	// smoothing: raw values of the last w frames per channel
	raw     [][]float32 // [w][2R]
	rawOK   [][]bool    // [w][R]
	rawN    int
	hold    []float32 // last valid raw value per channel
	haveVal []bool    // per region: some valid value seen

	// raw distinct-frame history for the noise estimate
	prev1, prev2 []float32
	prevOK       []int // per region: consecutive valid distinct frames (capped at 3)

	// noise samples per region: rings of |second difference|
	d1        [][]float32
	d1n       []int
	sigma     []float64 // per region, σ of the smoothed displacement
	sigmaAge  int
	everyN    int
	shortN    int // samples in the short noise window
	scratch   []float32
	haveSigma bool
	sigmaOK   []bool // per region: enough noise samples
	// rest variability: |x̄ − b| per axis on frames at rest, one frame in w/4
	rest       [][]float32
	restN      []int
	restMin    int       // samples before the rest estimate counts
	restSigma  []float64 // per region, 0 until restMin samples
	restTick   int
	restStride int       // frames between rest samples
	base       []float64 // per channel
	baseInit   bool
	baseN      int       // frames in the initial baseline
	baseSum    []float64 // per channel
	refPending bool      // the next face frame is the reference
	armed      bool      // an event may open
	lastOff    int       // the last event's last frame (before the lag)
	glow       float64   // the last event's largest displacement
	alpha      float64
	repeats    int
	cur        []float32 // smoothed, per channel
	curOK      []bool    // per region
	amp        []float32 // per region, this frame

	// frame window
	ringAmp [][]float32 // [N][R] |x̄_r − b_r|
	ringX   [][]float32 // [N][2R] x̄ − b
	ringE   []float32   // E(t)
	ringOK  []bool
	// open event
	open     bool
	start    int
	peakT    int
	peak     float64
	below    int
	moved    []bool
	segStart int // first frame since the last Reset or lost face
}

// New returns a spotter.
func New(o Options) (*Spotter, error) {
	if !(o.FPS > 0) || o.FPS > MaxFPS {
		return nil, fmt.Errorf("spot: frame rate %v must be positive and at most %v", o.FPS, float64(MaxFPS))
	}
	if o.Regions <= 0 || o.Regions > 1024 {
		return nil, fmt.Errorf("spot: %d regions, want 1 to 1024", o.Regions)
	}
	for _, r := range o.Eyelids {
		if r < 0 || r >= o.Regions {
			return nil, fmt.Errorf("spot: eyelid region %d outside 0..%d", r, o.Regions-1)
		}
	}
	o = o.withDefaults()
	// The rings hold the longest event plus margins; bound them so that a
	// silly frame rate or MaxSeconds gives an error, not a huge allocation.
	frames := math.Ceil((o.MaxSeconds + 2) * o.FPS)
	if !(frames*float64(o.Regions) <= maxRing) {
		return nil, fmt.Errorf("spot: MaxSeconds %v at %v fps needs a %v-frame window, too long", o.MaxSeconds, o.FPS, frames)
	}
	if !((o.NoiseSeconds+o.Delay)*o.FPS*float64(o.Regions) <= maxRing) {
		return nil, fmt.Errorf("spot: NoiseSeconds %v or Delay %v at %v fps is too long", o.NoiseSeconds, o.Delay, o.FPS)
	}
	n := int(frames) + 8
	nr := o.Regions
	s := &Spotter{o: o, nr: nr, last: -1, pushed: -1, blinkUntil: -1}
	s.w = max(1, int(math.Round(o.Smooth*o.FPS)))
	s.holdN = max(2, int(math.Round(o.Hold*o.FPS)))
	s.minN = max(2, int(math.Round(o.MinSeconds*o.FPS)))
	s.sustainN = max(2, s.w)
	s.delay = int(math.Round(o.Delay * o.FPS))
	s.repeatN = 2
	s.alpha = 1 / math.Max(1, o.BaselineSeconds*o.FPS)
	s.everyN = max(1, int(o.FPS/10))
	s.shortN = max(32, int(math.Ceil(2*0.1*o.FPS)))
	s.queue = make([]queued, s.delay+1)
	for i := range s.queue {
		s.queue[i] = queued{x: make([]float32, 2*nr), valid: make([]bool, nr)}
	}
	s.raw = make2(s.w, 2*nr)
	s.rawOK = make2b(s.w, nr)
	s.hold = make([]float32, 2*nr)
	s.haveVal = make([]bool, nr)
	s.prev1, s.prev2 = make([]float32, 2*nr), make([]float32, 2*nr)
	s.prevOK = make([]int, nr)
	nn := 2 * max(16, int(math.Ceil(o.NoiseSeconds*o.FPS)))
	s.d1 = make2(nr, nn)
	s.d1n = make([]int, nr)
	s.sigma = make([]float64, nr)
	s.sigmaOK = make([]bool, nr)
	s.restStride = max(1, s.w/4)
	nrest := 2 * max(16, int(math.Ceil(o.RestSeconds*o.FPS/float64(s.restStride))))
	s.rest = make2(nr, nrest)
	s.restN = make([]int, nr)
	s.restSigma = make([]float64, nr)
	s.restMin = 2 * max(8, int(math.Ceil(o.RestMin*o.FPS/float64(s.restStride))))

	s.scratch = make([]float32, max(nn, len(s.rest[0])))
	s.base = make([]float64, 2*nr)
	s.baseSum = make([]float64, 2*nr)
	s.refPending, s.armed, s.lastOff = true, true, math.MinInt/2
	s.cur = make([]float32, 2*nr)
	s.curOK = make([]bool, nr)
	s.amp = make([]float32, nr)
	s.ringAmp = make2(n, nr)
	s.ringX = make2(n, 2*nr)
	s.ringE = make([]float32, n)
	s.ringOK = make([]bool, n)
	s.moved = make([]bool, nr)
	return s, nil
}

func make2(a, b int) [][]float32 {
	out := make([][]float32, a)
	flat := make([]float32, a*b)
	for i := range out {
		out[i] = flat[i*b : (i+1)*b : (i+1)*b]
	}
	return out
}

func make2b(a, b int) [][]bool {
	out := make([][]bool, a)
	flat := make([]bool, a*b)
	for i := range out {
		out[i] = flat[i*b : (i+1)*b : (i+1)*b]
	}
	return out
}

// RestNoise returns region r's rest variability (0 until measured), % IOD.
func (s *Spotter) RestNoise(r int) float64 { return s.restSigma[r] }

// Noise returns region r's current noise estimate: σ of its smoothed
// displacement, % IOD (0 before enough frames).
func (s *Spotter) Noise(r int) float64 { return s.sigma[r] }

// Amplitude returns region r's smoothed displacement from rest at the
// last decided frame, % IOD.
func (s *Spotter) Amplitude(r int) float64 { return float64(s.amp[r]) }

// Last returns the last decided frame (-1 before any).
func (s *Spotter) Last() int { return s.last }

// Threshold returns region r's current movement threshold T_r, % IOD.
func (s *Spotter) Threshold(r int) float64 {
	t := math.Max(s.o.MinMove, s.o.K*math.Max(s.sigma[r], s.restSigma[r]))
	if s.glow > 0 {
		// After an event the face rests within a small fraction of the
		// event's peak displacement of where it was (skin and tracking do
		// not spring back exactly), for about a second.
		dt := float64(s.last-s.lastOff) / s.o.FPS
		t = math.Max(t, afterglow*s.glow*math.Exp(-dt/afterglowSeconds))
	}
	return t
}

// Window is the smoothing window in frames.
func (s *Spotter) Window() int { return s.w }

// Open reports whether an event is in progress.
func (s *Spotter) Open() bool { return s.open }

// Push adds frame t and returns the intervals that closed. Frames must come
// in order; skipped frames count as frames without a face. f.X and f.Valid
// are copied. Frames are decided Delay seconds after they are pushed, so
// that a blink can mask the eyelids from before it is seen.
func (s *Spotter) Push(t int, f Frame) ([]Interval, error) {
	if t <= s.pushed {
		return nil, fmt.Errorf("spot: frame %d after frame %d", t, s.pushed)
	}
	if f.Face && len(f.X) != 2*s.nr {
		return nil, fmt.Errorf("spot: frame %d has %d values, want %d", t, len(f.X), 2*s.nr)
	}
	if f.Face && f.Valid != nil && len(f.Valid) != s.nr {
		return nil, fmt.Errorf("spot: frame %d has %d validity flags, want %d", t, len(f.Valid), s.nr)
	}
	var out []Interval
	for g := s.pushed + 1; g < t; g++ {
		out = append(out, s.enqueue(g, &Frame{})...)
	}
	return append(out, s.enqueue(t, &f)...), nil
}

// queued is a frame waiting for its decision.
type queued struct {
	t      int
	x      []float32
	valid  []bool
	face   bool
	repeat bool
}

func (s *Spotter) enqueue(t int, f *Frame) []Interval {
	s.pushed = t
	q := &s.queue[t%len(s.queue)]
	q.t, q.face, q.repeat = t, f.Face, f.Repeat
	for r := 0; r < s.nr; r++ {
		q.valid[r] = f.Face && (f.Valid == nil || f.Valid[r])
	}
	if f.Face {
		copy(q.x, f.X)
	} else {
		clear(q.x)
	}
	if f.Blink && f.Face {
		// Mask the eyelids from Delay before the blink to Delay after it.
		for g := max(s.last+1, t-s.delay); g <= t; g++ {
			s.maskLids(&s.queue[g%len(s.queue)])
		}
		s.blinkUntil = t + s.delay
	} else if t <= s.blinkUntil {
		s.maskLids(q)
	}
	var out []Interval
	for s.last < t-s.delay {
		out = append(out, s.process(&s.queue[(s.last+1)%len(s.queue)])...)
	}
	return out
}

func (s *Spotter) maskLids(q *queued) {
	for _, r := range s.o.Eyelids {
		q.valid[r] = false
	}
}

// drain decides every queued frame.
func (s *Spotter) drain() []Interval {
	var out []Interval
	for s.last < s.pushed {
		out = append(out, s.process(&s.queue[(s.last+1)%len(s.queue)])...)
	}
	return out
}

// Reset starts over after a cut or a new neutral reference: the frames
// pushed so far are decided, an open event closes at the last of them and
// the baseline restarts from the next frame. The noise estimates are kept
// until the new face replaces them.
func (s *Spotter) Reset() []Interval {
	out := s.drain()
	if s.open {
		out = append(out, s.close(s.last)...)
	}
	s.rawN = 0
	clear(s.prevOK)
	clear(s.haveVal)
	s.baseInit, s.baseN, s.refPending, s.armed = false, 0, true, true
	s.lastOff = math.MinInt / 2 // a new reference: no earlier event to stay clear of
	s.glow = 0
	clear(s.baseSum)
	s.repeats = 0
	s.segStart = s.last + 1
	return out
}

// Flush decides the frames still queued and closes an event still open
// at the end of the stream.
func (s *Spotter) Flush() []Interval {
	out := s.drain()
	if s.open {
		out = append(out, s.close(s.last)...)
	}
	return out
}

func (s *Spotter) process(f *queued) []Interval {
	t := f.t
	s.last = t
	slot := t % len(s.ringE)
	if !f.face {
		s.ringOK[slot], s.ringE[slot] = false, 0
		clear(s.ringAmp[slot])
		clear(s.ringX[slot])
		s.rawN = 0
		clear(s.prevOK)
		var out []Interval
		if s.open {
			out = s.close(t - 1)
		}
		s.segStart = t + 1
		return out
	}
	if f.repeat {
		s.repeats++
	} else {
		s.repeats = 0
	}
	// Raw values; invalid regions hold their last value.
	for r := 0; r < s.nr; r++ {
		if f.valid[r] {
			s.hold[2*r], s.hold[2*r+1] = f.x[2*r], f.x[2*r+1]
			s.haveVal[r] = true
		}
	}
	if !f.repeat {
		s.noiseRaw(f)
	}
	// Moving average over the last w frames.
	i := s.rawN % s.w
	copy(s.raw[i], s.hold)
	copy(s.rawOK[i], f.valid)
	s.rawN++
	n := min(s.rawN, s.w)
	clear(s.cur)
	for r := 0; r < s.nr; r++ {
		s.curOK[r] = s.haveVal[r]
	}
	for k := 0; k < n; k++ {
		for c, v := range s.raw[k] {
			s.cur[c] += v
		}
	}
	for c := range s.cur {
		s.cur[c] /= float32(n)
	}
	s.sigmaAge++
	if s.sigmaAge >= s.everyN || !s.haveSigma {
		s.updateSigma()
		s.sigmaAge = 0
	}
	if !s.baseInit {
		// The rest baseline starts as the mean of the first frames after
		// the reference. Not zero: the reference frame itself reads zero by
		// construction, but every later frame is tracked against the
		// reference's own sensor noise, a constant offset of the order of
		// the jitter.
		if s.refPending {
			s.refPending = false // the reference frame itself
		} else {
			s.baseN++
			for c, v := range s.hold {
				s.baseSum[c] += float64(v)
				s.base[c] = s.baseSum[c] / float64(s.baseN)
			}
			s.baseInit = s.baseN >= s.w
		}
	}
	// Strength E(t): the largest movement in units of its threshold.
	var e float64
	for r := 0; r < s.nr; r++ {
		a := math.Hypot(float64(s.cur[2*r])-s.base[2*r], float64(s.cur[2*r+1])-s.base[2*r+1])
		if !s.curOK[r] || !s.sigmaOK[r] {
			a = 0 // unmeasured, or its noise not yet known
		}
		s.amp[r] = float32(a)
		if s.haveSigma {
			e = math.Max(e, a/s.Threshold(r))
		}
	}
	copy(s.ringAmp[slot], s.amp)
	rx := s.ringX[slot]
	for c, v := range s.cur {
		if s.amp[c/2] == 0 {
			rx[c] = 0
		} else {
			rx[c] = float32(float64(v) - s.base[c])
		}
	}
	s.ringE[slot], s.ringOK[slot] = float32(e), true
	if !s.open {
		if !s.baseInit {
			return nil
		}
		// The rest baseline follows slow changes (posture, fatigue) between
		// events; an event holds it.
		for c, v := range s.cur {
			s.base[c] += s.alpha * (float64(v) - s.base[c])
		}
		if !f.repeat {
			s.restSample(e, restCap)
		}
		// After an event the face must come back within threshold before
		// another can open: a strong expression's tail is not a new one.
		if e < 1 {
			s.armed = true
		}
		if s.haveSigma && s.baseInit && s.armed && e >= 1 && s.repeats < s.repeatN {
			s.open, s.start, s.peakT, s.peak, s.below = true, t, t, e, 0
			clear(s.moved)
			s.markMoved()
		}
		return nil
	}
	if s.repeats >= s.repeatN {
		// A frozen picture: nothing moves any more.
		return s.close(t - s.repeats)
	}
	if !f.repeat {
		// Frames within threshold teach the rest variability even inside
		// an open event: an event opened on slow wander before that
		// variability was known closes once it is.
		s.restSample(e, 1)
	}
	// While open, the event's strength is over the regions that moved (the
	// others' noise would hold it open), and it ends when the face has left
	// the pattern of its peak: the displacement projected on the peak's
	// falls below the boundary level. Regions that crossed their threshold
	// only by wandering weigh little in that projection.
	s.markMoved()
	_, e = s.eNow(t)
	if e > s.peak {
		s.peak, s.peakT = e, t
	}
	a, pn := s.along(t, s.peakT)
	if a < math.Max(s.o.Rel*pn, s.o.Floor) {
		s.below++
	} else {
		s.below = 0
	}
	if s.below >= s.holdN {
		return s.close(t)
	}
	if float64(t-s.start) > s.o.MaxSeconds*s.o.FPS {
		out := s.close(t)
		// A face that stays changed is the new rest.
		for c, v := range s.cur {
			s.base[c] = float64(v)
		}
		return out
	}
	return nil
}

func (s *Spotter) markMoved() {
	for r := 0; r < s.nr; r++ {
		if s.curOK[r] && float64(s.amp[r]) >= s.Threshold(r) {
			s.moved[r] = true
		}
	}
}

// restCap bounds E on the frames between events that teach the rest
// variability. Not 1: where the face wanders more than the white jitter
// says (head micro-motion after the head fit, drifting light), E stays
// above 1 between events, no frame would teach the wander, the threshold
// would stay at the jitter's, and after a first event the spotter would
// never re-arm (a 20 s clip whose later expressions, at 15 times the
// threshold, were all missed). Samples up to 3 thresholds let the
// estimate climb to the wander, after which the cap no longer truncates
// it (T = K·σ_rest puts 3T at 15σ); the median keeps an event's few
// frames below the cap from raising it.
const restCap = 3

// restSample records the face's displacement from its rest baseline on a
// frame with E below limit (between events: restCap; inside one: 1), one
// frame in w/4 (the smoothed values of closer frames are not independent).
func (s *Spotter) restSample(e, limit float64) {
	if e >= limit {
		return
	}
	s.restTick++
	if s.restTick < s.restStride {
		return
	}
	s.restTick = 0
	for r := 0; r < s.nr; r++ {
		if !s.curOK[r] || !s.sigmaOK[r] {
			continue
		}
		for c := 2 * r; c < 2*r+2; c++ {
			s.addSample(s.rest[r], &s.restN[r], float32(float64(s.cur[c])-s.base[c]))
		}
	}
}

// noiseRaw adds each region's second difference over consecutive distinct
// frames (x then y) to its sample ring.
func (s *Spotter) noiseRaw(f *queued) {
	for r := 0; r < s.nr; r++ {
		if !f.valid[r] {
			s.prevOK[r] = 0
			continue
		}
		for c := 2 * r; c < 2*r+2; c++ {
			if s.prevOK[r] >= 2 {
				d := s.prev1[c] - (s.prev2[c]+f.x[c])/2
				s.addSample(s.d1[r], &s.d1n[r], d)
			}
			s.prev2[c], s.prev1[c] = s.prev1[c], f.x[c]
		}
		s.prevOK[r] = min(s.prevOK[r]+1, 3)
	}
}

func (s *Spotter) addSample(ring []float32, n *int, d float32) {
	ring[*n%len(ring)] = float32(math.Abs(float64(d)))
	*n++
}

// afterglow is the fraction of an event's peak displacement, per region,
// that the face may still be away from its rest after the event, and
// afterglowSeconds how long that lasts (time constant).
const (
	afterglow        = 0.1
	afterglowSeconds = 1.0
)

// minSamples is how many noise samples a region needs before its estimate
// counts (per axis pair: 4 frames).
const minSamples = 8

// madToSigma turns the median |second difference| into σ of the raw
// signal: the difference has variance 1.5σ² for white noise, and the
// median of |N(0,1)| is 0.6745.
var madToSigma = 1 / (0.6745 * math.Sqrt(1.5))

// updateSigma recomputes σ_r of the smoothed displacement per region.
func (s *Spotter) updateSigma() {
	any := false
	for r := 0; r < s.nr; r++ {
		if s.d1n[r] < minSamples {
			continue
		}
		// The long window is steady; the short one catches a rise in the
		// noise (a lighting change, a moving head) within a tenth of a second
		// (the decision delay), not half the long window. It takes over only when clearly
		// larger, so that its own scatter does not bias the estimate up.
		m := s.median(s.d1[r], s.d1n[r], len(s.d1[r]))
		if short := s.median(s.d1[r], s.d1n[r], s.shortN); short > 1.5*m {
			m = short
		}
		s.sigma[r] = m * madToSigma / math.Sqrt(float64(s.w))
		s.sigmaOK[r] = true
		if s.restN[r] >= s.restMin {
			s.restSigma[r] = s.median(s.rest[r], s.restN[r], len(s.rest[r])) / 0.6745
		}
		any = true
	}
	if any {
		s.haveSigma = true
	}
}

// median is the median of the last min(n, last) samples of ring, where n
// samples have been written in all.
func (s *Spotter) median(ring []float32, n, last int) float64 {
	k := min(n, len(ring), last)
	buf := s.scratch[:k]
	for i := range buf {
		buf[i] = ring[(n-1-i)%len(ring)]
	}
	return float64(selectK(buf, k/2))
}

// selectK returns the k-th smallest element of a (0-based), reordering a:
// Hoare's selection with a median-of-three pivot, linear on average.
func selectK(a []float32, k int) float32 {
	lo, hi := 0, len(a)-1
	for lo < hi {
		mid := lo + (hi-lo)/2
		if a[mid] < a[lo] {
			a[mid], a[lo] = a[lo], a[mid]
		}
		if a[hi] < a[lo] {
			a[hi], a[lo] = a[lo], a[hi]
		}
		if a[hi] < a[mid] {
			a[hi], a[mid] = a[mid], a[hi]
		}
		p := a[mid]
		i, j := lo, hi
		for i <= j {
			for a[i] < p {
				i++
			}
			for a[j] > p {
				j--
			}
			if i <= j {
				a[i], a[j] = a[j], a[i]
				i++
				j--
			}
		}
		switch {
		case k <= j:
			hi = j
		case k >= i:
			lo = i
		default:
			return a[k]
		}
	}
	return a[k]
}

func (s *Spotter) okAt(t int) bool { return s.ringOK[t%len(s.ringE)] }

// eNow is the open event's strength at frame t over the regions that
// moved, with the current thresholds (the noise estimate has grown more
// samples since the frame was seen): the largest and the RMS of the
// regions' displacements in units of their thresholds. The RMS decides the
// boundaries: for noise it is about √2·σ whatever the number of regions,
// where the largest of many regions' noise grows with their number.
func (s *Spotter) eNow(t int) (maxE, rms float64) {
	if !s.okAt(t) {
		return 0, 0
	}
	amp := s.ringAmp[t%len(s.ringE)]
	n := 0
	for r, m := range s.moved {
		if m {
			e := float64(amp[r]) / s.Threshold(r)
			maxE = math.Max(maxE, e)
			rms += e * e
			n++
		}
	}
	if n > 0 {
		rms = math.Sqrt(rms / float64(n))
	}
	return maxE, rms
}

// along returns frame g's displacement projected on frame ref's, over the
// regions that moved, both in units of the regions' thresholds, and the
// norm of ref's: a matched filter for the event's pattern, whose noise is
// about 1/K.
func (s *Spotter) along(g, ref int) (a, norm float64) {
	p := s.ringX[ref%len(s.ringE)]
	x := s.ringX[g%len(s.ringE)]
	for r, m := range s.moved {
		if !m {
			continue
		}
		tr := s.Threshold(r)
		norm += (float64(p[2*r])*float64(p[2*r]) + float64(p[2*r+1])*float64(p[2*r+1])) / (tr * tr)
		a += (float64(x[2*r])*float64(p[2*r]) + float64(x[2*r+1])*float64(p[2*r+1])) / (tr * tr)
	}
	norm = math.Sqrt(norm)
	if norm == 0 || !s.okAt(g) {
		return 0, norm
	}
	return a / norm, norm
}

// close ends the open event with t the last frame that belongs to it.
func (s *Spotter) close(t int) []Interval {
	s.open, s.armed = false, false
	if t < s.start {
		return nil
	}
	oldest := max(s.segStart, s.last-len(s.ringE)+1, s.lastOff+1)
	var regs []int
	for r, m := range s.moved {
		if m {
			regs = append(regs, r)
		}
	}
	// The apex is the frame of largest displacement over the moved
	// regions. The event's intensity at any frame is its displacement
	// projected on the apex's, in units of the regions' thresholds: a
	// matched filter dominated by the regions that moved most, whose noise
	// is about 1/K, so that a region that wandered over its threshold
	// before or after the expression does not stretch it. The event's core
	// is the stretch around the apex where that intensity is above 1 (dips
	// shorter than Hold bridged); it extends on either side while the
	// intensity stays above the boundary level (the noise as now known).
	strength := 0.0
	for g := s.start; g <= t; g++ {
		m, _ := s.eNow(g)
		strength = math.Max(strength, m)
	}
	if strength < 1 {
		return nil
	}
	apex, _ := s.apex(s.start, t, regs)
	_, pn := s.along(apex, apex)
	along := func(g int) float64 {
		a, _ := s.along(g, apex)
		return a
	}
	first, last := apex, apex
	for g, gap := apex-1, 0; g >= max(oldest, s.start-s.holdN) && s.okAt(g) && gap < s.holdN; g-- {
		if along(g) >= 1 {
			first, gap = g, 0
		} else {
			gap++
		}
	}
	for g, gap := apex+1, 0; g <= t && s.okAt(g) && gap < s.holdN; g++ {
		if along(g) >= 1 {
			last, gap = g, 0
		} else {
			gap++
		}
	}
	lvl := math.Max(s.o.Rel*pn, s.o.Floor)
	on := first
	for on > oldest && s.okAt(on-1) && along(on-1) >= lvl {
		on--
	}
	// The rest baseline of a new reference is learnt over its first w
	// frames and the average lags w more: an event already rising out of
	// them began before its onset could be told, with the reference itself
	// (a clip cut at its onset).
	if on <= s.segStart+2*s.w+1 && s.segStart >= oldest-2*s.w-1 && s.lastOff < s.segStart {
		on = s.segStart
	}
	off := last
	for off < t && s.okAt(off+1) && along(off+1) >= lvl {
		off++
	}
	var disp float64
	for _, a := range s.ringAmp[apex%len(s.ringE)] {
		disp = math.Max(disp, float64(a))
	}
	// The causal average lags by (w−1)/2 frames, except where the event
	// runs into the first or last frame of the stream, which it may
	// continue beyond.
	lag := (s.w - 1) / 2
	iv := Interval{Onset: on - lag, Apex: apex - lag, Offset: off - lag, Peak: disp, Strength: strength, Regions: regs}
	if on == oldest || iv.Onset < oldest {
		iv.Onset = on
	}
	if off == s.last {
		iv.Offset = off
	}
	iv.Apex = min(max(iv.Apex, iv.Onset), iv.Offset)
	iv.Kind = "macro"
	if iv.Seconds(s.o.FPS) <= s.o.MicroMax {
		iv.Kind = "micro"
	}
	// Too short to be an expression (a few noisy frames), or not above
	// threshold long enough with the noise as now known: noise crosses the
	// threshold for about a smoothing window, an expression for longer.
	above := 0
	for g := on; g <= off; g++ {
		if along(g) >= 1 {
			above++
		}
	}
	if iv.Offset-iv.Onset+1 < s.minN || above < s.sustainN {
		return nil
	}
	s.lastOff = off
	// The afterglow is the event's largest displacement, on every region:
	// a large movement anywhere leaves the tracked face a little off its
	// rest everywhere (the head fit and the tracker settle together).
	var top float64
	for g := on; g <= off; g++ {
		for _, a := range s.ringAmp[g%len(s.ringE)] {
			top = math.Max(top, float64(a))
		}
	}
	s.glow = top
	return []Interval{iv}
}

// apex returns the frame of largest displacement over regions regs in
// [lo, hi] and that displacement (RMS over the regions, % IOD).
func (s *Spotter) apex(lo, hi int, regs []int) (int, float64) {
	best, bestT := -1.0, lo
	disp := func(t int) float64 {
		if !s.okAt(t) {
			return -1
		}
		var sum float64
		for _, r := range regs {
			a := float64(s.ringAmp[t%len(s.ringE)][r])
			sum += a * a
		}
		return math.Sqrt(sum / float64(max(1, len(regs))))
	}
	for t := lo; t <= hi; t++ {
		if d := disp(t); d > best {
			best, bestT = d, t
		}
	}
	// Centre of the contiguous frames within 5 % of the top.
	a, b := bestT, bestT
	for a > lo && disp(a-1) >= 0.95*best {
		a--
	}
	for b < hi && disp(b+1) >= 0.95*best {
		b++
	}
	return (a + b) / 2, best
}

// Describe describes frames on..off, already decided (on ≥ the oldest frame
// the window holds, off ≤ Last), as one expression whose timing is known:
// the regions that moved in it (all measured regions when none crossed its
// threshold), its apex (the largest displacement over them, at the centre
// of its top plateau), peak and kind. It is for clips whose onset and
// offset are coded; spotting may not have found them.
func (s *Spotter) Describe(on, off int) (Interval, error) {
	oldest := max(0, s.last-len(s.ringE)+1)
	if on < oldest || off > s.last || off < on {
		return Interval{}, fmt.Errorf("spot: frames %d..%d are not in the window %d..%d", on, off, oldest, s.last)
	}
	var regs []int
	for r := 0; r < s.nr; r++ {
		for g := on; g <= off; g++ {
			if s.okAt(g) && float64(s.ringAmp[g%len(s.ringE)][r]) >= s.Threshold(r) {
				regs = append(regs, r)
				break
			}
		}
	}
	if len(regs) == 0 {
		for r := 0; r < s.nr; r++ {
			regs = append(regs, r)
		}
	}
	// The causal average lags by (w−1)/2 frames: the displacement of frame
	// g is read at g+lag while the window holds it.
	lag := (s.w - 1) / 2
	lo, hi := min(on+lag, s.last), min(off+lag, s.last)
	apex, _ := s.apex(lo, hi, regs)
	iv := Interval{Onset: on, Offset: off, Apex: min(max(apex-lag, on), off), Regions: regs}
	for g := lo; g <= hi; g++ {
		if !s.okAt(g) {
			continue
		}
		for _, r := range regs {
			iv.Strength = math.Max(iv.Strength, float64(s.ringAmp[g%len(s.ringE)][r])/s.Threshold(r))
		}
	}
	for _, a := range s.ringAmp[apex%len(s.ringE)] {
		iv.Peak = math.Max(iv.Peak, float64(a))
	}
	iv.Kind = "macro"
	if iv.Seconds(s.o.FPS) <= s.o.MicroMax {
		iv.Kind = "micro"
	}
	return iv, nil
}
