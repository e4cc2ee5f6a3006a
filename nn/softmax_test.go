package nn

import (
	"math"
	"testing"
)

// TestSoftmax: known answers, invariance to a shift of all scores, and no
// overflow for large scores.
func TestSoftmax(t *testing.T) {
	for _, tc := range []struct {
		in, want []float32
	}{
		{[]float32{0, 0}, []float32{0.5, 0.5}},
		{[]float32{0, float32(math.Log(3))}, []float32{0.25, 0.75}},
		{[]float32{1000, 1000 + float32(math.Log(3))}, []float32{0.25, 0.75}},
		{[]float32{-1e30, 0}, []float32{0, 1}},
	} {
		got := Softmax(tc.in)
		for i := range got {
			if math.Abs(float64(got[i]-tc.want[i])) > 1e-4 {
				t.Errorf("Softmax(%v) = %v, want %v", tc.in, got, tc.want)
				break
			}
		}
	}
	a, b := Softmax([]float32{0.3, -1, 2}), Softmax([]float32{5.3, 4, 7})
	for i := range a {
		if math.Abs(float64(a[i]-b[i])) > 1e-6 {
			t.Errorf("shift changes softmax: %v vs %v", a, b)
		}
	}
}
