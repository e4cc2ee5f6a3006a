//go:build amd64 && !purego

package raster

import "github.com/tell-project/tell/nn"

// greyAsm says whether greySumsAVX2 may run: nn's switch (AVX2 and
// TELL_NN_NOASM unset), one detection and one variable for all the
// assembly.
var greyAsm = nn.AsmAVX2()

// greySumsAVX2 writes dst[k] = float32((r+g+b)/3) (integer division) for
// the first 8·blocks pixels of src (RGB bytes): greyOfSum's values. src
// must hold 24·blocks+4 bytes (the last block's load reads 4 past it).
//
//go:noescape
func greySumsAVX2(dst *float32, src *byte, blocks int)

// greyRun converts n contiguous pixels of src into dst and returns how
// many it did (a multiple of 8 that leaves at least 4 bytes of src after
// the last pixel converted; 0 without the assembly).
func greyRun(dst []float32, src []byte, n int) int {
	if !greyAsm || n < 8 {
		return 0
	}
	blocks := (len(src[:3*n]) - 4) / 24
	if blocks <= 0 {
		return 0
	}
	_, _ = dst[8*blocks-1], src[24*blocks+3]
	greySumsAVX2(&dst[0], &src[0], blocks)
	return 8 * blocks
}
