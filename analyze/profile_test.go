package analyze

import (
	"context"
	"testing"

	"github.com/tell-project/tell/profile"
	"github.com/tell-project/tell/synth"
)

// TestProfileKeepsOutputs: a profiled run writes the same frames.csv and
// events.json (but for the wall time) as an unprofiled one, and charges
// the stages that ran.
func TestProfileKeepsOutputs(t *testing.T) {
	clips, err := synth.Plan(testFace(t), synth.Config{Seed: 5, Long: true, Duration: 4, Events: 1}, 1)
	if err != nil {
		t.Fatal(err)
	}
	c := clips[0]
	run := func(p *profile.Profile) (csv []byte, events map[string]any) {
		out := t.TempDir()
		if _, err := RunSource(context.Background(), &clipSource{c: c}, "synthetic", Options{Out: out, Landmarker: truthLandmarker{c}, Profile: p}); err != nil {
			t.Fatal(err)
		}
		return readOutputs(t, out)
	}
	p := profile.New()
	csv0, ev0 := run(nil)
	csv1, ev1 := run(p)
	sameOutputs(t, "profiled", csv0, csv1, ev0, ev1)
	by := map[profile.Stage]profile.StageTime{}
	for _, st := range p.Stages() {
		by[st.Stage] = st
	}
	for _, s := range []profile.Stage{profile.Decode, profile.Landmarks, profile.Flow, profile.FaceCrops, profile.Writing} {
		if by[s].CPU <= 0 || by[s].Entries == 0 {
			t.Errorf("stage %v: %+v, want time charged", s, by[s])
		}
	}
	if by[profile.CropSearch].CPU != 0 {
		t.Errorf("crop search charged %v without a search", by[profile.CropSearch].CPU)
	}
}
