package analyze

import (
	"context"
	"slices"
	"testing"

	"github.com/tell-project/tell/synth"
)

// TestMuscleBrows is a known-answer check on clips the estimator was not
// built to undo (synth.Muscle: Waters muscles on a neutralised face): clear
// brow actions at macro amplitude must be found in their events. It is a
// floor that catches a broken pipeline, not the measurement (tell bench au
// is, and the mouth AUs fare worse there).
func TestMuscleBrows(t *testing.T) {
	clips, err := synth.Plan(testFace(t), synth.Config{Model: synth.Muscle, Seed: 27, Kind: "macro", FPS: 30,
		Codes: []string{"1+2D", "4D"}, MacroAmp: [2]float64{4, 5}}, 2)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range clips {
		res, err := RunSource(context.Background(), &clipSource{c: c}, c.Name, Options{Out: t.TempDir(), Landmarker: landmarkerFor(t, c)})
		if err != nil {
			t.Fatal(err)
		}
		e := c.Events[0]
		ev, iou := bestMatch(res, e)
		if ev == nil || iou < 0.5 {
			t.Errorf("%s (%s): expression not spotted (IoU %.2f)", c.Name, e.AUString(), iou)
			continue
		}
		var got []int
		for _, a := range ev.AUs {
			got = append(got, a.AU)
		}
		for _, a := range e.AUs {
			if !slices.Contains(got, a.AU) {
				t.Errorf("%s: AU%d of %s not found; the event has %v", c.Name, a.AU, e.AUString(), got)
			}
		}
		t.Logf("%s %s -> %v", c.Name, e.AUString(), got)
	}
}
