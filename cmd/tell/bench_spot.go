package main

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

// spotBenchmark is `tell bench spot TRUTH.csv`: spotting precision, recall
// and F1 at IoU ≥ 0.5 (MEGC's rule), apex error and AU agreement over a
// folder of clips with coded expressions.
func spotBenchmark() benchmark {
	return benchmark{
		name:    "spot",
		summary: "spotting on clips with coded onset/apex/offset (TRUTH.csv): precision, recall, F1 at IoU >= 0.5, apex error",
		run:     runSpotBenchmark,
	}
}

const spotBenchUsage = `usage: tell bench spot TRUTH.csv [--base 1|0] [--fps F] [--known] [--out DIR] [--clips]

Runs tell analyze on every clip of TRUTH.csv and scores the spotted
expressions against the coded ones. TRUTH.csv has a header and one row per
coded expression: clip (or video, or frames: a video file or a folder of
frames, relative to TRUTH.csv), onset, offset, and optionally apex, fps and
aus (the coded FACS string). A clip may have several rows; a row with empty
onset and offset lists a clip without expressions. tell synth's
manifest.csv is such a file.

Prints name=value lines, spot_f1= last:
  clips, truth, spotted   counts
  tp, fp, fn              matches at IoU >= 0.5, one to one (MEGC's rule;
                          counts pooled over clips)
  precision, recall, spot_f1
  apex_err_mean, apex_err_median, apex_within_10
                          |spotted apex - coded apex| in frames over the
                          matched expressions that have a coded apex
  aus_hit                 matched expressions whose coded AUs (those tell
                          measures) are all among the event's AUs
  au_precision, au_recall over those expressions, the event's AUs against
                          the coded ones (pooled)
  seconds                 wall time of the analyses

Flags:
  --base N     number of a clip's first frame in TRUTH.csv: 1 (frames.csv's
               and tell synth's, the default) or 0
  --fps F      frame rate for folders of frames without an fps column
               (default 30)
  --known      describe each coded interval (tell analyze --onset --offset
               --apex auto) instead of spotting: apex error and AUs with the
               timing given; clips with one coded expression only
  --out DIR    keep each clip's analysis in DIR/<clip> (default: discarded)
  --clips      one line per clip: coded and spotted intervals, IoU, AUs`

func runSpotBenchmark(ctx context.Context, env *environment, args []string) error {
	fs := newFlagSet("bench spot")
	base := fs.Int("base", 1, "")
	fps := fs.Float64("fps", 0, "")
	known := fs.Bool("known", false, "")
	out := fs.String("out", "", "")
	perClip := fs.Bool("clips", false, "")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageErrorf("want one TRUTH.csv argument, got %d\n\n%s", len(pos), spotBenchUsage)
	}
	if *base != 0 && *base != 1 {
		return usageErrorf("--base %d: want 1 or 0", *base)
	}
	if *fps != 0 && !(*fps > 0 && *fps <= spot.MaxFPS) {
		return usageErrorf("--fps %v: want a frame rate in (0, %d]", *fps, spot.MaxFPS)
	}
	rows, err := spot.ReadTruth(pos[0], *base)
	if err != nil {
		return err
	}
	// Clips in the order they first appear.
	var order []string
	byClip := map[string][]spot.Truth{}
	for _, t := range rows {
		if _, ok := byClip[t.Path]; !ok {
			order = append(order, t.Path)
		}
		if t.Onset > 0 {
			byClip[t.Path] = append(byClip[t.Path], t)
		} else if byClip[t.Path] == nil {
			byClip[t.Path] = []spot.Truth{}
		}
	}
	if *known {
		for _, c := range order {
			if len(byClip[c]) != 1 {
				return usageErrorf("--known: clip %s has %d coded expressions, want one", c, len(byClip[c]))
			}
		}
	}
	lm, err := analyze.NewFaceLandmarker("")
	if err != nil {
		return err
	}
	tmp := ""
	if *out == "" {
		if tmp, err = os.MkdirTemp("", "tell-bench-spot-"); err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
	}
	var sc spotScore
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	for i, c := range order {
		truth := byClip[c]
		rate := *fps
		for _, t := range rows {
			if t.Path == c && t.FPS > 0 {
				rate = t.FPS
			}
		}
		dir := filepath.Join(tmp, fmt.Sprintf("clip%05d", i))
		if *out != "" {
			dir = filepath.Join(*out, strings.TrimSuffix(filepath.Base(c), filepath.Ext(c)))
		}
		opt := analyze.Options{Out: dir, FPS: rate, Landmarker: lm, Log: quiet}
		if *known {
			t := truth[0]
			opt.Interval = &analyze.Interval{Onset: t.Onset, Apex: 0, Offset: t.Offset}
		}
		res, err := analyze.Run(ctx, c, opt)
		if err != nil && res == nil {
			return fmt.Errorf("%s: %w", c, err)
		}
		if err != nil {
			fmt.Fprintf(env.stderr, "tell bench spot: %s: %v\n", c, err)
		}
		line := sc.add(truth, res)
		if *perClip {
			fmt.Fprintf(env.stdout, "clip %s: %s\n", c, line)
		}
	}
	sc.print(env.stdout)
	return nil
}

