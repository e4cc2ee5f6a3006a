package eval

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

// CoTRow is one manifest row scored in one task of CoT.
type CoTRow struct {
	Dataset, Subject, Truth, Pred string
	Conf                          float64 // the engine's confidence in Pred
	// Reading is the engine's evidence-only reading of the row, for
	// refitting its temperature (CoTScore.Calibrate).
	Reading cot.Reading
	// ConfLOSO is the confidence in Pred at a temperature fitted without
	// the row's subject (set by CoTScore.Calibrate).
	ConfLOSO float64
}

// CoTScore is the Exp-CoT engine's AU → emotion knowledge measured on the
// coders' own AUs (`tell bench cot`).
type CoTScore struct {
	Rows, Skipped int // manifest rows; rows without (readable) AUs
	// Basic holds rows labelled with a basic emotion, the engine free to
	// name any; ThreeClass rows with a MEGC2019 class, the engine given
	// the classes negative, positive, surprise.
	Basic, ThreeClass []CoTRow
}

// CoT runs the Exp-CoT engine on every row's coded AUs (the manifest's aus
// column) of the manifest at path and scores its conclusions against the
// rows' labels in two tasks (see CoTScore); the engine is told each row's
// dataset. row, when set, receives a line per scored row.
func CoT(ctx context.Context, path string, row func(line string)) (*CoTScore, error) {
	m, err := dataset.ReadWith(path, dataset.Options{SkipFileCheck: true}) // only labels and AUs are read
	if err != nil {
		return nil, err
	}
	three := []string{facs.Negative, facs.Positive, facs.Surprise}
	sc := &CoTScore{Rows: len(m.Samples)}
	for i := range m.Samples {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		s := &m.Samples[i]
		code, err := facs.Parse(s.AUs)
		if strings.TrimSpace(s.AUs) == "" || err != nil {
			sc.Skipped++
			continue
		}
		ev := cot.EvidenceFromCode(code)
		if len(ev) == 0 {
			sc.Skipped++
			continue
		}
		label := strings.ToLower(strings.TrimSpace(s.Label))
		var line []string
		if slices.Contains(facs.BasicEmotions(), label) {
			c, err := cot.Generate(ev, "", cot.Options{Dataset: s.Dataset})
			if err != nil {
				return nil, fmt.Errorf("%s line %d (%s): %w", path, s.Line, s.ID, err)
			}
			r, err := cotRow(ev, s, label, c, cot.Options{Dataset: s.Dataset})
			if err != nil {
				return nil, fmt.Errorf("%s line %d (%s): %w", path, s.Line, s.ID, err)
			}
			sc.Basic = append(sc.Basic, r)
			line = append(line, "basic="+c.Conclusion.Label)
		}
		if cl, ok := facs.ThreeClass(label, s.Dataset); ok {
			c, err := cot.Generate(ev, "", cot.Options{Dataset: s.Dataset, Classes: three})
			if err != nil {
				return nil, fmt.Errorf("%s line %d (%s): %w", path, s.Line, s.ID, err)
			}
			r, err := cotRow(ev, s, cl, c, cot.Options{Dataset: s.Dataset, Classes: three})
			if err != nil {
				return nil, fmt.Errorf("%s line %d (%s): %w", path, s.Line, s.ID, err)
			}
			sc.ThreeClass = append(sc.ThreeClass, r)
			line = append(line, "3class="+c.Conclusion.Label)
		}
		if row != nil && len(line) > 0 {
			row(fmt.Sprintf("# row %s dataset=%s label=%s aus=%s %s", s.ID, s.Dataset, label, s.AUs, strings.Join(line, " ")))
		}
	}
	return sc, nil
}

// cotRow is a scored row with the engine's reading of its evidence.
func cotRow(ev []cot.Evidence, s *dataset.Sample, truth string, c cot.CoT, o cot.Options) (CoTRow, error) {
	rd, err := cot.Read(ev, o)
	if err != nil {
		return CoTRow{}, err
	}
	if rd.Label != c.Conclusion.Label {
		return CoTRow{}, fmt.Errorf("the engine's reading says %s, its conclusion %s", rd.Label, c.Conclusion.Label)
	}
	subject := s.Subject
	if subject == "" {
		subject = s.ID
	}
	return CoTRow{Dataset: s.Dataset, Subject: subject, Truth: truth, Pred: c.Conclusion.Label, Conf: c.Conclusion.Confidence, Reading: rd}, nil
}

