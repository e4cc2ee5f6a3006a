package eval

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tell-project/tell/appearance"
	"github.com/tell-project/tell/atomicfile"
	"github.com/tell-project/tell/dataset"
	"github.com/tell-project/tell/facs"
	"github.com/tell-project/tell/metrics"
	"github.com/tell-project/tell/raster"
	"github.com/tell-project/tell/video"
)

// Face framings for Appearance.
const (
	FaceFull  = "full"   // the image is the face crop, given whole (as the TF.js peer does); tell analyze's --face full
	FaceWhole = FaceFull // Deprecated: the old name of FaceFull
	FaceAuto  = "auto"   // appearance.FaceRegion from the landmarks; whole when no face is found
)

// AppearanceOptions configure Appearance.
type AppearanceOptions struct {
	Net      *appearance.Net
	Manifest string // manifest CSV with an image column
	Out      string // folder for metrics.json, predictions.csv, errors.txt
	// Face is FaceFull (default) or FaceAuto; FaceAuto needs Landmarks.
	Face      string
	Landmarks func(g *raster.Gray) ([68][2]float32, bool, error)
	Bootstrap int    // resamples for the intervals (0: none)
	Seed      uint64 // bootstrap seed
	MaxPixels int    // pixel budget per image (0: video.DefaultMaxPixels)
	Log       *slog.Logger
	Progress  func(done, total int)
}

// AppearanceResult is what Appearance measured.
type AppearanceResult struct {
	Report    metrics.Report
	Classes   []string
	RowErrors []string // rows left out, with the reason
}

// Appearance scores the pretrained appearance net zero-shot on a still-image manifest:
// each row's image (the face crop, given whole by default) is classified
// and compared with its label. The classes are the manifest's labels: the
// net's classes that the task has, or, for a three-class manifest
// (negative, positive, surprise), the sums of the net's classes in each
// (anger, disgust, fear, sadness → negative; happiness → positive;
// surprise). The net's other classes (neutral, and any the task lacks)
// stay answers of their own: a face the net reads as 96% neutral is
// predicted neutral, a miss, never the task class with the largest
// remainder (metrics.NewEvaluationOutside: UF1 and UAR average over the
// task's classes). Rows whose label the net cannot express, or whose
// image cannot be read, are left out and listed. Writes Out/metrics.json
// (accuracy, UF1, UAR, with bootstrap intervals resampling subjects),
// Out/predictions.csv (sample, label, pred, then score_CLASS for every
// class of the net, neutral included) and Out/errors.txt.
func Appearance(ctx context.Context, opt AppearanceOptions) (*AppearanceResult, error) {
	if opt.Net == nil {
		return nil, fmt.Errorf("eval: appearance: no net")
	}
	switch opt.Face {
	case "":
		opt.Face = FaceFull
	case FaceFull:
	case FaceAuto:
		if opt.Landmarks == nil {
			return nil, fmt.Errorf("eval: appearance: face %q needs a landmarker", opt.Face)
		}
	default:
		return nil, fmt.Errorf("eval: appearance: face %q: want %s or %s", opt.Face, FaceFull, FaceAuto)
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	m, err := dataset.Read(opt.Manifest)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	classes, mapping, err := taskClasses(m.Samples)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", opt.Manifest, err)
	}
	// The net's classes outside the task keep their own answer.
	var outside []string
	for _, l := range appearance.Labels() {
		if mapping[l] == "" {
			outside = append(outside, l)
			mapping[l] = l
		}
	}
	answers := append(slices.Clone(classes), outside...)
	ev, err := metrics.NewEvaluationOutside("zero-shot", classes, outside)
	if err != nil {
		return nil, err
	}
	var truth, pred []int
	var conf []float64
	var subjects, datasets []string
	var rowErrs []string
	var preds strings.Builder
	preds.WriteString("sample,label,pred")
	for _, l := range appearance.Labels() {
		preds.WriteString(",score_" + l)
	}
	preds.WriteString("\n")
	for i := range m.Samples {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		s := &m.Samples[i]
		if opt.Progress != nil {
			opt.Progress(i, len(m.Samples))
		}
		ti := slices.Index(classes, facs.Emotion(s.Label))
		if ti < 0 {
			rowErrs = append(rowErrs, fmt.Sprintf("line %d (%s): label %q: the model has no such class", s.Line, s.ID, s.Label))
			continue
		}
		if s.Image == "" {
			rowErrs = append(rowErrs, fmt.Sprintf("line %d (%s): no image", s.Line, s.ID))
			continue
		}
		p, err := opt.classify(s.Image)
		if err != nil {
			rowErrs = append(rowErrs, fmt.Sprintf("line %d (%s): %v", s.Line, s.ID, err))
			continue
		}
		scores := make([]float64, len(answers))
		for k, c := range answers {
			for j, l := range appearance.Labels() {
				if mapping[l] == c {
					scores[k] += float64(p[j])
				}
			}
		}
		best, sum := 0, 0.0
		for k, v := range scores {
			sum += v
			if v > scores[best] {
				best = k
			}
		}
		// The stated confidence: the net's probability of its answer (a
		// task class's sum, or a class of its own such as neutral) over
		// all its classes (ECE in metrics.json).
		c := 0.0
		if sum > 0 {
			c = min(1, scores[best]/sum)
		}
		truth, pred, conf = append(truth, ti), append(pred, best), append(conf, c)
		subjects, datasets = append(subjects, s.Subject), append(datasets, s.Dataset)
		fmt.Fprintf(&preds, "%s,%s,%s", csvField(s.ID), csvField(classes[ti]), answers[best])
		for _, v := range p {
			preds.WriteString("," + strconv.FormatFloat(float64(v), 'f', 6, 64))
		}
		preds.WriteString("\n")
	}
	if opt.Progress != nil {
		opt.Progress(len(m.Samples), len(m.Samples))
	}
	if len(truth) == 0 {
		return nil, fmt.Errorf("%s: no row could be scored (%d left out; first: %s)", opt.Manifest, len(rowErrs), first(rowErrs))
	}
	if err := ev.AddFoldScored(subjectList(subjects), truth, pred, subjects, datasets, conf); err != nil {
		return nil, err
	}
	rep, err := ev.Report(time.Since(start).Seconds(), opt.Bootstrap, opt.Seed)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(opt.Out, 0o755); err != nil {
		return nil, fmt.Errorf("output folder: %w", err)
	}
	if err := metrics.WriteJSON(filepath.Join(opt.Out, "metrics.json"), rep); err != nil {
		return nil, err
	}
	if err := atomicfile.Write(filepath.Join(opt.Out, "predictions.csv"), func(w io.Writer) error {
		_, err := io.WriteString(w, preds.String())
		return err
	}); err != nil {
		return nil, err
	}
	errPath := filepath.Join(opt.Out, "errors.txt")
	if len(rowErrs) > 0 {
		if err := atomicfile.Write(errPath, func(w io.Writer) error {
			_, err := io.WriteString(w, strings.Join(rowErrs, "\n")+"\n")
			return err
		}); err != nil {
			return nil, err
		}
	} else {
		os.Remove(errPath)
	}
	return &AppearanceResult{Report: rep, Classes: classes, RowErrors: rowErrs}, nil
}

