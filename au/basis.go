package au

import (
	"fmt"
	"math"
	"slices"
)

// Extra points tracked besides the 68 landmarks, where skin moves but dlib
// puts no landmark: forehead above the brows, the cheeks under the eyes and
// the chin boss. Each is a landmark mean plus an offset in face coordinates
// (x along the eyes towards the image's right, y down; units of IOD).
type extraPoint struct {
	pts []int
	off [2]float64
}

var extraPoints = []extraPoint{
	{[]int{19}, [2]float64{0, -.25}},    // 68 forehead over the subject's right brow
	{[]int{24}, [2]float64{0, -.25}},    // 69 forehead over the left brow
	{[]int{40, 41}, [2]float64{0, .35}}, // 70 right cheek
	{[]int{46, 47}, [2]float64{0, .35}}, // 71 left cheek
	{[]int{8}, [2]float64{0, -.25}},     // 72 chin boss
	{[]int{21}, [2]float64{0, -.22}},    // 73 over the right inner brow
	{[]int{22}, [2]float64{0, -.22}},    // 74 over the left inner brow
	{[]int{31, 48}, [2]float64{-.1, 0}}, // 75 right nasolabial region
	{[]int{35, 54}, [2]float64{.1, 0}},  // 76 left nasolabial region
}

// NumPoints is the number of tracked points: the 68 landmarks, then the
// extra points (forehead, cheeks, chin, nasolabial).
const NumPoints = 77

// numPoints is NumPoints, checked against the point lists.
var numPoints = func() int {
	if n := 68 + len(extraPoints); n != NumPoints {
		panic(fmt.Sprintf("au: %d points, NumPoints says %d", n, NumPoints))
	}
	return NumPoints
}()

// stablePoints do not move with any AU we measure (jaw line at ear level,
// nose bridge, eye corners); the head's rigid motion is fitted on them.
var stablePoints = []int{0, 1, 15, 16, 27, 28, 29, 30, 36, 39, 42, 45}

// mirror maps a point to its counterpart on the other side of the face.
var mirror = func() [77]int {
	var m [77]int
	for i := range m {
		m[i] = i
	}
	pairs := [][2]int{
		{0, 16}, {1, 15}, {2, 14}, {3, 13}, {4, 12}, {5, 11}, {6, 10}, {7, 9},
		{17, 26}, {18, 25}, {19, 24}, {20, 23}, {21, 22},
		{31, 35}, {32, 34},
		{36, 45}, {37, 44}, {38, 43}, {39, 42}, {40, 47}, {41, 46},
		{48, 54}, {49, 53}, {50, 52}, {55, 59}, {56, 58}, {60, 64}, {61, 63}, {65, 67},
		{68, 69}, {70, 71}, {73, 74}, {75, 76},
	}
	for _, p := range pairs {
		m[p[0]], m[p[1]] = p[1], p[0]
	}
	return m
}()

// move is one point's displacement per unit of an AU, face coordinates.
type move struct {
	pt     int
	dx, dy float64
}

