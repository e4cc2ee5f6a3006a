package au

import (
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/tell-project/tell/portrait"
	"github.com/tell-project/tell/raster"
	"github.com/tell-project/tell/synth"
)

// bumped warps g by a smooth displacement (dx, dy)·exp(−r²/2σ²) centred at
// (cx, cy): skin moving locally, as an AU moves it.
func bumped(g *raster.Gray, cx, cy, sigma, dx, dy float64) *raster.Gray {
	out := raster.NewGray(g.W, g.H)
	for y := 0; y < g.H; y++ {
		for x := 0; x < g.W; x++ {
			r2 := (float64(x)-cx)*(float64(x)-cx) + (float64(y)-cy)*(float64(y)-cy)
			k := math.Exp(-r2 / (2 * sigma * sigma))
			// Backward map; the field is smooth and small, so sampling it
			// at the destination is accurate to second order.
			out.Pix[y*g.W+x] = g.Bilinear(float32(float64(x)-k*dx), float32(float64(y)-k*dy))
		}
	}
	return out
}

func auIndex(a int) int {
	for i, n := range aus {
		if n == a {
			return i
		}
	}
	return -1
}

// TestRegionFlowKnownWarps checks the dense-flow evidence alone on known
// warps: brows raised read as AU1/AU2 and not as AU4; a lip-corner pull up
// and out reads as AU12; the whole face moved (head motion) reads as
// nothing.
func TestRegionFlowKnownWarps(t *testing.T) {
	g := astronaut(t)
	lm := synth.AstronautLandmarks()
	mean := func(pts ...int) (float64, float64) {
		var x, y float64
		for _, p := range pts {
			x += float64(lm[p][0]) / float64(len(pts))
			y += float64(lm[p][1]) / float64(len(pts))
		}
		return x, y
	}
	probe, err := New(g, lm)
	if err != nil {
		t.Fatal(err)
	}
	iod := probe.IOD()
	b1x, b1y := mean(19, 20, 21)
	b2x, b2y := mean(22, 23, 24)
	brows := func(dy float64) *raster.Gray {
		s := 0.22 * iod
		return bumped(bumped(g, b1x, b1y-0.05*iod, s, 0, dy), b2x, b2y-0.05*iod, s, 0, dy)
	}
	rcx, rcy := mean(48)
	lcx, lcy := mean(54)
	cases := []struct {
		name  string
		frame *raster.Gray
		want  []int // AUs whose flow intensity must reach 0.5
		not   []int // AUs that must stay below PresenceThreshold
	}{
		{"brows up", brows(-0.05 * iod), []int{1, 2}, []int{4, 12, 15, 25, 26}},
		{"brows down", brows(0.05 * iod), []int{4}, []int{1, 2, 12, 15, 25, 26}},
		{"lip corners up and out", bumped(bumped(g, rcx, rcy, 0.15*iod, -0.03*iod, -0.04*iod), lcx, lcy, 0.15*iod, 0.03*iod, -0.04*iod), []int{12}, []int{1, 2, 4, 25, 26}},
		{"translation", shifted(g, 2.3, -1.4, 0, 0, 0), nil, AUs()},
		{"rotation", shifted(g, 0.5, 0.2, 0.03, 225, 130), nil, AUs()},
	}
	for _, c := range cases {
		est, err := New(g, lm)
		if err != nil {
			t.Fatal(err)
		}
		var m Measurement
		if err := est.Measure(c.frame, &m); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if m.FlowAge != 0 {
			t.Errorf("%s: flow age %d, want 0", c.name, m.FlowAge)
		}
		for _, a := range c.want {
			if v := m.FlowIntensity[auIndex(a)]; v < 0.5 {
				t.Errorf("%s: flow AU%d = %.2f, want ≥ 0.5 (all %v)", c.name, a, v, m.FlowIntensity)
			}
		}
		// The wanted AUs are the strongest in the flow reading.
		if len(c.want) > 0 {
			var top float32
			for i := range aus {
				top = max(top, m.FlowIntensity[i])
			}
			best := false
			for _, a := range c.want {
				best = best || m.FlowIntensity[auIndex(a)] == top
			}
			if !best {
				t.Errorf("%s: strongest flow AU is none of %v (flow %.2f)", c.name, c.want, m.FlowIntensity)
			}
		}
		for _, a := range c.not {
			if v := m.FlowIntensity[auIndex(a)]; v >= PresenceThreshold {
				t.Errorf("%s: flow AU%d = %.2f, want < %.2f (flow %.2f geom %.2f)", c.name, a, v, PresenceThreshold, m.FlowIntensity, m.Geometric)
			}
		}
	}
}

