package tfjs

import (
	"fmt"
	"math"
	"math/rand"
	"slices"
	"strings"
	"testing"
)

// tapByTap is depthwiseConv as it was before dwRows (one-multiplier case):
// each in-image tap is a pass of dwTap over the output row. depthwiseConv
// must give the same bits.
func tapByTap(g *convGeom, x, w, bias, out []float32) {
	rowLen := g.ow * g.co
	for b := 0; b < g.n; b++ {
		xb := x[b*g.h*g.w*g.c:]
		for oy := 0; oy < g.oh; oy++ {
			orow := out[((b*g.oh)+oy)*rowLen : ((b*g.oh)+oy+1)*rowLen]
			for ox := 0; ox < g.ow; ox++ {
				copy(orow[ox*g.co:], bias)
			}
			for ky := 0; ky < g.kh; ky++ {
				iy := oy*g.sh + ky*g.dh - g.pt
				if iy < 0 || iy >= g.h {
					continue
				}
				for kx := 0; kx < g.kw; kx++ {
					for ox := 0; ox < g.ow; ox++ {
						ix := ox*g.sw + kx*g.dw - g.pl
						if ix < 0 || ix >= g.w {
							continue
						}
						dwTap(orow[ox*g.co:], xb[(iy*g.w+ix)*g.c:], w[(ky*g.kw+kx)*g.co:], 1, g.c, g.c)
					}
				}
			}
		}
	}
}

func TestDepthwiseRowsBitIdentical(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	for _, tc := range []struct{ h, w, c, k, s, d, pad int }{
		{7, 7, 8, 3, 1, 1, 1}, {9, 13, 16, 5, 2, 1, 2}, {6, 3, 24, 5, 1, 1, 2},
		{11, 10, 8, 3, 2, 2, 2}, {5, 17, 32, 3, 1, 1, 0}, {4, 2, 8, 5, 2, 1, 3},
		{10, 9, 48, 3, 2, 2, 1}, {6, 7, 64, 3, 1, 1, 1}, // 16-channel blocks (AVX-512 where the CPU has it)
		{8, 9, 12, 3, 1, 1, 1}, // not a multiple of 8: the tap-by-tap path
	} {
		t.Run(fmt.Sprintf("%dx%dx%d_k%d_s%d_d%d_p%d", tc.h, tc.w, tc.c, tc.k, tc.s, tc.d, tc.pad), func(t *testing.T) {
			g := convGeom{n: 2, h: tc.h, w: tc.w, c: tc.c, kh: tc.k, kw: tc.k, co: tc.c, mult: 1,
				sh: tc.s, sw: tc.s, dh: tc.d, dw: tc.d, pt: tc.pad, pl: tc.pad}
			span := (tc.k-1)*tc.d + 1
			g.oh = (tc.h+2*tc.pad-span)/tc.s + 1
			g.ow = (tc.w+2*tc.pad-span)/tc.s + 1
			x := make([]float32, g.n*g.h*g.w*g.c)
			w := make([]float32, g.kh*g.kw*g.c)
			bias := make([]float32, g.c)
			for _, s := range [][]float32{x, w, bias} {
				for i := range s {
					s[i] = float32(rng.NormFloat64())
				}
			}
			got := make([]float32, g.n*g.oh*g.ow*g.co)
			want := make([]float32, len(got))
			depthwiseConv(&g, x, w, bias, got)
			tapByTap(&g, x, w, bias, want)
			for i := range got {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("element %d: %v, tap by tap %v", i, got[i], want[i])
				}
			}
		})
	}
}

