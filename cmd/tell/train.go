package main

// This file holds the training and evaluation commands: tell prepare,
// train, sweep and eval.

import (
	"context"
	"fmt"
	"os"

	"github.com/tell-project/tell/cnn"
	"github.com/tell-project/tell/eval"
	"github.com/tell-project/tell/face"
	"github.com/tell-project/tell/internal/cli"
	"github.com/tell-project/tell/merclip"
	"github.com/tell-project/tell/model"
	"github.com/tell-project/tell/models"
	"github.com/tell-project/tell/queue"
	"github.com/tell-project/tell/train"
	"github.com/tell-project/tell/video"
)

// families registers the model families tell trains and runs (package
// model); the first is the default. Packages that run models (analyze) get
// them from here rather than importing a family.
func families() model.Families { return model.Families{cnn.Family{}, merclip.Family{}} }

func runTrain(ctx context.Context, env *cli.Env, args []string) error {
	fs := cli.NewFlagSet("train")
	var st train.Settings
	fs.StringVar(&st.Manifest, "manifest", "", "`M` manifest CSV (docs/manifest.md)")
	fs.StringVar(&st.Protocol, "protocol", "loso", "`P` loso (leave one subject out), kfold, holdout")
	fs.IntVar(&st.Folds, "folds", 5, "`K` folds for kfold (default 5)")
	fs.Float64Var(&st.Fraction, "test-fraction", 0.2, "`F` test share for holdout (default 0.2)")
	fs.StringVar(&st.Out, "out", "", "`RUN` run folder")
	fs.StringVar(&st.Config, "config", "", "`FILE` JSON config over the defaults (print them: --print-config); {\"model\": \"merclip\"} selects the MER-CLIP family")
	fs.Int64Var(&st.Seed, "seed", -1, "`N` overrides the config's seed")
	fs.IntVar(&st.Epochs, "epochs", 0, "`N` overrides the family's train.epochs")
	fs.IntVar(&st.Workers, "workers", 0, "`N` folds trained at once (default: one per core)")
	fs.StringVar(&st.Cache, "cache", "", "`DIR` prepare cache (default RUN/cache)")
	fs.IntVar(&st.Bootstrap, "bootstrap", 1000, "`N` bootstrap resamples (default 1000; 0 for none)")
	fs.BoolVar(&st.NoFinal, "no-final", false, "skip the final model")
	printCfg := fs.Bool("print-config", false, "print the effective config and exit")
	url := fs.String("nats", "", "`URL` train the folds and the final model as jobs on this NATS JetStream (the queue tell serve and tell batch use), run by tell worker processes anywhere; the results, the metrics.json and the model are those of the same run here, byte for byte. Interrupted, it resumes when run again (finished jobs are collected, not retrained).")
	nf := queue.AddClientFlags(fs)
	owner := fs.String("owner", "", "`NAME` owner recorded on the queued jobs")
	quiet := cli.QuietFlag(fs)
	if _, err := cli.Parse(fs, args); err != nil {
		return err
	}
	cfg, err := st.LoadConfig(families())
	if err != nil {
		return err
	}
	if *printCfg {
		fmt.Fprintln(env.Stdout, string(cfg.JSON()))
		return nil
	}
	if err := st.Validate(); err != nil {
		return cli.Usagef("%v", err)
	}
	if err := train.CheckProtocol(st.Manifest, st.Protocol, st.Folds, st.Fraction, uint64(cfg.Seed)); err != nil {
		return err
	}
	made, err := train.SnapshotDir(st.Out)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(st.Out, 0o755); err != nil {
		return err
	}
	opt := st.Options(cfg, families())
	opt.Progress, opt.Log = cli.StepBars(env, *quiet), cli.Logger(env, *quiet)
	if *url != "" {
		fc, err := nf.Dial(ctx, *url, "tell train", opt.Log)
		if err != nil {
			return err
		}
		defer fc.Close()
		opt.Fleet = &train.Fleet{Queue: fc.Queue, Owner: *owner}
	}
	res, err := train.Run(ctx, opt)
	if err != nil {
		if ctx.Err() == nil {
			made.Cleanup(opt.Log)
		}
		return err
	}
	res.Print(env.Stdout, st.Out)
	return nil
}

