package eval

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/tell-project/tell/analyze"
	"github.com/tell-project/tell/au"
	"github.com/tell-project/tell/facs"
	"github.com/tell-project/tell/metrics"
	"github.com/tell-project/tell/spot"
)

// SpotTruth is a truth file's coded expressions (spot.ReadTruth) grouped by
// clip, clips in the order they first appear.
type SpotTruth struct {
	Clips []string
	Coded map[string][]spot.Truth // per clip; empty for a clip without expressions
	FPS   map[string]float64      // per clip, from the file's fps column (0: none)
}

// ReadSpotTruth reads a truth file (see spot.ReadTruth; base is the number
// of a clip's first frame in it) and groups its rows by clip.
func ReadSpotTruth(path string, base int) (*SpotTruth, error) {
	rows, err := spot.ReadTruth(path, base)
	if err != nil {
		return nil, err
	}
	t := &SpotTruth{Coded: map[string][]spot.Truth{}, FPS: map[string]float64{}}
	for _, r := range rows {
		if _, ok := t.Coded[r.Path]; !ok {
			t.Clips = append(t.Clips, r.Path)
			t.Coded[r.Path] = []spot.Truth{}
		}
		if r.Offset > 0 { // onset 0 is a frame of a folder numbered from 0
			t.Coded[r.Path] = append(t.Coded[r.Path], r)
		}
		if r.FPS > 0 {
			t.FPS[r.Path] = r.FPS
		}
	}
	return t, nil
}

// NotSingle returns the first clip that has not exactly one coded
// expression and its count ("" when every clip has one).
func (t *SpotTruth) NotSingle() (string, int) {
	for _, c := range t.Clips {
		if n := len(t.Coded[c]); n != 1 {
			return c, n
		}
	}
	return "", 0
}

// SpotOptions configure Spot.
type SpotOptions struct {
	// FPS is the frame rate of folders of frames whose rows give none
	// (0: the folder's fps.txt, else analyze refuses it); a video's own
	// rate is used.
	FPS float64
	// Known describes each clip's one coded interval (analyze.Interval,
	// apex found inside it) instead of spotting.
	Known bool
	// Out keeps each clip's analysis in Out/<clip>; "" discards them.
	Out string
	// Landmarker is the face landmarker of every analysis.
	Landmarker analyze.Landmarker
	// Clip, when set, receives each clip's one-line summary.
	Clip func(path, summary string)
	// Warn, when set, receives the error of an analysis that stopped
	// part-way (its partial result is still scored).
	Warn func(path string, err error)
}

// Spot runs tell analyze on every clip of t and scores the spotted
// expressions against the coded ones (see SpotScore).
func Spot(ctx context.Context, t *SpotTruth, opt SpotOptions) (*SpotScore, error) {
	tmp := ""
	if opt.Out == "" {
		var err error
		if tmp, err = os.MkdirTemp("", "tell-bench-spot-"); err != nil {
			return nil, err
		}
		defer os.RemoveAll(tmp)
	}
	sc := &SpotScore{}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	for i, c := range t.Clips {
		truth := t.Coded[c]
		rate := 0.0
		if st, err := os.Stat(c); err == nil && st.IsDir() {
			rate = opt.FPS
		}
		if f := t.FPS[c]; f > 0 {
			rate = f
		}
		dir := filepath.Join(tmp, fmt.Sprintf("clip%05d", i))
		if opt.Out != "" {
			dir = filepath.Join(opt.Out, strings.TrimSuffix(filepath.Base(c), filepath.Ext(c)))
		}
		aopt := analyze.Options{Out: dir, FPS: rate, Landmarker: opt.Landmarker, Log: quiet}
		if opt.Known && len(truth) > 0 {
			aopt.Interval = &analyze.Interval{Onset: truth[0].Onset, Apex: 0, Offset: truth[0].Offset}
		}
		res, err := analyze.Run(ctx, c, aopt)
		if err != nil && res == nil {
			return nil, fmt.Errorf("%s: %w", c, err)
		}
		if err != nil && opt.Warn != nil {
			opt.Warn(c, err)
		}
		line := sc.add(truth, res)
		if opt.Clip != nil {
			opt.Clip(c, line)
		}
	}
	return sc, nil
}

// SpotScore is spotting scored against coded expressions: counts pooled
// over clips, matches at IoU ≥ 0.5 one to one (MEGC's rule), the apex error
// of matched expressions that have a coded apex, and the AUs of matched
// expressions that have coded AUs (those tell measures).
type SpotScore struct {
	Clips, Truth, Spotted int
	Spotting              metrics.Spotting
	ApexErr               []float64 // |spotted − coded apex| in frames
	AUsHit, AUsN          int       // matched expressions whose coded AUs are all found, of those with coded AUs
	AUTP, AUFP, AUFN      int       // over matched expressions with coded AUs
	Seconds               float64   // wall time of the analyses
}

