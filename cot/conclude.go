package cot

import (
	"fmt"
	"sort"
	"strings"

	"github.com/tell-project/tell/facs"
)

// Appearance is what a pretrained appearance model read from the face:
// class probabilities at the apex (or of a still image) and, for an event
// in a video, at its onset.
type Appearance struct {
	Model string             `json:"model"`
	Probs map[string]float64 `json:"probs"`
	Onset map[string]float64 `json:"onset,omitempty"`
}

// ConcludeOptions describe a label decided outside the engine.
type ConcludeOptions struct {
	Options
	// Appearance, when set, is what the appearance model saw.
	Appearance *Appearance
	// Uncalibrated marks AU evidence that is not a measurement of this
	// person's movement (a still image measured against an average face
	// shape, without a neutral reference): the text calls the values
	// indications and does not argue from them.
	Uncalibrated bool
	// Basis says in a few words what the label was decided on, for the
	// Conclusion ("the appearance model and the AUs together").
	Basis string
	// AUAlone is the label the caller's scorer gives the AU evidence on its
	// own; when it differs from the label, the text says so. Empty: the
	// engine's own evidence-only reading is used.
	AUAlone string
	// Doubt, when set, is why the caller's label is uncertain ("uncertain
	// between disgust and anger: the AUs alone read anger"): the
	// Conclusion says it after the label, and the verification flags it.
	Doubt string
}

// Conclude writes the chain of thought for a label decided elsewhere (tell
// analyze's event scorer fuses the appearance model, the AU evidence and a
// flow model): Key Observations from the evidence, an interpretation that
// says what the appearance model saw and which actions support or
// contradict the label, and a Conclusion that names exactly label with
// confidence conf. Verification records whether Des2Exp reads the label
// back from the text alone; a true label is not involved.
func Conclude(ev []Evidence, label string, conf float64, o ConcludeOptions) (CoT, error) {
	units, err := aggregate(ev)
	if err != nil {
		return CoT{}, err
	}
	label = facs.Emotion(label)
	cands := withLabelModels(o.candidates(), label, o.Options)
	d := decide(units, cands, nil, o.Options)
	d.span = timing(ev)
	r := facs.NewRand(o.Seed)
	var c CoT
	c.Appearance = o.Appearance
	var lines []string
	if o.Uncalibrated && len(units) > 0 {
		lines = append(lines, "- No neutral reference of this person: the values below are this face's differences from an average face shape, indications rather than measured movements.")
	}
	compact := d.active > 4
	for _, u := range units {
		c.Observations = append(c.Observations, observation(u, o.Uncalibrated))
		if o.Uncalibrated {
			lines = append(lines, indicationLine(u))
			continue
		}
		lines = append(lines, observationLine(u, compact, r))
	}
	if len(units) == 0 {
		lines = append(lines, noActionLine)
	}
	var s []string
	if a := o.Appearance; a != nil && len(a.Probs) > 0 {
		s = append(s, appearanceSentence(a))
	}
	s = append(s, auRelation(d, units, label, o)...)
	if o.Appearance == nil && !o.Uncalibrated && d.active > 0 {
		if n := intensityNote(d, r); n != "" {
			s = append(s, n)
		}
	}
	if d.span.ok && d.active > 0 {
		dur := d.span.offset - d.span.onset
		c.Interpretation.Duration = round2(dur)
		if dur <= MicroMaxSeconds {
			s = append(s, fmt.Sprintf("The movement lasts %.2f s from onset to offset, within the half-second bound of a micro-expression.", dur))
		} else {
			s = append(s, fmt.Sprintf("The movement lasts %.2f s, longer than a micro-expression (0.5 s): a macro-expression.", dur))
		}
	}
	c.Interpretation.Dominant = label
	c.Interpretation.Rationale = strings.Join(s, " ")
	if m, ok := matchFor(d, label, o.Options); ok && len(m.matched) > 0 {
		c.Interpretation.Interactions = []string{auList(m.matched, true)}
	}
	c.Conclusion = Conclusion{Label: label, Confidence: round2(conf)}
	basis := ""
	if o.Basis != "" {
		basis = ", on " + o.Basis
	}
	doubt := ""
	if o.Doubt != "" {
		doubt = " It is " + o.Doubt + "."
	}
	c.Text = HeadingObservations + "\n" + strings.Join(lines, "\n") + "\n\n" +
		HeadingInterpretation + "\n" + c.Interpretation.Rationale + "\n\n" +
		HeadingConclusion + "\n" + fmt.Sprintf(pick(r,
		"The expression is %[1]s, with %[2]s confidence (%[3]s)%[4]s.",
		"The final label is %[1]s (%[2]s confidence, %[3]s)%[4]s."),
		label, confWord(conf), fmt.Sprintf("%.2f", conf), basis) + doubt
	read, rerr := ReadLabel(c.Text)
	c.Verification = &Verification{ReadLabel: read, ReadBack: rerr == nil && read == label, Attempts: 1, Doubt: o.Doubt}
	if !c.Verification.ReadBack {
		c.Verification.Flagged = true
		c.Verification.Feedback = []string{fmt.Sprintf("the text reads as %q but the label is %q", read, label)}
	}
	if o.Doubt != "" {
		c.Verification.Flagged = true
		c.Verification.Feedback = append(c.Verification.Feedback, "the label is "+o.Doubt)
	}
	return c, nil
}

