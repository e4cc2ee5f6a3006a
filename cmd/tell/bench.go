package main

import (
	"context"
	"fmt"
	"runtime"

	"github.com/tell-project/tell/nn"
)

// benchTargets maps `tell bench TARGET` to its runner; each prints
// name=value lines, the headline last.
var benchTargets = map[string]func(ctx context.Context, env *environment, args []string) error{
	"nn": benchNN,
}

func benchCommand() command {
	return command{
		name:    "bench",
		summary: "measure the speed of a component (nn, ...)",
		usage: `Usage: tell bench TARGET [flags]

Targets:
  nn   train the reference MER model of bench/torch_step.py (batch 32 of
       3x28x28 flow images, ViT width 128 depth 4 + 2 EIM blocks, AU-text
       transformer, cross-entropy + InfoNCE, AdamW) on random data.
       Flags: --threads N (2) --batch N (32) --warmup N (3) --steps N (15)
       Prints params=, threads=, kernel=, loss=, then tell_step_ms=<median>.`,
		run: func(ctx context.Context, env *environment, args []string) error {
			if len(args) == 0 {
				return usageErrorf("missing target")
			}
			run, ok := benchTargets[args[0]]
			if !ok {
				return usageErrorf("unknown target %q", args[0])
			}
			return run(ctx, env, args[1:])
		},
	}
}

func benchNN(ctx context.Context, env *environment, args []string) error {
	fs := newFlagSet("bench nn")
	threads := fs.Int("threads", 2, "worker threads (GOMAXPROCS)")
	batch := fs.Int("batch", 32, "batch size")
	warmup := fs.Int("warmup", 3, "untimed steps")
	steps := fs.Int("steps", 15, "timed steps")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usageErrorf("unexpected argument %q", rest[0])
	}
	if *threads < 1 || *batch < 1 || *steps < 1 || *warmup < 0 {
		return usageErrorf("--threads, --batch and --steps must be positive")
	}
	runtime.GOMAXPROCS(*threads)
	r, err := nn.BenchRef(ctx, nn.DefaultRefConfig(), *batch, *warmup, *steps)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "params=%d threads=%d kernel=%s\n", r.Params, *threads, nn.KernelName())
	fmt.Fprintf(env.stdout, "loss_first=%.4f loss_last=%.4f\n", r.FirstLoss, r.LastLoss)
	fmt.Fprintf(env.stdout, "tell_step_ms=%.1f\n", r.MedianMS)
	return nil
}
