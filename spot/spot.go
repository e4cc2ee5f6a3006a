// Package spot finds expression intervals (onset, apex, offset) in a stream
// of per-frame facial motion, and calls each a micro-expression (≤ 0.5 s) or
// a macro-expression.
//
// Limits: any non-rigid facial motion is spotted (speech, blinks, chewing),
// not only expressions; the thresholds are fixed, not learnt, and have been
// measured on synthetic clips only.
//
// The signal is the face's non-rigid motion against a neutral reference
// (au's Measurement.Expression: the motion the AU basis explains). Sensor noise adds to it in quadrature, so a running
// noise floor b, learnt on quiet frames, is removed as s = √max(0, m² − b²).
// An event opens when s rises above High (and above K·b), and closes once s
// has stayed below Rel·peak for Hold seconds; onset and offset are then the
// first and last frames at or above Rel·peak around the peak, found in a
// sliding window of recent frames. Memory is that window, whatever the
// video's length.
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
	FPS        float64 // frames per second (required)
	High       float64 // absolute opening threshold on s, canonical px; 0.08
	K          float64 // opening threshold relative to the noise floor; 2.5
	Rel        float64 // boundary level as a fraction of the event's peak; 0.12
	Hold       float64 // seconds below the boundary level that close an event; 0.06
	MaxSeconds float64 // longest event; longer ones are cut; 8
	MicroMax   float64 // longest micro-expression, seconds; 0.5
}

func (o Options) withDefaults() Options {
	if o.High <= 0 {
		o.High = 0.08
	}
	if o.K <= 0 {
		o.K = 2.5
	}
	if o.Rel <= 0 {
		o.Rel = 0.12
	}
	if o.Hold <= 0 {
		o.Hold = 0.06
	}
	if o.MaxSeconds <= 0 {
		o.MaxSeconds = 8
	}
	if o.MicroMax <= 0 {
		o.MicroMax = 0.5
	}
	return o
}

// Interval is one spotted expression; frames are 0-based and inclusive.
type Interval struct {
	Onset, Apex, Offset int
	Kind                string  // "micro" or "macro"
	Peak                float64 // signal at the apex, canonical px
}

// Seconds is the interval's duration.
func (iv Interval) Seconds(fps float64) float64 { return float64(iv.Offset-iv.Onset+1) / fps }

// Spotter is the streaming detector. Push frames in order.
type Spotter struct {
	o      Options
	ring   []float32 // s by frame, ring of len ring
	valid  []bool
	last   int // last frame pushed
	noise2 float64
	nQuiet int
	// open event
	open      bool
	start     int // first frame above the opening threshold
	peakT     int
	peak      float64
	below     int // consecutive frames below the boundary level
	holdN     int
	smoothN   int
	smoothBuf []float64
}

// New returns a spotter.
func New(o Options) (*Spotter, error) {
	if !(o.FPS > 0) || o.FPS > MaxFPS {
		return nil, fmt.Errorf("spot: frame rate %v must be positive and at most %v", o.FPS, float64(MaxFPS))
	}
	o = o.withDefaults()
	// The ring holds the longest event plus margins; bound it so that a
	// silly frame rate or MaxSeconds gives an error, not a huge allocation.
	frames := math.Ceil((o.MaxSeconds + 2) * o.FPS)
	if !(frames <= maxRing) {
		return nil, fmt.Errorf("spot: MaxSeconds %v at %v fps needs a %v-frame window, more than %d", o.MaxSeconds, o.FPS, frames, maxRing)
	}
	n := int(frames) + 8
	s := &Spotter{o: o, ring: make([]float32, n), valid: make([]bool, n), last: -1}
	s.holdN = max(2, int(math.Round(o.Hold*o.FPS)))
	// Light temporal smoothing (~15 ms, at least one frame).
	s.smoothN = max(1, int(math.Round(0.015*o.FPS)))
	return s, nil
}

// NoiseFloor is the current estimate of the motion noise floor.
func (s *Spotter) NoiseFloor() float64 { return math.Sqrt(s.noise2) }

