package main

import (
	"context"
	"fmt"
	"runtime"

	"github.com/tell-project/tell/internal/cli"
	"github.com/tell-project/tell/nn"
)

// benchNN trains the reference model of bench/torch_step.py on random data.
func benchNN(ctx context.Context, env *cli.Env, args []string) error {
	fs := cli.NewFlagSet("bench nn")
	threads := fs.Int("threads", 2, "`N` worker threads (GOMAXPROCS)")
	batch := fs.Int("batch", 32, "`N` batch size")
	warmup := fs.Int("warmup", 3, "`N` untimed steps")
	steps := fs.Int("steps", 15, "`N` timed steps")
	rest, err := cli.Parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return cli.Usagef("unexpected argument %q", rest[0])
	}
	if *threads < 1 || *batch < 1 || *steps < 1 || *warmup < 0 {
		return cli.Usagef("--threads, --batch and --steps must be positive")
	}
	runtime.GOMAXPROCS(*threads)
	r, err := nn.BenchRef(ctx, nn.DefaultRefConfig(), *batch, *warmup, *steps)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "params=%d threads=%d kernel=%s\n", r.Params, *threads, nn.KernelName())
	fmt.Fprintf(env.Stdout, "loss_first=%.4f loss_last=%.4f\n", r.FirstLoss, r.LastLoss)
	fmt.Fprintf(env.Stdout, "tell_step_ms=%.1f\n", r.MedianMS)
	return nil
}
