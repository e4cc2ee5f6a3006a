package analyze

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/tell-project/tell/appearance"
	"github.com/tell-project/tell/cot"
	"github.com/tell-project/tell/facs"
	"github.com/tell-project/tell/nn"
)

// The event scorer: one function gives both an event's emotion
// probabilities (events.json "emotions") and its label (the argmax; its
// probability is the confidence), fusing up to three experts by a
// weighted product (log-linear pooling):
//
//		S(c) = log p_app(c) + λ·a(c) + log p_flow(c),  p(c) = softmax_c S(c)
//
//	  - p_app: the pretrained appearance net's probabilities (mean over the
//	    apex frames of an event; the still itself). A class the net does not
//	    have (contempt) gets the uninformative 1/7; a coarse class (negative,
//	    positive, surprise) the sum of its members.
//	  - a(c) ∈ [0,1]: how well the AU evidence matches c in the Exp-CoT
//	    engine's knowledge (auScores: EMFACS prototypes and variants,
//	    Davison's objective classes, the CASME II criteria; an action counts
//	    by its intensity or, measured, by how far it rose above its own
//	    noise); for a coarse class its best member; for neutral 1 when no
//	    emotional action moved and 0 otherwise; for others 0.3 when
//	    something moved (an emotion must match better than that to be
//	    named, as in the engine).
//	  - p_flow: a MER-CLIP flow model's probabilities, when one is used.
//
// Probabilities are floored at 1e-4 before the logarithm (1e-3 for the
// appearance change). λ·a(c) is the AU expert's log-probability up to a
// constant, times its weight: the engine's calibrated probabilities are
// softmax(cot.Temperature·a) (fitted on the CASME II coding sheet, see
// cot.Temperature), so λ = w·cot.Temperature for an expert weight w. With
// no appearance net and no flow model the AUs decide alone with w = 1:
// the event's probabilities are then the engine's calibrated ones
// (λ = auOnlyWeight = cot.Temperature). Beside another weighed expert
// λ = auWeight (2, w ≈ 1/3), so a full AU match multiplies a class's odds
// by e² ≈ 7 — enough to decide between classes the appearance net
// hesitates over, not to overrule a confident net. λ is 0 for a still
// measured against the average face shape (uncalibrated indications are
// reported, not weighed), and uncalibratedWeight (2: flatter, lower
// confidence) when such a still has no other expert.
//
// The label set is the flow model's classes when one is used (it defines
// the task), else the appearance net's seven (py-feat's names, neutral
// included) and, when the AUs are measured, contempt, else the seven
// basic emotions with contempt, neutral and others.
const (
	auWeight           = 2.0
	auOnlyWeight       = cot.Temperature
	uncalibratedWeight = 2.0
	probFloor          = 1e-4
	changeFloor        = 1e-3
	othersShare        = cot.NameThreshold
)

// Experts that earn their weight. Each expert's weight per event kind is
// fixed from its figures on development data (docs/experts.md), before
// any blind use; an expert with weight 0 is still run and its reading
// reported (events.json "experts"), but it does not move the label.
//
//   - appearance net on micro-expressions: 0. face-api's zero-shot
//     reading of the MEGC2019 development apex crops (309 CASME II and
//     SMIC clips) scored 3-class UF1 0.397 [0.304, 0.483], accuracy 0.492
//     (the majority class alone: 0.511): chance. On macro-expressions and
//     stills, 1: 0.94 accuracy on held-out posed face crops (DESIGN.md).
//   - the shipped synthetic flow model (--model builtin) everywhere: 0. On
//     the same development rows' released flows it named 308 of 309
//     negative: 3-class UF1 0.225, accuracy 0.508. A model the user trained
//     (tell train, --model RUN/model.safetensors) keeps weight 1: its own
//     metrics.json says what it is worth.
//   - the AUs (the Exp-CoT engine's reading): λ as below. On the coders'
//     own AUs of the CASME II sheet the engine reads 3-class UF1 0.889
//     (tell bench cot).
const (
	appearanceMicroWeight = 0.0
	appearanceWeight      = 1.0
	builtinFlowWeight     = 0.0
	flowWeight            = 1.0
)

// closeMargin: when the top two probabilities are closer than this, the
// label is reported as uncertain between them (cot.DoubtMargin: what the
// margin means on calibrated probabilities).
const closeMargin = cot.DoubtMargin

