package train

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/tell-project/tell/atomicfile"
	"github.com/tell-project/tell/metrics"
	"github.com/tell-project/tell/model"
)

// Candidate is one configuration a sweep compares: a config trained under
// every seed, or an ensemble of other candidates (the average of their
// class probabilities, fold by fold, seed by seed: what a model of both
// would predict, with no training of its own).
type Candidate struct {
	// Name names the candidate in tables and its runs' folder
	// (Out/runs/NAME/seed-S): letters, digits, '.', '-' and '_'.
	Name string
	// Config is the trained candidate's config (its Seed is replaced by
	// each seed of the sweep).
	Config Config
	// Ensemble names the candidates an ensemble averages; empty for a
	// trained candidate.
	Ensemble []string
	// Source is the candidate's file as given: what Out/chosen.json holds
	// when it is chosen.
	Source []byte
}

// ParseCandidate reads a candidate file: a training config (ParseConfig),
// or {"ensemble": ["NAME", ...]} naming other candidates of the sweep.
func ParseCandidate(name string, b []byte, fs model.Families) (Candidate, error) {
	c := Candidate{Name: name, Source: bytes.Clone(b)}
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(b, &probe); err != nil {
		return c, err
	}
	if raw, ok := probe["ensemble"]; ok {
		if len(probe) != 1 {
			return c, errors.New(`an ensemble candidate holds only "ensemble": [names]`)
		}
		if err := json.Unmarshal(raw, &c.Ensemble); err != nil || len(c.Ensemble) < 2 {
			return c, errors.New(`"ensemble" wants a list of at least two candidate names`)
		}
		return c, nil
	}
	cfg, err := ParseConfig(b, fs)
	c.Config = cfg
	return c, err
}

// LoadCandidate reads a candidate file; its name is the file's base name
// without ".json".
func LoadCandidate(path string, fs model.Families) (Candidate, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Candidate{}, fmt.Errorf("train: candidate: %w", err)
	}
	name := strings.TrimSuffix(filepath.Base(path), ".json")
	c, err := ParseCandidate(name, b, fs)
	if err != nil {
		return c, fmt.Errorf("train: candidate %s: %w", path, err)
	}
	return c, nil
}

// Rule is a sweep's selection rule. It is written to Out/rule.json before
// any candidate trains, and a sweep whose folder holds another rule is
// refused: the rule cannot follow the scores.
//
// Each candidate's score is the mean over seeds of (UF1 + UAR)/2 of its
// run (folds pooled). Its cost is the families' estimate of the
// multiply-adds of one run (Coster; an ensemble costs its members' sum).
// A candidate is eligible when it beats every strictly cheaper candidate by
// at least Margin; the chosen candidate is the eligible one with the
// highest score (ties: the cheaper, then the one listed first). The
// cheapest candidate is always eligible.
type Rule struct {
	Score  string  `json:"score"`
	Cost   string  `json:"cost"`
	Margin float64 `json:"margin"`
}

// DefaultRule is the rule the MER development selections used: the mean of
// UF1 and UAR, and a costlier candidate must beat a cheaper one by 0.005
// (about one standard error of a 10-seed mean there).
func DefaultRule() Rule {
	return Rule{Score: "mean of UF1 and UAR, averaged over seeds", Cost: "estimated multiply-adds of one run", Margin: 0.005}
}

// SweepOptions configures Sweep (`tell sweep`).
type SweepOptions struct {
	Manifest string
	Protocol string // kfold or loso
	Folds    int    // k for kfold (default 5)
	// Seeds is the number of seeds per candidate (default 10), from
	// FirstSeed (default 1): seed s also draws the k-fold split, the same
	// for every candidate.
	Seeds      int
	FirstSeed  int64
	Candidates []Candidate
	// HeldOut are manifests kept for a final test: the sweep refuses a
	// manifest sharing a subject with any of them.
	HeldOut []string
	Rule    Rule
	Out     string
	Cache   string // prepare cache (default Out/cache)
	// Families are the model families configs may name.
	Families model.Families
	// Workers is how many folds train at once here (default one per core);
	// ignored with a Fleet.
	Workers int
	Fleet   *Fleet
	// Bootstrap is the number of resamples of the candidates' pooled
	// intervals (default 1000; negative for none).
	Bootstrap int
	Progress  Progress // rows prepared, epochs trained
	Log       *slog.Logger
}

// Stat is a mean and a standard deviation (n−1) over seeds.
type Stat struct {
	Mean float64 `json:"mean"`
	SD   float64 `json:"sd"`
}

