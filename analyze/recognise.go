package analyze

import (
	"context"
	"fmt"
	"image"
	"math"
	"sort"

	"github.com/tell-project/tell/au"
	"github.com/tell-project/tell/cot"
	"github.com/tell-project/tell/facs"
)

// Reasoner explains one spotted expression: it receives the measured AU
// evidence and images of the face (onset, apex, the flow between them) and
// returns the chain of thought whose Conclusion is the label. The built-in
// reasoner is the Exp-CoT engine (package cot); a vision LLM can stand in.
type Reasoner interface {
	Reason(ctx context.Context, ev []cot.Evidence, images []image.Image) (cot.CoT, error)
}

// BuiltinReasoner reasons with the Exp-CoT engine over the evidence alone:
// the emotion probabilities are the AUs' prototype match (priorScores), the
// label their most probable emotion, and the chain of thought is written
// for that label (cot.Generate: flagged when the evidence cannot reach it).
type BuiltinReasoner struct {
	Seed uint64 // phrasing seed
}

// Reason implements Reasoner.
func (b BuiltinReasoner) Reason(ctx context.Context, ev []cot.Evidence, images []image.Image) (cot.CoT, error) {
	c, _, err := b.ReasonScores(ctx, ev, images)
	return c, err
}

// ReasonScores implements ScoringReasoner.
func (b BuiltinReasoner) ReasonScores(_ context.Context, ev []cot.Evidence, _ []image.Image) (cot.CoT, map[string]float64, error) {
	probs := priorScores(ev)
	if flat(probs) {
		// No prototype matches better than another (nothing moved, or
		// only actions no prototype holds, such as AU25 alone): the
		// engine's reading (neutral, others) takes its own confidence and
		// the prototypes share the rest.
		c, err := cot.Explain(ev, cot.Options{Seed: b.Seed})
		if err != nil {
			return c, nil, err
		}
		if l := c.Conclusion.Label; l != "" && probs[l] == 0 {
			rest := (1 - c.Conclusion.Confidence) / float64(len(probs))
			for k := range probs {
				probs[k] = round3(rest)
			}
			probs[l] = round3(c.Conclusion.Confidence)
		}
		return c, probs, nil
	}
	label, _ := argmax(probs)
	c, err := cot.Generate(ev, label, cot.Options{Seed: b.Seed, Probabilities: probs})
	return c, probs, err
}

// flat reports probabilities that do not single out a class.
func flat(probs map[string]float64) bool {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, p := range probs {
		lo, hi = math.Min(lo, p), math.Max(hi, p)
	}
	return hi-lo < 1e-3
}

// reason asks the run's reasoner about one event: its chain of thought and
// the emotion probabilities the event publishes (the prototype match when
// the reasoner gives none).
func (r *run) reason(ctx context.Context, ev []cot.Evidence, images []image.Image) (cot.CoT, map[string]float64, error) {
	if sr, ok := r.opt.Reasoner.(ScoringReasoner); ok {
		return sr.ReasonScores(ctx, ev, images)
	}
	c, err := r.opt.Reasoner.Reason(ctx, ev, images)
	return c, priorScores(ev), err
}

// publish is the one rule that names an event: its label is the most
// probable emotion of the probabilities it publishes, and its confidence
// that probability. When the reasoner's chain of thought concludes
// otherwise (a vision LLM's own reading, or evidence that cannot reach the
// label), the conclusion is kept as the reasoner wrote it and the
// disagreement is recorded in its verification.
func publish(probs map[string]float64, c *cot.CoT) (string, float64) {
	label, p := argmax(probs)
	if got := c.Conclusion.Label; got != "" && label != "" && cot.CanonicalLabel(got) != cot.CanonicalLabel(label) {
		if c.Verification == nil {
			c.Verification = &cot.Verification{ReadLabel: got}
		}
		c.Verification.Flagged = true
		c.Verification.Feedback = append(c.Verification.Feedback,
			fmt.Sprintf("the chain of thought concludes %s; the event's label is %s, the most probable emotion (%.0f%%)", got, label, 100*p))
	}
	return label, p
}

// argmax is the most probable class (ties: the first in name order) and its
// probability.
func argmax(probs map[string]float64) (string, float64) {
	best, p := "", -1.0
	for k, v := range probs {
		if v > p || v == p && k < best {
			best, p = k, v
		}
	}
	if best == "" {
		return "", 0
	}
	return best, p
}

// EventAU is one AU of an event.
type EventAU struct {
	AU        int     `json:"au"`
	Name      string  `json:"name"`
	Side      string  `json:"side,omitempty"` // "", "left", "right" (subject's)
	Intensity float64 `json:"intensity"`      // peak, 0–5 (OpenFace scale)
	Letter    string  `json:"letter"`         // FACS intensity letter A–E
	Right     float64 `json:"right"`          // peak on the subject's right, 0–5
	Left      float64 `json:"left"`           // peak on the subject's left, 0–5
}

