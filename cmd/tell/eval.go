package main

import (
	"context"
	"fmt"

	"github.com/tell-project/tell/analyze"
	"github.com/tell-project/tell/appearance"
	"github.com/tell-project/tell/eval"
	"github.com/tell-project/tell/internal/cli"
	"github.com/tell-project/tell/models"
	"github.com/tell-project/tell/train"
)

func runEval(ctx context.Context, env *cli.Env, args []string) error {
	fs := cli.NewFlagSet("eval")
	model := fs.String("model", "", "`PATH` a model.safetensors written by tell train")
	appName := fs.String("appearance", "", "`NAME` a pretrained appearance model instead: faceapi or human")
	manifest := fs.String("manifest", "", "`M` manifest CSV")
	out := fs.String("out", "", "`DIR` output folder")
	cache := fs.String("cache", "", "`DIR` prepare cache (default DIR/cache)")
	boot := fs.Int("bootstrap", 1000, "`N` bootstrap resamples (default 1000; 0 for none)")
	modelsDir := fs.String("models", "", "`DIR` folder of the pretrained models (default $TELL_MODELS, else ~/.local/share/tell/models)")
	faceMode := fs.String("face", eval.FaceFull, "`MODE` : full (default; the image is the face crop, as tell analyze's --face full) or auto")
	landmarks := fs.String("landmarks", "", "`PATH` pretrained models with --face auto: dlib 68-point model")
	quiet := cli.QuietFlag(fs)
	if _, err := cli.Parse(fs, args); err != nil {
		return err
	}
	if (*model == "") == (*appName == "") || *manifest == "" || *out == "" {
		return cli.Usagef("--model or --appearance (one of them), --manifest and --out are required")
	}
	var err error
	if *boot, err = train.Resamples(*boot); err != nil {
		return cli.Usagef("%v", err)
	}
	if _, err := models.ByName(*model); err == nil {
		return cli.Usagef("--model %s: a pretrained appearance model is --appearance %s", *model, *model)
	}
	if *appName != "" {
		m, err := models.ByName(*appName)
		if err != nil {
			return cli.Usagef("--appearance: %v", err)
		}
		return evalPretrained(ctx, env, m, *modelsDir, *faceMode, *landmarks, *manifest, *out, *boot, *quiet)
	}
	res, err := train.Evaluate(ctx, train.EvalOptions{Model: *model, Families: families(), Manifest: *manifest, Out: *out, Cache: *cache, Bootstrap: *boot, Progress: cli.StepBars(env, *quiet), Log: cli.Logger(env, *quiet)})
	if err != nil {
		return err
	}
	res.Print(env.Stdout, *out)
	return nil
}

// evalPretrained is tell eval with a pretrained appearance model.
func evalPretrained(ctx context.Context, env *cli.Env, m models.Model, dir, face, landmarks, manifest, out string, boot int, quiet bool) error {
	if face == "whole" {
		return cli.Usagef("--face whole is now called full, as in tell analyze")
	}
	if face != eval.FaceFull && face != eval.FaceAuto {
		return cli.Usagef("--face %q: want full or auto", face)
	}
	net, err := appearance.Load(models.Root(dir), m)
	if err != nil {
		return err
	}
	opt := eval.AppearanceOptions{Net: net, Manifest: manifest, Out: out, Face: face, Bootstrap: boot, Seed: 1, Log: cli.Logger(env, quiet)}
	if face == eval.FaceAuto {
		lm, err := analyze.NewFaceLandmarker(landmarks)
		if err != nil {
			return err
		}
		opt.Landmarks = lm.Landmarks
	}
	if bar := cli.ProgressOut(env, quiet); bar != nil {
		opt.Progress = func(done, total int) { fmt.Fprintf(bar, "\reval %d/%d", done, total) }
	}
	res, err := eval.Appearance(ctx, opt)
	if err != nil {
		return err
	}
	res.Print(env.Stdout, m.About, out)
	return nil
}
