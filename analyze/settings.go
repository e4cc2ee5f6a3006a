package analyze

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"

	"github.com/tell-project/tell/blazeface"
	"github.com/tell-project/tell/face"
	"github.com/tell-project/tell/gaze"
	"github.com/tell-project/tell/model"
	"github.com/tell-project/tell/models"
	"github.com/tell-project/tell/profile"
	"github.com/tell-project/tell/video"
)

// Settings are what a command line says about an analysis, in its flags'
// terms (tell analyze binds its flags to them): Validate checks them, its
// errors naming the flags, and Options loads the models they name.
type Settings struct {
	Out        string  // --out
	Force      bool    // --force
	FPS        float64 // --fps: a folder's frame rate (0: the input's own)
	Landmarks  string  // --landmarks: dlib's model ("": Debian's)
	Face       string  // --face: auto, detect or full (face.ParseFindMode)
	Appearance string  // --appearance: faceapi, human or none
	Models     string  // --models: the pretrained models' folder (models.Root)
	MaxFaces   int     // --max-faces: 1 to 64
	Gaze       bool    // --gaze: gaze columns when the iris model is installed
	MaxPixels  int     // --max-pixels
	Neutral    string  // --neutral: a still image's neutral face
	Reasoner   string  // --reasoner: builtin or llm (the caller makes the LLM's)
	Model      string  // --model: a flow model's path, builtin, or "" for none
	// Onset, Offset and Apex are --onset, --offset and --apex: a known
	// interval (Apex a frame number, auto or "").
	Onset, Offset int
	Apex          string
	// Given names the flags on the command line, for those whose zero
	// value is a choice of its own (--fps, --onset, --offset, --apex).
	Given map[string]bool
}

// Validate checks the settings, and that the --neutral image is there.
func (s Settings) Validate() error {
	// Unset means "the video's own rate" (a folder then needs its
	// fps.txt); a given rate must be plausible: the spotter sizes its
	// windows from it.
	if s.Given["fps"] {
		if err := video.CheckFPS(s.FPS); err != nil {
			return fmt.Errorf("--fps: %w", err)
		}
	}
	if s.MaxPixels <= 0 {
		return fmt.Errorf("--max-pixels %d: want a positive number of pixels", s.MaxPixels)
	}
	if s.MaxFaces < 1 || s.MaxFaces > 64 {
		return fmt.Errorf("--max-faces %d: want 1 to 64", s.MaxFaces)
	}
	if _, err := s.Interval(); err != nil {
		return err
	}
	if _, err := face.ParseFindMode(s.Face); err != nil {
		return fmt.Errorf("--face: %w", err)
	}
	if s.Appearance != "none" {
		// As tell eval's AppearanceSettings: refused here, before any
		// model loads, not by LoadAppearance without the flag's name.
		if _, err := models.ByName(s.Appearance); err != nil {
			return fmt.Errorf("--appearance: %w", err)
		}
	}
	switch s.Reasoner {
	case "builtin":
	case "llm":
		if s.Model != "" {
			return errors.New("--reasoner llm and --model are alternatives")
		}
	default:
		return fmt.Errorf("--reasoner %q: want builtin or llm", s.Reasoner)
	}
	if s.Neutral != "" {
		if _, err := os.Stat(s.Neutral); err != nil {
			return fmt.Errorf("--neutral: %w", err)
		}
	}
	return nil
}

// Interval is the known interval of --onset, --apex and --offset: none,
// or an onset and an offset with an optional apex (a frame number or
// auto). Frame 0 is a frame (a folder numbered from 0).
func (s Settings) Interval() (*Interval, error) {
	if !s.Given["onset"] && !s.Given["offset"] && !s.Given["apex"] {
		return nil, nil
	}
	if !s.Given["onset"] || !s.Given["offset"] {
		return nil, errors.New("--onset and --offset go together (and --apex needs both)")
	}
	iv := &Interval{Onset: s.Onset, Offset: s.Offset}
	if s.Apex != "" && s.Apex != "auto" {
		n, err := strconv.Atoi(s.Apex)
		if err != nil {
			return nil, fmt.Errorf("--apex %q: want a frame number or auto", s.Apex)
		}
		iv.Apex = n
	}
	if err := iv.Check(); err != nil {
		return nil, err
	}
	return iv, nil
}

