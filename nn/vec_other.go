//go:build !amd64 || purego

package nn

// addVec writes a+b into dst (equal lengths; dst may alias a or b).
func addVec(dst, a, b []float32) {
	a, b = a[:len(dst)], b[:len(dst)]
	for i := range dst {
		dst[i] = a[i] + b[i]
	}
}

// mulVec writes a·b into dst (equal lengths; dst may alias a or b).
func mulVec(dst, a, b []float32) {
	a, b = a[:len(dst)], b[:len(dst)]
	for i := range dst {
		dst[i] = a[i] * b[i]
	}
}

// adamwVec applies one AdamW step (adamwGo).
func adamwVec(p, g, m, v []float32, c *adamwConsts) { adamwGo(p, g, m, v, c) }
