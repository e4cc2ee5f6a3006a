package analyze

import (
	"math"
	"slices"
	"sort"

	"github.com/tell-project/tell/au"
	"github.com/tell-project/tell/cot"
	"github.com/tell-project/tell/facs"
)

// Event AUs at micro intensity.
//
// An AU belongs to an event when its intensity trace rises clearly above
// its own baseline during the event, however small the rise is on the 0–5
// scale: real micro-expressions move the face by a fraction of a pixel and
// read 0.3–1 there. For each AU and side:
//
//   - baseline: the median of its trace over the 0.1 s before the onset (a
//     clip cut at its onset has none: its first frames);
//   - peak: the largest value over the event of the trace averaged over
//     spot's smoothing window (40 ms);
//   - noise: the trace's own frame-to-frame jitter, from the median
//     absolute second difference over the baseline and the event, scaled
//     to the averages the rise compares;
//   - the AU rises when peak − baseline ≥ max(auRiseK·noise, auRiseMin).
//
// The rise is the AU's reported intensity. Then, as before, cross-talk
// between AUs whose movements resemble each other is suppressed (an AU must
// reach rivalFloor of the strongest AU it can be confused with) and AUs far
// weaker than the event's strongest are dropped (globalFloor). A lateral AU
// is one-sided when only one side rises, or one side rises sideRatio times
// the other. Blinks (AU45) are not part of an expression and are left out.
//
// On micro-expressions rivalFloorMicro replaces rivalFloor. Measured on
// synth.Muscle clips (an independent generator; development seed 16001, 60
// micro and 30 macro clips), the spurious event AUs are clear above the
// trace's noise (auRiseK 8 instead of 4 removed few of them); about half
// are cross-talk, small beside the AU whose movement leaks into them. Of rival floors 0.4,
// 0.6, 0.8 and 1.0, 0.8 gave the micro clips' events the best mean
// event-AU F1 (0.403 → 0.436 with 0.8 on all of them) and 0.4 the macro
// clips' (0.504, against 0.464 at 0.8, which lost more true AUs than false
// ones). As shipped the floor follows each event's own kind, and some
// events of micro clips last long enough to be macro: on those clips F1
// 0.403 → 0.416, precision 0.348 → 0.397, recall 0.648 → 0.632. The macro
// clips are unchanged. Raising globalFloor as well gained more precision
// on those clips but drops AUs that are significant however small beside
// the strongest (issue 23: a measured AU10 beside AU4 must reach the
// text), and it turned the AU reading of a development GIF's smile (SMIC
// s3_po_05) into surprise; so it stays. docs/experts.md has the held-out
// seed's figures.
const (
	rivalFloor      = 0.4  // share of the strongest confusable AU
	rivalFloorMicro = 0.8  // the same on micro-expressions
	rivalOverlap    = 0.25 // |cosine| of the movements from which AUs are rivals (au.Overlap)
	globalFloor     = 0.12 // share of the event's strongest AU
	// sideRatio: one side this many times the other makes an AU unilateral.
	sideRatio = 2.5
	// auRiseK is the rise in units of its noise that lists an AU: the
	// engine's significance (cot.SignificantSNR), so that every event AU
	// is evidence the chain of thought names.
	auRiseK = cot.SignificantSNR
	// auRiseMin is the smallest rise that counts, 0–5 scale: 0.05 is a
	// movement of 0.1 % of the eye distance at the AU's main point
	// (au.IntensityPerPixel per canonical px), spot's resolution floor.
	auRiseMin = 0.05
	// auBaseSeconds is the stretch before the onset the baseline is taken
	// over.
	auBaseSeconds = 0.1
	auSmooth      = 0.04 // seconds of the peak's moving average
)

// auTrace gathers one AU side's values over frames lo..hi of the ring.
func (r *faceRun) auTrace(i int, right bool, lo, hi int, dst []float64) []float64 {
	dst = dst[:0]
	for f := lo; f <= hi; f++ {
		rec := &r.ring[f%len(r.ring)]
		if !rec.ok {
			dst = append(dst, math.NaN())
			continue
		}
		if right {
			dst = append(dst, float64(rec.right[i]))
		} else {
			dst = append(dst, float64(rec.left[i]))
		}
	}
	return dst
}

