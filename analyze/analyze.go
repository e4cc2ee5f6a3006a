// Package analyze is tell's main job: from an image, a folder of frames or a
// video to per-frame landmarks and AUs (frames.csv, OpenFace-compatible),
// spotted micro- and macro-expressions with emotions and AU-grounded chains
// of thought (events.json), and a report (report.html).
//
// Frames stream through: a face is found once (Landmarker), then followed
// by au's tracker against that neutral reference; spot closes intervals as
// they end; each event is recognised and explained from a sliding window of
// recent frames. Memory is that window plus a bounded timeline, whatever
// the video's length.
package analyze

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/tell-project/tell/atomicfile"
	"github.com/tell-project/tell/au"
	"github.com/tell-project/tell/cot"
	"github.com/tell-project/tell/flow"
	"github.com/tell-project/tell/raster"
	"github.com/tell-project/tell/report"
	"github.com/tell-project/tell/spot"
	"github.com/tell-project/tell/video"
)

// Landmarker finds one face and its 68 landmarks (iBUG order) in a frame;
// ok is false when there is no face.
type Landmarker interface {
	Landmarks(g *raster.Gray) (lm [68][2]float32, ok bool, err error)
}

// NeutralShaper is implemented by landmarkers that know a canonical neutral
// face (the landmark model's mean shape); single images are measured
// against it.
type NeutralShaper interface {
	NeutralShape() [68][2]float32
}

// Options configure a run.
type Options struct {
	Out        string       // output folder (created)
	FPS        float64      // frame rate for a folder of frames (default 30)
	Landmarker Landmarker   // required
	Reasoner   Reasoner     // default BuiltinReasoner
	Name       string       // reasoner name for the outputs; default "builtin"
	Log        *slog.Logger // default: discard
	// Progress, when set, is called after each frame with the frames done
	// and the total (-1 when unknown).
	Progress func(done, total int)
	// MaxImages bounds how many events keep face images in memory for the
	// report (default 200); later events are reported without pictures.
	MaxImages int
	// GeometryOnly turns off the dense-flow AU evidence (au.Estimator's
	// flow confirmation): AUs from landmark geometry alone, as before the
	// flow was fused in; for comparisons.
	GeometryOnly bool
	// MaxPixels is the pixel budget of one frame (default
	// video.DefaultMaxPixels): larger images and videos are refused before
	// they are decoded.
	MaxPixels int
}

// auFlowHz is how often per second of video the dense-flow AU evidence is
// computed: every frame at 30–60 fps, every 4th at 200 fps. An expression's
// apex phase lasts tens of milliseconds or more, so 50 Hz samples it.
const auFlowHz = 50

// newEstimator starts AU estimation against the neutral frame g.
func (r *run) newEstimator(g *raster.Gray, lm [68][2]float32) (*au.Estimator, error) {
	est, err := au.New(g, lm)
	if err != nil {
		return nil, err
	}
	if r.opt.GeometryOnly {
		est.SetFlowStride(0)
	} else {
		est.SetFlowStride(max(1, int(math.Round(r.fps/auFlowHz))))
	}
	return est, nil
}

// Status values of events.json.
const (
	StatusComplete = "complete"
	StatusPartial  = "partial"
)

// Result is the content of events.json.
type Result struct {
	Input    string   `json:"input"`
	Status   string   `json:"status"`
	Error    string   `json:"error,omitempty"`
	Notes    []string `json:"notes,omitempty"`
	FPS      float64  `json:"fps"`
	Frames   int      `json:"frames"`
	Tracked  int      `json:"tracked_frames"`
	Seconds  float64  `json:"duration_s"`
	Reasoner string   `json:"reasoner"`
	// FrameBase says how frames are numbered: as frames.csv's frame column,
	// starting at 1 (OpenFace's convention).
	FrameBase int     `json:"frame_base"`
	Events    []Event `json:"events"`
	// ElapsedS is the wall time of the analysis; FramesPerSecond the throughput.
	ElapsedS        float64 `json:"elapsed_s"`
	FramesPerSecond float64 `json:"frames_per_second"`
}

