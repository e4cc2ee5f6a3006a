//go:build amd64 && !purego

#include "textflag.h"

DATA gelu<>+0(SB)/4, $0x3f3504f3 // inv_sqrt2
DATA gelu<>+4(SB)/4, $0x40800000 // four
DATA gelu<>+8(SB)/4, $0xc0800000 // mfour
DATA gelu<>+12(SB)/4, $0xaf95df0b // a13
DATA gelu<>+16(SB)/4, $0x32edffee // a11
DATA gelu<>+20(SB)/4, $0xb60cff51 // a9
DATA gelu<>+24(SB)/4, $0xb86ec2d2 // a7
DATA gelu<>+28(SB)/4, $0xba40ac63 // a5
DATA gelu<>+32(SB)/4, $0xbb41a1f6 // a3
DATA gelu<>+36(SB)/4, $0xbc83dbd4 // a1
DATA gelu<>+40(SB)/4, $0xb77460cd // b8
DATA gelu<>+44(SB)/4, $0xb95fbd29 // b6
DATA gelu<>+48(SB)/4, $0xbadc924e // b4
DATA gelu<>+52(SB)/4, $0xbbf19bf8 // b2
DATA gelu<>+56(SB)/4, $0xbc69b6a7 // b0
DATA gelu<>+60(SB)/4, $0x3f000000 // half
DATA gelu<>+64(SB)/4, $0xbf000000 // mhalf
DATA gelu<>+68(SB)/4, $0x3ecc422a // inv_sqrt2pi
DATA gelu<>+72(SB)/4, $0x3fb8aa3b // log2e
DATA gelu<>+76(SB)/4, $0x3f318000 // ln2hi
DATA gelu<>+80(SB)/4, $0xb95e8083 // ln2lo
DATA gelu<>+84(SB)/4, $0x39506967 // e5
DATA gelu<>+88(SB)/4, $0x3ab743ce // e4
DATA gelu<>+92(SB)/4, $0x3c088908 // e3
DATA gelu<>+96(SB)/4, $0x3d2aa9c1 // e2
DATA gelu<>+100(SB)/4, $0x3e2aaaaa // e1
DATA gelu<>+104(SB)/4, $0x3f000000 // e0
DATA gelu<>+108(SB)/4, $0x3f800000 // one
DATA gelu<>+112(SB)/4, $0xc2ae0000 // expmin
GLOBL gelu<>(SB), RODATA|NOPTR, $116

// func geluAVX2(x, y, d *float32, n int)
// For n (a multiple of 8) values: y = x·Φ(x) and d = Φ(x) + x·φ(x), the
// derivative kept for the backward pass. Φ uses the same erf rational
// approximation as erff, φ the same exp polynomial as expf.
TEXT ·geluAVX2(SB), NOSPLIT, $0-32
	MOVQ x+0(FP), SI
	MOVQ y+8(FP), DI
	MOVQ d+16(FP), DX
	MOVQ n+24(FP), CX
	SHRQ $3, CX
	JZ done