// Event-level AU decisions. An event is already a spotted movement, so an
// AU needs less intensity to count than in a single frame. Cross-talk
// between AUs whose movements resemble each other (AU4 read into a strong
// AU1, AU12 into AU15) is suppressed: an AU must reach rivalFloor of the
// strongest AU it can be confused with (au.Overlap above rivalOverlap).
const (
	eventPresence = 0.3  // 0–5 scale
	rivalFloor    = 0.4  // share of the strongest confusable AU
	rivalOverlap  = 0.25 // |cosine| of the movements from which AUs are rivals
	globalFloor   = 0.12 // share of the event's strongest AU
	// sideRatio: one side this many times the other makes an AU unilateral.
	sideRatio = 2.5
)

// peakAUs turns per-AU peak intensities (both, right, left; indexed like
// au.AUs) into the event's AUs, strongest first.
func peakAUs(both, right, left []float32) []EventAU {
	var top float32
	for i := range au.AUs {
		top = max(top, both[i])
	}
	var out []EventAU
	for i, n := range au.AUs {
		v := both[i]
		var rival float32
		for j, m := range au.AUs {
			if j != i && au.Overlap(n, m) > rivalOverlap {
				rival = max(rival, both[j])
			}
		}
		if v < eventPresence || v < globalFloor*top || v < rivalFloor*rival {
			continue
		}
		info := facs.Describe(n)
		e := EventAU{AU: n, Name: info.Name, Intensity: round2(float64(v)), Right: round2(float64(right[i])), Left: round2(float64(left[i]))}
		if info.Lateral() {
			switch {
			case right[i] > sideRatio*left[i]:
				e.Side = "right"
			case left[i] > sideRatio*right[i]:
				e.Side = "left"
			}
		}
		e.Letter = letter(float64(v))
		out = append(out, e)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Intensity > out[j].Intensity })
	return out
}

// letter is the FACS intensity letter of a 0–5 intensity, the one scale of
// frames.csv, events.json, the report and the chain of thought (A = 1 … E
// = 5, each ±0.5; below 0.5 no letter): the same letter cot writes for
// the same number.
func letter(v float64) string {
	return facs.LetterFromValue(v / cot.MaxIntensity).String()
}

// evidence converts event AUs to cot evidence: the same 0–5 intensities.
func evidence(aus []EventAU, onset, apex, offset float64) []cot.Evidence {
	out := make([]cot.Evidence, 0, len(aus))
	for _, a := range aus {
		out = append(out, cot.Evidence{
			AU: a.AU, Side: a.Side, Intensity: math.Min(cot.MaxIntensity, a.Intensity),
			Onset: onset, Apex: apex, Offset: offset,
		})
	}
	return out
}

// emotionScores rates each basic emotion by how well its EMFACS prototype
// matches the event's AUs (intensity-weighted overlap, lateral AUs by side)
// and normalises with a softmax: a prior over emotions, reported next to
// the reasoner's conclusion.
func emotionScores(aus []EventAU) map[string]float64 {
	return priorScores(evidence(aus, 0, 0, 0))
}

// priorScores is emotionScores on cot evidence. It works on intensities
// as fractions of the scale's top (0–1).
func priorScores(ev []cot.Evidence) map[string]float64 {
	got := map[int]cot.Evidence{}
	var total float64
	for _, a := range ev {
		a.Intensity /= cot.MaxIntensity
		got[a.AU] = a
		total += a.Intensity
	}
	out := map[string]float64{}
	var z float64
	for _, p := range facs.Prototypes() {
		var hit, need float64
		inProto := map[int]bool{}
		for _, pa := range p.Code.AUs() {
			inProto[pa.Number] = true
			need++
			a, ok := got[pa.Number]
			if !ok {
				continue
			}
			v := a.Intensity
			if pa.Side != facs.Both && a.Side == "" {
				v *= 0.5 // a one-sided prototype AU seen on both sides
			}
			hit += math.Min(1, v/0.3)
		}
		var extra float64
		for n, a := range got {
			if !inProto[n] {
				extra += a.Intensity
			}
		}
		s := hit / need
		if total > 0 {
			s *= 1 - 0.5*extra/total
		}
		out[p.Emotion] = math.Exp(6 * s)
		z += out[p.Emotion]
	}
	for k, v := range out {
		out[k] = round3(v / z)
	}
	return out
}

func round2(v float64) float64 { return math.Round(v*100) / 100 }
func round3(v float64) float64 { return math.Round(v*1000) / 1000 }
