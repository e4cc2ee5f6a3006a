// Package synth makes synthetic facial-expression clips with known ground
// truth, from one face image (by default the public-domain astronaut
// portrait), with sensor noise, slight head motion and an illumination
// drift. Two generators (Model):
//
//   - Muscle: independent of package au. Waters-style linear muscles and
//     sphincters, a hinged jaw and lips that part as a real gap (muscle.go);
//     AU combinations drawn from co-occurrence tendencies, not emotion
//     prototypes (cooccur.go); each AU with its own onset, apex and offset;
//     the largest skin movement of an expression drawn from MicroAmp or
//     MacroAmp (micro-expressions at real amplitudes, 0.1–1 px); on a
//     neutralised face (neutral.go). Use it to measure an estimator.
//   - Basis (the zero value): Gaussian AU fields moved the way au's movement
//     basis moves (aus.go), EMFACS prototypes, one raised-cosine curve, the
//     smiling portrait as neutral. An estimator built on that basis only
//     undoes it: a regression check, not a measurement.
//
// Limits: one face, its identity and lighting fixed (pseudo-subjects are
// the same person); 2-D warps of a photograph, so no wrinkles, furrows or
// shading change with the muscles, no eye or gaze movement, no blinks
// (AU45), no out-of-plane head rotation; the muscle attachments are
// approximations from anatomy, not fitted to any face; the neutral face
// keeps the smile's cheek shading (pretrained expression classifiers still
// read it as happy); labels of Muscle clips are Davison's objective classes
// of the drawn AUs, not emotions anyone felt.
//
// Clips render on demand, frame by frame (Clip.Frame), so tests and the
// pipeline can use them without files; Write stores frames, a manifest and an
// MP4.
package synth

import (
	"fmt"
	"image"
	"math"
	"math/rand/v2"
)

// Config controls the clips.
type Config struct {
	Width, Height int     // output frame size; default 256×256
	Scale         float64 // output pixels per source pixel; default 1.5
	FPS           float64 // frames per second; 0 alternates 200 and 30 across clips
	Seed          uint64
	MinAmp        float64 // displacement (output px) at intensity 0; default 0.5
	MaxAmp        float64 // displacement at intensity 1; default 3
	Noise         float64 // sensor noise std in grey levels; default 1.5; <0 for none
	Head          float64 // head motion amplitude in output px; default 0.8; <0 for none
	Illum         float64 // relative illumination drift; default 0.03; <0 for none
	// Long makes each clip a long neutral timeline of Duration seconds with
	// Events expressions (micro and macro) for spotting.
	Long     bool
	Duration float64
	Events   int
	// Kind forces "micro" or "macro" for short clips; "" mixes them.
	Kind string
	// Subjects > 1 assigns clips round-robin to that many pseudo-subjects
	// ("astronaut-1".."astronaut-N"): the same face, so that protocols that
	// split by subject (holdout, k-fold) can run on synthetic data.
	Subjects int
	// Codes, when set, replaces the emotion prototypes (Basis) or the drawn
	// AU combinations (Muscle) by these FACS codes ("1+2+25", "R12",
	// "4C+7"), used in turn; such clips are labelled by Davison's objective
	// class ("I".."VII").
	Codes []string
	// Model is the generator (Basis when empty; see Model).
	Model Model
	// MicroAmp and MacroAmp are the Muscle model's ranges of an
	// expression's largest skin displacement, in output pixels, drawn
	// log-uniformly (defaults defaultMicroAmp, defaultMacroAmp). The Basis
	// model uses MinAmp and MaxAmp instead.
	MicroAmp, MacroAmp [2]float64
	// AsIs makes the Muscle model use the face as its neutral face; by
	// default it neutralises it first (Neutralize).
	AsIs bool
}

func (c Config) withDefaults() Config {
	if c.Width <= 0 {
		c.Width = 256
	}
	if c.Height <= 0 {
		c.Height = 256
	}
	if c.Scale <= 0 {
		c.Scale = 1.5
	}
	if c.MinAmp <= 0 {
		c.MinAmp = 0.5
	}
	if c.MaxAmp <= 0 {
		c.MaxAmp = 3
	}
	if c.Noise == 0 {
		c.Noise = 1.5
	}
	if c.Head == 0 {
		c.Head = 0.8
	}
	if c.Illum == 0 {
		c.Illum = 0.03
	}
	if c.MicroAmp == [2]float64{} {
		c.MicroAmp = defaultMicroAmp
	}
	if c.MacroAmp == [2]float64{} {
		c.MacroAmp = defaultMacroAmp
	}
	if c.Long {
		if c.Duration <= 0 {
			c.Duration = 20
		}
		if c.Events <= 0 {
			c.Events = int(c.Duration / 4)
			if c.Events < 1 {
				c.Events = 1
			}
		}
	}
	return c
}

