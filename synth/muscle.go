package synth

import (
	"math"
	"math/rand/v2"
)

// The muscle model: skin displacement from facial muscles, built without
// reference to package au or to synth's Gaussian AU fields (aus.go).
//
// Linear muscles follow Waters (1987, "A muscle model for animating
// three-dimensional facial expression"): a muscle is a line from its origin
// (bone) to its insertion (skin); contracting it pulls every skin point in a
// cone around that line towards the origin, by an amount that falls off
// with the angle from the muscle's line (cos of the angle over the cone's
// half-angle, to zero at the cone's edge) and with the distance from the
// origin (rising from zero at the origin to its peak at the insertion, then
// to zero a little beyond). Sphincters (orbicularis oculi, orbicularis oris)
// pull skin towards their centre with a ring-shaped profile. The jaw drops
// as a hinge: the chin and lower lip move down, less towards the ears.
//
// So each AU moves a whole region along directions set by anatomy (where a
// muscle attaches), with spatially varying magnitude, not a few landmarks
// along chosen vectors; and the mouth opens as a real gap between the lips
// (layers, see muscleclip.go), not as a smooth stretch.
//
// Attachments are anatomical points placed relative to the landmarks, with
// offsets in face axes (x along the eye line towards the image's right, y
// down) in units of the inter-ocular distance (IOD), given for the
// subject's right half (image left) and mirrored for the left. They are
// approximations from anatomy atlases, not fitted to any data.

// anat is a point on the face: the mean of some landmarks plus an offset.
type anat struct {
	pts []int
	off [2]float64
}

// linear is a Waters linear muscle.
type linear struct {
	origin, insertion anat
	omega             float64 // half-angle of the zone of influence, degrees
	ext               float64 // falloff beyond the insertion, IOD
	k                 float64 // displacement at the insertion at full contraction, IOD
}

// sphincter is an elliptical ring muscle.
type sphincter struct {
	centre anat
	a, b   float64 // semi-axes, IOD
	peak   float64 // elliptical radius of the largest pull (1 = on the ellipse)
	reach  float64 // elliptical radius where the pull ends
	k      float64 // largest displacement, IOD
	below  float64 // weight of the lower half (the upper half gets 1-below)
}

// layer says which side of the lips a component moves: both (continuous
// across the lips), the upper lip and above only, or the lower lip and
// below only. Off the mouth, every component is continuous.
type layer int

const (
	layerBoth layer = iota
	layerUpper
	layerLower
)

// special components that are neither linear nor sphincter muscles.
type special int

const (
	specialNone special = iota
	specialJaw          // AU26: the jaw hinges open
	specialPart         // AU25: the lips part
)

// component is one part of an AU's action.
type component struct {
	lin     *linear
	sph     *sphincter
	spec    special
	k       float64 // for specials: largest displacement, IOD
	layer   layer
	midline bool // one muscle on the midline (not mirrored)
}

