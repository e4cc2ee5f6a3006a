//go:build amd64 && !purego

#include "go_asm.h"
#include "textflag.h"

// Each function keeps one lane per point in a Y register and adds the
// window's elements in order, one float32 operation at a time per lane,
// as laneMeanGo, laneDotGo and laneResidGo do (no fused multiply-add).

// func laneMeanAVX(b *float32, m int, sum *[8]float32)
TEXT ·laneMeanAVX(SB), NOSPLIT, $0-24
	MOVQ b+0(FP), SI
	MOVQ m+8(FP), CX
	MOVQ sum+16(FP), DI
	VXORPS Y0, Y0, Y0
mean:
	VADDPS (SI), Y0, Y0
	ADDQ   $32, SI
	DECQ   CX
	JNZ    mean
	VMOVUPS Y0, (DI)
	VZEROUPPER
	RET

// func laneDotAVX(b, t *float32, m int, mean, it2 *[8]float32)
TEXT ·laneDotAVX(SB), NOSPLIT, $0-40
	MOVQ b+0(FP), SI
	MOVQ t+8(FP), DX
	MOVQ m+16(FP), CX
	MOVQ mean+24(FP), AX
	MOVQ it2+32(FP), DI
	VMOVUPS (AX), Y1
	VXORPS  Y0, Y0, Y0
dot:
	VMOVUPS (SI), Y2
	VSUBPS  Y1, Y2, Y2 // b − mean
	VMULPS  (DX), Y2, Y2
	VADDPS  Y2, Y0, Y0
	ADDQ    $32, SI
	ADDQ    $32, DX
	DECQ    CX
	JNZ     dot
	VMOVUPS Y0, (DI)
	VZEROUPPER
	RET

// laneSums' fields, at the offsets the go tool writes to go_asm.h.
#define sMean laneSums_mean
#define sInv laneSums_inv
#define sBX laneSums_bx
#define sBY laneSums_by
#define sE2 laneSums_e2

// func laneResidAVX(b, t, gx, gy *float32, m int, s *laneSums)
TEXT ·laneResidAVX(SB), NOSPLIT, $0-48
	MOVQ b+0(FP), SI
	MOVQ t+8(FP), DX
	MOVQ gx+16(FP), R8
	MOVQ gy+24(FP), R9
	MOVQ m+32(FP), CX
	MOVQ s+40(FP), DI
	VMOVUPS sMean(DI), Y1
	VMOVUPS sInv(DI), Y2
	VXORPS  Y3, Y3, Y3 // bx
	VXORPS  Y4, Y4, Y4 // by
	VXORPS  Y5, Y5, Y5 // e2
resid:
	VMOVUPS (SI), Y6
	VSUBPS  Y1, Y6, Y6 // b − mean
	VMULPS  Y2, Y6, Y6 // · inv
	VMOVUPS (DX), Y7
	VSUBPS  Y7, Y6, Y6 // − t: e
	VMULPS  (R8), Y6, Y7
	VADDPS  Y7, Y3, Y3
	VMULPS  (R9), Y6, Y8
	VADDPS  Y8, Y4, Y4
	VMULPS  Y6, Y6, Y9
	VADDPS  Y9, Y5, Y5
	ADDQ    $32, SI
	ADDQ    $32, DX
	ADDQ    $32, R8
	ADDQ    $32, R9
	DECQ    CX
	JNZ     resid
	VMOVUPS Y3, sBX(DI)
	VMOVUPS Y4, sBY(DI)
	VMOVUPS Y5, sE2(DI)
	VZEROUPPER
	RET

// func sampleRowAVX(r0, r1 *float32, n int, w *[4]float32, out *float32)
// out[8·x] = w00·r0[x] + w10·r0[x+1] + w01·r1[x] + w11·r1[x+1] for x < n,
// summed left to right as sampleLane does; r0 and r1 hold n+1 floats.
TEXT ·sampleRowAVX(SB), NOSPLIT, $0-40
	MOVQ r0+0(FP), SI
	MOVQ r1+8(FP), DX
	MOVQ n+16(FP), CX
	MOVQ w+24(FP), AX
	MOVQ out+32(FP), DI
	VBROADCASTSS 0(AX), Y0  // w00
	VBROADCASTSS 4(AX), Y1  // w10
	VBROADCASTSS 8(AX), Y2  // w01
	VBROADCASTSS 12(AX), Y3 // w11
