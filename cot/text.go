package cot

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"

	"github.com/tell-project/tell/facs"
)

// MicroMaxSeconds is the longest duration of a micro-expression.
const MicroMaxSeconds = 0.5

// pick returns one of the forms, chosen with r.
func pick(r *rand.Rand, forms ...string) string { return forms[r.IntN(len(forms))] }

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// auList writes "AU4 and AU7" or "AU4+AU7" (plus form).
func auList(aus []int, plus bool) string {
	parts := make([]string, len(aus))
	for i, n := range aus {
		parts[i] = fmt.Sprintf("AU%d", n)
	}
	if plus {
		return strings.Join(parts, "+")
	}
	return facs.JoinAnd(parts)
}

func isAre(n int) string {
	if n == 1 {
		return "is"
	}
	return "are"
}

// adverbs per FACS level, for the "acting slightly" forms.
var adverbs = map[facs.Letter]string{facs.A: "barely", facs.B: "slightly", facs.C: "clearly", facs.D: "significantly", facs.E: "maximally"}

// intensityPhrase describes a unit's intensity in words and numbers.
func intensityPhrase(u unit, r *rand.Rand) string {
	if u.unknown {
		return "intensity not coded"
	}
	l := facs.LetterOfIntensity(u.value())
	w, v := l.Word(), fmt.Sprintf("%.2f", u.value())
	if !l.Valid() {
		// Below FACS's trace level, yet significant: words for its size.
		return fmt.Sprintf("rising slightly (%s on the 0–5 scale, below trace level, but %s its own noise: weak but clear for a micro-expression)", v, timesNoise(u.snr))
	}
	if u.snr > 0 {
		v += ", " + timesNoise(u.snr) + " its noise"
	}
	switch r.IntN(3) {
	case 0:
		return fmt.Sprintf("%s (%s, %s)", w, l, v)
	case 1:
		return fmt.Sprintf("at %s intensity (%s)", w, v)
	}
	return fmt.Sprintf("acting %s (%s, level %s)", adverbs[l], v, l)
}

// timesNoise says how far a rise stands out of its noise: "six times",
// "12.5 times".
func timesNoise(snr float64) string {
	words := []string{"", "", "twice", "three times", "four times", "five times", "six times", "seven times", "eight times", "nine times", "ten times"}
	if k := int(math.Round(snr)); k >= 2 && k < len(words) && math.Abs(snr-float64(k)) < 0.25 {
		return words[k]
	}
	return fmt.Sprintf("%.1f times", snr)
}

// sidePhrase is "", "on the right side only", "on both sides, stronger on the left", "asymmetric".
func sidePhrase(u unit) string {
	switch u.lat {
	case unilateral:
		return "on the " + u.side + " side only"
	case asymmetric:
		if u.side != "" {
			return "on both sides, stronger on the " + u.side
		}
		return "asymmetric"
	}
	return ""
}

func movement(u unit) string {
	a := facs.AU{Number: u.au}
	switch u.lat {
	case unilateral:
		if u.side == "left" {
			a.Side = facs.Left
		} else {
			a.Side = facs.Right
		}
	case asymmetric:
		if u.side == "" {
			a.Side = facs.Asymmetric
		} else {
			return u.info.Movement + ", more strongly on the " + u.side
		}
	}
	return facs.MovementOf(a)
}

// tiedTo describes the emotions an AU is usually tied to.
func tiedTo(u unit) string {
	if u.info.Incidental {
		return "an incidental action with no emotional meaning of its own"
	}
	switch u.au {
	case 12:
		if u.lat == unilateral {
			return "a one-sided smile: happiness to micro-expression coders, contempt when a one-sided dimpler joins it"
		}
		return "the main sign of happiness (with a one-sided dimpler, of contempt)"
	case 14:
		return "tied to contempt, especially when one-sided"
	}
	if len(u.info.Emotions) == 0 {
		return "not tied to a particular emotion"
	}
	return "usually tied to " + facs.JoinAnd(u.info.Emotions)
}

