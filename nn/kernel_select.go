package nn

// activeKernel is chosen once at start-up from the CPU's features (see
// kernel_amd64.go); it never changes afterwards.
var activeKernel = selectKernel()

// serialKernel is GemmSerial's micro-kernel, chosen once at start-up as
// well (selectSerialKernel).
var serialKernel = selectSerialKernel()
