package au

import (
	"github.com/tell-project/tell/raster"
)

// Crop samples an aligned size×size face crop of frame into dst (len
// size²): the square of side 2.4·IOD around the reference face centre,
// moved with the head as last measured, so onset and apex crops of one
// event line up and their optical flow shows the expression, not the head.
func (e *Estimator) Crop(frame *raster.Gray, size int, dst []uint8) {
	var cx, cy float64
	for _, i := range []int{36, 39, 42, 45, 48, 54} {
		cx += e.refPts[i][0] / 6
		cy += e.refPts[i][1] / 6
	}
	step := 2.4 * e.iod / float64(size)
	sim := e.prev
	// The per-column products, computed once (the same values as per
	// pixel: the sums below keep their order).
	if cap(e.cropCols) < 2*size {
		e.cropCols = make([]float64, 2*size)
	}
	uxs, uys := e.cropCols[:size], e.cropCols[size:2*size]
	for u := 0; u < size; u++ {
		ou := (float64(u) - float64(size)/2 + 0.5) * step
		uxs[u], uys[u] = ou*e.ex[0], ou*e.ex[1]
	}
	a := &e.cropArgs
	asm := a.load(frame, sim, cx, cy)
	for v := 0; v < size; v++ {
		// Reference position along the reference face axes, then the head.
		ov := (float64(v) - float64(size)/2 + 0.5) * step
		vy0, vy1 := ov*e.ey[0], ov*e.ey[1]
		row := dst[v*size : v*size+size]
		for u := 0; u < size; {
			if asm && size-u >= 4 {
				// Four pixels at a time while their taps lie inside
				// the frame; the pixel that does not, in Go below.
				a.vy0, a.vy1 = splat(vy0), splat(vy1)
				a.uxs, a.uys, a.dst, a.n = &uxs[u], &uys[u], &row[u], size-u
				cropRowAVX2(a)
				if u += a.done; u == size {
					break
				}
			}
			row[u] = roundByte(headSample(frame, sim, cx+uxs[u]+vy0, cy+uys[u]+vy1))
			u++
		}
	}
}

// roundByte rounds a crop's grey value to a byte, as cropRowAVX2 does.
func roundByte(b float32) uint8 {
	p := float64(b + 0.5)
	switch {
	case p <= 0:
		return 0
	case p >= 255:
		return 255
	default:
		return uint8(p)
	}
}

// headSample is frame's grey at reference position (rx, ry) moved by sim:
// frame.Bilinear, inlined for the pixels inside the frame (the Go twin of
// cropRowAVX2's and flowRowAVX2's sampling, for the pixels they leave).
func headSample(frame *raster.Gray, sim similarity, rx, ry float64) float32 {
	xd, yd := sim.apply(rx, ry)
	x, y := float32(xd), float32(yd)
	x0f, y0f := float32(int32(x)), float32(int32(y))
	if x0f > x {
		x0f--
	}
	if y0f > y {
		y0f--
	}
	if x0, y0 := int(x0f), int(y0f); uint(x0) < uint(frame.W-1) && uint(y0) < uint(frame.H-1) {
		ax, ay := x-x0f, y-y0f
		i := y0*frame.Stride + x0
		r0 := frame.Pix[i : i+2 : i+2]
		r1 := frame.Pix[i+frame.Stride : i+frame.Stride+2 : i+frame.Stride+2]
		top := r0[0] + ax*(r0[1]-r0[0])
		bot := r1[0] + ax*(r1[1]-r1[0])
		return top + ay*(bot-top)
	}
	return frame.Bilinear(x, y)
}

// cropArgs carries a crop row to cropRowAVX2, which addresses its fields
// through the offsets the go tool writes to go_asm.h. It lives in the
// Estimator and is filled field by field (a composite literal copied on
// every row stalls on store forwarding).
type cropArgs struct {
	// Each value in the four lanes of a 256-bit operand.
	cx, cy, vy0, vy1 [4]float64
	a, b, tx, ty     [4]float64 // the head's similarity
	uxs, uys         *float64
	pix              *float32
	stride, w1, h1   int // frame stride, W−1, H−1
	dst              *uint8
	dst32            *float32 // flowRowAVX2's output
	n                int
	done             int // set by the kernel
}

func splat(v float64) [4]float64 { return [4]float64{v, v, v, v} }

// load sets a's frame and head fields for rows of frame around reference
// centre (cx, cy) moved by sim, and reports whether the row kernels may
// run on frame (cropAsm and kernelReadable); a is untouched when not.
func (a *cropArgs) load(frame *raster.Gray, sim similarity, cx, cy float64) bool {
	if !cropAsm || !kernelReadable(frame) {
		return false
	}
	a.cx, a.cy = splat(cx), splat(cy)
	a.a, a.b, a.tx, a.ty = splat(sim.a), splat(sim.b), splat(sim.tx), splat(sim.ty)
	a.pix, a.stride = &frame.Pix[0], frame.Stride
	a.w1, a.h1 = frame.W-1, frame.H-1
	return true
}

// kernelReadable reports whether the crop kernels may read frame: every
// row holds its W pixels within Pix (they index it without bounds checks)
// and the offsets fit 32 bits.
func kernelReadable(frame *raster.Gray) bool {
	return frame.W >= 2 && frame.H >= 2 && frame.Stride >= frame.W && frame.Stride < 1<<30 &&
		len(frame.Pix) >= (frame.H-1)*frame.Stride+frame.W && len(frame.Pix) < 1<<31
}
