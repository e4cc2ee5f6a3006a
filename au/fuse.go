package au

// flowGain lists the AUs whose geometric estimate must be confirmed by the
// dense flow, with the gain that calibrates the flow estimate to the
// geometric one.
//
// Which AUs: AU12 and AU20, lip-corner AUs whose basis columns share
// points 48 and 60 with AU14 and AU15 in other directions, so that the
// non-negative decomposition of the LK tracks trades one for another. On
// the development clips (synth seed 11000) the flow's reading of AU20
// separated true from false events completely (true ≥ 0.56, false ≤ 0.22,
// where geometry's false events reached 0.50) and AU12's a little better
// than geometry. AU14 and AU15 are not in the set: there the flow was as
// ambiguous as the geometry or worse. Lip aperture (AU23, AU25) is left to
// geometry for another reason: lips parting disocclude the mouth interior,
// which TV-L1's smoothness fills with the surrounding motion, so the flow
// underestimates it.
//
// The gains: TV-L1's smoothness term spreads a local movement over its
// surroundings, so the mean flow in a point's disc reads smaller than the
// LK track of the point, by an amount that depends on the region (AU20's
// sideways stretch spreads along the whole lip). Each gain is the median
// flow/geometry ratio over the true events of that AU in the development
// clips at FlowSize 96: AU12 0.89 (7 events), AU20 0.66 (4 events). (Other
// AUs there: AU1 0.95, AU4 0.95, AU14 0.86, AU15 0.92.)
var flowGain = map[int]float32{12: 0.89, 20: 0.66}

// fuse combines the geometric estimate in m (Right, Left, Intensity) with
// the flow estimate fl. For an AU in flowGain each side's intensity
// becomes the smaller of the geometric value and the calibrated flow
// value: the AU is reported only as strongly as both measurements agree
// it is there (an AND of two independent detectors, which trades a little
// recall for precision where geometry alone is ambiguous). Other AUs keep
// the geometric value.
func fuse(m, fl *Measurement) {
	for i, a := range aus {
		g, ok := flowGain[a]
		if !ok {
			continue
		}
		m.Right[i] = min(m.Right[i], fl.Right[i]/g)
		m.Left[i] = min(m.Left[i], fl.Left[i]/g)
		m.Intensity[i] = max(m.Right[i], m.Left[i])
		m.Present[i] = m.Intensity[i] >= PresenceThreshold
	}
}
