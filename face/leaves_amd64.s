//go:build amd64 && !purego

#include "textflag.h"

// func addLeavesAVX(cur *float32, leaves *float32, offs *int32, n int)
// cur holds 136 floats; each offs[t] (t < n) indexes a leaf of 136 floats
// in leaves. Every coordinate gets the leaves added in tree order, one
// float32 addition each, as addLeavesGo does: floats 0–63 in Y0–Y7 over
// all trees, then 64–135 in Y0–Y8.
TEXT ·addLeavesAVX(SB), NOSPLIT, $0-32
	MOVQ cur+0(FP), DI
	MOVQ leaves+8(FP), SI
	MOVQ offs+16(FP), DX
	MOVQ n+24(FP), CX

	VMOVUPS 0(DI), Y0
	VMOVUPS 32(DI), Y1
	VMOVUPS 64(DI), Y2
	VMOVUPS 96(DI), Y3
	VMOVUPS 128(DI), Y4
	VMOVUPS 160(DI), Y5
	VMOVUPS 192(DI), Y6
	VMOVUPS 224(DI), Y7
	XORQ BX, BX
lo:
	CMPQ BX, CX
	JGE  lodone
	// Fetch the leaf 6 trees ahead into the cache (all of it: the second
	// pass reads its upper part): its address comes from the tree walk,
	// which the hardware prefetcher cannot guess.
	LEAQ 6(BX), R9
	CMPQ R9, CX
	JGE  nopf
	MOVLQSX (DX)(R9*4), R10
	LEAQ (SI)(R10*4), R10
	PREFETCHT0 0(R10)
	PREFETCHT0 64(R10)
	PREFETCHT0 128(R10)
	PREFETCHT0 192(R10)
	PREFETCHT0 256(R10)
	PREFETCHT0 320(R10)
	PREFETCHT0 384(R10)
	PREFETCHT0 448(R10)
	PREFETCHT0 512(R10)
nopf:
	MOVLQSX (DX)(BX*4), AX
	LEAQ (SI)(AX*4), R8
	VADDPS 0(R8), Y0, Y0
	VADDPS 32(R8), Y1, Y1
	VADDPS 64(R8), Y2, Y2
	VADDPS 96(R8), Y3, Y3
	VADDPS 128(R8), Y4, Y4
	VADDPS 160(R8), Y5, Y5
	VADDPS 192(R8), Y6, Y6
	VADDPS 224(R8), Y7, Y7
	INCQ BX
	JMP  lo
lodone:
	VMOVUPS Y0, 0(DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	VMOVUPS Y4, 128(DI)
	VMOVUPS Y5, 160(DI)
	VMOVUPS Y6, 192(DI)
	VMOVUPS Y7, 224(DI)

	VMOVUPS 256(DI), Y0
	VMOVUPS 288(DI), Y1
	VMOVUPS 320(DI), Y2
	VMOVUPS 352(DI), Y3
	VMOVUPS 384(DI), Y4
	VMOVUPS 416(DI), Y5
	VMOVUPS 448(DI), Y6
	VMOVUPS 480(DI), Y7
	VMOVUPS 512(DI), Y8
	XORQ BX, BX
hi:
	CMPQ BX, CX
	JGE  hidone
	MOVLQSX (DX)(BX*4), AX
	LEAQ (SI)(AX*4), R8
	VADDPS 256(R8), Y0, Y0
	VADDPS 288(R8), Y1, Y1
	VADDPS 320(R8), Y2, Y2
	VADDPS 352(R8), Y3, Y3
	VADDPS 384(R8), Y4, Y4
	VADDPS 416(R8), Y5, Y5
	VADDPS 448(R8), Y6, Y6
	VADDPS 480(R8), Y7, Y7
	VADDPS 512(R8), Y8, Y8
	INCQ BX
	JMP  hi
hidone:
	VMOVUPS Y0, 256(DI)
	VMOVUPS Y1, 288(DI)
	VMOVUPS Y2, 320(DI)
	VMOVUPS Y3, 352(DI)
	VMOVUPS Y4, 384(DI)
	VMOVUPS Y5, 416(DI)
	VMOVUPS Y6, 448(DI)
	VMOVUPS Y7, 480(DI)
	VMOVUPS Y8, 512(DI)
	VZEROUPPER
	RET

// func addLeavesAVX512(cur *float32, leaves *float32, offs *int32, n int)
// addLeavesAVX in one pass: all 136 coordinates in Z0–Z7 and Y8, so each
// leaf is read once, as a whole, right after its prefetch lands (the AVX2
// version reads every leaf twice, its upper half from L2 on the second
// pass). The same float32 additions in tree order for each coordinate.
TEXT ·addLeavesAVX512(SB), NOSPLIT, $0-32
	MOVQ cur+0(FP), DI
	MOVQ leaves+8(FP), SI
	MOVQ offs+16(FP), DX
	MOVQ n+24(FP), CX

	VMOVUPS 0(DI), Z0
	VMOVUPS 64(DI), Z1
	VMOVUPS 128(DI), Z2
	VMOVUPS 192(DI), Z3
	VMOVUPS 256(DI), Z4
	VMOVUPS 320(DI), Z5
	VMOVUPS 384(DI), Z6
	VMOVUPS 448(DI), Z7
	VMOVUPS 512(DI), Y8
	XORQ BX, BX
z:
	CMPQ BX, CX
	JGE  zdone
	LEAQ 6(BX), R9
	CMPQ R9, CX
	JGE  znopf
	MOVLQSX (DX)(R9*4), R10
	LEAQ (SI)(R10*4), R10
	PREFETCHT0 0(R10)
	PREFETCHT0 64(R10)
	PREFETCHT0 128(R10)
	PREFETCHT0 192(R10)
	PREFETCHT0 256(R10)
	PREFETCHT0 320(R10)
	PREFETCHT0 384(R10)
	PREFETCHT0 448(R10)
	PREFETCHT0 512(R10)
znopf:
	MOVLQSX (DX)(BX*4), AX
	LEAQ (SI)(AX*4), R8
	VADDPS 0(R8), Z0, Z0
	VADDPS 64(R8), Z1, Z1
	VADDPS 128(R8), Z2, Z2
	VADDPS 192(R8), Z3, Z3
	VADDPS 256(R8), Z4, Z4
	VADDPS 320(R8), Z5, Z5
	VADDPS 384(R8), Z6, Z6
	VADDPS 448(R8), Z7, Z7
	VADDPS 512(R8), Y8, Y8
	INCQ BX
	JMP  z
zdone:
	VMOVUPS Z0, 0(DI)
	VMOVUPS Z1, 64(DI)
	VMOVUPS Z2, 128(DI)
	VMOVUPS Z3, 192(DI)
	VMOVUPS Z4, 256(DI)
	VMOVUPS Z5, 320(DI)
	VMOVUPS Z6, 384(DI)
	VMOVUPS Z7, 448(DI)
	VMOVUPS Y8, 512(DI)
	VZEROUPPER
	RET