// muscleAUs maps each AU to its muscles (FACS's muscular basis: Ekman,
// Friesen & Hager 2002, chapter 2).
var muscleAUs = map[int][]component{
	// Frontalis, pars medialis: inner brow pulled up towards the scalp.
	1: {
		{lin: &linear{origin: anat{[]int{21}, [2]float64{.04, -.85}}, insertion: anat{[]int{21}, [2]float64{0, 0}}, omega: 30, ext: .3, k: .10}},
		{lin: &linear{origin: anat{[]int{20}, [2]float64{.02, -.85}}, insertion: anat{[]int{20}, [2]float64{0, 0}}, omega: 25, ext: .3, k: .05}},
	},
	// Frontalis, pars lateralis: outer brow up.
	2: {
		{lin: &linear{origin: anat{[]int{18}, [2]float64{-.06, -.8}}, insertion: anat{[]int{18}, [2]float64{0, 0}}, omega: 30, ext: .3, k: .09}},
		{lin: &linear{origin: anat{[]int{17}, [2]float64{-.02, -.75}}, insertion: anat{[]int{17}, [2]float64{0, 0}}, omega: 25, ext: .25, k: .05}},
	},
	// Corrugator supercilii (brow drawn to the nose root, down) and
	// depressor supercilii / procerus (inner brow pulled down).
	4: {
		{lin: &linear{origin: anat{[]int{21}, [2]float64{.12, .07}}, insertion: anat{[]int{19}, [2]float64{0, -.02}}, omega: 35, ext: .25, k: .07}},
		{lin: &linear{origin: anat{[]int{27}, [2]float64{-.04, .12}}, insertion: anat{[]int{21}, [2]float64{0, -.04}}, omega: 35, ext: .2, k: .05}},
	},
	// Levator palpebrae superioris: upper lid up into the orbit.
	5: {
		{lin: &linear{origin: anat{[]int{37, 38}, [2]float64{0, -.45}}, insertion: anat{[]int{37, 38}, [2]float64{0, 0}}, omega: 50, ext: .08, k: .045}},
	},
	// Orbicularis oculi, pars orbitalis: a ring round the eye, and its
	// lower fibres lifting the cheek, which pushes the lower lid up.
	6: {
		{sph: &sphincter{centre: anat{[]int{36, 37, 38, 39, 40, 41}, [2]float64{0, .05}}, a: .55, b: .45, peak: 1, reach: 1.7, k: .04, below: .75}},
		{lin: &linear{origin: anat{[]int{36, 37, 38, 39, 40, 41}, [2]float64{.03, -.3}}, insertion: anat{[]int{40, 41}, [2]float64{-.05, .4}}, omega: 40, ext: .25, k: .05}},
	},
	// Orbicularis oculi, pars palpebralis: the lids narrowed, the lower
	// lid most.
	7: {
		{sph: &sphincter{centre: anat{[]int{36, 37, 38, 39, 40, 41}, [2]float64{0, 0}}, a: .34, b: .15, peak: 1, reach: 2, k: .035, below: .8}},
	},
	// Levator labii superioris alaeque nasi: from beside the nose root to
	// the nose wing and upper lip.
	9: {
		{lin: &linear{origin: anat{[]int{39}, [2]float64{.08, .05}}, insertion: anat{[]int{31}, [2]float64{-.04, 0}}, omega: 25, ext: .3, k: .065}},
	},
	// Levator labii superioris: from the infraorbital margin to the upper lip.
	10: {
		{lin: &linear{origin: anat{[]int{40, 41}, [2]float64{0, .22}}, insertion: anat{[]int{50}, [2]float64{0, -.04}}, omega: 30, ext: .12, k: .07}, layer: layerUpper},
	},
	// Zygomaticus major: from the cheekbone to the mouth corner.
	12: {
		{lin: &linear{origin: anat{[]int{36}, [2]float64{-.12, .4}}, insertion: anat{[]int{48}, [2]float64{0, 0}}, omega: 35, ext: .3, k: .12}},
	},
	// Buccinator: the corner drawn back into the cheek.
	14: {
		{lin: &linear{origin: anat{[]int{48}, [2]float64{-.45, -.02}}, insertion: anat{[]int{48}, [2]float64{.02, 0}}, omega: 40, ext: .2, k: .05}},
	},
	// Depressor anguli oris: from the mandible below to the corner.
	15: {
		{lin: &linear{origin: anat{[]int{48}, [2]float64{-.2, .65}}, insertion: anat{[]int{48}, [2]float64{0, 0}}, omega: 35, ext: .2, k: .08}},
	},
	// Depressor labii inferioris: the lower lip pulled down and out.
	16: {
		{lin: &linear{origin: anat{[]int{59}, [2]float64{-.06, .45}}, insertion: anat{[]int{58, 59}, [2]float64{0, 0}}, omega: 35, ext: .2, k: .07}, layer: layerLower},
	},
	// Mentalis: the chin boss pulled up (and the lower lip pushed up).
	17: {
		{lin: &linear{origin: anat{[]int{57}, [2]float64{0, .2}}, insertion: anat{[]int{8}, [2]float64{0, -.28}}, omega: 40, ext: .4, k: .07}, layer: layerLower, midline: true},
		{lin: &linear{origin: anat{[]int{62, 66}, [2]float64{0, -.1}}, insertion: anat{[]int{57}, [2]float64{0, .05}}, omega: 45, ext: .15, k: .035}, layer: layerLower, midline: true},
	},
	// Risorius (the corner pulled sideways) with platysma (down and out).
	20: {
		{lin: &linear{origin: anat{[]int{48}, [2]float64{-.7, .1}}, insertion: anat{[]int{48}, [2]float64{0, 0}}, omega: 30, ext: .2, k: .09}},
		{lin: &linear{origin: anat{[]int{48}, [2]float64{-.35, .9}}, insertion: anat{[]int{48}, [2]float64{0, .03}}, omega: 30, ext: .2, k: .035}},
	},
	// Orbicularis oris: the lips drawn together and narrowed.
	23: {
		{sph: &sphincter{centre: anat{[]int{60, 61, 62, 63, 64, 65, 66, 67}, [2]float64{0, 0}}, a: .5, b: .28, peak: .85, reach: 1.6, k: .04, below: .5}, midline: true},
	},
	// Lips part: the lips separate, the lower more than the upper.
	25: {{spec: specialPart, k: .07, midline: true}},
	// Jaw drop: the mandible hinges open.
	26: {{spec: specialJaw, k: .22, midline: true}},
}