// TestElementwiseBitIdentical checks each element-wise kernel against its
// Go loop bit for bit, at lengths with and without a tail of fewer than 8
// (on amd64 with AVX2 the kernel under test is the assembly; elsewhere it
// is the Go loop itself), on inputs (both operands) that include NaN, ±0,
// ±Inf and subnormals: MAXPS/MINPS return their second operand for a NaN
// or two zeros, where Go's max and min return the NaN and +0 (max) or -0
// (min); the kernels correct for it (before, max, clamp and biasClamp
// turned a NaN into the bound or the other operand). A NaN's payload may
// differ.
func TestElementwiseBitIdentical(t *testing.T) {
	const lo, hi = -1.5, 6
	for _, tc := range []struct {
		name     string
		got, ref func(dst, a, b []float32)
	}{
		{"add", vadd, addGo},
		{"mul", vmul, mulGo},
		{"max", vmax, maxGo},
		{"max reversed", func(d, a, b []float32) { vmax(d, b[:len(d)], a) }, func(d, a, b []float32) { maxGo(d, b[:len(d)], a) }},
		{"prelu", vprelu, preluGo},
		{"clamp", func(d, a, _ []float32) { vclamp(d, a, lo, hi) }, func(d, a, _ []float32) { clampGo(d, a, lo, hi) }},
		{"relu", func(d, a, _ []float32) { vclamp(d, a, 0, inf32) }, func(d, a, _ []float32) { clampGo(d, a, 0, inf32) }},
		{"relu6", func(d, a, _ []float32) { vclamp(d, a, 0, 6) }, func(d, a, _ []float32) { clampGo(d, a, 0, 6) }},
		{"clamp -0", func(d, a, _ []float32) { vclamp(d, a, float32(math.Copysign(0, -1)), 0) }, func(d, a, _ []float32) { clampGo(d, a, float32(math.Copysign(0, -1)), 0) }},
		{"biasClamp", func(d, a, b []float32) { copy(d, a); biasClamp(d, b[:8], len(d)/8, 8, lo, hi) },
			func(d, a, b []float32) { copy(d, a); biasClampGo(d, b[:8], len(d)/8, 8, lo, hi) }},
		{"biasPrelu", func(d, a, b []float32) { copy(d, a); biasPrelu(d, b[:8], b[len(b)-8:], len(d)/8, 8, 0) },
			func(d, a, b []float32) { copy(d, a); biasPreluGo(d, b[:8], b[len(b)-8:], len(d)/8, 8, 0) }},
		{"addPrelu", func(d, a, b []float32) { copy(d, a); biasPrelu(d, b[:len(d)], b[len(b)-8:], len(d)/8, 8, 8) },
			func(d, a, b []float32) { copy(d, a); biasPreluGo(d, b[:len(d)], b[len(b)-8:], len(d)/8, 8, 8) }},
		{"addPrelu vs two passes", func(d, a, b []float32) { copy(d, a); biasPrelu(d, b[:len(d)], b[len(b)-8:], len(d)/8, 8, 8) },
			func(d, a, b []float32) {
				copy(d, a)
				addGo(d, d, b[:len(d)])
				preluGo(d, d, slices.Repeat(b[len(b)-8:], len(d)/8))
			}},
		// The fused kernel against the two passes it replaces, in Go.
		{"biasPrelu vs two passes", func(d, a, b []float32) { copy(d, a); biasPrelu(d, b[:8], b[len(b)-8:], len(d)/8, 8, 0) },
			func(d, a, b []float32) {
				copy(d, a)
				biasClampGo(d, b[:8], len(d)/8, 8, negInf32, inf32)
				preluGo(d, d, slices.Repeat(b[len(b)-8:], len(d)/8))
			}},
	} {
		rng := rand.New(rand.NewSource(5))
		special := []float32{0, float32(math.Copysign(0, -1)), inf32, negInf32, float32(math.NaN()), 1e-45, -1e-45, 3.5, -2.25}
		for _, n := range []int{1, 7, 8, 9, 33, 64} {
			if (strings.HasPrefix(tc.name, "bias") || strings.HasPrefix(tc.name, "addPrelu")) && n%8 != 0 {
				continue
			}
			a := make([]float32, n)
			b := make([]float32, max(n, 8))
			for i := range a {
				a[i] = special[rng.Intn(len(special))]
				if rng.Intn(2) == 0 {
					a[i] = float32(rng.NormFloat64())
				}
			}
			for i := range b {
				b[i] = float32(rng.NormFloat64())
				if i%5 == 0 {
					b[i] = 0
				}
				if i%3 == 1 {
					b[i] = special[rng.Intn(len(special))]
				}
			}
			got := make([]float32, n)
			want := make([]float32, n)
			tc.got(got, a, b)
			tc.ref(want, a, b)
			for i := range got {
				// A NaN's payload is not the language's: Go's own max
				// gives operand-dependent payloads. NaN for NaN, else
				// the same bits.
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) && !(got[i] != got[i] && want[i] != want[i]) {
					t.Errorf("%s, n %d, (%v, %v): %v (%#x), Go %v (%#x)", tc.name, n, a[i], b[i], got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
				}
			}
		}
	}
}

// BenchmarkDepthwiseConv is a BlazeFace-sized 5×5 depthwise layer (64×64×24).
func BenchmarkDepthwiseConv(b *testing.B) {
	g := convGeom{n: 1, h: 64, w: 64, c: 24, kh: 5, kw: 5, co: 24, mult: 1, sh: 1, sw: 1, dh: 1, dw: 1, pt: 2, pl: 2, oh: 64, ow: 64}
	x := make([]float32, g.h*g.w*g.c)
	w := make([]float32, g.kh*g.kw*g.c)
	bias := make([]float32, g.c)
	out := make([]float32, g.oh*g.ow*g.co)
	for i := range x {
		x[i] = float32(i%17) - 8
	}
	for i := range w {
		w[i] = float32(i%5) * 0.1
	}
	for b.Loop() {
		depthwiseConv(&g, x, w, bias, out)
	}
}
