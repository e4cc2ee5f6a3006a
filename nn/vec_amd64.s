//go:build amd64 && !purego

#include "textflag.h"

// VEC2(op) is 32 values of dst = a op b: SI a, DX b, DI dst, each moved on.
#define VEC2(op) \
	VMOVUPS (SI), Y0; \
	VMOVUPS 32(SI), Y1; \
	VMOVUPS 64(SI), Y2; \
	VMOVUPS 96(SI), Y3; \
	op (DX), Y0, Y0; \
	op 32(DX), Y1, Y1; \
	op 64(DX), Y2, Y2; \
	op 96(DX), Y3, Y3; \
	VMOVUPS Y0, (DI); \
	VMOVUPS Y1, 32(DI); \
	VMOVUPS Y2, 64(DI); \
	VMOVUPS Y3, 96(DI); \
	ADDQ $128, SI; \
	ADDQ $128, DX; \
	ADDQ $128, DI

// func addAVX2(dst, a, b *float32, n int)
// dst[i] = a[i] + b[i] for n a multiple of 32; dst may alias a or b.
TEXT ·addAVX2(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DX
	MOVQ n+24(FP), CX
	SHRQ $5, CX
	JZ done
loop:
	VEC2(VADDPS)
	DECQ CX
	JNZ loop
done:
	VZEROUPPER
	RET

// func mulAVX2(dst, a, b *float32, n int)
// dst[i] = a[i] · b[i] for n a multiple of 32; dst may alias a or b.
TEXT ·mulAVX2(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DX
	MOVQ n+24(FP), CX
	SHRQ $5, CX
	JZ mdone
mloop:
	VEC2(VMULPS)
	DECQ CX
	JNZ mloop
mdone:
	VZEROUPPER
	RET

// func adamwAVX2(p, grad, m, v *float32, n int, c *adamwConsts)
// One AdamW step for n values (a multiple of 8), element by element in
// adamwGo's order of operations (no fused multiply–add):
// m = β1·m + (1−β1)·g; v = β2·v + ((1−β2)·g)·g;
// p = p·decay − (step·m) / (√v / bc2 + ε).
TEXT ·adamwAVX2(SB), NOSPLIT, $0-48
	MOVQ p+0(FP), DI
	MOVQ grad+8(FP), SI
	MOVQ m+16(FP), R8
	MOVQ v+24(FP), R9
	MOVQ n+32(FP), CX
	MOVQ c+40(FP), AX
	VBROADCASTSS 0(AX), Y8   // β1
	VBROADCASTSS 4(AX), Y9   // 1−β1
	VBROADCASTSS 8(AX), Y10  // β2
	VBROADCASTSS 12(AX), Y11 // 1−β2
	VBROADCASTSS 16(AX), Y12 // decay
	VBROADCASTSS 20(AX), Y13 // step
	VBROADCASTSS 24(AX), Y14 // bc2
	VBROADCASTSS 28(AX), Y15 // ε
	SHRQ $3, CX
	JZ adone
aloop:
	VMOVUPS (SI), Y0
	VMULPS (R8), Y8, Y1
	VMULPS Y0, Y9, Y2
	VADDPS Y2, Y1, Y1
	VMOVUPS Y1, (R8)
	VMULPS (R9), Y10, Y3
	VMULPS Y0, Y11, Y4
	VMULPS Y0, Y4, Y4
	VADDPS Y4, Y3, Y3
	VMOVUPS Y3, (R9)
	VSQRTPS Y3, Y3
	VDIVPS Y14, Y3, Y3
	VADDPS Y15, Y3, Y3
	VMULPS Y1, Y13, Y1
	VDIVPS Y3, Y1, Y1
	VMULPS (DI), Y12, Y5
	VSUBPS Y1, Y5, Y5
	VMOVUPS Y5, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	ADDQ $32, R8
	ADDQ $32, R9
	DECQ CX
	JNZ aloop
adone:
	VZEROUPPER
	RET

// func colSumAVX2(dst, x *float32, n, ld, cols int)
// dst[j] += Σ_i x[i·ld + j] for j < cols (a multiple of 8), rows added in
// order one by one (each column's sum in the order of the scalar loop).
TEXT ·colSumAVX2(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), R8
	MOVQ ld+24(FP), R9
	MOVQ cols+32(FP), CX
	SHLQ $2, R9
	TESTQ R8, R8
	JZ cdone
c32:
	CMPQ CX, $32
	JLT c8
	VMOVUPS (DI), Y0
	VMOVUPS 32(DI), Y1
	VMOVUPS 64(DI), Y2
	VMOVUPS 96(DI), Y3
	MOVQ SI, AX
	MOVQ R8, DX
c32row:
	VADDPS (AX), Y0, Y0
	VADDPS 32(AX), Y1, Y1
	VADDPS 64(AX), Y2, Y2
	VADDPS 96(AX), Y3, Y3
	ADDQ R9, AX
	DECQ DX
	JNZ c32row
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	ADDQ $128, DI
	ADDQ $128, SI
	SUBQ $32, CX
	JMP c32
c8:
	CMPQ CX, $8
	JLT cdone
	VMOVUPS (DI), Y0
	MOVQ SI, AX
	MOVQ R8, DX
c8row:
	VADDPS (AX), Y0, Y0
	ADDQ R9, AX
	DECQ DX
	JNZ c8row
	VMOVUPS Y0, (DI)
	ADDQ $32, DI
	ADDQ $32, SI
	SUBQ $8, CX
	JMP c8
cdone:
	VZEROUPPER
	RET
