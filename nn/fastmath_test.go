package nn

import (
	"math"
	"math/big"
	"testing"
)

// TestErfAccuracy: erfFMA is within 1e-6 of math.Erf.
func TestErfAccuracy(t *testing.T) {
	worst := 0.0
	for x := -6.0; x < 6; x += 0.001 {
		got := float64(erfFMA(float32(x)))
		want := math.Erf(float64(float32(x)))
		worst = math.Max(worst, math.Abs(got-want))
	}
	if worst > 1e-6 {
		t.Fatalf("erf worst absolute error %g", worst)
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

// TestAddMulVec: the residual add (through Add) and the product, with and
// without the assembly's tail, the output aliasing an operand.
func TestAddMulVec(t *testing.T) {
	for _, op := range []struct {
		name string
		vec  func(dst, a, b []float32)
		f    func(x, y float32) float32
	}{
		{"add", Add, func(x, y float32) float32 { return x + y }},
		{"mul", mulVec, func(x, y float32) float32 { return x * y }},
	} {
		for _, n := range []int{0, 1, 31, 32, 33, 100, 1000} {
			a := randTensor(1, 1, n+1).Data[:n]
			b := randTensor(2, 1, n+1).Data[:n]
			want := make([]float32, n)
			for i := range want {
				want[i] = op.f(a[i], b[i])
			}
			op.vec(a, a, b)
			for i := range want {
				if a[i] != want[i] {
					t.Fatalf("%s n=%d: [%d] %v != %v", op.name, n, i, a[i], want[i])
				}
			}
		}
	}
}

// vecmathInputs spans GELU's and softmax's ranges densely, with the
// values where the range reduction rounds halfway and the clamps.
func vecmathInputs() []float32 {
	var xs []float32
	for i := 0; i < 1<<18; i++ {
		xs = append(xs, float32(-100+200*float64(i)/(1<<18)))
	}
	rng := NewRNG(7)
	for i := 0; i < 1<<18; i++ {
		xs = append(xs, float32(rng.NormFloat64()*3))
	}
	for k := -126; k <= 127; k++ {
		h := float32((float64(k) + 0.5) / vmLog2e)
		xs = append(xs, h, math.Nextafter32(h, 0), math.Nextafter32(h, 200))
	}
	xs = append(xs, 0, float32(math.Copysign(0, -1)), -87, -87.5, -4*math.Sqrt2, 4*math.Sqrt2, 88, -13.2)
	for len(xs)%8 != 0 {
		xs = append(xs, 1)
	}
	return xs
}

// TestVecMathGoMatchesAsm: the Go twins give the assembly's bits for every
// input (the tails of a slice and the pure-Go build rely on it).
func TestVecMathGoMatchesAsm(t *testing.T) {
	if !vecAsm() {
		t.Skip("no vector assembly on this CPU/build")
	}
	xs := vecmathInputs()
	n := len(xs)
	ya, da := make([]float32, n), make([]float32, n)
	yg, dg := make([]float32, n), make([]float32, n)
	geluBlock(xs, ya, da)
	geluGo(xs, yg, dg)
	ea := append([]float32(nil), xs...)
	eg := append([]float32(nil), xs...)
	expInPlace(ea)
	expGo(eg)
	for i, v := range xs {
		if math.Float32bits(ya[i]) != math.Float32bits(yg[i]) || math.Float32bits(da[i]) != math.Float32bits(dg[i]) {
			t.Fatalf("gelu(%v): asm %v %v, Go %v %v", v, ya[i], da[i], yg[i], dg[i])
		}
		if math.Float32bits(ea[i]) != math.Float32bits(eg[i]) {
			t.Fatalf("exp(%v): asm %v, Go %v", v, ea[i], eg[i])
		}
	}
}

// TestExpAccuracy: the exp of softmax and GELU is within a few ulp of
// math.Exp, and inputs below −87 give exp(−87).
func TestExpAccuracy(t *testing.T) {
	xs := vecmathInputs()
	e := append([]float32(nil), xs...)
	expGo(e)
	for i, v := range xs {
		want := math.Exp(math.Max(float64(v), -87))
		if want > math.MaxFloat32 {
			continue
		}
		if r := math.Abs(float64(e[i])-want) / want; r > 4e-7 {
			t.Fatalf("exp(%v) = %v, want %v (rel %g)", v, e[i], want, r)
		}
	}
}

// TestFMAF: fmaf rounds once, where float32(math.FMA) rounds twice.
func TestFMAF(t *testing.T) {
	rng := NewRNG(3)
	for i := 0; i < 1<<20; i++ {
		x := float32(rng.NormFloat64())
		y := float32(rng.NormFloat64())
		z := float32(rng.NormFloat64() * math.Pow(2, float64(rng.IntN(60)-30)))
		if got, want := fmaf(x, y, z), exactFMA32(x, y, z); got != want {
			t.Fatalf("fmaf(%v, %v, %v) = %v, want %v", x, y, z, got, want)
		}
	}
	// x·y = 1 + 2⁻¹¹ + 2⁻²⁴ is halfway between two float32 values; + 2⁻⁶⁰
	// lies above it by less than float64 holds.
	x := float32(1 + 1.0/(1<<12))
	z := float32(math.Ldexp(1, -60))
	if got, want := fmaf(x, x, z), exactFMA32(x, x, z); got != want {
		t.Fatalf("halfway case: fmaf %v, want %v", got, want)
	}
}

// exactFMA32 is x·y+z rounded once to float32, by big.Float.
func exactFMA32(x, y, z float32) float32 {
	p := new(big.Float).SetPrec(200).SetFloat64(float64(x))
	p.Mul(p, new(big.Float).SetPrec(200).SetFloat64(float64(y)))
	p.Add(p, new(big.Float).SetPrec(200).SetFloat64(float64(z)))
	f, _ := p.Float32()
	return f
}

// TestLayerNormAsmMatchesGo: the AVX2 LayerNorm kernels give the Go twins'
// bits (forward, dx, gain and bias gradients), plain and with the
// residual sum fused (ForwardSum, BackwardSum), for widths with and
// without a tail past the last group of eight and column ranges that split
// one; the fused residual gives the bits of a separate Add.
func TestLayerNormAsmMatchesGo(t *testing.T) {
	for _, d := range []int{8, 12, 40, 64, 128, 136, 257} {
		for _, fused := range []bool{false, true} {
			const n = 37
			x := randTensor(uint64(d), 3, n, d).Data
			ra := randTensor(uint64(d)+5, 1, n, d).Data
			rdy := randTensor(uint64(d)+6, 1, n, d).Data
			dy := randTensor(uint64(d)+1, 1, n, d).Data
			g := randTensor(uint64(d)+2, 1, d).Data
			b := randTensor(uint64(d)+3, 1, d).Data
			type out struct{ s, y, mean, rstd, dx, gg, bg []float32 }
			run := func(fwd func(x, a, s, y, g, b, mean, rstd []float32, lo, hi, d int, eps float32),
				bwd func(x, dy, res, dx, g, mean, rstd []float32, lo, hi, d int),
				pg func(x, dy, mean, rstd, gg, bg []float32, n, d, lo, hi int), sep bool) out {
				o := out{make([]float32, n*d), make([]float32, n*d), make([]float32, n), make([]float32, n), make([]float32, n*d), make([]float32, d), make([]float32, d)}
				for i := range o.gg {
					o.gg[i], o.bg[i] = float32(i)*0.25, -float32(i)
				}
				// fused: the kernels add the residuals; sep: Add does, apart.
				fin, a, res := x, []float32(nil), []float32(nil)
				if fused && !sep {
					a, res = ra, rdy
				} else if fused {
					Add(o.s, x, ra)
					fin = o.s
				}
				fwd(fin, a, o.s, o.y, g, b, o.mean, o.rstd, 0, 5, d, 1e-5)
				fwd(fin, a, o.s, o.y, g, b, o.mean, o.rstd, 5, n, d, 1e-5)
				xin := x
				if fused {
					xin = o.s
				}
				bwd(xin, dy, res, o.dx, g, o.mean, o.rstd, 0, n-1, d)
				bwd(xin, dy, res, o.dx, g, o.mean, o.rstd, n-1, n, d)
				if fused && sep {
					Add(o.dx, rdy, o.dx)
				}
				pg(xin, dy, o.mean, o.rstd, o.gg, o.bg, n, d, 0, d/2)
				pg(xin, dy, o.mean, o.rstd, o.gg, o.bg, n, d, d/2, d)
				return o
			}
			a := run(lnForwardRows, lnBackwardRows, lnParamGrad, false)
			for _, w := range []out{run(lnForwardRowsGo, lnBackwardRowsGo, lnParamGradGo, false), run(lnForwardRowsGo, lnBackwardRowsGo, lnParamGradGo, true)} {
				for k, pair := range [][2][]float32{{a.y, w.y}, {a.mean, w.mean}, {a.rstd, w.rstd}, {a.dx, w.dx}, {a.gg, w.gg}, {a.bg, w.bg}} {
					for i := range pair[0] {
						if math.Float32bits(pair[0][i]) != math.Float32bits(pair[1][i]) {
							t.Fatalf("d=%d fused=%v: output %d [%d]: %v, Go %v", d, fused, k, i, pair[0][i], pair[1][i])
						}
					}
				}
				if fused {
					for i := range a.s {
						if a.s[i] != x[i]+ra[i] || w.s[i] != a.s[i] {
							t.Fatalf("d=%d: sum [%d] %v, want %v", d, i, a.s[i], x[i]+ra[i])
						}
					}
				}
			}
			// And the values are LayerNorm's: mean and σ against float64.
			src := x
			if fused {
				src = a.s
			}
			for i := 0; i < n; i++ {
				var s, s2 float64
				for _, v := range src[i*d : (i+1)*d] {
					s += float64(v)
				}
				m := s / float64(d)
				for _, v := range src[i*d : (i+1)*d] {
					s2 += (float64(v) - m) * (float64(v) - m)
				}
				rs := 1 / math.Sqrt(s2/float64(d)+1e-5)
				if math.Abs(float64(a.mean[i])-m) > 1e-5 || math.Abs(float64(a.rstd[i])-rs) > 1e-5*rs {
					t.Fatalf("d=%d row %d: mean %v rstd %v, want %v %v", d, i, a.mean[i], a.rstd[i], m, rs)
				}
			}
		}
	}
}

// TestAdamWAsmMatchesGo: the AVX2 AdamW step gives the bits of the plain
// element-wise formula (PyTorch's order of operations), for lengths with
// and without a tail, decayed or not.
func TestAdamWAsmMatchesGo(t *testing.T) {
	for _, n := range []int{1, 7, 8, 37, 1000, 4099} {
		for _, decay := range []float32{1, 1 - 1e-3*0.05} {
			p := randTensor(uint64(n), 1, n).Data
			m := randTensor(uint64(n)+1, 0.01, n).Data
			v := randTensor(uint64(n)+2, 0.01, n).Data
			for i := range v {
				v[i] *= v[i]
			}
			g := randTensor(uint64(n)+3, 1, n).Data
			pw, mw, vw := append([]float32(nil), p...), append([]float32(nil), m...), append([]float32(nil), v...)
			const b1, b2, lr, eps = float32(0.9), float32(0.999), float32(1e-3), float32(1e-8)
			bc1 := float32(1 - math.Pow(0.9, 3))
			bc2 := float32(math.Sqrt(1 - math.Pow(0.999, 3)))
			c := adamwConsts{b1: b1, c1: 1 - b1, b2: b2, c2: 1 - b2, decay: decay, step: lr / bc1, bc2: bc2, eps: eps}
			adamwVec(p, g, m, v, &c)
			for j := range pw {
				mw[j] = float32(b1*mw[j]) + float32((1-b1)*g[j])
				vw[j] = float32(b2*vw[j]) + float32((1-b2)*g[j]*g[j])
				pw[j] = float32(pw[j]*decay) - float32(lr/bc1*mw[j])/float32(float32(math.Sqrt(float64(vw[j])))/bc2+eps)
			}
			for j := range p {
				if p[j] != pw[j] || m[j] != mw[j] || v[j] != vw[j] {
					t.Fatalf("n=%d [%d]: p m v %v %v %v, want %v %v %v", n, j, p[j], m[j], v[j], pw[j], mw[j], vw[j])
				}
			}
		}
	}
}

// TestColSum: bias gradients (column sums, rows in order) have the scalar
// loop's bits for widths with and without a tail, split at any column.
func TestColSum(t *testing.T) {
	for _, d := range []int{1, 8, 13, 24, 40, 59, 128, 200} {
		for _, n := range []int{1, 3, 50} {
			x := randTensor(uint64(d*n), 1, n, d).Data
			want := randTensor(7, 1, d).Data
			got := append([]float32(nil), want...)
			for j := range want {
				for i := 0; i < n; i++ {
					want[j] += x[i*d+j]
				}
			}
			colSum(got, x, n, d)
			for j := range want {
				if math.Float32bits(got[j]) != math.Float32bits(want[j]) {
					t.Fatalf("d=%d n=%d [%d]: %v, want %v", d, n, j, got[j], want[j])
				}
			}
		}
	}
}
