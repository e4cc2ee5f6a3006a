package analyze

import (
	"context"
	"fmt"
	"image"
	"math"

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

// BuiltinReasoner writes the chain of thought with the Exp-CoT engine for
// the label the event scorer chose (cot.Conclude): what the appearance net
// saw, which AUs support or contradict the label, and a Conclusion that is
// the label.
type BuiltinReasoner struct {
	Seed uint64 // phrasing seed
}

// Reason implements Reasoner for callers that have only the AU evidence:
// the event scorer decides on it alone (measured AUs) and the chain of
// thought is written for that label.
func (b BuiltinReasoner) Reason(_ context.Context, ev []cot.Evidence, _ []image.Image) (cot.CoT, error) {
	s, err := scoreEvent(scoreInput{ev: ev, measured: true})
	if err != nil {
		return cot.CoT{}, err
	}
	return cot.Conclude(ev, s.label, s.conf, cot.ConcludeOptions{Options: cot.Options{Seed: b.Seed}, Basis: s.basis, AUAlone: s.auAlone, Doubt: s.doubt})
}

// decide names one event: the event scorer fuses the evidence (the
// appearance net's probabilities, the AUs, and the flow model's when the
// reasoner is one) into the probabilities the event publishes, its label
// (their argmax) and confidence (that probability); the reasoner then
// explains that label. A reasoner that concludes otherwise (a vision LLM's
// own reading) is replaced by the built-in chain of thought for the label,
// its answer recorded in the verification, so that the Conclusion is
// always the label. who is what labelled and explained the event: the
// run's reasoner, or "builtin" when that one could not, why saying why.
func (r *run) decide(ctx context.Context, in scoreInput, images []image.Image, frames FlowInput, app *cot.Appearance) (s scored, c cot.CoT, who, why string, err error) {
	who = r.opt.Name
	if fs, ok := r.opt.Reasoner.(FlowScorer); ok {
		frames.Faces = images
		classes, probs, err := fs.FlowScores(ctx, frames)
		if err != nil {
			r.log.Warn("flow model not used for this event", "err", err)
			who, why = "builtin", "flow model: "+err.Error()
		} else {
			in.flow, in.classes = probs, classes
			if mr, ok := fs.(*ModelReasoner); ok && mr.Builtin {
				in.builtinFlow = true
			}
		}
	}
	s, err = scoreEvent(in)
	if err != nil {
		return s, cot.CoT{}, who, why, err
	}
	var seed uint64
	if b, ok := r.opt.Reasoner.(BuiltinReasoner); ok {
		seed = b.Seed
	}
	co := cot.ConcludeOptions{Options: cot.Options{Seed: seed, Classes: in.classes}, Appearance: app, Uncalibrated: !in.measured, Basis: s.basis, AUAlone: s.auAlone, Doubt: s.doubt}
	switch r.opt.Reasoner.(type) {
	case BuiltinReasoner, *ModelReasoner:
		c, err = cot.Conclude(in.ev, s.label, s.conf, co)
		return s, c, who, why, err
	}
	c, err = r.opt.Reasoner.Reason(ctx, in.ev, images)
	if err == nil && facs.Emotion(c.Conclusion.Label) == s.label {
		c.Conclusion.Label, c.Conclusion.Confidence = s.label, round2(s.conf)
		if c.Appearance == nil {
			c.Appearance = app
		}
		return s, c, who, why, nil
	}
	why = fmt.Sprintf("the %s reasoner failed: %v", r.opt.Name, err)
	if err == nil {
		why = fmt.Sprintf("the %s reasoner concluded %q", r.opt.Name, c.Conclusion.Label)
	}
	c, err = cot.Conclude(in.ev, s.label, s.conf, co)
	if err != nil {
		return s, c, "builtin", why, err
	}
	c.Verification.Feedback = append(c.Verification.Feedback,
		fmt.Sprintf("%s; the event's label is %s (%.0f%%) from the event scorer, so the built-in chain of thought for it is given", why, s.label, 100*s.conf))
	return s, c, "builtin", why, nil
}

// EventAU is one AU of an event.
type EventAU struct {
	AU        int     `json:"au"`
	Name      string  `json:"name"`
	Side      string  `json:"side,omitempty"` // "", "left", "right" (subject's)
	Intensity float64 `json:"intensity"`      // rise over its baseline during the event, 0–5 (OpenFace scale)
	// SNR is how clearly it rose: the rise over this face's own
	// frame-to-frame noise for the AU on that side (at least
	// cot.SignificantSNR for every listed AU of a video event; absent for
	// a still, which has no noise to compare with). A significant AU is
	// evidence at any intensity, below trace level too.
	SNR    float64 `json:"snr,omitempty"`
	Letter string  `json:"letter"` // FACS intensity letter A–E, "" below trace (0.5)
	Right  float64 `json:"right"`  // rise on the subject's right, 0–5
	Left   float64 `json:"left"`   // rise on the subject's left, 0–5
}

// letter is the FACS intensity letter of a 0–5 intensity, the one scale of
// frames.csv, events.json, the report and the chain of thought (A = 1 … E
// = 5, each ±0.5; below 0.5 no letter), of the value as stored (two
// decimals): the same letter cot writes for the same number.
func letter(v float64) string { return facs.LetterOfIntensity(v).String() }

// evidence converts event AUs to cot evidence: the same 0–5 intensities.
func evidence(aus []EventAU, onset, apex, offset float64) []cot.Evidence {
	out := make([]cot.Evidence, 0, len(aus))
	for _, a := range aus {
		out = append(out, cot.Evidence{
			AU: a.AU, Side: a.Side, Intensity: math.Min(cot.MaxIntensity, a.Intensity), SNR: a.SNR,
			Onset: onset, Apex: apex, Offset: offset,
		})
	}
	return out
}

func round2(v float64) float64 { return math.Round(v*100) / 100 }
func round3(v float64) float64 { return math.Round(v*1000) / 1000 }
func round1(v float64) float64 { return math.Round(v*10) / 10 }
