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

//go:noescape
func softmaxRowsAVX2(p *float32, n, t int, scale float32, tail *int32)

//go:noescape
func softmaxBackRowsAVX2(p, dp *float32, n, t int, scale float32, tail *int32)

// softmaxRows: see softmax.go.
func softmaxRows(p []float32, n, t int, scale float32, mask []bool, b int) {
	p = p[:n*t]
	if mask == nil && vecAsm() && n > 0 {
		softmaxRowsAVX2(&p[0], n, t, scale, &tailMasks[8-t%8])
		return
	}
	softmaxRowsGo(p, n, t, scale, mask, b)
}

// softmaxBackRows: see softmax.go.
func softmaxBackRows(p, dp []float32, n, t int, scale float32) {
	p, dp = p[:n*t], dp[:n*t]
	if vecAsm() && n > 0 {
		softmaxBackRowsAVX2(&p[0], &dp[0], n, t, scale, &tailMasks[8-t%8])
		return
	}
	softmaxBackRowsGo(p, dp, n, t, scale)
}

// tailMasks[8-r:16-r] are eight int32 lane masks whose first r are set.
var tailMasks = [16]int32{-1, -1, -1, -1, -1, -1, -1, -1}
