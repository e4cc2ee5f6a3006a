package cot

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/tell-project/tell/facs"
	"github.com/tell-project/tell/nn"
)

// ActiveThreshold is the intensity (0–5) below which an AU counts as not
// acting, unless its rise is significant (SignificantSNR): where FACS's
// trace level A begins.
const ActiveThreshold = 0.5

// SignificantSNR is the rise over the face's own noise (Evidence.SNR) from
// which an action counts as observed at any intensity: tell analyze lists
// an event AU only when it rose this many times its noise.
const SignificantSNR = 4

// significant reports whether evidence counts as an observed action.
func (e Evidence) significant() bool {
	return e.Intensity >= ActiveThreshold || e.SNR >= SignificantSNR
}

// laterality of an aggregated AU.
type laterality uint8

const (
	bilateral laterality = iota
	unilateral
	asymmetric
)

// unit is one AU after merging its left, right and bilateral evidence.
type unit struct {
	au        int
	info      facs.Info
	intensity float64 // strongest side, as a fraction of MaxIntensity
	lat       laterality
	side      string // "left"/"right" for unilateral, the stronger side for asymmetric ("" if unknown)
	conf      float64
	unknown   bool    // intensity not coded
	snr       float64 // rise over its own noise, 0 when not measured
	presence  float64 // [0,1]: how clearly the action is there (intensity, significance and confidence)
	weight    float64 // feedback re-weighing factor (1 normally)
}

// value is the unit's intensity on the 0–5 scale as every output stores
// and prints it (two decimals); its letter is facs.LetterOfIntensity of it.
func (u unit) value() float64 { return round2(MaxIntensity * u.intensity) }

// aggregate merges evidence per AU, drops actions below ActiveThreshold and
// orders units by intensity (strongest first), then AU number.
func aggregate(ev []Evidence) ([]unit, error) {
	type acc struct {
		l, r, b     float64
		asym        bool
		conf        float64
		snr         float64
		unknown     bool
		seen, known bool
	}
	m := map[int]*acc{}
	for i, e := range ev {
		if e.AU < 1 || e.AU > 99 {
			return nil, fmt.Errorf("cot: evidence %d: AU %d out of range 1..99", i, e.AU)
		}
		if math.IsNaN(e.Intensity) || e.Intensity < 0 || e.Intensity > MaxIntensity {
			return nil, fmt.Errorf("cot: evidence %d (AU%d): intensity %v outside [0,%d]", i, e.AU, e.Intensity, MaxIntensity)
		}
		if math.IsNaN(e.Confidence) || e.Confidence < 0 || e.Confidence > 1 {
			return nil, fmt.Errorf("cot: evidence %d (AU%d): confidence %v outside [0,1]", i, e.AU, e.Confidence)
		}
		if !(e.SNR >= 0) || math.IsInf(e.SNR, 0) {
			return nil, fmt.Errorf("cot: evidence %d (AU%d): snr %v is not a finite number ≥ 0", i, e.AU, e.SNR)
		}
		if e.Onset < 0 || e.Apex < 0 || e.Offset < 0 || e.Offset != 0 && e.Offset < e.Onset ||
			math.IsNaN(e.Onset+e.Apex+e.Offset) || math.IsInf(e.Onset+e.Apex+e.Offset, 0) {
			return nil, fmt.Errorf("cot: evidence %d (AU%d): timing onset %v, apex %v, offset %v is not ordered in seconds", i, e.AU, e.Onset, e.Apex, e.Offset)
		}
		side, err := facs.ParseSide(e.Side)
		if err != nil {
			return nil, fmt.Errorf("cot: evidence %d (AU%d): %w", i, e.AU, err)
		}
		a := m[e.AU]
		if a == nil {
			a = &acc{}
			m[e.AU] = a
		}
		if !e.significant() {
			continue
		}
		a.snr = math.Max(a.snr, e.SNR)
		v := e.Intensity / MaxIntensity
		if info, ok := facs.Lookup(e.AU); ok && !info.Lateral() {
			side = facs.Both // a jaw drop or lip part has no side
		}
		switch side {
		case facs.Left:
			a.l = math.Max(a.l, v)
		case facs.Right:
			a.r = math.Max(a.r, v)
		case facs.Asymmetric:
			a.asym = true
			a.b = math.Max(a.b, v)
		default:
			a.b = math.Max(a.b, v)
		}
		c := e.Confidence
		if c == 0 {
			c = 1
		}
		a.conf = math.Max(a.conf, c)
		a.seen = true
		if e.IntensityUnknown {
			a.unknown = true
		} else {
			a.known = true
		}
	}
	var out []unit
	for n, a := range m {
		if !a.seen {
			continue
		}
		u := unit{au: n, info: facs.Describe(n), conf: a.conf, weight: 1, unknown: a.unknown && !a.known, snr: a.snr}
		u.intensity = math.Max(a.b, math.Max(a.l, a.r))
		switch {
		case a.asym:
			u.lat = asymmetric
			if a.l > a.r {
				u.side = "left"
			} else if a.r > a.l {
				u.side = "right"
			}
		case a.b > 0:
			u.lat = bilateral
		case a.l > 0 && a.r > 0:
			// Similar sides are one bilateral action; a much weaker side
			// is residue of a one-sided action; in between, asymmetric.
			lo, hi := math.Min(a.l, a.r), math.Max(a.l, a.r)
			switch {
			case lo/hi >= 0.6:
				u.lat = bilateral
			case lo/hi < 0.35:
				u.lat, u.side = unilateral, "left"
				if a.r > a.l {
					u.side = "right"
				}
			default:
				u.lat = asymmetric
				u.side = "left"
				if a.r > a.l {
					u.side = "right"
				}
			}
		case a.l > 0:
			u.lat, u.side = unilateral, "left"
		default:
			u.lat, u.side = unilateral, "right"
		}
		// Presence saturates at slight (B) intensity: a trace action is
		// there but less certainly so. A measured rise is there as
		// clearly as it stands out of its own noise: half present at
		// SignificantSNR, fully at twice that, whatever its size.
		u.presence = math.Min(1, u.intensity/0.3)
		if u.snr > 0 {
			u.presence = math.Max(u.presence, math.Min(1, u.snr/(2*SignificantSNR)))
		}
		u.presence *= u.conf
		out = append(out, u)
	}
	// Strongest first; when some intensities are not coded their order
	// means nothing, so fall back to AU order.
	anyUnknown := false
	for _, u := range out {
		anyUnknown = anyUnknown || u.unknown
	}
	sort.Slice(out, func(i, j int) bool {
		// Incidental actions (blinks, head moves) go last.
		if out[i].info.Incidental != out[j].info.Incidental {
			return out[j].info.Incidental
		}
		if !anyUnknown && out[i].intensity != out[j].intensity {
			return out[i].intensity > out[j].intensity
		}
		return out[i].au < out[j].au
	})
	return out, nil
}

