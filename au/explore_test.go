package au

import (
	"fmt"
	"testing"

	"github.com/tell-project/tell/portrait"
	"github.com/tell-project/tell/raster"
	"github.com/tell-project/tell/synth"
)

func TestExplore(t *testing.T) {
	img, _ := portrait.Astronaut()
	f := synth.NewFace(img, synth.AstronautLandmarks)
	clips, _ := synth.Plan(f, synth.Config{Seed: 7}, 14)
	for _, c := range clips {
		e := c.Events[0]
		ref := raster.FromImage(c.Frame(0, nil))
		est, err := New(ref, c.Landmarks(0))
		if err != nil {
			t.Fatal(err)
		}
		var m Measurement
		var peak []float32
		var peakMotion, base float32
		for fr := 0; fr < c.Frames; fr++ {
			g := raster.FromImage(c.Frame(fr, nil))
			if err := est.Measure(g, &m); err != nil {
				t.Fatal(err)
			}
			if fr == e.Apex {
				peak = append([]float32(nil), m.Intensity...)
				peakMotion = m.Motion
			}
			if fr < e.Onset && m.Motion > base {
				base = m.Motion
			}
		}
		s := ""
		for i, a := range AUs {
			if peak[i] >= 0.2 {
				s += fmt.Sprintf(" %d:%.2f", a, peak[i])
			}
		}
		t.Logf("%s %3.0ffps %-9s %-5s true=%-28s motion=%.2f base=%.2f got%s", c.Name, c.FPS, e.Label, e.Kind, e.AUString(), peakMotion, base, s)
	}
}