// observationLine writes one bullet of Key Observations.
func observationLine(u unit, compact bool, r *rand.Rand) string {
	ip := intensityPhrase(u, r)
	mv := movement(u)
	side := sidePhrase(u)
	if u.side != "" && strings.Contains(mv, u.side) {
		side = "" // the movement already names the side
	}
	if side != "" {
		side = ", " + side
	}
	if compact {
		return fmt.Sprintf("- AU%d (%s)%s, %s: %s.", u.au, u.info.Name, side, ip, mv)
	}
	tied := tiedTo(u)
	switch r.IntN(3) {
	case 0:
		return fmt.Sprintf("- AU%d (%s)%s, %s: %s; %s.", u.au, u.info.Name, side, ip, mv, tied)
	case 1:
		if u.unknown {
			ip = "present (intensity not coded)"
		}
		return fmt.Sprintf("- AU%d (%s) is %s%s, %s; %s.", u.au, u.info.Name, ip, side, mv, tied)
	}
	return fmt.Sprintf("- %s: AU%d, %s%s, %s; %s.", capitalize(mv), u.au, u.info.Name, side, ip, tied)
}

var sourcePhrase = map[string]string{
	srcEMFACS:   "the EMFACS prototype of",
	srcVariant:  "an EMFACS variant of",
	srcPartial:  "a partial form of",
	srcCASME2:   "the configuration micro-expression coders (CASME II criteria) label as",
	srcDavison:  "a configuration of Davison's objective class for",
	srcFragment: "only a fragment of",
}

func unitsOf(d decision, aus []int) []unit {
	var out []unit
	for _, n := range aus {
		for _, u := range d.units {
			if u.au == n {
				out = append(out, u)
			}
		}
	}
	return out
}

func movementsOf(us []unit) string {
	parts := make([]string, len(us))
	for i, u := range us {
		parts[i] = movement(u)
	}
	return facs.JoinAnd(parts)
}