// Event is one expression of a clip with its true timing (frame indices,
// 0-based, inclusive), AUs and label.
type Event struct {
	Onset, Apex, Offset int
	// ApexEnd is the last frame of the apex plateau (= Apex for micro).
	ApexEnd int
	Label   string
	Kind    string // "micro" or "macro"
	AUs     []ActiveAU
	// Amplitude is the Muscle model's largest skin movement during the
	// event, in output pixels (0 for the Basis model).
	Amplitude float64
	fl        *field       // Basis
	mus       *muscleEvent // Muscle
}

// AUString is the FACS string of the event's AUs, e.g. "1C+4B+15D".
func (e *Event) AUString() string {
	s := ""
	for i, a := range e.AUs {
		if i > 0 {
			s += "+"
		}
		s += a.String()
	}
	return s
}

// level is the event's activation (0..1) at frame t.
func (e *Event) level(t int) float64 {
	switch {
	case t < e.Onset || t > e.Offset:
		return 0
	case t < e.Apex:
		return 0.5 * (1 - math.Cos(math.Pi*float64(t-e.Onset)/float64(e.Apex-e.Onset)))
	case t <= e.ApexEnd:
		return 1
	default:
		return 0.5 * (1 + math.Cos(math.Pi*float64(t-e.ApexEnd)/float64(e.Offset-e.ApexEnd)))
	}
}

// Clip is one synthetic video with its ground truth.
type Clip struct {
	Name    string
	Subject string
	FPS     float64
	Frames  int
	W, H    int
	Events  []Event
	face    *Face
	cfg     Config
	seed    uint64
	ph      [6]float64 // head-motion and illumination phases
	base    view
	model   Model
	mf      *muscleFace // Muscle: the neutral face and its geometry
}

// Limits on a plan: clips are laid out up front, and frame counts and sizes
// come from user flags, so absurd values must be refused before anything is
// allocated or written (a billion clips do not fit in memory; at 1e308 fps
// frame numbers overflow).
const (
	MaxClips  = 100000 // clips per plan
	MaxSide   = 8192   // frame width or height, pixels
	MaxFPS    = 10000  // frames per second
	MaxFrames = 1 << 24
)

// validate checks the fields a user sets; zero values take defaults later.
func (c Config) validate(n int) error {
	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	switch {
	case n <= 0 || n > MaxClips:
		return fmt.Errorf("synth: need between 1 and %d clips, got %d", MaxClips, n)
	case c.Width < 0 || c.Height < 0 || c.Width > MaxSide || c.Height > MaxSide:
		return fmt.Errorf("synth: frame size %dx%d outside 1..%d", c.Width, c.Height, MaxSide)
	case !finite(c.FPS) || c.FPS < 0 || c.FPS > MaxFPS:
		return fmt.Errorf("synth: frame rate %v: want 0 (alternate 200 and 30) or a rate in (0, %d]", c.FPS, MaxFPS)
	case !finite(c.Scale) || c.Scale < 0:
		return fmt.Errorf("synth: scale %v: want a positive number (0 for the default)", c.Scale)
	case !finite(c.Noise) || !finite(c.Head) || !finite(c.Illum) || !finite(c.MinAmp) || !finite(c.MaxAmp):
		return fmt.Errorf("synth: noise, head motion, illumination and amplitudes must be finite")
	case c.Subjects < 0:
		return fmt.Errorf("synth: subjects %d must not be negative", c.Subjects)
	case c.Long && (!finite(c.Duration) || c.Duration < 0 || c.Events < 0):
		return fmt.Errorf("synth: long clips need a positive duration and event count, got %v s and %d", c.Duration, c.Events)
	case c.Long && c.Duration*max(c.FPS, 30) > MaxFrames:
		return fmt.Errorf("synth: %v s at %v fps is more than %d frames per clip", c.Duration, max(c.FPS, 30), MaxFrames)
	case c.Model != "" && c.Model != Basis && c.Model != Muscle:
		return fmt.Errorf("synth: model %q: want %q or %q", c.Model, Muscle, Basis)
	}
	for _, r := range [][2]float64{c.MicroAmp, c.MacroAmp} {
		if r == [2]float64{} {
			continue
		}
		if !finite(r[0]) || !finite(r[1]) || r[0] <= 0 || r[1] < r[0] || r[1] > 1000 {
			return fmt.Errorf("synth: amplitude range %v px: want 0 < low ≤ high ≤ 1000", r)
		}
	}
	return nil
}

