package face

import (
	"math"
	"testing"
)

// TestEyeCentres: the centres are the means of each eye's six points, the
// subject's right eye (36–41) first, and the 3D mean face's lie about
// 60 mm apart at the same height, its right eye on the image's left.
func TestEyeCentres(t *testing.T) {
	var lm [NumLandmarks][2]float32
	for i := range lm {
		lm[i] = [2]float32{-1000, -1000} // far away: must not count
	}
	for k, p := range [6][2]float32{{10, 20}, {12, 18}, {14, 18}, {16, 20}, {14, 22}, {12, 22}} {
		lm[36+k] = p
		lm[42+k] = [2]float32{p[0] + 40, p[1] + 4}
	}
	right, left := EyeCentres(&lm)
	if math.Abs(right[0]-13) > 1e-9 || math.Abs(right[1]-20) > 1e-9 {
		t.Errorf("right eye centre %v, want (13, 20)", right)
	}
	if math.Abs(left[0]-53) > 1e-9 || math.Abs(left[1]-24) > 1e-9 {
		t.Errorf("left eye centre %v, want (53, 24)", left)
	}
	c := MeanEyeCentres3D()
	if d := math.Hypot(c[1][0]-c[0][0], c[1][1]-c[0][1]); d < 55 || d > 70 || c[0][0] >= c[1][0] || math.Abs(c[1][1]-c[0][1]) > 2 {
		t.Errorf("mean face eye centres %v: %.1f mm apart", c, d)
	}
}
