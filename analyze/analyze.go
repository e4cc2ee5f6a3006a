// Package analyze is tell's main job: from an image, a folder of frames or a
// video to per-frame landmarks and AUs (frames.csv, OpenFace-compatible),
// spotted micro- and macro-expressions with emotions and AU-grounded chains
// of thought (events.json), and a report (report.html).
//
// Limits: at most Options.MaxFaces faces a video, each followed with its
// own face_id (a face the discovery scan has not yet seen is not measured);
// AUs are measured against the first frame where each face is found, so a
// face that is already expressive there reads as neutral;
// spotting reacts to any non-rigid motion (speech, blinks, chewing), not
// only to expressions; emotion labels come from the AUs' match with emotion
// prototypes (or a trained model when one is given), never from validated
// real-world data; a still image is measured against the landmark model's
// mean shape, not the person's neutral face. AU accuracy figures come from
// synthetic clips (tell bench au); docs/measured.md says which figures come
// from real faces.
//
// Frames stream through: a face is found once (Landmarker), then followed
// by au's tracker against that neutral reference; on more than one CPU the
// per-face model calls and outputs run on a post stage beside the frame
// loop, in frame order (pipeline.go); spot closes intervals as
// they end; each event is recognised and explained from a sliding window of
// recent frames. Memory is that window plus a bounded timeline, whatever
// the video's length.
package analyze

import (
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"log/slog"
	"math"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/tell-project/tell/appearance"
	"github.com/tell-project/tell/au"
	"github.com/tell-project/tell/cot"
	"github.com/tell-project/tell/face"
	"github.com/tell-project/tell/flow"
	"github.com/tell-project/tell/gaze"
	"github.com/tell-project/tell/profile"
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

// ConfidentLandmarker is a Landmarker that also says how sure it is of the
// face it found, in [0,1]; frames.csv's confidence of a single image.
type ConfidentLandmarker interface {
	LandmarksConfidence(g *raster.Gray) (lm [68][2]float32, confidence float32, ok bool, err error)
}

// PathLandmarker is a Landmarker that also says how it found the face:
// face.Path's words ("detected", "padded rescan", "whole frame"). Run notes
// the faces found other than by a plain detection in events.json and the
// report.
type PathLandmarker interface {
	FindFace(g *raster.Gray) (lm [68][2]float32, confidence float32, path string, ok bool, err error)
}

// NearLandmarker is a PathLandmarker that can also look for a face near
// where it was in an earlier frame (last: its 68 landmarks there), which
// costs a fraction of a whole-frame search: face.Finder.FindNear. A video's
// face, once found, is searched for there first when it is lost, after a
// cut and when the reference is renewed.
type NearLandmarker interface {
	PathLandmarker
	FindFaceNear(g *raster.Gray, last *[68][2]float32) (lm [68][2]float32, confidence float32, ok bool, err error)
}

// pathDetected is the path of a plain detection, which goes unnoted.
const pathDetected = "detected"

// laneFinder is a landmarker (FaceLandmarker) whose searches charge a
// profile lane by stage. near, when set, is the face's last landmarks,
// searched near first (only there when nearOnly); path is face.Path's word.
type laneFinder interface {
	findLane(g *raster.Gray, near *[68][2]float32, nearOnly bool, lane *profile.Lane) (lm [68][2]float32, confidence float32, path string, ok bool)
}

// pathNear is the path of a face found near its last place (face.PathNear).
var pathNear = face.PathNear.String()

// facePath is how a face was found (PathLandmarker's path) and whether it
// filled the frame (fillsFrame): the note says "face crop" only then.
type facePath struct {
	path  string
	fills bool
}

// fillsFrame reports a face that fills or overflows its frame, as in a
// face crop: its landmarks span 60% of the frame's width or height, or
// reach within 2% of an edge (a jaw cut by the border).
func fillsFrame(lm *[68][2]float32, w, h int) bool {
	x0, y0, x1, y1 := float32(math.Inf(1)), float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.Inf(-1))
	for _, p := range lm {
		x0, x1 = min(x0, p[0]), max(x1, p[0])
		y0, y1 = min(y0, p[1]), max(y1, p[1])
	}
	fw, fh := float32(w), float32(h)
	mx, my := 0.02*fw, 0.02*fh
	return x1-x0 >= 0.6*fw || y1-y0 >= 0.6*fh || x0 < mx || y0 < my || x1 > fw-mx || y1 > fh-my
}