// interpretation writes the Overall Emotional Interpretation paragraph and
// fills the structured Interpretation.
func interpretation(d decision, o Options, r *rand.Rand) (Interpretation, string) {
	var it Interpretation
	var s []string
	switch {
	case d.active == 0:
		it.Dominant = d.label
		if len(d.units) == 0 {
			s = append(s, pick(r,
				"No facial action is active, so there is no evidence of any emotion: the face is at rest.",
				"The face shows no active Action Unit (none at trace level, none clearly above its own noise); without any movement there is nothing to ground an emotion on.",
			))
		} else {
			s = append(s, fmt.Sprintf("Only %s moved, %s, which carries no emotional meaning by itself; no expression is formed.",
				auList(unitAUs(d.units), false), movementsOf(d.units)))
		}
	case d.emotion == "":
		it.Dominant = d.label
		var top match
		if len(d.matches) > 0 {
			top = d.matches[0]
		}
		list := auList(activeAUs(d.units), false)
		if top.score > 0 && len(top.matched) > 0 {
			second := "%s move, but together they match no emotion prototype; the nearest, %s, is supported only by %s, which is not enough."
			if len(activeAUs(d.units)) == 1 {
				second = "%s moves, but alone it matches no emotion prototype; the nearest, %s, is supported only by %s, which is not enough."
			}
			s = append(s, fmt.Sprintf(pick(r,
				"The active actions (%s) do not form the prototype of any basic emotion. The closest reading, %s, rests on %s alone, too thin a match to claim it.",
				second),
				list, top.emotion, auList(top.matched, false)))
		} else {
			act := activeUnits(d.units)
			var tied []string
			seen := map[string]bool{}
			for _, u := range act {
				for _, e := range u.info.Emotions {
					if !seen[e] {
						seen[e] = true
						tied = append(tied, e)
					}
				}
			}
			verb := "form"
			if len(act) == 1 {
				verb = "forms"
			}
			msg := fmt.Sprintf("%s (%s) %s no emotion configuration on %s own", capitalize(movementsOf(act)), list, verb, map[bool]string{true: "its", false: "their"}[len(act) == 1])
			if len(tied) > 0 {
				msg += fmt.Sprintf("; such actions occur in %s alike, so none of these can be claimed.", facs.JoinAnd(tied))
			} else {
				msg += ", so no emotion can be read from the face."
			}
			s = append(s, msg)
		}
		it.Interactions = []string{auList(activeAUs(d.units), true)}
	default:
		top := d.matches[0]
		it.Dominant = top.emotion
		us := unitsOf(d, top.matched)
		combo := auList(top.matched, true)
		it.Interactions = append(it.Interactions, combo)
		opener := pick(r,
			"Taken together, %[1]s (%[2]s) is %[3]s %[4]s, so %[4]s dominates.",
			"The key interaction is %[1]s: %[2]s, which is %[3]s %[4]s.",
			"%[5]s (%[1]s) is %[3]s %[4]s and carries the expression.")
		if len(top.matched) == 1 && d.active == 1 {
			opener = pick(r,
				"A single emotional action carries the face: %[2]s (%[1]s), which is %[3]s %[4]s.",
				"Only %[1]s, %[2]s, bears on emotion; alone it is %[3]s %[4]s.")
		}
		src := sourcePhrase[top.variant.source]
		if top.variant.source == srcEMFACS && !isPrototype(top) {
			src = sourcePhrase[srcVariant]
		}
		if len(top.missing) > 0 && top.variant.source != srcFragment {
			src = "part of " + src
		}
		s = append(s, fmt.Sprintf(opener,
			combo, movementsOf(us), src, top.emotion, capitalize(movementsOf(us))))
		s = append(s, coverage(d, top, r)...)
		if sup, other := beyondVariant(d, top); len(sup) > 0 || len(other) > 0 {
			if len(sup) > 0 {
				s = append(s, fmt.Sprintf(pick(r,
					"%[1]s (%[2]s) also %[3]s with %[4]s.",
					"In addition, %[2]s (%[1]s) %[5]s the %[4]s reading."),
					auList(unitAUs(sup), false), movementsOf(sup), agree(len(sup)), top.emotion, support(len(sup))))
			}
			if len(other) > 0 {
				s = append(s, fmt.Sprintf("%s (%s) %s no specific weight here.",
					capitalize(movementsOf(other)), auList(unitAUs(other), false), map[bool]string{true: "adds", false: "add"}[len(other) == 1]))
			}
		}
		for _, n := range top.conflicts {
			u := unitsOf(d, []int{n})[0]
			s = append(s, fmt.Sprintf(pick(r,
				"AU%[1]d (%[2]s) does not belong to %[3]s and tempers this reading.",
				"AU%[1]d (%[2]s) argues against %[3]s and lowers the confidence.",
				"Against it, AU%[1]d (%[2]s) is not part of %[3]s."),
				n, strings.ToLower(u.info.Name), top.emotion))
			it.Interactions = append(it.Interactions, fmt.Sprintf("%s vs %d", combo, n))
		}
		if lat := lateralNote(d, top); lat != "" {
			s = append(s, lat)
		}
		for _, m := range d.secondary {
			it.Secondary = append(it.Secondary, m.emotion)
			rel, rel2 := "a weaker, secondary reading", "weaker"
			switch {
			case m.raw >= top.raw:
				rel, rel2 = "an equally close alternative on this evidence", "equally close on this evidence"
			case m.raw >= 0.8*top.raw:
				rel, rel2 = "almost as strong, so the face may show a blend", "almost as strong, so the face may show a blend"
			}
			if r.IntN(2) == 0 {
				s = append(s, fmt.Sprintf("%s is %s (%s).", capitalize(m.emotion), rel, auList(m.matched, true)))
			} else {
				s = append(s, fmt.Sprintf("A second reading, %s, rests on %s and is %s.", m.emotion, auList(m.matched, true), rel2))
			}
		}
	}
	if d.active > 0 {
		if n := intensityNote(d, r); n != "" {
			s = append(s, n)
		}
		if d.span.ok {
			dur := d.span.offset - d.span.onset
			it.Duration = round2(dur)
			if dur <= MicroMaxSeconds {
				s = append(s, fmt.Sprintf(pick(r,
					"The movement lasts %.2f s from onset to offset, within the half-second bound of a micro-expression: brief and probably involuntary.",
					"At %.2f s from onset to offset, the display is a micro-expression (at most 0.5 s), the kind that leaks a feeling before it can be controlled."), dur))
			} else {
				s = append(s, fmt.Sprintf("The movement lasts %.2f s, longer than a micro-expression (0.5 s): a macro-expression.", dur))
			}
		}
	}
	it.Rationale = strings.Join(s, " ")
	return it, it.Rationale
}

