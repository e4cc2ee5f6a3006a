//go:build amd64 && !purego

package nn

import (
	"os"

	"golang.org/x/sys/cpu"
)

// sgemm6x16 is the AVX2/FMA micro-kernel (kernel_amd64.s): a 6×16 tile in
// twelve YMM accumulators; c[r][q] = or += Σ_p a[r·rs+p·ks]·b[p·ldb+q].
//
//go:noescape
func sgemm6x16(k int, a *float32, rs, ks int, b, c *float32, ldc int, accumulate bool, ldb int, bias *float32)

func kernelAVX2(k int, a []float32, rs, ks int, b []float32, ldb int, c []float32, ldc int, accumulate bool, bias []float32) {
	_ = a[5*rs+(k-1)*ks]
	_ = b[(k-1)*ldb+15]
	_ = c[5*ldc+15]
	var bp *float32
	if bias != nil {
		bp = &bias[:16][0]
	}
	sgemm6x16(k, &a[0], rs, ks, &b[0], &c[0], ldc, accumulate, ldb, bp)
}

var avx2Kernel = microKernel{name: "avx2", mr: 6, nr: 16, fn: kernelAVX2}

// sgemm12x32 is the AVX-512 micro-kernel (kernel512_amd64.s): a 12×32 tile
// in 24 ZMM accumulators, each A value broadcast once into a register for
// its two FMAs. On the Zen 4 machine this project first measured on,
// 512-bit FMAs issue as two 256-bit halves and the kernel ran about 20%
// slower than the AVX2 one; on Intel CPUs with two 512-bit FMA units (the
// Sapphire Rapids it is measured on now) it is ~1.5× faster per core, so
// Gemm uses it there (selectKernel).
//
//go:noescape
func sgemm12x32(k int, a *float32, rs, ks int, b, c *float32, ldc int, accumulate bool, ldb int, bias *float32)

func kernelAVX512(k int, a []float32, rs, ks int, b []float32, ldb int, c []float32, ldc int, accumulate bool, bias []float32) {
	_ = a[11*rs+(k-1)*ks]
	_ = b[(k-1)*ldb+31]
	_ = c[11*ldc+31]
	var bp *float32
	if bias != nil {
		bp = &bias[:32][0]
	}
	sgemm12x32(k, &a[0], rs, ks, &b[0], &c[0], ldc, accumulate, ldb, bp)
}

// sgemm12x32m is sgemm12x32 storing only the columns whose mask bit is
// set (kernel512_amd64.s).
//
//go:noescape
func sgemm12x32m(k int, a *float32, rs, ks int, b, c *float32, ldc int, accumulate bool, mask uint32, ldb int, bias *float32)

// kernelAVX512Edge is kernelAVX512 for a full-height tile of nw < 32
// columns, written straight into c.
func kernelAVX512Edge(k int, a []float32, rs, ks int, b []float32, ldb int, c []float32, ldc int, accumulate bool, bias []float32, nw int) {
	_ = a[11*rs+(k-1)*ks]
	_ = b[(k-1)*ldb+31]
	_ = c[11*ldc+nw-1]
	var bp *float32
	if bias != nil {
		bp = &bias[:nw][0]
	}
	sgemm12x32m(k, &a[0], rs, ks, &b[0], &c[0], ldc, accumulate, uint32(1)<<nw-1, ldb, bp)
}

var avx512Kernel = microKernel{name: "avx512", mr: 12, nr: 32, fn: kernelAVX512, edge: kernelAVX512Edge}

// asmAVX2 is read once at start-up, like activeKernel.
var asmAVX2 = cpu.X86.HasAVX2 && cpu.X86.HasFMA && os.Getenv("TELL_NN_NOASM") == ""

// AsmAVX2 reports whether AVX2+FMA assembly may run: the CPU has both and
// TELL_NN_NOASM is unset. Packages with kernels of their own (tfjs) ask
// here, so that one switch and one detection govern all of them.
func AsmAVX2() bool { return asmAVX2 }