// Plan lays out n clips from face under cfg. The same seed gives the same clips.
func Plan(face *Face, cfg Config, n int) ([]*Clip, error) {
	if err := cfg.validate(n); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	if cfg.Kind != "" && cfg.Kind != "micro" && cfg.Kind != "macro" {
		return nil, fmt.Errorf("synth: kind %q: want micro, macro or empty", cfg.Kind)
	}
	if cfg.Model == Muscle {
		return planMuscle(face, cfg, n)
	}
	protos := prototypes
	if len(cfg.Codes) > 0 {
		protos = nil
		for _, cs := range cfg.Codes {
			p, err := codePrototype(cs)
			if err != nil {
				return nil, err
			}
			protos = append(protos, p)
		}
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x5e7a11))
	ff := frameOf(&face.LM)
	clips := make([]*Clip, n)
	for i := range clips {
		fps := cfg.FPS
		if fps <= 0 {
			fps = 200
			if (i/len(protos))%2 == 1 {
				fps = 30
			}
			if cfg.Long {
				fps = 30
			}
		}
		c := &Clip{
			Name: fmt.Sprintf("clip%03d", i), Subject: subjectOf(i, cfg.Subjects), FPS: fps,
			W: cfg.Width, H: cfg.Height, face: face, cfg: cfg, seed: rng.Uint64(),
			base: view{w: cfg.Width, h: cfg.Height, scale: cfg.Scale, cx: ff.cx, cy: ff.cy},
		}
		for k := range c.ph {
			c.ph[k] = rng.Float64() * 2 * math.Pi
		}
		if cfg.Long {
			c.Frames = int(cfg.Duration * fps)
			slot := c.Frames / cfg.Events
			for k := 0; k < cfg.Events; k++ {
				kind := "micro"
				if k%2 == 1 {
					kind = "macro"
				}
				if cfg.Kind != "" {
					kind = cfg.Kind
				}
				e := newEvent(rng, protos[rng.IntN(len(protos))], kind, fps)
				span := e.Offset
				margin := int(0.5 * fps)
				room := slot - span - 2*margin
				if room < 0 {
					return nil, fmt.Errorf("synth: %d events do not fit in %.1f s", cfg.Events, cfg.Duration)
				}
				shift := k*slot + margin + rng.IntN(room+1)
				e.Onset += shift
				e.Apex += shift
				e.ApexEnd += shift
				e.Offset += shift
				c.Events = append(c.Events, e)
			}
		} else {
			kind := "micro"
			if i%5 == 4 {
				kind = "macro"
			}
			if cfg.Kind != "" {
				kind = cfg.Kind
			}
			e := newEvent(rng, protos[i%len(protos)], kind, fps)
			lead := int((0.3 + 0.2*rng.Float64()) * fps)
			e.Onset += lead
			e.Apex += lead
			e.ApexEnd += lead
			e.Offset += lead
			c.Frames = e.Offset + 1 + int(0.4*fps)
			c.Events = []Event{e}
		}
		for k := range c.Events {
			e := &c.Events[k]
			e.fl = buildField(face, e.AUs, func(v float64) float64 {
				return (cfg.MinAmp + (cfg.MaxAmp-cfg.MinAmp)*v) / cfg.Scale
			})
		}
		clips[i] = c
	}
	return clips, nil
}

func subjectOf(i, n int) string {
	if n <= 1 {
		return "astronaut"
	}
	return fmt.Sprintf("astronaut-%d", i%n+1)
}

