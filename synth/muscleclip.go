package synth

import (
	"fmt"
	"image"
	"math"
	"math/rand/v2"
	"strings"
	"sync"

	"github.com/tell-project/tell/facs"
	"github.com/tell-project/tell/raster"
)

// Model selects how a clip's expressions are made.
type Model string

const (
	// Basis is the first generator: per-AU Gaussian bumps on the landmarks
	// moved in the directions package au's movement basis uses, EMFACS
	// prototypes from package facs, one raised-cosine curve for all AUs, and
	// the smiling portrait as the neutral face. An estimator built on the
	// same basis can only be shown to undo it: clips of this model are a
	// regression check, not a validation. It is the zero value, so that
	// existing callers keep their clips.
	Basis Model = "basis"
	// Muscle is the generator independent of package au: Waters-style
	// muscles and sphincters, a hinged jaw and lips that part as a real gap
	// (muscle.go), AU combinations drawn from co-occurrence tendencies
	// instead of prototypes (cooccur.go), each AU with its own onset, apex
	// and offset, amplitudes drawn from MicroAmp/MacroAmp (real
	// micro-expression amplitudes by default), on a neutralised face
	// (neutral.go).
	Muscle Model = "muscle"
)

// ParseModel reads a model name ("muscle", "basis").
func ParseModel(s string) (Model, error) {
	switch Model(strings.ToLower(strings.TrimSpace(s))) {
	case Muscle:
		return Muscle, nil
	case Basis, "":
		return Basis, nil
	}
	return "", fmt.Errorf("synth: model %q: want muscle or basis", s)
}

// Default amplitude ranges of the muscle model: the largest skin
// displacement of an expression, in output pixels. Micro-expressions in
// 640×480 recordings move the skin by about 0.1–1 px.
var (
	defaultMicroAmp = [2]float64{0.1, 1}
	defaultMacroAmp = [2]float64{1.5, 6}
)

// auCurve is one AU's activation over time: a rise, a plateau and a decay,
// each rise and decay a logistic-like curve x^a/(x^a+(1-x)^a) with its own
// steepness. Times are in seconds from the event's start.
type auCurve struct {
	start, apex, hold, end float64
	a, b                   float64
}

func (c auCurve) at(s float64) float64 {
	switch {
	case s <= c.start || s >= c.end:
		return 0
	case s < c.apex:
		return sigm((s-c.start)/(c.apex-c.start), c.a)
	case s <= c.hold:
		return 1
	}
	return 1 - sigm((s-c.hold)/(c.end-c.hold), c.b)
}

func sigm(x, a float64) float64 {
	p, q := math.Pow(x, a), math.Pow(1-x, a)
	return p / (p + q)
}

// contraction maps a FACS intensity (0..1) to muscle contraction: convex,
// since the letters A and B are narrow bands of trace and slight action
// and C–E span most of the range of movement.
func contraction(i float64) float64 { return (math.Exp(1.5*i) - 1) / (math.Exp(1.5) - 1) }

// muscleFace is the neutral face and its geometry, shared by the clips of
// one plan.
type muscleFace struct {
	face   *Face
	geo    geometry
	mouth  *mouth
	x0, y0 int // grid box in source px
	w, h   int
	info   NeutralInfo
	// fields holds per-frame field buffers (*layerField) for reuse.
	fields sync.Pool
	zone   []uint8 // per grid cell: zoneUpper, zoneLower or zoneLips
}

// Zones: off the lips a pixel shows one layer, the upper one above the
// lips' line and the lower one below; on the lips it may show either, both
// or the mouth's inside.
const (
	zoneUpper = iota
	zoneLower
	zoneLips
)

