package main

import (
	"context"
	"fmt"
	"os"

	"github.com/tell-project/tell/cnn"
	"github.com/tell-project/tell/internal/cli"
	"github.com/tell-project/tell/merclip"
	"github.com/tell-project/tell/model"
	"github.com/tell-project/tell/queue"
	"github.com/tell-project/tell/train"
)

// families registers the model families tell trains and runs (package
// model); the first is the default. Packages that run models (analyze) get
// them from here rather than importing a family.
func families() model.Families { return model.Families{cnn.Family{}, merclip.Family{}} }

func trainCommand() cli.Command {
	return cli.Command{
		Name:    "train",
		Summary: "train and evaluate a recogniser (CNN or MER-CLIP) under LOSO, k-fold or holdout",
		Usage:   `usage: tell train --manifest M --protocol loso|kfold|holdout --out RUN [flags]`,
		Run:     runTrain,
	}
}

func runTrain(ctx context.Context, env *cli.Env, args []string) error {
	fs := cli.NewFlagSet("train")
	manifest := fs.String("manifest", "", "`M` manifest CSV (docs/manifest.md)")
	protocol := fs.String("protocol", "loso", "`P` loso (leave one subject out), kfold, holdout")
	folds := fs.Int("folds", 5, "`K` folds for kfold (default 5)")
	frac := fs.Float64("test-fraction", 0.2, "`F` test share for holdout (default 0.2)")
	out := fs.String("out", "", "`RUN` run folder")
	cfgPath := fs.String("config", "", "`FILE` JSON config over the defaults (print them: --print-config); {\"model\": \"merclip\"} selects the MER-CLIP family")
	seed := fs.Int64("seed", -1, "`N` overrides the config's seed")
	epochs := fs.Int("epochs", 0, "`N` overrides the family's train.epochs")
	workers := fs.Int("workers", 0, "`N` folds trained at once (default: one per core)")
	cache := fs.String("cache", "", "`DIR` prepare cache (default RUN/cache)")
	boot := fs.Int("bootstrap", 1000, "`N` bootstrap resamples (default 1000; 0 for none)")
	noFinal := fs.Bool("no-final", false, "skip the final model")
	printCfg := fs.Bool("print-config", false, "print the effective config and exit")
	url := fs.String("nats", "", "`URL` train the folds and the final model as jobs on this NATS JetStream (the queue tell serve and tell batch use), run by tell worker processes anywhere; the results, the metrics.json and the model are those of the same run here, byte for byte. Interrupted, it resumes when run again (finished jobs are collected, not retrained).")
	nf := queue.AddClientFlags(fs)
	owner := fs.String("owner", "", "`NAME` owner recorded on the queued jobs")
	quiet := cli.QuietFlag(fs)
	if _, err := cli.Parse(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig(*cfgPath, *seed, *epochs, *workers)
	if err != nil {
		return err
	}
	if *printCfg {
		fmt.Fprintln(env.Stdout, string(cfg.JSON()))
		return nil
	}
	if *manifest == "" || *out == "" {
		return cli.Usagef("--manifest and --out are required")
	}
	if *boot, err = bootstrapFlag(*boot); err != nil {
		return err
	}
	if *protocol == "kfold" && *folds < 2 {
		return cli.Usagef("--folds %d: k-fold needs at least 2 folds", *folds)
	}
	if *protocol == "holdout" && !(*frac > 0 && *frac < 1) {
		return cli.Usagef("--test-fraction %v: want a share between 0 and 1", *frac)
	}
	if *workers < 0 {
		return cli.Usagef("--workers %d: want 0 (one per core) or more", *workers)
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
		Progress: cli.StepBars(env, *quiet), Log: cli.Logger(env, *quiet),
	}
	if *url != "" {
		fc, err := nf.Dial(ctx, *url, "tell train", cli.Logger(env, *quiet))
		if err != nil {
			return err
		}
		defer fc.Close()
		opt.Fleet = &train.Fleet{Queue: fc.Queue, Owner: *owner}
	}
	res, err := train.Run(ctx, opt)
	if err != nil {
		if ctx.Err() == nil {
			made.Cleanup(cli.Logger(env, *quiet))
		}
		return err
	}
	res.Print(env.Stdout, *out)
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
		return 0, cli.Usagef("--bootstrap %d: want 0 (none) to %d resamples", n, maxBootstrap)
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
		return cli.Usagef("--protocol %q: want loso, kfold or holdout", protocol)
	}
	return train.CheckProtocol(manifest, protocol, folds, frac, seed)
}
