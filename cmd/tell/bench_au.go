package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/tell-project/tell/analyze"
	"github.com/tell-project/tell/eval"
	"github.com/tell-project/tell/internal/cli"
	"github.com/tell-project/tell/synth"
)

func auBenchmark() cli.Command {
	return cli.Command{
		Name:    "au",
		Summary: "AU detection on synthetic clips with known truth [--generator muscle|basis] [--n N] [--seed S] [--kind micro|macro] ...: au_event_f1=",
		Run:     benchAU,
	}
}

// benchAU renders synthetic clips, runs the analysis pipeline on them with
// its own thresholds and prints AU F1 per AU (per event and at the apex
// frame), spotting F1 and the mean per-AU F1 with a 95% bootstrap interval
// over expressions (the event-level one last).
func benchAU(ctx context.Context, env *cli.Env, args []string) error {
	fs := cli.NewFlagSet("bench au")
	modelName := fs.String("generator", "muscle", "`muscle|basis` muscle (independent of the estimator) or basis (its regression twin)")
	n := fs.Int("n", 40, "`N` clips")
	seed := fs.Uint64("seed", 16001, "`S` seed of the clips")
	kind := fs.String("kind", "micro", "`K` micro, macro or empty to mix")
	fps := fs.Float64("fps", 0, "`F` frame rate; 0 alternates 200 and 30")
	size := fs.String("size", "640x480", "`WxH` frame size")
	scale := fs.Float64("scale", 1.25, "`X` output pixels per source pixel")
	microAmp := fs.String("micro-amp", "", "`LO,HI` muscle: largest movement of a micro-expression, LO,HI px (default 0.1,1)")
	macroAmp := fs.String("macro-amp", "", "`LO,HI` muscle: the same for macro-expressions (default 1.5,6)")
	codes := fs.String("codes", "", "`LIST` FACS codes instead of drawn combinations or prototypes")
	landmarks := fs.String("landmarks", "", "`PATH` dlib 68-point model (default: $TELL_MODELS, then the Debian path)")
	list := fs.Bool("list", false, "print every expression's true and detected AUs")
	rest, err := cli.Parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return cli.Usagef("unexpected argument %q", rest[0])
	}
	model, err := synth.ParseModel(*modelName)
	if err != nil {
		return cli.Usagef("--generator: %v", err)
	}
	var w, h int
	if _, err := fmt.Sscanf(*size, "%dx%d", &w, &h); err != nil || w < 32 || h < 32 {
		return cli.Usagef("--size %q: want WxH, at least 32x32", *size)
	}
	cfg := synth.Config{Model: model, Seed: *seed, Kind: *kind, FPS: *fps, Width: w, Height: h, Scale: *scale}
	for _, a := range []struct {
		flag, val string
		dst       *[2]float64
	}{{"--micro-amp", *microAmp, &cfg.MicroAmp}, {"--macro-amp", *macroAmp, &cfg.MacroAmp}} {
		if a.val == "" {
			continue
		}
		if _, err := fmt.Sscanf(a.val, "%g,%g", &a.dst[0], &a.dst[1]); err != nil || !(a.dst[0] > 0 && a.dst[1] >= a.dst[0]) {
			return cli.Usagef("%s %q: want LO,HI in output pixels, 0 < LO <= HI", a.flag, a.val)
		}
	}
	if *codes != "" {
		cfg.Codes = strings.Split(*codes, ",")
	}
	face, err := loadSynthFace("", "")
	if err != nil {
		return err
	}
	clips, err := synth.Plan(face, cfg, *n)
	if err != nil {
		return err
	}
	lm, err := analyze.NewFaceLandmarker(*landmarks)
	if err != nil {
		return err
	}
	s, err := eval.ScoreSynthetic(ctx, clips, analyze.Options{Out: os.TempDir(), Landmarker: lm})
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "model=%s clips=%d seed=%d kind=%s size=%dx%d scale=%g\n", model, *n, *seed, *kind, w, h, *scale)
	s.Print(env.Stdout, *list, *seed)
	return nil
}