// MuscleAUs lists the Action Units the muscle model renders, ascending.
func MuscleAUs() []int { return []int{1, 2, 4, 5, 6, 7, 9, 10, 12, 14, 15, 16, 17, 20, 23, 25, 26} }

// mirror68 maps each iBUG-68 landmark to its mirror image across the face.
var mirror68 = func() [68]int {
	var m [68]int
	for i := range m {
		m[i] = i
	}
	pairs := [][2]int{
		{0, 16}, {1, 15}, {2, 14}, {3, 13}, {4, 12}, {5, 11}, {6, 10}, {7, 9},
		{17, 26}, {18, 25}, {19, 24}, {20, 23}, {21, 22},
		{31, 35}, {32, 34}, {36, 45}, {37, 44}, {38, 43}, {39, 42}, {40, 47}, {41, 46},
		{48, 54}, {49, 53}, {50, 52}, {55, 59}, {56, 58}, {60, 64}, {61, 63}, {65, 67},
	}
	for _, p := range pairs {
		m[p[0]], m[p[1]] = p[1], p[0]
	}
	return m
}()

// geometry places anatomical points on one face.
type geometry struct {
	ax axes
	lm *[68][2]float32
}

// at returns the face-axis position (px) of p on the given side (+1 the
// subject's right as written, -1 mirrored to the left), with a jitter (IOD).
func (g geometry) at(p anat, side float64, jit [2]float64) [2]float64 {
	var x, y float64
	for _, i := range p.pts {
		if side < 0 {
			i = mirror68[i]
		}
		x += float64(g.lm[i][0])
		y += float64(g.lm[i][1])
	}
	n := float64(len(p.pts))
	X, Y := g.ax.toFace(x/n, y/n)
	return [2]float64{X + side*(p.off[0]+jit[0])*g.ax.iod, Y + (p.off[1]+jit[1])*g.ax.iod}
}

// placed is a component placed on a face, ready to evaluate, in face-axis
// pixels.
type placed struct {
	kind              int // 0 linear, 1 sphincter, 2 jaw, 3 lips part
	o, dir            [2]float64
	rs, rf, cosOmega  float64
	omega             float64
	c                 [2]float64
	a, b, peak, reach float64
	below             float64
	k                 float64 // px
	layer             layer
	side              float64
}

// place positions component c on the face for one side, with anatomical
// variation drawn from rng (attachments ±0.04 IOD, strength ×0.8–1.2,
// angle ±15%).
func place(g geometry, c component, side float64, rng *rand.Rand) placed {
	j := func() [2]float64 { return [2]float64{(rng.Float64()*2 - 1) * .04, (rng.Float64()*2 - 1) * .04} }
	s := 0.8 + 0.4*rng.Float64()
	p := placed{layer: c.layer, side: side}
	switch {
	case c.lin != nil:
		o, in := g.at(c.lin.origin, side, j()), g.at(c.lin.insertion, side, j())
		dx, dy := in[0]-o[0], in[1]-o[1]
		d := math.Hypot(dx, dy)
		p.kind, p.o, p.dir = 0, o, [2]float64{dx / d, dy / d}
		p.rs, p.rf = d, d+c.lin.ext*g.ax.iod
		p.omega = c.lin.omega * (0.85 + 0.3*rng.Float64()) * math.Pi / 180
		p.cosOmega = math.Cos(p.omega)
		p.k = c.lin.k * s * g.ax.iod
	case c.sph != nil:
		p.kind, p.c = 1, g.at(c.sph.centre, side, j())
		p.a, p.b = c.sph.a*g.ax.iod, c.sph.b*g.ax.iod
		p.peak, p.reach, p.below = c.sph.peak, c.sph.reach, c.sph.below
		p.k = c.sph.k * s * g.ax.iod
	case c.spec == specialJaw:
		p.kind, p.k = 2, c.k*s*g.ax.iod
	case c.spec == specialPart:
		p.kind, p.k = 3, c.k*s*g.ax.iod
	}
	return p
}

