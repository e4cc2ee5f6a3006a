//go:build amd64 && !purego

package face

import (
	"github.com/tell-project/tell/nn"
	"golang.org/x/sys/cpu"
)

// haveAVX says whether addLeavesAVX may run: nn's switch (AVX2, which
// implies the AVX it needs, and TELL_NN_NOASM unset), so that one
// detection and one variable govern all the assembly.
var haveAVX = nn.AsmAVX2()

// haveAVX512 says whether addLeavesAVX512 may run.
var haveAVX512 = haveAVX && cpu.X86.HasAVX512F

// addLeavesAVX is addLeaves in 256-bit registers: the same additions in
// the same order for each coordinate. Every offs[t]+136 must lie within
// leaves.
//
//go:noescape
func addLeavesAVX(cur *float32, leaves *float32, offs *int32, n int)

// addLeavesAVX512 is addLeavesAVX in one pass over the leaves (512-bit
// registers), with the same additions in the same order.
//
//go:noescape
func addLeavesAVX512(cur *float32, leaves *float32, offs *int32, n int)
