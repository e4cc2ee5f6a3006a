package nn

import (
	"fmt"
	"math"
	"runtime"
	"testing"
)

// naiveGemm is the reference: C = alpha·op(A)·op(B) + beta·C in float64.
func naiveGemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float64
			for p := 0; p < k; p++ {
				av := a[i*lda+p]
				if transA {
					av = a[p*lda+i]
				}
				bv := b[p*ldb+j]
				if transB {
					bv = b[j*ldb+p]
				}
				s += float64(av) * float64(bv)
			}
			c[i*ldc+j] = float32(float64(alpha)*s + float64(beta)*float64(c[i*ldc+j]))
		}
	}
}

var gemmSizes = [][3]int{{1, 1, 1}, {7, 13, 5}, {5, 7, 13}, {13, 5, 7}, {6, 16, 1}, {17, 33, 300}, {129, 257, 65}, {250, 130, 520}, {3, 4000, 2}}

// TestGemmExactIntegers: with small integer inputs every partial sum is an
// exactly representable float32, so any correct summation order gives the
// naive result bit for bit.
func TestGemmExactIntegers(t *testing.T) {
	rng := NewRNG(30)
	for _, sz := range gemmSizes {
		m, n, k := sz[0], sz[1], sz[2]
		for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
			for _, ab := range [][2]float32{{1, 0}, {1, 1}, {2, -3}} {
				lda, ldb, ldc := k+3, n+1, n+2
				if tr[0] {
					lda = m + 3
				}
				if tr[1] {
					ldb = k + 1
				}
				a := make([]float32, max(m, k)*lda)
				b := make([]float32, max(n, k)*ldb)
				c := make([]float32, m*ldc)
				for i := range a {
					a[i] = float32(rng.IntN(9) - 4)
				}
				for i := range b {
					b[i] = float32(rng.IntN(9) - 4)
				}
				for i := range c {
					c[i] = float32(rng.IntN(9) - 4)
				}
				want := append([]float32(nil), c...)
				naiveGemm(tr[0], tr[1], m, n, k, ab[0], a, lda, b, ldb, ab[1], want, ldc)
				for _, kern := range availableKernels() {
					got := append([]float32(nil), c...)
					gemmWith(kern, 2, tr[0], tr[1], m, n, k, ab[0], a, lda, b, ldb, ab[1], got, ldc)
					for i := range got {
						if got[i] != want[i] {
							t.Fatalf("%dx%dx%d trans=%v alpha,beta=%v: c[%d]=%g want %g (kernel %s)", m, n, k, tr, ab, i, got[i], want[i], kern.name)
						}
					}
				}
			}
		}
	}
}

// TestGemmFloatBound checks random floats against the float64 reference
// within the float32 summation error bound k·ε·Σ|a||b|.
func TestGemmFloatBound(t *testing.T) {
	for _, sz := range gemmSizes {
		m, n, k := sz[0], sz[1], sz[2]
		a := randTensor(31, 1, m, k).Data
		b := randTensor(32, 1, k, n).Data
		want := make([]float32, m*n)
		naiveGemm(false, false, m, n, k, 1, a, k, b, n, 0, want, n)
		for _, kern := range availableKernels() {
			c := make([]float32, m*n)
			gemmWith(kern, 2, false, false, m, n, k, 1, a, k, b, n, 0, c, n)
			for i := 0; i < m; i++ {
				for j := 0; j < n; j++ {
					var absSum float64
					for p := 0; p < k; p++ {
						absSum += math.Abs(float64(a[i*k+p]) * float64(b[p*n+j]))
					}
					bound := float64(k+2) * 6e-8 * absSum
					if d := math.Abs(float64(c[i*n+j] - want[i*n+j])); d > bound {
						t.Fatalf("%v %s: c[%d,%d] off by %g > %g", sz, kern.name, i, j, d, bound)
					}
				}
			}
		}
	}
}

// TestGemmThreadInvariant: bit-identical results for 1, 2, 3 and 5 workers,
// and from GemmSerial (th 0 here).
func TestGemmThreadInvariant(t *testing.T) {
	for _, sz := range [][3]int{{129, 257, 65}, {300, 70, 600}, {8, 900, 300}} {
		m, n, k := sz[0], sz[1], sz[2]
		a := randTensor(33, 1, m, k).Data
		b := randTensor(34, 1, n, k).Data
		ref := make([]float32, m*n)
		gemm(1, false, true, m, n, k, 1, a, k, b, k, 0, ref, n)
		for _, th := range []int{2, 3, 5, 0} {
			c := make([]float32, m*n)
			if th == 0 {
				GemmSerial(false, true, m, n, k, 1, a, k, b, k, 0, c, n)
			} else {
				gemm(th, false, true, m, n, k, 1, a, k, b, k, 0, c, n)
			}
			for i := range c {
				if math.Float32bits(c[i]) != math.Float32bits(ref[i]) {
					t.Fatalf("%v: %d threads differ at %d", sz, th, i)
				}
			}
		}
	}
}

