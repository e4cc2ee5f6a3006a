package metrics

import (
	"math"
	"testing"
)

// TestOutsideClasses: an answer outside the task (a zero-shot net's
// neutral on a three-class task) is a miss of the true class, and UF1 and
// UAR average over the task's classes only.
func TestOutsideClasses(t *testing.T) {
	c, err := NewConfusionOutside([]string{"a", "b", "c"}, []string{"neutral"})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range [][2]string{{"a", "a"}, {"a", "neutral"}, {"b", "b"}, {"b", "neutral"}, {"c", "c"}, {"c", "a"}} {
		if err := c.AddLabel(p[0], p[1]); err != nil {
			t.Fatal(err)
		}
	}
	// a: tp 1 fp 1 fn 1 → F1 0.5; b: tp 1 fn 1 → 2/3; c: tp 1 fn 1 → 2/3.
	want := (0.5 + 2.0/3 + 2.0/3) / 3
	if got := c.UF1(); math.Abs(got-want) > 1e-12 {
		t.Errorf("UF1 %v, want %v (neutral's F1 0 not averaged)", got, want)
	}
	if got := c.UAR(); math.Abs(got-0.5) > 1e-12 {
		t.Errorf("UAR %v, want 0.5", got)
	}
	e, _ := NewEvaluationOutside("zero-shot", []string{"a", "b", "c"}, []string{"neutral"})
	if err := e.AddFold([]string{"s"}, []int{0, 0, 1, 1, 2, 2}, []int{0, 3, 1, 3, 2, 0}, []string{"s", "s", "s", "s", "s", "s"}); err != nil {
		t.Fatal(err)
	}
	rep, err := e.Report(0, 20, 1)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(rep.UF1-want) > 1e-12 || rep.Accuracy != 0.5 {
		t.Errorf("report UF1 %v accuracy %v", rep.UF1, rep.Accuracy)
	}
}