// add scores one clip and returns its one-line summary.
func (sc *SpotScore) add(truth []spot.Truth, res *analyze.Result) string {
	sc.Clips++
	sc.Truth += len(truth)
	sc.Spotted += len(res.Events)
	sc.Seconds += res.ElapsedS
	var ti, si []metrics.Interval
	for _, t := range truth {
		ti = append(ti, metrics.Interval{Onset: t.Onset, Offset: t.Offset})
	}
	for _, e := range res.Events {
		si = append(si, metrics.Interval{Onset: e.Onset, Offset: e.Offset})
	}
	sc.Spotting.AddVideo(ti, si)
	var parts []string
	matched := map[int]int{}
	for _, p := range metrics.MatchPairs(ti, si, metrics.SpotThreshold) {
		matched[p[0]] = p[1]
	}
	for g, t := range truth {
		part := fmt.Sprintf("coded %d-%d-%d", t.Onset, t.Apex, t.Offset)
		s, ok := matched[g]
		if !ok {
			parts = append(parts, part+" missed")
			continue
		}
		e := res.Events[s]
		part += fmt.Sprintf(" spotted %d-%d-%d IoU %.2f", e.Onset, e.Apex, e.Offset, metrics.IoU(ti[g], si[s]))
		if t.Apex > 0 {
			d := math.Abs(float64(e.Apex - t.Apex))
			sc.ApexErr = append(sc.ApexErr, d)
			part += fmt.Sprintf(" apex err %.0f", d)
		}
		var got []string
		for _, a := range e.AUs {
			got = append(got, a.Side+fmt.Sprint(a.AU))
		}
		part += " AUs " + strings.Join(got, "+")
		if want := measuredAUs(t.AUs); len(want) > 0 {
			sc.AUsN++
			hit := true
			for _, w := range want {
				if !slices.ContainsFunc(e.AUs, func(a analyze.EventAU) bool { return a.AU == w }) {
					hit = false
					sc.AUFN++
				} else {
					sc.AUTP++
				}
			}
			for _, a := range e.AUs {
				if !slices.Contains(want, a.AU) {
					sc.AUFP++
				}
			}
			if hit {
				sc.AUsHit++
			}
			part += fmt.Sprintf(" (coded %s: %v)", t.AUs, hit)
		}
		parts = append(parts, part)
	}
	for s, e := range res.Events {
		if !slices.ContainsFunc(metrics.MatchPairs(ti, si, metrics.SpotThreshold), func(p [2]int) bool { return p[1] == s }) {
			parts = append(parts, fmt.Sprintf("false %d-%d-%d", e.Onset, e.Apex, e.Offset))
		}
	}
	return strings.Join(parts, "; ")
}

// measuredAUs are the AU numbers of a FACS code that tell measures.
func measuredAUs(code string) []int {
	if code == "" {
		return nil
	}
	c, err := facs.Parse(code)
	if err != nil {
		return nil
	}
	var out []int
	for _, a := range c.AUs() {
		if slices.Contains(au.AUs(), a.Number) && !slices.Contains(out, a.Number) {
			out = append(out, a.Number)
		}
	}
	sort.Ints(out)
	return out
}

// Print writes the score as name=value lines, spot_f1= last (the lines of
// `tell bench spot`).
func (sc *SpotScore) Print(w io.Writer) {
	fmt.Fprintf(w, "clips=%d\ntruth=%d\nspotted=%d\ntp=%d\nfp=%d\nfn=%d\n", sc.Clips, sc.Truth, sc.Spotted, sc.Spotting.TP, sc.Spotting.FP, sc.Spotting.FN)
	fmt.Fprintf(w, "precision=%.3f\nrecall=%.3f\n", sc.Spotting.Precision(), sc.Spotting.Recall())
	if n := len(sc.ApexErr); n > 0 {
		e := slices.Clone(sc.ApexErr)
		sort.Float64s(e)
		var sum float64
		within := 0
		for _, v := range e {
			sum += v
			if v <= 10 {
				within++
			}
		}
		med := e[n/2]
		if n%2 == 0 {
			med = (e[n/2-1] + e[n/2]) / 2
		}
		fmt.Fprintf(w, "apex_err_mean=%.1f\napex_err_median=%.1f\napex_within_10=%d/%d\n", sum/float64(n), med, within, n)
	}
	if sc.AUsN > 0 {
		fmt.Fprintf(w, "aus_hit=%d/%d\n", sc.AUsHit, sc.AUsN)
		fmt.Fprintf(w, "au_precision=%.3f\nau_recall=%.3f\n", ratio(sc.AUTP, sc.AUTP+sc.AUFP), ratio(sc.AUTP, sc.AUTP+sc.AUFN))
	}
	fmt.Fprintf(w, "seconds=%.1f\nspot_f1=%.3f\n", sc.Seconds, sc.Spotting.F1())
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}
