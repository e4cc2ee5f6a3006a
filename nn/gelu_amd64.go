//go:build amd64 && !purego

package nn

//go:noescape
func geluAVX2(x, y, d *float32, n int)

// geluBlock computes y = GELU(x) and d = GELU'(x) for one chunk, eight
// lanes at a time in assembly when the CPU allows it.
func geluBlock(x, y, d []float32) {
	n := len(x) &^ 7
	if n > 0 && vecAsm() {
		_, _ = y[n-1], d[n-1]
		geluAVX2(&x[0], &y[0], &d[0], n)
		x, y, d = x[n:], y[n:], d[n:]
	}
	geluGo(x, y, d)
}

//go:noescape
func expAVX2(x *float32, n int)

// expInPlace replaces x by exp(x) (inputs below −87 give about 1.6e−38, not
// 0), eight lanes at a time in assembly when the CPU allows it.
func expInPlace(x []float32) {
	n := len(x) &^ 7
	if n > 0 && vecAsm() {
		expAVX2(&x[0], n)
		x = x[n:]
	}
	expGo(x)
}

// vecAsm reports whether the element-wise kernels run in assembly.
func vecAsm() bool { return asmAVX2 }
