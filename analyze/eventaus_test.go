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
		aus := r.eventAUs(0, 0, 0, "still")
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
	aus := r.eventAUs(0, 0, 0, "still")
	if len(aus) != 1 || aus[0].AU != 12 {
		t.Fatalf("still event AUs %+v, want AU12 alone (AU4 at 0.30 is below trace)", aus)
	}
}

// TestEventAUsCrossTalk: a video event's AUs keep only what the floors
// allow. AU15 rising 0.6 beside AU12 rising 1.0 moves much as AU12 does
// (au.Overlap 0.78): in a micro-expression, at 0.6 of it, it is taken for
// AU12's cross-talk (rivalFloorMicro 0.8; the old 0.4 listed it), in a
// macro-expression it stays (rivalFloor 0.4). AU4 at 0.1 is under 0.12 of
// the event's strongest AU (globalFloor); AU2 at 0.5 has no rival that
// strong and stays. Every rise is far above the traces' jitter, so only the
// floors decide.
func TestEventAUsCrossTalk(t *testing.T) {
	rises := map[int]float32{12: 1, 15: 0.6, 4: 0.1, 2: 0.5}
	const fps, frames, on = 100, 30, 10
	n := au.NumAUs
	ring := make([]frameRec, frames)
	for f := range ring {
		rec := frameRec{both: make([]float32, n), right: make([]float32, n), left: make([]float32, n), ok: true}
		jitter := float32(0.005)
		if f%2 == 1 {
			jitter = -jitter
		}
		// A ramp from the onset to a plateau over frames 15–25, then back.
		var level float32
		switch {
		case f >= 15 && f <= 25:
			level = 1
		case f > on && f < 15:
			level = float32(f-on) / 5
		case f > 25:
			level = float32(frames-f) / 5
		}
		for i, a := range au.AUs() {
			v := rises[a]*level + jitter
			rec.right[i], rec.left[i], rec.both[i] = v, v, v
		}
		ring[f] = rec
	}
	r := &faceRun{run: &run{fps: fps}, ring: ring}
	for kind, want := range map[string][]int{"micro": {12, 2}, "macro": {12, 15, 2}} {
		var got []int
		for _, e := range r.eventAUs(on, frames-1, 0, kind) {
			got = append(got, e.AU)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s event AUs %v, want %v", kind, got, want)
		}
	}
}