// match is how well one emotion explains the units.
type match struct {
	emotion   string
	score     float64 // with the feedback loop's re-weighing
	raw       float64 // the evidence alone, for confidence
	variant   variant
	matched   []int // AUs of the variant that are present
	missing   []int // AUs of the variant that are absent
	conflicts []int // present AUs that argue against the emotion
	gist      string
}

// lateralFactor is how much a unit counts for a need: unilateral needs want
// a one-sided action; a bilateral need on AU14 counts a one-sided dimpler
// only weakly (EMFACS's contempt is the one-sided 14), on AU12 a
// one-sided smile nearly fully.
func lateralFactor(n need, u unit) float64 {
	if n.unilateral {
		switch u.lat {
		case unilateral:
			return 1
		case asymmetric:
			return 0.6
		}
		return 0.15
	}
	switch n.au {
	case 12:
		// One-sided AU12 is still AU12 to CASME II's happiness criterion
		// and Davison's class I (neither names a side); it counts a little
		// less than a full smile, since contempt is its rival reading.
		switch u.lat {
		case unilateral:
			return 0.8
		case asymmetric:
			return 0.9
		}
	case 14:
		switch u.lat {
		case unilateral:
			return 0.35
		case asymmetric:
			return 0.7
		}
	}
	return 1
}

