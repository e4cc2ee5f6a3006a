package main

// This file holds the run function of every tell bench target: each
// measures one part of tell and prints name=value lines, the headline
// figure last, as the peer programs of the bench folder do.

import (
	"context"
	"fmt"
	"os"
	"runtime"

	"github.com/tell-project/tell/analyze"
	"github.com/tell-project/tell/appearance"
	"github.com/tell-project/tell/atomicfile"
	"github.com/tell-project/tell/eval"
	"github.com/tell-project/tell/face"
	"github.com/tell-project/tell/flow"
	"github.com/tell-project/tell/internal/cli"
	"github.com/tell-project/tell/models"
	"github.com/tell-project/tell/nn"
	"github.com/tell-project/tell/synth"
	"github.com/tell-project/tell/video"
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

const cotBenchUsage = `usage: tell bench cot MANIFEST [--rows]`

// runCotBenchmark is `tell bench cot MANIFEST`: the Exp-CoT engine's AU →
// emotion knowledge measured on the coders' own AUs.
func runCotBenchmark(ctx context.Context, env *cli.Env, args []string) error {
	fs := cli.NewFlagSet("bench cot")
	rows := fs.Bool("rows", false, "also print every row: sample, dataset, label, aus, predictions")
	rest, err := cli.Parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return cli.Usagef("%s", cotBenchUsage)
	}
	var row func(string)
	if *rows {
		row = func(line string) { fmt.Fprintln(env.Stdout, line) }
	}
	sc, err := eval.CoT(ctx, rest[0], row)
	if err != nil {
		return err
	}
	return sc.Print(env.Stdout)
}

// runFerBenchmark is `tell bench fer IMAGE... --appearance faceapi|human`, the
// counterpart of the bench folder's tfjs/fer.js: images decoded to the
// same pixels (JPEG as jpeg-js decodes it), the same lines (seven
// probabilities per image in the order angry disgust fear happy sad
// surprise neutral, each image taken whole as the face crop), then
// tell_fer_ms= (median per image of resampling plus the forward pass,
// after three warm-up runs, one face at a time) instead of tfjs_<model>_ms=.
func runFerBenchmark(ctx context.Context, env *cli.Env, args []string) error {
	fs := cli.NewFlagSet("bench fer")
	model := fs.String("appearance", "faceapi", "`NAME` pretrained appearance model: faceapi or human")
	var dir string
	models.DirVar(fs, &dir)
	pos, err := cli.Parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return cli.Usagef("want at least one IMAGE")
	}
	m, err := models.ByName(*model)
	if err != nil {
		return cli.Usagef("--appearance: %v", err)
	}
	net, err := appearance.Load(models.Root(dir), m)
	if err != nil {
		return err
	}
	ms, err := eval.FER(ctx, net, pos, func(path string, p appearance.Probs) {
		fmt.Fprint(env.Stdout, path)
		for _, v := range p {
			fmt.Fprintf(env.Stdout, " %.6f", v)
		}
		fmt.Fprintln(env.Stdout)
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "tell_fer_ms=%.3f\n", ms)
	return nil
}

// runLandmarksBenchmark is `tell bench landmarks IMAGE [--box x,y,w,h]`, the
// counterpart of the bench folder's dlib_landmarks.cpp: same output lines,
// tell_landmark_us= instead of dlib_landmark_us=.
func runLandmarksBenchmark(ctx context.Context, env *cli.Env, args []string) error {
	fs := cli.NewFlagSet("bench landmarks")
	boxFlag := fs.String("box", "", "face box x,y,w,h in pixels (default: the face.Finder's box, face crops included)")
	grayOut := fs.String("gray", "", "also write the grey image the landmarks run on as a binary PGM (to compare decoders with dlib's)")
	model := fs.String("landmarks", "", "dlib shape predictor .dat (default: $TELL_MODELS, then "+face.DefaultModelPath+")")
	n := fs.Int("n", 2000, "timed runs")
	pos, err := cli.Parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return cli.Usagef("want one IMAGE argument, got %d", len(pos))
	}
	if *n < 1 {
		return cli.Usagef("--n must be at least 1")
	}
	var box *face.Rect
	if *boxFlag != "" {
		b, err := face.ParseRect(*boxFlag)
		if err != nil {
			return cli.Usagef("--box: %v", err)
		}
		box = &b
	}
	r, err := eval.LandmarksFile(ctx, pos[0], *model, box, *n)
	if err != nil {
		return err
	}
	if *grayOut != "" {
		if err := atomicfile.Write(*grayOut, r.Gray.WritePGM); err != nil {
			return err
		}
	}
	r.Print(env.Stdout)
	return nil
}

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

// benchFlow times TV-L1 on one image pair: `tell bench flow A B`.
func benchFlow(ctx context.Context, env *cli.Env, args []string) error {
	fs := cli.NewFlagSet("bench flow")
	gtPath := fs.String("gt", "", "`FILE` ground-truth flow (.flo) to report the end-point error against")
	outPath := fs.String("out", "", "`FILE` write the computed flow here (.flo)")
	preset := fs.String("preset", "default", "`NAME` parameters: default (OpenCV's) or fast")
	workers := fs.Int("workers", 0, "`N` goroutines (0: all cores)")
	pos, err := cli.Parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return cli.Usagef("want two images, got %d arguments", len(pos))
	}
	p, err := flow.Preset(*preset)
	if err != nil {
		return cli.Usagef("%v", err)
	}
	p.Workers = *workers
	r, err := eval.FlowFiles(ctx, p, pos[0], pos[1], *gtPath)
	if err != nil {
		return err
	}
	if *outPath != "" {
		if err := flow.SaveFlo(*outPath, r.Field); err != nil {
			return err
		}
	}
	r.Print(env.Stdout)
	return nil
}

// benchNN trains the reference model of bench/torch_step.py on random data.
func benchNN(ctx context.Context, env *cli.Env, args []string) error {
	fs := cli.NewFlagSet("bench nn")
	threads := fs.Int("threads", 2, "`N` worker threads (GOMAXPROCS)")
	batch := fs.Int("batch", 32, "`N` batch size")
	warmup := fs.Int("warmup", 3, "`N` untimed steps")
	steps := fs.Int("steps", 15, "`N` timed steps")
	rest, err := cli.Parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return cli.Usagef("unexpected argument %q", rest[0])
	}
	if *threads < 1 || *batch < 1 || *steps < 1 || *warmup < 0 {
		return cli.Usagef("--threads, --batch and --steps must be positive")
	}
	runtime.GOMAXPROCS(*threads)
	r, err := nn.BenchRef(ctx, nn.DefaultRefConfig(), *batch, *warmup, *steps)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "params=%d threads=%d kernel=%s\n", r.Params, *threads, nn.KernelName())
	fmt.Fprintf(env.Stdout, "loss_first=%.4f loss_last=%.4f\n", r.FirstLoss, r.LastLoss)
	fmt.Fprintf(env.Stdout, "tell_step_ms=%.1f\n", r.MedianMS)
	return nil
}