func agree(n int) string {
	if n == 1 {
		return "agrees"
	}
	return "agree"
}

func support(n int) string {
	if n == 1 {
		return "supports"
	}
	return "support"
}

// isPrototype reports whether the matched variant is the emotion's EMFACS
// prototype itself (same AU set), not one of its variants.
func isPrototype(m match) bool {
	p, ok := facs.PrototypeOf(m.emotion)
	if !ok {
		return false
	}
	aus := p.AUs()
	if len(aus) != len(m.variant.needs) {
		return false
	}
	in := map[int]bool{}
	for _, a := range aus {
		in[a.Number] = true
	}
	for _, n := range m.variant.needs {
		if !in[n.au] {
			return false
		}
	}
	return true
}

// beyondVariant splits the active units outside the matched variant into
// those that belong to the emotion elsewhere (support) and those that
// neither belong to it nor argue against it.
func beyondVariant(d decision, top match) (sup, other []unit) {
	inV := map[int]bool{}
	for _, n := range top.variant.needs {
		inV[n.au] = true
	}
	conflict := map[int]bool{}
	for _, n := range top.conflicts {
		conflict[n] = true
	}
	set := map[int]bool{}
	for _, m := range models() {
		if m.emotion == top.emotion {
			for _, v := range m.variants {
				for _, n := range v.needs {
					set[n.au] = true
				}
			}
		}
	}
	for _, u := range d.units {
		if u.info.Incidental || inV[u.au] || conflict[u.au] {
			continue
		}
		if set[u.au] {
			sup = append(sup, u)
		} else {
			other = append(other, u)
		}
	}
	return sup, other
}

func unitAUs(us []unit) []int {
	out := make([]int, len(us))
	for i, u := range us {
		out[i] = u.au
	}
	return out
}

func activeUnits(us []unit) []unit {
	var out []unit
	for _, u := range us {
		if !u.info.Incidental {
			out = append(out, u)
		}
	}
	return out
}

func activeAUs(us []unit) []int {
	var out []int
	for _, u := range us {
		if !u.info.Incidental {
			out = append(out, u.au)
		}
	}
	return out
}

// coverage compares the evidence with the emotion's EMFACS prototype.
func coverage(d decision, top match, r *rand.Rand) []string {
	proto, ok := facs.PrototypeOf(top.emotion)
	if !ok {
		return nil
	}
	var present, missing []int
	for _, a := range proto.AUs() {
		found := false
		for _, u := range d.units {
			if u.au == a.Number && !u.info.Incidental && (a.Side == facs.Both || u.lat != bilateral) {
				found = true
			}
		}
		if found {
			present = append(present, a.Number)
		} else {
			missing = append(missing, a.Number)
		}
	}
	var gist string
	for _, m := range models() {
		if m.emotion == top.emotion {
			gist = m.gist
		}
	}
	switch {
	case len(missing) == 0:
		return []string{fmt.Sprintf(pick(r,
			"Every action of the %s prototype (%s) is present.",
			"The evidence covers the whole %s prototype (%s)."), top.emotion, proto)}
	case len(present) == 0:
		return []string{fmt.Sprintf("None of the actions of the classic %s prototype (%s: %s) is visible, so the reading leans on a variant.",
			top.emotion, proto, gist)}
	}
	return []string{fmt.Sprintf(pick(r,
		"Of the %[1]s prototype (%[2]s: %[3]s), %[4]s %[5]s present and %[6]s %[7]s missing, so the match is partial.",
		"The %[1]s prototype (%[2]s) would also need %[6]s; with %[4]s alone the match is partial."),
		top.emotion, proto, gist, auList(present, false), isAre(len(present)), auList(missing, false), isAre(len(missing)))}
}

// lateralNote explains what the asymmetry of AU12/AU14 means for the
// reading.
func lateralNote(d decision, top match) string {
	if top.emotion == facs.Contempt {
		for _, u := range d.units {
			if u.au == 14 && u.lat == unilateral {
				return "The one-sided dimpler decides it: a lip corner tightened on one side is the mark of contempt, not of a smile."
			}
		}
	}
	for _, u := range d.units {
		if u.au != 12 && u.au != 14 || u.lat == bilateral {
			continue
		}
		switch {
		case top.emotion == facs.Contempt:
			return "The asymmetry leans it towards contempt, though a one-sided smile alone is also read as happiness."
		case top.emotion == facs.Happiness && u.au == 12:
			return "The smile is lopsided, which weakens the happiness reading and leaves room for contempt."
		}
	}
	return ""
}

