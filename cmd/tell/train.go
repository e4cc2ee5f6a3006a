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