// findFace asks the landmarker for a face, counting how it was found:
// near its last place first when the landmarker can and a face was seen
// before (near: its landmarks there; nil: none), then in the whole frame.
func (r *run) findFace(g *raster.Gray, near *[68][2]float32) ([68][2]float32, float32, bool, error) {
	defer r.lane.Leave(r.lane.Enter(profile.Detect))
	if lf, ok := r.opt.Landmarker.(laneFinder); ok {
		lm, conf, path, found := lf.findLane(g, near, false, r.lane)
		r.countPath(path, found, &lm, g)
		return lm, conf, found, nil
	}
	if n, ok := r.opt.Landmarker.(NearLandmarker); ok && near != nil {
		lm, conf, found, err := n.FindFaceNear(g, near)
		if err != nil || found {
			r.countPath(pathNear, found, &lm, g)
			return lm, conf, found, err
		}
	}
	if p, ok := r.opt.Landmarker.(PathLandmarker); ok {
		lm, conf, path, found, err := p.FindFace(g)
		r.countPath(path, found, &lm, g)
		return lm, conf, found, err
	}
	return landmarksConfidence(r.opt.Landmarker, g)
}

// countPath counts a face found other than by a plain detection.
// Whether the face filled its frame g (fillsFrame, from its landmarks lm)
// decides whether the note calls it a face crop.
func (r *run) countPath(path string, found bool, lm *[68][2]float32, g *raster.Gray) {
	switch {
	case !found || path == pathDetected:
	case path == pathNear:
		r.nearFinds++
	default:
		if r.facePaths == nil {
			r.facePaths = map[facePath]int{}
		}
		r.facePaths[facePath{path, fillsFrame(lm, g.W, g.H)}]++
	}
}

// landmarksConfidence asks l for landmarks and, when it can say, its
// confidence (else 1 for a face found).
func landmarksConfidence(l Landmarker, g *raster.Gray) ([68][2]float32, float32, bool, error) {
	if c, ok := l.(ConfidentLandmarker); ok {
		return c.LandmarksConfidence(g)
	}
	lm, ok, err := l.Landmarks(g)
	conf := float32(0)
	if ok {
		conf = 1
	}
	return lm, conf, ok, err
}

// NeutralShaper is implemented by landmarkers that know a canonical neutral
// face (the landmark model's mean shape); single images are measured
// against it.
type NeutralShaper interface {
	NeutralShape() [68][2]float32
}

// Options configure a run.
type Options struct {
	// Out is the output folder. It is written only at the end: the outputs
	// are made in a fresh folder beside it and swapped in when the run ends
	// (complete or partial). A run that fails before its first frame
	// creates nothing. An existing Out must hold nothing but an earlier
	// run's outputs; a finished (complete) one is replaced only with Force.
	Out   string
	Force bool // replace a complete earlier run in Out
	// FPS is the frame rate of a folder of frames: required unless the
	// folder has a video.RateFile; for a video or GIF, 0 or its own rate.
	FPS        float64
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
	// Interval, when set, is the one expression of the input, with known
	// timing: spotting is skipped, the neutral reference is taken at its
	// onset, and the interval is described as one event (Apex 0: found
	// inside the window).
	Interval *Interval
	// GeometryOnly turns off the dense-flow AU evidence (au.Estimator's
	// flow confirmation): AUs from landmark geometry alone, as before the
	// flow was fused in; for comparisons.
	GeometryOnly bool
	// MaxPixels is the pixel budget of one frame (default
	// video.DefaultMaxPixels): larger images and videos are refused before
	// they are decoded.
	MaxPixels int
	// measure replaces au.Estimator.Measure in tests (failure injection).
	measure func(*au.Estimator, *raster.Gray, *au.Measurement) error
	// serial runs a video's post stage inline even on several CPUs, and
	// postHook is called at the start of each part (1, 2) of each post job
	// with its frame (tests: pipeline on against off, a panic in a part).
	serial   bool
	postHook func(part, idx int)
	// Appearance is the pretrained appearance net (package appearance) that
	// reads each tracked face's expression; nil when none is used, and
	// AppearanceNote then says why (it goes into events.json's notes).
	Appearance     *appearance.Net
	AppearanceNote string
	// Neutral is an image of the same person's neutral face. A still image
	// is then measured against its landmarks (AU intensities of this
	// person's movement) instead of the landmark model's mean shape
	// (uncalibrated indications).
	Neutral string
	// Profile, when set, is charged with the run's CPU time by stage
	// (package profile): tell analyze --profile and the server's /metrics.
	// It never changes the outputs.
	Profile *profile.Profile
	// Faces, when set, looks for every face of the input (BlazeFace), not
	// only the one the Landmarker finds: each face is tracked on its own
	// with a persistent face_id (see faces.go). MaxFaces bounds how many
	// faces are looked for and followed at a time (default
	// DefaultMaxFaces; 1 follows one face, as without Faces).
	Faces    *face.MultiFinder
	MaxFaces int
	// Gaze, when set, estimates each tracked face's gaze (frames.csv's
	// gaze_0_*, gaze_1_*, gaze_angle_*); nil: no gaze.
	Gaze *gaze.Net
	// Scratch says Out is a working copy that something else makes
	// durable (tell serve's worker stores it in JetStream before it
	// acknowledges the job; a crash reruns the job): its files are not
	// synced to disk, which cost milliseconds each in a server's serial path.
	Scratch bool
}

