#include "textflag.h"

// Lane numbers 0..7, to build the masks of the overlapping last block.
DATA lanes<>+0(SB)/4, $0
DATA lanes<>+4(SB)/4, $1
DATA lanes<>+8(SB)/4, $2
DATA lanes<>+12(SB)/4, $3
DATA lanes<>+16(SB)/4, $4
DATA lanes<>+20(SB)/4, $5
DATA lanes<>+24(SB)/4, $6
DATA lanes<>+28(SB)/4, $7
GLOBL lanes<>(SB), RODATA|NOPTR, $32

// Both kernels finish a row whose length is not 1 (primal) or 0 (dual)
// plus a multiple of 8 with one more block that ends at the row's end and
// overlaps pixels already done; a lane mask makes the update of those
// lanes an exact no-op (zero change of u; tau/theta zero for p), so every
// pixel is updated once.

// func primalAVX2(a *primalArgs)
// It updates pixel 0, then 1.. in blocks of 8; rows need n >= 9.
// primalArgs: u1 0, u2 8, gx 16, gy 24, rc 32, ig 40, p11 48, p12 56,
// p21 64, p22 72, p12u 80, p22u 88, n 96, lt 104, th 108, err 112, next 120.
TEXT ·primalAVX2(SB), NOSPLIT, $0-8
	MOVQ a+0(FP), DI
	MOVQ 0(DI), AX
	MOVQ 8(DI), DX
	MOVQ 16(DI), SI
	MOVQ 24(DI), R8
	MOVQ 32(DI), R9
	MOVQ 40(DI), R10
	MOVQ 48(DI), R11
	MOVQ 56(DI), R12
	MOVQ 64(DI), R13
	VBROADCASTSS 104(DI), Y15 // lt
	VBROADCASTSS 108(DI), Y14 // theta
	VXORPS       Y13, Y13, Y13 // error accumulator
	VXORPS       Y12, Y12, Y12
	VSUBPS       Y15, Y12, Y12 // -lt
	VPCMPEQD     Y11, Y11, Y11 // lane mask: all lanes

	// Pixel 0 has no left neighbour (p[-1] = 0): one scalar update.
	VMOVSS      (AX), X0
	VMOVSS      (DX), X1
	VMOVSS      (SI), X2
	VMOVSS      (R8), X3
	VMOVSS      (R9), X4
	VFMADD231SS X2, X0, X4
	VFMADD231SS X3, X1, X4
	VMULSS      (R10), X4, X4
	VXORPS      X5, X5, X5
	VSUBSS      X4, X5, X4
	VMINSS      X15, X4, X4
	VMAXSS      X12, X4, X4
	VMOVSS      (R11), X5
	VADDSS      (R12), X5, X5
	MOVQ        80(DI), BX
	VSUBSS      (BX), X5, X5
	VMOVSS      (R13), X6
	MOVQ        72(DI), BX
	VADDSS      (BX), X6, X6
	MOVQ        88(DI), BX
	VSUBSS      (BX), X6, X6
	VMULSS      X14, X5, X5
	VFMADD231SS X4, X2, X5
	VMULSS      X14, X6, X6
	VFMADD231SS X4, X3, X6
	VMULSS      X5, X5, X7
	VFMADD231SS X6, X6, X7
	VADDSS      X5, X0, X0
	VADDSS      X6, X1, X1
	VMOVSS      X0, (AX)
	VMOVSS      X1, (DX)
	VXORPS      Y13, Y13, Y13
	VMOVSS      X7, X13, X13   // the error so far, in lane 0
	MOVQ        $1, CX

ploop:
	MOVQ CX, BX
	ADDQ $8, BX
	CMPQ BX, 96(DI)
	JGT  ptail

