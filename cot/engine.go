package cot

import (
	"fmt"

	"github.com/tell-project/tell/facs"
)

// minSupport is the least evidence-only match score that the feedback loop
// may build on when steering towards a true label.
const minSupport = 0.15

// DefaultMaxTries bounds the feedback-reflection loop when Options.MaxTries
// is zero.
const DefaultMaxTries = 3

// Explain writes the chain of thought for the evidence without a true
// label: the label comes from the evidence alone, and Verification records
// the Des2Exp read-back of the text.
func Explain(ev []Evidence, o Options) (CoT, error) { return Generate(ev, "", o) }

// Generate runs the Exp-CoT engine: reason over the evidence (AU2Des), read
// the label back from the text alone (Des2Exp), and, given a true label,
// verify it. On a mismatch the feedback-reflection loop re-weighs the
// evidence towards the true label — damping actions that only the wrong
// reading uses and favouring the true label's configurations — and tries
// again, at most Options.MaxTries attempts in all, keeping a memory of why
// each attempt failed. If no attempt matches, the first, evidence-only CoT
// is returned with Verification.Flagged set: the engine never relabels
// silently. An error means the evidence itself is invalid.
func Generate(ev []Evidence, trueLabel string, o Options) (CoT, error) {
	units, err := aggregate(ev)
	if err != nil {
		return CoT{}, err
	}
	trueLabel = facs.Emotion(trueLabel)
	cands := o.candidates()
	if trueLabel != "" {
		cands = withLabelModels(cands, trueLabel, o)
	}
	tries := o.MaxTries
	if tries <= 0 {
		tries = DefaultMaxTries
	}
	var first CoT
	var firstRead string
	var memory []string
	boost := map[string]float64{}
	for k := 1; k <= tries; k++ {
		d := decide(units, cands, boost, o)
		d.span = timing(ev)
		c := render(d, o)
		read, rerr := ReadLabel(c.Text)
		if k == 1 {
			first, firstRead = c, read
		}
		if rerr != nil || read != c.Conclusion.Label {
			// The writer and the reader disagree: a defect in the text,
			// not in the evidence; retrying would write the same text.
			memory = append(memory, fmt.Sprintf("attempt %d: the text reads as %q but the structured label is %q", k, read, c.Conclusion.Label))
			first.Verification = &Verification{ReadLabel: firstRead, ReadBack: firstRead == first.Conclusion.Label, TrueLabel: trueLabel, Attempts: k, Feedback: memory, Flagged: true}
			return first, nil
		}
		if trueLabel == "" {
			c.Verification = &Verification{ReadLabel: read, ReadBack: true, Attempts: 1}
			return c, nil
		}
		if labelMatches(read, trueLabel, o) {
			c.Verification = &Verification{ReadLabel: read, ReadBack: true, TrueLabel: trueLabel, MatchesTrueLabel: true, Attempts: k, Feedback: memory}
			return c, nil
		}
		why, ok := reflect(d, units, trueLabel, boost, k, o)
		memory = append(memory, fmt.Sprintf("attempt %d: concluded %s, expected %s: %s", k, read, trueLabel, why))
		if !ok {
			break
		}
	}
	first.Verification = &Verification{ReadLabel: firstRead, ReadBack: firstRead == first.Conclusion.Label, TrueLabel: trueLabel, Attempts: len(memory), Feedback: memory, Flagged: true}
	return first, nil
}

// labelMatches reports whether the read label satisfies the true one.
func labelMatches(read, trueLabel string, o Options) bool {
	return family(read, trueLabel, o.Dataset) || family(trueLabel, read, o.Dataset)
}

// withLabelModels adds the models of the true label's emotions when the
// label set left them out (repression without Classes), so that the loop
// can consider them.
func withLabelModels(cands []emotionModel, label string, o Options) []emotionModel {
	have := map[string]bool{}
	for _, m := range cands {
		have[m.emotion] = true
	}
	for _, m := range models() {
		if !have[m.emotion] && family(m.emotion, label, o.Dataset) {
			cands = append(cands, m.forDataset(o.Dataset))
		}
	}
	return cands
}