func newMuscleFace(f *Face, asIs bool) (*muscleFace, error) {
	mf := &muscleFace{face: f}
	if !asIs {
		n, info, err := Neutralize(f)
		if err != nil {
			return nil, err
		}
		mf.face, mf.info = n, info
	}
	mf.geo = geometry{ax: axesOf(&mf.face.LM), lm: &mf.face.LM}
	mf.mouth = mouthOf(mf.geo)
	// The grid covers every muscle's reach: the forehead up to the
	// frontalis origins, the jaw below the chin, a margin at the sides.
	iod := mf.geo.ax.iod
	minX, minY, maxX, maxY := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for _, p := range mf.face.LM {
		minX, maxX = math.Min(minX, float64(p[0])), math.Max(maxX, float64(p[0]))
		minY, maxY = math.Min(minY, float64(p[1])), math.Max(maxY, float64(p[1]))
	}
	mf.x0 = int(math.Floor(minX - 0.35*iod))
	mf.y0 = int(math.Floor(minY - 1.0*iod))
	mf.w = int(math.Ceil(maxX+0.35*iod)) - mf.x0 + 1
	mf.h = int(math.Ceil(maxY+0.45*iod)) - mf.y0 + 1
	mf.fields.New = func() any { f := newLayerField(mf.w * mf.h); return &f }
	// Zones of the grid: which layers a pixel there can show.
	mf.zone = make([]uint8, mf.w*mf.h)
	m := mf.mouth
	for y := 0; y < mf.h; y++ {
		for x := 0; x < mf.w; x++ {
			X, Y := mf.geo.ax.toFace(float64(x+mf.x0), float64(y+mf.y0))
			switch {
			case X > m.x0-1 && X < m.x1+1 && Y >= m.top && Y <= m.bot:
				mf.zone[y*mf.w+x] = zoneLips
			case Y > m.meet.at(X):
				mf.zone[y*mf.w+x] = zoneLower
			}
		}
	}
	return mf, nil
}

// layerField is a displacement field (source px) for the upper-lip and the
// lower-lip layers on the grid.
type layerField struct {
	ux, uy, lx, ly []float32
}

func newLayerField(n int) layerField {
	return layerField{make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)}
}

// muscleEvent is what the muscle model keeps per event.
type muscleEvent struct {
	curves []auCurve
	fields []layerField // per AU, at full contraction
	gain   []float64    // per AU: event scale × contraction(intensity)
	amp    float64      // largest displacement, output px
	start  float64      // event start, seconds from the clip's start
}

// buildFields evaluates each AU's components on the grid.
func (mf *muscleFace) buildFields(aus []ActiveAU, rng *rand.Rand) []layerField {
	ax := mf.geo.ax
	out := make([]layerField, len(aus))
	for k, a := range aus {
		var ps []placed
		for _, c := range muscleAUs[a.AU] {
			if c.midline {
				ps = append(ps, place(mf.geo, c, 1, rng))
				continue
			}
			if a.Side != "L" {
				ps = append(ps, place(mf.geo, c, 1, rng))
			}
			if a.Side != "R" {
				ps = append(ps, place(mf.geo, c, -1, rng))
			}
		}
		lf := newLayerField(mf.w * mf.h)
		for y := 0; y < mf.h; y++ {
			for x := 0; x < mf.w; x++ {
				X, Y := ax.toFace(float64(x+mf.x0), float64(y+mf.y0))
				var ux, uy, lx, ly float64
				for i := range ps {
					a, b, c, d := ps[i].layers(X, Y, mf.mouth)
					ux, uy, lx, ly = ux+a, uy+b, lx+c, ly+d
				}
				// Face axes → image axes.
				i := y*mf.w + x
				lf.ux[i] = float32(ux*ax.ex[0] + uy*ax.ey[0])
				lf.uy[i] = float32(ux*ax.ex[1] + uy*ax.ey[1])
				lf.lx[i] = float32(lx*ax.ex[0] + ly*ax.ey[0])
				lf.ly[i] = float32(lx*ax.ex[1] + ly*ax.ey[1])
			}
		}
		out[k] = lf
	}
	return out
}

