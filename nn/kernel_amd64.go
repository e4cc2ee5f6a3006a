//go:build amd64 && !purego

package nn

import (
	"os"

	"golang.org/x/sys/cpu"
)

// sgemm6x16 is the AVX2/FMA micro-kernel (kernel_amd64.s): a 6×16 tile in
// twelve YMM accumulators; c[r][q] = or += Σ_p a[r·rs+p·ks]·b[p·16+q].
//
//go:noescape
func sgemm6x16(k int, a *float32, rs, ks int, b, c *float32, ldc int, accumulate bool)

func kernelAVX2(k int, a []float32, rs, ks int, b, c []float32, ldc int, accumulate bool) {
	_ = a[5*rs+(k-1)*ks]
	_ = b[k*16-1]
	_ = c[5*ldc+15]
	sgemm6x16(k, &a[0], rs, ks, &b[0], &c[0], ldc, accumulate)
}

var avx2Kernel = microKernel{mr: 6, nr: 16, fn: kernelAVX2}

// selectKernel picks the assembly kernel when the CPU supports AVX2 and FMA
// and TELL_NN_NOASM is unset.
func selectKernel() microKernel {
	if os.Getenv("TELL_NN_NOASM") == "" && cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		return avx2Kernel
	}
	return goKernel
}

// KernelName names the GEMM micro-kernel in use ("avx2" or "go").
func KernelName() string {
	if activeKernel.mr == 6 {
		return "avx2"
	}
	return "go"
}
