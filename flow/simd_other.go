//go:build !amd64

package flow

func hasSIMD() bool { return false }

type primalArgs struct {
	u1, u2, gx, gy, rc, ig, p11, p12, p21, p22, p12u, p22u *float32
	n                                                      int
	lt, th                                                 float32
	err                                                    float32
	next                                                   int
}

type dualArgs struct {
	u1, u2, u1n, u2n, p11, p12, p21, p22 *float32
	n                                    int
	tt                                   float32
	next                                 int
}

func primalAVX2(a *primalArgs) { a.next, a.err = 1, 0 }
func dualAVX2(a *dualArgs)     { a.next = 0 }

type medianArgs struct {
	keys    *int32
	kstride int
	tmp     *int32
	tstride int
	out     *float32
	w       int
}

func median3RowAVX2(a *medianArgs) {}
func median5RowAVX2(a *medianArgs) {}

type warpArgs struct {
	pad       *float32
	pw        int
	u1, u2    *float32
	v, vx, vy *float32
	w         int
	y, fw, fh float32
}

func warpRowAVX(a *warpArgs) { panic("flow: no SIMD kernels on this architecture") }

func floatKeysAVX2(src *float32, dst *int32, n int) {}
