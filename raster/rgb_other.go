//go:build !amd64 || purego

package raster

// greyRun converts nothing in this build: Gray converts in Go.
func greyRun(dst []float32, src []byte, n int) int { return 0 }
