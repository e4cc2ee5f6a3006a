package main

import (
	"context"
	"fmt"
	"os"

	"github.com/tell-project/tell/analyze"
	"github.com/tell-project/tell/eval"
	"github.com/tell-project/tell/internal/cli"
	"github.com/tell-project/tell/synth"
)

// benchAU renders synthetic clips, runs the analysis pipeline on them with
// its own thresholds and prints AU F1 per AU (per event and at the apex
// frame), spotting F1 and the mean per-AU F1 with a 95% bootstrap interval
// over expressions (the event-level one last).
func benchAU(ctx context.Context, env *cli.Env, args []string) error {
	fs := cli.NewFlagSet("bench au")
	var cfg synth.Config
	var st synth.Settings
	fs.StringVar(&st.Generator, "generator", "muscle", "`muscle|basis` muscle (independent of the estimator) or basis (its regression twin)")
	n := fs.Int("n", 40, "`N` clips")
	fs.Uint64Var(&cfg.Seed, "seed", 16001, "`S` seed of the clips")
	fs.StringVar(&cfg.Kind, "kind", "micro", "`K` micro, macro or empty to mix")
	fs.Float64Var(&cfg.FPS, "fps", 0, "`F` frame rate; 0 alternates 200 and 30")
	fs.StringVar(&st.Size, "size", "640x480", "`WxH` frame size")
	fs.Float64Var(&cfg.Scale, "scale", 1.25, "`X` output pixels per source pixel")
	fs.StringVar(&st.MicroAmp, "micro-amp", "", "`LO,HI` muscle: largest movement of a micro-expression, LO,HI px (default 0.1,1)")
	fs.StringVar(&st.MacroAmp, "macro-amp", "", "`LO,HI` muscle: the same for macro-expressions (default 1.5,6)")
	fs.StringVar(&st.Codes, "codes", "", "`LIST` FACS codes instead of drawn combinations or prototypes")
	landmarks := fs.String("landmarks", "", "`PATH` dlib 68-point model (default: $TELL_MODELS, then the Debian path)")
	list := fs.Bool("list", false, "print every expression's true and detected AUs")
	rest, err := cli.Parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return cli.Usagef("unexpected argument %q", rest[0])
	}
	if err := st.Apply(&cfg); err != nil {
		return cli.Usagef("%v", err)
	}
	face, err := st.Face()
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
	fmt.Fprintf(env.Stdout, "model=%s clips=%d seed=%d kind=%s size=%dx%d scale=%g\n", cfg.Model, *n, cfg.Seed, cfg.Kind, cfg.Width, cfg.Height, cfg.Scale)
	s.Print(env.Stdout, *list, cfg.Seed)
	return nil
}
