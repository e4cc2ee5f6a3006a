package train

import (
	"fmt"
	"io"
	"path/filepath"
)

// Print writes the run's result as name=value lines (tell train): the
// protocol, UF1 and UAR (with their intervals when bootstrapped),
// accuracy, ECE, wall time, each dataset's scores, the rows left out and
// where metrics.json and the model are (in out).
func (res *RunResult) Print(w io.Writer, out string) {
	r := res.Report
	fmt.Fprintf(w, "protocol=%s n=%d folds=%d resumed=%d\n", r.Protocol, r.N, len(r.Folds), res.Resumed)
	if r.UF1CI != nil {
		fmt.Fprintf(w, "uf1=%.4f [%.4f, %.4f]\nuar=%.4f [%.4f, %.4f]\n", r.UF1, r.UF1CI.Lo, r.UF1CI.Hi, r.UAR, r.UARCI.Lo, r.UARCI.Hi)
	} else {
		fmt.Fprintf(w, "uf1=%.4f\nuar=%.4f\n", r.UF1, r.UAR)
	}
	fmt.Fprintf(w, "accuracy=%.4f\n", r.Accuracy)
	if r.ECE != nil {
		fmt.Fprintf(w, "ece=%.4f\n", *r.ECE)
	}
	fmt.Fprintf(w, "seconds=%.1f\n", res.Timing.WallSeconds)
	r.PrintPerDataset(w)
	printLeftOut(w, len(res.RowErrors), out)
	if res.Model != "" {
		fmt.Fprintf(w, "model=%s\n", res.Model)
	}
}

// Print writes the evaluation as name=value lines (tell eval): n, UF1 and
// UAR (with their intervals when bootstrapped), accuracy, ECE, each
// dataset's scores, the rows left out and where metrics.json is (in out).
func (res *EvalResult) Print(w io.Writer, out string) {
	r := res.Report
	if r.UF1CI != nil {
		fmt.Fprintf(w, "n=%d\nuf1=%.4f [%.4f, %.4f]\nuar=%.4f [%.4f, %.4f]\naccuracy=%.4f\n", r.N, r.UF1, r.UF1CI.Lo, r.UF1CI.Hi, r.UAR, r.UARCI.Lo, r.UARCI.Hi, r.Accuracy)
	} else {
		fmt.Fprintf(w, "n=%d\nuf1=%.4f\nuar=%.4f\naccuracy=%.4f\n", r.N, r.UF1, r.UAR, r.Accuracy)
	}
	if r.ECE != nil {
		fmt.Fprintf(w, "ece=%.4f\n", *r.ECE)
	}
	r.PrintPerDataset(w)
	printLeftOut(w, len(res.RowErrors), out)
}

// printLeftOut writes how many rows were left out (when any) and where
// metrics.json is.
func printLeftOut(w io.Writer, left int, out string) {
	if left > 0 {
		fmt.Fprintf(w, "rows_left_out=%d (see %s)\n", left, filepath.Join(out, "errors.txt"))
	}
	fmt.Fprintf(w, "metrics=%s\n", filepath.Join(out, "metrics.json"))
}

// Print writes the sweep's result as name=value lines (tell sweep): one
// line per candidate, the chosen one, where the table and its config are
// (in out) and the time taken.
func (res *SweepResult) Print(w io.Writer, out string) {
	for _, r := range res.Rows {
		fmt.Fprintf(w, "candidate=%s score=%.4f±%.4f uf1=%.4f±%.4f uar=%.4f±%.4f cost=%.3g eligible=%v\n",
			r.Name, r.Score.Mean, r.Score.SD, r.UF1.Mean, r.UF1.SD, r.UAR.Mean, r.UAR.SD, r.Cost, r.Eligible)
	}
	fmt.Fprintf(w, "chosen=%s\ntable=%s\nconfig=%s\nwall_seconds=%.1f\ncpu_seconds=%.1f\n", res.Chosen,
		filepath.Join(out, "sweep.md"), filepath.Join(out, "chosen.json"), res.Timing.WallSeconds, res.Timing.CPUSeconds)
}
