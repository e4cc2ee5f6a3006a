package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/tell-project/tell/internal/cli"
	"github.com/tell-project/tell/portrait"
	"github.com/tell-project/tell/synth"
	"github.com/tell-project/tell/video"
)

func synthCommand() cli.Command {
	return cli.Command{
		Name:    "synth",
		Summary: "make synthetic expression clips with ground truth",
		Usage:   `usage: tell synth --out DIR [--n N] [--seed S] [flags]`,
		Run:     runSynth,
	}
}

func runSynth(ctx context.Context, env *cli.Env, args []string) error {
	fs := cli.NewFlagSet("synth")
	out := fs.String("out", "", "`DIR` output folder (required)")
	n := fs.Int("n", 7, "`N` number of clips (default 7, one per basic emotion)")
	seed := fs.Uint64("seed", 1, "`S` random seed (default 1)")
	fps := fs.Float64("fps", 0, "`F` frame rate; 0 alternates 200 and 30 (default 0)")
	kind := fs.String("kind", "", "`K` micro, macro or \"\" to mix (default \"\")")
	size := fs.String("size", "256x256", "`WxH` frame size (default 256x256)")
	scale := fs.Float64("scale", 1.5, "`X` output pixels per source pixel (default 1.5)")
	long := fs.Float64("long", 0, "`SECONDS` make long clips of this length with several expressions")
	events := fs.Int("events", 0, "`K` expressions per long clip (default: one per 4 s)")
	codes := fs.String("codes", "", "`LIST` comma-separated FACS codes instead of emotions (\"1+2+25,4+7\")")
	imgPath := fs.String("image", "", "`PATH` another face image; needs --landmarks")
	lmPath := fs.String("landmarks", "", "`CSV` 68 \"x,y\" lines for --image")
	noMP4 := fs.Bool("no-mp4", false, "do not encode MP4 files")
	noFrames := fs.Bool("no-frames", false, "MP4 only, no PNG frames (needs ffmpeg; much faster and smaller; the manifest's frames column is then empty)")
	quiet := cli.QuietFlag(fs)
	noise := fs.Float64("noise", 1.5, "`STD` sensor noise in grey levels (default 1.5; -1 none)")
	subjects := fs.Int("subjects", 0, "`K` assign clips round-robin to K pseudo-subjects (the same face) so subject-split protocols can train on them")
	modelName := fs.String("generator", "basis", "`muscle|basis` muscle: Waters-style muscles on a neutralised face, independent of tell's AU estimator, at real micro-expression amplitudes (use it to measure the estimator); basis: Gaussian AU fields moved the way the estimator's own AU basis moves, on the smiling portrait (a regression check, not a measurement)")
	microAmp := fs.String("micro-amp", "", "`LO,HI` muscle model: largest skin movement of a micro-expression, output px (default 0.1,1)")
	macroAmp := fs.String("macro-amp", "", "`LO,HI` the same for macro-expressions (default 1.5,6)")
	asIs := fs.Bool("as-is", false, "muscle model: take the face as neutral instead of neutralising it first (for a face that does not smile)")
	pos, err := cli.Parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return cli.Usagef("unexpected argument %q", pos[0])
	}
	if *out == "" {
		return cli.Usagef("--out is required")
	}
	if *noMP4 && *noFrames {
		return cli.Usagef("--no-mp4 and --no-frames together leave nothing to write")
	}
	var w, h int
	if _, err := fmt.Sscanf(*size, "%dx%d", &w, &h); err != nil || w < 32 || h < 32 {
		return cli.Usagef("--size %q: want WxH, at least 32x32", *size)
	}
	model, err := synth.ParseModel(*modelName)
	if err != nil {
		return cli.Usagef("--generator: %v", err)
	}
	cfg := synth.Config{Width: w, Height: h, Scale: *scale, FPS: *fps, Seed: *seed, Kind: *kind, Noise: *noise, Subjects: *subjects,
		Model: model, AsIs: *asIs}
	for _, a := range []struct {
		flag, val string
		dst       *[2]float64
	}{{"--micro-amp", *microAmp, &cfg.MicroAmp}, {"--macro-amp", *macroAmp, &cfg.MacroAmp}} {
		if a.val == "" {
			continue
		}
		if model != synth.Muscle {
			return cli.Usagef("%s needs --generator muscle", a.flag)
		}
		if _, err := fmt.Sscanf(a.val, "%g,%g", &a.dst[0], &a.dst[1]); err != nil || !(a.dst[0] > 0 && a.dst[1] >= a.dst[0]) {
			return cli.Usagef("%s %q: want LO,HI in output pixels, 0 < LO <= HI", a.flag, a.val)
		}
	}
	if *long > 0 {
		cfg.Long, cfg.Duration, cfg.Events = true, *long, *events
	}
	if *codes != "" {
		cfg.Codes = strings.Split(*codes, ",")
	}
	face, err := loadSynthFace(*imgPath, *lmPath)
	if err != nil {
		return err
	}
	clips, err := synth.Plan(face, cfg, *n)
	if err != nil {
		return err
	}
	log := cli.Logger(env, *quiet)
	err = synth.Write(ctx, *out, clips, synth.WriteOptions{MP4: !*noMP4, NoFrames: *noFrames, Progress: func(done, total int) {
		log.Info("clip written", "done", done, "of", total)
	}})
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "wrote %s and %s\n", cli.Plural(len(clips), "clip"), filepath.Join(*out, "manifest.csv"))
	return nil
}

// loadSynthFace returns the astronaut with its measured landmarks, or the
// given image with landmarks from a CSV of 68 "x,y" lines.
func loadSynthFace(imgPath, lmPath string) (*synth.Face, error) {
	if imgPath == "" {
		img, err := portrait.Astronaut()
		if err != nil {
			return nil, err
		}
		return synth.NewFace(img, synth.AstronautLandmarks()), nil
	}
	if lmPath == "" {
		return nil, cli.Usagef("--image needs --landmarks (68 x,y lines)")
	}
	img, err := video.ReadImage(imgPath)
	if err != nil {
		return nil, fmt.Errorf("--image: %w", err)
	}
	lm, err := synth.ReadLandmarks(lmPath)
	if err != nil {
		return nil, err
	}
	return synth.NewFace(img, lm), nil
}
