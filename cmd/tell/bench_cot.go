package main

import (
	"context"
	"fmt"

	"github.com/tell-project/tell/eval"
	"github.com/tell-project/tell/internal/cli"
)

const cotBenchUsage = `usage: tell bench cot MANIFEST [--rows]`

// runCotBenchmark is `tell bench cot MANIFEST`: the Exp-CoT engine's AU →
// emotion knowledge measured on the coders' own AUs.
func runCotBenchmark(ctx context.Context, env *cli.Env, args []string) error {
	fs := cli.NewFlagSet("bench cot")
	rows := fs.Bool("rows", false, "also print every row: sample, dataset, label, aus, predictions")
	rest, err := cli.Parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return cli.Usagef("%s", cotBenchUsage)
	}
	var row func(string)
	if *rows {
		row = func(line string) { fmt.Fprintln(env.Stdout, line) }
	}
	sc, err := eval.CoT(ctx, rest[0], row)
	if err != nil {
		return err
	}
	return sc.Print(env.Stdout)
}
