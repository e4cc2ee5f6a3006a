//go:build !unix

package profile

import "time"

// threadCPU has no per-thread clock here: 0, so stages read no CPU time.
func threadCPU() time.Duration { return 0 }

// ProcessCPU is unknown here: 0.
func ProcessCPU() time.Duration { return 0 }
