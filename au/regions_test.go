package au

import (
	"math"
	"testing"

	"github.com/tell-project/tell/synth"
)

// TestFitHead: a head motion with out-of-plane shifts is recovered exactly
// from points at different depths, and with equal depths the fit is the
// similarity's.
func TestFitHead(t *testing.T) {
	want := headMotion{similarity: similarity{a: 1.02 * math.Cos(0.05), b: 1.02 * math.Sin(0.05), tx: 2, ty: -1}, u: 3, v: -1.5}
	var src, dst [][2]float64
	var z, w []float64
	for _, i := range stablePoints {
		p := [2]float64{float64(10 + i*3%17), float64(20 + i*5%13)}
		x, y := want.apply(p[0], p[1], depth[i])
		src, dst = append(src, p), append(dst, [2]float64{x, y})
		z, w = append(z, depth[i]), append(w, 1)
	}
	got := fitHead(src, dst, z, w)
	for _, d := range []float64{got.a - want.a, got.b - want.b, got.tx - want.tx, got.ty - want.ty, got.u - want.u, got.v - want.v} {
		if math.Abs(d) > 1e-9 {
			t.Fatalf("fitHead %+v, want %+v", got, want)
		}
	}
	flat := make([]float64, len(z))
	sim := fitSimilarity(src, dst, w)
	got = fitHead(src, dst, flat, w)
	if got.u != 0 || got.v != 0 || math.Abs(got.a-sim.a)+math.Abs(got.tx-sim.tx) > 1e-12 {
		t.Errorf("equal depths: %+v, want the similarity %+v", got, sim)
	}
}

// TestDepthTable: the depths are those of a face seen from the front: the
// nose tip in front of everything, the ears' jaw points behind, left and
// right alike.
func TestDepthTable(t *testing.T) {
	for i := range depth {
		if j := mirror[i]; math.Abs(depth[i]-depth[j]) > 1e-12 {
			t.Errorf("point %d depth %v, mirror %d %v", i, depth[i], j, depth[j])
		}
		if depth[i] > depth[30] {
			t.Errorf("point %d is in front of the nose tip", i)
		}
		if depth[i] < depth[0] {
			t.Errorf("point %d is behind the jaw at the ear", i)
		}
	}
}

func TestRegionDisplacement(t *testing.T) {
	m := newMeasurement()
	for i := range m.Tracked {
		m.Tracked[i] = true
	}
	// Lip corners 48 (2, -1) and 60 (4, -3): the region's mean.
	m.Displacement[2*48], m.Displacement[2*48+1] = 2, -1
	m.Displacement[2*60], m.Displacement[2*60+1] = 4, -3
	x := make([]float32, 2*NumRegions)
	ok := make([]bool, NumRegions)
	m.RegionDisplacement(x, ok)
	r := -1
	for i, reg := range regions {
		if reg.Name == "lip corner right" {
			r = i
		}
	}
	if r < 0 || !ok[r] || x[2*r] != 3 || x[2*r+1] != -2 {
		t.Fatalf("lip corner right: %v %v, want (3, -2)", x[2*r:2*r+2], ok[r])
	}
	// A region without tracked points is not measured.
	m.Tracked[48], m.Tracked[60] = false, false
	m.RegionDisplacement(x, ok)
	if ok[r] {
		t.Error("untracked region reported as measured")
	}
	// Every point in a region exists, and no region is empty.
	for _, reg := range regions {
		if len(reg.Points) == 0 {
			t.Errorf("region %s has no points", reg.Name)
		}
		for _, p := range reg.Points {
			if p < 0 || p >= NumPoints {
				t.Errorf("region %s: point %d", reg.Name, p)
			}
		}
	}
	if len(EyelidRegions()) != 4 {
		t.Errorf("eyelid regions %v, want 4", EyelidRegions())
	}
}

// TestClosureAndBlink: an upper lid coming down half the eye's opening is
// a blink; a tenth is not (a lid tightening, a squint).
func TestClosureAndBlink(t *testing.T) {
	e, err := New(astronaut(t), synth.AstronautLandmarks())
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	m := newMeasurement()
	for i := range m.Tracked {
		m.Tracked[i] = true
	}
	// The right eye's opening in canonical units.
	open := 0.0
	for _, pr := range [][2]int{{37, 41}, {38, 40}} {
		dy := e.refPts[pr[1]][1] - e.refPts[pr[0]][1]
		open += dy * 100 / e.iod / 2
	}
	for _, c := range []struct {
		frac  float64
		blink bool
	}{{0.1, false}, {0.3, false}, {0.5, true}, {1, true}} {
		m.Displacement[2*37+1] = float32(c.frac * open)
		m.Displacement[2*38+1] = float32(c.frac * open)
		r, l := e.Closure(&m)
		if math.Abs(r-c.frac) > 0.05 || l != 0 {
			t.Errorf("closure %v: got right %.2f left %.2f", c.frac, r, l)
		}
		if got := e.Blink(&m); got != c.blink {
			t.Errorf("closure %v: blink %v, want %v", c.frac, got, c.blink)
		}
	}
	// An upper lid lost while the eye's corners track is a blink.
	clear(m.Displacement)
	m.Tracked[37] = false
	if !e.Blink(&m) {
		t.Error("lost upper lid: want a blink")
	}
}