block:
	CMPQ CX, $8
	JLT  tail
	VMULPS  (SI), Y0, Y4
	VMULPS  4(SI), Y1, Y5
	VADDPS  Y5, Y4, Y4
	VMULPS  (DX), Y2, Y5
	VADDPS  Y5, Y4, Y4
	VMULPS  4(DX), Y3, Y5
	VADDPS  Y5, Y4, Y4
	VEXTRACTF128 $1, Y4, X5
	VMOVSS     X4, 0(DI)
	VEXTRACTPS $1, X4, 32(DI)
	VEXTRACTPS $2, X4, 64(DI)
	VEXTRACTPS $3, X4, 96(DI)
	VMOVSS     X5, 128(DI)
	VEXTRACTPS $1, X5, 160(DI)
	VEXTRACTPS $2, X5, 192(DI)
	VEXTRACTPS $3, X5, 224(DI)
	ADDQ $32, SI
	ADDQ $32, DX
	ADDQ $256, DI
	SUBQ $8, CX
	JMP  block
tail:
	TESTQ CX, CX
	JZ    done
	VMULSS (SI), X0, X4
	VMULSS 4(SI), X1, X5
	VADDSS X5, X4, X4
	VMULSS (DX), X2, X5
	VADDSS X5, X4, X4
	VMULSS 4(DX), X3, X5
	VADDSS X5, X4, X4
	VMOVSS X4, (DI)
	ADDQ $4, SI
	ADDQ $4, DX
	ADDQ $32, DI
	DECQ CX
	JMP  tail
done:
	VZEROUPPER
	RET

// Crop's constants: float32 1 and ½ in every lane, float64 0 and 255.
DATA cropOne<>+0(SB)/8, $0x3f8000003f800000
DATA cropOne<>+8(SB)/8, $0x3f8000003f800000
GLOBL cropOne<>(SB), RODATA|NOPTR, $16
DATA cropHalf<>+0(SB)/8, $0x3f0000003f000000
DATA cropHalf<>+8(SB)/8, $0x3f0000003f000000
GLOBL cropHalf<>(SB), RODATA|NOPTR, $16
DATA crop255<>+0(SB)/8, $0x406fe00000000000
DATA crop255<>+8(SB)/8, $0x406fe00000000000
DATA crop255<>+16(SB)/8, $0x406fe00000000000
DATA crop255<>+24(SB)/8, $0x406fe00000000000
GLOBL crop255<>(SB), RODATA|NOPTR, $32

// func cropRowAVX2(a *cropArgs)
TEXT ·cropRowAVX2(SB), NOSPLIT, $0-8
	MOVQ a+0(FP), DI
	MOVQ cropArgs_uxs(DI), SI
	MOVQ cropArgs_uys(DI), DX
	MOVQ cropArgs_pix(DI), R8
	MOVQ cropArgs_stride(DI), R9
	LEAQ (R8)(R9*4), R10 // the row below
	MOVQ cropArgs_dst(DI), R11
	MOVQ cropArgs_n(DI), CX
	XORQ BX, BX
	MOVQ R9, X8
	VPBROADCASTD X8, X8 // stride
	MOVQ cropArgs_w1(DI), AX
	MOVQ AX, X9
	VPBROADCASTD X9, X9 // W−1
	MOVQ cropArgs_h1(DI), AX
	MOVQ AX, X10
	VPBROADCASTD X10, X10 // H−1
	VPCMPEQD X11, X11, X11 // −1
	VXORPD   Y12, Y12, Y12 // 0.0

