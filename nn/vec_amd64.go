//go:build amd64 && !purego

package nn

//go:noescape
func addAVX2(dst, a, b *float32, n int)

// addVec writes a+b into dst (equal lengths; dst may alias a or b).
func addVec(dst, a, b []float32) {
	n := 0
	if vecAsm() {
		n = len(dst) &^ 31
	}
	if n > 0 {
		_, _ = a[n-1], b[n-1]
		addAVX2(&dst[0], &a[0], &b[0], n)
	}
	addGo(dst[n:], a[n:], b[n:])
}

//go:noescape
func mulAVX2(dst, a, b *float32, n int)

// mulVec writes a·b into dst (equal lengths; dst may alias a or b).
func mulVec(dst, a, b []float32) {
	n := 0
	if vecAsm() {
		n = len(dst) &^ 31
	}
	if n > 0 {
		_, _ = a[n-1], b[n-1]
		mulAVX2(&dst[0], &a[0], &b[0], n)
	}
	mulGo(dst[n:], a[n:], b[n:])
}

//go:noescape
func adamwAVX2(p, grad, m, v *float32, n int, c *adamwConsts)

// adamwVec applies one AdamW step to p with gradient g and moments m, v
// (equal lengths), eight lanes at a time where it may, the same bits as
// adamwGo.
func adamwVec(p, g, m, v []float32, c *adamwConsts) {
	n := 0
	if vecAsm() {
		n = len(p) &^ 7
	}
	if n > 0 {
		_, _, _ = g[n-1], m[n-1], v[n-1]
		adamwAVX2(&p[0], &g[0], &m[0], &v[0], n, c)
	}
	adamwGo(p[n:], g[n:], m[n:], v[n:], c)
}

//go:noescape
func colSumAVX2(dst, x *float32, n, ld, cols int)

// colSumVec adds the column sums of the n rows (stride ld) of x's first
// len(dst) columns into dst, rows in order: each column's sum has the
// scalar loop's bits.
func colSumVec(dst, x []float32, n, ld int) {
	c := 0
	if vecAsm() && n > 0 {
		c = len(dst) &^ 7
	}
	if c > 0 {
		_ = x[(n-1)*ld+c-1]
		colSumAVX2(&dst[0], &x[0], n, ld, c)
	}
	colSumGo(dst[c:], x[c:], n, ld)
}
