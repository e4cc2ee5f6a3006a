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
	usage   string // the usage line of `tell help bench NAME` (default: tell bench NAME [flags])
	run     func(ctx context.Context, env *environment, args []string) error
}

// help is the target's help text: its usage line (or a made one), its
// summary and the flags it defines, with their descriptions.
func (b benchmark) help() string {
	usage := b.usage
	if usage == "" {
		usage = "usage: tell bench " + b.name + " [flags]"
	}
	return helpOf(usage, b.summary, func(env *environment) error {
		return b.run(context.Background(), env, []string{"--help"})
	})
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
	sb.WriteString("\nEach target's flags:\n")
	for _, b := range benchmarks() {
		fmt.Fprintf(&sb, "\n%s\n", strings.TrimSpace(b.help()))
	}
	return sb.String()
}

// benchHelp is `tell help bench NAME`.
func benchHelp(name string) (string, bool) {
	for _, b := range benchmarks() {
		if b.name == name {
			return b.help(), true
		}
	}
	return "", false
}

func benchCommand() command {
	return command{
		name:    "bench",
		summary: "measure a component against its peer (fer, flow, landmarks, nn), on synthetic truth (au) or on coded clips (spot)",
		usage:   benchUsage(),
		sub:     benchHelp,
		run: func(ctx context.Context, env *environment, args []string) error {
			if len(args) == 0 {
				return usageErrorf("missing benchmark target")
			}
			for _, b := range benchmarks() {
				if b.name == args[0] {
					if err := b.run(ctx, env, args[1:]); err != nil {
						return &topicError{topic: "bench " + b.name, err: err}
					}
					return nil
				}
			}
			return usageErrorf("unknown benchmark target %q", args[0])
		},
	}
}
