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
// dst[i] = max(a[i], b[i]) as Go's max gives it, n a multiple of 8; dst
// may alias a or b. MAXPS returns its second operand for a NaN or two
// zeros, so: the AND of both operand orders (max(+0, -0) = +0 either way),
// then a NaN operand put back, b's before a's as Go's max prefers it.
TEXT ·maxAVX(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DX
	MOVQ n+24(FP), CX
	SHRQ $3, CX
	JZ   maxdone
maxloop:
	VMOVUPS   (SI), Y0
	VMOVUPS   (DX), Y1
	VMAXPS    Y1, Y0, Y2
	VMAXPS    Y0, Y1, Y3
	VANDPS    Y3, Y2, Y2
	VCMPPS    $3, Y0, Y0, Y4
	VBLENDVPS Y4, Y0, Y2, Y2
	VCMPPS    $3, Y1, Y1, Y4
	VBLENDVPS Y4, Y1, Y2, Y2
	VMOVUPS   Y2, (DI)
	ADDQ      $32, SI
	ADDQ      $32, DX
	ADDQ      $32, DI
	DECQ      CX
	JNZ       maxloop
maxdone:
	VZEROUPPER
	RET

// CLAMP sets Y0 = min(max(Y0, Y1), Y2) as Go's min and max give it, for
// lo (Y1) and hi (Y2) not NaN and hi not -0, with Y5 = +0 when lo is +0
// and -0 otherwise. MAXPS and MINPS return their second operand for a NaN
// or two equal zeros: with the value second, a NaN comes through, and the
// only wrong zero, max(+0, -0) = -0, becomes +0 by adding Y5 (adding -0
// changes nothing, -0 and NaN included). Uses Y3.
#define CLAMP \
	VMAXPS Y0, Y1, Y3; \
	VADDPS Y5, Y3, Y3; \
	VMINPS Y3, Y2, Y0

// func clampAVX(dst, src *float32, n int, lo, hi, z float32)
// dst[i] = min(max(src[i], lo), hi) as Go computes it, n a multiple of 8,
// lo, hi and z (+0 when lo is +0, else -0) as CLAMP needs them.
TEXT ·clampAVX(SB), NOSPLIT, $0-36
	MOVQ         dst+0(FP), DI
	MOVQ         src+8(FP), SI
	MOVQ         n+16(FP), CX
	VBROADCASTSS lo+24(FP), Y1
	VBROADCASTSS hi+28(FP), Y2
	VBROADCASTSS z+32(FP), Y5
	SHRQ         $3, CX
	JZ           clampdone
clamploop:
	VMOVUPS (SI), Y0
	CLAMP
	VMOVUPS Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	DECQ    CX
	JNZ     clamploop
clampdone:
	VZEROUPPER
	RET

// func biasClampAVX(dst, bias *float32, rows, cols int, lo, hi, z float32)
// dst[r*cols+c] = min(max(dst[r*cols+c] + bias[c], lo), hi) as Go
// computes it, cols a multiple of 8, lo, hi and z as for clampAVX.
TEXT ·biasClampAVX(SB), NOSPLIT, $0-44
	MOVQ         dst+0(FP), DI
	MOVQ         bias+8(FP), DX
	MOVQ         rows+16(FP), R8
	MOVQ         cols+24(FP), R9
	VBROADCASTSS lo+32(FP), Y1
	VBROADCASTSS hi+36(FP), Y2
	VBROADCASTSS z+40(FP), Y5
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
	CLAMP
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

// func biasPreluAVX(dst, bias, alpha *float32, rows, cols, bstep int)
// v = dst[r*cols+c] + bias[r*bstep+c]; dst[r*cols+c] = max(v, 0) +
// alpha[c]*min(v, 0), cols a multiple of 8: a convolution's bias (bstep
// 0) or a shortcut's AddV2 (bstep cols) and a PReLU in one pass, with
// preluAVX's operand orders (Go's max and min exactly, NaN kept).
TEXT ·biasPreluAVX(SB), NOSPLIT, $0-48
	MOVQ   dst+0(FP), DI
	MOVQ   bias+8(FP), DX
	MOVQ   alpha+16(FP), R10
	MOVQ   rows+24(FP), R8
	MOVQ   cols+32(FP), R9
	MOVQ   bstep+40(FP), R12
	SHLQ   $2, R12
	VXORPS Y3, Y3, Y3
	SHRQ   $3, R9
	JZ     bpdone
	TESTQ  R8, R8
	JZ     bpdone
bprow:
	MOVQ DX, SI
	MOVQ R10, R11
	MOVQ R9, CX
bpcol:
	VMOVUPS (DI), Y0
	VADDPS  (SI), Y0, Y0
	VMAXPS  Y3, Y0, Y1
	VMINPS  Y0, Y3, Y2
	VMULPS  (R11), Y2, Y2
	VADDPS  Y2, Y1, Y1
	VMOVUPS Y1, (DI)
	ADDQ    $32, DI
	ADDQ    $32, SI
	ADDQ    $32, R11
	DECQ    CX
	JNZ     bpcol
	ADDQ    R12, DX
	DECQ    R8
	JNZ     bprow
bpdone:
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

// func dwRowsAVX(dst, src, w *float32, npix, c, sstep, ntap, tstep, nrow, rstep, wstep int)
// For p < npix and j < c (a multiple of 8), rows r < nrow in order and in
// each the taps t < ntap in order:
// dst[p*c+j] += src[p*sstep+r*rstep+t*tstep+j] * w[r*wstep+t*c+j]: the
// in-image taps of a depthwise convolution's kernel rows, held in a
// register across all of them instead of stored and loaded again between
// rows and taps; each tap is the same fused multiply-add as dwTapAVX's, in
// the same order. After a row's taps the tap pointers step on by
// rstep - ntap*tstep (src) and wstep - ntap*c (w), kept in the argument
// slots as byte offsets.
TEXT ·dwRowsAVX(SB), NOSPLIT, $0-88
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
	CMPQ  nrow+64(FP), $0
	JEQ   drdone
	// rstep, wstep → the byte steps from a row's last tap to the next
	// row's first.
	MOVQ  ntap+48(FP), AX
	IMULQ tstep+56(FP), AX
	MOVQ  rstep+72(FP), R9
	SHLQ  $2, R9
	SUBQ  AX, R9
	MOVQ  R9, rstep+72(FP)
	MOVQ  ntap+48(FP), AX
	IMULQ BX, AX
	MOVQ  wstep+80(FP), R9
	SHLQ  $2, R9
	SUBQ  AX, R9
	MOVQ  R9, wstep+80(FP)
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
	LEAQ    (DI)(BX*2), R15
	VMOVUPS (R15), Y2
	VMOVUPS (R15)(BX*1), Y3
	MOVQ    SI, R11
	MOVQ    DX, R12
	MOVQ    nrow+64(FP), R14
drrow4:
	MOVQ ntap+48(FP), AX
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
	ADDQ        rstep+72(FP), R11
	ADDQ        wstep+80(FP), R12
	DECQ        R14
	JNZ         drrow4
	VMOVUPS     Y0, (DI)
	VMOVUPS     Y1, (DI)(BX*1)
	LEAQ        (DI)(BX*2), R15
	VMOVUPS     Y2, (R15)
	VMOVUPS     Y3, (R15)(BX*1)
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
	MOVQ    nrow+64(FP), R14
drrow:
	MOVQ ntap+48(FP), AX
drtap:
	VMOVUPS     (R11), Y1
	VFMADD231PS (R12), Y1, Y0
	ADDQ        tstep+56(FP), R11
	ADDQ        BX, R12
	DECQ        AX
	JNZ         drtap
	ADDQ        rstep+72(FP), R11
	ADDQ        wstep+80(FP), R12
	DECQ        R14
	JNZ         drrow
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

// func dwRowsAVX512(dst, src, w *float32, npix, c, sstep, ntap, tstep, nrow, rstep, wstep int)
// dwRowsAVX with 16 channels a register, c a multiple of 16: half the
// loads and fused multiply-adds, each the same operation on the same
// values in the same order.
TEXT ·dwRowsAVX512(SB), NOSPLIT, $0-88
	MOVQ  dst+0(FP), DI
	MOVQ  src+8(FP), R13
	MOVQ  npix+24(FP), R8
	MOVQ  c+32(FP), BX
	SHLQ  $2, BX
	SHRQ  $4, c+32(FP)
	SHLQ  $2, sstep+40(FP)
	SHLQ  $2, tstep+56(FP)
	CMPQ  c+32(FP), $0
	JEQ   zdrdone
	CMPQ  ntap+48(FP), $0
	JEQ   zdrdone
	CMPQ  nrow+64(FP), $0
	JEQ   zdrdone
	// rstep, wstep → the byte steps from a row's last tap to the next
	// row's first.
	MOVQ  ntap+48(FP), AX
	IMULQ tstep+56(FP), AX
	MOVQ  rstep+72(FP), R9
	SHLQ  $2, R9
	SUBQ  AX, R9
	MOVQ  R9, rstep+72(FP)
	MOVQ  ntap+48(FP), AX
	IMULQ BX, AX
	MOVQ  wstep+80(FP), R9
	SHLQ  $2, R9
	SUBQ  AX, R9
	MOVQ  R9, wstep+80(FP)
	MOVQ  sstep+40(FP), R10
	LEAQ  (R10)(R10*2), CX
zdrpix4:
	// Four pixels at a time: four independent accumulator chains
	// sharing each weight load.
	CMPQ R8, $4
	JLT  zdrpix1
	MOVQ R13, SI
	MOVQ w+16(FP), DX
	MOVQ c+32(FP), R9
zdrch4:
	VMOVUPS (DI), Z0
	VMOVUPS (DI)(BX*1), Z1
	LEAQ    (DI)(BX*2), R15
	VMOVUPS (R15), Z2
	VMOVUPS (R15)(BX*1), Z3
	MOVQ    SI, R11
	MOVQ    DX, R12
	MOVQ    nrow+64(FP), R14
zdrrow4:
	MOVQ ntap+48(FP), AX
zdrtap4:
	VMOVUPS     (R12), Z4
	VFMADD231PS (R11), Z4, Z0
	VFMADD231PS (R11)(R10*1), Z4, Z1
	VFMADD231PS (R11)(R10*2), Z4, Z2
	VFMADD231PS (R11)(CX*1), Z4, Z3
	ADDQ        tstep+56(FP), R11
	ADDQ        BX, R12
	DECQ        AX
	JNZ         zdrtap4
	ADDQ        rstep+72(FP), R11
	ADDQ        wstep+80(FP), R12
	DECQ        R14
	JNZ         zdrrow4
	VMOVUPS     Z0, (DI)
	VMOVUPS     Z1, (DI)(BX*1)
	LEAQ        (DI)(BX*2), R15
	VMOVUPS     Z2, (R15)
	VMOVUPS     Z3, (R15)(BX*1)
	ADDQ        $64, DI
	ADDQ        $64, SI
	ADDQ        $64, DX
	DECQ        R9
	JNZ         zdrch4
	LEAQ        (DI)(BX*2), DI
	ADDQ        BX, DI
	LEAQ        (R13)(R10*4), R13
	SUBQ        $4, R8
	JMP         zdrpix4
zdrpix1:
	TESTQ R8, R8
	JZ    zdrdone
zdrpix:
	MOVQ R13, SI
	MOVQ w+16(FP), DX
	MOVQ c+32(FP), R9
zdrch:
	VMOVUPS (DI), Z0
	MOVQ    SI, R11
	MOVQ    DX, R12
	MOVQ    nrow+64(FP), R14
zdrrow:
	MOVQ ntap+48(FP), AX
zdrtap:
	VMOVUPS     (R11), Z1
	VFMADD231PS (R12), Z1, Z0
	ADDQ        tstep+56(FP), R11
	ADDQ        BX, R12
	DECQ        AX
	JNZ         zdrtap
	ADDQ        rstep+72(FP), R11
	ADDQ        wstep+80(FP), R12
	DECQ        R14
	JNZ         zdrrow
	VMOVUPS     Z0, (DI)
	ADDQ        $64, DI
	ADDQ        $64, SI
	ADDQ        $64, DX
	DECQ        R9
	JNZ         zdrch
	ADDQ        sstep+40(FP), R13
	DECQ        R8
	JNZ         zdrpix
zdrdone:
	VZEROUPPER
	RET