// score rates every candidate emotion against the units and returns the
// matches, best first. Incidental actions (blinks, head and gaze movements)
// are ignored.
func score(units []unit, candidates []emotionModel, boost map[string]float64) []match {
	by := map[int]unit{}
	total := 0.0
	for _, u := range units {
		if u.info.Incidental {
			continue
		}
		by[u.au] = u
		total += u.presence * u.weight
	}
	var out []match
	for _, em := range candidates {
		set := map[int]bool{}
		for _, v := range em.variants {
			for _, n := range v.needs {
				set[n.au] = true
			}
		}
		explainedMass := 0.0
		for n, u := range by {
			if set[n] {
				explainedMass += u.presence * u.weight
			}
		}
		explained := 0.0
		if total > 0 {
			explained = explainedMass / total
		}
		best := match{emotion: em.emotion, gist: em.gist}
		for _, v := range em.variants {
			recall := 0.0
			var matched, missing []int
			inV := map[int]bool{}
			for _, n := range v.needs {
				inV[n.au] = true
				u, ok := by[n.au]
				if !ok {
					missing = append(missing, n.au)
					continue
				}
				f := lateralFactor(n, u)
				recall += math.Min(1, u.presence*u.weight) * f
				if f >= 0.5 {
					matched = append(matched, n.au)
				} else {
					missing = append(missing, n.au)
				}
			}
			// A configuration counts only when enough of it is there: a
			// single action matches only the single-action entries, so one
			// shared AU (AU17, AU4) cannot stand for a whole variant.
			if len(matched) < min(2, len(v.needs)) {
				continue
			}
			// Missing actions cost more than linearly: half a prototype is
			// much weaker evidence than the whole.
			recall = math.Pow(recall/float64(len(v.needs)), 1.5)
			penalty := 0.0
			var conflicts []int
			for n, w := range em.conflicts {
				if u, ok := by[n]; ok && !inV[n] {
					penalty += w * math.Min(1, u.presence*u.weight)
					conflicts = append(conflicts, n)
				}
			}
			penalty = math.Min(0.8, penalty)
			s := v.prior * recall * (0.55 + 0.45*explained) * (1 - penalty)
			raw := s
			if b, ok := boost[em.emotion]; ok {
				s *= b
			}
			if s > best.score {
				best.raw = raw
				sort.Ints(conflicts)
				best.score, best.variant, best.matched, best.missing, best.conflicts = s, v, matched, missing, conflicts
			}
		}
		out = append(out, best)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].score > out[j].score })
	return out
}

// Decision thresholds on the match score.
const (
	// minScore is the least score that may name an emotion; below it the
	// expression is "others" (or neutral): no confident emotion from thin
	// evidence.
	minScore = 0.3
	// secondaryRatio: an emotion whose score reaches this share of the
	// dominant one (and minScore) is reported as secondary.
	secondaryRatio = 0.6
)

// decision is the reasoning result before any text is written.
type decision struct {
	units     []unit
	matches   []match // best first
	label     string
	emotion   string // the dominant emotion ("" when neutral/others)
	secondary []match
	conf      float64
	active    int // non-incidental active units
	span      span
	// labels are every label the engine may conclude, scores the
	// evidence's score for each (labelScores).
	labels []string
	scores []float64
}

// span is the timing of the active evidence, when given.
type span struct {
	onset, apex, offset float64
	ok                  bool
}

// timing returns the span from the earliest onset to the latest offset of
// the active evidence that carries timing.
func timing(ev []Evidence) span {
	var s span
	for _, e := range ev {
		if !e.significant() || e.Offset <= e.Onset {
			continue
		}
		if !s.ok {
			s = span{e.Onset, e.Apex, e.Offset, true}
			continue
		}
		s.onset = math.Min(s.onset, e.Onset)
		s.offset = math.Max(s.offset, e.Offset)
	}
	return s
}

// decide picks the label from the matches. classes, when not empty, is the
// label set the conclusion must come from. Its confidence is the label's
// probability in the engine's calibrated reading (Reading.Probabilities at
// Temperature) over every label the engine may conclude, from the evidence
// alone: a label the feedback loop's re-weighing reached stays a weak one.
func decide(units []unit, candidates []emotionModel, boost map[string]float64, o Options) decision {
	d := decide0(units, candidates, boost, o)
	d.labels, d.scores = labelScores(d, candidates, o)
	p := nn.SoftmaxT(d.scores, Temperature)
	for i, l := range d.labels {
		if l == d.label {
			d.conf = round2(p[i])
		}
	}
	return d
}

// decide0 picks the label (decide without its confidence).
func decide0(units []unit, candidates []emotionModel, boost map[string]float64, o Options) decision {
	d := decision{units: units}
	for _, u := range units {
		if !u.info.Incidental {
			d.active++
		}
	}
	d.matches = score(units, candidates, boost)
	if d.active == 0 {
		d.label = o.noneLabel(false)
		return d
	}
	if len(d.matches) == 0 {
		// The label set admits no emotion the engine knows (e.g. classes
		// a,b): nothing can be named, so the moved face reads as others.
		d.label = o.noneLabel(true)
		return d
	}
	top := d.matches[0]
	if top.score < minScore {
		d.label = o.noneLabel(true)
		return d
	}
	d.emotion = top.emotion
	d.label = o.mapLabel(top.emotion)
	for _, m := range d.matches[1:] {
		if m.score >= minScore && m.score >= secondaryRatio*top.score && len(d.secondary) < 2 {
			d.secondary = append(d.secondary, m)
		}
	}
	return d
}

