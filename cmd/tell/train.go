package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/tell-project/tell/cnn"
	"github.com/tell-project/tell/merclip"
	"github.com/tell-project/tell/metrics"
	"github.com/tell-project/tell/model"
	"github.com/tell-project/tell/train"
)

// families registers the model families tell trains and runs (package
// model); the first is the default. Packages that run models (analyze) get
// them from here rather than importing a family.
func families() model.Families { return model.Families{cnn.Family{}, merclip.Family{}} }

func trainCommand() command {
	return command{
		name:    "train",
		summary: "train and evaluate a recogniser (CNN or MER-CLIP) under LOSO, k-fold or holdout",
		usage: `usage: tell train --manifest M --protocol loso|kfold|holdout --out RUN [flags]

Trains a model family (default "cnn": a shallow CNN over flow images;
"merclip": the AU-guided MER-CLIP transformer; image-only manifests train
still-image FER) on every fold of the protocol, folds in parallel, and writes:
  RUN/metrics.json        UF1, UAR, accuracy, confusion pooled over folds,
                          bootstrap 95% intervals (resampling subjects), and
                          per dataset (the manifest's dataset column)
  RUN/model.safetensors   the final model trained on all rows, with its
                          config and class list (tell eval, tell analyze --model)
  RUN/folds/fold-NNN.json|.log   each fold's predictions and training log
  RUN/errors.txt          rows left out, with the reason
  RUN/run.json            wall and CPU time, where the folds ran
A killed run resumes from the last finished fold when run again with the same
manifest, config and --out.

Honest protocol: every choice (epochs, schedule, ensemble) is fixed by the
config before training; no option selects an epoch or a checkpoint by the
test folds' scores (a family never sees a fold's test rows). The config's
"validation" share holds out whole training subjects for families that stop
early on them.

Flags:
  --manifest M     manifest CSV (docs/manifest.md)
  --protocol P     loso (leave one subject out), kfold, holdout
  --folds K        folds for kfold (default 5)
  --test-fraction F  test share for holdout (default 0.2)
  --out RUN        run folder
  --config FILE    JSON config over the defaults (print them: --print-config);
                   {"model": "merclip"} selects the MER-CLIP family
  --seed N         overrides the config's seed
  --epochs N       overrides the family's train.epochs
  --workers N      folds trained at once (default: one per core)
  --cache DIR      prepare cache (default RUN/cache)
  --bootstrap N    bootstrap resamples (default 1000; 0 for none)
  --no-final       skip the final model
  --nats URL       train the folds and the final model as jobs on this NATS
                   JetStream (the queue tell serve and tell batch use), run
                   by tell worker processes anywhere; the results, the
                   metrics.json and the model are those of the same run
                   here, byte for byte. Interrupted, it resumes when run
                   again (finished jobs are collected, not retrained).
  --owner NAME     owner recorded on the queued jobs
  --nats-creds FILE, --nats-ca FILE  NATS credentials (a server-role user:
                   training jobs go onto the queue directly) and CA
  --print-config   print the effective config and exit
` + quietUsage + `
Before anything is prepared or written, the manifest must meet the
protocol: at least 2 labels, 2 subjects (loso, holdout) or as many subjects
as --folds (kfold). A run that fails before a fold finishes removes the
folders and files it created (an interrupted run keeps them, to resume).`,
		run: runTrain,
	}
}

