//go:build amd64 && !purego

#include "textflag.h"

// One k step: two 8-wide B vectors times six broadcast A values. Rows 0-3
// of A are at SI + {0,1,2,3}·R10, rows 4-5 at R12 + {0,1}·R10; B's next
// row is BX bytes on (16 floats for a packed panel, ldb for B in place).
#define STEP \
	VMOVUPS (DI), Y0; \
	VMOVUPS 32(DI), Y1; \
	VBROADCASTSS (SI), Y2; \
	VBROADCASTSS (SI)(R10*1), Y3; \
	VFMADD231PS Y0, Y2, Y4; \
	VFMADD231PS Y1, Y2, Y5; \
	VFMADD231PS Y0, Y3, Y6; \
	VFMADD231PS Y1, Y3, Y7; \
	VBROADCASTSS (SI)(R10*2), Y2; \
	VBROADCASTSS (SI)(R11*1), Y3; \
	VFMADD231PS Y0, Y2, Y8; \
	VFMADD231PS Y1, Y2, Y9; \
	VFMADD231PS Y0, Y3, Y10; \
	VFMADD231PS Y1, Y3, Y11; \
	VBROADCASTSS (R12), Y2; \
	VBROADCASTSS (R12)(R10*1), Y3; \
	VFMADD231PS Y0, Y2, Y12; \
	VFMADD231PS Y1, Y2, Y13; \
	VFMADD231PS Y0, Y3, Y14; \
	VFMADD231PS Y1, Y3, Y15; \
	ADDQ R13, SI; \
	ADDQ R13, R12; \
	ADDQ BX, DI

#define ACCROW(lo, hi) \
	VADDPS (DX), lo, lo; \
	VADDPS 32(DX), hi, hi; \
	VMOVUPS lo, (DX); \
	VMOVUPS hi, 32(DX); \
	ADDQ R8, DX

#define STOREROW(lo, hi) \
	VMOVUPS lo, (DX); \
	VMOVUPS hi, 32(DX); \
	ADDQ R8, DX

// func sgemm6x16(k int, a *float32, rs, ks int, b, c *float32, ldc int, accumulate bool, ldb int, bias *float32)
// A non-nil bias (with accumulate false) is added to every row before the
// store: c = Σ + bias, as if c had held bias and accumulated.
TEXT ·sgemm6x16(SB), NOSPLIT, $0-80
	MOVQ ldb+64(FP), BX
	SHLQ $2, BX
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ rs+16(FP), R10
	SHLQ $2, R10
	MOVQ ks+24(FP), R13
	SHLQ $2, R13
	MOVQ b+32(FP), DI
	MOVQ c+40(FP), DX
	MOVQ ldc+48(FP), R8
	SHLQ $2, R8
	LEAQ (R10)(R10*2), R11
	LEAQ (SI)(R10*4), R12
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11
	VXORPS Y12, Y12, Y12
	VXORPS Y13, Y13, Y13
	VXORPS Y14, Y14, Y14
	VXORPS Y15, Y15, Y15
	MOVQ CX, R9
	SHRQ $2, R9
	ANDQ $3, CX
	TESTQ R9, R9
	JZ tail

loop4:
	STEP
	STEP
	STEP
	STEP
	DECQ R9
	JNZ loop4

tail:
	TESTQ CX, CX
	JZ done

loop1:
	STEP
	DECQ CX
	JNZ loop1

done:
	MOVBLZX accumulate+56(FP), AX
	TESTQ AX, AX
	JZ store
	ACCROW(Y4, Y5)
	ACCROW(Y6, Y7)
	ACCROW(Y8, Y9)
	ACCROW(Y10, Y11)
	ACCROW(Y12, Y13)
	ACCROW(Y14, Y15)
	VZEROUPPER
	RET

store:
	MOVQ bias+72(FP), AX
	TESTQ AX, AX
	JZ store0
	VMOVUPS (AX), Y0
	VMOVUPS 32(AX), Y1
	VADDPS Y0, Y4, Y4
	VADDPS Y1, Y5, Y5
	VADDPS Y0, Y6, Y6
	VADDPS Y1, Y7, Y7
	VADDPS Y0, Y8, Y8
	VADDPS Y1, Y9, Y9
	VADDPS Y0, Y10, Y10
	VADDPS Y1, Y11, Y11
	VADDPS Y0, Y12, Y12
	VADDPS Y1, Y13, Y13
	VADDPS Y0, Y14, Y14
	VADDPS Y1, Y15, Y15
store0:
	STOREROW(Y4, Y5)
	STOREROW(Y6, Y7)
	STOREROW(Y8, Y9)
	STOREROW(Y10, Y11)
	STOREROW(Y12, Y13)
	STOREROW(Y14, Y15)
	VZEROUPPER
	RET

// func copyRowsAVX(dst *float32, ldd int, src *float32, lds, rows, w int)
// Copies rows rows of w floats from src (row stride lds) to dst (row
// stride ldd): GEMM's panel packing, eight floats a move.
TEXT ·copyRowsAVX(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), DI
	MOVQ ldd+8(FP), R10
	SHLQ $2, R10
	MOVQ src+16(FP), SI
	MOVQ lds+24(FP), R8
	SHLQ $2, R8
	MOVQ rows+32(FP), CX
	MOVQ w+40(FP), R9
	TESTQ CX, CX
	JZ cdone
	CMPQ R9, $12
	JEQ c12
	CMPQ R9, $6
	JEQ c6