loop:
	VMOVUPS (SI), Y0
	// z = clamp(x/√2, -4, 4); z2 = z²
	VBROADCASTSS gelu<>+0(SB), Y15
	VMULPS Y15, Y0, Y1
	VBROADCASTSS gelu<>+4(SB), Y15
	VMINPS Y15, Y1, Y1
	VBROADCASTSS gelu<>+8(SB), Y15
	VMAXPS Y15, Y1, Y1
	VMULPS Y1, Y1, Y2
	// p = z·poly_a(z2)
	VBROADCASTSS gelu<>+12(SB), Y3
	VBROADCASTSS gelu<>+16(SB), Y15
	VFMADD213PS Y15, Y2, Y3
	VBROADCASTSS gelu<>+20(SB), Y15
	VFMADD213PS Y15, Y2, Y3
	VBROADCASTSS gelu<>+24(SB), Y15
	VFMADD213PS Y15, Y2, Y3
	VBROADCASTSS gelu<>+28(SB), Y15
	VFMADD213PS Y15, Y2, Y3
	VBROADCASTSS gelu<>+32(SB), Y15
	VFMADD213PS Y15, Y2, Y3
	VBROADCASTSS gelu<>+36(SB), Y15
	VFMADD213PS Y15, Y2, Y3
	VMULPS Y1, Y3, Y3
	// q = poly_b(z2)
	VBROADCASTSS gelu<>+40(SB), Y4
	VBROADCASTSS gelu<>+44(SB), Y15
	VFMADD213PS Y15, Y2, Y4
	VBROADCASTSS gelu<>+48(SB), Y15
	VFMADD213PS Y15, Y2, Y4
	VBROADCASTSS gelu<>+52(SB), Y15
	VFMADD213PS Y15, Y2, Y4
	VBROADCASTSS gelu<>+56(SB), Y15
	VFMADD213PS Y15, Y2, Y4
	VDIVPS Y4, Y3, Y3
	// cdf = 0.5 + 0.5·erf; y = x·cdf
	VBROADCASTSS gelu<>+60(SB), Y14
	VFMADD213PS Y14, Y14, Y3
	VMULPS Y3, Y0, Y5
	VMOVUPS Y5, (DI)
	// t = max(-0.5·x², -87); exp(t) = 2^k·poly(r), t = k·ln2 + r
	VBROADCASTSS gelu<>+64(SB), Y15
	VMULPS Y0, Y0, Y6
	VMULPS Y15, Y6, Y6
	VBROADCASTSS gelu<>+112(SB), Y15
	VMAXPS Y15, Y6, Y6
	VBROADCASTSS gelu<>+72(SB), Y15
	VMULPS Y15, Y6, Y7
	VROUNDPS $0, Y7, Y7
	VBROADCASTSS gelu<>+76(SB), Y15
	VMOVAPS Y6, Y8
	VFNMADD231PS Y15, Y7, Y8
	VBROADCASTSS gelu<>+80(SB), Y15
	VFNMADD231PS Y15, Y7, Y8
	VBROADCASTSS gelu<>+84(SB), Y9
	VBROADCASTSS gelu<>+88(SB), Y15
	VFMADD213PS Y15, Y8, Y9
	VBROADCASTSS gelu<>+92(SB), Y15
	VFMADD213PS Y15, Y8, Y9
	VBROADCASTSS gelu<>+96(SB), Y15
	VFMADD213PS Y15, Y8, Y9
	VBROADCASTSS gelu<>+100(SB), Y15
	VFMADD213PS Y15, Y8, Y9
	VBROADCASTSS gelu<>+104(SB), Y15
	VFMADD213PS Y15, Y8, Y9
	// e = (p·r)·r + r + 1
	VMULPS Y8, Y9, Y9
	VBROADCASTSS gelu<>+108(SB), Y15
	VADDPS Y15, Y8, Y10
	VFMADD213PS Y10, Y8, Y9
	// scale by 2^k
	VCVTPS2DQ Y7, Y7
	VPSLLD $23, Y7, Y7
	VPADDD Y9, Y7, Y9
	// d = cdf + x·φ(x)
	VBROADCASTSS gelu<>+68(SB), Y15
	VMULPS Y15, Y9, Y9
	VFMADD231PS Y9, Y0, Y3
	VMOVUPS Y3, (DX)
	ADDQ $32, SI
	ADDQ $32, DI
	ADDQ $32, DX
	DECQ CX
	JNZ loop
done:
	VZEROUPPER
	RET

// func expAVX2(x *float32, n int)
// x[i] = exp(max(x[i], -87)) in place for n a multiple of 8, with the
// range reduction and polynomial of expf.
TEXT ·expAVX2(SB), NOSPLIT, $0-16
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
	SHRQ $3, CX
	JZ edone
	VBROADCASTSS gelu<>+112(SB), Y11
	VBROADCASTSS gelu<>+72(SB), Y12
	VBROADCASTSS gelu<>+76(SB), Y13
	VBROADCASTSS gelu<>+80(SB), Y14
	VBROADCASTSS gelu<>+108(SB), Y10
eloop:
	VMOVUPS (SI), Y6
	VMAXPS Y11, Y6, Y6
	VMULPS Y12, Y6, Y7
	VROUNDPS $0, Y7, Y7
	VMOVAPS Y6, Y8
	VFNMADD231PS Y13, Y7, Y8
	VFNMADD231PS Y14, Y7, Y8
	VBROADCASTSS gelu<>+84(SB), Y9
	VBROADCASTSS gelu<>+88(SB), Y15
	VFMADD213PS Y15, Y8, Y9
	VBROADCASTSS gelu<>+92(SB), Y15
	VFMADD213PS Y15, Y8, Y9
	VBROADCASTSS gelu<>+96(SB), Y15
	VFMADD213PS Y15, Y8, Y9
	VBROADCASTSS gelu<>+100(SB), Y15
	VFMADD213PS Y15, Y8, Y9
	VBROADCASTSS gelu<>+104(SB), Y15
	VFMADD213PS Y15, Y8, Y9
	VMULPS Y8, Y9, Y9
	VADDPS Y10, Y8, Y5
	VFMADD213PS Y5, Y8, Y9
	VCVTPS2DQ Y7, Y7
	VPSLLD $23, Y7, Y7
	VPADDD Y9, Y7, Y9
	VMOVUPS Y9, (SI)
	ADDQ $32, SI
	DECQ CX
	JNZ eloop