// selectKernel picks the assembly kernel when the CPU supports AVX2 and FMA
// and TELL_NN_NOASM is unset: the AVX-512 one on Intel CPUs that have it
// (or anywhere with TELL_NN_AVX512=1), unless TELL_NN_AVX2=1. Every
// kernel gives the same bits (TestAsmKernelsBitIdentical).
func selectKernel() microKernel {
	if os.Getenv("TELL_NN_NOASM") != "" {
		return goKernel
	}
	if asmAVX2 && cpu.X86.HasAVX512F && os.Getenv("TELL_NN_AVX2") == "" && (os.Getenv("TELL_NN_AVX512") != "" || intelCPU()) {
		return avx512Kernel
	}
	if asmAVX2 {
		return avx2Kernel
	}
	return goKernel
}

// cpuVendor returns CPUID leaf 0's vendor words (cpuid_amd64.s).
func cpuVendor() (ebx, ecx, edx uint32)

// intelCPU reports whether the vendor is GenuineIntel.
func intelCPU() bool {
	b, c, d := cpuVendor()
	return b == 0x756e6547 && d == 0x49656e69 && c == 0x6c65746e // "Genu" "ineI" "ntel"
}

// selectSerialKernel picks GemmSerial's micro-kernel: the AVX-512 one on
// Intel CPUs that have it even where Gemm runs AVX2 (TELL_NN_AVX2=1). On this project's Xeon
// (two 512-bit FMA units) tfjs's networks, whose products go through
// GemmSerial, ran 10–18% faster on it (iris 3.38 → 2.78 ms, BlazeFace
// 8.6 → 7.6 ms, thread CPU), while the multi-threaded training step was
// not faster; Zen 4 issues 512-bit FMAs as two halves (see sgemm12x32).
// Both kernels give every element the same fused multiply-adds in the
// same order, so the choice never changes a result
// (TestAsmKernelsBitIdentical).
func selectSerialKernel() microKernel {
	if activeKernel.name == avx2Kernel.name && cpu.X86.HasAVX512F && intelCPU() {
		return avx512Kernel
	}
	return activeKernel
}

// KernelName names the GEMM micro-kernel in use ("avx2", "avx512" or "go").
func KernelName() string { return activeKernel.name }

// availableKernels lists every micro-kernel this CPU can run.
func availableKernels() []microKernel {
	ks := []microKernel{goKernel}
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		ks = append(ks, avx2Kernel)
	}
	if cpu.X86.HasAVX512F {
		ks = append(ks, avx512Kernel)
	}
	return ks
}

//go:noescape
func copyRowsAVX(dst *float32, ldd int, src *float32, lds, rows, w int)

// copyRows copies rows rows of w floats from src (row stride lds) to dst
// (row stride ldd).
func copyRows(dst []float32, ldd int, src []float32, lds, rows, w int) {
	if rows <= 0 || w <= 0 {
		return
	}
	_ = dst[(rows-1)*ldd+w-1]
	_ = src[(rows-1)*lds+w-1]
	if asmAVX2 {
		copyRowsAVX(&dst[0], ldd, &src[0], lds, rows, w)
		return
	}
	copyRowsGo(dst, ldd, src, lds, rows, w)
}

//go:noescape
func packTransAVX(dst *float32, nr int, src *float32, lds, kc8, nw8 int)

// packTrans8 writes dst[p·nr+q] = src[q·lds+p] for the largest q < nw,
// p < kc that are multiples of eight (8×8 transposes in assembly) and
// returns them; the caller packs the rest.
func packTrans8(dst []float32, nr int, src []float32, lds, kc, nw int) (p8, q8 int) {
	kc8, nw8 := kc/8, nw/8
	if !asmAVX2 || kc8 == 0 || nw8 == 0 {
		return 0, 0
	}
	_ = dst[(kc8*8-1)*nr+nw8*8-1]
	_ = src[(nw8*8-1)*lds+kc8*8-1]
	packTransAVX(&dst[0], nr, &src[0], lds, kc8, nw8)
	return kc8 * 8, nw8 * 8
}