// layers returns the displacement (face-axis px) of the skin point (X, Y)
// at full contraction in the upper-lip layer and in the lower-lip layer.
// The two agree off the mouth (outside its corners), so the skin is
// continuous there; between the corners they may differ at the lips' line,
// where the mouth can open.
func (p *placed) layers(X, Y float64, m *mouth) (ux, uy, lx, ly float64) {
	t := m.profile(X)
	switch p.kind {
	case 0, 1:
		var dx, dy float64
		if p.kind == 0 {
			dx, dy = p.linear(X, Y)
		} else {
			dx, dy = p.sphincter(X, Y)
		}
		switch p.layer {
		case layerUpper:
			return dx, dy, (1 - t) * dx, (1 - t) * dy
		case layerLower:
			return (1 - t) * dx, (1 - t) * dy, dx, dy
		}
		return dx, dy, dx, dy
	case 2: // jaw: below the lips' line the skin moves down, the lower lip
		// fully, the cheeks and jaw line less towards the ears and
		// nothing well below the chin
		below := math.Max(0, (Y-m.meet.at(X))/(0.35*m.iod))
		ramp := smoothstep(math.Min(1, below))
		lat := 1 - 0.6*smoothstep(math.Min(1, math.Abs(X-m.cx)/(0.9*m.iod)))
		fade := 1 - smoothstep(math.Min(1, math.Max(0, (Y-m.chin)/(0.3*m.iod))))
		k := p.k * lat * fade
		return 0, k * (1 - t) * ramp, 0, k * (t + (1-t)*ramp)
	case 3: // lips part: the lower lip down, the upper a third as much up
		d := (Y - m.meet.at(X)) / (0.25 * m.iod)
		g := t * math.Exp(-d*d/2)
		return 0, -p.k * g / 3, 0, p.k * g
	}
	return 0, 0, 0, 0
}

// linear is the Waters linear muscle's pull on (X, Y).
func (p *placed) linear(X, Y float64) (float64, float64) {
	vx, vy := X-p.o[0], Y-p.o[1]
	D := math.Hypot(vx, vy)
	if D == 0 || D > p.rf {
		return 0, 0
	}
	cosMu := (vx*p.dir[0] + vy*p.dir[1]) / D
	if cosMu <= p.cosOmega {
		return 0, 0
	}
	A := math.Cos(math.Acos(math.Min(1, cosMu)) / p.omega * math.Pi / 2)
	var R float64
	if D < p.rs {
		R = math.Sin(D / p.rs * math.Pi / 2)
	} else {
		R = math.Cos((D - p.rs) / (p.rf - p.rs) * math.Pi / 2)
	}
	f := p.k * A * R / D
	return -vx * f, -vy * f
}

// sphincter is the ring muscle's pull on (X, Y), towards its centre.
func (p *placed) sphincter(X, Y float64) (float64, float64) {
	vx, vy := X-p.c[0], Y-p.c[1]
	rho := math.Hypot(vx/p.a, vy/p.b)
	if rho == 0 || rho >= p.reach {
		return 0, 0
	}
	var f float64
	if rho < p.peak {
		f = math.Sin(rho / p.peak * math.Pi / 2)
	} else {
		f = math.Cos((rho - p.peak) / (p.reach - p.peak) * math.Pi / 2)
	}
	// Weight by half: sinθ > 0 below the centre.
	d := math.Hypot(vx, vy)
	sin := vy / d
	w := (1-p.below)*(1-sin)/2 + p.below*(1+sin)/2
	f *= 2 * w * p.k / d
	return -vx * f, -vy * f
}

func smoothstep(t float64) float64 { return t * t * (3 - 2*t) }

// mouth is the lips' geometry on the neutral face, face-axis px.
type mouth struct {
	meet     curve   // where the lips meet
	x0, x1   float64 // inner corners
	cx       float64
	chin     float64 // y of the chin (landmark 8)
	iod      float64
	top, bot float64 // band around the lips where both layers are evaluated
}

func mouthOf(g geometry) *mouth {
	pt := func(i int) [2]float64 {
		X, Y := g.ax.toFace(float64(g.lm[i][0]), float64(g.lm[i][1]))
		return [2]float64{X, Y}
	}
	m := &mouth{iod: g.ax.iod}
	up := curve{pt(60), pt(61), pt(62), pt(63), pt(64)}
	lo := curve{pt(60), pt(67), pt(66), pt(65), pt(64)}
	for _, p := range up {
		m.meet = append(m.meet, [2]float64{p[0], (p[1] + lo.at(p[0])) / 2})
	}
	m.x0, m.x1 = up[0][0], up[len(up)-1][0]
	m.cx = (m.x0 + m.x1) / 2
	m.chin = pt(8)[1]
	m.top = math.Min(pt(50)[1], pt(52)[1]) - 0.3*g.ax.iod
	m.bot = pt(57)[1] + 0.3*g.ax.iod
	return m
}

// profile is how much of the mouth's opening column X carries: 1 in the
// middle, 0 at and beyond the corners (an ellipse's half-height).
func (m *mouth) profile(X float64) float64 {
	t := (X - m.cx) / ((m.x1 - m.x0) / 2)
	if t <= -1 || t >= 1 {
		return 0
	}
	return math.Sqrt(1 - t*t)
}
