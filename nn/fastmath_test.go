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

// TestGELUValues checks GELU and its derivative (the assembly path where the
// CPU has it) against float64 references, on a length with a scalar tail.
func TestGELUValues(t *testing.T) {
	n := 4003
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(-12 + 24*float64(i)/float64(n-1))
	}
	y, d := make([]float32, n), make([]float32, n)
	geluBlock(x, y, d)
	for i, v := range x {
		xv := float64(v)
		cdf := 0.5 * (1 + math.Erf(xv/math.Sqrt2))
		wy := xv * cdf
		wd := cdf + xv*math.Exp(-0.5*xv*xv)/math.Sqrt(2*math.Pi)
		if math.Abs(float64(y[i])-wy) > 2e-6*math.Max(1, math.Abs(wy)) || math.Abs(float64(d[i])-wd) > 2e-6 {
			t.Fatalf("x=%v: gelu %v (want %v), derivative %v (want %v)", v, y[i], wy, d[i], wd)
		}
	}
}

func TestAddVec(t *testing.T) {
	for _, n := range []int{0, 1, 31, 32, 33, 100, 1000} {
		a := randTensor(1, 1, n+1).Data[:n]
		b := randTensor(2, 1, n+1).Data[:n]
		want := make([]float32, n)
		for i := range want {
			want[i] = a[i] + b[i]
		}
		Add(a, a, b) // aliasing the output
		for i := range want {
			if a[i] != want[i] {
				t.Fatalf("n=%d: [%d] %v != %v", n, i, a[i], want[i])
			}
		}
	}
}
