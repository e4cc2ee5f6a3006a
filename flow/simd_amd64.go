package flow

import "golang.org/x/sys/cpu"

// hasSIMD reports whether the AVX2+FMA row kernels can run.
func hasSIMD() bool { return cpu.X86.HasAVX2 && cpu.X86.HasFMA }

// primalArgs and dualArgs carry a row's slices to the assembly kernels,
// which address their fields through the offsets the go tool writes to
// go_asm.h (primalArgs_u1, ...), so reordering fields cannot break them.
type primalArgs struct {
	u1, u2, gx, gy, rc, ig, p11, p12, p21, p22, p12u, p22u *float32
	n                                                      int
	lt, th                                                 float32
	err                                                    float32
	//lint:ignore U1000 written by the kernel (go_asm.h offset); Go needs no value of it, the kernel does the whole row
	next int
}

type dualArgs struct {
	u1, u2, u1n, u2n, p11, p12, p21, p22 *float32
	n                                    int
	tt                                   float32
	//lint:ignore U1000 written by the kernel (go_asm.h offset); Go needs no value of it, the kernel does the whole row
	next int
}

// primalAVX2 runs the primal update for x = 1, 9, 17, ... while a block of
// 8 fits in n; it sets a.next to the first x left undone and a.err to the
// squared change of the pixels done.
//
//go:noescape
func primalAVX2(a *primalArgs)

// dualAVX2 runs the dual update for x = 0, 8, ... while x+8 <= n-1 and sets
// a.next to the first x left undone.
//
//go:noescape
func dualAVX2(a *dualArgs)

// medianArgs carries one output row to the generated median kernels
// (median_amd64.s): k padded key rows at keys (kstride apart, replicated
// borders, w+k-1 wide), scratch tmp of k rows of tstride, and out for the
// w results rounded up to a multiple of 8.
type medianArgs struct {
	keys    *int32
	kstride int
	tmp     *int32
	tstride int
	out     *float32
	w       int
}

//go:noescape
func median3RowAVX2(a *medianArgs)

//go:noescape
func median5RowAVX2(a *medianArgs)

// warpArgs carries one row to warpRowAVX (offsets from go_asm.h).
type warpArgs struct {
	pad       *float32
	pw        int
	u1, u2    *float32
	v, vx, vy *float32
	w         int
	y, fw, fh float32
}

// warpRowAVX is warpPadded for one row.
//
//go:noescape
func warpRowAVX(a *warpArgs)

// floatKeysAVX2 sets dst[i] = floatKey(src[i]) for i below n rounded down
// to a multiple of 8.
//
//go:noescape
func floatKeysAVX2(src *float32, dst *int32, n int)
