package analyze

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

// ScoreSynthetic analyses each clip in memory with opt (opt.Out is used as
// scratch space and emptied) and scores the results. The thresholds are
// the pipeline's own; nothing is tuned here.
func ScoreSynthetic(ctx context.Context, clips []*synth.Clip, opt Options) (*SynthScore, error) {
	s := &SynthScore{Event: metrics.NewAUDetection(au.AUs), Apex: metrics.NewAUDetection(au.AUs)}
	scratch, err := os.MkdirTemp(opt.Out, "synthscore-")
	if err != nil {
		return nil, fmt.Errorf("synthetic score: %w", err)
	}
	defer os.RemoveAll(scratch)
	for _, c := range clips {
		o := opt
		o.Out = filepath.Join(scratch, c.Name)
		res, err := RunSource(ctx, &SynthSource{Clip: c}, c.Name, o)
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
			var best *Event
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
// AUs flagged present.
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
		fr, err := strconv.Atoi(rec[frameCol])
		if err != nil {
			return nil, fmt.Errorf("%s: frame %q: %w", path, rec[frameCol], err)
		}
		for i, a := range cols {
			if v, err := strconv.ParseFloat(rec[i], 64); err == nil && v > 0 {
				out[fr] = append(out[fr], a)
			}
		}
	}
}

// SynthSource streams a synthetic clip to the pipeline without files.
type SynthSource struct {
	Clip *synth.Clip
	t    int
}

// Next renders the next frame.
func (s *SynthSource) Next(ctx context.Context) (*raster.Gray, error) {
	if s.t >= s.Clip.Frames {
		return nil, io.EOF
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.t++
	return raster.FromImage(s.Clip.Frame(s.t-1, nil)), nil
}

// FPS is the clip's frame rate.
func (s *SynthSource) FPS() float64 { return s.Clip.FPS }

// Frames is the clip's length.
func (s *SynthSource) Frames() int { return s.Clip.Frames }

// Close does nothing.
func (s *SynthSource) Close() error { return nil }
