package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/tell-project/tell/analyze"
	"github.com/tell-project/tell/face"
	"github.com/tell-project/tell/gaze"
	"github.com/tell-project/tell/internal/cli"
	"github.com/tell-project/tell/llm"
	"github.com/tell-project/tell/models"
	"github.com/tell-project/tell/profile"
	"github.com/tell-project/tell/video"
)

func analyzeCommand() cli.Command {
	return cli.Command{
		Name:    "analyze",
		Summary: "AUs, spotted expressions, emotions and explanations from an image, frames or a video",
		Usage:   `usage: tell analyze INPUT [--out DIR] [flags]`,
		Run:     runAnalyze,
	}
}

func runAnalyze(ctx context.Context, env *cli.Env, args []string) error {
	start, cpu0 := time.Now(), profile.ProcessCPU()
	fs := cli.NewFlagSet("analyze")
	out := fs.String("out", "analysis", "`DIR` output folder (default analysis)")
	force := fs.Bool("force", false, "replace a finished analysis in DIR")
	fps := fs.Float64("fps", 0, "`F` frame rate of a folder of frames, 1 to 1000 (CASME II and SAMM: 200, SMIC HS: 100). A folder has no rate of its own: without --fps it needs a file fps.txt holding its rate, else it is refused. A video's or GIF's own rate is used; a different --fps is an error")
	model := fs.String("landmarks", "", "`PATH` dlib 68-point model (default: Debian's libdlib-data)")
	reasoner := fs.String("reasoner", "builtin", "`NAME` builtin (the Exp-CoT engine over the measured AUs; default) or llm: a vision LLM (--llm-url, --llm-model) sees each event's onset and apex faces, the flow between them and the measured AUs; an answer that names an AU not measured, a label outside the classes or a conclusion against its own observations is replaced by the built-in one, the reason kept in cot.verification")
	lf := llm.AddFlags(fs, os.Getenv)
	modelPath := fs.String("model", "", "`PATH` label events with a MER-CLIP flow model trained by tell train (RUN/model.safetensors): its probabilities join the event scorer and its classes are the labels. --model builtin uses the small model tell ships (trained on synthetic clips only)")
	maxPixels := fs.Int("max-pixels", video.DefaultMaxPixels, "`N` refuse images and video frames larger than N pixels before decoding them (default 50000000)")
	faceMode := fs.String("face", "auto", "`MODE` how the face is found: auto (default) scans, rescans the image padded on every side, and for a face crop (the face fills or overflows the frame) fits the face in the whole frame, kept only when the detector confirms it; detect never assumes a crop; full takes every frame as a face crop. A face found in a crop is noted in events.json and the report; frames.csv's confidence is then the detector's check of the fitted face")
	appName := fs.String("appearance", "faceapi", "`NAME` faceapi (default), human or none")
	maxFaces := fs.Int("max-faces", analyze.DefaultMaxFaces, "`N` follow at most N faces at a time (default 8): BlazeFace (human-models, installed with the appearance models) finds them, each keeps its face_id through short occlusions and crossings, and frames.csv, events and the report are per face; 1 follows one face, the one --face finds")
	withGaze := fs.Bool("gaze", true, "gaze columns (gaze_0_x..gaze_angle_y as OpenFace writes them: each eye's unit gaze vector in camera coordinates and the two angles in radians) from MediaPipe's iris model, written when it is installed; --gaze=false leaves them out")
	modelsDir := fs.String("models", "", "`DIR` folder of the pretrained models (default $TELL_MODELS, else ~/.local/share/tell/models)")
	neutral := fs.String("neutral", "", "`IMAGE` for a single image: the same person's neutral face, so that AUs are measured, not indicated")
	quiet := fs.Bool("quiet", false, "no progress bar, warnings and errors only")
	onset := fs.Int("onset", 0, "`N` the input holds one expression from frame N to --offset, as micro-expression datasets code their clips: spotting is skipped and the onset frame is the neutral reference; frame numbers as in frames.csv (a folder of numbered files by those numbers, other inputs from 1)")
	offset := fs.Int("offset", 0, "`N` the last frame of the --onset expression")
	apex := fs.String("apex", "", "`N|auto` the apex of the --onset expression; auto (the default) finds it inside the interval")
	logJSON := fs.Bool("log-json", false, "logs as JSON lines on stderr")
	profiling := fs.Bool("profile", false, "print the CPU time of each stage (setup, decode, detect, crop search, landmarks, pose, flow, AUs, appearance, face crops, spotting, scoring, writing) per frame and in all, with frames/s end to end; the outputs are the same")
	pos, err := cli.Parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return cli.Usagef("want one INPUT, got %d arguments", len(pos))
	}
	set := cli.Set(fs)
	// Unset means "the video's own rate" (a folder then needs its
	// fps.txt); a given rate must be plausible: the spotter sizes its
	// windows from it.
	if set["fps"] {
		if err := video.CheckFPS(*fps); err != nil {
			return cli.Usagef("--fps: %v", err)
		}
	}
	if *maxPixels <= 0 {
		return cli.Usagef("--max-pixels %d: want a positive number of pixels", *maxPixels)
	}
	if *maxFaces < 1 || *maxFaces > 64 {
		return cli.Usagef("--max-faces %d: want 1 to 64", *maxFaces)
	}
	interval, err := intervalFlags(set, *onset, *apex, *offset)
	if err != nil {
		return err
	}
	findMode, err := face.ParseFindMode(*faceMode)
	if err != nil {
		return cli.Usagef("--face: %v", err)
	}
	switch *reasoner {
	case "builtin":
	case "llm":
		if lf.URL == "" {
			return cli.Usagef("--reasoner llm needs --llm-url (or TELL_LLM_URL)")
		}
		if *modelPath != "" {
			return cli.Usagef("--reasoner llm and --model are alternatives")
		}
	default:
		return cli.Usagef("--reasoner %q: want builtin or llm", *reasoner)
	}
	level := slog.LevelInfo
	if *quiet {
		level = slog.LevelWarn
	}
	log := slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: level}))
	if *logJSON {
		log = slog.New(slog.NewJSONHandler(env.Stderr, &slog.HandlerOptions{Level: level}))
	}
	if *neutral != "" {
		if _, err := os.Stat(*neutral); err != nil {
			return cli.Usagef("--neutral: %v", err)
		}
	}
	lm, err := analyze.NewFaceLandmarkerMode(*model, findMode)
	if err != nil {
		return err
	}
	net, note, err := analyze.LoadAppearance(models.Root(*modelsDir), *appName)
	if err != nil {
		return err
	}
	if net == nil && *appName != "none" {
		fmt.Fprintf(env.Stderr, "tell analyze: appearance not used: %s\n", note)
	}
	opt := analyze.Options{Out: *out, Force: *force, FPS: *fps, Landmarker: lm, Log: log, MaxPixels: *maxPixels,
		Appearance: net, AppearanceNote: note, Neutral: *neutral, Interval: interval, MaxFaces: *maxFaces}
	if *maxFaces > 1 {
		faces, note, err := lm.Faces(models.Root(*modelsDir))
		if err != nil {
			return err
		}
		if faces == nil {
			fmt.Fprintf(env.Stderr, "tell analyze: %s\n", note)
		}
		opt.Faces = faces
	}
	if *withGaze {
		g, err := gaze.Load(models.Root(*modelsDir))
		switch {
		case errors.Is(err, models.ErrNotInstalled):
			fmt.Fprintf(env.Stderr, "tell analyze: no gaze columns: %v\n", err)
		case err != nil:
			return err
		default:
			opt.Gaze = g
		}
	}
	if *profiling {
		opt.Profile = profile.New()
		opt.Profile.Add(profile.Setup, profile.ProcessCPU()-cpu0, time.Since(start))
	}
	if *reasoner == "llm" {
		client, err := lf.Client("", log)
		if err != nil {
			return cli.Usagef("%v", err)
		}
		opt.Reasoner = llm.EventReasoner{R: lf.Reasoner(client, llm.Builtin{})}
		opt.Name = "llm:" + client.Model()
	}
	if *modelPath == "builtin" {
		mr, err := analyze.NewBuiltinModelReasoner(families())
		if err != nil {
			return err
		}
		opt.Reasoner, opt.Name = mr, "merclip:builtin"
	} else if *modelPath != "" {
		mr, err := analyze.NewModelReasoner(*modelPath, families(), *model, findMode)
		if err != nil {
			return err
		}
		opt.Reasoner, opt.Name = mr, mr.Model.Config.Model+":"+*modelPath
	}
	if bar := cli.NewBar(cli.ProgressOut(env, *quiet || *logJSON), "analyze", "frames"); bar != nil {
		opt.Progress = bar.Report
		defer bar.Finish()
	}
	res, err := analyze.Run(ctx, pos[0], opt)
	if errors.Is(err, video.ErrNoRate) {
		return cli.Usagef("%s is a folder of frames, which has no frame rate of its own: give --fps F (CASME II and SAMM: 200, SMIC HS: 100) or write F in %s",
			pos[0], filepath.Join(pos[0], video.RateFile))
	}
	var conflict *video.RateConflictError
	if errors.As(err, &conflict) {
		return cli.Usagef("--fps %v: %s: %s %.4g fps, and its own rate is used; leave --fps out", *fps, conflict.Path, conflict.What, conflict.Own)
	}
	if errors.Is(err, analyze.ErrNoSuchFrame) {
		return cli.Usagef("%v", err)
	}
	if res != nil && (err == nil || errors.Is(err, analyze.ErrPartial)) {
		status := ""
		if res.Status != analyze.StatusComplete {
			status = " (" + res.Status + ")"
		}
		what := cli.Plural(len(res.Events), "expression") + " spotted"
		if interval != nil {
			what = cli.Plural(len(res.Events), "interval") + " described"
		}
		fmt.Fprintf(env.Stdout, "%s (%d with a face), %s, %.1f frames/s; outputs in %s%s\n",
			cli.Plural(res.Frames, "frame"), res.Tracked, what, res.FramesPerSecond, *out, status)
		if *profiling {
			// The process's CPU time over the command, models' loading
			// and outputs' writing included.
			sum := profile.Summary{Frames: res.Frames, Wall: time.Since(start), ProcessCPU: profile.ProcessCPU() - cpu0}
			if err := opt.Profile.Write(env.Stdout, sum); err != nil {
				return err
			}
		}
	}
	if errors.Is(err, analyze.ErrNoFace) && findMode != face.FindFull {
		// Auto mode misses some faces cut by two edges of a tight crop
		// (docs/measured.md: faces filling 120–130% of the frame); a user who knows
		// the data are crops can say so.
		err = fmt.Errorf("%w; if the input is a face crop, --face full takes the whole frame as the face", err)
	}
	return err
}

// intervalFlags checks --onset, --apex and --offset (set names the flags
// given): none, or an onset and an offset with an optional apex (a frame
// number or auto). Frame 0 is a frame (a folder numbered from 0).
func intervalFlags(set map[string]bool, onset int, apex string, offset int) (*analyze.Interval, error) {
	if !set["onset"] && !set["offset"] && !set["apex"] {
		return nil, nil
	}
	if !set["onset"] || !set["offset"] {
		return nil, cli.Usagef("--onset and --offset go together (and --apex needs both)")
	}
	iv := &analyze.Interval{Onset: onset, Offset: offset}
	if apex != "" && apex != "auto" {
		n, err := strconv.Atoi(apex)
		if err != nil {
			return nil, cli.Usagef("--apex %q: want a frame number or auto", apex)
		}
		iv.Apex = n
	}
	if err := iv.Check(); err != nil {
		return nil, cli.Usagef("%v", err)
	}
	return iv, nil
}