// newEvent draws the timing and intensities of one expression starting at
// frame 0.
func newEvent(rng *rand.Rand, p prototype, kind string, fps float64) Event {
	e := Event{Label: p.label, Kind: kind}
	for _, a := range p.aus {
		v := a.level
		if v == 0 {
			v = 0.35 + 0.65*rng.Float64()
		}
		e.AUs = append(e.AUs, ActiveAU{AU: a.au, Side: a.side, Intensity: v})
	}
	var dur, rise, plateau float64
	if kind == "micro" {
		dur = 0.2 + 0.3*rng.Float64() // onset to offset ≤ 0.5 s
		rise = dur * (0.35 + 0.15*rng.Float64())
	} else {
		dur = 0.8 + 1.7*rng.Float64()
		rise = dur * (0.25 + 0.1*rng.Float64())
		plateau = dur * 0.3
	}
	e.Onset = 0
	e.Apex = max(1, int(math.Round(rise*fps)))
	e.ApexEnd = e.Apex + int(math.Round(plateau*fps))
	e.Offset = max(e.ApexEnd+1, int(math.Round(dur*fps)))
	return e
}

// viewAt is the camera at frame t: slow head motion from sums of sines.
func (c *Clip) viewAt(t int) view {
	v := c.base
	if c.cfg.Head > 0 {
		s := float64(t) / c.FPS
		v.tx = c.cfg.Head * (0.6*math.Sin(2*math.Pi*s/5.3+c.ph[0]) + 0.4*math.Sin(2*math.Pi*s/3.1+c.ph[1]))
		v.ty = c.cfg.Head * (0.6*math.Sin(2*math.Pi*s/4.7+c.ph[2]) + 0.4*math.Sin(2*math.Pi*s/2.9+c.ph[3]))
		v.th = c.cfg.Head * 0.004 * math.Sin(2*math.Pi*s/6.1+c.ph[4])
	}
	return v
}

func (c *Clip) gainAt(t int) float32 {
	if c.cfg.Illum <= 0 {
		return 1
	}
	s := float64(t) / c.FPS
	return float32(1 + c.cfg.Illum*math.Sin(2*math.Pi*s/9.7+c.ph[5]))
}

// active returns the event covering frame t and its level, or nil.
func (c *Clip) active(t int) (*Event, float64) {
	for k := range c.Events {
		if l := c.Events[k].level(t); l > 0 {
			return &c.Events[k], l
		}
	}
	return nil, 0
}

// Frame renders frame t into dst (allocated when nil or the wrong size) and
// returns it.
func (c *Clip) Frame(t int, dst *image.RGBA) *image.RGBA {
	if dst == nil || dst.Rect.Dx() != c.W || dst.Rect.Dy() != c.H {
		dst = image.NewRGBA(image.Rect(0, 0, c.W, c.H))
	}
	if c.model == Muscle {
		c.renderMuscle(t, dst)
		return dst
	}
	v := c.viewAt(t)
	e, l := c.active(t)
	var fl *field
	if e != nil {
		fl = e.fl
	}
	rng := rand.New(rand.NewPCG(c.seed, uint64(t)))
	noise := c.cfg.Noise
	if noise < 0 {
		noise = 0
	}
	render(dst, c.face, fl, float32(l), &v, c.gainAt(t), noise, rng)
	return dst
}

// Landmarks returns the true 68 landmarks of frame t in output pixels,
// including the expression's displacement.
func (c *Clip) Landmarks(t int) [68][2]float32 {
	v := c.viewAt(t)
	if c.model == Muscle {
		var out [68][2]float32
		for i, p := range c.muscleLandmarks(t) {
			ox, oy := v.toOutput(p[0], p[1])
			out[i] = [2]float32{float32(ox), float32(oy)}
		}
		return out
	}
	e, l := c.active(t)
	var out [68][2]float32
	for i, p := range c.face.LM {
		x, y := float64(p[0]), float64(p[1])
		if e != nil {
			ux, uy := e.fl.at(p[0], p[1])
			x += l * float64(ux)
			y += l * float64(uy)
		}
		ox, oy := v.toOutput(x, y)
		out[i] = [2]float32{float32(ox), float32(oy)}
	}
	return out
}

// Truth returns the true AU intensities (0..1 of the AU's peak times the
// temporal level) at frame t, keyed by AU number, and the event label ("" when
// neutral).
func (c *Clip) Truth(t int) (map[int]float64, string) {
	if c.model == Muscle {
		return c.muscleTruth(t)
	}
	e, l := c.active(t)
	if e == nil {
		return nil, ""
	}
	m := make(map[int]float64, len(e.AUs))
	for _, a := range e.AUs {
		m[a.AU] = a.Intensity * l
	}
	return m, e.Label
}