// SeedScore is one seed's run of a candidate.
type SeedScore struct {
	Seed        int64   `json:"seed"`
	UF1         float64 `json:"uf1"`
	UAR         float64 `json:"uar"`
	Score       float64 `json:"score"`
	FoldSeconds float64 `json:"fold_seconds"`
}

// SweepRow is one candidate's line of the sweep's table.
type SweepRow struct {
	Name     string   `json:"name"`
	Ensemble []string `json:"ensemble,omitempty"`
	// Cost is the rule's estimate (multiply-adds of one run); FoldSeconds
	// the measured wall time of its folds, summed over seeds (an
	// ensemble's is its members').
	Cost        float64     `json:"cost"`
	FoldSeconds float64     `json:"fold_seconds"`
	Seeds       []SeedScore `json:"seeds"`
	UF1         Stat        `json:"uf1"`
	UAR         Stat        `json:"uar"`
	Score       Stat        `json:"score"`
	// UF1CI and UARCI are 95% intervals resampling subjects over the
	// predictions of every seed pooled (a drawn subject brings its rows
	// from every seed).
	UF1CI *metrics.CI `json:"uf1_ci,omitempty"`
	UARCI *metrics.CI `json:"uar_ci,omitempty"`
	// Eligible: it beats every cheaper candidate by the rule's margin.
	Eligible bool `json:"eligible"`
	// Short names the cheaper candidate it fails to beat by the margin.
	Short  string `json:"short_of,omitempty"`
	Chosen bool   `json:"chosen"`
}

// SweepResult is what Sweep wrote: the table (Out/sweep.json,
// Out/sweep.md), the chosen candidate (Out/chosen.json) and the timing.
type SweepResult struct {
	Rule   Rule       `json:"rule"`
	Rows   []SweepRow `json:"candidates"`
	Chosen string     `json:"chosen"`
	Timing Timing     `json:"timing"`
}

// sweepDeclaration is Out/rule.json: everything the selection depends on,
// fixed before the first candidate trains.
type sweepDeclaration struct {
	Rule       Rule                `json:"rule"`
	Manifest   fileRef             `json:"manifest"`
	HeldOut    []fileRef           `json:"held_out,omitempty"`
	Split      Split               `json:"split"`
	Seeds      []int64             `json:"seeds"`
	Candidates []candidateDeclared `json:"candidates"`
}

type fileRef struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
}

type candidateDeclared struct {
	Name     string          `json:"name"`
	Config   json.RawMessage `json:"config,omitempty"`
	Ensemble []string        `json:"ensemble,omitempty"`
}

func refOf(path string) (fileRef, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return fileRef{}, err
	}
	h := sha256.Sum256(b)
	return fileRef{Path: path, SHA256: hex.EncodeToString(h[:])}, nil
}