// TestRegionFlowStrain: a region stretched has strain there, a translated
// face has (almost) none anywhere.
func TestRegionFlowStrain(t *testing.T) {
	g := astronaut(t)
	lm := synth.AstronautLandmarks()
	est, err := New(g, lm)
	if err != nil {
		t.Fatal(err)
	}
	var m Measurement
	if err := est.Measure(shifted(g, 1.7, 0.9, 0, 0, 0), &m); err != nil {
		t.Fatal(err)
	}
	still := append([]float32(nil), m.Strain...)
	// Nose wrinkle: skin on the nose sides pulled up towards the bridge.
	nx, ny := float64(lm[31][0]+lm[35][0])/2, float64(lm[31][1]+lm[35][1])/2
	est2, _ := New(g, lm)
	if err := est2.Measure(bumped(g, nx, ny, 0.12*est.IOD(), 0, -0.05*est.IOD()), &m); err != nil {
		t.Fatal(err)
	}
	i9 := auIndex(9)
	if m.Strain[i9] < 3*still[i9] || m.Strain[i9] < 0.02 {
		t.Errorf("AU9 region strain %.4f (translated face %.4f), want clearly more", m.Strain[i9], still[i9])
	}
}

func TestFlowStride(t *testing.T) {
	g := astronaut(t)
	est, _ := New(g, synth.AstronautLandmarks())
	est.SetFlowStride(3)
	var m Measurement
	var ages []int
	for i := 0; i < 5; i++ {
		if err := est.Measure(g, &m); err != nil {
			t.Fatal(err)
		}
		ages = append(ages, m.FlowAge)
	}
	if want := []int{0, 1, 2, 0, 1}; !slices.Equal(ages, want) {
		t.Errorf("flow ages %v, want %v", ages, want)
	}
	est.SetFlowStride(0)
	if err := est.Measure(g, &m); err != nil {
		t.Fatal(err)
	}
	if m.FlowAge != -1 {
		t.Errorf("stride 0: flow age %d, want -1", m.FlowAge)
	}
}

// BenchmarkRegionFlow is the per-frame cost of the dense-flow evidence
// alone (crop, TV-L1 fast at FlowSize, strain, region means, solve).
func BenchmarkRegionFlow(b *testing.B) {
	g := astronaut(b)
	est, _ := New(g, synth.AstronautLandmarks())
	f := shifted(g, 0.6, 0.3, 0, 225, 130)
	sim := similarity{a: 1, tx: 0.6, ty: 0.3}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := est.fl.measure(est, f, sim); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMeasureNoFlow is Measure with the flow evidence off, for the
// ratio against BenchmarkMeasure.
func BenchmarkMeasureNoFlow(b *testing.B) {
	g := astronaut(b)
	est, _ := New(g, synth.AstronautLandmarks())
	est.SetFlowStride(0)
	f := shifted(g, 0.6, 0.3, 0, 225, 130)
	var m Measurement
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		est.Measure(f, &m)
	}
}

// ExampleMeasurement_flowEvidence reads the dense-flow evidence next to
// the geometric estimate: the inner brows raised by a smooth warp.
func ExampleMeasurement_flowEvidence() {
	img, _ := portrait.Astronaut()
	ref := raster.FromImage(img)
	lm := synth.AstronautLandmarks()
	est, _ := New(ref, lm)
	x, y := float64(lm[21][0]+lm[22][0])/2, float64(lm[21][1]+lm[22][1])/2
	frame := bumped(ref, x, y-0.05*est.IOD(), 0.25*est.IOD(), 0, -0.04*est.IOD())
	var m Measurement
	est.Measure(frame, &m)
	i := auIndex(1)
	fmt.Printf("AU1 present by geometry: %v, by flow: %v, flow age %d\n", m.Geometric[i] >= PresenceThreshold, m.FlowIntensity[i] >= PresenceThreshold, m.FlowAge)
	// Output: AU1 present by geometry: true, by flow: true, flow age 0
}

// TestFuse: a confirmed AU is reported as strongly as both measurements
// agree (calibrated flow), others keep the geometry.
func TestFuse(t *testing.T) {
	m, fl := newMeasurement(), newMeasurement()
	i1, i12, i20 := auIndex(1), auIndex(12), auIndex(20)
	m.Right[i1], m.Left[i1], fl.Right[i1], fl.Left[i1] = 2, 2, 0, 0
	m.Right[i12], m.Left[i12] = 1.5, 0.2
	fl.Right[i12], fl.Left[i12] = 3, 0.05
	m.Right[i20], m.Left[i20] = 1, 1
	fl.Right[i20], fl.Left[i20] = 0.66*0.5, 0.66*0.25
	fuse(&m, &fl)
	check := func(name string, got, want float32) {
		if math.Abs(float64(got-want)) > 1e-5 {
			t.Errorf("%s = %.4f, want %.4f", name, got, want)
		}
	}
	check("AU1 right (not confirmed by flow)", m.Right[i1], 2)
	check("AU12 right (flow stronger)", m.Right[i12], 1.5)
	check("AU12 left", m.Left[i12], 0.05/flowGain[12])
	check("AU12", m.Intensity[i12], 1.5)
	check("AU20 right", m.Right[i20], 0.5)
	check("AU20 left", m.Left[i20], 0.25)
	check("AU20", m.Intensity[i20], 0.5)
	if !m.Present[i20] {
		t.Error("AU20 at 0.5 not present")
	}
}
