package main

import (
	"context"
	"flag"
)

// benchCommand groups the measurements that compare tell with its peers.
// Each prints name=value lines, the headline last.
func benchCommand() command {
	return command{
		name:    "bench",
		summary: "measure tell against its peers (flow, ...)",
		usage: `usage: tell bench flow A.png B.png [--gt gt.flo] [--out f.flo] [--preset default|fast]

flow   TV-L1 optical flow from A to B: prints epe= (mean end-point error
       against --gt, 8-px border ignored) and last tell_tvl1_ms= (median of
       5 timed runs after a warm-up).`,
		run: runBench,
	}
}

func runBench(ctx context.Context, env *environment, args []string) error {
	if len(args) == 0 {
		return usageErrorf("missing benchmark name")
	}
	switch args[0] {
	case "flow":
		return benchFlow(ctx, env, args[1:])
	case "-h", "-help", "--help":
		return flag.ErrHelp
	}
	return usageErrorf("unknown benchmark %q", args[0])
}
