package main

// This file holds the commands that make manifests: tell dataset (from
// the public datasets) and tell synth (synthetic clips with their truth).

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/tell-project/tell/dataset"
	"github.com/tell-project/tell/internal/cli"
	"github.com/tell-project/tell/synth"
)

// runDataset converts the public micro-expression datasets' own
// annotation sheets and frame folders into a manifest CSV.
func runDataset(ctx context.Context, env *cli.Env, args []string) error {
	if len(args) == 0 {
		return cli.Usagef("missing dataset name (casme2, samm, smic, casme3 or composite)")
	}
	name := args[0]
	fs := cli.NewFlagSet("dataset")
	root := fs.String("root", "", "`DIR` the dataset's folder")
	sheet := fs.String("sheet", "", "`FILE` the annotation sheet (default: searched under --root)")
	out := fs.String("out", "", "`FILE` the manifest to write")
	classes := fs.String("classes", "", "`SCHEME` label scheme (default: the sheet's emotion): 3 (MEGC2019 negative/positive/surprise), 5 (CASME II: happiness, disgust, repression, surprise, others; SAMM: anger, contempt, happiness, surprise, others), 7 or 4 (CAS(ME)^3, 4: + others), objective (classes I..VII: the sheet's column, else from AUs)")
	skip := fs.Bool("skip-missing", false, "leave out clips whose frames are missing instead of failing")
	sheetOnly := fs.Bool("sheet-only", false, "convert the sheet without frame folders: rows name where the frames belong (ROOT/SUBJECT/CLIP); --root defaults to the sheet's folder")
	strict := fs.Bool("strict", false, "AU cells that are not FACS are errors, not warnings")
	casme2 := fs.String("casme2", "", "`DIR` composite: CASME II's folder")
	samm := fs.String("samm", "", "`DIR` composite: SAMM's folder")
	smic := fs.String("smic", "", "`DIR` composite: SMIC's folder")
	if name == "-h" || name == "-help" || name == "--help" {
		return &cli.HelpRequest{FlagSet: fs}
	}
	rest, err := cli.Parse(fs, args[1:])
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return cli.Usagef("unexpected arguments %q", rest)
	}
	if *out == "" {
		return cli.Usagef("--out is required")
	}
	if *sheetOnly && *root == "" && *sheet != "" {
		*root = filepath.Dir(*sheet)
	}
	opt := dataset.ConvertOptions{Root: *root, Sheet: *sheet, Classes: *classes, SkipMissing: *skip, SheetOnly: *sheetOnly, Strict: *strict}
	var conv *dataset.Conversion
	switch name {
	case "composite":
		if *casme2 == "" || *samm == "" || *smic == "" {
			return cli.Usagef("composite needs --casme2, --samm and --smic")
		}
		conv, err = dataset.ConvertComposite(ctx, map[string]string{"casme2": *casme2, "samm": *samm, "smic": *smic}, opt)
	case "casme2", "samm", "smic", "casme3":
		if *root == "" {
			return cli.Usagef("--root is required")
		}
		conv, err = dataset.Convert(ctx, name, opt)
	default:
		return cli.Usagef("unknown dataset %q (casme2, samm, smic, casme3 or composite)", name)
	}
	if err != nil {
		return err
	}
	conv.PrintNotes(env.Stderr)
	if err := dataset.Validate(conv.Samples, dataset.Options{SkipFileCheck: *sheetOnly}); err != nil {
		return err
	}
	if err := dataset.Write(*out, conv.Samples); err != nil {
		return err
	}
	conv.Print(env.Stdout, *out, *classes)
	return nil
}

func runSynth(ctx context.Context, env *cli.Env, args []string) error {
	fs := cli.NewFlagSet("synth")
	var cfg synth.Config
	var st synth.Settings
	out := fs.String("out", "", "`DIR` output folder (required)")
	n := fs.Int("n", 7, "`N` number of clips (default 7, one per basic emotion)")
	fs.Uint64Var(&cfg.Seed, "seed", 1, "`S` random seed (default 1)")
	fs.Float64Var(&cfg.FPS, "fps", 0, "`F` frame rate; 0 alternates 200 and 30 (default 0)")
	fs.StringVar(&cfg.Kind, "kind", "", "`K` micro, macro or \"\" to mix (default \"\")")
	fs.StringVar(&st.Size, "size", "256x256", "`WxH` frame size (default 256x256)")
	fs.Float64Var(&cfg.Scale, "scale", 1.5, "`X` output pixels per source pixel (default 1.5)")
	fs.Float64Var(&cfg.Duration, "long", 0, "`SECONDS` make long clips of this length with several expressions")
	fs.IntVar(&cfg.Events, "events", 0, "`K` expressions per long clip (default: one per 4 s)")
	fs.StringVar(&st.Codes, "codes", "", "`LIST` comma-separated FACS codes instead of emotions (\"1+2+25,4+7\")")
	fs.StringVar(&st.Image, "image", "", "`PATH` another face image; needs --landmarks")
	fs.StringVar(&st.Landmarks, "landmarks", "", "`CSV` 68 \"x,y\" lines for --image")
	noMP4 := fs.Bool("no-mp4", false, "do not encode MP4 files")
	noFrames := fs.Bool("no-frames", false, "MP4 only, no PNG frames (needs ffmpeg; much faster and smaller; the manifest's frames column is then empty)")
	quiet := cli.QuietFlag(fs)
	fs.Float64Var(&cfg.Noise, "noise", 1.5, "`STD` sensor noise in grey levels (default 1.5; -1 none)")
	fs.IntVar(&cfg.Subjects, "subjects", 0, "`K` assign clips round-robin to K pseudo-subjects (the same face) so subject-split protocols can train on them")
	fs.StringVar(&st.Generator, "generator", "basis", "`muscle|basis` muscle: Waters-style muscles on a neutralised face, independent of tell's AU estimator, at real micro-expression amplitudes (use it to measure the estimator); basis: Gaussian AU fields moved the way the estimator's own AU basis moves, on the smiling portrait (a regression check, not a measurement)")
	fs.StringVar(&st.MicroAmp, "micro-amp", "", "`LO,HI` muscle model: largest skin movement of a micro-expression, output px (default 0.1,1)")
	fs.StringVar(&st.MacroAmp, "macro-amp", "", "`LO,HI` the same for macro-expressions (default 1.5,6)")
	fs.BoolVar(&cfg.AsIs, "as-is", false, "muscle model: take the face as neutral instead of neutralising it first (for a face that does not smile)")
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