edone:
	VZEROUPPER
	RET

// EXP8 sets Y9 = exp(max(Y6, −87)) as expAVX2 does, with Y10 = 1,
// Y11 = −87, Y12 = log2e, Y13 = ln2hi, Y14 = ln2lo loaded; it clobbers
// Y5–Y8 and Y15.
#define EXP8 \
	VMAXPS Y11, Y6, Y6; \
	VMULPS Y12, Y6, Y7; \
	VROUNDPS $0, Y7, Y7; \
	VMOVAPS Y6, Y8; \
	VFNMADD231PS Y13, Y7, Y8; \
	VFNMADD231PS Y14, Y7, Y8; \
	VBROADCASTSS gelu<>+84(SB), Y9; \
	VBROADCASTSS gelu<>+88(SB), Y15; \
	VFMADD213PS Y15, Y8, Y9; \
	VBROADCASTSS gelu<>+92(SB), Y15; \
	VFMADD213PS Y15, Y8, Y9; \
	VBROADCASTSS gelu<>+96(SB), Y15; \
	VFMADD213PS Y15, Y8, Y9; \
	VBROADCASTSS gelu<>+100(SB), Y15; \
	VFMADD213PS Y15, Y8, Y9; \
	VBROADCASTSS gelu<>+104(SB), Y15; \
	VFMADD213PS Y15, Y8, Y9; \
	VMULPS Y8, Y9, Y9; \
	VADDPS Y10, Y8, Y5; \
	VFMADD213PS Y5, Y8, Y9; \
	VCVTPS2DQ Y7, Y7; \
	VPSLLD $23, Y7, Y7; \
	VPADDD Y9, Y7, Y9

// SUM8 leaves in X(r)'s low lane the sum of Y(r)'s lanes s0..s7 as
// ((s0+s4)+(s2+s6)) + ((s1+s5)+(s3+s7)) (lnHsum's order).
#define SUM8(yr, xr, xt) \
	VEXTRACTF128 $1, yr, xt; \
	VADDPS xt, xr, xr; \
	VMOVHLPS xr, xr, xt; \
	VADDPS xt, xr, xr; \
	VMOVSHDUP xr, xt; \
	VADDSS xt, xr, xr

DATA sminf<>+0(SB)/4, $0xff800000
GLOBL sminf<>(SB), RODATA|NOPTR, $4

// func softmaxRowsAVX2(p *float32, n, t int, scale float32, tail *int32)
// Each of the n rows of t values: softmax(scale·row) as softmaxRowsGo
// computes it without a key mask; tail points to eight int32 lane masks,
// all ones for the t mod 8 lanes past the last full group of eight.
TEXT ·softmaxRowsAVX2(SB), NOSPLIT, $0-40
	MOVQ p+0(FP), SI
	MOVQ n+8(FP), R8
	MOVQ t+16(FP), R10
	VBROADCASTSS scale+24(FP), Y1
	MOVQ tail+32(FP), AX
	VMOVUPS (AX), Y2
	MOVQ R10, R11
	ANDQ $7, R11
	MOVQ R10, R9
	ANDQ $-8, R9
	SHLQ $2, R9  // bytes in full groups
	SHLQ $2, R10 // row bytes
	VBROADCASTSS sminf<>(SB), Y3
	VBROADCASTSS gelu<>+108(SB), Y10
	VBROADCASTSS gelu<>+112(SB), Y11
	VBROADCASTSS gelu<>+72(SB), Y12
	VBROADCASTSS gelu<>+76(SB), Y13
	VBROADCASTSS gelu<>+80(SB), Y14
	TESTQ R8, R8
	JZ sdone
srow:
	// maximum
	VMOVAPS Y3, Y0
	XORQ AX, AX
	CMPQ AX, R9
	JGE s1tail
s1:
	VMAXPS (SI)(AX*1), Y0, Y0
	ADDQ $32, AX
	CMPQ AX, R9
	JLT s1
s1tail:
	TESTQ R11, R11
	JZ s1done
	VMASKMOVPS (SI)(AX*1), Y2, Y6
	VBLENDVPS Y2, Y6, Y3, Y6
	VMAXPS Y6, Y0, Y0