func runTrain(ctx context.Context, env *environment, args []string) error {
	fs := newFlagSet("train")
	manifest := fs.String("manifest", "", "")
	protocol := fs.String("protocol", "loso", "")
	folds := fs.Int("folds", 5, "")
	frac := fs.Float64("test-fraction", 0.2, "")
	out := fs.String("out", "", "")
	cfgPath := fs.String("config", "", "")
	seed := fs.Int64("seed", -1, "")
	epochs := fs.Int("epochs", 0, "")
	workers := fs.Int("workers", 0, "")
	cache := fs.String("cache", "", "")
	boot := fs.Int("bootstrap", 1000, "")
	noFinal := fs.Bool("no-final", false, "")
	printCfg := fs.Bool("print-config", false, "")
	url := fs.String("nats", "", "")
	nf := addNATSClientFlags(fs)
	owner := fs.String("owner", "", "")
	quiet := quietFlag(fs)
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig(*cfgPath, *seed, *epochs, *workers)
	if err != nil {
		return err
	}
	if *printCfg {
		fmt.Fprintln(env.stdout, string(cfg.JSON()))
		return nil
	}
	if *manifest == "" || *out == "" {
		return usageErrorf("--manifest and --out are required")
	}
	if *boot, err = bootstrapFlag(*boot); err != nil {
		return err
	}
	if *protocol == "kfold" && *folds < 2 {
		return usageErrorf("--folds %d: k-fold needs at least 2 folds", *folds)
	}
	if *protocol == "holdout" && !(*frac > 0 && *frac < 1) {
		return usageErrorf("--test-fraction %v: want a share between 0 and 1", *frac)
	}
	if *workers < 0 {
		return usageErrorf("--workers %d: want 0 (one per core) or more", *workers)
	}
	if err := checkProtocol(*manifest, *protocol, *folds, *frac, uint64(cfg.Seed)); err != nil {
		return err
	}
	made, err := train.SnapshotDir(*out)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	opt := train.RunOptions{
		Manifest: *manifest, Protocol: *protocol, Folds: *folds, HoldoutFraction: *frac,
		Out: *out, Cache: *cache, Config: cfg, Families: families(), Bootstrap: *boot, NoFinal: *noFinal,
		Progress: stepBars(env, *quiet), Log: commandLog(env, *quiet),
	}
	if *url != "" {
		fc, err := connectQueue(ctx, env, *url, nf, "tell train", commandLog(env, *quiet))
		if err != nil {
			return err
		}
		defer fc.close()
		opt.Fleet = &train.Fleet{Queue: fc.q, Owner: *owner}
	}
	res, err := train.Run(ctx, opt)
	if err != nil {
		if ctx.Err() == nil {
			made.Cleanup(commandLog(env, *quiet))
		}
		return err
	}
	r := res.Report
	fmt.Fprintf(env.stdout, "protocol=%s n=%d folds=%d resumed=%d\n", r.Protocol, r.N, len(r.Folds), res.Resumed)
	if r.UF1CI != nil {
		fmt.Fprintf(env.stdout, "uf1=%.4f [%.4f, %.4f]\nuar=%.4f [%.4f, %.4f]\n", r.UF1, r.UF1CI.Lo, r.UF1CI.Hi, r.UAR, r.UARCI.Lo, r.UARCI.Hi)
	} else {
		fmt.Fprintf(env.stdout, "uf1=%.4f\nuar=%.4f\n", r.UF1, r.UAR)
	}
	fmt.Fprintf(env.stdout, "accuracy=%.4f\n", r.Accuracy)
	if r.ECE != nil {
		fmt.Fprintf(env.stdout, "ece=%.4f\n", *r.ECE)
	}
	fmt.Fprintf(env.stdout, "seconds=%.1f\n", res.Timing.WallSeconds)
	printPerDataset(env, r)
	if len(res.RowErrors) > 0 {
		fmt.Fprintf(env.stdout, "rows_left_out=%d (see %s)\n", len(res.RowErrors), filepath.Join(*out, "errors.txt"))
	}
	fmt.Fprintf(env.stdout, "metrics=%s\n", filepath.Join(*out, "metrics.json"))
	if res.Model != "" {
		fmt.Fprintf(env.stdout, "model=%s\n", res.Model)
	}
	return nil
}

// maxBootstrap bounds --bootstrap: 100,000 resamples already give interval
// ends stable to the third decimal.
const maxBootstrap = 100000

// bootstrapFlag checks --bootstrap and maps 0 (none) to the -1 that
// metrics.Report takes for "no intervals".
func bootstrapFlag(n int) (int, error) {
	switch {
	case n < 0 || n > maxBootstrap:
		return 0, usageErrorf("--bootstrap %d: want 0 (none) to %d resamples", n, maxBootstrap)
	case n == 0:
		return -1, nil
	}
	return n, nil
}

// loadConfig reads a training config (defaults when path is empty) and
// applies command-line overrides (negative seed, zero epochs/workers: keep).
func loadConfig(path string, seed int64, epochs, workers int) (train.Config, error) {
	cfg := train.DefaultConfig(families())
	if path != "" {
		var err error
		if cfg, err = train.LoadConfig(path, families()); err != nil {
			return cfg, err
		}
	}
	if seed >= 0 {
		cfg.Seed = seed
	}
	if epochs > 0 {
		cfg.Spec = cfg.Spec.WithEpochs(epochs)
	}
	if workers > 0 {
		cfg.Workers = workers
	}
	return cfg, cfg.Validate()
}

// checkProtocol checks --protocol, then what the protocol needs of the
// manifest (train.CheckProtocol).
func checkProtocol(manifest, protocol string, folds int, frac float64, seed uint64) error {
	switch protocol {
	case train.ProtocolLOSO, train.ProtocolKFold, train.ProtocolHoldout:
	default:
		return usageErrorf("--protocol %q: want loso, kfold or holdout", protocol)
	}
	return train.CheckProtocol(manifest, protocol, folds, frac, seed)
}

// printPerDataset prints each source dataset's scores, as the MEGC tables
// report them: dataset=NAME n=N uf1=… uar=… accuracy=…
func printPerDataset(env *environment, r metrics.Report) {
	names := make([]string, 0, len(r.PerDataset))
	for d := range r.PerDataset {
		names = append(names, d)
	}
	sort.Strings(names)
	for _, d := range names {
		g := r.PerDataset[d]
		ece := ""
		if g.ECE != nil {
			ece = fmt.Sprintf(" ece=%.4f", *g.ECE)
		}
		fmt.Fprintf(env.stdout, "dataset=%s n=%d uf1=%.4f uar=%.4f accuracy=%.4f%s\n", d, g.N, g.UF1, g.UAR, g.Accuracy, ece)
	}
}
