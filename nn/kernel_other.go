//go:build !amd64 || purego

package nn

func selectKernel() microKernel { return goKernel }

// KernelName names the GEMM micro-kernel in use.
func KernelName() string { return "go" }

func availableKernels() []microKernel { return []microKernel{goKernel} }