// auMoves describe each AU on the subject's right half (image left) for
// lateral AUs, mirrored for the left; midline AUs list both sides. The
// directions are FACS's descriptions of the movement (Ekman, Friesen & Hager
// 2002), weights fall off away from the muscle's insertion.
var auMoves = map[int]struct {
	lateral bool
	moves   []move
}{
	1: {true, []move{{21, 0, -1}, {20, 0, -.6}, {19, 0, -.25}, {73, 0, -.8}}},
	2: {true, []move{{17, 0, -.8}, {18, 0, -1}, {19, 0, -.7}, {20, 0, -.3}, {68, 0, -.6}}},
	4: {true, []move{{21, .6, .7}, {20, .35, .8}, {19, .2, .7}, {18, 0, .4}, {73, .4, .4}}},
	5: {true, []move{{37, 0, -1}, {38, 0, -1}}},
	6: {true, []move{{70, 0, -1}, {40, 0, -.5}, {41, 0, -.5}}},
	7: {true, []move{{40, 0, -1}, {41, 0, -1}, {37, 0, .3}, {38, 0, .3}}},
	9: {false, []move{{31, 0, -1}, {35, 0, -1}, {32, 0, -.6}, {33, 0, -.5}, {34, 0, -.6}, {28, 0, -.5}, {29, 0, -.4}, {75, 0, -.5}, {76, 0, -.5}}},
	// AU10 is often one-sided (CASME II codes L10, R10): each side lifts its
	// half of the upper lip and half the midline, so both together move
	// the lip as one bilateral raise.
	10: {true, []move{{50, 0, -1}, {61, 0, -.8}, {49, 0, -.6}, {51, 0, -.5}, {62, 0, -.4}}},
	12: {true, []move{{48, -.6, -.8}, {60, -.6, -.8}, {49, -.3, -.4}, {59, -.3, -.4}, {75, -.2, -.3}}},
	14: {true, []move{{48, .8, -.3}, {60, .8, -.3}}},
	15: {true, []move{{48, 0, 1}, {60, 0, .9}, {59, 0, .5}, {49, 0, .4}}},
	16: {false, []move{{56, 0, 1}, {57, 0, 1}, {58, 0, 1}, {65, 0, .6}, {66, 0, .6}, {67, 0, .6}, {55, .3, .6}, {59, -.3, .6}}},
	17: {false, []move{{72, 0, -1}, {8, 0, -.6}, {7, 0, -.4}, {9, 0, -.4}, {57, 0, -.5}, {56, 0, -.4}, {58, 0, -.4}}},
	20: {true, []move{{48, -1, .15}, {60, -1, .15}, {49, -.5, .1}, {59, -.5, .1}}},
	23: {false, []move{{48, .6, 0}, {54, -.6, 0}, {51, 0, .4}, {57, 0, -.4}, {62, 0, .2}, {66, 0, -.2}}},
	25: {false, []move{{66, 0, 1}, {65, 0, .4}, {67, 0, .4}, {57, 0, .3}, {62, 0, -.6}, {61, 0, -.3}, {63, 0, -.3}}},
	26: {false, []move{{8, 0, 1}, {7, 0, 1}, {9, 0, 1}, {6, 0, .8}, {10, 0, .8}, {5, 0, .5}, {11, 0, .5}, {57, 0, 1}, {56, 0, .9}, {58, 0, .9}, {66, 0, 1}, {65, 0, .9}, {67, 0, .9}, {55, 0, .7}, {59, 0, .7}, {48, 0, .5}, {54, 0, .5}, {60, 0, .5}, {64, 0, .5}, {72, 0, 1}}},
	45: {true, []move{{37, 0, 1}, {38, 0, 1}, {40, 0, -.2}, {41, 0, -.2}}},
}

// NumAUs is how many Action Units the estimator measures: the length of
// AUs() and of every per-AU slice (Measurement.Intensity, …).
const NumAUs = 18

// aus lists the Action Units the estimator measures, ascending.
var aus = [NumAUs]int{1, 2, 4, 5, 6, 7, 9, 10, 12, 14, 15, 16, 17, 20, 23, 25, 26, 45}

// AUs returns the Action Units the estimator measures, ascending, in a new
// slice: every per-AU slice of the package is in this order, and
// frames.csv has one AUxx_r and one AUxx_c column for each.
func AUs() []int { return slices.Clone(aus[:]) }

// component is one column of the basis: an AU on one side (or both).
type component struct {
	au   int
	side int // 0 both, 1 subject's right, 2 subject's left
	v    []float64
}