// newMuscleEvent draws timing and builds fields for one expression of the
// given AUs starting at time 0, scaled so that its largest displacement is
// amp output px (at view scale).
func (mf *muscleFace) newMuscleEvent(rng *rand.Rand, aus []ActiveAU, label, kind string, fps, amp, scale float64) (Event, *muscleEvent) {
	e := Event{Label: label, Kind: kind, AUs: aus, Amplitude: amp}
	me := &muscleEvent{amp: amp}
	var dur float64
	if kind == "micro" {
		dur = 0.2 + 0.3*rng.Float64() // onset to offset ≤ 0.5 s
	} else {
		dur = 0.8 + 2.2*rng.Float64()
	}
	for range aus {
		var c auCurve
		c.start = dur * 0.12 * rng.Float64()
		c.end = dur * (0.88 + 0.12*rng.Float64())
		span := c.end - c.start
		if kind == "micro" {
			c.apex = c.start + span*(0.3+0.2*rng.Float64())
			c.hold = c.apex
		} else {
			c.apex = c.start + span*(0.2+0.15*rng.Float64())
			c.hold = c.apex + span*(0.2+0.25*rng.Float64())
		}
		c.a, c.b = 1.5+1.5*rng.Float64(), 1.5+1.5*rng.Float64()
		me.curves = append(me.curves, c)
	}
	me.fields = mf.buildFields(aus, rng)
	// Scale: the largest displacement over the event (sampled at the frame
	// rate) becomes amp.
	n := mf.w * mf.h
	sum := newLayerField(n)
	var peak float64
	frames := int(math.Ceil(dur * fps))
	stride := max(1, frames/60)
	for f := 0; f <= frames; f += stride {
		s := float64(f) / fps
		me.sumAt(s, sum, func(k int) float64 { return contraction(aus[k].Intensity) })
		for i := 0; i < n; i++ {
			peak = math.Max(peak, math.Hypot(float64(sum.ux[i]), float64(sum.uy[i])))
			peak = math.Max(peak, math.Hypot(float64(sum.lx[i]), float64(sum.ly[i])))
		}
	}
	s := 0.0
	if peak > 0 {
		s = amp / scale / peak
	}
	me.gain = make([]float64, len(aus))
	for k, a := range aus {
		me.gain[k] = s * contraction(a.Intensity)
	}
	// Timing in frames: onset is the first frame any AU moves, offset the
	// last, the apex where the summed activation peaks (its plateau for
	// macro-expressions).
	first, last := math.Inf(1), math.Inf(-1)
	for _, c := range me.curves {
		first, last = math.Min(first, c.start), math.Max(last, c.end)
	}
	e.Onset = int(math.Floor(first * fps))
	e.Offset = max(e.Onset+2, int(math.Ceil(last*fps)))
	best, bestT, endT := -1.0, e.Onset+1, e.Onset+1
	for t := e.Onset; t <= e.Offset; t++ {
		v := me.level(float64(t) / fps)
		if v > best+1e-9 {
			best, bestT, endT = v, t, t
		} else if v >= best*0.98 {
			endT = t
		}
	}
	e.Apex = min(max(bestT, e.Onset+1), e.Offset-1)
	e.ApexEnd = min(max(endT, e.Apex), e.Offset-1)
	return e, me
}

// level is the summed activation (intensity-weighted) at time s.
func (me *muscleEvent) level(s float64) float64 {
	var v float64
	for _, c := range me.curves {
		v += c.at(s)
	}
	return v
}

// sumAt writes into dst the field at time s (seconds from the event start),
// each AU weighted by w(k) times its curve.
func (me *muscleEvent) sumAt(s float64, dst layerField, w func(k int) float64) {
	clear(dst.ux)
	clear(dst.uy)
	clear(dst.lx)
	clear(dst.ly)
	for k, c := range me.curves {
		a := float32(w(k) * c.at(s))
		if a == 0 {
			continue
		}
		f := me.fields[k]
		for i := range dst.ux {
			dst.ux[i] += a * f.ux[i]
			dst.uy[i] += a * f.uy[i]
			dst.lx[i] += a * f.lx[i]
			dst.ly[i] += a * f.ly[i]
		}
	}
}

