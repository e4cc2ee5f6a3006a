// Package llmeval runs a vision-LLM reasoner over a labelled manifest and
// scores it: accuracy, UF1 and UAR (metrics.json, as `tell eval` writes),
// the faithfulness of its chains of thought to tell's AU evidence, and its
// cost in tokens and latency. Runs are resumable: every answer is appended to
// answers.jsonl as it arrives, and a rerun skips the samples already there.
//
// Limits: the scores are only as good as the manifest's labels and, for
// faithfulness, tell's own AU measurements, which are themselves validated
// only on synthetic clips.
package llmeval

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	_ "image/gif" // decoders for the manifest's image files
	_ "image/jpeg"
	_ "image/png"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/tell-project/tell/atomicfile"
	"github.com/tell-project/tell/cot"
	"github.com/tell-project/tell/dataset"
	"github.com/tell-project/tell/facs"
	"github.com/tell-project/tell/llm"
	"github.com/tell-project/tell/metrics"
	"github.com/tell-project/tell/video"
)

// File names inside the run folder.
const (
	AnswersFile = "answers.jsonl"
	MetricsFile = "metrics.json"
)

// Options configure Run.
type Options struct {
	// Out is the run folder (created if missing).
	Out string
	// Classes is the label set; empty means the manifest's labels.
	Classes []string
	// Limit evaluates only the first Limit samples (0: all).
	Limit int
	// Workers is how many samples are in flight at once (default 2; the
	// client's own concurrency limit still applies).
	Workers int
	// Evidence returns tell's AU evidence for a sample. nil reads the
	// manifest's aus column (FACS codes).
	Evidence func(ctx context.Context, s dataset.Sample) ([]cot.Evidence, error)
	// ResolveFrame finds a frame file of a frames folder by number or
	// name (nil: dataset.ResolveFrame).
	ResolveFrame func(dir, ref string) (string, error)
	// MinIntensity is the evidence intensity from which an AU counts as
	// measured (0: llm.DefaultMinIntensity).
	MinIntensity float64
	// Model and URL are recorded in metrics.json (URL without credentials).
	Model, URL string
	Logger     *slog.Logger
	// Progress, when set, is called after each sample with done and total.
	Progress func(done, total int)
}

// Record is one line of answers.jsonl.
type Record struct {
	Sample  string `json:"sample"`
	Subject string `json:"subject"`
	Label   string `json:"label"`
	// Pred is the model's conclusion; Valid is false when the answer was
	// malformed or named a label outside the classes.
	Pred  string `json:"pred"`
	Valid bool   `json:"valid"`
	// Error is a failure to get any answer (server down); such samples are
	// retried by a rerun.
	Error       string      `json:"error,omitempty"`
	Issues      []llm.Issue `json:"issues,omitempty"`
	Rejected    string      `json:"rejected,omitempty"` // why the checks rejected the answer
	MeasuredAUs []int       `json:"measured_aus"`
	StatedAUs   []int       `json:"stated_aus"`
	JSON        bool        `json:"json"`
	LabelAnswer string      `json:"label_answer,omitempty"`
	Usage       llm.Usage   `json:"usage"`
	LatencyMS   float64     `json:"latency_ms"`
	Calls       int         `json:"calls"`
	CoT         *cot.CoT    `json:"cot,omitempty"`
}

// Faithfulness scores how well the chains of thought keep to the evidence.
type Faithfulness struct {
	// Answers is the number of chains of thought that could be parsed.
	Answers int `json:"answers"`
	// AUMatch is the share of answers whose stated AUs equal the measured
	// (active) ones.
	AUMatch float64 `json:"au_match"`
	// NoHallucination is the share of answers claiming no unmeasured AU.
	NoHallucination float64 `json:"no_hallucination"`
	// Consistent is the share of answers whose conclusion agrees with its
	// own observations, interpretation, label answer and Des2Exp reading.
	Consistent float64 `json:"consistent"`
	// AUPrecision and AURecall pool stated vs measured AUs over answers.
	AUPrecision float64 `json:"au_precision"`
	AURecall    float64 `json:"au_recall"`
	// Structured is the share of answers given as JSON (schema honoured).
	Structured float64 `json:"structured"`
	// Accepted is the share of answers that passed every rejecting check.
	Accepted float64 `json:"accepted"`
}

