package metrics

import "testing"

// TestBootstrapAccuracyCI: all right or all wrong give a point interval;
// a mixed case's interval holds its accuracy, is seeded, and an outside
// answer counts as wrong.
func TestBootstrapAccuracyCI(t *testing.T) {
	truth := []int{0, 0, 1, 1, 0, 1, 0, 1, 1, 0}
	opt := BootstrapOptions{Reps: 500, Seed: 3}
	if ci, err := BootstrapAccuracyCI(truth, truth, 2, opt); err != nil || ci.Lo != 1 || ci.Hi != 1 {
		t.Errorf("all right: %+v, %v", ci, err)
	}
	wrong := make([]int, len(truth))
	for i, v := range truth {
		wrong[i] = 1 - v
	}
	if ci, err := BootstrapAccuracyCI(truth, wrong, 2, opt); err != nil || ci.Lo != 0 || ci.Hi != 0 {
		t.Errorf("all wrong: %+v, %v", ci, err)
	}
	pred := []int{0, 1, 1, 1, 0, 2, 0, 0, 1, 0} // 7 of 10 right; a 2 is outside the task
	a, err := BootstrapAccuracyCI(truth, pred, 3, BootstrapOptions{Reps: 500, Seed: 3, Scored: 2})
	if err != nil || !(a.Lo < 0.7 && 0.7 < a.Hi) || a.Lo < 0.2 || a.Hi > 1 {
		t.Errorf("mixed: %+v, %v", a, err)
	}
	if b, _ := BootstrapAccuracyCI(truth, pred, 3, BootstrapOptions{Reps: 500, Seed: 3, Scored: 2}); b != a {
		t.Errorf("same seed, another interval: %+v vs %+v", a, b)
	}
	if _, err := BootstrapAccuracyCI(truth, pred[:3], 3, opt); err == nil {
		t.Error("lengths that differ")
	}
}
