//go:build !amd64 || purego

package nn

func geluBlock(x, y, d []float32) { geluGo(x, y, d) }

// expInPlace replaces x by exp(x) (inputs below −87 give about 1.6e−38).
func expInPlace(x []float32) {
	expGo(x)
}

// vecAsm reports whether the element-wise kernels run in assembly.
func vecAsm() bool { return false }