// Cost sums tokens and summarises per-sample latency.
type Cost struct {
	Calls            int     `json:"calls"`
	PromptTokens     int     `json:"prompt_tokens"`
	CompletionTokens int     `json:"completion_tokens"`
	TotalTokens      int     `json:"total_tokens"`
	TokensPerSample  float64 `json:"tokens_per_sample"`
	LatencyP50MS     float64 `json:"latency_p50_ms"`
	LatencyP90MS     float64 `json:"latency_p90_ms"`
	LatencyP99MS     float64 `json:"latency_p99_ms"`
	LatencyMaxMS     float64 `json:"latency_max_ms"`
}

// Metrics is metrics.json of an LLM evaluation: the common report (over
// samples with a valid answer) plus LLM-specific fields.
type Metrics struct {
	metrics.Report
	Model string `json:"model,omitempty"`
	URL   string `json:"url,omitempty"`
	// Samples is how many samples were selected; Answered how many got an
	// answer; Invalid how many answers were malformed or outside the
	// classes; Failed how many got none (server errors).
	Samples  int `json:"samples"`
	Answered int `json:"answered"`
	Invalid  int `json:"invalid"`
	Failed   int `json:"failed"`
	// FirstError is the error of the first failed sample, so that a run in
	// which the server could not be reached says why.
	FirstError string `json:"first_error,omitempty"`
	// AccuracyAll counts invalid answers and failures as wrong.
	AccuracyAll  float64      `json:"accuracy_all"`
	Faithfulness Faithfulness `json:"faithfulness"`
	Cost         Cost         `json:"cost"`
}

// Run evaluates r over the manifest's samples (the first opt.Limit),
// skipping those already answered in opt.Out, and writes metrics.json.
// Cancelling ctx stops after the answers in flight; a rerun resumes.
func Run(ctx context.Context, m *dataset.Manifest, r llm.Reasoner, opt Options) (Metrics, error) {
	start := time.Now()
	if opt.Out == "" {
		return Metrics{}, errors.New("eval-llm: no run folder given")
	}
	lg := opt.Logger
	if lg == nil {
		lg = slog.New(slog.DiscardHandler)
	}
	classes := opt.Classes
	if len(classes) == 0 {
		classes = m.Labels()
	}
	if len(classes) < 2 {
		return Metrics{}, fmt.Errorf("eval-llm: %s: need at least two classes, have %v", m.Path, classes)
	}
	samples := m.Samples
	if opt.Limit > 0 && opt.Limit < len(samples) {
		samples = samples[:opt.Limit]
	}
	for _, s := range samples {
		if !containsFold(classes, s.Label) {
			return Metrics{}, fmt.Errorf("eval-llm: %s line %d: sample %q: label %q is not one of the classes %v", m.Path, s.Line, s.ID, s.Label, classes)
		}
	}
	if err := os.MkdirAll(opt.Out, 0o755); err != nil {
		return Metrics{}, fmt.Errorf("eval-llm: %w", err)
	}
	path := filepath.Join(opt.Out, AnswersFile)
	done, err := loadAnswers(path)
	if err != nil {
		return Metrics{}, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return Metrics{}, fmt.Errorf("eval-llm: %w", err)
	}
	defer f.Close()

	var todo []dataset.Sample
	for _, s := range samples {
		if _, ok := done[s.ID]; !ok {
			todo = append(todo, s)
		}
	}
	if len(done) > 0 {
		lg.Info("eval-llm resuming", "answered", len(samples)-len(todo), "left", len(todo))
	}
	workers := opt.Workers
	if workers <= 0 {
		workers = 2
	}
	var mu sync.Mutex
	var firstErr error
	finished := len(samples) - len(todo)
	jobs := make(chan dataset.Sample)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for s := range jobs {
				rec, err := evalOne(ctx, s, classes, r, opt)
				if ctx.Err() != nil {
					return // an answer cut short is not recorded
				}
				mu.Lock()
				if err != nil {
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					continue
				}
				b, _ := json.Marshal(rec)
				if _, werr := f.Write(append(b, '\n')); werr != nil && firstErr == nil {
					firstErr = fmt.Errorf("eval-llm: %s: %w", path, werr)
				}
				done[rec.Sample] = rec
				finished++
				if opt.Progress != nil {
					opt.Progress(finished, len(samples))
				}
				mu.Unlock()
			}
		}()
	}