// indicationLine is a Key Observations bullet for an uncalibrated value: it
// says what the shape suggests, not that the action happened.
func indicationLine(u unit) string {
	l := facs.LetterOfIntensity(u.value())
	side := sidePhrase(u)
	if side != "" {
		side = ", " + side
	}
	return fmt.Sprintf("- AU%d (%s)%s: the shape differs from the average face as %s would (indication %.2f, level %s); %s.",
		u.au, u.info.Name, side, movement(u), u.value(), l, tiedTo(u))
}

// observation is the structured Key Observation of a unit.
func observation(u unit, indication bool) Observation {
	l := facs.LetterOfIntensity(u.value())
	ob := Observation{
		AU: u.au, Name: u.info.Name, Intensity: u.value(),
		IntensityWord: l.Word(), Emotions: append([]string{}, u.info.Emotions...),
		IntensityUnknown: u.unknown, Movement: movement(u), Indication: indication,
	}
	switch u.lat {
	case unilateral:
		ob.Side = u.side
	case asymmetric:
		ob.Side = "asymmetric"
	}
	switch {
	case u.unknown:
		ob.IntensityWord = "present"
		ob.Intensity = 0
	case !l.Valid():
		ob.IntensityWord = "below trace" // significant (SNR), under FACS's A
	default:
		ob.Letter = l.String()
	}
	ob.SNR = round1(u.snr)
	return ob
}

// noActionLine is Key Observations when no action is active: said only
// when the evidence lists none that counts (no intensity from trace
// level, no significant rise).
const noActionLine = "- No Action Unit is active: none reached trace level or rose clearly above its own noise."

// appearanceSentence says what the appearance model read: its two most
// probable classes and, given the onset, how the top class changed.
func appearanceSentence(a *Appearance) string {
	type kv struct {
		k string
		v float64
	}
	var ps []kv
	for k, v := range a.Probs {
		ps = append(ps, kv{k, v})
	}
	sort.Slice(ps, func(i, j int) bool {
		if ps[i].v != ps[j].v {
			return ps[i].v > ps[j].v
		}
		return ps[i].k < ps[j].k
	})
	model := a.Model
	if model == "" {
		model = "the appearance model"
	}
	s := fmt.Sprintf("The appearance model (%s) reads the face as %s (%.2f)", model, ps[0].k, ps[0].v)
	if len(ps) > 1 && ps[1].v >= 0.05 {
		s += fmt.Sprintf(", then %s (%.2f)", ps[1].k, ps[1].v)
	}
	if a.Onset != nil {
		if o, ok := a.Onset[ps[0].k]; ok {
			s += fmt.Sprintf("; at the onset it gave %s %.2f", ps[0].k, o)
		}
		// What changed: the class that gained most since the onset.
		gain, by := 0.0, ""
		for k, v := range a.Probs {
			if d := v - a.Onset[k]; d > gain || d == gain && by != "" && k < by {
				gain, by = d, k
			}
		}
		if gain < 0.1 {
			s += ". Its reading hardly changed during the movement, so it says little about it"
		} else if by != ps[0].k {
			s += fmt.Sprintf(". The largest change since the onset is towards %s (+%.2f)", by, gain)
		}
	}
	return s + "."
}

