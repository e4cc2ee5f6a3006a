package main

import (
	"context"

	"github.com/tell-project/tell/internal/cli"
	"github.com/tell-project/tell/queue"
	"github.com/tell-project/tell/train"
)

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
