package main

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/tell-project/tell/merclip"
)

func evalCommand() command {
	return command{
		name:    "eval",
		summary: "score a trained model on a manifest (metrics.json, predictions.csv)",
		usage: `usage: tell eval --model RUN/model.safetensors --manifest M --out RUN2

Prepares the manifest's rows as the model's input (flow or image), predicts
every row and writes RUN2/metrics.json (one fold holding every subject, with
bootstrap intervals resampling subjects), RUN2/predictions.csv (sample,
subject, label, predicted, one score column per class) and RUN2/errors.txt for
rows left out. Labels the model does not know are reported and left out.

Flags:
  --model PATH     a model.safetensors written by tell train
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
	manifest := fs.String("manifest", "", "")
	out := fs.String("out", "", "")
	cache := fs.String("cache", "", "")
	boot := fs.Int("bootstrap", 1000, "")
	quiet := quietFlag(fs)
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	if *model == "" || *manifest == "" || *out == "" {
		return usageErrorf("--model, --manifest and --out are required")
	}
	var err error
	if *boot, err = bootstrapFlag(*boot); err != nil {
		return err
	}
	res, err := merclip.Evaluate(ctx, merclip.EvalOptions{Model: *model, Manifest: *manifest, Out: *out, Cache: *cache, Bootstrap: *boot, Bar: progressOut(env, *quiet), Log: commandLog(env, *quiet)})
	if err != nil {
		return err
	}
	r := res.Report
	fmt.Fprintf(env.stdout, "n=%d\nuf1=%.4f\nuar=%.4f\naccuracy=%.4f\n", r.N, r.UF1, r.UAR, r.Accuracy)
	if len(res.RowErrors) > 0 {
		fmt.Fprintf(env.stdout, "rows_left_out=%d (see %s)\n", len(res.RowErrors), filepath.Join(*out, "errors.txt"))
	}
	fmt.Fprintf(env.stdout, "metrics=%s\n", filepath.Join(*out, "metrics.json"))
	return nil
}
