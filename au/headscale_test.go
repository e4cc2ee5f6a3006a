package au

import (
	"math"
	"testing"

	"github.com/tell-project/tell/portrait"
	"github.com/tell-project/tell/raster"
	"github.com/tell-project/tell/synth"
)

// TestHeadScale: the same expression (synth.Muscle's true landmarks, a
// generator built apart from the estimator's basis) on a head that grows
// or shrinks by 20% about the face's centre between the expression's onset
// and its apex gives, frame by frame, the AU intensities of the head that
// keeps its size, within 0.01 on the 0–5 scale. The points are given as
// tracked exactly, so this checks the geometry from tracked points to AUs
// (the normalisation by the eye distance at the head's current scale);
// dropping the head's scale from that normalisation (au/estimate.go)
// moves the values by up to 20% and fails it.
func TestHeadScale(t *testing.T) {
	img, err := portrait.Astronaut()
	if err != nil {
		t.Fatal(err)
	}
	cfg := synth.Config{Model: synth.Muscle, Seed: 27, Kind: "macro", FPS: 30, Head: -1,
		Codes: []string{"1+2+12+25D"}, MacroAmp: [2]float64{4, 5}}
	clips, err := synth.Plan(synth.NewFace(img, synth.AstronautLandmarks()), cfg, 1)
	if err != nil {
		t.Fatal(err)
	}
	c := clips[0]
	ev := c.Events[0]
	lm0 := c.Landmarks(0)
	var cx, cy float64
	for _, p := range lm0 {
		cx, cy = cx+float64(p[0])/68, cy+float64(p[1])/68
	}
	ref := raster.FromImage(c.Frame(0, nil))
	// run measures frames 1..apex with the head's scale going from 1 at the
	// onset to zoom at the apex.
	run := func(zoom float64) [][]float32 {
		e, err := New(ref, lm0)
		if err != nil {
			t.Fatal(err)
		}
		defer e.Close()
		e.SetFlowStride(0)
		var out [][]float32
		for f := 1; f <= ev.Apex; f++ {
			z := 1 + (zoom-1)*math.Min(1, math.Max(0, float64(f-ev.Onset)/float64(ev.Apex-ev.Onset)))
			lm := c.Landmarks(f)
			for i := range lm {
				lm[i][0] = float32(cx + z*(float64(lm[i][0])-cx))
				lm[i][1] = float32(cy + z*(float64(lm[i][1])-cy))
			}
			e.cur = allPoints(lm)
			for i := range e.ok {
				e.ok[i] = true
			}
			m := newMeasurement()
			if err := e.measureTracked(nil, &m, numPoints, float32(numPoints)); err != nil {
				t.Fatalf("zoom %.1f frame %d: %v", zoom, f, err)
			}
			if math.Abs(float64(m.Scale)/z-1) > 0.01 {
				t.Fatalf("zoom %.1f frame %d: head scale %.4f, want about %.4f", zoom, f, m.Scale, z)
			}
			out = append(out, append(append([]float32(nil), m.Right...), m.Left...))
		}
		return out
	}
	still := run(1)
	var top float32
	for _, v := range still[len(still)-1] {
		top = max(top, v)
	}
	if top < 2 {
		t.Fatalf("the expression reaches %.2f at its apex; want a clear one", top)
	}
	const tol = 0.01
	for _, zoom := range []float64{1.2, 0.8} {
		got := run(zoom)
		worst := 0.0
		for f := range got {
			for k := range got[f] {
				d := math.Abs(float64(got[f][k] - still[f][k]))
				worst = math.Max(worst, d)
				if d > tol {
					side := "right"
					if k >= NumAUs {
						side = "left"
					}
					t.Fatalf("zoom %.1f frame %d: AU%d %s %.3f, %.3f on the still head", zoom, f+1, aus[k%NumAUs], side, got[f][k], still[f][k])
				}
			}
		}
		t.Logf("zoom %.1f: largest difference %.5f over %d frames (apex max %.2f)", zoom, worst, len(got), top)
	}
}
