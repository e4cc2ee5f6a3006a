package nn

import "math"

// Softmax returns the softmax of scores, computed in float64 with the
// maximum subtracted (stable for any finite scores).
func Softmax(scores []float32) []float32 {
	p := make([]float32, len(scores))
	SoftmaxInto(p, scores, 1)
	return p
}

// SoftmaxT returns softmax(t·a) for a temperature t, as Softmax computes
// it.
func SoftmaxT(a []float64, t float64) []float64 {
	p := make([]float64, len(a))
	SoftmaxInto(p, a, t)
	return p
}

// SoftmaxInto writes softmax(t·x) into dst (len(x)): tell's one softmax.
// It computes in float64 with the maximum subtracted; each exponential is
// stored in dst's precision before the division, so float32 and float64
// callers get the same arithmetic as they always had.
func SoftmaxInto[F float32 | float64](dst, x []F, t float64) {
	mx := math.Inf(-1)
	for _, v := range x {
		mx = math.Max(mx, float64(v))
	}
	var z float64
	for i, v := range x {
		e := math.Exp(t * (float64(v) - mx))
		dst[i] = F(e)
		z += e
	}
	for i := range dst[:len(x)] {
		dst[i] = F(float64(dst[i]) / z)
	}
}
