package face

import "golang.org/x/sys/cpu"

// haveAVX says whether addLeavesAVX can run.
var haveAVX = cpu.X86.HasAVX

// addLeavesAVX is addLeaves in 256-bit registers: the same additions in
// the same order for each coordinate. Every offs[t]+136 must lie within
// leaves.
//
//go:noescape
func addLeavesAVX(cur *float32, leaves *float32, offs *int32, n int)
