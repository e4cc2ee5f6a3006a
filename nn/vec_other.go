//go:build !amd64 || purego

package nn

// addVec writes a+b into dst (equal lengths; dst may alias a or b).
func addVec(dst, a, b []float32) {
	a, b = a[:len(dst)], b[:len(dst)]
	for i := range dst {
		dst[i] = a[i] + b[i]
	}
}
