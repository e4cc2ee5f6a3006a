//go:build !amd64 || purego

package nn

func geluBlock(x, y, d []float32) { geluGo(x, y, d) }

// expInPlace replaces x by exp(x) (inputs below −87 give about 1.6e−38).
func expInPlace(x []float32) {
	expGo(x)
}

// vecAsm reports whether the element-wise kernels run in assembly.
func vecAsm() bool { return false }

func softmaxRows(p []float32, n, t int, scale float32, mask []bool, b int) {
	softmaxRowsGo(p[:n*t], n, t, scale, mask, b)
}

func softmaxBackRows(p, dp []float32, n, t int, scale float32) {
	softmaxBackRowsGo(p[:n*t], dp[:n*t], n, t, scale)
}