pbody:

	VMOVUPS     (AX)(CX*4), Y0 // u1
	VMOVUPS     (DX)(CX*4), Y1 // u2
	VMOVUPS     (SI)(CX*4), Y2 // I1wx
	VMOVUPS     (R8)(CX*4), Y3 // I1wy
	VMOVUPS     (R9)(CX*4), Y4 // rho_c
	VFMADD231PS Y2, Y0, Y4     // rho += Ix*u1
	VFMADD231PS Y3, Y1, Y4     // rho += Iy*u2
	VMULPS      (R10)(CX*4), Y4, Y4
	VXORPS      Y5, Y5, Y5
	VSUBPS      Y4, Y5, Y4     // fi = -rho/|grad|^2
	VMINPS      Y15, Y4, Y4
	VMAXPS      Y12, Y4, Y4    // clamp to [-lt, lt]

	VMOVUPS (R11)(CX*4), Y5
	VSUBPS  -4(R11)(CX*4), Y5, Y5 // p11[x] - p11[x-1]
	VADDPS  (R12)(CX*4), Y5, Y5
	MOVQ    80(DI), BX
	VSUBPS  (BX)(CX*4), Y5, Y5    // - p12[x-w]: div p1

	VMOVUPS (R13)(CX*4), Y6
	VSUBPS  -4(R13)(CX*4), Y6, Y6
	MOVQ    72(DI), BX
	VADDPS  (BX)(CX*4), Y6, Y6
	MOVQ    88(DI), BX
	VSUBPS  (BX)(CX*4), Y6, Y6    // div p2

	VMULPS      Y14, Y5, Y5 // theta*div1
	VFMADD231PS Y4, Y2, Y5  // + fi*Ix: the change of u1
	VMULPS      Y14, Y6, Y6
	VFMADD231PS Y4, Y3, Y6
	VANDPS      Y11, Y5, Y5
	VANDPS      Y11, Y6, Y6
	VFMADD231PS Y5, Y5, Y13
	VFMADD231PS Y6, Y6, Y13
	VADDPS      Y5, Y0, Y0
	VADDPS      Y6, Y1, Y1
	VMOVUPS     Y0, (AX)(CX*4)
	VMOVUPS     Y1, (DX)(CX*4)
	ADDQ        $8, CX
	JMP         ploop

ptail:
	// Pixels CX..n-1 remain (fewer than 8): redo the block n-8..n-1 with
	// the lanes before CX masked off, unless the row is too short.
	MOVQ 96(DI), BX
	CMPQ CX, BX
	JGE  pdone
	SUBQ $8, BX
	CMPQ BX, $1
	JLT  pdone
	MOVQ CX, R13
	SUBQ BX, R13        // lanes < R13 are done
	DECQ R13
	MOVQ R13, X11
	VPBROADCASTD X11, Y11
	VMOVDQU lanes<>(SB), Y10
	VPCMPGTD Y11, Y10, Y11 // lane > done-1
	MOVQ 64(DI), R13       // restore p21
	MOVQ BX, CX
	JMP  pbody

pdone:
	MOVQ         CX, 120(DI)
	VEXTRACTF128 $1, Y13, X0
	VADDPS       X0, X13, X0
	VHADDPS      X0, X0, X0
	VHADDPS      X0, X0, X0
	MOVSS        X0, 112(DI)
	VZEROUPPER
	RET

// func dualAVX2(a *dualArgs)
// dualArgs: u1 0, u2 8, u1n 16, u2n 24, p11 32, p12 40, p21 48, p22 56,
// n 64, tt 72, next 80.
TEXT ·dualAVX2(SB), NOSPLIT, $0-8
	MOVQ a+0(FP), DI
	MOVQ 0(DI), AX
	MOVQ 8(DI), DX
	MOVQ 16(DI), SI
	MOVQ 24(DI), R8
	MOVQ 32(DI), R9
	MOVQ 40(DI), R10
	MOVQ 48(DI), R11
	MOVQ 56(DI), R12
	MOVQ 64(DI), R13
	DECQ R13                  // blocks need x+8 <= n-1
	VBROADCASTSS 72(DI), Y15  // tau/theta
	MOVL         $0x3f800000, BX
	MOVL         BX, X14
	VBROADCASTSS X14, Y14     // 1.0
	XORQ         CX, CX