// scoreInput is the evidence of one event.
type scoreInput struct {
	ev       []cot.Evidence
	measured bool              // AUs against the person's own neutral face
	kind     string            // micro, macro or still ("" is taken as macro)
	app      *appearance.Probs // nil: no appearance net
	base     *appearance.Probs // the net's reading before the event (video), nil for a still
	flow     map[string]float64
	classes  []string // the flow model's classes, with flow
	// builtinFlow: the flow probabilities come from the shipped synthetic
	// model, which development data gave no weight.
	builtinFlow bool
}

// Expert is one expert's own reading of an event over the event's label
// set, and the weight it had in the label.
type Expert struct {
	Name        string  `json:"name"`        // "aus", "appearance" or "flow"
	Weight      float64 `json:"weight"`      // its weight in the fused score; 0: reported, not weighed
	Label       string  `json:"label"`       // its most probable class
	Probability float64 `json:"probability"` // its own probability of that class (the AUs: the engine's calibrated one)
	// Why says why its weight is what it is, when it is 0.
	Why string `json:"why,omitempty"`
}

// Ranked is one of the event's most probable labels.
type Ranked struct {
	Label       string  `json:"label"`
	Probability float64 `json:"probability"`
}

// scored is the scorer's result.
type scored struct {
	classes []string
	probs   map[string]float64 // unrounded
	label   string
	conf    float64
	basis   string // what the label rests on, for the CoT
	auAlone string // the class the AU evidence alone favours
	experts []Expert
	// doubt says why the label is uncertain (the top two are close, or a
	// weighed expert reads another class); empty when it is not.
	doubt string
	top2  []Ranked
}

// scoreEvent fuses the evidence (see the rule above).
func scoreEvent(in scoreInput) (scored, error) {
	au, activity, err := auScores(in.ev)
	if err != nil {
		return scored{}, fmt.Errorf("event scorer: %w", err)
	}
	var classes []string
	switch {
	case in.flow != nil:
		for _, c := range in.classes {
			classes = append(classes, facs.Emotion(c))
		}
	case in.app != nil:
		classes = append(classes, appearance.Labels()...)
		if in.measured {
			// Contempt, which the net has no class for, is a label when
			// measured AUs can speak for it.
			classes = append(classes, facs.Contempt)
		}
	default:
		classes = append(facs.BasicEmotions(), facs.Neutral, facs.Others)
	}
	if len(classes) == 0 {
		return scored{}, fmt.Errorf("event scorer: no classes")
	}
	wApp, wFlow := appearanceWeight, flowWeight
	appWhy, flowWhy := "", ""
	if in.kind == "micro" {
		wApp, appWhy = appearanceMicroWeight, "at chance on development micro-expressions (3-class UF1 0.40)"
	}
	if in.builtinFlow {
		wFlow, flowWhy = builtinFlowWeight, "the shipped model, trained on synthetic clips, is at chance on development data (3-class UF1 0.23)"
	}
	useApp, useFlow := in.app != nil && wApp > 0, in.flow != nil && wFlow > 0
	lambda := auWeight
	switch {
	case !useApp && !useFlow && in.measured:
		lambda = auOnlyWeight
	case !useApp && !useFlow:
		lambda = uncalibratedWeight
	case !in.measured:
		lambda = 0
	}
	// The appearance net's distribution over the label set: its mass on
	// classes outside the set (neutral in a three-class task) is left out
	// by renormalising, before the floor, so that it cannot flatten the
	// classes that remain.
	pa, pb := overClasses(in.app, classes), overClasses(in.base, classes)
	s := make([]float64, len(classes))
	appS := make([]float64, len(classes)) // the appearance net's own score
	for i, c := range classes {
		switch {
		case pa != nil && pb != nil:
			appS[i] = math.Log(math.Max(pa[i], changeFloor)) - math.Log(math.Max(pb[i], changeFloor))
		case pa != nil:
			appS[i] = math.Log(math.Max(pa[i], probFloor))
		}
		s[i] += wApp * appS[i]
		s[i] += lambda * auMatch(au, activity, c)
		if in.flow != nil {
			s[i] += wFlow * math.Log(math.Max(in.flow[in.classes[i]], probFloor))
		}
	}
	mx := slices.Max(s)
	var z float64
	for i := range s {
		s[i] = math.Exp(s[i] - mx)
		z += s[i]
	}
	out := scored{classes: classes, probs: map[string]float64{}}
	best := 0
	for i, c := range classes {
		out.probs[c] = s[i] / z
		if s[i] > s[best] {
			best = i
		}
	}
	out.label, out.conf = classes[best], s[best]/z
	out.basis = basis(in, lambda, useApp, useFlow)
	// The AU evidence's own reading, for the chain of thought.
	bestAU, bestA := "", -1.0
	for _, c := range classes {
		if a := auMatch(au, activity, c); a > bestA {
			bestAU, bestA = c, a
		}
	}
	out.auAlone = bestAU
	auWhy := ""
	if lambda == 0 {
		auWhy = "uncalibrated indications (no neutral reference of this face)"
	}
	// Its own probability: the engine's calibrated reading over the label
	// set, softmax(cot.Temperature·a).
	auS := make([]float64, len(classes))
	for i, c := range classes {
		auS[i] = cot.Temperature * auMatch(au, activity, c)
	}
	out.experts = append(out.experts, Expert{Name: "aus", Weight: lambda, Label: bestAU, Probability: round3(nn.SoftmaxT(auS, 1)[slices.Index(classes, bestAU)]), Why: auWhy})
	if pa != nil {
		// Its own distribution: the softmax of its scores.
		k := argmax(appS)
		out.experts = append(out.experts, Expert{Name: "appearance", Weight: wApp, Label: classes[k], Probability: round3(nn.SoftmaxT(appS, 1)[k]), Why: appWhy})
	}
	if in.flow != nil {
		k, p := "", -1.0
		for _, c := range in.classes {
			if in.flow[c] > p {
				k, p = c, in.flow[c]
			}
		}
		out.experts = append(out.experts, Expert{Name: "flow", Weight: wFlow, Label: facs.Emotion(k), Probability: round3(p), Why: flowWhy})
	}
	out.top2, out.doubt = doubtOf(out)
	return out, nil
}

