package nn

import "math"

// Softmax returns the softmax of scores, computed in float64 with the
// maximum subtracted (stable for any finite scores).
func Softmax(scores []float32) []float32 {
	mx := math.Inf(-1)
	for _, s := range scores {
		mx = math.Max(mx, float64(s))
	}
	var z float64
	p := make([]float32, len(scores))
	for i, s := range scores {
		e := math.Exp(float64(s) - mx)
		p[i] = float32(e)
		z += e
	}
	for i := range p {
		p[i] = float32(float64(p[i]) / z)
	}
	return p
}
