package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/tell-project/tell/analyze"
	"github.com/tell-project/tell/appearance"
	"github.com/tell-project/tell/eval"
	"github.com/tell-project/tell/metrics"
	"github.com/tell-project/tell/models"
	"github.com/tell-project/tell/train"
)

func evalCommand() command {
	return command{
		name:    "eval",
		summary: "score a trained or pretrained model on a manifest (metrics.json, predictions.csv)",
		usage: `usage: tell eval --model RUN/model.safetensors --manifest M --out RUN2
       tell eval --appearance faceapi|human --manifest images.csv --out RUN2

--model is a model tell train wrote. --appearance is a pretrained appearance
model (installed by scripts/install-models.sh) that scores a still-image
manifest zero-shot: each row's image is the face crop, given whole as the
TensorFlow.js peer gives it (--face full; --face auto frames the face from
its landmarks instead); the classes are the manifest's labels (the model's
classes the task has, or for negative/positive/surprise the sums of its
classes in each); the model's other classes (neutral, ...) stay answers of
their own, so a face it reads as neutral is a miss, not the task class
with the largest remainder; rows with a label the model has no class for
are left out and listed in errors.txt.

Prepares the manifest's rows as the model's input (flow or image), predicts
every row and writes RUN2/metrics.json (one fold holding every subject, with
bootstrap intervals resampling subjects, and per dataset), RUN2/predictions.csv
(sample, label, pred, then score_CLASS for every class the model has,
neutral included) and RUN2/errors.txt for rows left out. Labels the model
does not know are reported and left out.

Cross-dataset evaluation: train on one dataset's manifest, evaluate on
another's with the same class names, e.g.
  tell train --manifest casme2.csv --protocol holdout --out RUN
  tell eval --model RUN/model.safetensors --manifest smic.csv --out X

Flags:
  --model PATH     a model.safetensors written by tell train
  --appearance NAME
                   a pretrained appearance model instead: faceapi or human
  --models DIR     folder of the pretrained models (default $TELL_MODELS,
                   else ~/.local/share/tell/models)
  --face MODE      --appearance: full (default; the image is the face crop,
                   as tell analyze's --face full) or auto
  --landmarks PATH pretrained models with --face auto: dlib 68-point model
  --manifest M     manifest CSV
  --out DIR        output folder
  --cache DIR      prepare cache (default DIR/cache)
  --bootstrap N    bootstrap resamples (default 1000; 0 for none)
` + quietUsage,
		run: runEval,
	}
}

func runEval(ctx context.Context, env *environment, args []string) error {
	fs := newFlagSet("eval")
	model := fs.String("model", "", "")
	appName := fs.String("appearance", "", "")
	manifest := fs.String("manifest", "", "")
	out := fs.String("out", "", "")
	cache := fs.String("cache", "", "")
	boot := fs.Int("bootstrap", 1000, "")
	modelsDir := fs.String("models", "", "")
	faceMode := fs.String("face", eval.FaceFull, "")
	landmarks := fs.String("landmarks", "", "")
	quiet := quietFlag(fs)
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	if (*model == "") == (*appName == "") || *manifest == "" || *out == "" {
		return usageErrorf("--model or --appearance (one of them), --manifest and --out are required")
	}
	var err error
	if *boot, err = bootstrapFlag(*boot); err != nil {
		return err
	}
	if _, err := models.ByName(*model); err == nil {
		return usageErrorf("--model %s: a pretrained appearance model is --appearance %s", *model, *model)
	}
	if *appName != "" {
		m, err := models.ByName(*appName)
		if err != nil {
			return usageErrorf("--appearance: %v", err)
		}
		return evalPretrained(ctx, env, m, *modelsDir, *faceMode, *landmarks, *manifest, *out, *boot, *quiet)
	}
	res, err := train.Evaluate(ctx, train.EvalOptions{Model: *model, Families: families(), Manifest: *manifest, Out: *out, Cache: *cache, Bootstrap: *boot, Progress: stepBars(env, *quiet), Log: commandLog(env, *quiet)})
	if err != nil {
		return err
	}
	r := res.Report
	if r.UF1CI != nil {
		fmt.Fprintf(env.stdout, "n=%d\nuf1=%.4f [%.4f, %.4f]\nuar=%.4f [%.4f, %.4f]\naccuracy=%.4f\n", r.N, r.UF1, r.UF1CI.Lo, r.UF1CI.Hi, r.UAR, r.UARCI.Lo, r.UARCI.Hi, r.Accuracy)
	} else {
		fmt.Fprintf(env.stdout, "n=%d\nuf1=%.4f\nuar=%.4f\naccuracy=%.4f\n", r.N, r.UF1, r.UAR, r.Accuracy)
	}
	if r.ECE != nil {
		fmt.Fprintf(env.stdout, "ece=%.4f\n", *r.ECE)
	}
	printPerDataset(env, r)
	if len(res.RowErrors) > 0 {
		fmt.Fprintf(env.stdout, "rows_left_out=%d (see %s)\n", len(res.RowErrors), filepath.Join(*out, "errors.txt"))
	}
	fmt.Fprintf(env.stdout, "metrics=%s\n", filepath.Join(*out, "metrics.json"))
	return nil
}

// evalPretrained is tell eval with a pretrained appearance model.
func evalPretrained(ctx context.Context, env *environment, m models.Model, dir, face, landmarks, manifest, out string, boot int, quiet bool) error {
	if face == "whole" {
		return usageErrorf("--face whole is now called full, as in tell analyze")
	}
	if face != eval.FaceFull && face != eval.FaceAuto {
		return usageErrorf("--face %q: want full or auto", face)
	}
	net, err := appearance.Load(models.Root(dir), m)
	if err != nil {
		return err
	}
	opt := eval.AppearanceOptions{Net: net, Manifest: manifest, Out: out, Face: face, Bootstrap: boot, Seed: 1, Log: commandLog(env, quiet)}
	if face == eval.FaceAuto {
		lm, err := analyze.NewFaceLandmarker(landmarks)
		if err != nil {
			return err
		}
		opt.Landmarks = lm.Landmarks
	}
	if bar := progressOut(env, quiet); bar != nil {
		opt.Progress = func(done, total int) { fmt.Fprintf(bar, "\reval %d/%d", done, total) }
	}
	res, err := eval.Appearance(ctx, opt)
	if err != nil {
		return err
	}
	r := res.Report
	fmt.Fprintf(env.stdout, "model=%s\nclasses=%s\nn=%d\n", m.About, strings.Join(res.Classes, ","), r.N)
	ci := func(c *metrics.CI) string {
		if c == nil {
			return ""
		}
		return fmt.Sprintf(" [%.4f, %.4f]", c.Lo, c.Hi)
	}
	fmt.Fprintf(env.stdout, "uf1=%.4f%s\nuar=%.4f%s\naccuracy=%.4f\n", r.UF1, ci(r.UF1CI), r.UAR, ci(r.UARCI), r.Accuracy)
	if r.ECE != nil {
		fmt.Fprintf(env.stdout, "ece=%.4f\n", *r.ECE)
	}
	if len(res.RowErrors) > 0 {
		fmt.Fprintf(env.stdout, "rows_left_out=%d (see %s)\n", len(res.RowErrors), filepath.Join(out, "errors.txt"))
	}
	fmt.Fprintf(env.stdout, "metrics=%s\n", filepath.Join(out, "metrics.json"))
	return nil
}