block:
	CMPQ CX, $4
	JLT  done
	// rx = cx + ux + vy0, ry = cy + uy + vy1 (float64, in that order).
	VMOVUPD (SI), Y0
	VADDPD  cropArgs_cx(DI), Y0, Y0
	VADDPD  cropArgs_vy0(DI), Y0, Y0
	VMOVUPD (DX), Y1
	VADDPD  cropArgs_cy(DI), Y1, Y1
	VADDPD  cropArgs_vy1(DI), Y1, Y1
	// xd = a·rx − b·ry + tx, yd = b·rx + a·ry + ty.
	VMULPD  cropArgs_a(DI), Y0, Y2
	VMULPD  cropArgs_b(DI), Y1, Y3
	VSUBPD  Y3, Y2, Y2
	VADDPD  cropArgs_tx(DI), Y2, Y2
	VMULPD  cropArgs_b(DI), Y0, Y3
	VMULPD  cropArgs_a(DI), Y1, Y4
	VADDPD  Y4, Y3, Y3
	VADDPD  cropArgs_ty(DI), Y3, Y3
	VCVTPD2PSY Y2, X2 // x
	VCVTPD2PSY Y3, X3 // y
	// x0f = float32(int32(x)), less 1 where it exceeds x; y0f alike.
	VCVTTPS2DQ X2, X4
	VCVTDQ2PS  X4, X4
	VCMPPS     $1, X4, X2, X5 // x < x0f
	VANDPS     cropOne<>(SB), X5, X5
	VSUBPS     X5, X4, X4
	VCVTTPS2DQ X3, X6
	VCVTDQ2PS  X6, X6
	VCMPPS     $1, X6, X3, X5
	VANDPS     cropOne<>(SB), X5, X5
	VSUBPS     X5, X6, X6
	// x0, y0 as integers; all four inside 0 ≤ x0 < W−1, 0 ≤ y0 < H−1?
	VCVTTPS2DQ X4, X7
	VCVTTPS2DQ X6, X13
	VPCMPGTD   X11, X7, X14  // x0 > −1
	VPCMPGTD   X7, X9, X15   // W−1 > x0
	VPAND      X15, X14, X14
	VPCMPGTD   X11, X13, X15 // y0 > −1
	VPAND      X15, X14, X14
	VPCMPGTD   X13, X10, X15 // H−1 > y0
	VPAND      X15, X14, X14
	VMOVMSKPS  X14, AX
	CMPL       AX, $15
	JNE        done
	// The taps: (r0[0], r0[1]) and (r1[0], r1[1]) of each pixel as one
	// 64-bit load each (scalar loads: gathers are slow where microcode
	// mitigates them).
	VPMULLD    X8, X13, X13
	VPADDD     X7, X13, X13 // y0·stride + x0
	VMOVD      X13, AX
	VPEXTRD    $1, X13, R12
	VPEXTRD    $2, X13, R13
	VPEXTRD    $3, X13, R14
	VMOVQ      (R8)(AX*4), X0
	VPINSRQ    $1, (R8)(R12*4), X0, X0
	VMOVQ      (R8)(R13*4), X1
	VPINSRQ    $1, (R8)(R14*4), X1, X1
	VSHUFPS    $0x88, X1, X0, X7  // r0[0]
	VSHUFPS    $0xdd, X1, X0, X13 // r0[1]
	VMOVQ      (R10)(AX*4), X0
	VPINSRQ    $1, (R10)(R12*4), X0, X0
	VMOVQ      (R10)(R13*4), X1
	VPINSRQ    $1, (R10)(R14*4), X1, X1
	VSHUFPS    $0x88, X1, X0, X15 // r1[0]
	VSHUFPS    $0xdd, X1, X0, X14 // r1[1]
	VSUBPS     X4, X2, X2 // ax = x − x0f
	VSUBPS     X6, X3, X3 // ay = y − y0f
	// top = r0[0] + ax·(r0[1]−r0[0]), bot alike, b = top + ay·(bot−top).
	VSUBPS     X7, X13, X13
	VMULPS     X2, X13, X13
	VADDPS     X13, X7, X7
	VSUBPS     X15, X14, X14
	VMULPS     X2, X14, X14
	VADDPS     X14, X15, X15
	VSUBPS     X7, X15, X15
	VMULPS     X3, X15, X15
	VADDPS     X15, X7, X7
	// p = float64(b + ½), clamped to [0, 255], truncated to a byte.
	VADDPS     cropHalf<>(SB), X7, X7
	VCVTPS2PD  X7, Y7
	VMAXPD     Y12, Y7, Y7
	VMINPD     crop255<>(SB), Y7, Y7
	VCVTTPD2DQY Y7, X7
	VPACKUSDW  X7, X7, X7
	VPACKUSWB  X7, X7, X7
	VMOVD      X7, (R11)
	ADDQ $32, SI
	ADDQ $32, DX
	ADDQ $4, R11
	ADDQ $4, BX
	SUBQ $4, CX
	JMP  block

done:
	MOVQ BX, cropArgs_done(DI)
	VZEROUPPER
	RET