// Event is one spotted expression in events.json.
type Event struct {
	ID      int       `json:"id"`
	Onset   int       `json:"onset"`
	Apex    int       `json:"apex"`
	Offset  int       `json:"offset"`
	OnsetS  float64   `json:"onset_s"`
	ApexS   float64   `json:"apex_s"`
	OffsetS float64   `json:"offset_s"`
	Kind    string    `json:"kind"` // micro or macro
	Peak    float64   `json:"peak"` // spotting signal at the apex
	AUs     []EventAU `json:"aus"`
	// Emotions are class probabilities: the prototype-match prior of the
	// AUs, or a trained model's when one labels the events.
	Emotions   map[string]float64 `json:"emotions"`
	Label      string             `json:"label"`
	Confidence float64            `json:"confidence"`
	CoT        cot.CoT            `json:"cot"`
}

// ErrNoFace is returned when no frame had a face.
var ErrNoFace = errors.New("no face found")

// cropSize is the side of the aligned face crops kept per frame.
const cropSize = 96

// frameRec is what the sliding window keeps per frame.
type frameRec struct {
	both, right, left []float32
	crop              []uint8
	ok                bool
}

// run is the state of one analysis.
type run struct {
	opt     Options
	log     *slog.Logger
	fps     float64
	res     *Result
	rep     *report.Report
	ring    []frameRec
	csv     *bufio.Writer
	csvFile *os.File
	line    []byte
	tl      *report.Timeline
	images  int
	lost    []lostSpan
	nLost   int
	overlay *flow.TVL1 // onset→apex flow for event images, made at the first event
}

type lostSpan struct{ from, to int }

// Run analyses the file or folder at input.
func Run(ctx context.Context, input string, opt Options) (*Result, error) {
	src, err := OpenSource(ctx, input, video.Options{FPS: opt.FPS, MaxPixels: opt.MaxPixels})
	if err != nil {
		// Still write the (empty) outputs, marked partial with the reason,
		// so that a batch over many files leaves a trace for each.
		src = errSource{err}
	}
	defer src.Close()
	return RunSource(ctx, src, input, opt)
}

// errSource fails at once with the error that kept the input from opening.
type errSource struct{ err error }

func (s errSource) Next(context.Context) (*raster.Gray, error) { return nil, s.err }
func (s errSource) FPS() float64                               { return 0 }
func (s errSource) Frames() int                                { return -1 }
func (s errSource) Close() error                               { return nil }

