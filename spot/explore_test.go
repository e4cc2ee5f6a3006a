package spot

import (
	"testing"

	"github.com/tell-project/tell/au"
	"github.com/tell-project/tell/portrait"
	"github.com/tell-project/tell/raster"
	"github.com/tell-project/tell/synth"
)

func iou(a0, a1, b0, b1 int) float64 {
	lo, hi := max(a0, b0), min(a1, b1)
	if hi < lo {
		return 0
	}
	return float64(hi-lo+1) / float64(max(a1, b1)-min(a0, b0)+1)
}

func TestExplore(t *testing.T) {
	img, _ := portrait.Astronaut()
	f := synth.NewFace(img, synth.AstronautLandmarks)
	for _, cfg := range []synth.Config{{Seed: 3, Long: true, Duration: 30, Events: 6}, {Seed: 4}} {
		n := 14
		if cfg.Long {
			n = 2
		}
		clips, _ := synth.Plan(f, cfg, n)
		tp, fp, fn := 0, 0, 0
		for _, c := range clips {
			ref := raster.FromImage(c.Frame(0, nil))
			est, _ := au.New(ref, c.Landmarks(0))
			sp, _ := New(Options{FPS: c.FPS})
			var m au.Measurement
			var got []Interval
			for fr := 0; fr < c.Frames; fr++ {
				g := raster.FromImage(c.Frame(fr, nil))
				err := est.Measure(g, &m)
				got = append(got, sp.Push(fr, float64(m.Expression), err == nil)...)
			}
			got = append(got, sp.Flush()...)
			used := map[int]bool{}
			for _, e := range c.Events {
				best, bi := 0.0, -1
				for i, g := range got {
					if v := iou(e.Onset, e.Offset, g.Onset, g.Offset); v > best && !used[i] {
						best, bi = v, i
					}
				}
				if best >= 0.5 {
					tp++
					used[bi] = true
				} else {
					fn++
				}
				t.Logf("%s %s %s true [%d %d %d] best iou %.2f", c.Name, e.Label, e.Kind, e.Onset, e.Apex, e.Offset, best)
			}
			fp += len(got) - len(used)
			for _, g := range got {
				t.Logf("   got %+v noise=%.3f", g, sp.NoiseFloor())
			}
		}
		t.Logf("tp %d fp %d fn %d F1 %.3f", tp, fp, fn, 2*float64(tp)/float64(2*tp+fp+fn))
	}
}