// riseOf measures one trace: tr covers frames from the baseline's first to
// the event's last, the event starting at index on. It returns the rise
// and its noise.
func riseOf(tr []float64, on, w int, scratch []float64) (rise, noise float64) {
	// Baseline.
	base := scratch[:0]
	for _, v := range tr[:on] {
		if !math.IsNaN(v) {
			base = append(base, v)
		}
	}
	if len(base) < 2 {
		// No frames before the onset: the event's first frames.
		for _, v := range tr[on:min(len(tr), on+max(2, w/2))] {
			if !math.IsNaN(v) {
				base = append(base, v)
			}
		}
	}
	if len(base) == 0 {
		return 0, 0
	}
	nb := len(base)
	b := median(base)
	// Peak of the moving average over the event.
	peak := math.Inf(-1)
	for s := on; s < len(tr); s++ {
		var sum float64
		n := 0
		for k := s; k < min(len(tr), s+w); k++ {
			if !math.IsNaN(tr[k]) {
				sum += tr[k]
				n++
			}
		}
		if n > 0 {
			peak = math.Max(peak, sum/float64(n))
		}
	}
	if math.IsInf(peak, -1) {
		return 0, 0
	}
	// Jitter: second differences of consecutive measured frames.
	d := scratch[:0]
	for k := 1; k+1 < len(tr); k++ {
		a, c, e := tr[k-1], tr[k], tr[k+1]
		if math.IsNaN(a) || math.IsNaN(c) || math.IsNaN(e) {
			continue
		}
		d = append(d, math.Abs(c-(a+e)/2))
	}
	var sigma float64
	if len(d) >= 4 {
		sigma = median(d) / (0.6745 * math.Sqrt(1.5))
	}
	// The rise compares an average of w frames with a median of nb.
	noise = sigma * math.Sqrt(1/float64(w)+1.57/float64(nb))
	return peak - b, noise
}

func median(v []float64) float64 {
	slices.Sort(v)
	n := len(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return 0.5 * (v[n/2-1] + v[n/2])
}

// eventAUs decides the AUs of the event on..off (ring frames; oldest is the
// oldest frame the ring still holds) of kind (micro, macro or still). A
// still image (one frame, no baseline) reports its measured intensities
// against zero.
func (r *faceRun) eventAUs(on, off, oldest int, kind string) []EventAU {
	still := kind == "still"
	n := au.NumAUs
	rise := make([][2]float64, n) // right, left
	snr := make([][2]float64, n)
	ok := make([][2]bool, n)
	if still {
		rec := &r.ring[on%len(r.ring)]
		for i := range au.NumAUs {
			rise[i] = [2]float64{float64(rec.right[i]), float64(rec.left[i])}
			// Without a noise to compare with, a still's AU is evidence
			// from trace level on, as the chain of thought counts it: the
			// event lists no AU its text would call inactive.
			ok[i] = [2]bool{round2(rise[i][0]) >= cot.ActiveThreshold, round2(rise[i][1]) >= cot.ActiveThreshold}
		}
	} else {
		w := max(1, int(math.Round(auSmooth*r.fps)))
		// Frames before the oldest usable one (the ring's, or the current
		// reference's) are not measured on the same terms.
		on = min(max(on, oldest), off)
		lo := max(oldest, on-int(math.Round(auBaseSeconds*r.fps)))
		var tr, scratch []float64
		scratch = make([]float64, 0, off-lo+2)
		for i := range au.NumAUs {
			for s, right := range []bool{true, false} {
				tr = r.auTrace(i, right, lo, off, tr)
				v, noise := riseOf(tr, on-lo, w, scratch)
				rise[i][s] = v
				ok[i][s] = v >= math.Max(auRiseK*noise, auRiseMin)
				// The noise the test used: the measured one, or the
				// resolution floor when the trace is quieter than it.
				snr[i][s] = v / math.Max(noise, auRiseMin/auRiseK)
			}
		}
	}
	// The AU's strength is its larger significant rise; its SNR that
	// side's.
	strength := make([]float64, n)
	clear := make([]float64, n)
	var top float64
	for i, a := range au.AUs() {
		if a == 45 {
			continue
		}
		for s := 0; s < 2; s++ {
			if ok[i][s] && rise[i][s] > strength[i] {
				strength[i], clear[i] = rise[i][s], snr[i][s]
			}
		}
		top = math.Max(top, strength[i])
	}
	out := []EventAU{}
	for i, a := range au.AUs() {
		v := strength[i]
		if v == 0 {
			continue
		}
		var rival float64
		for j, b := range au.AUs() {
			if j != i && au.Overlap(a, b) > rivalOverlap {
				rival = math.Max(rival, strength[j])
			}
		}
		floor := rivalFloor
		if kind == "micro" {
			floor = rivalFloorMicro
		}
		if v < globalFloor*top || v < floor*rival {
			continue
		}
		info := facs.Describe(a)
		e := EventAU{AU: a, Name: info.Name, Intensity: round2(v), SNR: round1(clear[i]), Right: round2(math.Max(0, rise[i][0])), Left: round2(math.Max(0, rise[i][1]))}
		if info.Lateral() {
			rr, ll := math.Max(0, rise[i][0]), math.Max(0, rise[i][1])
			switch {
			case ok[i][0] && (!ok[i][1] || rr > sideRatio*ll):
				e.Side = "right"
			case ok[i][1] && (!ok[i][0] || ll > sideRatio*rr):
				e.Side = "left"
			}
		}
		e.Letter = letter(e.Intensity) // the stored value's letter
		out = append(out, e)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Intensity > out[j].Intensity })
	return out
}