// Interval is an expression's timing in frame numbers as frames.csv
// counts them: a numbered folder's file numbers (img46.jpg is 46), else
// 1-based positions; onset ≤ apex ≤ offset; Apex 0 asks for the apex (so
// a folder numbered from 0 names its frame 0 as apex only by asking).
type Interval struct {
	Onset, Apex, Offset int
}

// Check reports an interval that cannot be: negative frame numbers, an
// offset before the onset, an apex outside onset..offset. Whether the
// input has those frames is checked when it is opened.
func (iv Interval) Check() error {
	switch {
	case iv.Onset < 0:
		return fmt.Errorf("onset %d: frame numbers are not negative", iv.Onset)
	case iv.Offset < iv.Onset:
		return fmt.Errorf("offset %d is before the onset %d", iv.Offset, iv.Onset)
	case iv.Apex != 0 && (iv.Apex < iv.Onset || iv.Apex > iv.Offset):
		return fmt.Errorf("apex %d is outside onset..offset %d..%d", iv.Apex, iv.Onset, iv.Offset)
	}
	return nil
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

// DefaultMaxFaces is how many faces are followed at a time when
// Options.Faces looks for several and MaxFaces is not set.
const DefaultMaxFaces = 8

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
	// FrameNumbers says how frames are numbered, here as in frames.csv's
	// frame column: "position" (from 1, OpenFace's convention for a video)
	// or "file names" (a numbered folder's own numbers: img46.jpg is 46).
	FrameNumbers string `json:"frame_numbers"`
	// FrameBase is the number of the first frame (1 by position).
	FrameBase int `json:"frame_base"`
	// Codec and BitsPerPixel describe a video's compression (ffprobe's
	// codec name; its video bit rate over width × height × fps); absent
	// for images and folders. A lossy video below LowBitsPerPixel gets a
	// note: its encoder may have washed out sub-pixel motion.
	Codec        string  `json:"codec,omitempty"`
	BitsPerPixel float64 `json:"bits_per_pixel,omitempty"`
	Events       []Event `json:"events"`
	// ElapsedS is the wall time of the analysis; FramesPerSecond the throughput.
	ElapsedS        float64 `json:"elapsed_s"`
	FramesPerSecond float64 `json:"frames_per_second"`
}