// RunSource analyses frames from src; input names it in the outputs. The
// outputs are written even when the run fails part-way: their status is
// then "partial" and the returned error says why.
func RunSource(ctx context.Context, src Source, input string, opt Options) (*Result, error) {
	if opt.Landmarker == nil {
		return nil, fmt.Errorf("analyze: no landmarker")
	}
	if opt.Reasoner == nil {
		opt.Reasoner = BuiltinReasoner{}
		opt.Name = "builtin"
	}
	if opt.Name == "" {
		opt.Name = "custom"
	}
	if opt.MaxImages <= 0 {
		opt.MaxImages = 200
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if err := os.MkdirAll(opt.Out, 0o755); err != nil {
		return nil, fmt.Errorf("output folder: %w", err)
	}
	r := &run{opt: opt, log: opt.Log, fps: src.FPS()}
	single := src.Frames() == 1 && r.fps == 0
	if r.fps <= 0 {
		r.fps = 30
	}
	r.res = &Result{Input: input, FPS: r.fps, Reasoner: opt.Name, FrameBase: 1, Events: []Event{}}
	r.tl = report.NewTimeline(len(au.AUs), 1200)
	r.rep = &report.Report{Title: "tell analysis: " + filepath.Base(input), Input: input, FPS: r.fps, Reasoner: opt.Name, AUs: au.AUs, Timeline: r.tl}
	f, err := os.CreateTemp(opt.Out, ".frames-*.csv")
	if err != nil {
		return nil, fmt.Errorf("output: %w", err)
	}
	r.csvFile, r.csv = f, bufio.NewWriterSize(f, 1<<16)
	r.writeHeader()
	start := time.Now()
	var runErr error
	if single {
		runErr = r.single(ctx, src)
	} else {
		runErr = r.stream(ctx, src)
	}
	r.res.ElapsedS = math.Round(time.Since(start).Seconds()*1000) / 1000
	if r.res.ElapsedS > 0 {
		r.res.FramesPerSecond = math.Round(float64(r.res.Frames)/r.res.ElapsedS*10) / 10
	}
	return r.res, r.finish(runErr)
}

// stream runs the video path.
func (r *run) stream(ctx context.Context, src Source) error {
	sp, err := spot.New(spot.Options{FPS: r.fps})
	if err != nil {
		return err
	}
	window := int(math.Ceil(10*r.fps)) + 8
	r.ring = make([]frameRec, window)
	n := len(au.AUs)
	for i := range r.ring {
		r.ring[i] = frameRec{both: make([]float32, n), right: make([]float32, n), left: make([]float32, n), crop: make([]uint8, cropSize*cropSize)}
	}
	var est *au.Estimator
	var m au.Measurement
	zero := make([]float32, n)
	redetect := max(1, int(r.fps/5))
	lostRun, sinceSearch := 0, redetect
	total := src.Frames()
	for idx := 0; ; idx++ {
		g, err := src.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			r.flush(sp, idx-1)
			if _, ok := src.(errSource); ok {
				return err
			}
			return fmt.Errorf("frame %d: %w", idx+1, err)
		}
		if est == nil && sinceSearch >= redetect {
			sinceSearch = 0
			lm, ok, err := r.opt.Landmarker.Landmarks(g)
			if err != nil {
				return fmt.Errorf("frame %d: face detection: %w", idx+1, err)
			}
			if ok {
				est, err = r.newEstimator(g, lm)
				if err != nil {
					r.log.Warn("face found but unusable", "frame", idx+1, "err", err)
					est = nil
				} else {
					r.log.Info("face found; neutral reference set", "frame", idx+1, "iod_px", math.Round(est.IOD()*10)/10)
				}
			}
		}
		sinceSearch++
		ok := false
		if est != nil {
			err := est.Measure(g, &m)
			ok = err == nil
			if ok {
				lostRun = 0
				// A quiet face whose head has moved far from the reference
				// gets a fresh reference, so hours of slow drift do not
				// accumulate into false AUs.
				if !sp.Open() && drifted(&m) {
					if lm, found, _ := r.opt.Landmarker.Landmarks(g); found {
						if e2, err := r.newEstimator(g, lm); err == nil {
							est = e2
							r.log.Info("reference renewed after head movement", "frame", idx+1)
						}
					}
				}
			} else {
				lostRun++
				if lostRun > int(r.fps/2) {
					r.log.Warn("face lost", "frame", idx+1)
					est, sinceSearch = nil, redetect
				}
			}
		}
		rec := &r.ring[idx%len(r.ring)]
		rec.ok = ok
		if ok {
			copy(rec.both, m.Intensity)
			copy(rec.right, m.Right)
			copy(rec.left, m.Left)
			est.Crop(g, cropSize, rec.crop)
			r.res.Tracked++
		} else {
			copy(rec.both, zero)
			copy(rec.right, zero)
			copy(rec.left, zero)
			r.markLost(idx)
		}
		r.writeRow(idx, ok, &m)
		sig := float32(0)
		if ok {
			sig = m.Expression
			r.tl.Add(m.Intensity, sig, true)
		} else {
			r.tl.Add(zero, 0, false)
		}
		r.res.Frames = idx + 1
		for _, iv := range sp.Push(idx, float64(sig), ok) {
			r.event(ctx, iv, idx)
		}
		if r.opt.Progress != nil {
			r.opt.Progress(idx+1, total)
		}
	}
	r.flush(sp, r.res.Frames-1)
	if r.res.Frames == 0 {
		return fmt.Errorf("no frames could be read")
	}
	if r.res.Tracked == 0 {
		return fmt.Errorf("%w in any of %d frames", ErrNoFace, r.res.Frames)
	}
	return nil
}

func (r *run) flush(sp *spot.Spotter, last int) {
	for _, iv := range sp.Flush() {
		r.event(context.Background(), iv, last)
	}
}

