package eval

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/tell-project/tell/appearance"
	"github.com/tell-project/tell/face"
	"github.com/tell-project/tell/flow"
	"github.com/tell-project/tell/profile"
	"github.com/tell-project/tell/raster"
	"github.com/tell-project/tell/video"
)

// The timing harnesses of `tell bench fer|landmarks|flow`, each the
// counterpart of a peer program (scripts/peers): the same inputs, the same
// lines, a time measured the way the peer measures its own.

// FER runs the pretrained net on each image of paths taken whole as the
// face crop, as the TF.js peer does (images decoded first; three warm-up
// runs on the first), passing every image's probabilities to each, and
// returns the median milliseconds per image (resampling plus the forward
// pass, one face at a time).
func FER(ctx context.Context, net *appearance.Net, paths []string, each func(path string, p appearance.Probs)) (float64, error) {
	if len(paths) == 0 {
		return 0, fmt.Errorf("eval: fer: no images")
	}
	imgs := make([]*raster.RGB, len(paths))
	for i, p := range paths {
		var err error
		if imgs[i], err = video.ReadRGB(p, 0); err != nil {
			return 0, err
		}
	}
	for i := 0; i < 3; i++ { // warm-up, as fer.js does
		if _, err := net.Predict(imgs[0], net.WholeImage(imgs[0].W, imgs[0].H)); err != nil {
			return 0, err
		}
	}
	ms := make([]float64, len(imgs))
	for i, img := range imgs {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		t0 := time.Now()
		p, err := net.Predict(img, net.WholeImage(img.W, img.H))
		ms[i] = float64(time.Since(t0).Nanoseconds()) / 1e6
		if err != nil {
			return 0, fmt.Errorf("%s: %w", paths[i], err)
		}
		each(paths[i], p)
	}
	slices.Sort(ms)
	return ms[len(ms)/2], nil
}

// Landmarks returns the shape predictor's 68 landmarks of the face in box
// and the mean microseconds of n further runs (n ≥ 1), as dlib's peer
// times its own.
func Landmarks(ctx context.Context, pred *face.Predictor, g *raster.Gray, box face.Rect, n int) (face.Shape, float64, error) {
	s, us, _, err := LandmarksCPU(ctx, pred, g, box, n)
	return s, us, err
}

// LandmarksCPU is Landmarks that also returns the process's CPU time per
// call in microseconds: on a shared machine the wall time counts the time
// other jobs held the CPU.
func LandmarksCPU(ctx context.Context, pred *face.Predictor, g *raster.Gray, box face.Rect, n int) (face.Shape, float64, float64, error) {
	s := pred.Predict(g, box)
	c0, t0 := profile.ProcessCPU(), time.Now()
	for i := 0; i < n; i++ {
		if i%256 == 0 && ctx.Err() != nil {
			return s, 0, 0, ctx.Err()
		}
		pred.Predict(g, box)
	}
	wall, cpu := time.Since(t0), profile.ProcessCPU()-c0
	return s, float64(wall.Microseconds()) / float64(n), float64(cpu.Microseconds()) / float64(n), nil
}

// Flow computes TV-L1 flow from a to b with p once to warm up, then five
// times, and returns the field, the iterations run and the median
// milliseconds of the five.
func Flow(ctx context.Context, p flow.Params, a, b *raster.Gray) (*flow.Field, int, float64, error) {
	est, err := flow.NewTVL1(p)
	if err != nil {
		return nil, 0, 0, err
	}
	defer est.Close()
	var f flow.Field
	if err := est.ComputeInto(ctx, a, b, &f); err != nil { // warm-up
		return nil, 0, 0, err
	}
	ms := make([]float64, 5)
	for i := range ms {
		t0 := time.Now()
		if err := est.ComputeInto(ctx, a, b, &f); err != nil {
			return nil, 0, 0, err
		}
		ms[i] = float64(time.Since(t0).Nanoseconds()) / 1e6
	}
	slices.Sort(ms)
	return &f, est.Iterations(), ms[len(ms)/2], nil
}