// planMuscle lays out n clips of the muscle model.
func planMuscle(face *Face, cfg Config, n int) ([]*Clip, error) {
	mf, err := newMuscleFace(face, cfg.AsIs)
	if err != nil {
		return nil, err
	}
	var codes [][]ActiveAU
	var codeLabels []string
	for _, cs := range cfg.Codes {
		p, err := codePrototype(cs)
		if err != nil {
			return nil, err
		}
		var aus []ActiveAU
		for _, a := range p.aus {
			if _, ok := muscleAUs[a.au]; !ok {
				return nil, fmt.Errorf("synth: code %q: AU%d cannot be rendered by the muscle model (it renders %v)", cs, a.au, MuscleAUs())
			}
			aus = append(aus, ActiveAU{AU: a.au, Side: a.side, Intensity: a.level})
		}
		codes = append(codes, aus)
		codeLabels = append(codeLabels, p.label)
	}
	micro, macro := cfg.MicroAmp, cfg.MacroAmp
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x6d757363))
	ff := frameOf(&mf.face.LM)
	draw := func(i int, kind string, fps float64) (Event, *muscleEvent) {
		var aus []ActiveAU
		var label string
		if len(codes) > 0 {
			k := i % len(codes)
			aus = append([]ActiveAU(nil), codes[k]...)
			for j := range aus {
				if aus[j].Intensity == 0 {
					aus[j].Intensity = drawIntensity(rng)
				}
			}
			label = codeLabels[k]
		} else {
			aus = drawAUs(rng)
			label = objectiveLabel(aus)
		}
		r := micro
		if kind == "macro" {
			r = macro
		}
		amp := r[0] * math.Exp(rng.Float64()*math.Log(r[1]/r[0]))
		return mf.newMuscleEvent(rng, aus, label, kind, fps, amp, cfg.Scale)
	}
	clips := make([]*Clip, n)
	for i := range clips {
		fps := cfg.FPS
		if fps <= 0 {
			fps = 200
			if i%2 == 1 {
				fps = 30
			}
			if cfg.Long {
				fps = 30
			}
		}
		c := &Clip{
			Name: fmt.Sprintf("clip%03d", i), Subject: subjectOf(i, cfg.Subjects), FPS: fps,
			W: cfg.Width, H: cfg.Height, face: mf.face, cfg: cfg, seed: rng.Uint64(),
			base:  view{w: cfg.Width, h: cfg.Height, scale: cfg.Scale, cx: ff.cx, cy: ff.cy},
			model: Muscle, mf: mf,
		}
		for k := range c.ph {
			c.ph[k] = rng.Float64() * 2 * math.Pi
		}
		shiftBy := func(e *Event, me *muscleEvent, frames int) {
			e.Onset += frames
			e.Apex += frames
			e.ApexEnd += frames
			e.Offset += frames
			me.start = float64(frames) / fps
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
				e, me := draw(i*cfg.Events+k, kind, fps)
				margin := int(0.5 * fps)
				room := slot - (e.Offset + 1) - 2*margin
				if room < 0 {
					return nil, fmt.Errorf("synth: %d events do not fit in %.1f s", cfg.Events, cfg.Duration)
				}
				shiftBy(&e, me, k*slot+margin+rng.IntN(room+1))
				e.mus = me
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
			e, me := draw(i, kind, fps)
			shiftBy(&e, me, int((0.3+0.2*rng.Float64())*fps))
			e.mus = me
			c.Frames = e.Offset + 1 + int(0.4*fps)
			c.Events = []Event{e}
		}
		clips[i] = c
	}
	return clips, nil
}

// objectiveLabel names a combination by Davison's objective class.
func objectiveLabel(aus []ActiveAU) string {
	var b strings.Builder
	for i, a := range aus {
		if i > 0 {
			b.WriteByte('+')
		}
		fmt.Fprintf(&b, "%s%d", a.Side, a.AU)
	}
	c, err := facs.Parse(b.String())
	if err != nil {
		return "class VII"
	}
	return "class " + facs.Objective(c).String()
}

// muscleActive returns the event whose AUs move at frame t, or nil.
func (c *Clip) muscleActive(t int) *Event {
	for k := range c.Events {
		e := &c.Events[k]
		if t >= e.Onset && t <= e.Offset {
			return e
		}
	}
	return nil
}

