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

// TestSoftmaxRowsAsmMatchesGo: attention's softmax and its backward give
// the Go twins' bits in AVX2 for every row length (tails of 0–7 keys),
// an all-true key mask changes nothing, and the values are softmax's.
func TestSoftmaxRowsAsmMatchesGo(t *testing.T) {
	for tl := 1; tl <= 70; tl++ {
		const n = 5
		x := randTensor(uint64(tl), 4, n*tl).Data
		x[0] = -200 // below exp's −87 clamp after the maximum
		scale := float32(0.35)
		a := append([]float32(nil), x...)
		g := append([]float32(nil), x...)
		mk := append([]float32(nil), x...)
		softmaxRows(a, n, tl, scale, nil, 0)
		softmaxRowsGo(g, n, tl, scale, nil, 0)
		all := make([]bool, 2*tl)
		for i := range all {
			all[i] = true
		}
		softmaxRows(mk, n, tl, scale, all, 1)
		for i := range a {
			if math.Float32bits(a[i]) != math.Float32bits(g[i]) || a[i] != mk[i] {
				t.Fatalf("t=%d [%d]: %v, Go %v, masked %v", tl, i, a[i], g[i], mk[i])
			}
		}
		for r := 0; r < n; r++ {
			row := x[r*tl : (r+1)*tl]
			m := math.Inf(-1)
			for _, v := range row {
				m = math.Max(m, float64(v))
			}
			var z float64
			for _, v := range row {
				z += math.Exp(float64(scale) * (float64(v) - m))
			}
			for j, v := range row {
				want := math.Exp(float64(scale)*(float64(v)-m)) / z
				if math.Abs(float64(a[r*tl+j])-want) > 1e-6+1e-5*want {
					t.Fatalf("t=%d row %d key %d: %v, want %v", tl, r, j, a[r*tl+j], want)
				}
			}
		}
		dp := randTensor(uint64(tl)+100, 1, n*tl).Data
		da := append([]float32(nil), dp...)
		dg := append([]float32(nil), dp...)
		softmaxBackRows(a, da, n, tl, scale)
		softmaxBackRowsGo(a, dg, n, tl, scale)
		for i := range da {
			if math.Float32bits(da[i]) != math.Float32bits(dg[i]) {
				t.Fatalf("t=%d backward [%d]: %v, Go %v", tl, i, da[i], dg[i])
			}
		}
		for r := 0; r < n; r++ {
			var s float64
			for j := 0; j < tl; j++ {
				s += float64(a[r*tl+j]) * float64(dp[r*tl+j])
			}
			for j := 0; j < tl; j++ {
				want := float64(a[r*tl+j]) * (float64(dp[r*tl+j]) - s) * float64(scale)
				if math.Abs(float64(da[r*tl+j])-want) > 1e-6 {
					t.Fatalf("t=%d backward row %d key %d: %v, want %v", tl, r, j, da[r*tl+j], want)
				}
			}
		}
	}
}