// Event is one spotted expression in events.json.
type Event struct {
	ID int `json:"id"`
	// FaceID is the face the event is on, as frames.csv's face_id.
	FaceID  int       `json:"face_id"`
	Onset   int       `json:"onset"`
	Apex    int       `json:"apex"`
	Offset  int       `json:"offset"`
	OnsetS  float64   `json:"onset_s"`
	ApexS   float64   `json:"apex_s"`
	OffsetS float64   `json:"offset_s"`
	Kind    string    `json:"kind"` // micro or macro
	Peak    float64   `json:"peak"` // spotting signal at the apex
	AUs     []EventAU `json:"aus"`
	// AUReference is what the AUs were measured against: "neutral-frame"
	// (this face's own neutral frame in the video), "neutral-image"
	// (--neutral) or "mean-shape" (a still without reference: the values
	// are uncalibrated indications, reported but not weighed).
	AUReference string `json:"au_reference"`
	// Appearance is what the pretrained appearance net read: mean
	// probabilities over the apex frames (the still itself), and at the
	// onset; absent when no net was used.
	Appearance *cot.Appearance `json:"appearance,omitempty"`
	// Emotions are the event's class probabilities from the event scorer,
	// which fuses the appearance net, the AU evidence and a flow model
	// (see scoreEvent).
	Emotions map[string]float64 `json:"emotions"`
	// Label is the most probable class of Emotions and Confidence its
	// probability: the one scorer names the event everywhere, and the
	// chain of thought concludes Label.
	Label      string  `json:"label"`
	Confidence float64 `json:"confidence"`
	// Top2 are the two most probable labels with their probabilities.
	Top2 []Ranked `json:"top2,omitempty"`
	// Doubt, when set, says why the label is uncertain: the top two are
	// within 0.1, or an expert with weight reads another class. The
	// conclusion says it and the verification flags it.
	Doubt string `json:"doubt,omitempty"`
	// Experts are each expert's own reading and its weight in the label
	// (0: reported, not weighed; see scoreEvent).
	Experts []Expert `json:"experts,omitempty"`
	CoT     cot.CoT  `json:"cot"`
	// Reasoner is what labelled and explained this event: the run's
	// reasoner (Result.Reasoner), or "builtin" when that one could not (a
	// still image has no onset face for a flow model; an LLM failed), with
	// the reason in ReasonerError.
	Reasoner      string `json:"reasoner"`
	ReasonerError string `json:"reasoner_error,omitempty"`
}

// ErrNoSuchFrame is returned (wrapped) when Options.Interval names a frame
// number the input does not have.
var ErrNoSuchFrame = errors.New("no such frame")

// ErrNoFace is returned when no frame had a face.
var ErrNoFace = errors.New("no face found")

// cropSize is the side of the aligned face crops kept per frame for the
// reasoners (the flow, a model, a vision LLM).
const cropSize = 96

// Native face crops for the report: the face at its resolution in the
// video (2.4 inter-ocular distances wide, as au.Estimator.Crop frames it),
// at most maxNativeSide pixels, and the window's crops together within
// nativeBudget bytes (a 200 fps window holds 2000 frames).
const (
	maxNativeSide = 256
	nativeBudget  = 48 << 20
)

// frameRec is what the sliding window keeps per frame.
type frameRec struct {
	both, right, left []float32
	crop              []uint8 // cropSize²
	native            []uint8 // nativeSide², once a face was found
	ok                bool
	probs             appearance.Probs // the appearance net's reading
	hasProbs          bool
}

// run is the state of one analysis; each face's own state is a faceRun
// (faces.go).
type run struct {
	opt Options
	log *slog.Logger
	fps float64
	// info numbers and times the frames (Numbered; by position at fps
	// for other sources).
	info video.Info
	// known is Options.Interval as 0-based positions.
	known    *Interval
	res      *Result
	rep      *report.Report
	out      *outputs    // the outputs being written, nil before the first frame
	images   int         // events given face images, of every face
	overlay  *flow.TVL1  // onset→apex flow for event images, made at the first event
	frames   *frameKeep  // the most recent whole frames, for a flow model that takes them
	grey     *raster.RGB // grey frame as RGB for the appearance net, when the source has no colour
	still    bool        // a single image (no timeline)
	appErrs  int         // appearance failures logged
	gazeErrs int         // gaze failures logged
	// measureErrs counts frames whose AU measurement failed for a reason
	// other than a lost face.
	measureErrs int
	// facePaths counts the face searches that found a face other than by
	// a plain detection, by path (PathLandmarker); nearFinds the faces
	// found again near their last place (NearLandmarker).
	facePaths map[facePath]int
	nearFinds int
	// lane charges the run's goroutine's time to Options.Profile (nil: off).
	lane *profile.Lane
	// faces are the faces followed, by face_id; multi finds faces beyond
	// face 0 (nil: one face, as the Landmarker finds it).
	faces []*faceRun
	multi *multiFaces
	// post runs each face-frame's appearance net, gaze, frames.csv row and
	// timeline (pipeline.go); nil for a single image.
	post *poster
	// previewStep is the preview's sampling step once the post stage has
	// added frame 0 to it (0 before; -1: it takes no more frames), so
	// that the run's goroutine hands on only the frames it keeps.
	previewStep atomic.Int32
}

type lostSpan struct{ from, to int }