// doubtOf returns the event's two most probable labels and, when the
// label is uncertain, why: the second is within closeMargin of the first,
// or a weighed expert's own reading is another class.
func doubtOf(s scored) ([]Ranked, string) {
	ks := sortedClasses(s.probs)
	var top []Ranked
	for _, k := range ks[:min(2, len(ks))] {
		top = append(top, Ranked{Label: k, Probability: round3(s.probs[k])})
	}
	var why []string
	if len(top) == 2 && s.probs[ks[0]]-s.probs[ks[1]] < closeMargin {
		why = append(why, fmt.Sprintf("%s (%.2f) and %s (%.2f) are within %.2f of each other", ks[0], s.probs[ks[0]], ks[1], s.probs[ks[1]], closeMargin))
	}
	for _, e := range s.experts {
		if e.Weight > 0 && e.Label != s.label && !(e.Name == "aus" && (e.Label == facs.Neutral || e.Label == facs.Others)) {
			who := map[string]string{"aus": "the AUs alone read", "appearance": "the appearance model reads", "flow": "the flow model reads"}[e.Name]
			why = append(why, fmt.Sprintf("%s %s", who, e.Label))
		}
	}
	if len(why) == 0 {
		return top, ""
	}
	other := ks[1]
	if len(top) < 2 {
		other = ""
	}
	for _, e := range s.experts {
		if e.Weight > 0 && e.Label != s.label && slices.Contains(s.classes, e.Label) {
			other = e.Label
			break
		}
	}
	if other == "" {
		return top, strings.Join(why, "; ")
	}
	return top, fmt.Sprintf("uncertain between %s and %s: %s", s.label, other, strings.Join(why, "; "))
}

func argmax(v []float64) int {
	k := 0
	for i := range v {
		if v[i] > v[k] {
			k = i
		}
	}
	return k
}

// auScores is the AU expert: the Exp-CoT engine's own evidence-only
// reading (cot.Readings; the knowledge tell bench cot measures on coded
// sheets), so that the scorer, the chain of thought and its "on the AUs
// alone" sentence rest on one set of rules. Per basic emotion the
// engine's match score in [0,1]; activity is 1 when an emotional action is
// observed (from trace level, or a significant rise at any intensity),
// else 0.
func auScores(ev []cot.Evidence) (map[string]float64, float64, error) {
	scores, active, err := cot.Readings(ev, cot.Options{})
	if err != nil {
		return nil, 0, err
	}
	if active {
		return scores, 1, nil
	}
	return scores, 0, nil
}