// reflect analyses a failed attempt and re-weighs for the next one. It
// returns why the attempt failed and whether another attempt can succeed.
func reflect(d decision, units []unit, trueLabel string, boost map[string]float64, k int, o Options) (string, bool) {
	none := trueLabel == facs.Neutral || trueLabel == facs.Others
	if none {
		if d.active == 0 {
			return "no action moved, yet the label set has no " + trueLabel, false
		}
		for i := range units {
			units[i].weight *= 0.5
		}
		return fmt.Sprintf("%s read as %s; damping all actions to test whether they are too weak to carry an emotion",
			auList(activeAUs(units), true), d.label), true
	}
	// The AUs any configuration of the true label uses.
	support := map[int]bool{}
	var emos []string
	for _, m := range models() {
		if !family(m.emotion, trueLabel, o.Dataset) {
			continue
		}
		emos = append(emos, m.emotion)
		for _, v := range m.variants {
			for _, n := range v.needs {
				support[n.au] = true
			}
		}
	}
	if len(emos) == 0 {
		return fmt.Sprintf("the engine knows no AU configuration of %q", trueLabel), false
	}
	var for_, against []int
	for _, u := range units {
		if u.info.Incidental {
			continue
		}
		if support[u.au] {
			for_ = append(for_, u.au)
		} else {
			against = append(against, u.au)
		}
	}
	if len(for_) == 0 {
		return fmt.Sprintf("no observed action belongs to any configuration of %s", trueLabel), false
	}
	best := match{}
	for _, m := range d.matches {
		if family(m.emotion, trueLabel, o.Dataset) && m.raw > best.raw {
			best = m
		}
	}
	// Re-weighing may settle an ambiguity, never invent evidence: the true
	// label needs a configuration of its own among the observed actions.
	if best.raw == 0 {
		return fmt.Sprintf("no observed configuration of %s (%s alone is not one)", trueLabel, auList(for_, true)), false
	}
	if best.raw < minSupport {
		return fmt.Sprintf("the observed actions barely support %s (best %s match %.2f on %s)", trueLabel, best.emotion, best.raw, auList(best.matched, true)), false
	}
	why := fmt.Sprintf("%s %s %s", auList(for_, true), map[bool]string{true: "supports", false: "support"}[len(for_) == 1], trueLabel)
	if best.emotion != "" {
		why += fmt.Sprintf(" (best %s match %.2f", best.emotion, best.raw)
		if len(best.missing) > 0 {
			why += ", missing " + auList(best.missing, true)
		}
		why += ")"
	}
	if len(against) > 0 {
		why += fmt.Sprintf("; %s do not; re-weighing towards %s", auList(against, true), trueLabel)
		for i := range units {
			if !support[units[i].au] {
				units[i].weight *= 0.6
			}
		}
	} else {
		why += "; favouring its configurations over the rival reading"
	}
	for _, e := range emos {
		boost[e] = 1 + 0.5*float64(k)
	}
	// The rival reading loses weight in the same measure.
	if d.emotion != "" && !family(d.emotion, trueLabel, o.Dataset) {
		boost[d.emotion] = 1 / (1 + 0.5*float64(k))
	}
	return why, true
}

// EvidenceFromCode turns a parsed AU string into evidence. Coded letters
// give the intensity (an intensity range "4A/B" its middle); AUs without
// one get a nominal 0.5 with IntensityUnknown set. Uncertain AUs ("12?",
// "ref(12)") get confidence 0.5; each of k alternatives ("12/14", "A/L12")
// gets confidence 1/k. Lip prefixes T and B keep their side ("top",
// "bottom"); visibility codes (70–74) give no evidence.
func EvidenceFromCode(c facs.Code) []Evidence {
	var out []Evidence
	for _, t := range c.Terms {
		for _, a := range t {
			if facs.Describe(a.Number).NotAction {
				continue
			}
			e := Evidence{AU: a.Number, Side: a.Side.String(), Intensity: MaxIntensity * a.Value(0.5), IntensityUnknown: !a.Intensity.Valid()}
			conf := 1.0
			if len(t) > 1 {
				conf /= float64(len(t))
			}
			if a.Uncertain {
				conf *= 0.5
			}
			if conf < 1 {
				e.Confidence = conf
			}
			out = append(out, e)
		}
	}
	return out
}