// intensityNote comments on how strong the active actions are.
func intensityNote(d decision, r *rand.Rand) string {
	maxI, unknown := 0.0, true
	for _, u := range d.units {
		if u.info.Incidental {
			continue
		}
		if !u.unknown {
			unknown = false
			if u.intensity > maxI {
				maxI = u.intensity
			}
		}
	}
	switch {
	case unknown:
		return pick(r,
			"The source codes no intensities, so the reading rests on the configuration alone.",
			"No intensities are coded; the judgement rests on which actions occur together.")
	case maxI < 0.3:
		return pick(r,
			"All actions are faint (trace level), as in a brief or suppressed micro-expression, which limits confidence.",
			"Every action stays at trace level, typical of a fleeting, suppressed display, so the evidence is weak.")
	case maxI < 0.5:
		return pick(r,
			"The actions are slight, consistent with a subtle or partly suppressed expression.",
			"Intensities remain slight, as in a subtle display.")
	case maxI >= 0.7:
		return pick(r,
			"The strongest action is severe or above, a full, unmasked display.",
			"With actions at severe intensity or more, the display is pronounced.")
	}
	return ""
}

func confWord(c float64) string {
	switch {
	case c >= 0.75:
		return "high"
	case c >= 0.5:
		return "moderate"
	}
	return "low"
}

// conclusionText writes the Conclusion paragraph; the label is the first
// emotion word in it (Des2Exp relies on that).
func conclusionText(d decision, c Conclusion, r *rand.Rand) string {
	cw, cv := confWord(c.Confidence), fmt.Sprintf("%.2f", c.Confidence)
	switch {
	case d.emotion == "" && d.active == 0:
		return fmt.Sprintf(pick(r,
			"The face is %[1]s: no emotion is expressed (%[2]s confidence, %[3]s).",
			"The expression is labelled %[1]s, with %[2]s confidence (%[3]s), since nothing moved."),
			c.Label, cw, cv)
	case d.emotion == "":
		return fmt.Sprintf(pick(r,
			"The expression is labelled %[1]s: no basic emotion can be claimed from this evidence (%[2]s confidence, %[3]s).",
			"Final label: %[1]s, because the actions form no emotion prototype (%[2]s confidence, %[3]s)."),
			c.Label, cw, cv)
	}
	note := ""
	if c.Emotion != "" {
		note = " (the three-class label; the fine reading is " + c.Emotion + ")"
	}
	return fmt.Sprintf(pick(r,
		"The expression is %[1]s%[4]s, with %[2]s confidence (%[3]s).",
		"Therefore, the facial expression is best labelled %[1]s%[4]s (%[2]s confidence, %[3]s).",
		"The final expression label is %[1]s%[4]s; confidence is %[2]s (%[3]s).",
		"Based on this analysis, the face shows %[1]s%[4]s, held with %[2]s confidence (%[3]s)."),
		c.Label, cw, cv, note)
}

// render writes the whole CoT for a decision.
func render(d decision, o Options) CoT {
	r := facs.NewRand(o.Seed)
	var c CoT
	compact := d.active > 4
	var lines []string
	for _, u := range d.units {
		ob := observation(u, false)
		c.Observations = append(c.Observations, ob)
		lines = append(lines, observationLine(u, compact, r))
	}
	if len(lines) == 0 {
		lines = append(lines, noActionLine)
	}
	it, rationale := interpretation(d, o, r)
	c.Interpretation = it
	if p, ok := o.Probabilities[d.label]; ok && p >= 0 && p <= 1 {
		d.conf = round2(p)
	}
	c.Conclusion = Conclusion{Label: d.label, Confidence: d.conf}
	if d.emotion != "" && d.label != d.emotion {
		c.Conclusion.Emotion = d.emotion
	}
	c.Text = HeadingObservations + "\n" + strings.Join(lines, "\n") + "\n\n" +
		HeadingInterpretation + "\n" + rationale + "\n\n" +
		HeadingConclusion + "\n" + conclusionText(d, c.Conclusion, r)
	return c
}
