package main

import (
	"context"
	"flag"
)

// benchCommand groups the measurements that compare tell with its peers in
// ../shared/bench. Each target prints name=value lines, the headline last.
func benchCommand() command {
	return command{
		name:    "bench",
		summary: "measure tell against its peers (flow, nn, ...)",
		usage: `usage: tell bench TARGET [flags] [arguments]

Targets:
  flow A.png B.png [--gt gt.flo] [--out f.flo] [--preset default|fast]
       TV-L1 optical flow from A to B: prints epe= (mean end-point error
       against --gt, 8-px border ignored) and last tell_tvl1_ms= (median of
       5 timed runs after a warm-up).
  nn [--threads N] [--batch N] [--warmup N] [--steps N]
       train the reference MER model of bench/torch_step.py (batch 32 of
       3x28x28 flow images, ViT width 128 depth 4 + 2 EIM blocks, AU-text
       transformer, cross-entropy + InfoNCE, AdamW) on random data.
       Prints params=, threads=, kernel=, loss=, then tell_step_ms=<median>.`,
		run: runBench,
	}
}

func runBench(ctx context.Context, env *environment, args []string) error {
	if len(args) == 0 {
		return usageErrorf("missing benchmark target")
	}
	switch args[0] {
	case "flow":
		return benchFlow(ctx, env, args[1:])
	case "nn":
		return benchNN(ctx, env, args[1:])
	case "-h", "-help", "--help":
		return flag.ErrHelp
	}
	return usageErrorf("unknown benchmark target %q", args[0])
}
