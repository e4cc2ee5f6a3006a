//go:build amd64 && !purego

#include "textflag.h"

DATA lnone<>+0(SB)/4, $0x3f800000
GLOBL lnone<>(SB), RODATA|NOPTR, $4

// HSUM8 leaves in the low lane of X(r) the sum of Y(r)'s eight lanes s0..s7
// as ((s0+s4)+(s2+s6)) + ((s1+s5)+(s3+s7)), the order of lnHsum; t is a
// scratch X register.
#define HSUM8(yr, xr, xt) \
	VEXTRACTF128 $1, yr, xt; \
	VADDPS xt, xr, xr; \
	VMOVHLPS xr, xr, xt; \
	VADDPS xt, xr, xr; \
	VMOVSHDUP xr, xt; \
	VADDSS xt, xr, xr

// func lnForwardAVX2(x, a, s, y, gain, b, mean, rstd *float32, rows, d int, fd, eps float32)
// For each of rows rows of d values (d a positive multiple of 8): with a
// non-nil, s = x + a is stored and normalised in x's place. Mean and
// 1/√(var+eps) are summed as lnForwardRowsGo sums them, and
// y = (x−mean)·rstd·gain + b.
TEXT ·lnForwardAVX2(SB), NOSPLIT, $0-88
	MOVQ x+0(FP), SI
	MOVQ a+8(FP), R12
	MOVQ s+16(FP), R13
	MOVQ y+24(FP), DI
	MOVQ mean+48(FP), R8
	MOVQ rstd+56(FP), R9
	MOVQ rows+64(FP), R10
	MOVQ d+72(FP), R11
	VMOVSS fd+80(FP), X14
	VMOVSS eps+84(FP), X13
	VMOVSS lnone<>(SB), X12
	MOVQ a+8(FP), CX // 0: plain rows (s = x)
	TESTQ CX, CX
	JNZ rowstart
	MOVQ SI, R13
rowstart:
	SHLQ $2, R11 // row bytes
	TESTQ R10, R10
	JZ done
row:
	// mean (of s = x + a, stored, when a is given)
	VXORPS Y0, Y0, Y0
	XORQ AX, AX
	TESTQ CX, CX
	JNZ addsum
sum:
	VADDPS (SI)(AX*1), Y0, Y0
	ADDQ $32, AX
	CMPQ AX, R11
	JLT sum
	JMP summed
addsum:
	VMOVUPS (SI)(AX*1), Y3
	VADDPS (R12)(AX*1), Y3, Y3
	VMOVUPS Y3, (R13)(AX*1)
	VADDPS Y3, Y0, Y0
	ADDQ $32, AX
	CMPQ AX, R11
	JLT addsum
summed:
	HSUM8(Y0, X0, X1)
	VDIVSS X14, X0, X2
	VBROADCASTSS X2, Y2
	// variance
	VXORPS Y1, Y1, Y1
	XORQ AX, AX
vsum:
	VMOVUPS (R13)(AX*1), Y3
	VSUBPS Y2, Y3, Y3
	VMULPS Y3, Y3, Y3
	VADDPS Y3, Y1, Y1
	ADDQ $32, AX
	CMPQ AX, R11
	JLT vsum
	HSUM8(Y1, X1, X3)
	VDIVSS X14, X1, X1
	VADDSS X13, X1, X1
	VSQRTSS X1, X1, X1
	VDIVSS X1, X12, X1
	VMOVSS X2, (R8)
	VMOVSS X1, (R9)
	VBROADCASTSS X1, Y1
	// y = (x − mean)·rstd·g + b
	MOVQ gain+32(FP), BX
	MOVQ b+40(FP), DX
	XORQ AX, AX
norm:
	VMOVUPS (R13)(AX*1), Y3
	VSUBPS Y2, Y3, Y3
	VMULPS Y1, Y3, Y3
	VMULPS (BX)(AX*1), Y3, Y3
	VADDPS (DX)(AX*1), Y3, Y3
	VMOVUPS Y3, (DI)(AX*1)
	ADDQ $32, AX
	CMPQ AX, R11
	JLT norm
	ADDQ R11, SI
	ADDQ R11, R12
	ADDQ R11, R13
	ADDQ R11, DI
	ADDQ $4, R8
	ADDQ $4, R9
	DECQ R10
	JNZ row