// matchFor returns the engine's best match for label: the emotion itself,
// or for a coarse class (three-class tasks) its best member.
func matchFor(d decision, label string, o Options) (match, bool) {
	var best match
	found := false
	for _, m := range d.matches {
		if m.emotion == label || o.mapLabel(m.emotion) == label {
			if !found || m.raw > best.raw {
				best, found = m, true
			}
		}
	}
	return best, found
}

// auRelation writes which actions support the label and which contradict
// it, in words that do not present uncalibrated values as observations.
func auRelation(d decision, units []unit, label string, o ConcludeOptions) []string {
	act := activeUnits(units)
	var s []string
	// Uncalibrated values are spoken of as indications that would, not
	// actions that did.
	seen, saw, would := "", "moved", ""
	if o.Uncalibrated {
		seen, saw, would = "of the indications, ", "are indicated by the geometry", "would "
	}
	if len(act) == 0 {
		if label == facs.Neutral {
			return []string{"No action unit is active (none at trace level, none clearly above its own noise), which agrees with a face at rest."}
		}
		return []string{fmt.Sprintf("No action unit is active (none at trace level, none clearly above its own noise), so the AUs neither support nor contradict %s.", label)}
	}
	if label == facs.Neutral || label == facs.Others {
		verb := "argue"
		if len(act) == 1 {
			verb = "argues"
		}
		if o.Uncalibrated {
			verb = "would argue"
		}
		if label == facs.Others {
			return []string{fmt.Sprintf("%s%s (%s), which form no emotion configuration strong enough to name.", capitalize(seen), auList(unitAUs(act), false), movementsOf(act))}
		}
		msg := fmt.Sprintf("%s (%s) %s, which %s against a face at rest", auList(unitAUs(act), false), movementsOf(act), saw, verb)
		if o.Uncalibrated {
			msg += "; as indications they are not weighed"
		}
		return []string{msg + "."}
	}
	m, ok := matchFor(d, label, o.Options)
	var sup, against []unit
	if ok {
		sup = unitsOf(d, m.matched)
		in := map[int]bool{}
		for _, n := range m.matched {
			in[n] = true
		}
		s2, other := beyondVariant(d, m)
		sup = append(sup, s2...)
		for _, n := range m.conflicts {
			against = append(against, unitsOf(d, []int{n})...)
		}
		for _, u := range other {
			if !in[u.au] {
				against = append(against, u)
			}
		}
	} else {
		against = act
	}
	if len(sup) > 0 {
		src := "part of a configuration of"
		if ok {
			if p, has := sourcePhrase[m.variant.source]; has {
				src = p
			}
		}
		verb := support(len(sup))
		if o.Uncalibrated {
			verb = "would support"
		}
		s = append(s, fmt.Sprintf("%s%s (%s) %s %s: %s %s.", capitalize(seen), auList(unitAUs(sup), false), movementsOf(sup),
			verb, label, src, m.emotion))
	} else {
		s = append(s, fmt.Sprintf("No action %s belongs to a configuration of %s.", map[bool]string{true: "the geometry suggests", false: "that moved"}[o.Uncalibrated], label))
	}
	if len(against) > 0 {
		verb := "argue"
		if len(against) == 1 {
			verb = "argues"
		}
		s = append(s, fmt.Sprintf("%s (%s) %s%s against it.", auList(unitAUs(against), false), movementsOf(against), would, verb))
	}
	alone, basis := d.emotion, ""
	if d.emotion != "" {
		basis = " (" + auList(d.matches[0].matched, true) + ")"
	}
	if o.AUAlone != "" {
		alone, basis = facs.Emotion(o.AUAlone), ""
		if am, ok := matchFor(d, alone, o.Options); ok && len(am.matched) > 0 {
			basis = " (" + auList(am.matched, true) + ")"
		}
	}
	if !o.Uncalibrated && alone != "" && alone != label && o.mapLabel(alone) != label && alone != facs.Neutral {
		s = append(s, fmt.Sprintf("On the AUs alone the reading would be %s%s.", alone, basis))
	}
	if o.Uncalibrated {
		s = append(s, "Without a neutral reference these are indications, not measurements, and they do not decide the label.")
	}
	return s
}