// drifted reports a head far from its reference pose.
func drifted(m *au.Measurement) bool {
	return math.Abs(float64(m.Scale)-1) > 0.1 || math.Abs(float64(m.Rotation)) > 0.15
}

func (r *run) markLost(idx int) {
	if n := len(r.lost); n > 0 && r.lost[n-1].to == idx-1 {
		r.lost[n-1].to = idx
		return
	}
	r.nLost++
	if len(r.lost) < 50 {
		r.lost = append(r.lost, lostSpan{idx, idx})
	}
}

// event recognises and explains one interval; last is the newest frame.
func (r *run) event(ctx context.Context, iv spot.Interval, last int) {
	oldest := max(0, last-len(r.ring)+1)
	on, off := max(iv.Onset, oldest), min(iv.Offset, last)
	apex := min(max(iv.Apex, on), off)
	n := len(au.AUs)
	b, rt, lt := make([]float32, n), make([]float32, n), make([]float32, n)
	for f := on; f <= off; f++ {
		rec := &r.ring[f%len(r.ring)]
		for i := 0; i < n; i++ {
			b[i] = max(b[i], rec.both[i])
			rt[i] = max(rt[i], rec.right[i])
			lt[i] = max(lt[i], rec.left[i])
		}
	}
	aus := peakAUs(b, rt, lt)
	e := Event{
		ID: len(r.res.Events) + 1, Onset: iv.Onset + 1, Apex: iv.Apex + 1, Offset: iv.Offset + 1,
		OnsetS: round3(float64(iv.Onset) / r.fps), ApexS: round3(float64(iv.Apex) / r.fps), OffsetS: round3(float64(iv.Offset) / r.fps),
		Kind: iv.Kind, Peak: round3(iv.Peak), AUs: aus, Emotions: emotionScores(aus),
	}
	var onsetPNG, apexPNG, flowPNG []byte
	ro, ra := &r.ring[on%len(r.ring)], &r.ring[apex%len(r.ring)]
	var images []image.Image
	if ro.ok && ra.ok {
		imgs := r.eventImages(ctx, ro.crop, ra.crop, cropSize)
		images = imgs.list()
		if r.images < r.opt.MaxImages {
			onsetPNG, apexPNG, flowPNG = imgs.png()
			r.images++
		}
	}
	ev := evidence(aus, e.OnsetS, e.ApexS, e.OffsetS)
	var c cot.CoT
	var err error
	if sr, ok := r.opt.Reasoner.(ScoringReasoner); ok {
		var probs map[string]float64
		c, probs, err = sr.ReasonScores(ctx, ev, images)
		if err == nil {
			e.Emotions = probs
		}
	} else {
		c, err = r.opt.Reasoner.Reason(ctx, ev, images)
	}
	if err != nil {
		r.log.Warn("reasoner failed; built-in used", "event", e.ID, "err", err)
		c, err = BuiltinReasoner{}.Reason(ctx, ev, nil)
	}
	if err == nil {
		e.CoT = c
		e.Label, e.Confidence = c.Conclusion.Label, c.Conclusion.Confidence
	}
	r.res.Events = append(r.res.Events, e)
	r.log.Debug("expression spotted", "id", e.ID, "onset", e.Onset, "offset", e.Offset, "kind", e.Kind, "label", e.Label)
	ra2 := make([]report.AU, len(aus))
	for i, a := range aus {
		ra2[i] = report.AU{AU: a.AU, Name: a.Name, Side: a.Side, Intensity: a.Intensity, Letter: a.Letter}
	}
	r.rep.Events = append(r.rep.Events, report.Event{
		ID: e.ID, Onset: e.Onset, Apex: e.Apex, Offset: e.Offset, OnsetS: e.OnsetS, OffsetS: e.OffsetS,
		Kind: e.Kind, Label: e.Label, Confidence: e.Confidence, AUs: ra2, Emotions: e.Emotions, CoT: e.CoT.Text,
		OnsetPNG: onsetPNG, ApexPNG: apexPNG, FlowPNG: flowPNG,
	})
}

