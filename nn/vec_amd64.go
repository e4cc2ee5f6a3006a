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
	a, b = a[n:len(dst)], b[n:len(dst)]
	for i := range a {
		dst[n+i] = a[i] + b[i]
	}
}
