package cot

import "github.com/tell-project/tell/nn"

// Readings is the engine's evidence-only reading of AU evidence, for a
// caller that fuses it with other experts (tell analyze's event scorer):
// per candidate emotion of o (the seven basic emotions by default) the
// match score in [0,1] that the engine's own decision and text rest on
// (the best configuration's prior × coverage, discounted by unexplained
// and conflicting actions; 0 when no configuration matches), and whether
// any emotional, non-incidental action counts as observed (from trace
// level, or a significant rise: Evidence.SNR). The engine's label for the
// same evidence is the best score when it reaches the engine's naming
// threshold (0.3), else others, or neutral when nothing is active.
func Readings(ev []Evidence, o Options) (scores map[string]float64, active bool, err error) {
	units, err := aggregate(ev)
	if err != nil {
		return nil, false, err
	}
	d := decide(units, o.candidates(), nil, o)
	scores = make(map[string]float64, len(d.matches))
	for _, m := range d.matches {
		scores[m.emotion] = m.raw
	}
	return scores, d.active > 0, nil
}

// NameThreshold is the least match score (Readings) with which the engine
// names an emotion; below it a face that moved reads as others.
const NameThreshold = minScore

// Reading is the engine's evidence-only reading over every label it may
// conclude under the options it was read with.
type Reading struct {
	// Labels are the labels the engine may conclude, in a fixed order:
	// the candidate emotions' labels (mapped to the task's classes), then
	// the labels for "moved, but no emotion" and "nothing moved" (others
	// and neutral, or what the task calls them).
	Labels []string
	// Scores are the evidence's score a(label) ∈ [0,1] per label: a
	// candidate's best match score (a coarse class its best member's),
	// NameThreshold for the "moved" label when an action moved, 1 for the
	// "nothing moved" label when none did.
	Scores []float64
	// Label is the engine's conclusion, the argmax of Scores.
	Label string
}

// Read returns the engine's evidence-only reading of the evidence under o
// (no true label, no feedback): the scores its conclusion rests on.
func Read(ev []Evidence, o Options) (Reading, error) {
	units, err := aggregate(ev)
	if err != nil {
		return Reading{}, err
	}
	d := decide(units, o.candidates(), nil, o)
	return Reading{Labels: d.labels, Scores: d.scores, Label: d.label}, nil
}

// Probabilities returns the reading's probability of each label at
// temperature t: softmax(t·Scores). At Temperature these are the engine's
// calibrated probabilities, and the conclusion's confidence is its label's.
func (r Reading) Probabilities(t float64) []float64 { return nn.SoftmaxT(r.Scores, t) }
