package au

import (
	"math"
	"slices"
)

// Region is a group of tracked points that move together under one or a
// few AUs: spotting's unit of facial movement. Lateral regions come in
// pairs, the subject's right (image left) first.
type Region struct {
	Name   string
	Points []int
	// Eyelid regions follow the lids, which blinks move far more than any
	// expression; spotting masks them during a blink (see Blink).
	Eyelid bool
}

// NumRegions is how many spotting regions there are: len(Regions()).
const NumRegions = 21

// regions are the spotting regions. The jaw contour is left out: its
// points sit on the face's silhouette, where tracking is poorest, and what
// moves it (AU26) moves the chin too.
var regions = [NumRegions]Region{
	{Name: "inner brow right", Points: []int{20, 21, 73}},
	{Name: "inner brow left", Points: []int{22, 23, 74}},
	{Name: "outer brow right", Points: []int{17, 18, 19, 68}},
	{Name: "outer brow left", Points: []int{24, 25, 26, 69}},
	{Name: "upper lid right", Points: []int{37, 38}, Eyelid: true},
	{Name: "upper lid left", Points: []int{43, 44}, Eyelid: true},
	{Name: "lower lid right", Points: []int{40, 41}, Eyelid: true},
	{Name: "lower lid left", Points: []int{46, 47}, Eyelid: true},
	{Name: "cheek right", Points: []int{70}},
	{Name: "cheek left", Points: []int{71}},
	{Name: "nose wing right", Points: []int{31, 32, 75}},
	{Name: "nose wing left", Points: []int{34, 35, 76}},
	{Name: "lip corner right", Points: []int{48, 60}},
	{Name: "lip corner left", Points: []int{54, 64}},
	{Name: "upper lip right", Points: []int{49, 50, 61}},
	{Name: "upper lip left", Points: []int{52, 53, 63}},
	{Name: "upper lip middle", Points: []int{51, 62}},
	{Name: "lower lip right", Points: []int{58, 59, 67}},
	{Name: "lower lip left", Points: []int{55, 56, 65}},
	{Name: "lower lip middle", Points: []int{57, 66}},
	{Name: "chin", Points: []int{7, 8, 9, 72}},
}

// Regions returns the spotting regions, in a new slice (points copied
// too): RegionDisplacement writes two values for each, in this order.
func Regions() []Region {
	out := slices.Clone(regions[:])
	for i := range out {
		out[i].Points = slices.Clone(out[i].Points)
	}
	return out
}

// RegionDisplacement writes each region's mean displacement from the
// reference over its tracked points (x, y in the face's axes, % of the
// inter-ocular distance) into dst, len 2·NumRegions, and whether any of
// its points tracked into ok, len NumRegions.
func (m *Measurement) RegionDisplacement(dst []float32, ok []bool) {
	for r, reg := range regions {
		var sx, sy float32
		n := 0
		for _, p := range reg.Points {
			if m.Tracked == nil || !m.Tracked[p] {
				continue
			}
			sx += m.Displacement[2*p]
			sy += m.Displacement[2*p+1]
			n++
		}
		ok[r] = n > 0
		if n > 0 {
			sx /= float32(n)
			sy /= float32(n)
		}
		dst[2*r], dst[2*r+1] = sx, sy
	}
}

// blinkClosure is the fraction of an eye's reference opening that the
// upper lid must come down to make a blink. Expressions move the lids by a
// few per cent of the eye distance at most (AU7, AU43 in a squint), a blink
// by the whole opening, a tenth of the eye distance or more.
const blinkClosure = 0.4

// Closure returns how far each eye has closed, as the fraction of its
// reference opening (upper-lid to lower-lid distance) that the gap between
// the lids has lost: 0 open as in the reference, 1 shut. Untracked lids
// read 0.
func (e *Estimator) Closure(m *Measurement) (right, left float64) {
	return e.closure(m, 37, 38, 41, 40), e.closure(m, 44, 43, 46, 47)
}

func (e *Estimator) closure(m *Measurement, u1, u2, l1, l2 int) float64 {
	if m.Tracked == nil || !m.Tracked[u1] || !m.Tracked[u2] || !m.Tracked[l1] || !m.Tracked[l2] {
		return 0
	}
	// Reference opening along the face's y axis, canonical units.
	norm := 100 / e.iod
	open := 0.0
	for _, pr := range [][2]int{{u1, l1}, {u2, l2}} {
		dx := e.refPts[pr[1]][0] - e.refPts[pr[0]][0]
		dy := e.refPts[pr[1]][1] - e.refPts[pr[0]][1]
		open += (dx*e.ey[0] + dy*e.ey[1]) * norm / 2
	}
	if open < 1 {
		return 0 // an eye closed in the reference: nothing to measure against
	}
	// The gap shrinks by upper-lid descent plus lower-lid rise.
	lost := float64(m.Displacement[2*u1+1]+m.Displacement[2*u2+1])/2 - float64(m.Displacement[2*l1+1]+m.Displacement[2*l2+1])/2
	return math.Max(0, math.Min(1, lost/open))
}

// Blink reports whether either eye is shut far enough to be a blink, or
// has lost its upper lid while its corners still track (a lid sweeping
// over the eye changes the picture too much for its tracker).
func (e *Estimator) Blink(m *Measurement) bool {
	r, l := e.Closure(m)
	if r >= blinkClosure || l >= blinkClosure {
		return true
	}
	if m.Tracked == nil {
		return false
	}
	lost := func(c1, c2, u1, u2 int) bool {
		return m.Tracked[c1] && m.Tracked[c2] && (!m.Tracked[u1] || !m.Tracked[u2])
	}
	return lost(36, 39, 37, 38) || lost(42, 45, 43, 44)
}

// EyelidRegions returns the indices in Regions() of the eyelid regions.
func EyelidRegions() []int {
	var out []int
	for i, r := range regions {
		if r.Eyelid {
			out = append(out, i)
		}
	}
	return out
}
