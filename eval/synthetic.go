package eval

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/tell-project/tell/analyze"
	"github.com/tell-project/tell/au"
	"github.com/tell-project/tell/cot"
	"github.com/tell-project/tell/facs"
	"github.com/tell-project/tell/metrics"
	"github.com/tell-project/tell/raster"
	"github.com/tell-project/tell/synth"
)

// SynthScore is how the pipeline did on synthetic clips with known truth.
// Whether that says anything about faces depends on the generator: clips
// of synth.Basis are moved the way package au's basis decodes them, clips
// of synth.Muscle are not (see package synth).
type SynthScore struct {
	// Event compares, per true expression, its AUs with the AUs of the
	// spotted event that overlaps it most (none when it was missed): the
	// pipeline's answer.
	Event *metrics.AUDetection
	// Apex compares, at each true apex frame, the AUs active there with
	// the per-frame presence flags (frames.csv AUxx_c): the estimator's
	// answer where the expression is strongest, independent of spotting.
	Apex *metrics.AUDetection
	// Spotting counts spotted intervals against the true ones (IoU ≥ 0.5).
	Spotting metrics.Spotting
	// Expressions is the number of true expressions, Matched how many of
	// them a spotted event overlapped.
	Expressions, Matched int
	// Labels counts events whose label equals the truth's emotion (an
	// objective class's emotion for synth.Muscle, see SynthRow.Emotion).
	Labels int
	// Per expression: its true AUs, the matched event's AUs and the AUs
	// flagged at its apex frame (for intervals and listings).
	Rows []SynthRow
}

// SynthRow is one true expression and what the pipeline said about it.
type SynthRow struct {
	Clip             string
	Truth, ApexTruth []int
	Event, Apex      []int
	Matched          bool
	// Kind is the true expression's kind (micro or macro).
	Kind string
	// Emotion is the true expression's emotion: the clip's label, or for
	// synth.Muscle's objective classes the class's emotion (facs
	// ObjectiveClass.Emotion; class VII is others).
	Emotion string
	// AULabel is the AU expert's reading of the matched event (the Exp-CoT
	// engine on the event's measured AUs; "" when no event matched);
	// Knowledge the engine's reading of the true AUs as a coder would
	// write them (sides, no intensities): what the rules give when every
	// AU is measured right.
	AULabel, Knowledge string
	// AUConf and KnowledgeConf are those readings' probabilities of their
	// labels: the aus expert's in events.json, the engine's at
	// cot.Temperature (0 when no event matched).
	AUConf, KnowledgeConf float64
}

// MeanF1CI is a 95% bootstrap interval (resampling expressions, seeded) of
// the mean per-AU F1 of the event-level (apex false) or apex-frame
// decisions.
func (s *SynthScore) MeanF1CI(apex bool, resamples int, seed uint64) [2]float64 {
	if len(s.Rows) == 0 {
		return [2]float64{}
	}
	rng := rand.New(rand.NewPCG(seed, 0xb007))
	vals := make([]float64, resamples)
	for b := range vals {
		d := metrics.NewAUDetection(au.AUs())
		for range s.Rows {
			r := s.Rows[rng.IntN(len(s.Rows))]
			if apex {
				d.AddSets(r.ApexTruth, r.Apex)
			} else {
				d.AddSets(r.Truth, r.Event)
			}
		}
		vals[b] = d.MeanF1()
	}
	slices.Sort(vals)
	return [2]float64{vals[int(0.025*float64(resamples))], vals[min(resamples-1, int(0.975*float64(resamples)))]}
}

