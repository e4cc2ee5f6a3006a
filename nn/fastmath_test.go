package nn

import (
	"math"
	"testing"
)

func TestExpfAccuracy(t *testing.T) {
	worst := 0.0
	for x := -87.0; x < 88; x += 0.0137 {
		got := float64(expf(float32(x)))
		want := math.Exp(float64(float32(x)))
		rel := math.Abs(got-want) / want
		worst = math.Max(worst, rel)
	}
	if worst > 5e-7 {
		t.Fatalf("expf worst relative error %g", worst)
	}
	if expf(-100) != 0 || !math.IsInf(float64(expf(100)), 1) {
		t.Fatal("expf range limits")
	}
}

func TestErffAccuracy(t *testing.T) {
	worst := 0.0
	for x := -6.0; x < 6; x += 0.001 {
		got := float64(erff(float32(x)))
		want := math.Erf(float64(float32(x)))
		worst = math.Max(worst, math.Abs(got-want))
	}
	if worst > 1e-6 {
		t.Fatalf("erff worst absolute error %g", worst)
	}
}
