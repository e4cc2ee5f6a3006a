package flow

//go:generate go run gen_median.go

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

// medianScratch is one band's work space for medianSIMD.
type medianScratch struct {
	keys []int32   // padded key rows of the band (and k-1 more)
	tmp  []int32   // sorted columns of one output row
	out  []float32 // one output row, rounded up to 8
}

func newMedianScratch(w, h int) *medianScratch {
	return &medianScratch{
		keys: make([]int32, (h+4)*(w+4)+16),
		tmp:  make([]int32, 5*(roundUp8(w+4)+8)),
		out:  make([]float32, roundUp8(w)),
	}
}

func roundUp8(n int) int { return (n + 7) &^ 7 }

// medianSIMD is median with the AVX2 kernels: the band's rows (and r above
// and below, replicated at the image border) are converted to padded
// integer keys once, then each output row sorts its columns and takes the
// median of 8 windows per step.
func medianSIMD(src, dst []float32, w, h, k int, y0, y1 int, s *medianScratch) {
	r := k / 2
	kw := w + 2*r
	rows := y1 - y0 + 2*r
	keys := s.keys[:rows*kw]
	for j := 0; j < rows; j++ {
		sy := clampInt(y0-r+j, h)
		srow := src[sy*w : sy*w+w]
		krow := keys[j*kw : j*kw+kw]
		for x := 0; x < r; x++ {
			krow[x] = floatKey(srow[0])
			krow[kw-1-x] = floatKey(srow[w-1])
		}
		inner := krow[r : r+w]
		done := 0
		if w >= 8 {
			floatKeysAVX2(&srow[0], &inner[0], w)
			done = w &^ 7
		}
		for x := done; x < w; x++ {
			inner[x] = floatKey(srow[x])
		}
	}
	a := medianArgs{kstride: kw, tmp: &s.tmp[0], tstride: roundUp8(kw) + 8, out: &s.out[0], w: w}
	for y := y0; y < y1; y++ {
		a.keys = &s.keys[(y-y0)*kw]
		if k == 3 {
			median3RowAVX2(&a)
		} else {
			median5RowAVX2(&a)
		}
		copy(dst[y*w:y*w+w], s.out[:w])
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
