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

// softmaxRowsGo is softmaxRows in Go (softmaxRows, in gelu_amd64.go and
// gelu_other.go, runs it in AVX2 where the CPU allows it and there is no
// mask — the same bits either way): each of the n rows of p (length t)
// becomes softmax(scale·row), ignoring the keys that mask (one entry per
// key of batch b, or nil) rules out; attention's probabilities. The
// exponentials are expPolyFMA's and each row's sum runs in eight lanes (key
// j in lane j mod 8, lanes combined as lnHsum).
func softmaxRowsGo(p []float32, n, t int, scale float32, mask []bool, b int) {
	for i := 0; i < n; i++ {
		row := p[i*t : (i+1)*t]
		m := float32(math.Inf(-1))
		for j, v := range row {
			if mask == nil || mask[b*t+j] {
				m = max(m, v)
			}
		}
		var s [8]float32
		for j, v := range row {
			e := expPolyFMA(max((v-m)*scale, vmExpMin))
			if mask != nil && !mask[b*t+j] {
				e = 0
			}
			row[j] = e
			s[j&7] += e
		}
		inv := 1 / lnHsum(&s)
		for j := range row {
			row[j] *= inv
		}
	}
}

// softmaxBackRowsGo is softmaxBackRows in Go: each of the n rows of dp
// (length t), the gradient with respect to the probabilities p, becomes the
// gradient with respect to the scores before scaling,
// dp = p·(dp − Σ p·dp)·scale, the sum in eight lanes as softmaxRowsGo sums.
func softmaxBackRowsGo(p, dp []float32, n, t int, scale float32) {
	for i := 0; i < n; i++ {
		pr := p[i*t : (i+1)*t]
		dr := dp[i*t : (i+1)*t]
		var s [8]float32
		for j, pv := range pr {
			s[j&7] += float32(pv * dr[j])
		}
		sum := lnHsum(&s)
		for j, pv := range pr {
			dr[j] = pv * (dr[j] - sum) * scale
		}
	}
}
