package main

import (
	"context"
	"fmt"
	"runtime"

	"github.com/tell-project/tell/nn"
)

// benchNN trains the reference model of bench/torch_step.py on random data.
func benchNN(ctx context.Context, env *environment, args []string) error {
	fs := newFlagSet("bench nn")
	threads := fs.Int("threads", 2, "`N` worker threads (GOMAXPROCS)")
	batch := fs.Int("batch", 32, "`N` batch size")
	warmup := fs.Int("warmup", 3, "`N` untimed steps")
	steps := fs.Int("steps", 15, "`N` timed steps")
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