// Run analyses the file or folder at input. An input that cannot be
// opened is an error before anything is written.
func Run(ctx context.Context, input string, opt Options) (*Result, error) {
	if err := CheckOutput(opt.Out, opt.Force); err != nil {
		return nil, err
	}
	src, err := OpenSource(ctx, input, video.Options{FPS: opt.FPS, MaxPixels: opt.MaxPixels, Color: opt.Appearance != nil, Profile: opt.Profile})
	if err != nil {
		return nil, err
	}
	defer src.Close()
	return RunSource(ctx, src, input, opt)
}

// RunSource analyses frames from src; input names it in the outputs. Once
// a frame has been read, the outputs are written even when the run fails
// part-way: their status is then "partial" and the returned error, which
// wraps ErrPartial, says why. A failure before the first frame writes
// nothing.
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
	switch {
	case opt.Faces == nil:
		opt.MaxFaces = 1
	case opt.MaxFaces <= 0:
		opt.MaxFaces = DefaultMaxFaces
	}
	if err := CheckOutput(opt.Out, opt.Force); err != nil {
		return nil, err
	}
	r := &run{opt: opt, log: opt.Log, fps: src.FPS()}
	single := src.Frames() == 1 && r.fps == 0
	r.still = single
	if r.fps <= 0 {
		r.fps = 30
	}
	if n, ok := src.(Numbered); ok {
		r.info = n.Info()
	}
	r.info.FPS, r.info.Frames = r.fps, src.Frames()
	if iv := opt.Interval; iv != nil {
		if err := iv.Check(); err != nil {
			return nil, fmt.Errorf("analyze: %w", err)
		}
		if single {
			return nil, fmt.Errorf("analyze: an onset and offset need a video or frames, not a single image")
		}
		k, err := r.positions(*iv)
		if err != nil {
			return nil, err
		}
		r.known = k
	}
	r.res = &Result{Input: input, FPS: r.fps, Reasoner: opt.Name, FrameNumbers: "position", FrameBase: r.info.Number(0), Events: []Event{}}
	if r.info.Numbers != nil {
		r.res.FrameNumbers = "file names"
	}
	r.res.Notes = append(r.res.Notes, timingNotes(&r.info)...)
	r.res.Codec = r.info.Codec
	if bpp := r.info.BitsPerPixel(); bpp > 0 {
		r.res.BitsPerPixel = math.Round(bpp*1e4) / 1e4
	}
	if note := compressionNote(&r.info); note != "" {
		r.res.Notes = append(r.res.Notes, note)
	}
	r.rep = &report.Report{Title: "tell analysis: " + filepath.Base(input), Input: input, FPS: r.fps, Reasoner: opt.Name, AUs: au.AUs(),
		Codec: r.res.Codec, BitsPerPixel: r.res.BitsPerPixel,
		FlowKeyPNG: flowKeyPNG()}
	r.appearanceNote(src)
	if opt.Appearance != nil {
		r.rep.ExprLabels, r.rep.ExprModel = appearance.Labels(), r.appearanceModel()
	}
	start := time.Now()
	r.lane = opt.Profile.Lane()
	defer r.lane.Close()
	var runErr error
	if single {
		runErr = r.single(ctx, src)
	} else {
		runErr = r.stream(ctx, src)
	}
	if dc, ok := src.(decoderCPU); ok {
		opt.Profile.Add(profile.Decode, dc.DecoderCPU(), 0)
	}
	r.res.ElapsedS = math.Round(time.Since(start).Seconds()*1000) / 1000
	if r.res.ElapsedS > 0 {
		r.res.FramesPerSecond = math.Round(float64(r.res.Frames)/r.res.ElapsedS*10) / 10
	}
	r.lane.Enter(profile.Writing)
	err := r.finish(runErr)
	r.lane.Enter(profile.None)
	return r.res, err
}

// decoderCPU is a Source that decodes in another process (ffmpeg) and can
// say how much CPU time that took, once it has ended.
type decoderCPU interface {
	DecoderCPU() time.Duration
}