// Print writes the score as `tell bench au` does: with list, every
// expression's true and detected AUs; F1 per AU for events and apex frames;
// the counts and spotting; the event AUs' pooled precision and recall; the
// AU expert's emotion per kind; then the mean per-AU F1s with 95% bootstrap
// intervals (2,000 resamples seeded with seed), au_event_f1= last.
func (s *SynthScore) Print(w io.Writer, list bool, seed uint64) {
	if list {
		for _, r := range s.Rows {
			fmt.Fprintf(w, "expression %s truth=%s event=%s apex_truth=%s apex=%s\n", r.Clip, auList(r.Truth), auList(r.Event), auList(r.ApexTruth), auList(r.Apex))
		}
	}
	printAUScores(w, "event", s.Event)
	printAUScores(w, "apex", s.Apex)
	fmt.Fprintf(w, "expressions=%d matched=%d labels_equal=%d\n", s.Expressions, s.Matched, s.Labels)
	fmt.Fprintf(w, "spot_tp=%d spot_fp=%d spot_fn=%d spot_f1=%.3f\n", s.Spotting.TP, s.Spotting.FP, s.Spotting.FN, s.Spotting.F1())
	ep, er := s.Event.Pooled()
	fmt.Fprintf(w, "au_event_precision=%.3f au_event_recall=%.3f\n", ep, er)
	ea, aa := s.MeanF1CI(false, 2000, seed), s.MeanF1CI(true, 2000, seed)
	for _, kind := range []string{"micro", "macro"} {
		for _, src := range []struct {
			name      string
			knowledge bool
		}{{"aus", false}, {"knowledge", true}} {
			e := s.Emotions(kind, src.knowledge, 2000, seed)
			if e.N == 0 {
				continue
			}
			fmt.Fprintf(w, "emotion_%s_%s n=%d acc=%.3f ci95=%.3f-%.3f uf1=%.3f ci95=%.3f-%.3f ece=%.3f 3class_acc=%.3f ci95=%.3f-%.3f 3class_uf1=%.3f ci95=%.3f-%.3f\n",
				kind, src.name, e.N, e.Accuracy, e.AccuracyCI[0], e.AccuracyCI[1], e.UF1, e.UF1CI[0], e.UF1CI[1], e.ECE,
				e.ThreeAccuracy, e.ThreeAccCI[0], e.ThreeAccCI[1], e.ThreeUF1, e.ThreeCI[0], e.ThreeCI[1])
		}
	}
	fmt.Fprintf(w, "au_apex_f1=%.3f ci95=%.3f-%.3f\n", s.Apex.MeanF1(), aa[0], aa[1])
	fmt.Fprintf(w, "au_event_f1=%.3f ci95=%.3f-%.3f\n", s.Event.MeanF1(), ea[0], ea[1])
}

func printAUScores(w io.Writer, name string, d *metrics.AUDetection) {
	for _, a := range d.PerAU() {
		fmt.Fprintf(w, "%s_au%02d_f1=%.3f p=%.3f r=%.3f n=%d\n", name, a.AU, a.F1, a.Precision, a.Recall, a.Support)
	}
}

// auList writes AU numbers as "1+2+12" ("-" for none).
func auList(aus []int) string {
	if len(aus) == 0 {
		return "-"
	}
	sorted := slices.Sorted(slices.Values(aus))
	parts := make([]string, len(sorted))
	for i, a := range sorted {
		parts[i] = strconv.Itoa(a)
	}
	return strings.Join(parts, "+")
}

// ScoreSynthetic analyses each clip in memory with opt (opt.Out is used as
// scratch space and emptied) and scores the results. The thresholds are
// the pipeline's own; nothing is tuned here.
func ScoreSynthetic(ctx context.Context, clips []*synth.Clip, opt analyze.Options) (*SynthScore, error) {
	s := &SynthScore{Event: metrics.NewAUDetection(au.AUs()), Apex: metrics.NewAUDetection(au.AUs())}
	scratch, err := os.MkdirTemp(opt.Out, "synthscore-")
	if err != nil {
		return nil, fmt.Errorf("synthetic score: %w", err)
	}
	defer os.RemoveAll(scratch)
	for _, c := range clips {
		o := opt
		o.Out = filepath.Join(scratch, c.Name)
		res, err := analyze.RunSource(ctx, &synthSource{clip: c}, c.Name, o)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", c.Name, err)
		}
		present, err := readPresence(filepath.Join(o.Out, "frames.csv"))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", c.Name, err)
		}
		var truth, spotted []metrics.Interval
		for _, ev := range res.Events {
			spotted = append(spotted, metrics.Interval{Onset: ev.Onset - res.FrameBase, Offset: ev.Offset - res.FrameBase})
		}
		for _, e := range c.Events {
			s.Expressions++
			truth = append(truth, metrics.Interval{Onset: e.Onset, Offset: e.Offset})
			var want []int
			for _, a := range e.AUs {
				want = append(want, a.AU)
			}
			// Best-overlapping spotted event.
			var best *analyze.Event
			bestIoU := 0.0
			for i := range res.Events {
				ev := &res.Events[i]
				v := metrics.IoU(metrics.Interval{Onset: e.Onset, Offset: e.Offset}, spotted[i])
				if v > bestIoU {
					best, bestIoU = ev, v
				}
			}
			var got []int
			if best != nil {
				s.Matched++
				for _, a := range best.AUs {
					got = append(got, a.AU)
				}
				if best.Label == truthEmotion(e.Label) {
					s.Labels++
				}
			}
			s.Event.AddSets(want, got)
			row := SynthRow{Clip: c.Name, Truth: want, Event: got, Matched: best != nil, Kind: e.Kind, Emotion: truthEmotion(e.Label)}
			if best != nil {
				row.AULabel, row.AUConf = best.Label, best.Confidence
				for _, x := range best.Experts {
					if x.Name == "aus" {
						row.AULabel, row.AUConf = x.Label, x.Probability
					}
				}
			}
			if row.Knowledge, row.KnowledgeConf, err = knowledgeLabel(e.AUs); err != nil {
				return nil, fmt.Errorf("%s: %w", c.Name, err)
			}
			// Apex frame: the AUs moving there, against the frame's flags.
			m, _ := c.Truth(e.Apex)
			var active []int
			for a, v := range m {
				if v > 0 {
					active = append(active, a)
				}
			}
			slices.Sort(active)
			s.Apex.AddSets(active, present[e.Apex+res.FrameBase])
			row.ApexTruth, row.Apex = active, present[e.Apex+res.FrameBase]
			s.Rows = append(s.Rows, row)
		}
		s.Spotting.AddVideo(truth, spotted)
		os.RemoveAll(o.Out)
	}
	return s, nil
}

