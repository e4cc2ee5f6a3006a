package main

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/tell-project/tell/appearance"
	"github.com/tell-project/tell/models"
	"github.com/tell-project/tell/raster"
	"github.com/tell-project/tell/video"
)

// ferBenchmark is `tell bench fer IMAGE... --model faceapi|human`, the
// counterpart of the bench folder's tfjs/fer.js: images decoded to the
// same pixels (JPEG as jpeg-js decodes it), the same lines (seven
// probabilities per image in the order angry disgust fear happy sad
// surprise neutral, each image taken whole as the face crop), then
// tell_fer_ms= (median per image of resampling plus the forward pass,
// after three warm-up runs, one face at a time) instead of tfjs_<model>_ms=.
func ferBenchmark() benchmark {
	return benchmark{
		name:    "fer",
		summary: "pretrained expression net on face crops IMAGE... [--model faceapi|human] (vs TensorFlow.js): tell_fer_ms=",
		run:     runFerBenchmark,
	}
}

func runFerBenchmark(ctx context.Context, env *environment, args []string) error {
	fs := newFlagSet("bench fer")
	model := fs.String("model", "faceapi", "")
	dir := fs.String("models", "", "")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usageErrorf("want at least one IMAGE")
	}
	m, err := models.ByName(*model)
	if err != nil {
		return usageErrorf("--model: %v", err)
	}
	net, err := appearance.Load(models.Root(*dir), m)
	if err != nil {
		return err
	}
	imgs := make([]*raster.RGB, len(pos))
	for i, p := range pos {
		if imgs[i], err = video.ReadRGB(p, 0); err != nil {
			return err
		}
	}
	for i := 0; i < 3; i++ { // warm-up, as fer.js does
		if _, err := net.Predict(imgs[0], net.WholeImage(imgs[0].W, imgs[0].H)); err != nil {
			return err
		}
	}
	ms := make([]float64, len(imgs))
	for i, img := range imgs {
		if err := ctx.Err(); err != nil {
			return err
		}
		t0 := time.Now()
		p, err := net.Predict(img, net.WholeImage(img.W, img.H))
		ms[i] = float64(time.Since(t0).Nanoseconds()) / 1e6
		if err != nil {
			return fmt.Errorf("%s: %w", pos[i], err)
		}
		fmt.Fprint(env.stdout, pos[i])
		for _, v := range p {
			fmt.Fprintf(env.stdout, " %.6f", v)
		}
		fmt.Fprintln(env.stdout)
	}
	sort.Float64s(ms)
	fmt.Fprintf(env.stdout, "tell_fer_ms=%.3f\n", ms[len(ms)/2])
	return nil
}