s1done:
	VEXTRACTF128 $1, Y0, X6
	VMAXPS X6, X0, X0
	VMOVHLPS X0, X0, X6
	VMAXPS X6, X0, X0
	VMOVSHDUP X0, X6
	VMAXSS X6, X0, X0
	VBROADCASTSS X0, Y4
	// e = exp((x − max)·scale), summed in eight lanes
	VXORPS Y0, Y0, Y0
	XORQ AX, AX
	CMPQ AX, R9
	JGE s2tail
s2:
	VMOVUPS (SI)(AX*1), Y6
	VSUBPS Y4, Y6, Y6
	VMULPS Y1, Y6, Y6
	EXP8
	VMOVUPS Y9, (SI)(AX*1)
	VADDPS Y9, Y0, Y0
	ADDQ $32, AX
	CMPQ AX, R9
	JLT s2
s2tail:
	TESTQ R11, R11
	JZ s2done
	VMASKMOVPS (SI)(AX*1), Y2, Y6
	VSUBPS Y4, Y6, Y6
	VMULPS Y1, Y6, Y6
	EXP8
	VANDPS Y2, Y9, Y9
	VMASKMOVPS Y9, Y2, (SI)(AX*1)
	VADDPS Y9, Y0, Y0
s2done:
	SUM8(Y0, X0, X6)
	VDIVSS X0, X10, X0
	VBROADCASTSS X0, Y4
	// normalise
	XORQ AX, AX
	CMPQ AX, R9
	JGE s3tail
s3:
	VMULPS (SI)(AX*1), Y4, Y6
	VMOVUPS Y6, (SI)(AX*1)
	ADDQ $32, AX
	CMPQ AX, R9
	JLT s3
s3tail:
	TESTQ R11, R11
	JZ s3done
	VMASKMOVPS (SI)(AX*1), Y2, Y6
	VMULPS Y4, Y6, Y6
	VMASKMOVPS Y6, Y2, (SI)(AX*1)
s3done:
	ADDQ R10, SI
	DECQ R8
	JNZ srow
sdone:
	VZEROUPPER
	RET

// func softmaxBackRowsAVX2(p, dp *float32, n, t int, scale float32, tail *int32)
// Each of the n rows: dp = p·(dp − Σ p·dp)·scale, the sum in eight lanes
// (softmaxBackRowsGo's order; no fused multiply–add).
TEXT ·softmaxBackRowsAVX2(SB), NOSPLIT, $0-48
	MOVQ p+0(FP), SI
	MOVQ dp+8(FP), DI
	MOVQ n+16(FP), R8
	MOVQ t+24(FP), R10
	VBROADCASTSS scale+32(FP), Y1
	MOVQ tail+40(FP), AX
	VMOVUPS (AX), Y2
	MOVQ R10, R11
	ANDQ $7, R11
	MOVQ R10, R9
	ANDQ $-8, R9
	SHLQ $2, R9
	SHLQ $2, R10
	TESTQ R8, R8
	JZ bdone
brow:
	VXORPS Y0, Y0, Y0
	XORQ AX, AX
	CMPQ AX, R9
	JGE b1tail
b1:
	VMOVUPS (SI)(AX*1), Y6
	VMULPS (DI)(AX*1), Y6, Y6
	VADDPS Y6, Y0, Y0
	ADDQ $32, AX
	CMPQ AX, R9
	JLT b1
b1tail:
	TESTQ R11, R11
	JZ b1done
	VMASKMOVPS (SI)(AX*1), Y2, Y6
	VMASKMOVPS (DI)(AX*1), Y2, Y7
	VMULPS Y7, Y6, Y6
	VADDPS Y6, Y0, Y0
b1done:
	SUM8(Y0, X0, X6)
	VBROADCASTSS X0, Y4
	XORQ AX, AX
	CMPQ AX, R9
	JGE b2tail
b2:
	VMOVUPS (DI)(AX*1), Y6
	VSUBPS Y4, Y6, Y6
	VMULPS (SI)(AX*1), Y6, Y6
	VMULPS Y1, Y6, Y6
	VMOVUPS Y6, (DI)(AX*1)
	ADDQ $32, AX
	CMPQ AX, R9
	JLT b2
b2tail:
	TESTQ R11, R11
	JZ b2done
	VMASKMOVPS (SI)(AX*1), Y2, Y7
	VMASKMOVPS (DI)(AX*1), Y2, Y6
	VSUBPS Y4, Y6, Y6
	VMULPS Y7, Y6, Y6
	VMULPS Y1, Y6, Y6
	VMASKMOVPS Y6, Y2, (DI)(AX*1)
b2done:
	ADDQ R10, SI
	ADDQ R10, DI
	DECQ R8
	JNZ brow
bdone:
	VZEROUPPER
	RET