// probs is the engine's calibrated reading of the row.
func (r CoTRow) probs() []float64 { return r.Reading.Probabilities(cot.Temperature) }

// top2 returns the indices of the row's two most probable labels (ties by
// label order).
func (r CoTRow) top2() (first, second int, ok bool) {
	p := r.probs()
	if len(p) < 2 {
		return 0, 0, false
	}
	first, second = 0, 1
	if p[1] > p[0] {
		first, second = 1, 0
	}
	for i := 2; i < len(p); i++ {
		switch {
		case p[i] > p[first]:
			first, second = i, first
		case p[i] > p[second]:
			second = i
		}
	}
	return first, second, true
}

// Print writes the score as name=value lines per task and dataset (and
// "all" over datasets), each confusion as lines starting with '#', the
// last line 3class_all_uf1 (the lines of `tell bench cot`).
func (sc *CoTScore) Print(w io.Writer) error {
	fmt.Fprintf(w, "rows=%d\nskipped_no_aus=%d\n", sc.Rows, sc.Skipped)
	cal, err := sc.Calibrate()
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "temperature_engine=%.3f\ntemperature_fit=%.3f\ntemperature_loso_folds=%d\n", cot.Temperature, cal.Temperature, cal.Subjects)
	if err := printCoTTask(w, "basic", sc.Basic); err != nil {
		return err
	}
	return printCoTTask(w, "3class", sc.ThreeClass)
}

// printCoTTask prints one task's scores per dataset, then over all rows.
func printCoTTask(w io.Writer, task string, rows []CoTRow) error {
	groups := map[string][]CoTRow{}
	for _, r := range rows {
		d := r.Dataset
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
		if err := printCoTScore(w, task+"_"+d, groups[d]); err != nil {
			return err
		}
	}
	return nil
}

func printCoTScore(w io.Writer, prefix string, rows []CoTRow) error {
	var truths, preds []string
	for _, r := range rows {
		truths = append(truths, r.Truth)
		preds = append(preds, r.Pred)
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
	loso := make([]float64, len(rows))
	correct := make([]bool, len(rows))
	for i, r := range rows {
		if err := cm.AddLabel(r.Truth, r.Pred); err != nil {
			return err
		}
		conf[i], loso[i], correct[i] = r.Conf, r.ConfLOSO, r.Truth == r.Pred
	}
	rel, err := metrics.Reliability(conf, correct, 0)
	if err != nil {
		return err
	}
	relLOSO, err := metrics.Reliability(loso, correct, 0)
	if err != nil {
		return err
	}
	ece, _ := metrics.ECE(conf, correct, 0)
	eceLOSO, _ := metrics.ECE(loso, correct, 0)
	// Rows in doubt: the two most probable labels within cot.DoubtMargin.
	var doubt, doubtRight, doubtTop2 int
	for _, r := range rows {
		first, second, ok := r.top2()
		if !ok || r.probs()[first]-r.probs()[second] >= cot.DoubtMargin {
			continue
		}
		doubt++
		if r.Truth == r.Pred {
			doubtRight++
		}
		if lb := r.Reading.Labels; lb[first] == r.Truth || lb[second] == r.Truth {
			doubtTop2++
		}
	}
	var f1, rec float64
	for _, s := range cm.PerClass()[:len(classes)] {
		f1 += s.F1
		rec += s.Recall
	}
	fmt.Fprintf(w, "%s_accuracy=%.3f\n%s_uar=%.3f\n%s_ece=%.3f\n%s_ece_loso=%.3f\n", prefix, cm.Accuracy(), prefix, rec/float64(len(classes)), prefix, ece, prefix, eceLOSO)
	fmt.Fprintf(w, "%s_doubt_n=%d\n%s_doubt_right=%d\n%s_doubt_top2=%d\n", prefix, doubt, prefix, doubtRight, prefix, doubtTop2)
	fmt.Fprintf(w, "# %s reliability: confidence bin, rows, mean confidence, accuracy (engine | leave-one-subject-out)\n", prefix)
	for b := range rel {
		e, l := rel[b], relLOSO[b]
		if e.N == 0 && l.N == 0 {
			continue
		}
		fmt.Fprintf(w, "# (%.1f,%.1f] %4d %5.2f %5.2f | %4d %5.2f %5.2f\n", e.Lo, e.Hi, e.N, e.Confidence, e.Accuracy, l.N, l.Confidence, l.Accuracy)
	}
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
