package analyze

import (
	"slices"
	"testing"

	"github.com/tell-project/tell/au"
)

// TestEventAULetterBoundaries: an event AU's letter is the documented
// scale's letter of the intensity events.json stores, at every boundary
// (the old code lettered the unrounded value: 1.497 stored as 1.50 with
// letter A, 0.497 stored as 0.50 with none).
func TestEventAULetterBoundaries(t *testing.T) {
	i4 := slices.Index(au.AUs(), 4)
	if i4 < 0 {
		t.Fatal("AU4 not measured")
	}
	for _, c := range []struct {
		v      float32
		stored float64
		letter string
	}{
		{0.497, 0.5, "A"}, {0.5, 0.5, "A"},
		{1.494, 1.49, "A"}, {1.497, 1.5, "B"}, {2.496, 2.5, "C"}, {3.4951, 3.5, "D"},
		{4.4949, 4.49, "D"}, {4.497, 4.5, "E"}, {5, 5, "E"},
	} {
		n := au.NumAUs
		rec := frameRec{both: make([]float32, n), right: make([]float32, n), left: make([]float32, n), ok: true}
		rec.right[i4], rec.left[i4], rec.both[i4] = c.v, c.v, c.v
		r := &faceRun{run: &run{}, ring: []frameRec{rec}}
		aus := r.eventAUs(0, 0, 0, true)
		if len(aus) != 1 || aus[0].AU != 4 {
			t.Fatalf("%v: event AUs %+v, want AU4 alone", c.v, aus)
		}
		if aus[0].Intensity != c.stored || aus[0].Letter != c.letter {
			t.Errorf("rise %v: stored %.2f letter %q, want %.2f %q", c.v, aus[0].Intensity, aus[0].Letter, c.stored, c.letter)
		}
	}
}

// TestStillAUsAreEvidence: a still's event lists only AUs from trace level
// (it has no noise to measure significance against), so its text never
// calls a listed AU inactive.
func TestStillAUsAreEvidence(t *testing.T) {
	i4, i12 := slices.Index(au.AUs(), 4), slices.Index(au.AUs(), 12)
	n := au.NumAUs
	rec := frameRec{both: make([]float32, n), right: make([]float32, n), left: make([]float32, n), ok: true}
	rec.right[i4], rec.left[i4] = 0.3, 0.3
	rec.right[i12], rec.left[i12] = 1.2, 1.2
	r := &faceRun{run: &run{}, ring: []frameRec{rec}}
	aus := r.eventAUs(0, 0, 0, true)
	if len(aus) != 1 || aus[0].AU != 12 {
		t.Fatalf("still event AUs %+v, want AU12 alone (AU4 at 0.30 is below trace)", aus)
	}
}
