package main

import (
	"context"
	"fmt"

	"github.com/tell-project/tell/eval"
)

// cotBenchmark is `tell bench cot MANIFEST`: the Exp-CoT engine's AU →
// emotion knowledge measured on the coders' own AUs.
func cotBenchmark() benchmark {
	return benchmark{
		name:    "cot",
		summary: "the Exp-CoT engine on a manifest's coded AUs (aus) against its labels: accuracy, UF1, UAR, ECE, confusion per dataset",
		usage:   cotBenchUsage,
		run:     runCotBenchmark,
	}
}

const cotBenchUsage = `usage: tell bench cot MANIFEST [--rows]`

func runCotBenchmark(ctx context.Context, env *environment, args []string) error {
	fs := newFlagSet("bench cot")
	rows := fs.Bool("rows", false, "also print every row: sample, dataset, label, aus, predictions")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usageErrorf("%s", cotBenchUsage)
	}
	var row func(string)
	if *rows {
		row = func(line string) { fmt.Fprintln(env.stdout, line) }
	}
	sc, err := eval.CoT(ctx, rest[0], row)
	if err != nil {
		return err
	}
	return sc.Print(env.stdout)
}