// buildBasis returns the basis columns over 2·numPoints coordinates.
func buildBasis() []component {
	var out []component
	for _, a := range aus {
		d := auMoves[a]
		if !d.lateral {
			v := make([]float64, 2*numPoints)
			for _, m := range d.moves {
				v[2*m.pt] += m.dx
				v[2*m.pt+1] += m.dy
			}
			out = append(out, component{au: a, v: v})
			continue
		}
		r := make([]float64, 2*numPoints)
		l := make([]float64, 2*numPoints)
		for _, m := range d.moves {
			r[2*m.pt] += m.dx
			r[2*m.pt+1] += m.dy
			mp := mirror[m.pt]
			l[2*mp] -= m.dx // mirrored: x flips
			l[2*mp+1] += m.dy
		}
		out = append(out, component{au: a, side: 1, v: r}, component{au: a, side: 2, v: l})
	}
	return out
}

// overlaps[i][j] is the largest |cosine| between the basis columns of aus[i]
// and aus[j] (over their sides): how much one AU's movement can be
// mistaken for the other's.
var overlaps = func() [][]float64 {
	comp := buildBasis()
	idx := map[int]int{}
	for i, a := range aus {
		idx[a] = i
	}
	n := NumAUs
	out := make([][]float64, n)
	for i := range out {
		out[i] = make([]float64, n)
	}
	for _, a := range comp {
		for _, b := range comp {
			var ab, aa, bb float64
			for d := range a.v {
				ab += a.v[d] * b.v[d]
				aa += a.v[d] * a.v[d]
				bb += b.v[d] * b.v[d]
			}
			if aa == 0 || bb == 0 {
				continue
			}
			c := math.Abs(ab) / math.Sqrt(aa*bb)
			i, j := idx[a.au], idx[b.au]
			out[i][j] = math.Max(out[i][j], c)
		}
	}
	return out
}()

// Overlap returns how confusable the movements of AUs a and b are, in
// [0,1] (1 for a = b): the largest |cosine| between their basis columns.
func Overlap(a, b int) float64 {
	var i, j = -1, -1
	for k, n := range aus {
		if n == a {
			i = k
		}
		if n == b {
			j = k
		}
	}
	if i < 0 || j < 0 {
		return 0
	}
	return overlaps[i][j]
}

// depth is each tracked point's depth in front of the plane of the eye
// corners, in IOD units (positive towards the camera), for a frontal face:
// coarse anthropometric values (the nose tip about 0.6 IOD in front, the
// jaw at ear level about 0.65 behind, lips about 0.3 in front). The head
// model uses them to first order only (a point's shift under a small
// out-of-plane turn is proportional to its depth), so errors of a few
// hundredths of the eye distance leave a residual that much smaller than
// the turn itself.
var depth = [77]float64{
	// jaw contour 0–16, from the subject's right ear to the left
	-0.65, -0.6, -0.5, -0.4, -0.28, -0.15, 0, 0.12, 0.2, 0.12, 0, -0.15, -0.28, -0.4, -0.5, -0.6, -0.65,
	// brows 17–26
	-0.12, 0.02, 0.1, 0.14, 0.16, 0.16, 0.14, 0.1, 0.02, -0.12,
	// nose bridge 27–30, nostrils 31–35
	0.2, 0.32, 0.45, 0.6, 0.3, 0.38, 0.42, 0.38, 0.3,
	// eyes 36–47: outer corner, upper lid, inner corner, lower lid
	-0.1, 0.04, 0.05, 0, 0.05, 0.04,
	0, 0.05, 0.04, -0.1, 0.04, 0.05,
	// outer lips 48–59
	0.2, 0.3, 0.38, 0.42, 0.38, 0.3, 0.2, 0.3, 0.35, 0.38, 0.35, 0.3,
	// inner lips 60–67
	0.22, 0.35, 0.38, 0.35, 0.22, 0.33, 0.36, 0.33,
	// extra points 68–76: forehead ×2, cheeks ×2, chin boss, inner brows ×2, nasolabial ×2
	0.05, 0.05, 0.05, 0.05, 0.25, 0.15, 0.15, 0.25, 0.25,
}