// Options loads what the settings (after Validate) name: the landmarker,
// the appearance net, BlazeFace for several faces, the iris model and the
// flow model (families are the model families it may be). A model that
// is not installed is left out with a warning, the analysis going on
// without it; warn receives those.
func (s Settings) Options(families model.Families, warn func(string)) (Options, error) {
	return s.options(families, warn, nil)
}

// options is Options; appearance, when not nil, is called once the
// appearance net is loaded (first, before dlib's model), with whether
// there is one.
func (s Settings) options(families model.Families, warn func(string), appearance func(bool)) (Options, error) {
	mode, err := face.ParseFindMode(s.Face)
	if err != nil {
		return Options{}, err
	}
	iv, err := s.Interval()
	if err != nil {
		return Options{}, err
	}
	root := models.Root(s.Models)
	net, note, err := LoadAppearance(root, s.Appearance)
	if err != nil {
		return Options{}, err
	}
	if net == nil && s.Appearance != "none" {
		warn("appearance not used: " + note)
	}
	if appearance != nil {
		appearance(net != nil)
	}
	// BlazeFace and the iris model load on another goroutine while
	// dlib's model (the longest) loads here.
	var (
		bf           *blazeface.Detector
		g            *gaze.Net
		bfErr, gzErr error
		small        = make(chan struct{})
	)
	go func() {
		defer close(small)
		if s.MaxFaces > 1 {
			bf, bfErr = blazeface.Load(root, blazeface.Options{})
		}
		if s.Gaze {
			g, gzErr = gaze.Load(root)
		}
	}()
	lm, err := NewFaceLandmarkerMode(s.Landmarks, mode)
	<-small
	if err != nil {
		return Options{}, err
	}
	opt := Options{Out: s.Out, Force: s.Force, FPS: s.FPS, Landmarker: lm, MaxPixels: s.MaxPixels,
		Appearance: net, AppearanceNote: note, Neutral: s.Neutral, Interval: iv, MaxFaces: s.MaxFaces}
	if s.MaxFaces > 1 {
		faces, note, err := lm.facesWith(bf, bfErr)
		if err != nil {
			return Options{}, err
		}
		if faces == nil {
			warn(note)
		}
		opt.Faces = faces
	}
	if s.Gaze {
		switch {
		case errors.Is(gzErr, models.ErrNotInstalled):
			warn("no gaze columns: " + gzErr.Error())
		case gzErr != nil:
			return Options{}, gzErr
		default:
			opt.Gaze = g
		}
	}
	switch s.Model {
	case "":
	case "builtin":
		mr, err := NewBuiltinModelReasoner(families)
		if err != nil {
			return Options{}, err
		}
		opt.Reasoner, opt.Name = mr, "merclip:builtin"
	default:
		mr, err := NewModelReasoner(s.Model, families, s.Landmarks, mode)
		if err != nil {
			return Options{}, err
		}
		opt.Reasoner, opt.Name = mr, mr.Model.Config.Model+":"+s.Model
	}
	return opt, nil
}

// Start is Options and Run's opening of input at once: while the models
// load, input's decoder starts on another goroutine (ffprobe and ffmpeg
// take about 0.2 s to start, dlib's model about as long to load), with the
// video options Run gives it (prof charges its reading to decode). The
// output folder is checked first. The source is RunSource's to read and
// the caller's to close; on an error nothing is left open, and a models
// error is reported before the input's.
func (s Settings) Start(ctx context.Context, input string, families model.Families, warn func(string), prof *profile.Profile) (Options, Source, error) {
	if err := CheckOutput(s.Out, s.Force); err != nil {
		return Options{}, nil, err
	}
	var (
		src     Source
		openErr error
		opened  = make(chan struct{})
		started bool
	)
	opt, err := s.options(families, warn, func(color bool) {
		started = true
		go func() {
			defer close(opened)
			src, openErr = OpenSource(ctx, input, video.Options{FPS: s.FPS, MaxPixels: s.MaxPixels, Color: color, Profile: prof})
		}()
	})
	if started {
		<-opened
	}
	if err != nil || openErr != nil {
		if src != nil {
			src.Close()
		}
		if err == nil {
			err = openErr
		}
		return Options{}, nil, err
	}
	opt.Profile = prof
	return opt, src, nil
}
