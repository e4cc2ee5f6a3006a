//go:build !amd64 || purego

package nn

// addVec writes a+b into dst (equal lengths; dst may alias a or b).
func addVec(dst, a, b []float32) { addGo(dst, a, b) }

// mulVec writes a·b into dst (equal lengths; dst may alias a or b).
func mulVec(dst, a, b []float32) { mulGo(dst, a, b) }

// adamwVec applies one AdamW step (adamwGo).
func adamwVec(p, g, m, v []float32, c *adamwConsts) { adamwGo(p, g, m, v, c) }

// colSumVec adds the column sums of the n rows (stride ld) of x's first
// len(dst) columns into dst, rows in order.
func colSumVec(dst, x []float32, n, ld int) { colSumGo(dst, x, n, ld) }