// spotScore accumulates the benchmark's counts.
type spotScore struct {
	clips, truth, spotted int
	s                     metrics.Spotting
	apexErr               []float64
	ausHit, ausN          int
	auTP, auFP, auFN      int // over matched expressions with coded AUs
	seconds               float64
}

// add scores one clip and returns its one-line summary.
func (sc *spotScore) add(truth []spot.Truth, res *analyze.Result) string {
	sc.clips++
	sc.truth += len(truth)
	sc.spotted += len(res.Events)
	sc.seconds += res.ElapsedS
	var ti, si []metrics.Interval
	for _, t := range truth {
		ti = append(ti, metrics.Interval{Onset: t.Onset, Offset: t.Offset})
	}
	for _, e := range res.Events {
		si = append(si, metrics.Interval{Onset: e.Onset, Offset: e.Offset})
	}
	sc.s.AddVideo(ti, si)
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
			sc.apexErr = append(sc.apexErr, d)
			part += fmt.Sprintf(" apex err %.0f", d)
		}
		var got []string
		for _, a := range e.AUs {
			got = append(got, a.Side+fmt.Sprint(a.AU))
		}
		part += " AUs " + strings.Join(got, "+")
		if want := measuredAUs(t.AUs); len(want) > 0 {
			sc.ausN++
			hit := true
			for _, w := range want {
				if !slices.ContainsFunc(e.AUs, func(a analyze.EventAU) bool { return a.AU == w }) {
					hit = false
					sc.auFN++
				} else {
					sc.auTP++
				}
			}
			for _, a := range e.AUs {
				if !slices.Contains(want, a.AU) {
					sc.auFP++
				}
			}
			if hit {
				sc.ausHit++
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
		if slices.Contains(au.AUs, a.Number) && !slices.Contains(out, a.Number) {
			out = append(out, a.Number)
		}
	}
	sort.Ints(out)
	return out
}

func (sc *spotScore) print(w io.Writer) {
	fmt.Fprintf(w, "clips=%d\ntruth=%d\nspotted=%d\ntp=%d\nfp=%d\nfn=%d\n", sc.clips, sc.truth, sc.spotted, sc.s.TP, sc.s.FP, sc.s.FN)
	fmt.Fprintf(w, "precision=%.3f\nrecall=%.3f\n", sc.s.Precision(), sc.s.Recall())
	if n := len(sc.apexErr); n > 0 {
		e := slices.Clone(sc.apexErr)
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
	if sc.ausN > 0 {
		fmt.Fprintf(w, "aus_hit=%d/%d\n", sc.ausHit, sc.ausN)
		fmt.Fprintf(w, "au_precision=%.3f\nau_recall=%.3f\n", ratio(sc.auTP, sc.auTP+sc.auFP), ratio(sc.auTP, sc.auTP+sc.auFN))
	}
	fmt.Fprintf(w, "seconds=%.1f\nspot_f1=%.3f\n", sc.seconds, sc.s.F1())
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}
