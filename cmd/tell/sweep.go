package main

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/tell-project/tell/internal/cli"
	"github.com/tell-project/tell/queue"
	"github.com/tell-project/tell/train"
)

func sweepCommand() cli.Command {
	return cli.Command{
		Name:    "sweep",
		Summary: "choose a training config on development rows by a rule declared before any candidate trains",
		Usage:   `usage: tell sweep CONFIG... --manifest DEV --protocol kfold|loso --out DIR [flags]`,
		Run:     runSweep,
	}
}

func runSweep(ctx context.Context, env *cli.Env, args []string) error {
	fs := cli.NewFlagSet("sweep")
	manifest := fs.String("manifest", "", "`DEV` the development manifest")
	protocol := fs.String("protocol", "", "`P` kfold (subject k-fold) or loso")
	folds := fs.Int("folds", 8, "`K` folds for kfold (default 8)")
	seeds := fs.Int("seeds", 10, "`N` seeds per candidate (default 10)")
	first := fs.Int64("first-seed", 1, "`S` the first seed (default 1)")
	margin := fs.Float64("margin", train.DefaultRule().Margin, "`M` what a costlier candidate must gain (default 0.005)")
	var heldOut cli.Strings
	fs.Var(&heldOut, "held-out", "`M` a manifest kept for the final test (repeatable): the sweep refuses DEV if it shares a subject with it")
	out := fs.String("out", "", "`DIR` the sweep's folder")
	cache := fs.String("cache", "", "`DIR` prepare cache (default DIR/cache)")
	workers := fs.Int("workers", 0, "`N` folds trained at once here (default: one per core)")
	url := fs.String("nats", "", "`URL` train the folds as jobs on this NATS JetStream (tell worker processes run them) instead of here")
	nf := queue.AddClientFlags(fs)
	owner := fs.String("owner", "", "`NAME` owner recorded on the jobs")
	boot := fs.Int("bootstrap", 1000, "`N` resamples of the pooled intervals (default 1000; 0: none)")
	quiet := cli.QuietFlag(fs)
	paths, err := cli.Parse(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(paths) == 0:
		return cli.Usagef("no candidate configs")
	case *manifest == "" || *out == "":
		return cli.Usagef("--manifest and --out are required")
	case *protocol != "kfold" && *protocol != "loso":
		return cli.Usagef("--protocol %q: want kfold or loso", *protocol)
	case *protocol == "kfold" && *folds < 2:
		return cli.Usagef("--folds %d: k-fold needs at least 2 folds", *folds)
	case *seeds < 1 || *first < 0:
		return cli.Usagef("--seeds %d --first-seed %d: want at least one seed from 0 up", *seeds, *first)
	case !(*margin >= 0):
		return cli.Usagef("--margin %v: want ≥ 0", *margin)
	case *workers < 0:
		return cli.Usagef("--workers %d: want 0 (one per core) or more", *workers)
	}
	if *boot, err = bootstrapFlag(*boot); err != nil {
		return err
	}
	var cands []train.Candidate
	for _, p := range paths {
		c, err := train.LoadCandidate(p, families())
		if err != nil {
			return err
		}
		cands = append(cands, c)
	}
	if err := checkProtocol(*manifest, *protocol, *folds, 0.2, uint64(*first)); err != nil {
		return err
	}
	rule := train.DefaultRule()
	rule.Margin = *margin
	opt := train.SweepOptions{Manifest: *manifest, Protocol: *protocol, Folds: *folds, Seeds: *seeds, FirstSeed: *first,
		Candidates: cands, HeldOut: heldOut, Rule: rule, Out: *out, Cache: *cache, Families: families(), Workers: *workers,
		Bootstrap: *boot, Progress: cli.StepBars(env, *quiet), Log: cli.Logger(env, *quiet)}
	if *url != "" {
		fc, err := nf.Dial(ctx, *url, "tell sweep", cli.Logger(env, *quiet))
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
	for _, r := range res.Rows {
		fmt.Fprintf(env.Stdout, "candidate=%s score=%.4f±%.4f uf1=%.4f±%.4f uar=%.4f±%.4f cost=%.3g eligible=%v\n",
			r.Name, r.Score.Mean, r.Score.SD, r.UF1.Mean, r.UF1.SD, r.UAR.Mean, r.UAR.SD, r.Cost, r.Eligible)
	}
	fmt.Fprintf(env.Stdout, "chosen=%s\ntable=%s\nconfig=%s\nwall_seconds=%.1f\ncpu_seconds=%.1f\n", res.Chosen,
		filepath.Join(*out, "sweep.md"), filepath.Join(*out, "chosen.json"), res.Timing.WallSeconds, res.Timing.CPUSeconds)
	return nil
}
