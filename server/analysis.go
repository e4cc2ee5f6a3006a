package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"sync"

	"github.com/tell-project/tell/analyze"
	"github.com/tell-project/tell/appearance"
	"github.com/tell-project/tell/face"
	"github.com/tell-project/tell/gaze"
	"github.com/tell-project/tell/models"
	"github.com/tell-project/tell/profile"
	"github.com/tell-project/tell/queue"
	"github.com/tell-project/tell/raster"
	"github.com/tell-project/tell/video"
)

// Input is what an AnalyzeFunc analyses.
type Input struct {
	// Path is the file or folder on local disk; Name is what the outputs
	// call it, so that no path of the machine that runs it appears there.
	Path, Name string
	// Budget bounds a video's frames and duration (checked from its
	// header, then while it streams).
	Budget Budget
	// Work is the job's budget of decoded pixel-frames (0: Budget's
	// JobWork): decoding stops with ErrOverBudget past it.
	Work int64
	// Memory, when set, is reserved from before a video is decoded
	// (images and folders are reserved for by Analysis.Handle).
	Memory *Memory
}

// ErrOverBudget is returned (wrapped) when a job decodes more pixel-frames
// than its budget: the job fails with an error starting "over budget".
var ErrOverBudget = errors.New("over budget")

// overBudget is the error a job fails with past its budget.
type overBudget struct{ msg string }

func (e *overBudget) Error() string        { return e.msg }
func (e *overBudget) Is(target error) bool { return target == ErrOverBudget }

func overBudgetf(format string, args ...any) error {
	return &overBudget{"over budget: " + fmt.Sprintf(format, args...)}
}

// AnalyzeFunc runs one analysis of in into opt.Out. RunAnalysis is the
// default; tests and embedders may substitute their own.
type AnalyzeFunc func(ctx context.Context, in Input, opt analyze.Options) (*analyze.Result, error)

// Analysis runs tell's analysis for queue workers: tell serve's local
// workers and tell worker.
type Analysis struct {
	// Landmarker makes the landmarker the jobs share; it is called at the
	// first job and again at later jobs until it succeeds, so a model file
	// installed after start-up is picked up without a restart (default
	// analyze.NewFaceLandmarker("")).
	Landmarker func() (analyze.Landmarker, error)
	// Analyze runs a job (default RunAnalysis).
	Analyze AnalyzeFunc
	// Budget is checked again before decoding, whoever submitted the job.
	Budget Budget
	// Memory is the process's byte budget that each job reserves its
	// estimate from before it decodes (nil: none).
	Memory *Memory
	// Log receives job logs (default: discard).
	Log *slog.Logger

	once    sync.Once
	loader  *loader
	nets    chan *appearance.Net // loaded appearance nets not in use
	gazes   chan *gaze.Net       // loaded iris models not in use
	facesMu sync.Mutex
	faces   *face.MultiFinder // BlazeFace over the landmarker, shared by jobs
}

func (a *Analysis) init() {
	a.once.Do(func() {
		if a.Landmarker == nil {
			a.Landmarker = func() (analyze.Landmarker, error) { return analyze.NewFaceLandmarker("") }
		}
		if a.Analyze == nil {
			a.Analyze = RunAnalysis
		}
		if a.Log == nil {
			a.Log = slog.New(slog.DiscardHandler)
		}
		a.loader = &loader{load: a.Landmarker}
		a.nets = make(chan *appearance.Net, 64)
		a.gazes = make(chan *gaze.Net, 64)
	})
}

