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
	checkMuscleClips(t, synth.Config{Model: synth.Muscle, Seed: 27, Kind: "macro", FPS: 30,
		Codes: []string{"1+2D", "4D"}, MacroAmp: [2]float64{4, 5}}, false)
}

// TestMuscleMicro is the same floor at micro-expression amplitude: half a
// pixel of skin movement at 200 fps on the muscle generator's face, a
// brow lowerer and a lip-corner puller, each must be spotted (IoU ≥ 0.5)
// with its AU, and nothing else spotted before it. It catches a noise
// floor or event-AU threshold that only macro movements clear.
func TestMuscleMicro(t *testing.T) {
	if testing.Short() {
		t.Skip("renders ~450 frames")
	}
	checkMuscleClips(t, synth.Config{Model: synth.Muscle, Seed: 29, Kind: "micro", FPS: 200,
		Codes: []string{"4C", "12C"}, MicroAmp: [2]float64{0.5, 0.6}}, true)
}

// checkMuscleClips renders one clip per code of cfg and requires each
// clip's expression to be spotted (IoU ≥ 0.5) with all its AUs; with
// quietBefore, no event may end before the expression begins. (A second
// event after a smile's offset is a known limit: see docs/spotting.md.)
func checkMuscleClips(t *testing.T, cfg synth.Config, quietBefore bool) {
	t.Helper()
	clips, err := synth.Plan(testFace(t), cfg, len(cfg.Codes))
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
			t.Errorf("%s (%s): expression not spotted (IoU %.2f; events %+v)", c.Name, e.AUString(), iou, res.Events)
			continue
		}
		if quietBefore {
			for _, x := range res.Events {
				if x.Offset < e.Onset+1 {
					t.Errorf("%s: false event %d-%d-%d before the expression (%d-%d)", c.Name, x.Onset, x.Apex, x.Offset, e.Onset+1, e.Offset+1)
				}
			}
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
		t.Logf("%s %s -> %v (IoU %.2f)", c.Name, e.AUString(), got, iou)
	}
}

// TestMuscleSides: a one-sided lip-corner puller drawn by the muscle
// generator (which places each muscle on its side independently of package
// au's basis) comes out as AU12 on that side, the other side's rise well
// below it. Swapping the sides of au's lateral basis columns fails it.
func TestMuscleSides(t *testing.T) {
	cfg := synth.Config{Model: synth.Muscle, Seed: 31, Kind: "macro", FPS: 30,
		Codes: []string{"R12D", "L12D"}, MacroAmp: [2]float64{4, 5}}
	clips, err := synth.Plan(testFace(t), cfg, len(cfg.Codes))
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range clips {
		want := map[byte]string{'R': "right", 'L': "left"}[cfg.Codes[i][0]]
		res, err := RunSource(context.Background(), &clipSource{c: c}, c.Name, Options{Out: t.TempDir(), Landmarker: landmarkerFor(t, c)})
		if err != nil {
			t.Fatal(err)
		}
		ev, iou := bestMatch(res, c.Events[0])
		if ev == nil || iou < 0.5 {
			t.Fatalf("%s (%s): not spotted (IoU %.2f)", c.Name, cfg.Codes[i], iou)
		}
		i12 := slices.IndexFunc(ev.AUs, func(a EventAU) bool { return a.AU == 12 })
		if i12 < 0 {
			t.Fatalf("%s (%s): no AU12 among %+v", c.Name, cfg.Codes[i], ev.AUs)
		}
		a := ev.AUs[i12]
		same, other := a.Right, a.Left
		if want == "left" {
			same, other = a.Left, a.Right
		}
		if a.Side != want || !(other < 0.5*same) {
			t.Errorf("%s (%s): AU12 side %q (right %.2f, left %.2f), want %s", c.Name, cfg.Codes[i], a.Side, a.Right, a.Left, want)
		}
		t.Logf("%s %s -> AU12 %s (right %.2f, left %.2f)", c.Name, cfg.Codes[i], a.Side, a.Right, a.Left)
	}
}
