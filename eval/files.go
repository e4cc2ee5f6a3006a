package eval

import (
	"context"
	"fmt"
	"io"
	"math"

	"github.com/tell-project/tell/face"
	"github.com/tell-project/tell/flow"
	"github.com/tell-project/tell/raster"
	"github.com/tell-project/tell/video"
)

// The harnesses of `tell bench landmarks|flow` on files, as the peers
// take them, and their peers' lines.

// LandmarksRun is one `tell bench landmarks` run: the image's grey pixels
// (dlib's conversion), the face box, the 68 points and their timing.
type LandmarksRun struct {
	Gray      *raster.Gray
	Box       face.Rect
	Shape     face.Shape
	US, CPUUS float64 // per call: wall and process CPU microseconds
}

// LandmarksFile runs LandmarksCPU on the image at path with dlib's model
// (model: face.ResolveModelPath's choice) in box, or without one in the
// box face.Finder finds (face crops included).
func LandmarksFile(ctx context.Context, path, model string, box *face.Rect, n int) (*LandmarksRun, error) {
	mp, err := face.ResolveModelPath(model)
	if err != nil {
		return nil, err
	}
	pred, err := face.LoadPredictor(mp)
	if err != nil {
		return nil, err
	}
	img, err := video.ReadImage(path)
	if err != nil {
		return nil, err
	}
	r := &LandmarksRun{Gray: raster.FromImage(img)}
	if box != nil {
		r.Box = *box
	} else {
		det, err := face.NewDetector()
		if err != nil {
			return nil, err
		}
		found, ok := face.NewFinder(det, pred, face.FindAuto).Find(r.Gray)
		if !ok {
			return nil, fmt.Errorf("no face found in %s; give --box", path)
		}
		r.Box = found.Box
	}
	r.Shape, r.US, r.CPUUS, err = LandmarksCPU(ctx, pred, r.Gray, r.Box, n)
	return r, err
}

// Print writes dlib_landmarks.cpp's lines: the box, each point rounded to
// the pixel, then tell_landmark_us= and tell_landmark_cpu_us=.
func (r *LandmarksRun) Print(w io.Writer) {
	fmt.Fprintf(w, "box %d %d %d %d\n", r.Box.X, r.Box.Y, r.Box.W, r.Box.H)
	for i, p := range r.Shape {
		fmt.Fprintf(w, "%d %d %d\n", i, int(math.Floor(p.X+0.5)), int(math.Floor(p.Y+0.5)))
	}
	fmt.Fprintf(w, "tell_landmark_us=%.1f\n", r.US)
	fmt.Fprintf(w, "tell_landmark_cpu_us=%.1f\n", r.CPUUS)
}

// FlowRun is one `tell bench flow` run.
type FlowRun struct {
	Field      *flow.Field
	Iterations int
	MS         float64  // median milliseconds of a pair
	EPE        *float64 // against the ground truth, when given
}

// FlowFiles runs Flow on the images at a and b (decoded to grey within
// the default pixel budget) and, when gt names a .flo file, measures the
// end-point error against it.
func FlowFiles(ctx context.Context, p flow.Params, a, b, gt string) (*FlowRun, error) {
	ga, err := video.ReadGray(a, 0)
	if err != nil {
		return nil, err
	}
	gb, err := video.ReadGray(b, 0)
	if err != nil {
		return nil, err
	}
	r := &FlowRun{}
	if r.Field, r.Iterations, r.MS, err = Flow(ctx, p, ga, gb); err != nil {
		return nil, fmt.Errorf("%s, %s: %w", a, b, err)
	}
	if gt != "" {
		truth, err := flow.LoadFlo(gt)
		if err != nil {
			return nil, err
		}
		epe, err := flow.EPE(r.Field, truth, 8)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", gt, err)
		}
		r.EPE = &epe
	}
	return r, nil
}

// Print writes the peer's lines: epe= (with a ground truth),
// iterations= and tell_tvl1_ms=.
func (r *FlowRun) Print(w io.Writer) {
	if r.EPE != nil {
		fmt.Fprintf(w, "epe=%.4f\n", *r.EPE)
	}
	fmt.Fprintf(w, "iterations=%d\n", r.Iterations)
	fmt.Fprintf(w, "tell_tvl1_ms=%.1f\n", r.MS)
}