crow:
	MOVQ SI, AX
	MOVQ DI, BX
	MOVQ R9, DX
c8:
	CMPQ DX, $8
	JLT c4
	VMOVUPS (AX), Y0
	VMOVUPS Y0, (BX)
	ADDQ $32, AX
	ADDQ $32, BX
	SUBQ $8, DX
	JMP c8
c4:
	CMPQ DX, $4
	JLT c1
	VMOVUPS (AX), X0
	VMOVUPS X0, (BX)
	ADDQ $16, AX
	ADDQ $16, BX
	SUBQ $4, DX
c1:
	TESTQ DX, DX
	JZ cnext
	VMOVSS (AX), X0
	VMOVSS X0, (BX)
	ADDQ $4, AX
	ADDQ $4, BX
	DECQ DX
	JMP c1
cnext:
	ADDQ R8, SI
	ADDQ R10, DI
	DECQ CX
	JNZ crow
cdone:
	VZEROUPPER
	RET
// A panel of the AVX-512 kernel (12 rows) or the AVX2 one (6): fixed moves.
c12:
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), X1
	VMOVUPS Y0, (DI)
	VMOVUPS X1, 32(DI)
	ADDQ R8, SI
	ADDQ R10, DI
	DECQ CX
	JNZ c12
	VZEROUPPER
	RET
c6:
	VMOVUPS (SI), X0
	VMOVSD 16(SI), X1
	VMOVUPS X0, (DI)
	VMOVSD X1, 16(DI)
	ADDQ R8, SI
	ADDQ R10, DI
	DECQ CX
	JNZ c6
	VZEROUPPER
	RET

// func packTransAVX(dst *float32, nr int, src *float32, lds, kc8, nw8 int)
// Transposes nw8×kc8 blocks of 8×8: dst[p·nr+q] = src[q·lds+p] for
// q < 8·nw8, p < 8·kc8 (GEMM's packing of a transposed B).
TEXT ·packTransAVX(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), DI
	MOVQ nr+8(FP), R10
	SHLQ $2, R10
	MOVQ src+16(FP), SI
	MOVQ lds+24(FP), R8
	SHLQ $2, R8
	MOVQ kc8+32(FP), CX
	MOVQ nw8+40(FP), DX
	LEAQ (R8)(R8*2), R9
	LEAQ (R10)(R10*2), R11
	TESTQ CX, CX
	JZ tdone
tq:
	TESTQ DX, DX
	JZ tdone
	MOVQ SI, AX
	MOVQ DI, BX
	MOVQ CX, R15
tp:
	LEAQ (AX)(R8*4), R12
	VMOVUPS (AX), Y0
	VMOVUPS (AX)(R8*1), Y1
	VMOVUPS (AX)(R8*2), Y2
	VMOVUPS (AX)(R9*1), Y3
	VMOVUPS (R12), Y4
	VMOVUPS (R12)(R8*1), Y5
	VMOVUPS (R12)(R8*2), Y6
	VMOVUPS (R12)(R9*1), Y7
	VUNPCKLPS Y1, Y0, Y8
	VUNPCKHPS Y1, Y0, Y9
	VUNPCKLPS Y3, Y2, Y10
	VUNPCKHPS Y3, Y2, Y11
	VUNPCKLPS Y5, Y4, Y12
	VUNPCKHPS Y5, Y4, Y13
	VUNPCKLPS Y7, Y6, Y14
	VUNPCKHPS Y7, Y6, Y15
	VSHUFPS $0x44, Y10, Y8, Y0
	VSHUFPS $0xEE, Y10, Y8, Y1
	VSHUFPS $0x44, Y11, Y9, Y2
	VSHUFPS $0xEE, Y11, Y9, Y3
	VSHUFPS $0x44, Y14, Y12, Y4
	VSHUFPS $0xEE, Y14, Y12, Y5
	VSHUFPS $0x44, Y15, Y13, Y6
	VSHUFPS $0xEE, Y15, Y13, Y7
	VPERM2F128 $0x20, Y4, Y0, Y8
	VPERM2F128 $0x20, Y5, Y1, Y9
	VPERM2F128 $0x20, Y6, Y2, Y10
	VPERM2F128 $0x20, Y7, Y3, Y11
	VPERM2F128 $0x31, Y4, Y0, Y12
	VPERM2F128 $0x31, Y5, Y1, Y13
	VPERM2F128 $0x31, Y6, Y2, Y14
	VPERM2F128 $0x31, Y7, Y3, Y15
	LEAQ (BX)(R10*4), R13
	VMOVUPS Y8, (BX)
	VMOVUPS Y9, (BX)(R10*1)
	VMOVUPS Y10, (BX)(R10*2)
	VMOVUPS Y11, (BX)(R11*1)
	VMOVUPS Y12, (R13)
	VMOVUPS Y13, (R13)(R10*1)
	VMOVUPS Y14, (R13)(R10*2)
	VMOVUPS Y15, (R13)(R11*1)
	ADDQ $32, AX
	LEAQ (BX)(R10*8), BX
	DECQ R15
	JNZ tp
	LEAQ (SI)(R8*8), SI
	ADDQ $32, DI
	DECQ DX
	JMP tq
tdone:
	VZEROUPPER
	RET
