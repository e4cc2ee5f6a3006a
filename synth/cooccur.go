package synth

import (
	"math/rand/v2"
	"slices"
)

// AU combinations for the muscle model, drawn from co-occurrence
// tendencies rather than from emotion prototypes.
//
// The numbers are written by hand from tendencies the literature reports
// for spontaneous and micro-expressions (which AUs are frequent: AU4, AU12,
// AU1/2, AU7, AU14, AU17 in CASME II-style micro-expression coding; which
// pairs go together: AU1–AU2, AU6–AU12, AU4–AU7, AU9–AU10, AU15–AU17,
// AU25–AU26, AU12–AU25, as in the co-occurrence structure of DISFA and
// BP4D), rounded. They are not fitted to any dataset and are not package
// facs's EMFACS prototypes: most drawn combinations match no prototype,
// single AUs are common, and unilateral actions occur.

// seedRate is how often each AU starts a combination (relative weights).
var seedRate = map[int]float64{
	4: .20, 12: .14, 1: .09, 2: .05, 7: .08, 14: .07, 10: .05, 17: .06,
	15: .05, 6: .03, 9: .04, 25: .05, 20: .02, 23: .02, 16: .01, 5: .02, 26: .02,
}

// follows[a][b] is the chance that AU b joins a combination holding AU a.
var follows = map[int]map[int]float64{
	1:  {2: .7, 4: .2, 5: .15},
	2:  {1: .85, 5: .2},
	4:  {7: .35, 1: .12, 9: .1, 17: .1, 15: .08},
	5:  {1: .5, 2: .4, 26: .2},
	6:  {12: .85, 7: .2},
	7:  {4: .4, 6: .15},
	9:  {10: .4, 4: .3, 7: .2},
	10: {9: .25, 25: .3, 12: .1},
	12: {6: .45, 25: .3, 7: .15, 10: .1, 26: .08},
	14: {12: .15, 17: .1, 23: .1},
	15: {17: .5, 1: .15, 4: .15},
	16: {25: .7, 10: .2},
	17: {15: .3, 23: .2, 4: .15},
	20: {25: .3, 1: .2, 4: .2},
	23: {17: .25, 4: .2},
	25: {26: .35, 12: .15},
	26: {25: .9, 5: .2},
}

// conflicts are pairs one face rarely shows at once (opposing pulls on
// the same tissue); a combination keeps the first.
var conflicts = [][2]int{{12, 15}, {5, 7}, {23, 25}, {20, 23}, {14, 20}}

// lateralAUs may act on one side only.
var lateralAUs = []int{1, 2, 4, 10, 12, 14, 15, 20}

// drawAUs draws one combination of AUs with intensities (FACS A–E as
// 0..1 values inside each letter's band) and sides.
func drawAUs(rng *rand.Rand) []ActiveAU {
	seeds := make([]int, 0, len(seedRate))
	for a := range seedRate {
		seeds = append(seeds, a)
	}
	slices.Sort(seeds) // map order is random; the draw must not be
	var total float64
	for _, a := range seeds {
		total += seedRate[a]
	}
	u := rng.Float64() * total
	first := seeds[len(seeds)-1]
	for _, a := range seeds {
		if u -= seedRate[a]; u < 0 {
			first = a
			break
		}
	}
	set := []int{first}
	for i := 0; i < len(set) && len(set) < 5; i++ {
		next := make([]int, 0, len(follows[set[i]]))
		for b := range follows[set[i]] {
			next = append(next, b)
		}
		slices.Sort(next)
		for _, b := range next {
			if slices.Contains(set, b) || conflicting(set, b) || len(set) >= 5 {
				continue
			}
			if rng.Float64() < follows[set[i]][b] {
				set = append(set, b)
			}
		}
	}
	slices.Sort(set)
	// One side for the whole combination when it is unilateral (about one
	// in eight combinations with a lateral AU).
	side := ""
	if rng.Float64() < 0.125 {
		side = "R"
		if rng.IntN(2) == 1 {
			side = "L"
		}
	}
	out := make([]ActiveAU, len(set))
	for i, a := range set {
		s := ""
		if side != "" && slices.Contains(lateralAUs, a) {
			s = side
		}
		out[i] = ActiveAU{AU: a, Side: s, Intensity: drawIntensity(rng)}
	}
	return out
}

func conflicting(set []int, b int) bool {
	for _, c := range conflicts {
		if c[0] == b && slices.Contains(set, c[1]) || c[1] == b && slices.Contains(set, c[0]) {
			return true
		}
	}
	return false
}

// drawIntensity draws a FACS intensity: A .25, B .35, C .22, D .12, E .06,
// uniform inside the letter's band of facs's 0..1 scale.
func drawIntensity(rng *rand.Rand) float64 {
	bands := [][2]float64{{.1, .3}, {.3, .5}, {.5, .7}, {.7, .9}, {.9, 1}}
	p := []float64{.25, .35, .22, .12, .06}
	u := rng.Float64()
	for i, pi := range p {
		if u -= pi; u < 0 || i == len(p)-1 {
			return bands[i][0] + (bands[i][1]-bands[i][0])*rng.Float64()
		}
	}
	return .5
}
