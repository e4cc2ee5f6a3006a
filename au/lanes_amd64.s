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
