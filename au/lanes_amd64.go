//go:build amd64 && !purego

package au

import "github.com/tell-project/tell/nn"

// laneAsm says whether the lane sums run in assembly: nn's switch (AVX2,
// which implies the AVX they need, and TELL_NN_NOASM unset), so that one
// detection and one variable govern all the assembly.
var laneAsm = nn.AsmAVX2()

// laneMeanAVX, laneDotAVX and laneResidAVX are laneMeanGo, laneDotGo and
// laneResidGo in 256-bit registers, one lane a point: the same float32
// operations in the same order for every lane. b, t, gx and gy hold
// lanes·m floats.
//
//go:noescape
func laneMeanAVX(b *float32, m int, sum *[lanes]float32)

//go:noescape
func laneDotAVX(b, t *float32, m int, mean, it2 *[lanes]float32)

//go:noescape
func laneResidAVX(b, t, gx, gy *float32, m int, s *laneSums)

// sampleRowAVX is one window row of sampleLane: out[lanes·x] for x < n
// from r0 and r1 (n+1 floats each) with the weights w00, w10, w01, w11.
//
//go:noescape
func sampleRowAVX(r0, r1 *float32, n int, w *[4]float32, out *float32)

// sampleRows fills lane l of buf with the n×n window whose top-left tap
// is at offset o of g's pixels (stride s), as sampleLane's loop does.
func sampleRows(pix []float32, o, s, n int, w *[4]float32, buf []float32, l int) bool {
	if !laneAsm {
		return false
	}
	_ = pix[o+(n)*s+n]       // the last row's last tap
	_ = buf[l+lanes*(n*n-1)] // the window's last element
	for y := 0; y < n; y++ {
		sampleRowAVX(&pix[o+y*s], &pix[o+y*s+s], n, w, &buf[l+lanes*n*y])
	}
	return true
}

func laneMean(b []float32, m int, sum *[lanes]float32) {
	if laneAsm && m > 0 {
		_ = b[lanes*m-1]
		laneMeanAVX(&b[0], m, sum)
		return
	}
	laneMeanGo(b, m, sum)
}

func laneDot(b, t []float32, m int, mean, it2 *[lanes]float32) {
	if laneAsm && m > 0 {
		_, _ = b[lanes*m-1], t[lanes*m-1]
		laneDotAVX(&b[0], &t[0], m, mean, it2)
		return
	}
	laneDotGo(b, t, m, mean, it2)
}

func laneResid(b, t, gx, gy []float32, m int, s *laneSums) {
	if laneAsm && m > 0 {
		_, _, _, _ = b[lanes*m-1], t[lanes*m-1], gx[lanes*m-1], gy[lanes*m-1]
		laneResidAVX(&b[0], &t[0], &gx[0], &gy[0], m, s)
		return
	}
	laneResidGo(b, t, gx, gy, m, s)
}

// cropAsm says whether Crop samples in cropRowAVX2 (nn's switch too).
var cropAsm = nn.AsmAVX2()

// setCropAsm switches the crop assembly for tests.
func setCropAsm(on bool) { cropAsm = on }

// cropRowAVX2 samples a.n crop pixels of a row four at a time as
// roundByte(headSample(…)) does (the same float64 and float32 operations
// in the same order), stopping before the first four of which one has a tap outside
// the frame or when fewer than four are left; a.done is how many it
// sampled.
//
//go:noescape
func cropRowAVX2(a *cropArgs)

// flowRowAVX2 is cropRowAVX2 writing the bilinear values (float32) to
// a.dst32 (headSample's values), without rounding them to bytes.
//
//go:noescape
func flowRowAVX2(a *cropArgs)

// blur3AVX and halveAVX are the pyramid's rows (blur3 and halve) for
// the first n floats of out, n a multiple of 8 and of 4 respectively: the
// same float32 operations in the same order.
//
//go:noescape
func blur3AVX(out, p, q, r *float32, n int)

//go:noescape
func halveAVX(out, r0, r1 *float32, n int)

// blur3 sets out[x] = ¼·p[x] + ½·q[x] + ¼·r[x]; p, q and r hold len(out)
// floats.
func blur3(out, p, q, r []float32) {
	n := len(out)
	k := 0
	if laneAsm && n >= 8 {
		k = n &^ 7
		_, _, _ = p[n-1], q[n-1], r[n-1]
		blur3AVX(&out[0], &p[0], &q[0], &r[0], k)
	}
	blur3Go(out[k:], p[k:n], q[k:n], r[k:n])
}

// halve sets out[x] = ¼·(r0[2x] + r0[2x+1] + r1[2x] + r1[2x+1]).
func halve(out, r0, r1 []float32) {
	n := len(out)
	k := 0
	if laneAsm && n >= 4 {
		k = n &^ 3
		_, _ = r0[2*n-1], r1[2*n-1]
		halveAVX(&out[0], &r0[0], &r1[0], k)
	}
	halveGo(out[k:], r0[2*k:2*n], r1[2*k:2*n])
}

// setLaneAsm switches the assembly for tests.
func setLaneAsm(on bool) { laneAsm = on }
