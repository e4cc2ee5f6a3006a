package cot

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