func runSweep(ctx context.Context, env *cli.Env, args []string) error {
	fs := cli.NewFlagSet("sweep")
	opt := train.SweepOptions{Rule: train.DefaultRule(), Families: families()}
	fs.StringVar(&opt.Manifest, "manifest", "", "`DEV` the development manifest")
	fs.StringVar(&opt.Protocol, "protocol", "", "`P` kfold (subject k-fold) or loso")
	fs.IntVar(&opt.Folds, "folds", 8, "`K` folds for kfold (default 8)")
	fs.IntVar(&opt.Seeds, "seeds", 10, "`N` seeds per candidate (default 10)")
	fs.Int64Var(&opt.FirstSeed, "first-seed", 1, "`S` the first seed (default 1)")
	fs.Float64Var(&opt.Rule.Margin, "margin", train.DefaultRule().Margin, "`M` what a costlier candidate must gain (default 0.005)")
	fs.Var((*cli.Strings)(&opt.HeldOut), "held-out", "`M` a manifest kept for the final test (repeatable): the sweep refuses DEV if it shares a subject with it")
	fs.StringVar(&opt.Out, "out", "", "`DIR` the sweep's folder")
	fs.StringVar(&opt.Cache, "cache", "", "`DIR` prepare cache (default DIR/cache)")
	fs.IntVar(&opt.Workers, "workers", 0, "`N` folds trained at once here (default: one per core)")
	url := fs.String("nats", "", "`URL` train the folds as jobs on this NATS JetStream (tell worker processes run them) instead of here")
	nf := queue.AddClientFlags(fs)
	owner := fs.String("owner", "", "`NAME` owner recorded on the jobs")
	boot := fs.Int("bootstrap", 1000, "`N` resamples of the pooled intervals (default 1000; 0: none)")
	quiet := cli.QuietFlag(fs)
	paths, err := cli.Parse(fs, args)
	if err != nil {
		return err
	}
	if len(paths) == 0 {
		return cli.Usagef("no candidate configs")
	}
	if err := opt.Validate(); err != nil {
		return cli.Usagef("%v", err)
	}
	if opt.Bootstrap, err = train.Resamples(*boot); err != nil {
		return cli.Usagef("%v", err)
	}
	if opt.Candidates, err = train.LoadCandidates(paths, families()); err != nil {
		return err
	}
	if err := train.CheckProtocol(opt.Manifest, opt.Protocol, opt.Folds, 0.2, uint64(opt.FirstSeed)); err != nil {
		return err
	}
	opt.Progress, opt.Log = cli.StepBars(env, *quiet), cli.Logger(env, *quiet)
	if *url != "" {
		fc, err := nf.Dial(ctx, *url, "tell sweep", opt.Log)
		if err != nil {
			return err
		}
		defer fc.Close()
		opt.Fleet = &train.Fleet{Queue: fc.Queue, Owner: *owner}
	}
	res, err := train.Sweep(ctx, opt)
	if err != nil {
		return err
	}
	res.Print(env.Stdout, opt.Out)
	return nil
}

