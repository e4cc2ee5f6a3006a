// Command runsummary summarises tell train runs of the same rows (seeds of
// one config, or members to ensemble) from their fold results: UF1 and UAR
// of each run; their mean ± sd; a 95% interval for that mean by a subject
// bootstrap (the same resampled subjects for every run, 2000 resamples);
// and the seed ensemble (class probabilities averaged over the runs), with
// its own interval and per-dataset scores. docs/measured.md's ablation table is
// made with it.
//
//	go run ./train/internal/runsummary [-name NAME] RUN...
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
)

type fold struct {
	Samples  []string    `json:"samples"`
	Subjects []string    `json:"subjects"`
	Datasets []string    `json:"datasets"`
	Truth    []int       `json:"truth"`
	Probs    [][]float32 `json:"probs"`
}

type row struct {
	subject, dataset string
	truth            int
	probs            []float32
}

func load(run string) (map[string]row, error) {
	files, err := filepath.Glob(filepath.Join(run, "folds", "fold-*.json"))
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("%s: no fold results", run)
	}
	out := map[string]row{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var fr fold
		if err := json.Unmarshal(b, &fr); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		if len(fr.Probs) != len(fr.Samples) {
			return nil, fmt.Errorf("%s: no probabilities (a run from an older tell)", f)
		}
		for i, s := range fr.Samples {
			ds := ""
			if i < len(fr.Datasets) {
				ds = fr.Datasets[i]
			}
			out[s] = row{fr.Subjects[i], ds, fr.Truth[i], fr.Probs[i]}
		}
	}
	return out, nil
}

func argmax(p []float32) int {
	best := 0
	for k, v := range p {
		if v > p[best] {
			best = k
		}
	}
	return best
}

// scores returns UF1 and UAR of predictions pred against truth over the
// rows idx (with repetition).
func scores(truth, pred []int, idx []int, k int) (uf1, uar float64) {
	cm := make([]int, k*k)
	for _, i := range idx {
		cm[truth[i]*k+pred[i]]++
	}
	for c := 0; c < k; c++ {
		tp, col, rowN := cm[c*k+c], 0, 0
		for j := 0; j < k; j++ {
			col += cm[j*k+c]
			rowN += cm[c*k+j]
		}
		if col+rowN > 0 {
			uf1 += 2 * float64(tp) / float64(col+rowN)
		}
		if rowN > 0 {
			uar += float64(tp) / float64(rowN)
		}
	}
	return uf1 / float64(k), uar / float64(k)
}

func meanSD(x []float64) (float64, float64) {
	var m, s float64
	for _, v := range x {
		m += v
	}
	m /= float64(len(x))
	for _, v := range x {
		s += (v - m) * (v - m)
	}
	if len(x) > 1 {
		s /= float64(len(x) - 1)
	}
	return m, math.Sqrt(s)
}

func pct(x []float64, q float64) float64 {
	s := slices.Clone(x)
	sort.Float64s(s)
	return s[int(math.Round(q*float64(len(s)-1)))]
}

func main() {
	name := flag.String("name", "", "label of the summary line")
	flag.Parse()
	runs := flag.Args()
	if len(runs) == 0 {
		fmt.Fprintln(os.Stderr, "usage: runsummary [-name NAME] RUN...")
		os.Exit(2)
	}
	var data []map[string]row
	for _, r := range runs {
		d, err := load(r)
		if err != nil {
			fmt.Fprintln(os.Stderr, "runsummary:", err)
			os.Exit(1)
		}
		data = append(data, d)
	}
	var keys []string
	for s := range data[0] {
		ok := true
		for _, d := range data[1:] {
			if _, in := d[s]; !in {
				ok = false
			}
		}
		if ok {
			keys = append(keys, s)
		}
	}
	sort.Strings(keys)
	k := len(data[0][keys[0]].probs)
	n := len(keys)
	truth := make([]int, n)
	preds := make([][]int, len(data)+1) // runs, then the ensemble
	subjOf := map[string][]int{}
	for i, s := range keys {
		r := data[0][s]
		truth[i] = r.truth
		subjOf[r.subject] = append(subjOf[r.subject], i)
		ens := make([]float32, k)
		for j, d := range data {
			preds[j] = append(preds[j], argmax(d[s].probs))
			for c, v := range d[s].probs {
				ens[c] += v
			}
		}
		preds[len(data)] = append(preds[len(data)], argmax(ens))
	}
	all := make([]int, n)
	for i := range all {
		all[i] = i
	}
	var subjects []string
	for s := range subjOf {
		subjects = append(subjects, s)
	}
	sort.Strings(subjects)
	const reps = 2000
	rng := rand.New(rand.NewPCG(1, 2))
	bootMeanF, bootMeanR, bootEnsF, bootEnsR := make([]float64, reps), make([]float64, reps), make([]float64, reps), make([]float64, reps)
	var idx []int
	for b := 0; b < reps; b++ {
		idx = idx[:0]
		for range subjects {
			idx = append(idx, subjOf[subjects[rng.IntN(len(subjects))]]...)
		}
		var f, r float64
		for j := range data {
			a, c := scores(truth, preds[j], idx, k)
			f += a
			r += c
		}
		bootMeanF[b], bootMeanR[b] = f/float64(len(data)), r/float64(len(data))
		bootEnsF[b], bootEnsR[b] = scores(truth, preds[len(data)], idx, k)
	}
	var f1s, uars []float64
	for j, r := range runs {
		a, c := scores(truth, preds[j], all, k)
		f1s, uars = append(f1s, a), append(uars, c)
		fmt.Printf("run %s: uf1=%.4f uar=%.4f\n", r, a, c)
	}
	mf, sf := meanSD(f1s)
	mr, sr := meanSD(uars)
	fmt.Printf("%s n=%d runs=%d mean uf1=%.3f ± %.3f [%.3f, %.3f] uar=%.3f ± %.3f [%.3f, %.3f]\n", *name, n, len(runs),
		mf, sf, pct(bootMeanF, 0.025), pct(bootMeanF, 0.975), mr, sr, pct(bootMeanR, 0.025), pct(bootMeanR, 0.975))
	ef, er := scores(truth, preds[len(data)], all, k)
	fmt.Printf("%s ensemble uf1=%.3f [%.3f, %.3f] uar=%.3f [%.3f, %.3f]\n", *name, ef, pct(bootEnsF, 0.025), pct(bootEnsF, 0.975), er, pct(bootEnsR, 0.025), pct(bootEnsR, 0.975))
	byDS := map[string][]int{}
	for i, s := range keys {
		byDS[data[0][s].dataset] = append(byDS[data[0][s].dataset], i)
	}
	var dss []string
	for d := range byDS {
		dss = append(dss, d)
	}
	sort.Strings(dss)
	for _, d := range dss {
		var fs, rs []float64
		for j := range data {
			a, c := scores(truth, preds[j], byDS[d], k)
			fs, rs = append(fs, a), append(rs, c)
		}
		mf, sf := meanSD(fs)
		mr, sr := meanSD(rs)
		ea, ec := scores(truth, preds[len(data)], byDS[d], k)
		fmt.Printf("  dataset=%s n=%d mean uf1=%.3f ± %.3f uar=%.3f ± %.3f ensemble uf1=%.3f uar=%.3f\n", d, len(byDS[d]), mf, sf, mr, sr, ea, ec)
	}
}