// func flowRowAVX2(a *cropArgs)
// cropRowAVX2 writing the bilinear values themselves (float32, to a.dst32).
TEXT ·flowRowAVX2(SB), NOSPLIT, $0-8
	MOVQ a+0(FP), DI
	MOVQ cropArgs_uxs(DI), SI
	MOVQ cropArgs_uys(DI), DX
	MOVQ cropArgs_pix(DI), R8
	MOVQ cropArgs_stride(DI), R9
	LEAQ (R8)(R9*4), R10 // the row below
	MOVQ cropArgs_dst32(DI), R11
	MOVQ cropArgs_n(DI), CX
	XORQ BX, BX
	MOVQ R9, X8
	VPBROADCASTD X8, X8 // stride
	MOVQ cropArgs_w1(DI), AX
	MOVQ AX, X9
	VPBROADCASTD X9, X9 // W−1
	MOVQ cropArgs_h1(DI), AX
	MOVQ AX, X10
	VPBROADCASTD X10, X10 // H−1
	VPCMPEQD X11, X11, X11 // −1
	VXORPD   Y12, Y12, Y12 // 0.0

sblock:
	CMPQ CX, $4
	JLT  sdone
	// rx = cx + ux + vy0, ry = cy + uy + vy1 (float64, in that order).
	VMOVUPD (SI), Y0
	VADDPD  cropArgs_cx(DI), Y0, Y0
	VADDPD  cropArgs_vy0(DI), Y0, Y0
	VMOVUPD (DX), Y1
	VADDPD  cropArgs_cy(DI), Y1, Y1
	VADDPD  cropArgs_vy1(DI), Y1, Y1
	// xd = a·rx − b·ry + tx, yd = b·rx + a·ry + ty.
	VMULPD  cropArgs_a(DI), Y0, Y2
	VMULPD  cropArgs_b(DI), Y1, Y3
	VSUBPD  Y3, Y2, Y2
	VADDPD  cropArgs_tx(DI), Y2, Y2
	VMULPD  cropArgs_b(DI), Y0, Y3
	VMULPD  cropArgs_a(DI), Y1, Y4
	VADDPD  Y4, Y3, Y3
	VADDPD  cropArgs_ty(DI), Y3, Y3
	VCVTPD2PSY Y2, X2 // x
	VCVTPD2PSY Y3, X3 // y
	// x0f = float32(int32(x)), less 1 where it exceeds x; y0f alike.
	VCVTTPS2DQ X2, X4
	VCVTDQ2PS  X4, X4
	VCMPPS     $1, X4, X2, X5 // x < x0f
	VANDPS     cropOne<>(SB), X5, X5
	VSUBPS     X5, X4, X4
	VCVTTPS2DQ X3, X6
	VCVTDQ2PS  X6, X6
	VCMPPS     $1, X6, X3, X5
	VANDPS     cropOne<>(SB), X5, X5
	VSUBPS     X5, X6, X6
	// x0, y0 as integers; all four inside 0 ≤ x0 < W−1, 0 ≤ y0 < H−1?
	VCVTTPS2DQ X4, X7
	VCVTTPS2DQ X6, X13
	VPCMPGTD   X11, X7, X14  // x0 > −1
	VPCMPGTD   X7, X9, X15   // W−1 > x0
	VPAND      X15, X14, X14
	VPCMPGTD   X11, X13, X15 // y0 > −1
	VPAND      X15, X14, X14
	VPCMPGTD   X13, X10, X15 // H−1 > y0
	VPAND      X15, X14, X14
	VMOVMSKPS  X14, AX
	CMPL       AX, $15
	JNE        sdone
	// The taps: (r0[0], r0[1]) and (r1[0], r1[1]) of each pixel as one
	// 64-bit load each (scalar loads: gathers are slow where microcode
	// mitigates them).
	VPMULLD    X8, X13, X13
	VPADDD     X7, X13, X13 // y0·stride + x0
	VMOVD      X13, AX
	VPEXTRD    $1, X13, R12
	VPEXTRD    $2, X13, R13
	VPEXTRD    $3, X13, R14
	VMOVQ      (R8)(AX*4), X0
	VPINSRQ    $1, (R8)(R12*4), X0, X0
	VMOVQ      (R8)(R13*4), X1
	VPINSRQ    $1, (R8)(R14*4), X1, X1
	VSHUFPS    $0x88, X1, X0, X7  // r0[0]
	VSHUFPS    $0xdd, X1, X0, X13 // r0[1]
	VMOVQ      (R10)(AX*4), X0
	VPINSRQ    $1, (R10)(R12*4), X0, X0
	VMOVQ      (R10)(R13*4), X1
	VPINSRQ    $1, (R10)(R14*4), X1, X1
	VSHUFPS    $0x88, X1, X0, X15 // r1[0]
	VSHUFPS    $0xdd, X1, X0, X14 // r1[1]
	VSUBPS     X4, X2, X2 // ax = x − x0f
	VSUBPS     X6, X3, X3 // ay = y − y0f
	// top = r0[0] + ax·(r0[1]−r0[0]), bot alike, b = top + ay·(bot−top).
	VSUBPS     X7, X13, X13
	VMULPS     X2, X13, X13
	VADDPS     X13, X7, X7
	VSUBPS     X15, X14, X14
	VMULPS     X2, X14, X14
	VADDPS     X14, X15, X15
	VSUBPS     X7, X15, X15
	VMULPS     X3, X15, X15
	VADDPS     X15, X7, X7
	VMOVUPS    X7, (R11)
	ADDQ $32, SI
	ADDQ $32, DX
	ADDQ $16, R11
	ADDQ $4, BX
	SUBQ $4, CX
	JMP  sblock