done:
	VZEROUPPER
	RET

// func lnBackwardAVX2(x, dy, res, dx, gain, mean, rstd *float32, rows, d int, fd float32)
// dx for each row as lnBackwardRowsGo computes it (d a positive multiple
// of 8), plus res where res is not nil.
TEXT ·lnBackwardAVX2(SB), NOSPLIT, $0-76
	MOVQ x+0(FP), SI
	MOVQ dy+8(FP), DX
	MOVQ res+16(FP), R12
	MOVQ dx+24(FP), DI
	MOVQ gain+32(FP), BX
	MOVQ mean+40(FP), R8
	MOVQ rstd+48(FP), R9
	MOVQ rows+56(FP), R10
	MOVQ d+64(FP), R11
	VMOVSS fd+72(FP), X14
	MOVQ R12, CX // 0: no residual
	SHLQ $2, R11
	TESTQ R10, R10
	JZ bdone
brow:
	VBROADCASTSS (R8), Y2 // mean
	VBROADCASTSS (R9), Y1 // rstd
	VXORPS Y4, Y4, Y4     // Σ t
	VXORPS Y5, Y5, Y5     // Σ t·x̂
	XORQ AX, AX
bsum:
	VMOVUPS (SI)(AX*1), Y3
	VSUBPS Y2, Y3, Y3
	VMULPS Y1, Y3, Y3 // x̂
	VMOVUPS (DX)(AX*1), Y6
	VMULPS (BX)(AX*1), Y6, Y6 // t = dy·g
	VADDPS Y6, Y4, Y4
	VMULPS Y3, Y6, Y6
	VADDPS Y6, Y5, Y5
	ADDQ $32, AX
	CMPQ AX, R11
	JLT bsum
	HSUM8(Y4, X4, X7)
	HSUM8(Y5, X5, X7)
	VDIVSS X14, X4, X4
	VDIVSS X14, X5, X5
	VBROADCASTSS X4, Y4
	VBROADCASTSS X5, Y5
	XORQ AX, AX
bout:
	VMOVUPS (SI)(AX*1), Y3
	VSUBPS Y2, Y3, Y3
	VMULPS Y1, Y3, Y3 // x̂
	VMOVUPS (DX)(AX*1), Y6
	VMULPS (BX)(AX*1), Y6, Y6
	VSUBPS Y4, Y6, Y6
	VMULPS Y5, Y3, Y3
	VSUBPS Y3, Y6, Y6
	VMULPS Y1, Y6, Y6
	TESTQ CX, CX
	JZ bstore
	VADDPS (R12)(AX*1), Y6, Y6
bstore:
	VMOVUPS Y6, (DI)(AX*1)
	ADDQ $32, AX
	CMPQ AX, R11
	JLT bout
	ADDQ R11, SI
	ADDQ R11, DX
	ADDQ R11, R12
	ADDQ R11, DI
	ADDQ $4, R8
	ADDQ $4, R9
	DECQ R10
	JNZ brow
bdone:
	VZEROUPPER
	RET

// func lnParamGradAVX2(x, dy, mean, rstd, gg, bg *float32, rows, d, cols int)
// For the cols columns (a multiple of 8) at x, dy, gg, bg: gg += Σ rows
// dy·(x−mean)·rstd and bg += Σ rows dy, rows in order (as lnParamGradGo);
// d is the row stride. 32 columns a pass over the rows while there are,
// then 8.
TEXT ·lnParamGradAVX2(SB), NOSPLIT, $0-72
	MOVQ rows+48(FP), R10
	MOVQ d+56(FP), R11
	MOVQ cols+64(FP), CX
	SHLQ $2, R11
	TESTQ R10, R10
	JZ gdone
	MOVQ x+0(FP), SI
	MOVQ dy+8(FP), DX
	MOVQ gg+32(FP), DI
	MOVQ bg+40(FP), BX
