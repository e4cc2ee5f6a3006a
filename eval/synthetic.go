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
	// Labels counts events whose spotted label equals the truth's.
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
		d := metrics.NewAUDetection(au.AUs)
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
// the counts and spotting; then the mean per-AU F1s with 95% bootstrap
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
	ea, aa := s.MeanF1CI(false, 2000, seed), s.MeanF1CI(true, 2000, seed)
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
	s := &SynthScore{Event: metrics.NewAUDetection(au.AUs), Apex: metrics.NewAUDetection(au.AUs)}
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
				if best.Label == e.Label {
					s.Labels++
				}
			}
			s.Event.AddSets(want, got)
			row := SynthRow{Clip: c.Name, Truth: want, Event: got, Matched: best != nil}
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
