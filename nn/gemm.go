package nn

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// Gemm computes C = alpha*op(A)*op(B) + beta*C for row-major matrices, where
// op(A) is m×k (A is m×k, or k×m when transA), op(B) is k×n (B is k×n, or n×k
// when transB) and C is m×n; lda, ldb, ldc are the row strides.
//
// It blocks for the caches, packs B into k-major panels (A too where it is
// scaled or at a ragged edge; otherwise the micro-kernel reads A in place
// through row and k strides) and runs a SIMD micro-kernel (AVX2/FMA in
// assembly when the CPU has it, portable Go otherwise) on GOMAXPROCS
// goroutines (products under gemmParallelWork multiply–adds run on the
// caller's). Every element of C is reduced in the
// same order whatever the number of threads, so results are bit-identical
// for any GOMAXPROCS.
func Gemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	gemm(gemmThreads(m, n, k), transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// gemmParallelWork is the smallest product (m·n·k multiply–adds, about
// 100 µs on one core) that Gemm splits over goroutines. Starting and
// waking a helper costs several µs of CPU and, when the caller is locked
// to its thread (tell analyze --profile), a thread handoff; the nets of a
// video frame (BlazeFace, iris, appearance) make ~150 products a frame,
// most of 30k–3M, where two threads cost more CPU than one and gain
// little time (nn's BenchmarkGemmSmall).
const gemmParallelWork = 1 << 22

// gemmThreads is the number of goroutines Gemm uses for an m×n×k product.
func gemmThreads(m, n, k int) int {
	if int64(m)*int64(n)*int64(k) < gemmParallelWork {
		return 1
	}
	return runtime.GOMAXPROCS(0)
}

// GemmSerial is Gemm on the calling goroutine alone, with the same
// results: for callers whose products are too small to gain from other
// cores (tfjs's networks on 64×64 eye crops: the hand-offs cost more than
// the second core gives) or that already keep every core busy.
// Its micro-kernel may differ from Gemm's (AVX-512 on Intel CPUs, see
// selectSerialKernel), never its results.
func GemmSerial(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	gemmWith(serialKernel, 1, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// PackedB is a constant k×n matrix packed once (a network's filter, at
// load time) in the panels GemmSerial's micro-kernel reads, so that
// GemmPackedSerial need not pack it again on every call.
type PackedB struct {
	k, n int
	kern microKernel
	buf  []float32 // panel p (columns p·nr…) over all of k at p·k·nr
}

// PackB packs the k×n row-major matrix b (row stride ldb) for
// GemmPackedSerial.
func PackB(k, n int, b []float32, ldb int) *PackedB {
	kern := serialKernel
	nr := kern.nr
	npan := (n + nr - 1) / nr
	pb := &PackedB{k: k, n: n, kern: kern, buf: make([]float32, npan*k*nr)}
	packPanels(pb.buf, b, ldb, false, k, n, nr, 0, npan)
	return pb
}

// Dims returns the packed matrix's rows and columns.
func (pb *PackedB) Dims() (k, n int) { return pb.k, pb.n }

// GemmPackedSerial computes c (m×n, row stride ldc) = a (m×k, row stride
// lda) · B on the calling goroutine, with the values
// GemmSerial(false, false, m, n, k, 1, a, lda, b, ldb, 0, c, ldc) gives for
// the b that was packed: the same blocks through the same micro-kernel.
func GemmPackedSerial(m int, a []float32, lda int, pb *PackedB, c []float32, ldc int) {
	if m <= 0 || pb.n <= 0 {
		return
	}
	if pb.k <= 0 {
		for i := 0; i < m; i++ {
			clear(c[i*ldc : i*ldc+pb.n])
		}
		return
	}
	g := gemmJob{kern: pb.kern, m: m, n: pb.n, k: pb.k, alpha: 1, a: a, lda: lda, c: c, ldc: ldc,
		npan: (pb.n + pb.kern.nr - 1) / pb.kern.nr, packed: pb.buf}
	var pa *[]float32
	if mr := pb.kern.mr; m%mr != 0 {
		pa = getFloats(pb.k * mr)
		g.lastA = *pa
		g.pack(0, 0)
	}
	g.plan(1)
	var next atomic.Int64
	g.tasks(&next)
	if pa != nil {
		putFloats(pa)
	}
}

// gemmSerial is Gemm on the calling goroutine, for use inside parallel loops.
func gemmSerial(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	gemm(1, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// Cache blocking: a kc×nr panel of B stays in L1, an mc×kc block of A in
// L2. gemmKC also fixes the summation order: each element of C is the sum
// of its k-blocks' sums, in order, each block's a chain of fused
// multiply–adds from zero; every path here keeps that order.
const (
	gemmKC = 256
	gemmMC = 120
)

// microKernel computes the mr×nr tile c (row stride ldc) = or += the product
// of an A panel (k steps of mr values) and a B panel (k rows of nr values,
// row stride ldb: nr when packed, B's own stride when read in place).
type microKernel struct {
	name   string
	mr, nr int
	// a holds row r at step p at a[r*rs+p*ks]: packed panels have rs=1,
	// ks=mr; rows read in place from a row-major A have rs=lda, ks=1.
	// A non-nil bias (nr values; accumulate false) is added to every row
	// of the sums before the store.
	fn func(k int, a []float32, rs, ks int, b []float32, ldb int, c []float32, ldc int, accumulate bool, bias []float32)
	// edge, where the kernel has it, is fn for a tile of all mr rows but
	// only nw < nr columns, written in place (masked stores) with fn's
	// sums; without it such tiles go through a scratch tile.
	edge func(k int, a []float32, rs, ks int, b []float32, ldb int, c []float32, ldc int, accumulate bool, bias []float32, nw int)
}

var gemmPool = sync.Pool{New: func() any { return new(gemmBuf) }}

type gemmBuf struct{ tile []float32 }

func gemm(threads int, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	gemmWith(activeKernel, threads, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// gemmJob is one product as its tasks see it.
type gemmJob struct {
	kern           microKernel
	transA         bool
	m, n, k        int
	alpha, beta    float32
	a              []float32
	lda            int
	b              []float32 // B in place (not transposed): full panels read from here
	ldb            int
	c              []float32
	ldc            int
	npan           int
	packed         []float32 // packed panels over all of k (panel p at p·k·nr); nil: B in place
	last           []float32 // B in place: the ragged last panel, packed
	packedA        []float32 // A's panels of mr rows over all of k (panel i at i·k·mr); nil: A in place
	lastA          []float32 // A in place: the ragged last panel, packed
	bias           []float32 // added to every row of C with the first k block; nil: none
	mcb, split, nt int
}

// plan splits the rows into blocks of at most gemmMC (a multiple of mr)
// and, with several threads, the column panels further until there are
// about four tasks per thread.
func (g *gemmJob) plan(threads int) {
	mr := g.kern.mr
	nmb := (g.m + gemmMC - 1) / gemmMC
	g.mcb = roundUp((g.m+nmb-1)/nmb, mr)
	nmb = (g.m + g.mcb - 1) / g.mcb
	g.split = 1
	if threads > 1 && nmb < 4*threads {
		g.split = min((4*threads+nmb-1)/nmb, g.npan)
	}
	g.nt = nmb * g.split
}

// gemmWith is gemm with an explicit micro-kernel (tests run every kernel
// the CPU supports).
func gemmWith(kern microKernel, threads int, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	gemmRun(kern, threads, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, nil)
}

// gemmBias computes C = op(A)·op(B) + bias, bias (length n) added to every
// row: the bits of filling C's rows with bias and calling Gemm with beta 1,
// without that pass over C (the kernel adds bias to its first k block's
// sums before the store).
func gemmBias(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, bias, c []float32, ldc int) {
	gemmRun(activeKernel, gemmThreads(m, n, k), transA, transB, m, n, k, 1, a, lda, b, ldb, 0, c, ldc, bias[:n])
}

// gemmRun is gemmWith with an optional bias row (beta must then be 0).
func gemmRun(kern microKernel, threads int, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int, bias []float32) {
	g, pa, pb, ok := gemmPrepare(kern, threads, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, bias)
	if !ok {
		return
	}
	if workers := min(threads, g.nt); workers <= 1 {
		// On the caller alone, nothing captured: no closure or counter
		// escapes, so GemmSerial's calls allocate nothing.
		var next atomic.Int64
		g.tasks(&next)
	} else {
		g.parallel(workers)
	}
	releaseFloats(pa, pb)
}

// gemmOp is one product C = op(A)·op(B) + beta·C for gemmPair.
type gemmOp struct {
	transA, transB bool
	m, n, k        int
	a              []float32
	lda            int
	b              []float32
	ldb            int
	beta           float32
	c              []float32
	ldc            int
}

// gemmPair runs two independent products (disjoint C's; neither reads the
// other's C) on one set of workers, as Gemm runs each: a worker done with
// the first product's tasks goes on to the second's, so the pair costs one
// hand-off and one wait instead of two (a Linear layer's backward: dx and
// dW). Each product's bits are Gemm's.
func gemmPair(p, q gemmOp) {
	threads := max(gemmThreads(p.m, p.n, p.k), gemmThreads(q.m, q.n, q.k))
	g1, pa1, pb1, ok1 := gemmPrepare(activeKernel, threads, p.transA, p.transB, p.m, p.n, p.k, 1, p.a, p.lda, p.b, p.ldb, p.beta, p.c, p.ldc, nil)
	g2, pa2, pb2, ok2 := gemmPrepare(activeKernel, threads, q.transA, q.transB, q.m, q.n, q.k, 1, q.a, q.lda, q.b, q.ldb, q.beta, q.c, q.ldc, nil)
	if !ok1 {
		g1.nt = 0
	}
	if !ok2 {
		g2.nt = 0
	}
	n1, n2 := new(atomic.Int64), new(atomic.Int64)
	work := func() {
		if g1.nt > 0 {
			g1.tasks(n1)
		}
		if g2.nt > 0 {
			g2.tasks(n2)
		}
	}
	if workers := min(threads, g1.nt+g2.nt); workers <= 1 {
		work()
	} else {
		runWorkers(workers, work)
	}
	releaseFloats(pa1, pb1)
	releaseFloats(pa2, pb2)
}

// releaseFloats returns gemmPrepare's buffers to the pool.
func releaseFloats(pa, pb *[]float32) {
	if pa != nil {
		putFloats(pa)
	}
	if pb != nil {
		putFloats(pb)
	}
}

// gemmPrepare does a product's work before its tasks: C scaled by beta
// (or cleared, or filled with bias for an empty product), the packing of
// its operands, the task plan. ok is false when nothing is left to do.
func gemmPrepare(kern microKernel, threads int, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int, bias []float32) (g gemmJob, pa, pb *[]float32, ok bool) {
	if m <= 0 || n <= 0 {
		return g, nil, nil, false
	}
	if bias != nil && (k <= 0 || alpha == 0) {
		for i := 0; i < m; i++ {
			copy(c[i*ldc:i*ldc+n], bias)
		}
		return g, nil, nil, false
	}
	// beta = 0 needs no pass over C: the first k block stores instead of
	// accumulating. Only an empty product must clear C explicitly.
	empty := k <= 0 || alpha == 0
	if beta != 1 && (beta != 0 || empty) {
		for i := 0; i < m; i++ {
			row := c[i*ldc : i*ldc+n]
			if beta == 0 {
				clear(row)
			} else {
				for j := range row {
					row[j] *= beta
				}
			}
		}
	}
	if empty {
		return g, nil, nil, false
	}
	mr, nr := kern.mr, kern.nr
	g = gemmJob{kern: kern, transA: transA, m: m, n: n, k: k, alpha: alpha, beta: beta,
		a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc, npan: (n + nr - 1) / nr, bias: bias}
	// A is read in place, transposed or not (the kernel takes row and k
	// strides; packing a transposed A cost more than it saved: ~6% of the
	// training step), all but a ragged last panel; a scaled A is packed
	// whole. A row-major B is read in place, all but a ragged last panel;
	// a transposed B is packed whole. Whole-matrix packing happens once
	// per product (each panel by one worker), in panels over all of k.
	npa := (m + mr - 1) / mr
	packAll := alpha != 1
	if packAll {
		pa = getFloats(npa * k * mr)
		g.packedA = *pa
	} else if m%mr != 0 {
		pa = getFloats(k * mr)
		g.lastA = *pa
	}
	if transB {
		pb = getFloats(g.npan * k * nr)
		g.packed = *pb
	} else if n%nr != 0 {
		pb = getFloats(k * nr)
		g.last = *pb
	}
	items := 0
	if packAll {
		items += npa
	}
	if transB {
		items += g.npan
	}
	if threads == 1 || items < 2 {
		g.pack(0, items)
	} else {
		g.packParallel(threads, items)
	}
	g.plan(threads)
	return g, pa, pb, true
}

// packParallel runs pack over items on threads goroutines (a copy of g:
// packing writes only the buffers g points to).
func (g gemmJob) packParallel(threads, items int) {
	parallelForN(threads, items, g.k*g.kern.nr, func(lo, hi int) { g.pack(lo, hi) })
}

// pack packs the whole-matrix panels [lo, hi) (A's first when A is packed
// whole, then B's when B is transposed) and, for item 0, the ragged last
// panels of operands read in place.
func (g *gemmJob) pack(lo, hi int) {
	mr, nr, m, n, k := g.kern.mr, g.kern.nr, g.m, g.n, g.k
	npa := 0
	if g.packedA != nil {
		npa = (m + mr - 1) / mr
	}
	for i := lo; i < hi; i++ {
		if i < npa {
			packA(g.packedA[i*k*mr:(i+1)*k*mr], g.a, g.lda, g.transA, i*mr, min(mr, m-i*mr), 0, k, mr, g.alpha)
			continue
		}
		p := i - npa
		packB(g.packed[p*k*nr:(p+1)*k*nr], g.b, g.ldb, true, 0, k, p*nr, min(nr, n-p*nr), nr)
	}
	if lo == 0 {
		if g.lastA != nil {
			r := m % mr
			packA(g.lastA, g.a, g.lda, g.transA, m-r, r, 0, k, mr, 1)
		}
		if g.last != nil {
			packB(g.last, g.b, g.ldb, false, 0, k, n-n%nr, n%nr, nr)
		}
	}
}

// parallel runs the job's tasks on workers goroutines, the caller's
// included: one hand-off per product.
func (g gemmJob) parallel(workers int) {
	next := new(atomic.Int64)
	runWorkers(workers, func() { g.tasks(next) })
}

// packPanels packs panels [lo, hi) of op(B) (k×n) over all of k, panel p
// at dst[p·k·nr:].
func packPanels(dst, b []float32, ldb int, trans bool, k, n, nr, lo, hi int) {
	for p := lo; p < hi; p++ {
		j := p * nr
		packB(dst[p*k*nr:(p+1)*k*nr], b, ldb, trans, 0, k, j, min(nr, n-j), nr)
	}
}

// tasks runs the job's tasks (task t: row block t/split, column range
// t%split, every k block in order) as the shared counter next hands them
// out, until none are left. Each element of C is written by one task, its
// k blocks summed in order: the result is the same whatever the split.
func (g *gemmJob) tasks(next *atomic.Int64) {
	kern := g.kern
	mr, nr := kern.mr, kern.nr
	buf := gemmPool.Get().(*gemmBuf)
	if cap(buf.tile) < mr*nr {
		buf.tile = make([]float32, mr*nr)
	}
	m, n, k, ldc := g.m, g.n, g.k, g.ldc
	for {
		t := int(next.Add(1)) - 1
		if t >= g.nt {
			break
		}
		ib, s := t/g.split, t%g.split
		ic := ib * g.mcb
		mc := min(g.mcb, m-ic)
		p0, p1 := s*g.npan/g.split, (s+1)*g.npan/g.split
		for pc := 0; pc < k; pc += gemmKC {
			kc := min(gemmKC, k-pc)
			acc := g.beta != 0 || pc > 0
			for p := p0; p < p1; p++ {
				j := p * nr
				nw := min(nr, n-j)
				var bias []float32
				if g.bias != nil && pc == 0 {
					bias = g.bias[j : j+nw]
				}
				var bp []float32
				bs := nr
				switch {
				case g.packed != nil:
					bp = g.packed[p*k*nr+pc*nr : p*k*nr+(pc+kc)*nr]
				case nw < nr:
					bp = g.last[pc*nr : (pc+kc)*nr]
				default:
					bp = g.b[pc*g.ldb+j:]
					bs = g.ldb
				}
				for ir := 0; ir < mc; ir += mr {
					mw := min(mr, mc-ir)
					var ap []float32
					rs, ks := 1, mr
					switch i := (ic + ir) / mr; {
					case g.packedA != nil:
						ap = g.packedA[i*k*mr+pc*mr : i*k*mr+(pc+kc)*mr]
					case mw < mr:
						ap = g.lastA[pc*mr : (pc+kc)*mr]
					case g.transA:
						ap = g.a[pc*g.lda+ic+ir:]
						rs, ks = 1, g.lda
					default:
						ap = g.a[(ic+ir)*g.lda+pc:]
						rs, ks = g.lda, 1
					}
					off := (ic+ir)*ldc + j
					if mw == mr && nw == nr {
						kern.fn(kc, ap, rs, ks, bp, bs, g.c[off:], ldc, acc, bias)
						continue
					}
					if mw == mr && kern.edge != nil {
						kern.edge(kc, ap, rs, ks, bp, bs, g.c[off:], ldc, acc, bias, nw)
						continue
					}
					tile := buf.tile[:mr*nr]
					kern.fn(kc, ap, rs, ks, bp, bs, tile, nr, false, nil)
					for r := 0; r < mw; r++ {
						dst := g.c[off+r*ldc : off+r*ldc+nw]
						src := tile[r*nr : r*nr+nw]
						switch {
						case acc:
							for q := range dst {
								dst[q] += src[q]
							}
						case bias != nil:
							for q := range dst {
								dst[q] = src[q] + bias[q]
							}
						default:
							copy(dst, src)
						}
					}
				}
			}
		}
	}
	gemmPool.Put(buf)
}

// packA copies the mc×kc block of alpha*op(A) at (ic, pc) into panels of mr
// rows, k-major, zero-padding the last panel.
func packA(dst, a []float32, lda int, trans bool, ic, mc, pc, kc, mr int, alpha float32) {
	for ir := 0; ir < mc; ir += mr {
		mw := min(mr, mc-ir)
		d := dst[ir*kc : ir*kc+mr*kc]
		if trans && alpha == 1 {
			// op(A)[i][p] = A[p][i]: rows of A are contiguous over i,
			// copied mw floats a k step.
			if mw < mr {
				clear(d)
			}
			copyRows(d, mr, a[pc*lda+ic+ir:], lda, kc, mw)
			continue
		}
		if trans {
			for p := 0; p < kc; p++ {
				src := a[(pc+p)*lda+ic+ir:]
				dd := d[p*mr : p*mr+mr]
				for r := 0; r < mw; r++ {
					dd[r] = alpha * src[r]
				}
				for r := mw; r < mr; r++ {
					dd[r] = 0
				}
			}
			continue
		}
		if mw == mr && mr == 6 && alpha == 1 {
			base := (ic + ir) * lda
			r0 := a[base+pc : base+pc+kc]
			r1 := a[base+lda+pc : base+lda+pc+kc]
			r2 := a[base+2*lda+pc : base+2*lda+pc+kc]
			r3 := a[base+3*lda+pc : base+3*lda+pc+kc]
			r4 := a[base+4*lda+pc : base+4*lda+pc+kc]
			r5 := a[base+5*lda+pc : base+5*lda+pc+kc]
			for p := range r0 {
				dd := d[p*6 : p*6+6 : p*6+6]
				dd[0], dd[1], dd[2], dd[3], dd[4], dd[5] = r0[p], r1[p], r2[p], r3[p], r4[p], r5[p]
			}
			continue
		}
		if mw < mr {
			clear(d)
		}
		for r := 0; r < mw; r++ {
			src := a[(ic+ir+r)*lda+pc : (ic+ir+r)*lda+pc+kc]
			if alpha == 1 {
				for p, v := range src {
					d[p*mr+r] = v
				}
				continue
			}
			for p, v := range src {
				d[p*mr+r] = alpha * v
			}
		}
	}
}

// packB copies the kc×nw slice of op(B) at (pc, j) into one nr-wide panel,
// k-major, zero-padding columns beyond nw.
func packB(dst, b []float32, ldb int, trans bool, pc, kc, j, nw, nr int) {
	if !trans {
		if nw < nr {
			clear(dst[:kc*nr])
		}
		copyRows(dst, nr, b[pc*ldb+j:], ldb, kc, nw)
		return
	}
	// op(B)[p][q] = B[q][p]: rows of B are contiguous over p. 8×8 blocks
	// in assembly where the CPU allows, the ragged rest here.
	if nw < nr {
		clear(dst[:kc*nr])
	}
	p8, q8 := packTrans8(dst, nr, b[j*ldb+pc:], ldb, kc, nw)
	for q := 0; q < nw; q++ {
		p0 := p8
		if q >= q8 {
			p0 = 0
		}
		src := b[(j+q)*ldb+pc : (j+q)*ldb+pc+kc]
		for p := p0; p < kc; p++ {
			dst[p*nr+q] = src[p]
		}
	}
}

// copyRowsGo is copyRows in Go.
func copyRowsGo(dst []float32, ldd int, src []float32, lds, rows, w int) {
	for r := 0; r < rows; r++ {
		copy(dst[r*ldd:r*ldd+w], src[r*lds:r*lds+w])
	}
}

func roundUp(x, m int) int { return (x + m - 1) / m * m }

var floatPool sync.Pool

func getFloats(n int) *[]float32 {
	if v, ok := floatPool.Get().(*[]float32); ok && cap(*v) >= n {
		*v = (*v)[:n]
		return v
	}
	s := make([]float32, n)
	return &s
}

func putFloats(s *[]float32) { floatPool.Put(s) }

// parallelForN is parallelFor with an explicit worker count.
func parallelForN(threads, n, work int, fn func(lo, hi int)) {
	if threads > n {
		threads = n
	}
	if threads <= 1 || n*work < 32768 {
		if n > 0 {
			fn(0, n)
		}
		return
	}
	next := new(atomic.Int64)
	runWorkers(threads, func() {
		t := int(next.Add(1)) - 1
		fn(t*n/threads, (t+1)*n/threads)
	})
}

// kernelGo is the portable micro-kernel: a 4×8 tile with the same packed
// layout as the assembly kernels.
func kernelGo(k int, a []float32, rs, ks int, b []float32, ldb int, c []float32, ldc int, accumulate bool, bias []float32) {
	var acc [4][8]float32
	_ = a[3*rs+(k-1)*ks]
	_ = b[(k-1)*ldb+7]
	for p := 0; p < k; p++ {
		bp := b[p*ldb : p*ldb+8 : p*ldb+8]
		for r := 0; r < 4; r++ {
			av := a[r*rs+p*ks]
			row := &acc[r]
			row[0] += av * bp[0]
			row[1] += av * bp[1]
			row[2] += av * bp[2]
			row[3] += av * bp[3]
			row[4] += av * bp[4]
			row[5] += av * bp[5]
			row[6] += av * bp[6]
			row[7] += av * bp[7]
		}
	}
	for r := 0; r < 4; r++ {
		dst := c[r*ldc : r*ldc+8]
		switch {
		case accumulate:
			for q := range dst {
				dst[q] += acc[r][q]
			}
		case bias != nil:
			for q := range dst {
				dst[q] = acc[r][q] + bias[q]
			}
		default:
			copy(dst, acc[r][:])
		}
	}
}

var goKernel = microKernel{name: "go", mr: 4, nr: 8, fn: kernelGo}