feed:
	for _, s := range todo {
		select {
		case jobs <- s:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	if err := f.Sync(); err != nil {
		return Metrics{}, fmt.Errorf("eval-llm: %s: %w", path, err)
	}
	if firstErr != nil {
		return Metrics{}, firstErr
	}
	if err := ctx.Err(); err != nil {
		return Metrics{}, fmt.Errorf("eval-llm: interrupted after %d of %d samples (rerun to resume): %w", finished, len(samples), err)
	}
	recs := make([]Record, 0, len(samples))
	for _, s := range samples {
		recs = append(recs, done[s.ID])
	}
	mt, err := Score(recs, classes, time.Since(start).Seconds())
	if err != nil {
		return Metrics{}, err
	}
	mt.Model, mt.URL = opt.Model, opt.URL
	if err := writeJSON(filepath.Join(opt.Out, MetricsFile), mt); err != nil {
		return Metrics{}, err
	}
	return mt, nil
}

func containsFold(ss []string, s string) bool {
	for _, x := range ss {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// loadAnswers reads answers.jsonl, keeping answered samples (a failed one is
// retried) and dropping a torn last line; the file is rewritten atomically
// when anything was dropped.
func loadAnswers(path string) (map[string]Record, error) {
	done := map[string]Record{}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return done, nil
	}
	if err != nil {
		return nil, fmt.Errorf("eval-llm: %w", err)
	}
	var keep bytes.Buffer
	dropped := false
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 1<<16), 64<<20)
	for line := 1; sc.Scan(); line++ {
		var rec Record
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil || rec.Sample == "" {
			dropped = true // torn write of an interrupted run
			continue
		}
		if rec.Error != "" {
			dropped = true
			continue
		}
		done[rec.Sample] = rec
		keep.Write(sc.Bytes())
		keep.WriteByte('\n')
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("eval-llm: %s: %w", path, err)
	}
	if dropped {
		if err := atomicfile.WriteFile(path, keep.Bytes()); err != nil {
			return nil, err
		}
	}
	return done, nil
}

// evalOne asks the reasoner about one sample. An error is returned only for
// bad input (unreadable image, bad AU code); a server failure is recorded.
func evalOne(ctx context.Context, s dataset.Sample, classes []string, r llm.Reasoner, opt Options) (Record, error) {
	rec := Record{Sample: s.ID, Subject: s.Subject, Label: s.Label}
	req, err := request(ctx, s, classes, opt)
	if err != nil {
		return rec, err
	}
	minI := opt.MinIntensity
	if minI <= 0 {
		minI = llm.DefaultMinIntensity
	}
	rec.MeasuredAUs = activeAUs(req.Evidence, minI)
	ans, err := r.Reason(ctx, req)
	rec.Usage, rec.Calls, rec.LabelAnswer, rec.JSON = ans.Usage, ans.Calls, ans.LabelAnswer, ans.JSON
	rec.LatencyMS = float64(ans.Latency) / float64(time.Millisecond)
	rec.Issues = ans.Issues
	if err != nil {
		rec.Error = err.Error()
		return rec, nil
	}
	rec.Rejected = ans.Fallback
	if ans.Model != nil {
		c := *ans.Model
		rec.CoT = &c
		rec.Pred = c.Conclusion.Label
		rec.StatedAUs = statedAUs(c)
	}
	rec.Valid = rec.CoT != nil && containsFold(classes, rec.Pred) && !hasIssue(rec.Issues, llm.IssueMalformed)
	if rec.Valid {
		for _, c := range classes {
			if strings.EqualFold(c, rec.Pred) {
				rec.Pred = c
			}
		}
	}
	return rec, nil
}

func hasIssue(is []llm.Issue, k llm.IssueKind) bool {
	for _, i := range is {
		if i.Kind == k {
			return true
		}
	}
	return false
}

func activeAUs(ev []cot.Evidence, minI float64) []int {
	set := map[int]bool{}
	for _, e := range ev {
		if e.Intensity >= minI {
			set[e.AU] = true
		}
	}
	return sortedKeys(set)
}