sdone:
	MOVQ BX, cropArgs_done(DI)
	VZEROUPPER
	RET

// The pyramid's constants: float32 ¼ and ½ in every lane.
DATA pyrQuarter<>+0(SB)/8, $0x3e8000003e800000
DATA pyrQuarter<>+8(SB)/8, $0x3e8000003e800000
DATA pyrQuarter<>+16(SB)/8, $0x3e8000003e800000
DATA pyrQuarter<>+24(SB)/8, $0x3e8000003e800000
GLOBL pyrQuarter<>(SB), RODATA|NOPTR, $32
DATA pyrHalf<>+0(SB)/8, $0x3f0000003f000000
DATA pyrHalf<>+8(SB)/8, $0x3f0000003f000000
DATA pyrHalf<>+16(SB)/8, $0x3f0000003f000000
DATA pyrHalf<>+24(SB)/8, $0x3f0000003f000000
GLOBL pyrHalf<>(SB), RODATA|NOPTR, $32

// func blur3AVX(out, p, q, r *float32, n int)
// out[x] = ¼·p[x] + ½·q[x] + ¼·r[x], summed left to right, for x < n
// (n a multiple of 8).
TEXT ·blur3AVX(SB), NOSPLIT, $0-40
	MOVQ out+0(FP), DI
	MOVQ p+8(FP), SI
	MOVQ q+16(FP), DX
	MOVQ r+24(FP), R8
	MOVQ n+32(FP), CX
	VMOVUPS pyrQuarter<>(SB), Y4
	VMOVUPS pyrHalf<>(SB), Y5
	SHRQ $3, CX
	JZ   blurdone
blur:
	VMULPS (SI), Y4, Y0
	VMULPS (DX), Y5, Y1
	VADDPS Y1, Y0, Y0
	VMULPS (R8), Y4, Y1
	VADDPS Y1, Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DX
	ADDQ $32, R8
	ADDQ $32, DI
	DECQ CX
	JNZ  blur
blurdone:
	VZEROUPPER
	RET

// func halveAVX(out, r0, r1 *float32, n int)
// out[x] = ¼·(r0[2x] + r0[2x+1] + r1[2x] + r1[2x+1]), summed left to
// right, for x < n (n a multiple of 4).
TEXT ·halveAVX(SB), NOSPLIT, $0-32
	MOVQ out+0(FP), DI
	MOVQ r0+8(FP), SI
	MOVQ r1+16(FP), DX
	MOVQ n+24(FP), CX
	VMOVUPS pyrQuarter<>(SB), X4
	SHRQ $2, CX
	JZ   halvedone
halve:
	VMOVUPS (SI), X0
	VMOVUPS 16(SI), X1
	VSHUFPS $0x88, X1, X0, X2 // r0[2x]
	VSHUFPS $0xdd, X1, X0, X3 // r0[2x+1]
	VADDPS  X3, X2, X2
	VMOVUPS (DX), X0
	VMOVUPS 16(DX), X1
	VSHUFPS $0x88, X1, X0, X3 // r1[2x]
	VADDPS  X3, X2, X2
	VSHUFPS $0xdd, X1, X0, X3 // r1[2x+1]
	VADDPS  X3, X2, X2
	VMULPS  X4, X2, X2
	VMOVUPS X2, (DI)
	ADDQ $32, SI
	ADDQ $32, DX
	ADDQ $16, DI
	DECQ CX
	JNZ  halve
halvedone:
	RET
