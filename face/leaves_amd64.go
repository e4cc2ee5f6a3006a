package face

import "golang.org/x/sys/cpu"

// haveAVX says whether addLeavesAVX can run.
var haveAVX = cpu.X86.HasAVX

// haveAVX512 says whether addLeavesAVX512 can run.
var haveAVX512 = cpu.X86.HasAVX512F

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