// muscleField returns the displacement field at frame t, or false when
// the face is at rest.
func (c *Clip) muscleField(t int, dst *layerField) bool {
	e := c.muscleActive(t)
	if e == nil {
		return false
	}
	me := e.mus
	s := float64(t)/c.FPS - me.start
	me.sumAt(s, *dst, func(k int) float64 { return me.gain[k] })
	return true
}

// sample returns the field of one layer at source position (x, y)
// (bilinear; zero outside the grid).
func (mf *muscleFace) sample(f *layerField, lower bool, x, y float64) (float64, float64) {
	a, b := f.ux, f.uy
	if lower {
		a, b = f.lx, f.ly
	}
	u, v := mf.lookup(a, b, float32(x-float64(mf.x0)), float32(y-float64(mf.y0)))
	return float64(u), float64(v)
}

// lookup interpolates the two planes a, b at grid position (gx, gy).
func (mf *muscleFace) lookup(a, b []float32, gx, gy float32) (float32, float32) {
	if !(gx >= 0 && gy >= 0 && gx < float32(mf.w-1) && gy < float32(mf.h-1)) {
		return 0, 0
	}
	x0, y0 := int(gx), int(gy)
	fx, fy := gx-float32(x0), gy-float32(y0)
	i := y0*mf.w + x0
	w00, w10, w01, w11 := (1-fx)*(1-fy), fx*(1-fy), (1-fx)*fy, fx*fy
	return w00*a[i] + w10*a[i+1] + w01*a[i+mf.w] + w11*a[i+mf.w+1],
		w00*b[i] + w10*b[i+1] + w01*b[i+mf.w] + w11*b[i+mf.w+1]
}

// invert finds the neutral skin point q that the layer moves to p
// (fixed-point iteration q = p - u(q); the fields are smooth and their
// slopes well below 1).
func (mf *muscleFace) invert(f *layerField, lower bool, px, py float64) (float64, float64) {
	a, b := f.ux, f.uy
	if lower {
		a, b = f.lx, f.ly
	}
	gx, gy := float32(px-float64(mf.x0)), float32(py-float64(mf.y0))
	qx, qy := gx, gy
	for it := 0; it < 3; it++ {
		ux, uy := mf.lookup(a, b, qx, qy)
		qx, qy = gx-ux, gy-uy
	}
	return float64(qx) + float64(mf.x0), float64(qy) + float64(mf.y0)
}

// lowerLandmark reports whether landmark i moves with the lower layer: the
// lower lip's points, and the points below the lips' line (jaw, chin).
func (mf *muscleFace) lowerLandmark(i int) bool {
	if i >= 48 {
		return i >= 55 && i <= 59 || i >= 65 && i <= 67
	}
	p := mf.face.LM[i]
	X, Y := mf.geo.ax.toFace(float64(p[0]), float64(p[1]))
	return Y > mf.mouth.meet.at(X)
}

// muscleLandmarks returns the landmarks at frame t in source px.
func (c *Clip) muscleLandmarks(t int) [68][2]float64 {
	var out [68][2]float64
	fl := c.mf.fields.Get().(*layerField)
	defer c.mf.fields.Put(fl)
	moving := c.muscleField(t, fl)
	for i, p := range c.mf.face.LM {
		x, y := float64(p[0]), float64(p[1])
		if moving {
			ux, uy := c.mf.sample(fl, c.mf.lowerLandmark(i), x, y)
			x, y = x+ux, y+uy
		}
		out[i] = [2]float64{x, y}
	}
	return out
}

// cavity is the colour shown where the lips part (the mouth's inside).
var cavity = [3]float32{58, 30, 32}