func runPrepare(ctx context.Context, env *cli.Env, args []string) error {
	fs := cli.NewFlagSet("prepare")
	manifest := fs.String("manifest", "", "`M` manifest CSV")
	out := fs.String("out", "", "`CACHE` cache folder")
	size := fs.Int("size", model.DefaultInput().Size, "`N` input side in pixels (default 28, the model default)")
	apex := fs.Bool("apex", false, "add the apex frame as an appearance channel (frames rows)")
	align := fs.Bool("align", true, "=false take frames and images as given (default: detect and align the face, once per clip; rows without a face are kept as given)")
	workers := fs.Int("workers", 0, "`N` rows at once (default: one per core)")
	maxPixels := fs.Int("max-pixels", video.DefaultMaxPixels, "`N` refuse images larger than N pixels before decoding them (default 50000000)")
	faceMode := fs.String("face", "auto", "`MODE` how faces are found for alignment: auto (default: detection, a padded rescan, and for face crops a fit in the whole frame), detect (no crop fit), full (every image is a crop)")
	quiet := cli.QuietFlag(fs)
	if _, err := cli.Parse(fs, args); err != nil {
		return err
	}
	if *manifest == "" || *out == "" {
		return cli.Usagef("--manifest and --out are required")
	}
	if *maxPixels <= 0 {
		return cli.Usagef("--max-pixels %d: want a positive number of pixels", *maxPixels)
	}
	mode, err := face.ParseFindMode(*faceMode)
	if err != nil {
		return cli.Usagef("--face: %v", err)
	}
	samples, rowErrs, err := train.ReadManifest(*manifest)
	if err != nil {
		return err
	}
	kind := train.KindOf(samples)
	d, err := train.Prepare(ctx, samples, kind, train.PrepareOptions{Size: *size, Apex: *apex, Align: *align, Workers: *workers, Cache: *out, Progress: cli.StepBars(env, *quiet), MaxPixels: *maxPixels, Face: mode})
	if err != nil {
		return err
	}
	rowErrs = append(rowErrs, d.Errors...)
	for _, e := range rowErrs {
		fmt.Fprintf(env.Stderr, "tell prepare: %s: %v\n", *manifest, e)
	}
	if d.AlignError != "" {
		fmt.Fprintf(env.Stderr, "tell prepare: faces not aligned: %s\n", d.AlignError)
	}
	if d.Unaligned > 0 && mode != face.FindFull {
		fmt.Fprintf(env.Stderr, "tell prepare: no face found in %s (taken as given); if the images are face crops, --face full takes the whole frame as the face\n", cli.Plural(d.Unaligned, "row"))
	}
	fmt.Fprintf(env.Stdout, "kind=%s\nprepared=%d\ncached=%d\naligned=%d\naligned_crops=%d\nno_face=%d\nfailed=%d\ncache=%s\n",
		kind, len(d.Samples), d.Cached, d.Aligned, d.AlignedCrops, d.Unaligned, len(rowErrs), *out)
	if len(d.Samples) == 0 {
		return fmt.Errorf("no row could be prepared")
	}
	return nil
}

func runEval(ctx context.Context, env *cli.Env, args []string) error {
	fs := cli.NewFlagSet("eval")
	var as eval.AppearanceSettings
	model := fs.String("model", "", "`PATH` a model.safetensors written by tell train")
	fs.StringVar(&as.Net, "appearance", "", "`NAME` a pretrained appearance model instead: faceapi or human")
	manifest := fs.String("manifest", "", "`M` manifest CSV")
	out := fs.String("out", "", "`DIR` output folder")
	cache := fs.String("cache", "", "`DIR` prepare cache (default DIR/cache)")
	boot := fs.Int("bootstrap", 1000, "`N` bootstrap resamples (default 1000; 0 for none)")
	models.DirVar(fs, &as.Models)
	fs.StringVar(&as.Face, "face", eval.FaceFull, "`MODE` : full (default; the image is the face crop, as tell analyze's --face full) or auto")
	fs.StringVar(&as.Landmarks, "landmarks", "", "`PATH` pretrained models with --face auto: dlib 68-point model")
	quiet := cli.QuietFlag(fs)
	if _, err := cli.Parse(fs, args); err != nil {
		return err
	}
	if (*model == "") == (as.Net == "") || *manifest == "" || *out == "" {
		return cli.Usagef("--model or --appearance (one of them), --manifest and --out are required")
	}
	var err error
	if *boot, err = train.Resamples(*boot); err != nil {
		return cli.Usagef("%v", err)
	}
	if _, err := models.ByName(*model); err == nil {
		return cli.Usagef("--model %s: a pretrained appearance model is --appearance %s", *model, *model)
	}
	if as.Net != "" {
		if err := as.Validate(); err != nil {
			return cli.Usagef("%v", err)
		}
		opt, m, err := as.Options()
		if err != nil {
			return err
		}
		opt.Manifest, opt.Out, opt.Bootstrap, opt.Log = *manifest, *out, *boot, cli.Logger(env, *quiet)
		if bar := cli.ProgressOut(env, *quiet); bar != nil {
			opt.Progress = func(done, total int) { fmt.Fprintf(bar, "\reval %d/%d", done, total) }
		}
		res, err := eval.Appearance(ctx, opt)
		if err != nil {
			return err
		}
		res.Print(env.Stdout, m.About, *out)
		return nil
	}
	res, err := train.Evaluate(ctx, train.EvalOptions{Model: *model, Families: families(), Manifest: *manifest, Out: *out, Cache: *cache, Bootstrap: *boot, Progress: cli.StepBars(env, *quiet), Log: cli.Logger(env, *quiet)})
	if err != nil {
		return err
	}
	res.Print(env.Stdout, *out)
	return nil
}
