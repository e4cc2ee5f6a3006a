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
	MOVQ         $1, CX

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
	VFMADD231PS Y15, Y6, Y7 // 1 + tt*|grad u1|
	VDIVPS      Y7, Y14, Y7 // r1

	VMULPS      Y4, Y4, Y8
	VFMADD231PS Y5, Y5, Y8
	VSQRTPS     Y8, Y8
	VMOVAPS     Y14, Y9
	VFMADD231PS Y15, Y8, Y9
	VDIVPS      Y9, Y14, Y9 // r2

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
