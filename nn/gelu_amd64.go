//go:build amd64 && !purego

package nn

//go:noescape
func geluFwdAVX2(x, y *float32, n int)

//go:noescape
func geluBackAVX2(x, dy, dx *float32, n int)

// geluForward writes y = GELU(x), eight lanes at a time in assembly when
// the CPU allows it (geluFwdGo's bits).
func geluForward(x, y []float32) {
	n := len(x) &^ 7
	if n > 0 && vecAsm() {
		_ = y[n-1]
		geluFwdAVX2(&x[0], &y[0], n)
		x, y = x[n:], y[n:]
	}
	geluFwdGo(x, y)
}

// geluBackward writes dx = dy·GELU'(x) (geluBackGo's bits).
func geluBackward(x, dy, dx []float32) {
	n := len(x) &^ 7
	if n > 0 && vecAsm() {
		_, _ = dy[n-1], dx[n-1]
		geluBackAVX2(&x[0], &dy[0], &dx[0], n)
		x, dy, dx = x[n:], dy[n:], dx[n:]
	}
	geluBackGo(x, dy, dx)
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