dloop:
	MOVQ CX, BX
	ADDQ $8, BX
	CMPQ BX, R13
	JGT  dtail

dbody:

	VMOVUPS (AX)(CX*4), Y0
	VMOVUPS 4(AX)(CX*4), Y2
	VSUBPS  Y0, Y2, Y2      // u1x
	VMOVUPS (SI)(CX*4), Y3
	VSUBPS  Y0, Y3, Y3      // u1y
	VMOVUPS (DX)(CX*4), Y1
	VMOVUPS 4(DX)(CX*4), Y4
	VSUBPS  Y1, Y4, Y4      // u2x
	VMOVUPS (R8)(CX*4), Y5
	VSUBPS  Y1, Y5, Y5      // u2y

	VMULPS      Y2, Y2, Y6
	VFMADD231PS Y3, Y3, Y6
	VSQRTPS     Y6, Y6
	VMOVAPS     Y14, Y7
	VFMADD231PS Y15, Y6, Y7 // d1 = 1 + tt*|grad u1|
	VRCPPS       Y7, Y10     // r1 ≈ 1/d1, refined by one Newton step
	VMOVAPS      Y14, Y11
	VFNMADD231PS Y10, Y7, Y11
	VFMADD231PS  Y11, Y10, Y10
	VMOVAPS      Y10, Y7

	VMULPS      Y4, Y4, Y8
	VFMADD231PS Y5, Y5, Y8
	VSQRTPS     Y8, Y8
	VMOVAPS     Y14, Y9
	VFMADD231PS Y15, Y8, Y9
	VRCPPS       Y9, Y10     // r2
	VMOVAPS      Y14, Y11
	VFNMADD231PS Y10, Y9, Y11
	VFMADD231PS  Y11, Y10, Y10
	VMOVAPS      Y10, Y9

	VMOVUPS     (R9)(CX*4), Y10
	VFMADD231PS Y15, Y2, Y10
	VMULPS      Y7, Y10, Y10
	VMOVUPS     Y10, (R9)(CX*4)

	VMOVUPS     (R10)(CX*4), Y10
	VFMADD231PS Y15, Y3, Y10
	VMULPS      Y7, Y10, Y10
	VMOVUPS     Y10, (R10)(CX*4)

	VMOVUPS     (R11)(CX*4), Y10
	VFMADD231PS Y15, Y4, Y10
	VMULPS      Y9, Y10, Y10
	VMOVUPS     Y10, (R11)(CX*4)

	VMOVUPS     (R12)(CX*4), Y10
	VFMADD231PS Y15, Y5, Y10
	VMULPS      Y9, Y10, Y10
	VMOVUPS     Y10, (R12)(CX*4)

	ADDQ $8, CX
	JMP  dloop

dtail:
	// Pixels CX..n-2 remain: redo the block n-9..n-2 with tau/theta zero
	// in the lanes before CX, unless the row is too short.
	CMPQ CX, R13
	JGE  ddone
	MOVQ R13, BX
	SUBQ $8, BX
	JLT  ddone
	MOVQ CX, R14
	SUBQ BX, R14
	DECQ R14
	MOVQ R14, X13
	VPBROADCASTD X13, Y13
	VMOVDQU lanes<>(SB), Y12
	VPCMPGTD Y13, Y12, Y13
	VANDPS Y13, Y15, Y15
	MOVQ BX, CX
	JMP  dbody

ddone:
	MOVQ CX, 80(DI)
	VZEROUPPER
	RET