// writeHeader writes frames.csv's OpenFace-style header.
func (r *run) writeHeader() {
	b := []byte("frame,timestamp,face_id,confidence,success")
	for i := 0; i < 68; i++ {
		b = append(b, ",x_"...)
		b = strconv.AppendInt(b, int64(i), 10)
	}
	for i := 0; i < 68; i++ {
		b = append(b, ",y_"...)
		b = strconv.AppendInt(b, int64(i), 10)
	}
	for _, a := range au.AUs {
		b = append(b, fmt.Sprintf(",AU%02d_r", a)...)
	}
	for _, a := range au.AUs {
		b = append(b, fmt.Sprintf(",AU%02d_c", a)...)
	}
	b = append(b, '\n')
	r.csv.Write(b)
}

// writeRow appends frame idx; a frame without a face has success 0 and
// zero landmarks and AUs, as OpenFace writes it.
func (r *run) writeRow(idx int, ok bool, m *au.Measurement) {
	b := r.line[:0]
	b = strconv.AppendInt(b, int64(idx+1), 10)
	b = append(b, ',')
	b = strconv.AppendFloat(b, float64(idx)/r.fps, 'f', 4, 64)
	b = append(b, ",0,"...)
	if ok {
		b = strconv.AppendFloat(b, float64(m.Confidence), 'f', 2, 32)
		b = append(b, ",1"...)
	} else {
		b = append(b, "0.00,0"...)
	}
	for c := 0; c < 2; c++ {
		for i := 0; i < 68; i++ {
			b = append(b, ',')
			if ok {
				b = strconv.AppendFloat(b, float64(m.Landmarks[i][c]), 'f', 2, 32)
			} else {
				b = append(b, '0')
			}
		}
	}
	for i := range au.AUs {
		b = append(b, ',')
		if ok {
			b = strconv.AppendFloat(b, float64(m.Intensity[i]), 'f', 2, 32)
		} else {
			b = append(b, '0')
		}
	}
	for i := range au.AUs {
		if ok && m.Present[i] {
			b = append(b, ",1"...)
		} else {
			b = append(b, ",0"...)
		}
	}
	b = append(b, '\n')
	r.csv.Write(b)
	r.line = b
}

// finish writes the three outputs, marking them partial when runErr is set.
func (r *run) finish(runErr error) error {
	if r.overlay != nil {
		r.overlay.Close()
	}
	res := r.res
	res.Status = StatusComplete
	res.Seconds = round3(float64(res.Frames) / r.fps)
	if runErr != nil {
		res.Status = StatusPartial
		res.Error = runErr.Error()
	}
	if r.nLost > 0 && res.Tracked > 0 {
		note := fmt.Sprintf("no face tracked in %d stretch(es) of frames, %d frames in all", r.nLost, res.Frames-res.Tracked)
		if len(r.lost) > 0 {
			note += fmt.Sprintf("; first: frames %d–%d", r.lost[0].from+1, r.lost[0].to+1)
		}
		res.Notes = append(res.Notes, note)
	}
	r.rep.Status, r.rep.Error, r.rep.Notes, r.rep.Frames = res.Status, res.Error, res.Notes, res.Frames
	var errs []error
	if runErr != nil {
		errs = append(errs, runErr)
	}
	// frames.csv: flush the streamed rows and move into place.
	if err := r.csv.Flush(); err != nil {
		errs = append(errs, fmt.Errorf("frames.csv: %w", err))
	}
	if err := r.csvFile.Close(); err != nil {
		errs = append(errs, fmt.Errorf("frames.csv: %w", err))
	}
	os.Chmod(r.csvFile.Name(), 0o644)
	if err := os.Rename(r.csvFile.Name(), filepath.Join(r.opt.Out, "frames.csv")); err != nil {
		errs = append(errs, fmt.Errorf("frames.csv: %w", err))
	}
	if err := writeJSON(filepath.Join(r.opt.Out, "events.json"), res); err != nil {
		errs = append(errs, err)
	}
	if err := atomicfile.Write(filepath.Join(r.opt.Out, "report.html"), func(w io.Writer) error { return report.Write(w, r.rep) }); err != nil {
		errs = append(errs, err)
	}
	if runErr != nil {
		return fmt.Errorf("%w (partial outputs written to %s, marked \"partial\")", errors.Join(errs...), r.opt.Out)
	}
	return errors.Join(errs...)
}