// Handle is a queue.Handler: it checks the budget, analyses the input and
// returns the job's Summary. A run that ends partial (the input broke off,
// no face was found) fails the job: its outputs are still kept.
func (a *Analysis) Handle(ctx context.Context, t *queue.Task) (json.RawMessage, error) {
	switch t.Job.Kind {
	case "image", "video", "frames":
	default:
		// A training job, or a kind of a later build: another worker's.
		return nil, fmt.Errorf("%w: %q", queue.ErrNotHandled, t.Job.Kind)
	}
	a.init()
	name := t.Job.Name
	scrub := func(err error) error { return scrubPaths(err, t.Input, name) }
	budget := a.Budget.withDefaults()
	// The job's own budget, as the server set it, and never more than
	// this worker allows.
	work := budget.JobWork
	if t.Job.Work > 0 {
		work = min(work, t.Job.Work)
	}
	// Images and folders are checked here from their headers, and their
	// memory reserved; a video's from the probe RunAnalysis makes anyway
	// (no second ffprobe).
	if t.Job.Kind != "video" {
		e, err := budget.check(ctx, t.Input, t.Job.Kind, name, t.Job.FPS, a.Memory)
		if err != nil {
			return nil, scrub(err)
		}
		release, err := a.Memory.Reserve(ctx, e.Bytes)
		if err != nil {
			return nil, scrub(err)
		}
		defer a.Memory.releaseLarge(release, e.Bytes)
	}
	lm, err := a.loader.get()
	if err != nil {
		// The error names the model's path on this machine.
		a.Log.Error("landmark model", "err", err)
		return nil, errors.New("the landmark model could not be loaded on the worker (its log says why)")
	}
	opt := analyze.Options{Out: t.Out, Scratch: true, Landmarker: lm, FPS: t.Job.FPS, Log: a.Log.With("job", t.Job.ID), Progress: t.Progress,
		MaxPixels: int(min(a.Budget.withDefaults().MaxPixels, math.MaxInt32))}
	// The appearance net as tell analyze uses it by default (face-api, from
	// the models folder of $TELL_MODELS). A net is not safe for concurrent
	// use, and loading one takes about as long as analysing a small image,
	// so nets are kept in a pool: one per job running at once.
	net, note := a.appearanceNet()
	if net != nil {
		defer a.putNet(net)
	}
	opt.Appearance, opt.AppearanceNote = net, note
	// Several faces, as tell analyze has them by default.
	opt.Faces = a.multiFinder(lm)
	// Gaze, as tell analyze writes it by default (a Net is not safe for
	// concurrent use: one per job running at once, as the nets).
	if g := a.gazeNet(); g != nil {
		defer a.putGaze(g)
		opt.Gaze = g
	}
	// The stage profile goes into the summary and /metrics: it costs a
	// clock read per stage and changes no output.
	opt.Profile = profile.New()
	res, err := a.Analyze(ctx, Input{Path: t.Input, Name: name, Budget: budget, Work: work, Memory: a.Memory}, opt)
	var sum *Summary
	if res != nil {
		sum = &Summary{Status: res.Status, Frames: res.Frames, Tracked: res.Tracked, Events: len(res.Events), FramesPerSecond: res.FramesPerSecond}
		for _, st := range opt.Profile.Stages() {
			if st.CPU > 0 {
				if sum.StageCPU == nil {
					sum.StageCPU = map[string]float64{}
				}
				sum.StageCPU[st.Stage.String()] = math.Round(st.CPU.Seconds()*1e6) / 1e6
			}
		}
		for _, e := range res.Events {
			sum.Labels = append(sum.Labels, e.Label)
		}
		t.Progress(res.Frames, max(res.Frames, 0))
		if err == nil && res.Status != analyze.StatusComplete {
			err = fmt.Errorf("the analysis is %s: %s", res.Status, res.Error)
		}
	}
	var b json.RawMessage
	if sum != nil {
		b, _ = json.Marshal(sum)
	}
	// A job stopped for its budget says so first (the result too: its
	// outputs are marked partial with the same words).
	var ob *overBudget
	if errors.As(err, &ob) {
		err = ob
	}
	if err != nil {
		return b, scrub(err)
	}
	return b, nil
}

// appearanceNet takes a loaded net from the pool or loads one; without the
// models the job runs on the AUs and note says why (with no server path:
// it goes into events.json). A failed load is not kept: models installed
// later are found by the next job.
func (a *Analysis) appearanceNet() (*appearance.Net, string) {
	select {
	case net := <-a.nets:
		return net, ""
	default:
	}
	root := models.Root("")
	net, note, err := analyze.LoadAppearance(root, models.FaceAPI().Name)
	if err != nil {
		net, note = nil, err.Error()
	}
	if root != "" {
		note = strings.ReplaceAll(note, root, "the server's models folder")
	}
	return net, note
}

// multiFinder returns the jobs' shared MultiFinder over lm (nil when lm is
// not tell's FaceLandmarker or BlazeFace is not installed: one face).
func (a *Analysis) multiFinder(lm analyze.Landmarker) *face.MultiFinder {
	fl, ok := lm.(*analyze.FaceLandmarker)
	if !ok {
		return nil
	}
	a.facesMu.Lock()
	defer a.facesMu.Unlock()
	if a.faces == nil {
		if mf, _, err := fl.Faces(models.Root("")); err == nil {
			a.faces = mf
		}
	}
	return a.faces
}

// gazeNet takes a loaded iris model from the pool or loads one; nil when
// it is not installed (the job's frames.csv then has no gaze columns). A
// failed load is not kept: a model installed later is found by the next job.
func (a *Analysis) gazeNet() *gaze.Net {
	select {
	case g := <-a.gazes:
		return g
	default:
	}
	g, err := gaze.Load(models.Root(""))
	if err != nil {
		if !errors.Is(err, models.ErrNotInstalled) {
			a.Log.Warn("gaze model", "err", err)
		}
		return nil
	}
	return g
}

func (a *Analysis) putGaze(g *gaze.Net) {
	select {
	case a.gazes <- g:
	default:
	}
}

func (a *Analysis) putNet(net *appearance.Net) {
	select {
	case a.nets <- net:
	default:
	}
}