// labelScores returns every label the engine may conclude under o, in a
// fixed order (the candidates' labels in knowledge order, then the labels
// for "moved, but no emotion" and "nothing moved"), and the evidence's
// score a(label) for each: a candidate's label its best evidence-only match
// score (a coarse class its best member's), the "moved" label minScore when
// an action moved (an emotion must match better to be named), the
// "nothing moved" label 1 when none did. The engine's label is the argmax
// of the scores (ties aside) unless the feedback loop's re-weighing chose
// another.
func labelScores(d decision, candidates []emotionModel, o Options) ([]string, []float64) {
	var labels []string
	var scores []float64
	idx := map[string]int{}
	put := func(l string, v float64) {
		if i, ok := idx[l]; ok {
			scores[i] = math.Max(scores[i], v)
			return
		}
		idx[l] = len(labels)
		labels = append(labels, l)
		scores = append(scores, v)
	}
	raw := map[string]float64{}
	for _, m := range d.matches {
		raw[m.emotion] = m.raw
	}
	for _, em := range candidates {
		put(o.mapLabel(em.emotion), raw[em.emotion])
	}
	moved := 0.0
	if d.active > 0 {
		moved = 1
	}
	put(o.noneLabel(true), minScore*moved)
	put(o.noneLabel(false), 1-moved)
	return labels, scores
}

func round2(x float64) float64 { return math.Round(x*100) / 100 }
func round1(x float64) float64 { return math.Round(x*10) / 10 }

// Options steer the engine.
type Options struct {
	// Seed picks the phrasing; the same seed and evidence give the same text.
	Seed uint64
	// Classes, when set, is the label set of the task (e.g. the classes of
	// a dataset): the engine only names labels from it. A three-class set
	// (negative, positive, surprise) maps emotions through MEGC2019.
	Classes []string
	// Dataset names the source dataset for dataset-aware mappings.
	Dataset string
	// MaxTries bounds the feedback-reflection loop (default 3).
	MaxTries int
	// Probabilities, when set, are the class probabilities of the caller's
	// scorer (tell analyze's event): a conclusion whose label has one
	// states that probability as its confidence, so that the text, the
	// structure and the scorer give one number. Other labels keep the
	// engine's evidence-based confidence.
	Probabilities map[string]float64
}

func (o Options) has(c string) bool {
	for _, k := range o.Classes {
		if facs.Emotion(k) == facs.Emotion(c) {
			return true
		}
	}
	return false
}

func (o Options) threeClass() bool {
	return len(o.Classes) > 0 && o.has(facs.Negative) && o.has(facs.Positive)
}

// noneLabel is the label for "no emotion": neutral when nothing moved,
// others when something moved that forms no emotion, adapted to Classes.
func (o Options) noneLabel(moved bool) string {
	pref := []string{facs.Neutral, facs.Others}
	if moved {
		pref = []string{facs.Others, facs.Neutral}
	}
	if len(o.Classes) == 0 {
		return pref[0]
	}
	for _, p := range pref {
		if o.has(p) {
			return p
		}
	}
	return pref[0]
}

// readingClass is the MEGC2019 class of an emotion the engine reads from
// the AUs. A dataset's map (facs.ThreeClass) says which of its labels
// count; a reading is negative by its valence wherever it was filmed
// (RESEARCH.md §3: sadness, disgust, contempt, fear and anger are
// negative), so AU4 alone, read as anger, is negative on CASME II rows too
// although CASME II has no anger label.
func readingClass(e, dataset string) (string, bool) {
	if c, ok := facs.ThreeClass(e, dataset); ok {
		return c, true
	}
	return facs.ThreeClass(e, "")
}

func (o Options) mapLabel(e string) string {
	if o.threeClass() {
		if c, ok := readingClass(e, o.Dataset); ok {
			return c
		}
		return o.noneLabel(true)
	}
	return e
}

// candidates returns the emotion models the label set allows: the seven
// basic emotions, plus repression when the task has that class; with
// Classes set, only emotions that are classes or map to one.
func (o Options) candidates() []emotionModel {
	var out []emotionModel
	for _, m := range models() {
		m = m.forDataset(o.Dataset)
		switch {
		case len(o.Classes) == 0:
			if m.emotion == facs.Repression {
				continue
			}
		case o.threeClass():
			if _, ok := readingClass(m.emotion, o.Dataset); !ok {
				continue
			}
			if m.emotion == facs.Repression && !strings.Contains(normalize(o.Dataset), "casme") {
				continue
			}
		default:
			if !o.has(m.emotion) {
				continue
			}
		}
		out = append(out, m)
	}
	return out
}

func normalize(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'A' && r <= 'Z' {
			return r + 32
		}
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}
