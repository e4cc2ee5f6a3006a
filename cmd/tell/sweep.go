package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/tell-project/tell/train"
)

func sweepCommand() command {
	return command{
		name:    "sweep",
		summary: "choose a training config on development rows by a rule declared before any candidate trains",
		usage: `usage: tell sweep CONFIG... --manifest DEV --protocol kfold|loso --out DIR [flags]

Trains every candidate config (a JSON file as tell train --config takes; its
name is the file's base name) under every seed, scores each run (folds
pooled) and chooses one by the rule, which is written to DIR/rule.json
before the first fold trains and cannot change afterwards:

  score: the mean over seeds of (UF1 + UAR)/2;
  cost:  the families' estimate of one run's multiply-adds;
  a candidate must beat every cheaper one by at least --margin to be
  chosen; among those that do, the highest score wins.

A candidate file {"ensemble": ["a", "b"]} averages the class probabilities
of candidates a and b fold by fold (their cost is the sum). Seed s also
draws the k-fold split, the same for every candidate. Writes:
  DIR/rule.json            the declaration (rule, manifest hash, split,
                           seeds, candidates, held-out manifests)
  DIR/runs/NAME/seed-S/    each run (folds, metrics.json), resumable
  DIR/sweep.json           the table: mean ± sd per candidate, each seed,
                           pooled subject-bootstrap intervals, cost (and
                           the same as a Markdown table beside it)
  DIR/chosen.json          the chosen candidate's file
A killed sweep resumes when run again with the same arguments.

Flags:
  --manifest DEV     the development manifest
  --protocol P       kfold (subject k-fold) or loso
  --folds K          folds for kfold (default 8)
  --seeds N          seeds per candidate (default 10)
  --first-seed S     the first seed (default 1)
  --margin M         what a costlier candidate must gain (default 0.005)
  --held-out M       a manifest kept for the final test (repeatable): the
                     sweep refuses DEV if it shares a subject with it
  --out DIR          the sweep's folder
  --cache DIR        prepare cache (default DIR/cache)
  --workers N        folds trained at once here (default: one per core)
  --nats URL         train the folds as jobs on this NATS JetStream
                     (tell worker processes run them) instead of here
  --owner NAME       owner recorded on the jobs
  --nats-creds FILE, --nats-ca FILE  NATS credentials (a server-role user:
                     training jobs go onto the queue directly) and CA
  --bootstrap N      resamples of the pooled intervals (default 1000; 0: none)
` + quietUsage,
		run: runSweep,
	}
}

// stringsFlag collects a repeatable flag.
type stringsFlag []string

func (f *stringsFlag) String() string     { return strings.Join(*f, ",") }
func (f *stringsFlag) Set(v string) error { *f = append(*f, v); return nil }

func runSweep(ctx context.Context, env *environment, args []string) error {
	fs := newFlagSet("sweep")
	manifest := fs.String("manifest", "", "")
	protocol := fs.String("protocol", "", "")
	folds := fs.Int("folds", 8, "")
	seeds := fs.Int("seeds", 10, "")
	first := fs.Int64("first-seed", 1, "")
	margin := fs.Float64("margin", train.DefaultRule().Margin, "")
	var heldOut stringsFlag
	fs.Var(&heldOut, "held-out", "")
	out := fs.String("out", "", "")
	cache := fs.String("cache", "", "")
	workers := fs.Int("workers", 0, "")
	url := fs.String("nats", "", "")
	nf := addNATSClientFlags(fs)
	owner := fs.String("owner", "", "")
	boot := fs.Int("bootstrap", 1000, "")
	quiet := quietFlag(fs)
	paths, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(paths) == 0:
		return usageErrorf("no candidate configs")
	case *manifest == "" || *out == "":
		return usageErrorf("--manifest and --out are required")
	case *protocol != "kfold" && *protocol != "loso":
		return usageErrorf("--protocol %q: want kfold or loso", *protocol)
	case *protocol == "kfold" && *folds < 2:
		return usageErrorf("--folds %d: k-fold needs at least 2 folds", *folds)
	case *seeds < 1 || *first < 0:
		return usageErrorf("--seeds %d --first-seed %d: want at least one seed from 0 up", *seeds, *first)
	case !(*margin >= 0):
		return usageErrorf("--margin %v: want ≥ 0", *margin)
	case *workers < 0:
		return usageErrorf("--workers %d: want 0 (one per core) or more", *workers)
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
		Bootstrap: *boot, Progress: stepBars(env, *quiet), Log: commandLog(env, *quiet)}
	if *url != "" {
		fc, err := connectQueue(ctx, env, *url, nf, "tell sweep", commandLog(env, *quiet))
		if err != nil {
			return err
		}
		defer fc.close()
		opt.Fleet = &train.Fleet{Queue: fc.q, Owner: *owner}
	}
	res, err := train.Sweep(ctx, opt)
	if err != nil {
		return err
	}
	for _, r := range res.Rows {
		fmt.Fprintf(env.stdout, "candidate=%s score=%.4f±%.4f uf1=%.4f±%.4f uar=%.4f±%.4f cost=%.3g eligible=%v\n",
			r.Name, r.Score.Mean, r.Score.SD, r.UF1.Mean, r.UF1.SD, r.UAR.Mean, r.UAR.SD, r.Cost, r.Eligible)
	}
	fmt.Fprintf(env.stdout, "chosen=%s\ntable=%s\nconfig=%s\nwall_seconds=%.1f\ncpu_seconds=%.1f\n", res.Chosen,
		filepath.Join(*out, "sweep.md"), filepath.Join(*out, "chosen.json"), res.Timing.WallSeconds, res.Timing.CPUSeconds)
	return nil
}
