//go:build amd64 && !purego

#include "textflag.h"

// func addAVX(dst, a, b *float32, n int)
// dst[i] = a[i] + b[i], n a multiple of 8; dst may alias a or b.
TEXT ·addAVX(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DX
	MOVQ n+24(FP), CX
	SHRQ $3, CX
	JZ   adddone
addloop:
	VMOVUPS (SI), Y0
	VADDPS  (DX), Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DX
	ADDQ    $32, DI
	DECQ    CX
	JNZ     addloop
adddone:
	VZEROUPPER
	RET

// func mulAVX(dst, a, b *float32, n int)
// dst[i] = a[i] * b[i], n a multiple of 8; dst may alias a or b.
TEXT ·mulAVX(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DX
	MOVQ n+24(FP), CX
	SHRQ $3, CX
	JZ   muldone
mulloop:
	VMOVUPS (SI), Y0
	VMULPS  (DX), Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DX
	ADDQ    $32, DI
	DECQ    CX
	JNZ     mulloop
muldone:
	VZEROUPPER
	RET

// func maxAVX(dst, a, b *float32, n int)
// dst[i] = max(a[i], b[i]), n a multiple of 8; dst may alias a or b.
TEXT ·maxAVX(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DX
	MOVQ n+24(FP), CX
	SHRQ $3, CX
	JZ   maxdone
maxloop:
	VMOVUPS (SI), Y0
	VMAXPS  (DX), Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DX
	ADDQ    $32, DI
	DECQ    CX
	JNZ     maxloop
maxdone:
	VZEROUPPER
	RET

// func clampAVX(dst, src *float32, n int, lo, hi float32)
// dst[i] = min(max(src[i], lo), hi), n a multiple of 8.
TEXT ·clampAVX(SB), NOSPLIT, $0-32
	MOVQ         dst+0(FP), DI
	MOVQ         src+8(FP), SI
	MOVQ         n+16(FP), CX
	VBROADCASTSS lo+24(FP), Y1
	VBROADCASTSS hi+28(FP), Y2
	SHRQ         $3, CX
	JZ           clampdone
clamploop:
	VMOVUPS (SI), Y0
	VMAXPS  Y1, Y0, Y0
	VMINPS  Y2, Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	DECQ    CX
	JNZ     clamploop
clampdone:
	VZEROUPPER
	RET

// func biasClampAVX(dst, bias *float32, rows, cols int, lo, hi float32)
// dst[r*cols+c] = min(max(dst[r*cols+c] + bias[c], lo), hi), cols a
// multiple of 8.
TEXT ·biasClampAVX(SB), NOSPLIT, $0-40
	MOVQ         dst+0(FP), DI
	MOVQ         bias+8(FP), DX
	MOVQ         rows+16(FP), R8
	MOVQ         cols+24(FP), R9
	VBROADCASTSS lo+32(FP), Y1
	VBROADCASTSS hi+36(FP), Y2
	SHRQ         $3, R9
	JZ           bcdone
	TESTQ        R8, R8
	JZ           bcdone
bcrow:
	MOVQ DX, SI
	MOVQ R9, CX
bccol:
	VMOVUPS (DI), Y0
	VADDPS  (SI), Y0, Y0
	VMAXPS  Y1, Y0, Y0
	VMINPS  Y2, Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ    $32, DI
	ADDQ    $32, SI
	DECQ    CX
	JNZ     bccol
	DECQ    R8
	JNZ     bcrow
bcdone:
	VZEROUPPER
	RET

// func dwTapAVX(dst, src, w *float32, npix, c, sstep int)
// For p < npix: dst[p*c+j] += src[p*sstep+j] * w[j], j < c, c a multiple
// of 8: one tap of a depthwise convolution along an output row.
TEXT ·dwTapAVX(SB), NOSPLIT, $0-48
	MOVQ  dst+0(FP), DI
	MOVQ  src+8(FP), SI
	MOVQ  w+16(FP), DX
	MOVQ  npix+24(FP), R8
	MOVQ  c+32(FP), R9
	MOVQ  sstep+40(FP), R10
	SHLQ  $2, R10
	SHRQ  $3, R9
	JZ    dwdone
	TESTQ R8, R8
	JZ    dwdone
dwpix:
	MOVQ SI, R11
	MOVQ DX, R12
	MOVQ R9, CX
dwch:
	VMOVUPS     (R11), Y0
	VMOVUPS     (DI), Y1
	VFMADD231PS (R12), Y0, Y1
	VMOVUPS     Y1, (DI)
	ADDQ        $32, R11
	ADDQ        $32, R12
	ADDQ        $32, DI
	DECQ        CX
	JNZ         dwch
	ADDQ        R10, SI
	DECQ        R8
	JNZ         dwpix
dwdone:
	VZEROUPPER
	RET

// func preluAVX(dst, src, alpha *float32, n int)
// dst[i] = max(src[i], 0) + alpha[i]*min(src[i], 0), n a multiple of 8;
// dst may alias src. The operand orders give Go's max and min exactly:
// max(-0, 0) = +0 and min(-0, 0) = -0, and a NaN input comes out as the
// same quiet NaN through the product.
TEXT ·preluAVX(SB), NOSPLIT, $0-32
	MOVQ   dst+0(FP), DI
	MOVQ   src+8(FP), SI
	MOVQ   alpha+16(FP), DX
	MOVQ   n+24(FP), CX
	VXORPS Y3, Y3, Y3
	SHRQ   $3, CX
	JZ     preludone
preluloop:
	VMOVUPS (SI), Y0
	VMAXPS  Y3, Y0, Y1
	VMINPS  Y0, Y3, Y2
	VMULPS  (DX), Y2, Y2
	VADDPS  Y2, Y1, Y1
	VMOVUPS Y1, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DX
	ADDQ    $32, DI
	DECQ    CX
	JNZ     preluloop
preludone:
	VZEROUPPER
	RET

// func dwRowAVX(dst, src, w *float32, npix, c, sstep, ntap, tstep int)
// For p < npix and j < c (a multiple of 8), in t order:
// dst[p*c+j] += src[p*sstep+t*tstep+j] * w[t*c+j], t < ntap: the taps of
// one kernel row of a depthwise convolution, held in a register between
// taps instead of stored and loaded again; each tap is the same fused
// multiply-add as dwTapAVX's, in the same order.
TEXT ·dwRowAVX(SB), NOSPLIT, $0-64
	MOVQ  dst+0(FP), DI
	MOVQ  src+8(FP), R13
	MOVQ  npix+24(FP), R8
	MOVQ  c+32(FP), BX
	SHLQ  $2, BX
	SHRQ  $3, c+32(FP)
	SHLQ  $2, sstep+40(FP)
	SHLQ  $2, tstep+56(FP)
	CMPQ  c+32(FP), $0
	JEQ   drdone
	CMPQ  ntap+48(FP), $0
	JEQ   drdone
	MOVQ  sstep+40(FP), R10
	LEAQ  (R10)(R10*2), CX
drpix4:
	// Four pixels at a time: four independent accumulator chains
	// sharing each weight load.
	CMPQ R8, $4
	JLT  drpix1
	MOVQ R13, SI
	MOVQ w+16(FP), DX
	MOVQ c+32(FP), R9
drch4:
	VMOVUPS (DI), Y0
	VMOVUPS (DI)(BX*1), Y1
	LEAQ    (DI)(BX*2), R12
	VMOVUPS (R12), Y2
	VMOVUPS (R12)(BX*1), Y3
	MOVQ    SI, R11
	MOVQ    DX, R12
	MOVQ    ntap+48(FP), AX
drtap4:
	VMOVUPS     (R12), Y4
	VFMADD231PS (R11), Y4, Y0
	VFMADD231PS (R11)(R10*1), Y4, Y1
	VFMADD231PS (R11)(R10*2), Y4, Y2
	VFMADD231PS (R11)(CX*1), Y4, Y3
	ADDQ        tstep+56(FP), R11
	ADDQ        BX, R12
	DECQ        AX
	JNZ         drtap4
	VMOVUPS     Y0, (DI)
	VMOVUPS     Y1, (DI)(BX*1)
	LEAQ        (DI)(BX*2), R12
	VMOVUPS     Y2, (R12)
	VMOVUPS     Y3, (R12)(BX*1)
	ADDQ        $32, DI
	ADDQ        $32, SI
	ADDQ        $32, DX
	DECQ        R9
	JNZ         drch4
	LEAQ        (DI)(BX*2), DI
	ADDQ        BX, DI
	LEAQ        (R13)(R10*4), R13
	SUBQ        $4, R8
	JMP         drpix4
drpix1:
	TESTQ R8, R8
	JZ    drdone
drpix:
	MOVQ R13, SI
	MOVQ w+16(FP), DX
	MOVQ c+32(FP), R9
drch:
	VMOVUPS (DI), Y0
	MOVQ    SI, R11
	MOVQ    DX, R12
	MOVQ    ntap+48(FP), AX
drtap:
	VMOVUPS     (R11), Y1
	VFMADD231PS (R12), Y1, Y0
	ADDQ        tstep+56(FP), R11
	ADDQ        BX, R12
	DECQ        AX
	JNZ         drtap
	VMOVUPS     Y0, (DI)
	ADDQ        $32, DI
	ADDQ        $32, SI
	ADDQ        $32, DX
	DECQ        R9
	JNZ         drch
	ADDQ        sstep+40(FP), R13
	DECQ        R8
	JNZ         drpix
drdone:
	VZEROUPPER
	RET