// truthEmotion is the emotion of a synthetic expression's label.
func truthEmotion(label string) string {
	if c, ok := facs.ParseObjective(label); ok {
		return c.Emotion()
	}
	return facs.Emotion(label)
}

// knowledgeLabel is the Exp-CoT engine's reading of true AUs given as a
// coder's sheet gives them (with sides, without intensities), and its
// calibrated probability.
func knowledgeLabel(aus []synth.ActiveAU) (string, float64, error) {
	var parts []string
	for _, a := range aus {
		parts = append(parts, a.Side+strconv.Itoa(a.AU))
	}
	code, err := facs.Parse(strings.Join(parts, "+"))
	if err != nil {
		return "", 0, err
	}
	rd, err := cot.Read(cot.EvidenceFromCode(code), cot.Options{})
	if err != nil {
		return "", 0, err
	}
	return rd.Label, rd.Probabilities(cot.Temperature)[slices.Index(rd.Labels, rd.Label)], nil
}

// EmotionScore is how often a reading of the true expressions named their
// emotion, over the expressions of one kind whose emotion is a basic one
// (objective classes I–VI), with 95% bootstrap intervals (expressions
// resampled).
type EmotionScore struct {
	N                   int
	Accuracy, UF1       float64
	AccuracyCI, UF1CI   [2]float64
	ThreeAccuracy       float64 // the same in MEGC2019's three classes
	ThreeUF1            float64
	ThreeAccCI, ThreeCI [2]float64
	// ECE is the expected calibration error (10 bins) of the readings'
	// probabilities of their basic-emotion labels, over the expressions
	// that got a reading.
	ECE float64
}

// Emotions scores the AU expert's reading of the matched events (measured
// false) or the engine's reading of the true AUs (true), for expressions
// of kind ("" for all); an expression no event matched counts as a wrong
// answer.
func (s *SynthScore) Emotions(kind string, knowledge bool, resamples int, seed uint64) EmotionScore {
	var basic, three []labelPair
	var conf []float64
	var right []bool
	for _, r := range s.Rows {
		if kind != "" && r.Kind != kind || !slices.Contains(facs.BasicEmotions(), r.Emotion) {
			continue
		}
		pred := r.AULabel
		if knowledge {
			pred = r.Knowledge
		}
		if pred == "" {
			pred = "missed"
		} else {
			c := r.AUConf
			if knowledge {
				c = r.KnowledgeConf
			}
			conf, right = append(conf, c), append(right, pred == r.Emotion)
		}
		basic = append(basic, labelPair{r.Emotion, pred})
		t3, _ := facs.ThreeClass(r.Emotion, "")
		p3, ok := facs.ThreeClass(pred, "")
		if !ok {
			p3 = pred
		}
		three = append(three, labelPair{t3, p3})
	}
	var out EmotionScore
	out.N = len(basic)
	if out.N == 0 {
		return out
	}
	out.Accuracy, out.UF1 = scorePairs(basic)
	out.ThreeAccuracy, out.ThreeUF1 = scorePairs(three)
	out.AccuracyCI, out.UF1CI = bootPairs(basic, resamples, seed)
	out.ThreeAccCI, out.ThreeCI = bootPairs(three, resamples, seed)
	if len(conf) > 0 {
		// The probabilities are in [0, 1], so ECE cannot fail here.
		out.ECE, _ = metrics.ECE(conf, right, 0)
	}
	return out
}

