package analyze

import (
	"context"
	"testing"

	"github.com/tell-project/tell/au"
	"github.com/tell-project/tell/metrics"
	"github.com/tell-project/tell/portrait"
	"github.com/tell-project/tell/raster"
	"github.com/tell-project/tell/spot"
	"github.com/tell-project/tell/synth"
)

func TestExplore(t *testing.T) {
	img, _ := portrait.Astronaut()
	f := synth.NewFace(img, synth.AstronautLandmarks)
	det := metrics.NewAUDetection(au.AUs)
	correct, total := 0, 0
	for _, seed := range []uint64{11, 12} {
		clips, _ := synth.Plan(f, synth.Config{Seed: seed, Kind: "micro"}, 14)
		for _, c := range clips {
			e := c.Events[0]
			ref := raster.FromImage(c.Frame(0, nil))
			est, _ := au.New(ref, c.Landmarks(0))
			sp, _ := spot.New(spot.Options{FPS: c.FPS})
			var m au.Measurement
			var got []spot.Interval
			type rec struct{ b, r, l []float32 }
			var hist []rec
			for fr := 0; fr < c.Frames; fr++ {
				g := raster.FromImage(c.Frame(fr, nil))
				err := est.Measure(g, &m)
				hist = append(hist, rec{append([]float32(nil), m.Intensity...), append([]float32(nil), m.Right...), append([]float32(nil), m.Left...)})
				got = append(got, sp.Push(fr, float64(m.Expression), err == nil)...)
			}
			got = append(got, sp.Flush()...)
			if len(got) == 0 {
				t.Logf("%s nothing spotted", c.Name)
				continue
			}
			iv := got[0]
			n := len(au.AUs)
			b, r, l := make([]float32, n), make([]float32, n), make([]float32, n)
			for fr := iv.Onset; fr <= iv.Offset; fr++ {
				for i := 0; i < n; i++ {
					b[i] = max(b[i], hist[fr].b[i])
					r[i] = max(r[i], hist[fr].r[i])
					l[i] = max(l[i], hist[fr].l[i])
				}
			}
			aus := peakAUs(b, r, l)
			var pred, truth []int
			for _, a := range aus {
				pred = append(pred, a.AU)
			}
			for _, a := range e.AUs {
				truth = append(truth, a.AU)
			}
			det.AddSets(truth, pred)
			ct, err := BuiltinReasoner{}.Reason(context.Background(), evidence(aus, 0, 0, 0), nil)
			if err != nil {
				t.Fatal(err)
			}
			total++
			if ct.Conclusion.Label == e.Label {
				correct++
			}
			s := ""
			for _, a := range aus {
				s += " " + a.Side + ":" + a.Letter + ":" + itoa(a.AU)
			}
			t.Logf("%s %-9s %-28s -> %-9s %v", c.Name, e.Label, e.AUString(), ct.Conclusion.Label, s)
		}
	}
	for _, s := range det.PerAU() {
		t.Logf("AU%d F1 %.2f P %.2f R %.2f n %d", s.AU, s.F1, s.Precision, s.Recall, s.Support)
	}
	t.Logf("emotion acc %d/%d", correct, total)
}

func itoa(i int) string { return string(rune('0'+i/10)) + string(rune('0'+i%10)) }