g32:
	CMPQ CX, $32
	JLT g8
	VMOVUPS (DI), Y8
	VMOVUPS 32(DI), Y9
	VMOVUPS 64(DI), Y10
	VMOVUPS 96(DI), Y11
	VMOVUPS (BX), Y12
	VMOVUPS 32(BX), Y13
	VMOVUPS 64(BX), Y14
	VMOVUPS 96(BX), Y15
	MOVQ mean+16(FP), R8
	MOVQ rstd+24(FP), R9
	MOVQ R10, R12
	XORQ AX, AX
g32row:
	VBROADCASTSS (R8), Y2
	VBROADCASTSS (R9), Y1
	VMOVUPS (DX)(AX*1), Y4
	VMOVUPS 32(DX)(AX*1), Y5
	VMOVUPS 64(DX)(AX*1), Y6
	VMOVUPS 96(DX)(AX*1), Y7
	VADDPS Y4, Y12, Y12
	VADDPS Y5, Y13, Y13
	VADDPS Y6, Y14, Y14
	VADDPS Y7, Y15, Y15
	VMOVUPS (SI)(AX*1), Y3
	VSUBPS Y2, Y3, Y3
	VMULPS Y3, Y4, Y3
	VMULPS Y1, Y3, Y3
	VADDPS Y3, Y8, Y8
	VMOVUPS 32(SI)(AX*1), Y3
	VSUBPS Y2, Y3, Y3
	VMULPS Y3, Y5, Y3
	VMULPS Y1, Y3, Y3
	VADDPS Y3, Y9, Y9
	VMOVUPS 64(SI)(AX*1), Y3
	VSUBPS Y2, Y3, Y3
	VMULPS Y3, Y6, Y3
	VMULPS Y1, Y3, Y3
	VADDPS Y3, Y10, Y10
	VMOVUPS 96(SI)(AX*1), Y3
	VSUBPS Y2, Y3, Y3
	VMULPS Y3, Y7, Y3
	VMULPS Y1, Y3, Y3
	VADDPS Y3, Y11, Y11
	ADDQ R11, AX
	ADDQ $4, R8
	ADDQ $4, R9
	DECQ R12
	JNZ g32row
	VMOVUPS Y8, (DI)
	VMOVUPS Y9, 32(DI)
	VMOVUPS Y10, 64(DI)
	VMOVUPS Y11, 96(DI)
	VMOVUPS Y12, (BX)
	VMOVUPS Y13, 32(BX)
	VMOVUPS Y14, 64(BX)
	VMOVUPS Y15, 96(BX)
	ADDQ $128, SI
	ADDQ $128, DX
	ADDQ $128, DI
	ADDQ $128, BX
	SUBQ $32, CX
	JMP g32
g8:
	CMPQ CX, $8
	JLT gdone
	VMOVUPS (DI), Y4
	VMOVUPS (BX), Y5
	MOVQ mean+16(FP), R8
	MOVQ rstd+24(FP), R9
	MOVQ R10, R12
	XORQ AX, AX
grow:
	VBROADCASTSS (R8), Y2
	VBROADCASTSS (R9), Y1
	VMOVUPS (DX)(AX*1), Y6
	VMOVUPS (SI)(AX*1), Y3
	VSUBPS Y2, Y3, Y3
	VMULPS Y3, Y6, Y3
	VMULPS Y1, Y3, Y3
	VADDPS Y3, Y4, Y4
	VADDPS Y6, Y5, Y5
	ADDQ R11, AX
	ADDQ $4, R8
	ADDQ $4, R9
	DECQ R12
	JNZ grow
	VMOVUPS Y4, (DI)
	VMOVUPS Y5, (BX)
	ADDQ $32, SI
	ADDQ $32, DX
	ADDQ $32, DI
	ADDQ $32, BX
	SUBQ $8, CX
	JMP g8
gdone:
	VZEROUPPER
	RET