// stream runs the video path: every frame goes through each face's
// pipeline (faceRun.step), in face_id order.
func (r *run) stream(ctx context.Context, src Source) error {
	window := int(math.Ceil(10*r.fps)) + 8
	f0, err := r.newFaceRun(0, window, 0)
	if err != nil {
		return err
	}
	r.faces = []*faceRun{f0}
	r.rep.Timeline = f0.tl
	if r.opt.Faces != nil && r.opt.MaxFaces > 1 {
		r.multi = newMultiFaces(r, src)
	}
	keepFrames := false
	if fs, ok := r.opt.Reasoner.(FramesScorer); ok && fs.WantsFrames() {
		keepFrames = true
	}
	// Estimators are closed when replaced and when the stream ends, not
	// left to the garbage collector with their flow engines.
	defer func() {
		for _, f := range r.faces {
			f.close()
		}
	}()
	// The post stage ends with the stream, before the outputs are
	// finished; a panic there is raised again here.
	r.post = r.startPost()
	defer r.post.close()
	var prev *raster.Gray
	frozen := 0
	total := src.Frames()
	lane := r.lane
	for idx := 0; ; idx++ {
		lane.Enter(profile.Decode)
		g, err := src.Next(ctx)
		lane.Enter(profile.Spotting)
		if err == io.EOF {
			break
		}
		if err != nil {
			lane.Enter(profile.Scoring)
			r.flushFaces(ctx, idx-1)
			return fmt.Errorf("frame %d: %w", r.num(idx), err)
		}
		if idx == 0 {
			if err := r.openOutputs(); err != nil {
				return err
			}
			if keepFrames {
				r.frames = newFrameKeep(g.W, g.H, window)
			}
		}
		if r.frames != nil {
			r.frames.put(idx, g)
		}
		if err := r.post.preview(idx, g, src); err != nil {
			return err
		}
		repeat := sameFrame(g, prev)
		prev = g
		tracked, err := r.stepFaces(ctx, src, idx, g, repeat, frozen)
		if err != nil {
			return err
		}
		if repeat {
			frozen++
		} else {
			frozen = 0
		}
		if tracked {
			r.res.Tracked++
		}
		r.res.Frames = idx + 1
		if r.opt.Progress != nil {
			r.opt.Progress(idx+1, total)
		}
	}
	lane.Enter(profile.Scoring)
	r.flushFaces(ctx, r.res.Frames-1)
	if r.measureErrs > 0 {
		r.res.Notes = append(r.res.Notes, fmt.Sprintf("AU measurement failed on %d frames for reasons other than a lost face (see the log); they count as untracked", r.measureErrs))
	}
	if r.res.Frames == 0 {
		return fmt.Errorf("no frames could be read")
	}
	if f0.pending {
		if r.res.Frames <= f0.known.Offset {
			return fmt.Errorf("offset %d is after the last frame (%d)", r.opt.Interval.Offset, r.num(r.res.Frames-1))
		}
		if err := f0.describe(ctx, r.res.Frames-1); err != nil {
			return err
		}
	}
	r.reportFaces()
	if r.res.Tracked == 0 {
		if r.res.Frames == 1 {
			return fmt.Errorf("%w in the one frame", ErrNoFace)
		}
		return fmt.Errorf("%w in any of %d frames", ErrNoFace, r.res.Frames)
	}
	return nil
}

// flushFaces closes every face's open intervals.
func (r *run) flushFaces(ctx context.Context, last int) {
	for _, f := range r.faces {
		f.flush(ctx, last)
	}
}

// reportFaces gives the report the timelines of the faces beyond face 0.
func (r *run) reportFaces() {
	for _, f := range r.faces[1:] {
		r.rep.Faces = append(r.rep.Faces, report.Face{ID: f.id, Timeline: f.tl})
	}
}

// flush closes the intervals still open. It runs with the run's context:
// a cancelled run must not go on asking a remote reasoner about them.
func (r *faceRun) flush(ctx context.Context, last int) {
	for _, iv := range r.sp.Flush() {
		r.spotted(ctx, iv, last)
	}
}

// spotted reports a spotted interval as an event, unless the run describes
// an interval of known timing instead.
func (r *faceRun) spotted(ctx context.Context, iv spot.Interval, last int) {
	if r.known == nil {
		r.event(ctx, iv, last)
	}
}

// describe makes the known interval the run's event; last is the newest
// frame read.
func (r *faceRun) describe(ctx context.Context, last int) error {
	k := r.known
	iv, err := r.sp.Describe(k.Onset, k.Offset)
	if err != nil {
		return fmt.Errorf("onset %d to offset %d: %w", r.opt.Interval.Onset, r.opt.Interval.Offset, err)
	}
	if r.opt.Interval.Apex > 0 {
		iv.Apex = k.Apex
	}
	r.event(ctx, iv, last)
	return nil
}

