//go:build amd64 && !purego

#include "textflag.h"

// Byte shuffle, per 128-bit lane holding 4 RGB pixels (12 bytes): pixel k's
// r, g, b into bytes 4k, 4k+1, 4k+2, zero into 4k+3 (0x80 selects zero).
DATA greyShuf<>+0(SB)/8, $0x8005040380020100
DATA greyShuf<>+8(SB)/8, $0x800b0a0980080706
DATA greyShuf<>+16(SB)/8, $0x8005040380020100
DATA greyShuf<>+24(SB)/8, $0x800b0a0980080706
GLOBL greyShuf<>(SB), RODATA|NOPTR, $32

// Ones: bytes for VPMADDUBSW (r+g, b+0 as words), words for VPMADDWD.
DATA greyOnesB<>+0(SB)/8, $0x0101010101010101
DATA greyOnesB<>+8(SB)/8, $0x0101010101010101
DATA greyOnesB<>+16(SB)/8, $0x0101010101010101
DATA greyOnesB<>+24(SB)/8, $0x0101010101010101
GLOBL greyOnesB<>(SB), RODATA|NOPTR, $32
DATA greyOnesW<>+0(SB)/8, $0x0001000100010001
DATA greyOnesW<>+8(SB)/8, $0x0001000100010001
DATA greyOnesW<>+16(SB)/8, $0x0001000100010001
DATA greyOnesW<>+24(SB)/8, $0x0001000100010001
GLOBL greyOnesW<>(SB), RODATA|NOPTR, $32

// func greySumsAVX2(dst *float32, src *byte, blocks int)
// Each block: 8 pixels, their sums s = r+g+b (≤ 765) as dwords, s/3 as
// (s·43691)>>17 (exact for s < 98304), then float32 (exact).
TEXT ·greySumsAVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ blocks+16(FP), CX
	VMOVDQU greyShuf<>(SB), Y5
	VMOVDQU greyOnesB<>(SB), Y6
	VMOVDQU greyOnesW<>(SB), Y7
	MOVL    $43691, AX
	MOVD    AX, X8
	VPBROADCASTD X8, Y8
loop:
	VMOVDQU    (SI), X0          // pixels 0–3 (and 4 bytes more)
	VINSERTI128 $1, 12(SI), Y0, Y0 // pixels 4–7 (and 4 bytes more)
	VPSHUFB    Y5, Y0, Y0
	VPMADDUBSW Y6, Y0, Y0 // words r+g, b
	VPMADDWD   Y7, Y0, Y0 // dwords r+g+b
	VPMULLD    Y8, Y0, Y0
	VPSRLD     $17, Y0, Y0
	VCVTDQ2PS  Y0, Y0
	VMOVUPS    Y0, (DI)
	ADDQ $24, SI
	ADDQ $32, DI
	DECQ CX
	JNZ  loop
	VZEROUPPER
	RET