// classify reads one image and runs the net on it, framed as opt.Face says.
func (opt *AppearanceOptions) classify(path string) (appearance.Probs, error) {
	rgb, err := video.ReadRGB(path, opt.MaxPixels)
	if err != nil {
		return appearance.Probs{}, err
	}
	reg := opt.Net.WholeImage(rgb.W, rgb.H)
	if opt.Face == FaceAuto {
		lm, ok, err := opt.Landmarks(rgb.Gray())
		if err != nil {
			return appearance.Probs{}, fmt.Errorf("face detection: %w", err)
		}
		if ok {
			reg, _ = appearance.FaceRegion(opt.Net, &lm, rgb.W, rgb.H)
		}
	}
	return opt.Net.Predict(rgb, reg)
}

// taskClasses returns the classes of a manifest's labels and the map from
// the net's labels to them ("" for a label that maps to none).
func taskClasses(samples []dataset.Sample) ([]string, map[string]string, error) {
	seen := map[string]bool{}
	var labels []string
	for i := range samples {
		l := facs.Emotion(samples[i].Label)
		if l != "" && !seen[l] {
			seen[l] = true
			labels = append(labels, l)
		}
	}
	slices.Sort(labels)
	if len(labels) < 2 {
		return nil, nil, fmt.Errorf("%d distinct labels; a classification needs at least 2", len(labels))
	}
	mapping := map[string]string{}
	three := true
	for _, l := range labels {
		if l != facs.Negative && l != facs.Positive && l != facs.Surprise {
			three = false
		}
	}
	if three {
		for _, l := range appearance.Labels() {
			if c, ok := facs.ThreeClass(l, ""); ok && seen[c] {
				mapping[l] = c
			}
		}
		return labels, mapping, nil
	}
	var classes []string
	for _, l := range labels {
		if slices.Contains(appearance.Labels(), l) {
			classes = append(classes, l)
			mapping[l] = l
		}
	}
	if len(classes) < 2 {
		return nil, nil, fmt.Errorf("labels %v: fewer than 2 of them are classes of the model (%v)", labels, appearance.Labels())
	}
	return classes, mapping, nil
}

func subjectList(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return slices.Compact(out)
}

func first(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return s[0]
}

// csvField quotes a field that needs it.
func csvField(s string) string {
	if strings.ContainsAny(s, ",\"\n\r") {
		return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
	}
	return s
}

// Print writes the result as name=value lines (tell eval --appearance):
// the model, classes, n, UF1 and UAR with their intervals, accuracy, ECE,
// the rows left out and where metrics.json is (in out).
func (r *AppearanceResult) Print(w io.Writer, model, out string) {
	rep := r.Report
	fmt.Fprintf(w, "model=%s\nclasses=%s\nn=%d\n", model, strings.Join(r.Classes, ","), rep.N)
	ci := func(c *metrics.CI) string {
		if c == nil {
			return ""
		}
		return fmt.Sprintf(" [%.4f, %.4f]", c.Lo, c.Hi)
	}
	fmt.Fprintf(w, "uf1=%.4f%s\nuar=%.4f%s\naccuracy=%.4f\n", rep.UF1, ci(rep.UF1CI), rep.UAR, ci(rep.UARCI), rep.Accuracy)
	if rep.ECE != nil {
		fmt.Fprintf(w, "ece=%.4f\n", *rep.ECE)
	}
	if len(r.RowErrors) > 0 {
		fmt.Fprintf(w, "rows_left_out=%d (see %s)\n", len(r.RowErrors), filepath.Join(out, "errors.txt"))
	}
	fmt.Fprintf(w, "metrics=%s\n", filepath.Join(out, "metrics.json"))
}
