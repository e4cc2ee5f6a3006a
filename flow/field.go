// Package flow computes dense optical flow between two grey images with the
// TV-L1 method (Zach, Pock and Bischof 2007, with the refinements of Wedel et
// al. 2009 as in OpenCV's DualTVL1), optical strain, and reads and writes
// flow in the Middlebury .flo format and as the RGB flow images used by
// micro-expression recognition datasets.
//
// Limits: brightness constancy (no illumination term), so lighting changes
// read as motion unless the caller normalises the images; motion beyond what
// the pyramid reaches (several px at the coarsest level) is lost; the AVX2
// kernels need amd64 with AVX2 and FMA, elsewhere the pure-Go code runs
// (same results, slower).
//
// All images and fields are flat row-major float32 slices. The hot path —
// onset/apex pairs of aligned face crops around 128×128 — reuses every
// buffer: a TVL1 estimator allocates only when the image size changes.
//
// The TV-L1 solver follows OpenCV's DualTVL1 step by step (bilinear image
// pyramid, bicubic warps of I1 and its centred gradient, thresholding,
// primal and dual updates, median filtering between outer iterations, the
// same epsilon test), with these deliberate differences: warps sample at
// the exact position (OpenCV's remap rounds to 1/32 px) and replicate the
// border (OpenCV's reads zeros outside the image); where |∇I1|² is below
// FLT_EPSILON the data step leaves the flow unchanged; the optional gamma
// (illumination) term is not implemented. Each inner iteration is one
// fused sweep (primal update of a row, dual update of the row above),
// split into row bands across goroutines; on amd64 with AVX2 and FMA the
// row kernels, the warp and the median networks run in assembly, with a
// pure-Go version of each (checked against each other in the tests).
package flow

import (
	"fmt"
	"math"
)

// Field is a dense flow field: pixel (x, y) of the first image moves to
// (x+U[i], y+V[i]) in the second, i = y*W + x.
type Field struct {
	W, H int
	U, V []float32
}

// NewField returns a zero w×h field.
func NewField(w, h int) *Field {
	return &Field{W: w, H: h, U: make([]float32, w*h), V: make([]float32, w*h)}
}

// resize makes f a w×h field, reusing its slices when large enough. The
// contents are unspecified.
func (f *Field) resize(w, h int) {
	n := w * h
	if cap(f.U) < n {
		f.U = make([]float32, n)
	}
	if cap(f.V) < n {
		f.V = make([]float32, n)
	}
	f.W, f.H, f.U, f.V = w, h, f.U[:n], f.V[:n]
}

// check reports whether f is well formed.
func (f *Field) check() error {
	if f == nil {
		return fmt.Errorf("flow: nil field")
	}
	if f.W <= 0 || f.H <= 0 {
		return fmt.Errorf("flow: empty field %dx%d", f.W, f.H)
	}
	if len(f.U) != f.W*f.H || len(f.V) != f.W*f.H {
		return fmt.Errorf("flow: field %dx%d has %d/%d values, want %d", f.W, f.H, len(f.U), len(f.V), f.W*f.H)
	}
	return nil
}

// EPE returns the mean end-point error between f and the ground truth gt,
// ignoring a border of the given width (flow at the image edge is
// ill-posed, and benchmarks such as tell's and OpenCV's scripts ignore it).
func EPE(f, gt *Field, border int) (float64, error) {
	if err := f.check(); err != nil {
		return 0, err
	}
	if err := gt.check(); err != nil {
		return 0, fmt.Errorf("ground truth: %w", err)
	}
	if f.W != gt.W || f.H != gt.H {
		return 0, fmt.Errorf("flow: EPE of a %dx%d field against a %dx%d ground truth", f.W, f.H, gt.W, gt.H)
	}
	if border < 0 || 2*border >= f.W || 2*border >= f.H {
		return 0, fmt.Errorf("flow: border %d leaves nothing of a %dx%d field", border, f.W, f.H)
	}
	var sum float64
	for y := border; y < f.H-border; y++ {
		for x := border; x < f.W-border; x++ {
			i := y*f.W + x
			du := float64(f.U[i] - gt.U[i])
			dv := float64(f.V[i] - gt.V[i])
			sum += math.Sqrt(du*du + dv*dv)
		}
	}
	return sum / float64((f.W-2*border)*(f.H-2*border)), nil
}