// TestGemmThreads: products under gemmParallelWork run on the caller's
// goroutine, larger ones on every core.
func TestGemmThreads(t *testing.T) {
	all := runtime.GOMAXPROCS(0)
	for _, c := range []struct {
		m, n, k, want int
	}{
		{4, 128, 64, 1}, {1, 213, 512, 1}, {784, 64, 64, 1}, {1, 1, 1, 1},
		{1024, 64, 64, all}, {16384, 24, 24, all}, {1 << 20, 1 << 20, 1 << 20, all},
	} {
		if got := gemmThreads(c.m, c.n, c.k); got != c.want {
			t.Errorf("%d×%d×%d: %d threads, want %d", c.m, c.n, c.k, got, c.want)
		}
	}
}

// BenchmarkGemmSmall times the products of a video frame's nets on one
// and two goroutines (the case for gemmParallelWork).
func BenchmarkGemmSmall(b *testing.B) {
	for _, s := range [][3]int{{4, 128, 64}, {64, 128, 64}, {256, 128, 64}, {784, 64, 64}, {4096, 24, 24}, {16384, 24, 24}} {
		for _, th := range []int{1, 2} {
			b.Run(fmt.Sprintf("%dx%dx%d/threads=%d", s[0], s[1], s[2], th), func(b *testing.B) {
				m, n, k := s[0], s[1], s[2]
				x := randTensor(35, 1, m, k).Data
				y := randTensor(36, 1, k, n).Data
				c := make([]float32, m*n)
				for i := 0; i < b.N; i++ {
					gemm(th, false, false, m, n, k, 1, x, k, y, n, 0, c, n)
				}
			})
		}
	}
}

