package main

import (
	"context"
	"fmt"
	"sort"
	"strings"
)

// benchmark is one `tell bench NAME` target. Each prints name=value lines,
// the headline figure last.
type benchmark struct {
	name    string
	summary string
	run     func(ctx context.Context, env *environment, args []string) error
}

// benchmarks lists the bench targets; each is defined in its own
// bench_NAME.go file.
func benchmarks() []benchmark {
	b := []benchmark{
		landmarksBenchmark(),
		ferBenchmark(),
		auBenchmark(),
		spotBenchmark(),
		cotBenchmark(),
		{name: "flow", summary: "TV-L1 optical flow A.png B.png [--gt gt.flo] [--out f.flo] [--preset default|fast]: epe=, tell_tvl1_ms=", run: benchFlow},
		{name: "nn", summary: "one training step of the reference MER model [--threads N] [--batch N]: tell_step_ms=", run: benchNN},
	}
	sort.Slice(b, func(i, j int) bool { return b[i].name < b[j].name })
	return b
}

func benchUsage() string {
	var sb strings.Builder
	sb.WriteString("Usage: tell bench TARGET [flags] [arguments]\n\n" +
		"Measures one part of tell and prints name=value lines, the headline figure last,\n" +
		"in the same interface as the peer programs in the project's bench folder.\n\nTargets:\n")
	for _, b := range benchmarks() {
		fmt.Fprintf(&sb, "  %-10s %s\n", b.name, b.summary)
	}
	return sb.String()
}

func benchCommand() command {
	return command{
		name:    "bench",
		summary: "measure a component against its peer (fer, flow, landmarks, nn), on synthetic truth (au) or on coded clips (spot)",
		usage:   benchUsage(),
		run: func(ctx context.Context, env *environment, args []string) error {
			if len(args) == 0 {
				return usageErrorf("missing benchmark target")
			}
			for _, b := range benchmarks() {
				if b.name == args[0] {
					return b.run(ctx, env, args[1:])
				}
			}
			return usageErrorf("unknown benchmark target %q", args[0])
		},
	}
}
