package main

import (
	"context"
	"fmt"

	"github.com/tell-project/tell/analyze"
	"github.com/tell-project/tell/eval"
	"github.com/tell-project/tell/internal/cli"
	"github.com/tell-project/tell/video"
)

const spotBenchUsage = `usage: tell bench spot TRUTH.csv [--base 1|0] [--fps F] [--known] [--out DIR] [--clips]`

// runSpotBenchmark is `tell bench spot TRUTH.csv`: spotting precision, recall
// and F1 at IoU ≥ 0.5 (MEGC's rule), apex error and AU agreement over a
// folder of clips with coded expressions.
func runSpotBenchmark(ctx context.Context, env *cli.Env, args []string) error {
	fs := cli.NewFlagSet("bench spot")
	base := fs.Int("base", 1, "`N` number of a clip's first frame in TRUTH.csv for clips numbered by position (videos, GIFs, folders whose file names carry no numbers): 1 (frames.csv's and tell synth's, the default) or 0. A folder of numbered files (img46.jpg) is always coded in its files' numbers, as tell analyze and tell dataset number it")
	fps := fs.Float64("fps", 0, "`F` frame rate of folders of frames without an fps column or fps.txt (a folder without any rate is refused); a video's own rate is used")
	known := fs.Bool("known", false, "describe each coded interval (tell analyze --onset --offset --apex auto) instead of spotting: apex error and AUs with the timing given; clips with one coded expression only")
	out := fs.String("out", "", "`DIR` keep each clip's analysis in DIR/<clip> (default: discarded)")
	perClip := fs.Bool("clips", false, "one line per clip: coded and spotted intervals, IoU, AUs")
	pos, err := cli.Parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return cli.Usagef("want one TRUTH.csv argument, got %d", len(pos))
	}
	if *base != 0 && *base != 1 {
		return cli.Usagef("--base %d: want 1 or 0", *base)
	}
	if *fps != 0 {
		if err := video.CheckFPS(*fps); err != nil {
			return cli.Usagef("--fps: %v", err)
		}
	}
	truth, err := eval.ReadSpotTruth(pos[0], *base)
	if err != nil {
		return err
	}
	if c, n := truth.NotSingle(); *known && c != "" {
		return cli.Usagef("--known: clip %s has %d coded expressions, want one", c, n)
	}
	lm, err := analyze.NewFaceLandmarker("")
	if err != nil {
		return err
	}
	opt := eval.SpotOptions{FPS: *fps, Known: *known, Out: *out, Landmarker: lm,
		Warn: func(c string, err error) { fmt.Fprintf(env.Stderr, "tell bench spot: %s: %v\n", c, err) }}
	if *perClip {
		opt.Clip = func(c, line string) { fmt.Fprintf(env.Stdout, "clip %s: %s\n", c, line) }
	}
	sc, err := eval.Spot(ctx, truth, opt)
	if err != nil {
		return err
	}
	sc.Print(env.Stdout)
	return nil
}