// Constants of the bicubic weights (Keys, a = -0.75), 4 lanes each.
DATA wconst<>+0(SB)/4, $0x3f800000   // sign: 1, 1, -1, -1
DATA wconst<>+4(SB)/4, $0x3f800000
DATA wconst<>+8(SB)/4, $0xbf800000
DATA wconst<>+12(SB)/4, $0xbf800000
DATA wconst<>+16(SB)/4, $0x3f800000  // offset: 1, 0, 1, 2
DATA wconst<>+20(SB)/4, $0x00000000
DATA wconst<>+24(SB)/4, $0x3f800000
DATA wconst<>+28(SB)/4, $0x40000000
DATA wconst<>+32(SB)/4, $0x3fa00000  // a+2 = 1.25
DATA wconst<>+36(SB)/4, $0xc0100000  // -(a+3) = -2.25
DATA wconst<>+40(SB)/4, $0x3f800000  // 1
DATA wconst<>+44(SB)/4, $0xbf400000  // a = -0.75
DATA wconst<>+48(SB)/4, $0x40700000  // -5a = 3.75
DATA wconst<>+52(SB)/4, $0xc0c00000  // 8a = -6
DATA wconst<>+56(SB)/4, $0x40400000  // -4a = 3
DATA wconst<>+60(SB)/4, $0xbf800000  // -1
GLOBL wconst<>(SB), RODATA|NOPTR, $64

// func warpRowAVX(a *warpArgs)
// warpArgs: pad 0, pw 8, u1 16, u2 24, v 32, vx 40, vy 48, w 56, y 64,
// fw 68, fh 72.
TEXT ·warpRowAVX(SB), NOSPLIT, $0-8
	MOVQ a+0(FP), DI
	MOVQ 0(DI), SI
	MOVQ 8(DI), R8
	SHLQ $4, R8            // bytes per padded row
	MOVQ 16(DI), R9
	MOVQ 24(DI), R10
	MOVQ 32(DI), R11
	MOVQ 40(DI), R12
	MOVQ 48(DI), R13
	VMOVSS 64(DI), X12     // y
	VMOVSS 68(DI), X13     // w as float
	VMOVSS 72(DI), X14     // h as float
	VMOVSS wconst<>+60(SB), X15 // -1
	XORQ CX, CX