// overClasses is the appearance net's distribution over the label set,
// renormalised; nil for nil.
func overClasses(p *appearance.Probs, classes []string) []float64 {
	if p == nil {
		return nil
	}
	m := p.Map()
	out := make([]float64, len(classes))
	var z float64
	for i, c := range classes {
		out[i] = appProb(m, c)
		z += out[i]
	}
	for i := range out {
		if z > 0 {
			out[i] /= z
		}
	}
	return out
}

// appProb is the appearance net's probability of class c.
func appProb(p map[string]float64, c string) float64 {
	if v, ok := p[c]; ok {
		return v
	}
	sum, member := 0.0, false
	for e, v := range p {
		if k, ok := facs.ThreeClass(e, ""); ok && k == c {
			sum += v
			member = true
		}
	}
	if member {
		return sum
	}
	return 1.0 / float64(len(appearance.Labels()))
}

// auMatch is a(c), the AU evidence's support for class c.
func auMatch(scores map[string]float64, activity float64, c string) float64 {
	switch c {
	case facs.Neutral:
		return 1 - activity
	case facs.Others:
		return othersShare * activity
	}
	if v, ok := scores[c]; ok {
		return v
	}
	best := 0.0
	for e, v := range scores {
		if k, ok := facs.ThreeClass(e, ""); ok && k == c {
			best = math.Max(best, v)
		}
	}
	return best
}

func basis(in scoreInput, lambda float64, useApp, useFlow bool) string {
	var b string
	switch {
	case useApp && useFlow && lambda > 0:
		b = "the appearance model, the flow model and the AUs together"
	case useApp && useFlow:
		b = "the appearance and flow models (the AU indications are not weighed)"
	case useApp && lambda > 0:
		b = "the appearance model and the AUs together"
	case useApp:
		b = "the appearance model (the AU indications are not weighed)"
	case useFlow && lambda > 0:
		b = "the flow model and the AUs together"
	case useFlow:
		b = "the flow model (the AU indications are not weighed)"
	case in.measured && in.app == nil && in.flow == nil:
		b = "the AUs alone (no appearance model)"
	case in.measured:
		b = "the AUs alone"
	default:
		b = "uncalibrated AU indications alone (no appearance model, no neutral reference), a weak basis"
	}
	var unweighed []string
	if in.app != nil && !useApp {
		unweighed = append(unweighed, "the appearance model's reading is reported, not weighed, as it is at chance on micro-expressions")
	}
	if in.flow != nil && !useFlow {
		unweighed = append(unweighed, "the shipped flow model's reading is reported, not weighed, as it is at chance on real clips")
	}
	if len(unweighed) > 0 {
		b += " (" + strings.Join(unweighed, "; ") + ")"
	}
	return b
}

// rounded returns the probabilities rounded to three decimals, for the
// outputs.
func (s scored) rounded() map[string]float64 {
	out := make(map[string]float64, len(s.probs))
	for k, v := range s.probs {
		out[k] = round3(v)
	}
	return out
}

// appearanceOf converts probabilities for the CoT and events.json.
func appearanceOf(model string, apex *appearance.Probs, onset *appearance.Probs) *cot.Appearance {
	if apex == nil {
		return nil
	}
	a := &cot.Appearance{Model: model, Probs: map[string]float64{}}
	for i, l := range appearance.Labels() {
		a.Probs[l] = round3(float64(apex[i]))
	}
	if onset != nil {
		a.Onset = map[string]float64{}
		for i, l := range appearance.Labels() {
			a.Onset[l] = round3(float64(onset[i]))
		}
	}
	return a
}

// sortedClasses lists a probability map's keys, most probable first.
func sortedClasses(p map[string]float64) []string {
	var ks []string
	for k := range p {
		ks = append(ks, k)
	}
	sort.Slice(ks, func(i, j int) bool {
		if p[ks[i]] != p[ks[j]] {
			return p[ks[i]] > p[ks[j]]
		}
		return ks[i] < ks[j]
	})
	return ks
}