// labelPair is a truth and a prediction.
type labelPair struct{ truth, pred string }

// pairsConfusion is the confusion of the pairs over the true classes,
// with the other answers outside the task (they count against recall
// only), and the pairs as class indices.
func pairsConfusion(ps []labelPair) (*metrics.Confusion, []int, []int) {
	var truths, preds []string
	for _, p := range ps {
		truths, preds = append(truths, p.truth), append(preds, p.pred)
	}
	classes := distinctSorted(truths)
	var outside []string
	for _, p := range distinctSorted(preds) {
		if !slices.Contains(classes, p) {
			outside = append(outside, p)
		}
	}
	// Distinct names, at least one class: it cannot fail.
	cm, _ := metrics.NewConfusionOutside(classes, outside)
	truth, pred := make([]int, len(ps)), make([]int, len(ps))
	for i, p := range ps {
		truth[i], pred[i] = cm.Index(p.truth), cm.Index(p.pred)
		cm.Add(truth[i], pred[i])
	}
	return cm, truth, pred
}

// scorePairs is accuracy and the UF1 over the true classes.
func scorePairs(ps []labelPair) (acc, uf1 float64) {
	cm, _, _ := pairsConfusion(ps)
	return cm.Accuracy(), cm.UF1()
}

// bootPairs is the 95% bootstrap interval of accuracy and UF1
// (expressions resampled, the classes those of all the pairs).
func bootPairs(ps []labelPair, resamples int, seed uint64) (acc, uf1 [2]float64) {
	cm, truth, pred := pairsConfusion(ps)
	opt := metrics.BootstrapOptions{Reps: resamples, Seed: seed, Scored: cm.Scored()}
	// The pairs are valid indices, and there is at least one.
	a, _ := metrics.BootstrapAccuracyCI(truth, pred, cm.K(), opt)
	u, _, _ := metrics.BootstrapCI(truth, pred, cm.K(), opt)
	return [2]float64{a.Lo, a.Hi}, [2]float64{u.Lo, u.Hi}
}

// readPresence reads frames.csv's AUxx_c columns: per frame number, the
// AUs flagged present. Fields may be padded (OpenFace writes ", ").
func readPresence(path string) (map[int][]int, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	head, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	frameCol := -1
	cols := map[int]int{}
	for i, h := range head {
		h = strings.TrimSpace(h) // OpenFace writes ", AU01_c"
		if h == "frame" {
			frameCol = i
		}
		if num, ok := strings.CutPrefix(h, "AU"); ok {
			if num, ok := strings.CutSuffix(num, "_c"); ok {
				if a, err := strconv.Atoi(num); err == nil {
					cols[i] = a
				}
			}
		}
	}
	if frameCol < 0 || len(cols) == 0 {
		return nil, fmt.Errorf("%s: no frame or AUxx_c columns", path)
	}
	out := map[int][]int{}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		fr, err := strconv.Atoi(strings.TrimSpace(rec[frameCol]))
		if err != nil {
			return nil, fmt.Errorf("%s: frame %q: %w", path, rec[frameCol], err)
		}
		for i, a := range cols {
			if v, err := strconv.ParseFloat(strings.TrimSpace(rec[i]), 64); err == nil && v > 0 {
				out[fr] = append(out[fr], a)
			}
		}
	}
}

// synthSource streams a synthetic clip to the pipeline without files.
type synthSource struct {
	clip *synth.Clip
	t    int
}

// Next renders the next frame.
func (s *synthSource) Next(ctx context.Context) (*raster.Gray, error) {
	if s.t >= s.clip.Frames {
		return nil, io.EOF
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.t++
	return raster.FromImage(s.clip.Frame(s.t-1, nil)), nil
}

// FPS is the clip's frame rate.
func (s *synthSource) FPS() float64 { return s.clip.FPS }

// Frames is the clip's length.
func (s *synthSource) Frames() int { return s.clip.Frames }

// Close does nothing.
func (s *synthSource) Close() error { return nil }
