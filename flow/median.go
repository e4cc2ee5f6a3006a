package flow

import "math"

// median writes to dst rows [y0,y1) of the k×k median of src (w×h, k 3 or
// 5) with replicated borders, as OpenCV's medianBlur. Each column of k
// values is sorted once and shared by the k windows that contain it; a
// generated comparator network (median_net.go) then takes the median
// without branches. cols is scratch of at least (w+4)*5 values.
func median(src, dst []float32, w, h, k int, y0, y1 int, cols []int32) {
	r := k / 2
	cols = cols[:(w+2*r)*k]
	for y := y0; y < y1; y++ {
		// Sorted columns for x = -r .. w-1+r.
		for cx := 0; cx < w+2*r; cx++ {
			x := clampInt(cx-r, w)
			c := cols[cx*k : cx*k+k]
			for j := range c {
				c[j] = floatKey(src[clampInt(y-r+j, h)*w+x])
			}
			if k == 3 {
				sort3(c)
			} else {
				sort5(c)
			}
		}
		out := dst[y*w : (y+1)*w]
		if k == 3 {
			for x := range out {
				out[x] = keyFloat(median9Sorted((*[9]int32)(cols[x*3 : x*3+9])))
			}
		} else {
			for x := range out {
				out[x] = keyFloat(median25Sorted((*[25]int32)(cols[x*5 : x*5+25])))
			}
		}
	}
}

// floatKey maps a float32 to an int32 with the same order (for non-NaN
// values): negative floats have their magnitude bits flipped.
func floatKey(f float32) int32 {
	b := int32(math.Float32bits(f))
	return b ^ (b >> 31 & 0x7fffffff)
}

// keyFloat inverts floatKey.
func keyFloat(k int32) float32 {
	return math.Float32frombits(uint32(k ^ (k >> 31 & 0x7fffffff)))
}

func sort3(c []int32) {
	c = c[:3]
	a, b, d := c[0], c[1], c[2]
	a, b = min(a, b), max(a, b)
	b, d = min(b, d), max(b, d)
	a, b = min(a, b), max(a, b)
	c[0], c[1], c[2] = a, b, d
}

// sort5 sorts five values with the optimal 9-comparator network.
func sort5(c []int32) {
	c = c[:5]
	a, b, d, e, f := c[0], c[1], c[2], c[3], c[4]
	a, b = min(a, b), max(a, b)
	e, f = min(e, f), max(e, f)
	d, f = min(d, f), max(d, f)
	d, e = min(d, e), max(d, e)
	b, f = min(b, f), max(b, f)
	a, e = min(a, e), max(a, e)
	a, d = min(a, d), max(a, d)
	b, e = min(b, e), max(b, e)
	b, d = min(b, d), max(b, d)
	c[0], c[1], c[2], c[3], c[4] = a, b, d, e, f
}