// reseed looks for a face the tracker lost near its last place and, when
// it is there, restarts its tracking from it (au.Estimator.Reseed): a
// face that moved faster than the tracker follows is measured against its
// neutral reference again at once. It reports whether it found the face
// (a place another face holds is not taken).
func (r *faceRun) reseed(g *raster.Gray) bool {
	if !r.haveLast {
		return false
	}
	defer r.lane.Leave(r.lane.Enter(profile.Detect))
	var lm [68][2]float32
	found := false
	if lf, ok := r.opt.Landmarker.(laneFinder); ok {
		lm, _, _, found = lf.findLane(g, &r.last, true, r.lane)
	} else if n, ok := r.opt.Landmarker.(NearLandmarker); ok {
		var err error
		lm, _, found, err = n.FindFaceNear(g, &r.last)
		found = found && err == nil
	}
	if !found || (r.multi != nil && r.heldByOther(lmBox(&lm))) {
		return false
	}
	r.est.Reseed(lm)
	r.nearFinds++
	return true
}

// drifted reports a head far from its reference pose.
func drifted(m *au.Measurement) bool {
	return math.Abs(float64(m.Scale)-1) > 0.1 || math.Abs(float64(m.Rotation)) > 0.15
}

func (r *faceRun) markLost(idx int) {
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
func (r *faceRun) event(ctx context.Context, iv spot.Interval, last int) {
	oldest := max(0, last-len(r.ring)+1)
	on, off := max(iv.Onset, oldest), min(iv.Offset, last)
	apex := min(max(iv.Apex, on), off)
	aus := r.eventAUs(on, off, max(oldest, r.refFrame), iv.Kind)
	e := Event{
		ID: len(r.res.Events) + 1, FaceID: r.id, Onset: r.num(iv.Onset), Apex: r.num(iv.Apex), Offset: r.num(iv.Offset),
		OnsetS: round3(r.info.Time(iv.Onset)), ApexS: round3(r.info.Time(iv.Apex)), OffsetS: round3(r.info.Time(iv.Offset)),
		Kind: iv.Kind, Peak: round3(iv.Peak), AUs: aus, AUReference: r.auReference(),
	}
	ro, ra := &r.ring[on%len(r.ring)], &r.ring[apex%len(r.ring)]
	var images []image.Image
	var faces reportFaces
	if ro.ok && ra.ok {
		imgs := r.eventImages(ctx, ro.crop, ra.crop, cropSize)
		images = imgs.list()
		if r.images < r.opt.MaxImages && r.native > 0 {
			faces = nativeFaces(ro.native, ra.native, r.native, imgs)
			r.images++
		}
	}
	var frames FlowInput
	if r.frames != nil && iv.Kind != "still" {
		var err error
		if frames.Onset, err = r.frames.get(on); err == nil {
			frames.Apex, err = r.frames.get(apex)
		}
		if err != nil {
			frames = FlowInput{}
			r.log.Warn("flow model without frames for this event", "event", len(r.res.Events)+1, "err", err)
		}
	}
	// The window's appearance readings are the post stage's: wait for
	// it only here. Everything above reads the frame loop's data alone
	// (AUs, crops, frames), so it runs while the post stage finishes the
	// frames before the event, on the other core.
	r.post.wait()
	apexP, onsetP := r.eventAppearance(on, apex, off, iv.Kind == "still")
	e.Appearance = appearanceOf(r.appearanceModel(), apexP, onsetP)
	ev := evidence(aus, e.OnsetS, e.ApexS, e.OffsetS)
	in := scoreInput{ev: ev, measured: e.AUReference != auMeanShape, kind: iv.Kind, app: apexP, base: onsetP}
	s, c, who, why, err := r.decide(ctx, in, images, frames, e.Appearance)
	e.Reasoner, e.ReasonerError = who, why
	if err != nil {
		r.log.Warn("event not labelled", "event", e.ID, "err", err)
	} else {
		e.Emotions = s.rounded()
		e.Label, e.Confidence = s.label, round3(s.conf)
		e.Top2, e.Doubt, e.Experts = s.top2, s.doubt, s.experts
		e.CoT = c
	}
	r.res.Events = append(r.res.Events, e)
	r.log.Debug("expression spotted", "id", e.ID, "onset", e.Onset, "offset", e.Offset, "kind", e.Kind, "label", e.Label)
	ra2 := make([]report.AU, len(aus))
	for i, a := range aus {
		ra2[i] = report.AU{AU: a.AU, Name: a.Name, Side: a.Side, Intensity: a.Intensity, Letter: a.Letter, SNR: a.SNR}
	}
	r.rep.Events = append(r.rep.Events, report.Event{
		ID: e.ID, FaceID: e.FaceID, Onset: e.Onset, Apex: e.Apex, Offset: e.Offset, OnsetS: e.OnsetS, OffsetS: e.OffsetS,
		OnsetPos: iv.Onset, OffsetPos: iv.Offset,
		Kind: e.Kind, Label: e.Label, Confidence: e.Confidence, AUs: ra2, Emotions: e.Emotions, CoT: e.CoT.Text,
		OnsetPNG: faces.onset, ApexPNG: faces.apex, DiffPNG: faces.diff, FlowPNG: faces.flow,
		FaceSize: r.native, DiffGain: faces.gain, FlowPeak: faces.peak,
	})
}

// num is the number frame idx (0-based position) is known by: in
// frames.csv, events.json, the report and every message.
func (r *run) num(idx int) int { return r.info.Number(idx) }

// positions turns an interval of frame numbers into 0-based positions,
// refusing numbers the input does not have.
func (r *run) positions(iv Interval) (*Interval, error) {
	var k Interval
	for _, f := range []struct {
		what string
		n    int
		dst  *int
	}{{"onset", iv.Onset, &k.Onset}, {"apex", iv.Apex, &k.Apex}, {"offset", iv.Offset, &k.Offset}} {
		if f.what == "apex" && f.n == 0 {
			continue
		}
		i, ok := r.info.Index(f.n)
		if ok {
			*f.dst = i
			continue
		}
		where := "this input"
		if rg := r.info.Range(); rg != "" {
			where += " (frames " + rg
			if r.info.Numbers != nil {
				where += ", numbered by their file names"
			} else {
				where += ", numbered from 1"
			}
			where += ")"
		}
		return nil, fmt.Errorf("--%s %d: %w in %s", f.what, f.n, ErrNoSuchFrame, where)
	}
	return &k, nil
}

// timingNotes say what a reader of the times should know: frame numbers
// that skip (missing files leave gaps in time), a GIF's uneven delays
// (spotting assumes an even rate).
func timingNotes(in *video.Info) []string {
	var notes []string
	if n := len(in.Numbers); n > 1 {
		if missing := in.Numbers[n-1] - in.Numbers[0] + 1 - n; missing > 0 {
			notes = append(notes, fmt.Sprintf("frame numbers %d–%d skip %d number(s): frames are timed by their numbers, so the missing ones are gaps in time", in.Numbers[0], in.Numbers[n-1], missing))
		}
	}
	if n := len(in.Times); n > 2 {
		lo, hi := math.Inf(1), 0.0
		for i := 1; i < n; i++ {
			d := in.Times[i] - in.Times[i-1]
			lo, hi = math.Min(lo, d), math.Max(hi, d)
		}
		if hi-lo > 1e-3 {
			notes = append(notes, fmt.Sprintf("the GIF's frame delays vary (%.0f–%.0f ms): times are its own, and spotting treats the frames as evenly spaced at %.3g fps", lo*1000, hi*1000, in.FPS))
		}
	}
	return notes
}

// LowBitsPerPixel is the bit rate per pixel and frame below which a lossy
// video's encoder washes out the sub-pixel motion of a micro-expression:
// on the muscle generator's micro-expressions (640×480, 30 fps) encoded
// with H.264 (scripts/compression.sh, docs/video.md), the apex found at
// the coded timing moves by 0.2 frames on the frames themselves, 0.9 at
// 0.29 bits per pixel, 1.2 at 0.11 and 2.2 at 0.055, and the AUs' precision
// against the coded ones falls from 0.45–0.52 to 0.32 at 0.11: below 0.1
// the answer changes.
const LowBitsPerPixel = 0.1

// compressionNote warns about a lossy video compressed below
// LowBitsPerPixel; "" otherwise.
func compressionNote(in *video.Info) string {
	bpp := in.BitsPerPixel()
	if in.Codec == "" || in.Lossless() || bpp <= 0 || bpp >= LowBitsPerPixel {
		return ""
	}
	return fmt.Sprintf("compression: %s at %.3f bits per pixel, below %.2g: the encoder may have washed out the sub-pixel motion of micro-expressions (AUs and apex frames less reliable); analyse the original frames or a lossless copy where you have them", in.Codec, bpp, LowBitsPerPixel)
}