func BenchmarkGemm(b *testing.B) {
	for _, s := range []int{256, 512, 1024} {
		b.Run(fmt.Sprintf("%d/threads=%d", s, runtime.GOMAXPROCS(0)), func(b *testing.B) {
			x := randTensor(35, 1, s, s).Data
			y := randTensor(36, 1, s, s).Data
			c := make([]float32, s*s)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				Gemm(false, false, s, s, s, 1, x, s, y, s, 0, c, s)
			}
			b.ReportMetric(2*float64(s*s*s)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// TestAsmKernelsBitIdentical: the assembly micro-kernels (AVX2, AVX-512,
// those the CPU has) give bit-identical products on random floats, edges,
// k blocks, transposes and accumulation included, so that GemmSerial may
// pick another kernel than Gemm without changing a result.
func TestAsmKernelsBitIdentical(t *testing.T) {
	var asm []microKernel
	for _, k := range availableKernels() {
		if k.name != goKernel.name {
			asm = append(asm, k)
		}
	}
	if len(asm) < 2 {
		t.Skipf("%d assembly kernels on this CPU", len(asm))
	}
	for _, sz := range append(gemmSizes, [3]int{2048, 32, 64}, [3]int{2, 213, 512}) {
		m, n, k := sz[0], sz[1], sz[2]
		for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}} {
			for _, beta := range []float32{0, 1} {
				a := randTensor(41, 1, m, k).Data
				b := randTensor(42, 1, k, n).Data
				c0 := randTensor(43, 1, m, n).Data
				lda, ldb := k, n
				if tr[0] {
					lda = m
				}
				if tr[1] {
					ldb = k
				}
				var ref []float32
				for _, kern := range asm {
					c := append([]float32(nil), c0...)
					gemmWith(kern, 1, tr[0], tr[1], m, n, k, 1, a, lda, b, ldb, beta, c, n)
					if ref == nil {
						ref = c
						continue
					}
					for i := range c {
						if math.Float32bits(c[i]) != math.Float32bits(ref[i]) {
							t.Fatalf("%v trans %v beta %v: %s gives %v at %d, %s %v", sz, tr, beta, kern.name, c[i], i, asm[0].name, ref[i])
						}
					}
				}
			}
		}
	}
}

// TestGemmPackedSerial: a product with B packed once gives GemmSerial's
// bits, over several column and k blocks, ragged edges and a row stride.
func TestGemmPackedSerial(t *testing.T) {
	for _, sz := range append(gemmSizes, [3]int{2048, 32, 64}, [3]int{2, 213, 512}, [3]int{7, 3100, 9}) {
		m, n, k := sz[0], sz[1], sz[2]
		lda, ldb, ldc := k+3, n+1, n+2
		a := randTensor(51, 1, m, lda).Data
		b := randTensor(52, 1, k, ldb).Data
		want := randTensor(53, 1, m, ldc).Data
		got := append([]float32(nil), want...)
		GemmSerial(false, false, m, n, k, 1, a, lda, b, ldb, 0, want, ldc)
		pb := PackB(k, n, b, ldb)
		if pk, pn := pb.Dims(); pk != k || pn != n {
			t.Fatalf("Dims %d×%d, want %d×%d", pk, pn, k, n)
		}
		GemmPackedSerial(m, a, lda, pb, got, ldc)
		for i := range got {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Fatalf("%v: element %d: %v, GemmSerial %v", sz, i, got[i], want[i])
			}
		}
	}
}

// TestGemmSerialNoAllocs: a product on the caller alone allocates nothing
// once the pool is warm (tfjs runs ~150 of them a video frame).
func TestGemmSerialNoAllocs(t *testing.T) {
	a := randTensor(61, 1, 40, 50).Data
	b := randTensor(62, 1, 50, 70).Data
	c := make([]float32, 40*70)
	pb := PackB(50, 70, b, 70)
	for _, tc := range []struct {
		name string
		f    func()
	}{
		{"GemmPackedSerial", func() { GemmPackedSerial(40, a, 50, pb, c, 70) }},
		{"GemmSerial", func() { GemmSerial(false, false, 40, 70, 50, 1, a, 50, b, 70, 0, c, 70) }},
	} {
		tc.f()
		if n := testing.AllocsPerRun(10, tc.f); n != 0 {
			t.Errorf("%s: %v allocations a call, want 0", tc.name, n)
		}
	}
}

// stepGemmShapes are the training step's products (reference model: 1600
// rows = 32 × 50 tokens, width 128, MLP 512): forward x·Wᵀ, backward dy·W
// and dyᵀ·x, and one head's attention product.
var stepGemmShapes = []struct {
	name           string
	transA, transB bool
	m, n, k        int
}{
	{"fwd-qkv", false, true, 1600, 384, 128},
	{"fwd-qkv-nn", false, false, 1600, 384, 128},
	{"fwd-qkv-tt", true, true, 1600, 384, 128},
	{"fwd-fc2", false, true, 1600, 128, 512},
	{"dx-qkv", false, false, 1600, 128, 384},
	{"dx-fc1", false, false, 1600, 128, 512},
	{"dW-qkv", true, false, 384, 128, 1600},
	{"dW-fc2", true, false, 128, 512, 1600},
	{"head-qk", false, true, 50, 50, 32},
	{"head-pv", false, false, 50, 32, 50},
	{"head-dk", true, false, 50, 32, 50},
}

// BenchmarkGemmStep times the training step's product shapes on every
// kernel the CPU has, on one and on GOMAXPROCS goroutines.
func BenchmarkGemmStep(b *testing.B) {
	for _, s := range stepGemmShapes {
		for _, kern := range availableKernels() {
			for _, th := range []int{1, runtime.GOMAXPROCS(0)} {
				if th > 1 && s.m*s.n*s.k < gemmParallelWork {
					continue
				}
				b.Run(fmt.Sprintf("%s/%s/threads=%d", s.name, kern.name, th), func(b *testing.B) {
					lda, ldb := s.k, s.n
					if s.transA {
						lda = s.m
					}
					if s.transB {
						ldb = s.k
					}
					x := randTensor(35, 1, s.m, s.k).Data
					y := randTensor(36, 1, s.k, s.n).Data
					c := make([]float32, s.m*s.n)
					for i := 0; i < b.N; i++ {
						gemmWith(kern, th, s.transA, s.transB, s.m, s.n, s.k, 1, x, lda, y, ldb, 0, c, s.n)
					}
					b.ReportMetric(2*float64(s.m*s.n*s.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				})
			}
		}
	}
}

// TestGemmBias: the bias folded into the kernels' first k block gives the
// bits of filling C with the bias and accumulating (Linear's old way), on
// every kernel, edges, k blocks and thread counts included.
func TestGemmBias(t *testing.T) {
	for _, sz := range append(gemmSizes, [3]int{1600, 384, 128}, [3]int{50, 128, 512}, [3]int{13, 70, 0}) {
		m, n, k := sz[0], sz[1], sz[2]
		for _, tr := range [][2]bool{{false, false}, {false, true}, {true, false}} {
			lda, ldb, ldc := k+1, n+2, n+3
			if tr[0] {
				lda = m + 1
			}
			if tr[1] {
				ldb = k + 2
			}
			a := randTensor(71, 1, max(m, k), lda).Data
			b := randTensor(72, 1, max(n, k), ldb).Data
			bias := randTensor(73, 1, n).Data
			for _, kern := range availableKernels() {
				for _, th := range []int{1, 2} {
					want := randTensor(74, 1, m, ldc).Data
					got := append([]float32(nil), want...)
					for i := 0; i < m; i++ {
						copy(want[i*ldc:i*ldc+n], bias)
					}
					gemmWith(kern, th, tr[0], tr[1], m, n, k, 1, a, lda, b, ldb, 1, want, ldc)
					gemmRun(kern, th, tr[0], tr[1], m, n, k, 1, a, lda, b, ldb, 0, got, ldc, bias)
					for i := range got {
						if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
							t.Fatalf("%v trans %v %s threads %d: element %d: %v, want %v", sz, tr, kern.name, th, i, got[i], want[i])
						}
					}
				}
			}
		}
	}
}

// TestCopyRows: the packing copy moves exactly rows×w floats between
// strided rows, every width up to 40, and nothing else.
func TestCopyRows(t *testing.T) {
	src := randTensor(75, 1, 9, 50).Data
	for w := 1; w <= 40; w++ {
		dst := make([]float32, 7*45+5)
		copyRows(dst, 45, src, 50, 7, w)
		for i, v := range dst {
			r, q := i/45, i%45
			want := float32(0)
			if r < 7 && q < w {
				want = src[r*50+q]
			}
			if v != want {
				t.Fatalf("w %d: dst[%d] = %v, want %v", w, i, v, want)
			}
		}
	}
}

// TestPackBTransposed: the packed panel of a transposed B (8×8 blocks in
// assembly, the rest in Go) holds B[j+q][pc+p] at p·nr+q and zeros beyond
// nw, for ragged sizes on both sides of each block.
func TestPackBTransposed(t *testing.T) {
	const ldb = 45
	b := randTensor(76, 1, 40, ldb).Data
	for _, nr := range []int{8, 16, 32} {
		for kc := 1; kc <= 20; kc++ {
			for nw := 1; nw <= nr; nw++ {
				dst := make([]float32, kc*nr)
				for i := range dst {
					dst[i] = -1
				}
				packB(dst, b, ldb, true, 3, kc, 5, nw, nr)
				for p := 0; p < kc; p++ {
					for q := 0; q < nr; q++ {
						want := float32(0)
						if q < nw {
							want = b[(5+q)*ldb+3+p]
						}
						if got := dst[p*nr+q]; got != want {
							t.Fatalf("nr %d kc %d nw %d: [%d][%d] = %v, want %v", nr, kc, nw, p, q, got, want)
						}
					}
				}
			}
		}
	}
}

// TestGemmPair: two products on one set of workers give each product's
// Gemm bits (a Linear layer's dx and dW), empty ones included.
func TestGemmPair(t *testing.T) {
	for _, sz := range [][3]int{{1600, 128, 384}, {50, 70, 13}, {0, 5, 5}, {7, 9, 0}} {
		m, n, k := sz[0], sz[1], sz[2]
		a := randTensor(81, 1, max(m, k), max(m, k)+1).Data
		b := randTensor(82, 1, max(n, k), max(n, k)+1).Data
		c0 := randTensor(83, 1, max(m, n), max(m, n)+1).Data
		p := gemmOp{m: m, n: n, k: k, a: a, lda: k + 1, b: b, ldb: n + 1, c: append([]float32(nil), c0...), ldc: n + 1}
		q := gemmOp{transA: true, m: n, n: m, k: k, a: b, lda: n + 1, b: a, ldb: k + 1, beta: 1, c: append([]float32(nil), c0...), ldc: m + 2}
		q.transB = true
		wp, wq := append([]float32(nil), c0...), append([]float32(nil), c0...)
		Gemm(p.transA, p.transB, p.m, p.n, p.k, 1, p.a, p.lda, p.b, p.ldb, p.beta, wp, p.ldc)
		Gemm(q.transA, q.transB, q.m, q.n, q.k, 1, q.a, q.lda, q.b, q.ldb, q.beta, wq, q.ldc)
		gemmPair(p, q)
		for i := range wp {
			if math.Float32bits(p.c[i]) != math.Float32bits(wp[i]) || math.Float32bits(q.c[i]) != math.Float32bits(wq[i]) {
				t.Fatalf("%v: element %d: %v %v, want %v %v", sz, i, p.c[i], q.c[i], wp[i], wq[i])
			}
		}
	}
}