func statedAUs(c cot.CoT) []int {
	set := map[int]bool{}
	for _, o := range c.Observations {
		set[o.AU] = true
	}
	return sortedKeys(set)
}

func sortedKeys(set map[int]bool) []int {
	out := make([]int, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Ints(out)
	return out
}

// request builds the reasoner's input for a sample: images from the image,
// frames (onset and apex) and flow columns, evidence from opt.Evidence.
func request(ctx context.Context, s dataset.Sample, classes []string, opt Options) (llm.Request, error) {
	req := llm.Request{Classes: classes}
	where := fmt.Sprintf("sample %q (line %d)", s.ID, s.Line)
	var err error
	if opt.Evidence != nil {
		req.Evidence, err = opt.Evidence(ctx, s)
	} else {
		req.Evidence, err = EvidenceFromAUs(s.AUs)
	}
	if err != nil {
		return req, fmt.Errorf("eval-llm: %s: column aus: %w", where, err)
	}
	if s.Image != "" {
		if req.Apex, err = loadImage(s.Image); err != nil {
			return req, fmt.Errorf("eval-llm: %s: column image: %w", where, err)
		}
	}
	if s.Frames != "" && req.Apex == nil {
		resolve := opt.ResolveFrame
		if resolve == nil {
			resolve = dataset.ResolveFrame
		}
		for _, f := range []struct {
			col, ref string
			dst      *image.Image
		}{{"apex", s.Apex, &req.Apex}, {"onset", s.Onset, &req.Onset}} {
			if f.ref == "" {
				continue
			}
			p, err := resolve(s.Frames, f.ref)
			if err != nil {
				return req, fmt.Errorf("eval-llm: %s: column %s: %w", where, f.col, err)
			}
			if *f.dst, err = loadImage(p); err != nil {
				return req, fmt.Errorf("eval-llm: %s: column %s: %w", where, f.col, err)
			}
		}
	}
	if s.Flow != "" {
		if req.Flow, err = loadImage(s.Flow); err != nil {
			return req, fmt.Errorf("eval-llm: %s: column flow: %w", where, err)
		}
	}
	if req.Apex == nil && req.Flow == nil {
		return req, fmt.Errorf("eval-llm: %s: no image, frames or flow to show the model", where)
	}
	return req, nil
}

// EvidenceFromAUs turns a manifest's FACS string into evidence ("" and an
// uncoded "?" give none). A string only partly FACS ("R14+17+soft focus")
// gives the evidence of its FACS part; one with no FACS at all is an error.
func EvidenceFromAUs(code string) ([]cot.Evidence, error) {
	if strings.TrimSpace(code) == "" {
		return nil, nil
	}
	c, remarks := facs.ParseLenient(code)
	if len(remarks) > 0 && c.Empty() && !c.Uncoded {
		_, err := facs.Parse(code)
		return nil, err
	}
	return cot.EvidenceFromCode(c), nil
}

func loadImage(path string) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m, _, err := video.DecodeImage(bufio.NewReader(f), 0)
	if err != nil {
		return nil, fmt.Errorf("%s: %w (PNG, JPEG and GIF are read)", path, err)
	}
	return m, nil
}

