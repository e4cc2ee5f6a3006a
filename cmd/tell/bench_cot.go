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
		run:     runCotBenchmark,
	}
}

const cotBenchUsage = `usage: tell bench cot MANIFEST [--rows]

Runs the Exp-CoT engine (tell cot) on every row's coded AUs (the manifest's
aus column, e.g. from tell dataset casme2 --sheet-only) and scores its
conclusion against the row's label, in two tasks:

  basic    rows labelled with one of the seven basic emotions (anger,
           contempt, disgust, fear, happiness, sadness, surprise); the
           engine names any basic emotion, or others/neutral
  3class   rows whose label has a MEGC2019 class (RESEARCH.md §3: CASME II
           disgust and repression are negative, its others and sadness/fear
           rows are left out); the engine is given the classes negative,
           positive, surprise

The engine is told each row's dataset (the manifest's dataset column), as
tell cot --dataset is. Rows without AUs ("?", empty) are skipped.

Prints name=value lines per task and dataset (and "all" over datasets):
  <task>_<dataset>_n, _accuracy, _uf1, _uar, _ece, _ece_loso,
  _doubt_n, _doubt_right, _doubt_top2
UF1 and UAR are means over the classes the rows are labelled with (a
prediction outside them counts against recall, never as a class of its
own); ECE is the expected calibration error of the engine's confidence
(10 bins), the probability of its label at its temperature. The
temperature is refitted on the manifest (temperature_fit: the likelihood
of the labels, both tasks pooled) and, leaving one subject out at a time
(temperature_loso_folds), on the other subjects' rows: _ece_loso is the
ECE of the held-out rows' confidences, a calibration not fitted on them.
_doubt_*: rows whose two most probable labels lie within the doubt
margin (tell analyze's "uncertain between"), how many of them are right
and how many have the truth among the two. The reliability bins (rows,
mean confidence, accuracy; engine | leave-one-subject-out) and the
confusion (rows truth, columns prediction) follow each score as lines
starting with '#'. The last line is 3class_all_uf1.

  --rows   also print every row: sample, dataset, label, aus, predictions`

func runCotBenchmark(ctx context.Context, env *environment, args []string) error {
	fs := newFlagSet("bench cot")
	rows := fs.Bool("rows", false, "print every row")
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