wloop:
	CMPQ CX, 56(DI)
	JGE  wdone
	VCVTSI2SSQ CX, X0, X0
	VADDSS (R9)(CX*4), X0, X0  // fx = x + u1
	VMAXSS X15, X0, X0
	VMINSS X13, X0, X0
	VADDSS (R10)(CX*4), X12, X1 // fy = y + u2
	VMAXSS X15, X1, X1
	VMINSS X14, X1, X1
	VROUNDSS $1, X0, X0, X2    // floor
	VROUNDSS $1, X1, X1, X3
	VCVTTSS2SIQ X2, AX
	VCVTTSS2SIQ X3, BX
	VSUBSS X2, X0, X0          // tx
	VSUBSS X3, X1, X1          // ty

	// Distances of the 4 taps: d = t*(1,1,-1,-1) + (1,0,1,2).
	VBROADCASTSS X0, X4
	VBROADCASTSS X1, X5
	VMOVUPS wconst<>+0(SB), X6
	VMOVUPS wconst<>+16(SB), X7
	VFMADD213PS X7, X6, X4
	VFMADD213PS X7, X6, X5
	// x weights into X7: inner (|d| <= 1) and outer formulas, blended.
	VBROADCASTSS wconst<>+32(SB), X6
	VBROADCASTSS wconst<>+36(SB), X8
	VFMADD213PS X8, X4, X6     // (a+2)d - (a+3)
	VMULPS X4, X6, X6
	VBROADCASTSS wconst<>+40(SB), X8
	VFMADD213PS X8, X4, X6     // (...)d² + 1
	VBROADCASTSS wconst<>+44(SB), X7
	VBROADCASTSS wconst<>+48(SB), X8
	VFMADD213PS X8, X4, X7     // a d - 5a
	VBROADCASTSS wconst<>+52(SB), X8
	VFMADD213PS X8, X4, X7     // (...)d + 8a
	VBROADCASTSS wconst<>+56(SB), X8
	VFMADD213PS X8, X4, X7     // (...)d - 4a
	VBLENDPS $9, X7, X6, X7    // lanes 0, 3 outer
	// y weights into X8, the same way.
	VBROADCASTSS wconst<>+32(SB), X6
	VBROADCASTSS wconst<>+36(SB), X8
	VFMADD213PS X8, X5, X6
	VMULPS X5, X6, X6
	VBROADCASTSS wconst<>+40(SB), X8
	VFMADD213PS X8, X5, X6
	VBROADCASTSS wconst<>+44(SB), X9
	VBROADCASTSS wconst<>+48(SB), X8
	VFMADD213PS X8, X5, X9
	VBROADCASTSS wconst<>+52(SB), X8
	VFMADD213PS X8, X5, X9
	VBROADCASTSS wconst<>+56(SB), X8
	VFMADD213PS X8, X5, X9
	VBLENDPS $9, X9, X6, X8

	VPERMILPS $0x00, X7, X0
	VPERMILPS $0x55, X7, X1
	VPERMILPS $0xAA, X7, X2
	VPERMILPS $0xFF, X7, X3

	// Top-left tap: padded (xi-1+2, yi-1+2).
	INCQ  BX
	IMULQ R8, BX
	INCQ  AX
	SHLQ  $4, AX
	LEAQ  (SI)(BX*1), DX
	ADDQ  AX, DX

	VMULPS      (DX), X0, X10
	VFMADD231PS 16(DX), X1, X10
	VFMADD231PS 32(DX), X2, X10
	VFMADD231PS 48(DX), X3, X10
	VPERMILPS   $0x00, X8, X9
	VMULPS      X9, X10, X11
	ADDQ        R8, DX
	VMULPS      (DX), X0, X10
	VFMADD231PS 16(DX), X1, X10
	VFMADD231PS 32(DX), X2, X10
	VFMADD231PS 48(DX), X3, X10
	VPERMILPS   $0x55, X8, X9
	VFMADD231PS X9, X10, X11
	ADDQ        R8, DX
	VMULPS      (DX), X0, X10
	VFMADD231PS 16(DX), X1, X10
	VFMADD231PS 32(DX), X2, X10
	VFMADD231PS 48(DX), X3, X10
	VPERMILPS   $0xAA, X8, X9
	VFMADD231PS X9, X10, X11
	ADDQ        R8, DX
	VMULPS      (DX), X0, X10
	VFMADD231PS 16(DX), X1, X10
	VFMADD231PS 32(DX), X2, X10
	VFMADD231PS 48(DX), X3, X10
	VPERMILPS   $0xFF, X8, X9
	VFMADD231PS X9, X10, X11

	VMOVSS     X11, (R11)(CX*4)
	VEXTRACTPS $1, X11, (R12)(CX*4)
	VEXTRACTPS $2, X11, (R13)(CX*4)
	INCQ CX
	JMP  wloop

wdone:
	RET

// func floatKeysAVX2(src *float32, dst *int32, n int)
// dst[i] = floatKey(src[i]) for i < n rounded down to a multiple of 8.
TEXT ·floatKeysAVX2(SB), NOSPLIT, $0-24
	MOVQ src+0(FP), SI
	MOVQ dst+8(FP), DI
	MOVQ n+16(FP), CX
	SHRQ $3, CX
	MOVL $0x7fffffff, BX
	MOVL BX, X15
	VPBROADCASTD X15, Y15
	XORQ AX, AX

kloop:
	TESTQ CX, CX
	JZ    kdone
	VMOVDQU (SI)(AX*4), Y0
	VPSRAD  $31, Y0, Y1
	VPAND   Y15, Y1, Y1
	VPXOR   Y1, Y0, Y0
	VMOVDQU Y0, (DI)(AX*4)
	ADDQ    $8, AX
	DECQ    CX
	JMP     kloop

kdone:
	VZEROUPPER
	RET