// Score computes the metrics of a finished set of records.
func Score(recs []Record, classes []string, seconds float64) (Metrics, error) {
	cm, err := metrics.NewConfusion(classes)
	if err != nil {
		return Metrics{}, fmt.Errorf("eval-llm: %w", err)
	}
	var mt Metrics
	mt.Samples = len(recs)
	var correct int
	var fa Faithfulness
	var match, noHall, consistent, structured, accepted, stated, statedOK, measured, measuredHit int
	var lat []float64
	for _, r := range recs {
		mt.Cost.Calls += r.Calls
		mt.Cost.PromptTokens += r.Usage.PromptTokens
		mt.Cost.CompletionTokens += r.Usage.CompletionTokens
		mt.Cost.TotalTokens += r.Usage.TotalTokens
		if r.Error != "" {
			if mt.Failed == 0 {
				mt.FirstError = fmt.Sprintf("sample %q: %s", r.Sample, r.Error)
			}
			mt.Failed++
			continue
		}
		mt.Answered++
		lat = append(lat, r.LatencyMS)
		if !r.Valid {
			mt.Invalid++
		} else {
			if err := cm.AddLabel(canonicalClass(classes, r.Label), r.Pred); err != nil {
				return Metrics{}, fmt.Errorf("eval-llm: sample %q: %w", r.Sample, err)
			}
			if strings.EqualFold(r.Pred, r.Label) {
				correct++
			}
		}
		if r.CoT == nil {
			continue
		}
		fa.Answers++
		if slices.Equal(r.StatedAUs, r.MeasuredAUs) {
			match++
		}
		if !hasIssue(r.Issues, llm.IssueHallucinatedAU) {
			noHall++
		}
		if !hasIssue(r.Issues, llm.IssueContradiction) {
			consistent++
		}
		if r.JSON {
			structured++
		}
		if r.Rejected == "" {
			accepted++
		}
		ms := map[int]bool{}
		for _, a := range r.MeasuredAUs {
			ms[a] = true
		}
		ss := map[int]bool{}
		for _, a := range r.StatedAUs {
			ss[a] = true
			stated++
			if ms[a] {
				statedOK++
			}
		}
		for _, a := range r.MeasuredAUs {
			measured++
			if ss[a] {
				measuredHit++
			}
		}
	}
	mt.Report = metrics.NewReport("zero-shot", cm, nil, seconds)
	if mt.Samples > 0 {
		mt.AccuracyAll = float64(correct) / float64(mt.Samples)
	}
	if n := float64(fa.Answers); n > 0 {
		fa.AUMatch, fa.NoHallucination, fa.Consistent = float64(match)/n, float64(noHall)/n, float64(consistent)/n
		fa.Structured, fa.Accepted = float64(structured)/n, float64(accepted)/n
	}
	fa.AUPrecision = ratio(statedOK, stated)
	fa.AURecall = ratio(measuredHit, measured)
	mt.Faithfulness = fa
	if mt.Samples > 0 {
		mt.Cost.TokensPerSample = float64(mt.Cost.TotalTokens) / float64(mt.Samples)
	}
	sort.Float64s(lat)
	mt.Cost.LatencyP50MS = Percentile(lat, 50)
	mt.Cost.LatencyP90MS = Percentile(lat, 90)
	mt.Cost.LatencyP99MS = Percentile(lat, 99)
	mt.Cost.LatencyMaxMS = Percentile(lat, 100)
	return mt, nil
}

func canonicalClass(classes []string, l string) string {
	for _, c := range classes {
		if strings.EqualFold(c, l) {
			return c
		}
	}
	return l
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// Percentile is the nearest-rank percentile p (0..100] of sorted values
// (0 for none).
func Percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	k := int(math.Ceil(p / 100 * float64(len(sorted))))
	k = min(max(k, 1), len(sorted))
	return sorted[k-1]
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("eval-llm: %s: %w", path, err)
	}
	return atomicfile.WriteFile(path, append(b, '\n'))
}

// Print writes the metrics as name=value lines (tell eval-llm): counts,
// faithfulness, cost, then accuracy, UF1 and UAR.
func (mt Metrics) Print(w io.Writer) {
	fmt.Fprintf(w, "samples=%d answered=%d invalid=%d failed=%d\n", mt.Samples, mt.Answered, mt.Invalid, mt.Failed)
	fmt.Fprintf(w, "au_match=%.4f no_hallucination=%.4f consistent=%.4f au_precision=%.4f au_recall=%.4f\n",
		mt.Faithfulness.AUMatch, mt.Faithfulness.NoHallucination, mt.Faithfulness.Consistent, mt.Faithfulness.AUPrecision, mt.Faithfulness.AURecall)
	fmt.Fprintf(w, "tokens=%d tokens_per_sample=%.1f latency_p50_ms=%.0f latency_p90_ms=%.0f latency_p99_ms=%.0f\n",
		mt.Cost.TotalTokens, mt.Cost.TokensPerSample, mt.Cost.LatencyP50MS, mt.Cost.LatencyP90MS, mt.Cost.LatencyP99MS)
	fmt.Fprintf(w, "accuracy=%.4f uf1=%.4f uar=%.4f accuracy_all=%.4f\n", mt.Accuracy, mt.UF1, mt.UAR, mt.AccuracyAll)
}