func validName(s string) bool {
	if s == "" || len(s) > 100 || s[0] == '.' {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// CheckHeldOut refuses a development manifest that shares a subject (or a
// sample id) with a held-out manifest, naming a few of them.
func CheckHeldOut(dev string, heldOut []string) error {
	samples, _, err := ReadManifest(dev)
	if err != nil {
		return fmt.Errorf("train: %w", err)
	}
	subjects, ids := map[string]bool{}, map[string]bool{}
	for _, s := range samples {
		subjects[s.Subject], ids[s.ID] = true, true
	}
	for _, h := range heldOut {
		hs, _, err := ReadManifest(h)
		if err != nil {
			return fmt.Errorf("train: held-out manifest: %w", err)
		}
		var shared, sharedIDs []string
		seen := map[string]bool{}
		for _, s := range hs {
			if subjects[s.Subject] && !seen[s.Subject] {
				seen[s.Subject] = true
				shared = append(shared, s.Subject)
			}
			if ids[s.ID] {
				sharedIDs = append(sharedIDs, s.ID)
			}
		}
		sort.Strings(shared)
		if len(shared) > 0 {
			return fmt.Errorf("train: %s shares %d subjects with the held-out manifest %s (%s): a selection must not see a held-out subject", dev, len(shared), h, examples(shared))
		}
		if len(sharedIDs) > 0 {
			return fmt.Errorf("train: %s shares %d samples with the held-out manifest %s (%s)", dev, len(sharedIDs), h, examples(sharedIDs))
		}
	}
	return nil
}

func examples(s []string) string {
	if len(s) > 5 {
		return strings.Join(s[:5], ", ") + ", …"
	}
	return strings.Join(s, ", ")
}

// Sweep trains every candidate under every seed (locally or on a fleet),
// scores them and chooses one by a rule declared before it starts. It
// writes Out/rule.json first, each run under Out/runs/NAME/seed-S (a
// resumable run folder with its metrics.json), then Out/sweep.json and
// Out/sweep.md (the table: mean ± sd per candidate, each seed, cost) and
// Out/chosen.json. A killed sweep resumes from its folder; a folder that
// declares another rule, manifest, split, seeds or candidates is refused.
func Sweep(ctx context.Context, opt SweepOptions) (*SweepResult, error) {
	start, cpu0 := time.Now(), cpuSeconds()
	log := opt.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if opt.Protocol != ProtocolKFold && opt.Protocol != ProtocolLOSO {
		return nil, fmt.Errorf("train: sweep: protocol %q (want kfold or loso)", opt.Protocol)
	}
	if opt.Seeds == 0 {
		opt.Seeds = 10
	}
	if opt.FirstSeed == 0 {
		opt.FirstSeed = 1
	}
	if opt.Seeds < 1 || opt.FirstSeed < 0 {
		return nil, fmt.Errorf("train: sweep: want at least one seed from a seed ≥ 0")
	}
	if opt.Rule == (Rule{}) {
		opt.Rule = DefaultRule()
	}
	if !(opt.Rule.Margin >= 0) {
		return nil, fmt.Errorf("train: sweep: margin %v, want ≥ 0", opt.Rule.Margin)
	}
	if len(opt.Candidates) == 0 {
		return nil, errors.New("train: sweep: no candidates")
	}
	byName := map[string]*Candidate{}
	for i := range opt.Candidates {
		c := &opt.Candidates[i]
		if !validName(c.Name) {
			return nil, fmt.Errorf("train: sweep: candidate name %q: want letters, digits, '.', '-', '_'", c.Name)
		}
		if byName[c.Name] != nil {
			return nil, fmt.Errorf("train: sweep: two candidates named %q", c.Name)
		}
		byName[c.Name] = c
	}
	for _, c := range opt.Candidates {
		if len(c.Ensemble) == 0 {
			if err := c.Config.Validate(); err != nil {
				return nil, fmt.Errorf("train: sweep: candidate %s: %w", c.Name, err)
			}
			if _, err := trainer(opt.Families, c.Config.Model); err != nil {
				return nil, fmt.Errorf("train: sweep: candidate %s: %w", c.Name, err)
			}
			continue
		}
		for _, m := range c.Ensemble {
			mc := byName[m]
			switch {
			case mc == nil:
				return nil, fmt.Errorf("train: sweep: ensemble %s names %q, not a candidate of this sweep", c.Name, m)
			case len(mc.Ensemble) > 0:
				return nil, fmt.Errorf("train: sweep: ensemble %s names the ensemble %s (members must be trained candidates)", c.Name, m)
			}
		}
	}
	if err := CheckHeldOut(opt.Manifest, opt.HeldOut); err != nil {
		return nil, err
	}
	split := Split{Protocol: opt.Protocol, Folds: opt.Folds}.normal()
	var seeds []int64
	for i := range opt.Seeds {
		seeds = append(seeds, opt.FirstSeed+int64(i))
	}
	// The declaration, before anything trains.
	decl := sweepDeclaration{Rule: opt.Rule, Split: split, Seeds: seeds}
	var err error
	if decl.Manifest, err = refOf(opt.Manifest); err != nil {
		return nil, fmt.Errorf("train: sweep: %w", err)
	}
	for _, h := range opt.HeldOut {
		r, err := refOf(h)
		if err != nil {
			return nil, fmt.Errorf("train: sweep: %w", err)
		}
		decl.HeldOut = append(decl.HeldOut, r)
	}
	for _, c := range opt.Candidates {
		d := candidateDeclared{Name: c.Name, Ensemble: c.Ensemble}
		if len(c.Ensemble) == 0 {
			cfg := c.Config
			cfg.Seed, cfg.Workers = 0, 0 // seeds are the sweep's
			if d.Config, err = json.Marshal(cfg); err != nil {
				return nil, err
			}
		}
		decl.Candidates = append(decl.Candidates, d)
	}
	if err := os.MkdirAll(opt.Out, 0o755); err != nil {
		return nil, fmt.Errorf("train: sweep: %w", err)
	}
	declPath := filepath.Join(opt.Out, "rule.json")
	want, _ := json.MarshalIndent(decl, "", "  ")
	want = append(want, '\n')
	if have, err := os.ReadFile(declPath); err == nil {
		if !bytes.Equal(have, want) {
			return nil, fmt.Errorf("train: sweep: %s declares another rule, manifest, split, seeds or candidates than this call; a sweep keeps what it declared before it started: use another --out", declPath)
		}
		log.Info("resuming the sweep declared in", "path", declPath)
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("train: sweep: %w", err)
	} else if err := atomicfile.WriteFile(declPath, want); err != nil {
		return nil, err
	}

	// Data, once per distinct input.
	cache := opt.Cache
	if cache == "" {
		cache = filepath.Join(opt.Out, "cache")
	}
	loaded := map[model.Input]*Loaded{}
	var rowErrs []RowError
	plans := map[string][]*plan{} // candidate → one plan per seed
	var units []unit
	for _, c := range opt.Candidates {
		if len(c.Ensemble) > 0 {
			continue
		}
		fam, _ := trainer(opt.Families, c.Config.Model)
		ld := loaded[c.Config.Input]
		if ld == nil {
			if ld, err = Load(ctx, opt.Manifest, c.Config.Input, cache, "", opt.Progress, log); err != nil {
				return nil, err
			}
			if len(ld.Classes) < 2 {
				return nil, fmt.Errorf("train: %s: need at least 2 classes to train, have %v", opt.Manifest, ld.Classes)
			}
			loaded[c.Config.Input] = ld
			rowErrs = ld.RowErrors
		}
		for _, s := range seeds {
			cfg := c.Config
			cfg.Seed = s
			out := filepath.Join(opt.Out, "runs", c.Name, fmt.Sprintf("seed-%d", s))
			if err := os.MkdirAll(filepath.Join(out, "folds"), 0o755); err != nil {
				return nil, fmt.Errorf("train: sweep: %w", err)
			}
			sp := split
			sp.Seed = uint64(s)
			p, err := newPlan(ld, fam, cfg, sp, out, false, opt.Families, log)
			if err != nil {
				return nil, fmt.Errorf("train: %s: %w", opt.Manifest, err)
			}
			plans[c.Name] = append(plans[c.Name], p)
			units = append(units, p.units()...)
		}
	}
	log.Info("sweep", "candidates", len(opt.Candidates), "seeds", len(seeds), "folds_to_train", len(units))
	ex := executor(localExecutor{workers: opt.Workers})
	if opt.Fleet != nil {
		f := *opt.Fleet
		if f.Scope == "" {
			f.Scope, _ = filepath.Abs(opt.Out)
		}
		ex = &f
	}
	err = ex.execute(ctx, units, epochCounter(opt.Progress, units, fmt.Sprintf("sweep: %d folds", len(units))), log)
	if cerr := ctx.Err(); cerr != nil {
		return nil, fmt.Errorf("train: sweep interrupted (finished folds are kept; run it again to resume): %w", cerr)
	}
	if err != nil {
		return nil, err
	}

	// Scores per candidate and seed.
	res := &SweepResult{Rule: opt.Rule}
	reps := opt.Bootstrap
	if reps == 0 {
		reps = 1000
	}
	for _, c := range opt.Candidates {
		row := SweepRow{Name: c.Name, Ensemble: c.Ensemble}
		var pooled [][]*foldResult
		var classes []string
		for si, s := range seeds {
			var results []*foldResult
			var p0 *plan
			if len(c.Ensemble) == 0 {
				p0 = plans[c.Name][si]
				results = p0.results
				row.Cost = runCost(p0.cfg, p0.ld.info(), p0.folds)
			} else {
				var members []*plan
				row.Cost = 0
				for _, m := range c.Ensemble {
					mp := plans[m][si]
					members = append(members, mp)
					row.Cost += runCost(mp.cfg, mp.ld.info(), mp.folds)
				}
				p0 = members[0]
				if results, err = ensembleFolds(members); err != nil {
					return nil, fmt.Errorf("train: sweep: ensemble %s, seed %d: %w", c.Name, s, err)
				}
			}
			classes = p0.ld.Classes
			for _, r := range results {
				if r == nil {
					return nil, fmt.Errorf("train: sweep: candidate %s, seed %d: a fold has no result", c.Name, s)
				}
				if r.Error != "" {
					return nil, fmt.Errorf("train: sweep: candidate %s, seed %d: fold %d failed: %s", c.Name, s, r.Fold, r.Error)
				}
			}
			rp := &plan{ld: p0.ld, cfg: p0.cfg, split: p0.split, results: results}
			rep, err := rp.report(-1)
			if err != nil {
				return nil, err
			}
			out := filepath.Join(opt.Out, "runs", c.Name, fmt.Sprintf("seed-%d", s))
			if err := os.MkdirAll(out, 0o755); err != nil {
				return nil, err
			}
			if err := metrics.WriteJSON(filepath.Join(out, "metrics.json"), rep); err != nil {
				return nil, err
			}
			var secs float64
			for _, r := range results {
				secs += r.Seconds
			}
			row.Seeds = append(row.Seeds, SeedScore{Seed: s, UF1: rep.UF1, UAR: rep.UAR, Score: (rep.UF1 + rep.UAR) / 2, FoldSeconds: secs})
			row.FoldSeconds += secs
			pooled = append(pooled, results)
		}
		row.UF1 = statOf(row.Seeds, func(s SeedScore) float64 { return s.UF1 })
		row.UAR = statOf(row.Seeds, func(s SeedScore) float64 { return s.UAR })
		row.Score = statOf(row.Seeds, func(s SeedScore) float64 { return s.Score })
		if reps > 0 {
			var truth, pred []int
			var groups []string
			for _, rs := range pooled {
				for _, r := range rs {
					truth = append(truth, r.Truth...)
					pred = append(pred, r.Pred...)
					groups = append(groups, r.Subjects...)
				}
			}
			f1, uar, err := metrics.BootstrapCI(truth, pred, len(classes), metrics.BootstrapOptions{Reps: reps, Seed: uint64(opt.FirstSeed), Groups: groups})
			if err == nil {
				row.UF1CI, row.UARCI = &f1, &uar
			}
		}
		res.Rows = append(res.Rows, row)
	}
	res.Chosen = choose(res.Rows, opt.Rule.Margin)
	for i := range res.Rows {
		res.Rows[i].Chosen = res.Rows[i].Name == res.Chosen
	}
	var foldSecs float64
	for _, u := range units {
		if r := u.p.results[u.fold]; r != nil {
			foldSecs += r.Seconds
		}
	}
	res.Timing = Timing{WallSeconds: time.Since(start).Seconds(), CPUSeconds: cpuSeconds() - cpu0, FoldSeconds: foldSecs,
		Folds: len(units), Where: ex.where()}
	if opt.Fleet == nil {
		res.Timing.Workers = workerCount(opt.Workers)
	}
	if err := writeJSON(filepath.Join(opt.Out, "sweep.json"), res); err != nil {
		return nil, err
	}
	if err := atomicfile.WriteFile(filepath.Join(opt.Out, "sweep.md"), []byte(res.Markdown())); err != nil {
		return nil, err
	}
	if err := atomicfile.WriteFile(filepath.Join(opt.Out, "chosen.json"), byName[res.Chosen].Source); err != nil {
		return nil, err
	}
	if err := writeRowErrors(filepath.Join(opt.Out, "errors.txt"), rowErrs); err != nil {
		return nil, err
	}
	return res, nil
}

func statOf(ss []SeedScore, f func(SeedScore) float64) Stat {
	var st Stat
	for _, s := range ss {
		st.Mean += f(s)
	}
	st.Mean /= float64(len(ss))
	if len(ss) > 1 {
		var v float64
		for _, s := range ss {
			d := f(s) - st.Mean
			v += d * d
		}
		st.SD = math.Sqrt(v / float64(len(ss)-1))
	}
	return st
}

// choose applies the rule (see Rule) and marks each row's eligibility.
func choose(rows []SweepRow, margin float64) string {
	for i := range rows {
		rows[i].Eligible, rows[i].Short = true, ""
		worst := math.Inf(1)
		for j := range rows {
			if rows[j].Cost < rows[i].Cost {
				if gap := rows[i].Score.Mean - rows[j].Score.Mean; gap < margin && gap < worst {
					rows[i].Eligible, rows[i].Short, worst = false, rows[j].Name, gap
				}
			}
		}
	}
	best := -1
	for i, r := range rows {
		if !r.Eligible {
			continue
		}
		if best < 0 || r.Score.Mean > rows[best].Score.Mean || r.Score.Mean == rows[best].Score.Mean && r.Cost < rows[best].Cost {
			best = i
		}
	}
	return rows[best].Name
}

// ensembleFolds averages the class probabilities of members' folds (the
// same split: same seed and protocol) and predicts their argmax.
func ensembleFolds(members []*plan) ([]*foldResult, error) {
	n := len(members[0].results)
	out := make([]*foldResult, n)
	for i := 0; i < n; i++ {
		first := members[0].results[i]
		if first == nil {
			return nil, fmt.Errorf("fold %d has no result", i)
		}
		r := &foldResult{Fold: i, TestSubjects: first.TestSubjects, Samples: first.Samples, Truth: first.Truth,
			Subjects: first.Subjects, Datasets: first.Datasets, Probs: make([][]float32, len(first.Samples))}
		for k := range r.Probs {
			r.Probs[k] = make([]float32, len(members[0].ld.Classes))
		}
		inv := 1 / float32(len(members))
		for _, m := range members {
			mr := m.results[i]
			switch {
			case len(m.results) != n:
				return nil, fmt.Errorf("members split into %d and %d folds", n, len(m.results))
			case mr == nil:
				return nil, fmt.Errorf("fold %d has no result", i)
			case mr.Error != "":
				r.Error = mr.Error
			case !slices.Equal(mr.Samples, first.Samples) || !slices.Equal(m.ld.Classes, members[0].ld.Classes):
				return nil, fmt.Errorf("fold %d: members tested other rows or classes", i)
			case len(mr.Probs) != len(mr.Samples):
				return nil, fmt.Errorf("fold %d: a member stored no probabilities", i)
			}
			r.Seconds += mr.Seconds
			for k, p := range mr.Probs {
				for c := range p {
					r.Probs[k][c] += p[c] * inv
				}
			}
		}
		r.Pred = model.Classify(r.Probs)
		out[i] = r
	}
	return out, nil
}

// Markdown renders the sweep's table: one row per candidate (scores as
// mean ± sd over seeds, the pooled intervals, the cost estimate and the
// measured fold time), then each seed's (UF1+UAR)/2.
func (r *SweepResult) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Rule (declared before the first fold trained): the highest %s; a candidate must beat every cheaper one (%s) by at least %.4g to be chosen.\n\n",
		r.Rule.Score, r.Rule.Cost, r.Rule.Margin)
	b.WriteString("| candidate | seeds | UF1 mean ± sd [95% CI] | UAR mean ± sd [95% CI] | (UF1+UAR)/2 mean ± sd | cost (G multiply-adds per run) | fold time (s per run) | eligible | chosen |\n")
	b.WriteString("| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n")
	ci := func(c *metrics.CI) string {
		if c == nil {
			return ""
		}
		return fmt.Sprintf(" [%.3f, %.3f]", c.Lo, c.Hi)
	}
	rows := slices.Clone(r.Rows)
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].Score.Mean > rows[j].Score.Mean })
	for _, row := range rows {
		name := row.Name
		if len(row.Ensemble) > 0 {
			name += " (ensemble of " + strings.Join(row.Ensemble, " + ") + ")"
		}
		elig := "yes"
		if !row.Eligible {
			elig = "no: < " + row.Short + " + margin"
		}
		chosen := ""
		if row.Chosen {
			chosen, name = "**chosen**", "**"+name+"**"
		}
		fmt.Fprintf(&b, "| %s | %d | %.3f ± %.3f%s | %.3f ± %.3f%s | %.4f ± %.4f | %.3g | %.1f | %s | %s |\n", name, len(row.Seeds),
			row.UF1.Mean, row.UF1.SD, ci(row.UF1CI), row.UAR.Mean, row.UAR.SD, ci(row.UARCI), row.Score.Mean, row.Score.SD,
			row.Cost/1e9, row.FoldSeconds/float64(max(1, len(row.Seeds))), elig, chosen)
	}
	if len(rows) > 0 && len(rows[0].Seeds) > 0 {
		b.WriteString("\nPer seed, UF1 / UAR:\n\n| candidate |")
		for _, s := range rows[0].Seeds {
			fmt.Fprintf(&b, " seed %d |", s.Seed)
		}
		b.WriteString("\n| --- |" + strings.Repeat(" --- |", len(rows[0].Seeds)) + "\n")
		for _, row := range rows {
			fmt.Fprintf(&b, "| %s |", row.Name)
			for _, s := range row.Seeds {
				fmt.Fprintf(&b, " %.3f / %.3f |", s.UF1, s.UAR)
			}
			b.WriteString("\n")
		}
	}
	fmt.Fprintf(&b, "\nChosen: %s. Wall %.0f s, CPU of this process %.0f s, folds %d (%s).\n", r.Chosen, r.Timing.WallSeconds, r.Timing.CPUSeconds, r.Timing.Folds, r.Timing.Where)
	return b.String()
}
