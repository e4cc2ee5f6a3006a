//go:build !amd64 || purego

package nn

func selectKernel() microKernel { return goKernel }

func selectSerialKernel() microKernel { return goKernel }

// KernelName names the GEMM micro-kernel in use.
func KernelName() string { return "go" }

// AsmAVX2 reports whether AVX2+FMA assembly may run: never in this build.
func AsmAVX2() bool { return false }

func availableKernels() []microKernel { return []microKernel{goKernel} }

// copyRows copies rows rows of w floats from src (row stride lds) to dst
// (row stride ldd).
func copyRows(dst []float32, ldd int, src []float32, lds, rows, w int) {
	copyRowsGo(dst, ldd, src, lds, rows, w)
}

// packTrans8 packs nothing here: packB's Go loops do it all.
func packTrans8(dst []float32, nr int, src []float32, lds, kc, nw int) (p8, q8 int) { return 0, 0 }
