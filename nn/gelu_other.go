//go:build !amd64 || purego

package nn

func geluBlock(x, y, d []float32) { geluGo(x, y, d) }

// expInPlace replaces x by exp(x) (inputs below −87 give about 1.6e−38).
func expInPlace(x []float32) {
	for i, v := range x {
		x[i] = expf(max(v, -87))
	}
}
