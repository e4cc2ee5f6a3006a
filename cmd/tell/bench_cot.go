package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"

	"github.com/tell-project/tell/cot"
	"github.com/tell-project/tell/dataset"
	"github.com/tell-project/tell/facs"
	"github.com/tell-project/tell/metrics"
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
  <task>_<dataset>_n, _accuracy, _uf1, _uar, _ece
UF1 and UAR are means over the classes the rows are labelled with (a
prediction outside them counts against recall, never as a class of its
own); ECE is the expected calibration error of the engine's confidence
(10 bins). The confusion (rows truth, columns prediction) follows each
score as lines starting with '#'. The last line is 3class_all_uf1.

  --rows   also print every row: sample, dataset, label, aus, predictions`

// cotBenchRow is one scored row of one task.
type cotBenchRow struct {
	dataset, truth, pred string
	conf                 float64
}

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
	m, err := dataset.ReadWith(rest[0], dataset.Options{SkipFileCheck: true}) // only labels and AUs are read
	if err != nil {
		return err
	}
	three := []string{facs.Negative, facs.Positive, facs.Surprise}
	var basic, threeClass []cotBenchRow
	skipped := 0
	for i := range m.Samples {
		if err := ctx.Err(); err != nil {
			return err
		}
		s := &m.Samples[i]
		code, err := facs.Parse(s.AUs)
		if strings.TrimSpace(s.AUs) == "" || err != nil {
			skipped++
			continue
		}
		ev := cot.EvidenceFromCode(code)
		if len(ev) == 0 {
			skipped++
			continue
		}
		label := strings.ToLower(strings.TrimSpace(s.Label))
		var line []string
		if slices.Contains(facs.BasicEmotions(), label) {
			c, err := cot.Generate(ev, "", cot.Options{Dataset: s.Dataset})
			if err != nil {
				return fmt.Errorf("%s line %d (%s): %w", rest[0], s.Line, s.ID, err)
			}
			basic = append(basic, cotBenchRow{s.Dataset, label, c.Conclusion.Label, c.Conclusion.Confidence})
			line = append(line, "basic="+c.Conclusion.Label)
		}
		if cl, ok := facs.ThreeClass(label, s.Dataset); ok {
			c, err := cot.Generate(ev, "", cot.Options{Dataset: s.Dataset, Classes: three})
			if err != nil {
				return fmt.Errorf("%s line %d (%s): %w", rest[0], s.Line, s.ID, err)
			}
			threeClass = append(threeClass, cotBenchRow{s.Dataset, cl, c.Conclusion.Label, c.Conclusion.Confidence})
			line = append(line, "3class="+c.Conclusion.Label)
		}
		if *rows && len(line) > 0 {
			fmt.Fprintf(env.stdout, "# row %s dataset=%s label=%s aus=%s %s\n", s.ID, s.Dataset, label, s.AUs, strings.Join(line, " "))
		}
	}
	fmt.Fprintf(env.stdout, "rows=%d\nskipped_no_aus=%d\n", len(m.Samples), skipped)
	if err := printCotTask(env.stdout, "basic", basic); err != nil {
		return err
	}
	return printCotTask(env.stdout, "3class", threeClass)
}

// printCotTask prints one task's scores per dataset, then over all rows.
func printCotTask(w io.Writer, task string, rows []cotBenchRow) error {
	groups := map[string][]cotBenchRow{}
	for _, r := range rows {
		d := r.dataset
		if d == "" {
			d = "unknown"
		}
		groups[d] = append(groups[d], r)
	}
	names := make([]string, 0, len(groups))
	for d := range groups {
		names = append(names, d)
	}
	sort.Strings(names)
	names = append(names, "all")
	groups["all"] = rows
	for _, d := range names {
		if err := printCotScore(w, task+"_"+d, groups[d]); err != nil {
			return err
		}
	}
	return nil
}

func printCotScore(w io.Writer, prefix string, rows []cotBenchRow) error {
	var truths, preds []string
	for _, r := range rows {
		truths = append(truths, r.truth)
		preds = append(preds, r.pred)
	}
	classes := distinctSorted(truths)
	// Predictions outside the labelled classes get columns of their own,
	// after the classes; they are not classes of the score.
	cols := classes
	for _, p := range distinctSorted(preds) {
		if !slices.Contains(cols, p) {
			cols = append(cols, p)
		}
	}
	fmt.Fprintf(w, "%s_n=%d\n", prefix, len(rows))
	if len(rows) == 0 {
		return nil
	}
	cm, err := metrics.NewConfusion(cols)
	if err != nil {
		return err
	}
	conf := make([]float64, len(rows))
	correct := make([]bool, len(rows))
	for i, r := range rows {
		if err := cm.AddLabel(r.truth, r.pred); err != nil {
			return err
		}
		conf[i], correct[i] = r.conf, r.truth == r.pred
	}
	ece, err := metrics.ECE(conf, correct, 0)
	if err != nil {
		return err
	}
	var f1, rec float64
	for _, s := range cm.PerClass()[:len(classes)] {
		f1 += s.F1
		rec += s.Recall
	}
	fmt.Fprintf(w, "%s_accuracy=%.3f\n%s_uar=%.3f\n%s_ece=%.3f\n", prefix, cm.Accuracy(), prefix, rec/float64(len(classes)), prefix, ece)
	fmt.Fprintf(w, "# %s confusion: rows truth, columns prediction\n# %-11s", prefix, "")
	for _, c := range cols {
		fmt.Fprintf(w, " %10.10s", c)
	}
	fmt.Fprintln(w)
	mat := cm.Matrix()
	for i, c := range classes {
		fmt.Fprintf(w, "# %-11.11s", c)
		for j := range cols {
			fmt.Fprintf(w, " %10d", mat[i][j])
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "%s_uf1=%.3f\n", prefix, f1/float64(len(classes)))
	return nil
}

func distinctSorted(v []string) []string {
	out := slices.Clone(v)
	sort.Strings(out)
	return slices.Compact(out)
}