func (s *Spotter) at(t int) float64 { return float64(s.ring[t%len(s.ring)]) }

// Push adds frame t's motion (ok false for a frame without a tracked face)
// and returns the intervals that closed. Frames must come in order; skipped
// frames count as untracked.
func (s *Spotter) Push(t int, motion float64, ok bool) []Interval {
	var out []Interval
	for f := s.last + 1; f < t; f++ {
		out = append(out, s.push(f, 0, false)...)
	}
	return append(out, s.push(t, motion, ok)...)
}

func (s *Spotter) push(t int, m float64, ok bool) []Interval {
	s.last = t
	// Noise floor: mean square of the motion on quiet frames; the first
	// frames seed it quickly, later it adapts over about two seconds.
	var sig float64
	if ok {
		if !s.open && m > 0 {
			thr := math.Max(s.o.High, s.o.K*math.Sqrt(s.noise2))
			if s.nQuiet < 3 || m*m < thr*thr+s.noise2 {
				s.nQuiet++
				a := 1 / math.Min(float64(s.nQuiet), 2*s.o.FPS)
				s.noise2 += a * (m*m - s.noise2)
			}
		}
		sig = math.Sqrt(math.Max(0, m*m-s.noise2))
	}
	// Causal moving average over smoothN frames.
	s.smoothBuf = append(s.smoothBuf, sig)
	if len(s.smoothBuf) > s.smoothN {
		s.smoothBuf = s.smoothBuf[1:]
	}
	var sm float64
	for _, v := range s.smoothBuf {
		sm += v
	}
	sm /= float64(len(s.smoothBuf))
	if !ok {
		sm = 0
		s.smoothBuf = s.smoothBuf[:0]
	}
	s.ring[t%len(s.ring)] = float32(sm)
	s.valid[t%len(s.ring)] = ok
	if !s.open {
		thr := math.Max(s.o.High, s.o.K*math.Sqrt(s.noise2)-math.Sqrt(s.noise2))
		if ok && sm > thr && s.nQuiet >= 3 {
			s.open, s.start, s.peakT, s.peak, s.below = true, t, t, sm, 0
		}
		return nil
	}
	if !ok {
		return s.close(t - 1)
	}
	if sm > s.peak {
		s.peak, s.peakT = sm, t
	}
	if sm < s.level() {
		s.below++
	} else {
		s.below = 0
	}
	if s.below >= s.holdN {
		return s.close(t)
	}
	if float64(t-s.start) > s.o.MaxSeconds*s.o.FPS {
		return s.close(t)
	}
	return nil
}

// level is the boundary level of the open event: a fraction of its peak,
// but never inside the noise.
func (s *Spotter) level() float64 {
	return math.Max(s.o.Rel*s.peak, 1.5*math.Sqrt(s.noise2))
}

// close ends the open event with t the last frame seen.
func (s *Spotter) close(t int) []Interval {
	s.open = false
	lvl := s.level()
	oldest := max(0, s.last-len(s.ring)+1)
	on := s.start
	for on > oldest && s.valid[(on-1)%len(s.ring)] && s.at(on-1) >= lvl {
		on--
	}
	off := s.peakT
	for off < t && s.at(off+1) >= lvl {
		off++
	}
	// The causal average lags by (smoothN-1)/2 frames.
	lag := (s.smoothN - 1) / 2
	iv := Interval{Onset: max(0, on-lag), Apex: max(0, s.peakT-lag), Offset: max(0, off-lag), Peak: s.peak}
	iv.Kind = "macro"
	if iv.Seconds(s.o.FPS) <= s.o.MicroMax {
		iv.Kind = "micro"
	}
	// Too short to be an expression (one or two noisy frames).
	if iv.Offset-iv.Onset+1 < 2 || iv.Seconds(s.o.FPS) < 0.04 {
		return nil
	}
	return []Interval{iv}
}

// Flush closes an event still open at the end of the stream.
func (s *Spotter) Flush() []Interval {
	if !s.open {
		return nil
	}
	return s.close(s.last)
}

// Open reports whether an event is in progress.
func (s *Spotter) Open() bool { return s.open }