// renderMuscle draws frame t of a muscle-model clip.
func (c *Clip) renderMuscle(t int, dst *image.RGBA) {
	fl := c.mf.fields.Get().(*layerField)
	defer c.mf.fields.Put(fl)
	v := c.viewAt(t)
	moving := c.muscleField(t, fl)
	mf := c.mf
	f := mf.face
	src := [3]*raster.Gray{
		{W: f.W, H: f.H, Stride: f.W, Pix: f.R},
		{W: f.W, H: f.H, Stride: f.W, Pix: f.G},
		{W: f.W, H: f.H, Stride: f.W, Pix: f.B},
	}
	rng := rand.New(rand.NewPCG(c.seed, uint64(t)))
	noise := max(c.cfg.Noise, 0)
	gain := c.gainAt(t)
	ax := mf.geo.ax
	m := mf.mouth
	delta := 1 / v.scale // an output pixel's height in source px
	var col [3]float32
	// The view is affine: step along rows with increments.
	sx0, sy0 := v.toSource(0, 0)
	sx1, sy1 := v.toSource(1, 0)
	sx2, sy2 := v.toSource(0, 1)
	for y := 0; y < v.h; y++ {
		row := dst.Pix[y*dst.Stride : y*dst.Stride+4*v.w]
		for x := 0; x < v.w; x++ {
			sx := sx0 + float64(x)*(sx1-sx0) + float64(y)*(sx2-sx0)
			sy := sy0 + float64(x)*(sy1-sy0) + float64(y)*(sy2-sy0)
			var w [3]float32 // weights: upper layer, lower layer, cavity
			var qu, ql [2]float64
			gx, gy := int(sx)-mf.x0, int(sy)-mf.y0
			zone := -1
			if moving && gx >= 0 && gy >= 0 && gx < mf.w && gy < mf.h {
				zone = int(mf.zone[gy*mf.w+gx])
			}
			switch zone {
			case -1:
				qu, w = [2]float64{sx, sy}, [3]float32{1, 0, 0}
			case zoneUpper:
				qu[0], qu[1] = mf.invert(fl, false, sx, sy)
				w = [3]float32{1, 0, 0}
			case zoneLower:
				ql[0], ql[1] = mf.invert(fl, true, sx, sy)
				w = [3]float32{0, 1, 0}
			default:
				qu[0], qu[1] = mf.invert(fl, false, sx, sy)
				ql[0], ql[1] = mf.invert(fl, true, sx, sy)
				// How much of this pixel each lip covers: upper-lip skin is
				// what lies above the neutral meeting line.
				uX, uY := ax.toFace(qu[0], qu[1])
				lX, lY := ax.toFace(ql[0], ql[1])
				cu := clamp01(0.5 + (m.meet.at(uX)-uY)/delta)
				cl := clamp01(0.5 + (lY-m.meet.at(lX))/delta)
				cl = min(cl, 1-cu) // the upper lip is in front where they overlap
				w = [3]float32{float32(cu), float32(cl), float32(max(0, 1-cu-cl))}
			}
			for ch := 0; ch < 3; ch++ {
				var val float32
				if w[0] > 0 {
					val += w[0] * src[ch].Bilinear(float32(qu[0]), float32(qu[1]))
				}
				if w[1] > 0 {
					val += w[1] * src[ch].Bilinear(float32(ql[0]), float32(ql[1]))
				}
				if w[2] > 0 {
					val += w[2] * cavity[ch]
				}
				col[ch] = val * gain
			}
			for ch := 0; ch < 3; ch++ {
				val := col[ch]
				if noise > 0 {
					val += float32(rng.NormFloat64() * noise)
				}
				row[4*x+ch] = clamp8(val)
			}
			row[4*x+3] = 255
		}
	}
}

func clamp01(v float64) float64 { return math.Min(1, math.Max(0, v)) }

// muscleTruth is each AU's intensity times its own curve at frame t.
func (c *Clip) muscleTruth(t int) (map[int]float64, string) {
	e := c.muscleActive(t)
	if e == nil {
		return nil, ""
	}
	s := float64(t)/c.FPS - e.mus.start
	m := make(map[int]float64, len(e.AUs))
	for k, a := range e.AUs {
		if v := a.Intensity * e.mus.curves[k].at(s); v > 0 {
			m[a.AU] = v
		}
	}
	if len(m) == 0 {
		return nil, ""
	}
	return m, e.Label
}