// RunAnalysis is analyze.Run with the input's display name in the outputs
// and in errors instead of its path, and a video held to in.Budget: its
// frame count and duration as probed, then the frames it really yields.
func RunAnalysis(ctx context.Context, in Input, opt analyze.Options) (*analyze.Result, error) {
	if err := analyze.CheckOutput(opt.Out, opt.Force); err != nil {
		return nil, err
	}
	b := in.Budget.withDefaults()
	work := in.Work
	if work <= 0 {
		work = b.JobWork
	}
	// A video's memory is reserved from its probe, before ffmpeg starts
	// (held until the analysis ends), and its length checked there too.
	var release func()
	defer func() {
		if release != nil {
			release()
		}
	}()
	before := func(info video.Info) error {
		e := VideoEstimate(info.Width, info.Height, int64(max(info.Frames, 1)))
		if e.Work > work {
			return overBudgetf("%d frames of %d×%d is %s, more than the job's budget of %s", info.Frames, info.Width, info.Height, WorkText(e.Work), WorkText(work))
		}
		r, err := in.Memory.Reserve(ctx, e.Bytes)
		if err == nil {
			release = func() { in.Memory.releaseLarge(r, e.Bytes) }
		}
		return err
	}
	// Colour frames for the appearance net, as analyze.Run opens them.
	src, err := analyze.OpenSource(ctx, in.Path, video.Options{FPS: opt.FPS, MaxPixels: opt.MaxPixels, Color: opt.Appearance != nil,
		LimitChildren: true, BeforeDecode: before, Profile: opt.Profile})
	if err != nil {
		// As analyze.Run: a run that cannot start creates nothing.
		return nil, scrubPaths(err, in.Path, in.Name)
	}
	defer src.Close()
	limit := b.MaxFrames
	if fps := src.FPS(); fps > 0 {
		limit = min(limit, int(b.MaxSeconds*fps))
	}
	if n := src.Frames(); n > limit {
		return nil, tooLarge("%s: %d frames is over the limit of %d frames (%.0f s)", in.Name, n, limit, b.MaxSeconds)
	}
	ss := scrubbedSource{Source: src, path: in.Path, name: in.Name, limit: limit, n: new(int), work: work, pf: new(int64)}
	if cs, ok := src.(analyze.ColorSource); ok {
		// The appearance net reads colour faces, as in tell analyze; a
		// wrapper without these methods would hand it grey ones.
		return analyze.RunSource(ctx, colorSource{ss, cs}, in.Name, opt)
	}
	return analyze.RunSource(ctx, ss, in.Name, opt)
}

// colorSource is a scrubbedSource that keeps its source's colour.
type colorSource struct {
	scrubbedSource
	color analyze.ColorSource
}

func (c colorSource) RGB() *raster.RGB { return c.color.RGB() }
func (c colorSource) HasColor() bool   { return c.color.HasColor() }

// scrubbedSource rewrites its source's errors so that they name the input
// by its display name: they end up in events.json and the report.
type scrubbedSource struct {
	analyze.Source
	path, name string
	limit      int  // frames allowed
	n          *int // frames yielded; nil: no limit
	// work is the pixel-frames allowed, pf those yielded (nil: no limit).
	work int64
	pf   *int64
}

func (s scrubbedSource) Next(ctx context.Context) (*raster.Gray, error) {
	g, err := s.Source.Next(ctx)
	if err == nil && s.n != nil {
		if *s.n++; *s.n > s.limit {
			return nil, tooLarge("%s: more than the limit of %d frames", s.name, s.limit)
		}
	}
	if err == nil && s.pf != nil {
		// Counted as decoded, whatever the header promised: a file that
		// lied about its length stops here.
		if *s.pf += int64(g.W) * int64(g.H); *s.pf > s.work {
			return nil, overBudgetf("stopped at frame %d: %s decoded past the job's budget of %s", *s.n, s.name, WorkText(s.work))
		}
	}
	return g, scrubPaths(err, s.path, s.name)
}

// scrubbedError is an error whose text names the input, not its path;
// errors.Is and As still see the original.
type scrubbedError struct {
	msg string
	err error
}

func (e *scrubbedError) Error() string { return e.msg }
func (e *scrubbedError) Unwrap() error { return e.err }

// scrubPaths replaces path (and its folder, for errors about files in it)
// by name in err's text.
func scrubPaths(err error, path, name string) error {
	if err == nil || path == "" {
		return err
	}
	msg := err.Error()
	out := strings.ReplaceAll(msg, path, name)
	if i := strings.LastIndexByte(path, '/'); i > 0 {
		out = strings.ReplaceAll(out, path[:i+1], "")
	}
	if out == msg {
		return err
	}
	return &scrubbedError{out, err}
}

// loader keeps the first landmarker that loads. A failure is not kept:
// the model file may be installed or repaired while the server runs, and
// caching the error would fail every job until a restart.
type loader struct {
	load func() (analyze.Landmarker, error)
	mu   sync.Mutex
	ok   bool
	lm   analyze.Landmarker
}

func (l *loader) get() (analyze.Landmarker, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ok {
		return l.lm, nil
	}
	lm, err := l.load()
	if err != nil {
		return nil, err
	}
	l.lm, l.ok = lm, true
	return lm, nil
}
