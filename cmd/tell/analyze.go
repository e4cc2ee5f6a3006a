package main

// This file holds tell analyze and tell view, which shows an analysis.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/tell-project/tell/analyze"
	"github.com/tell-project/tell/internal/cli"
	"github.com/tell-project/tell/llm"
	"github.com/tell-project/tell/models"
	"github.com/tell-project/tell/profile"
	"github.com/tell-project/tell/video"
	"github.com/tell-project/tell/viewer"
)

func runAnalyze(ctx context.Context, env *cli.Env, args []string) error {
	start, cpu0 := time.Now(), profile.ProcessCPU()
	fs := cli.NewFlagSet("analyze")
	var st analyze.Settings
	fs.StringVar(&st.Out, "out", "analysis", "`DIR` output folder (default analysis)")
	fs.BoolVar(&st.Force, "force", false, "replace a finished analysis in DIR")
	fs.Float64Var(&st.FPS, "fps", 0, "`F` frame rate of a folder of frames, 1 to 1000 (CASME II and SAMM: 200, SMIC HS: 100). A folder has no rate of its own: without --fps it needs a file fps.txt holding its rate, else it is refused. A video's or GIF's own rate is used; a different --fps is an error")
	fs.StringVar(&st.Landmarks, "landmarks", "", "`PATH` dlib 68-point model (default: Debian's libdlib-data)")
	fs.StringVar(&st.Reasoner, "reasoner", "builtin", "`NAME` builtin (the Exp-CoT engine over the measured AUs; default) or llm: a vision LLM (--llm-url, --llm-model) sees each event's onset and apex faces, the flow between them and the measured AUs; an answer that names an AU not measured, a label outside the classes or a conclusion against its own observations is replaced by the built-in one, the reason kept in cot.verification")
	lf := llm.AddFlags(fs, os.Getenv)
	fs.StringVar(&st.Model, "model", "", "`PATH` label events with a MER-CLIP flow model trained by tell train (RUN/model.safetensors): its probabilities join the event scorer and its classes are the labels. --model builtin uses the small model tell ships (trained on synthetic clips only)")
	fs.IntVar(&st.MaxPixels, "max-pixels", video.DefaultMaxPixels, "`N` refuse images and video frames larger than N pixels before decoding them (default 50000000)")
	fs.StringVar(&st.Face, "face", "auto", "`MODE` how the face is found: auto (default) scans, rescans the image padded on every side, and for a face crop (the face fills or overflows the frame) fits the face in the whole frame, kept only when the detector confirms it; detect never assumes a crop; full takes every frame as a face crop. A face found in a crop is noted in events.json and the report; frames.csv's confidence is then the detector's check of the fitted face")
	fs.StringVar(&st.Appearance, "appearance", "faceapi", "`NAME` faceapi (default), human or none")
	fs.IntVar(&st.MaxFaces, "max-faces", analyze.DefaultMaxFaces, "`N` follow at most N faces at a time (default 8): BlazeFace (human-models, installed with the appearance models) finds them, each keeps its face_id through short occlusions and crossings, and frames.csv, events and the report are per face; 1 follows one face, the one --face finds")
	fs.BoolVar(&st.Gaze, "gaze", true, "gaze columns (gaze_0_x..gaze_angle_y as OpenFace writes them: each eye's unit gaze vector in camera coordinates and the two angles in radians) from MediaPipe's iris model, written when it is installed; --gaze=false leaves them out")
	models.DirVar(fs, &st.Models)
	fs.StringVar(&st.Neutral, "neutral", "", "`IMAGE` for a single image: the same person's neutral face, so that AUs are measured, not indicated")
	lg := cli.AddLogFlags(fs, true)
	fs.IntVar(&st.Onset, "onset", 0, "`N` the input holds one expression from frame N to --offset, as micro-expression datasets code their clips: spotting is skipped and the onset frame is the neutral reference; frame numbers as in frames.csv (a folder of numbered files by those numbers, other inputs from 1)")
	fs.IntVar(&st.Offset, "offset", 0, "`N` the last frame of the --onset expression")
	fs.StringVar(&st.Apex, "apex", "", "`N|auto` the apex of the --onset expression; auto (the default) finds it inside the interval")
	profiling := fs.Bool("profile", false, "print the CPU time of each stage (setup, decode, detect, crop search, landmarks, pose, flow, AUs, appearance, face crops, spotting, scoring, writing) per frame and in all, with frames/s end to end; the outputs are the same")
	pos, err := cli.Parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return cli.Usagef("want one INPUT, got %d arguments", len(pos))
	}
	st.Given = cli.Set(fs)
	if st.Reasoner == "llm" && lf.URL == "" {
		return cli.Usagef("--reasoner llm needs --llm-url (or TELL_LLM_URL)")
	}
	if err := st.Validate(); err != nil {
		return cli.Usagef("%v", err)
	}
	log := lg.Logger(env)
	// The LLM's flags are checked before anything loads or starts.
	var client *llm.Client
	if st.Reasoner == "llm" {
		if client, err = lf.Client("", log); err != nil {
			return cli.Usagef("%v", err)
		}
	}
	var prof *profile.Profile
	if *profiling {
		prof = profile.New()
	}
	// The models load while the input's decoder starts.
	opt, src, err := st.Start(ctx, pos[0], families(), func(msg string) { fmt.Fprintf(env.Stderr, "tell analyze: %s\n", msg) }, prof)
	var res *analyze.Result
	if err == nil {
		defer src.Close()
		opt.Log = log
		if prof != nil {
			prof.Add(profile.Setup, profile.ProcessCPU()-cpu0, time.Since(start))
		}
		if client != nil {
			opt.Reasoner = llm.EventReasoner{R: lf.Reasoner(client, llm.Builtin{})}
			opt.Name = "llm:" + client.Model()
		}
		if bar := cli.NewBar(cli.ProgressOut(env, lg.Quiet || lg.JSON), "analyze", "frames"); bar != nil {
			opt.Progress = bar.Report
			defer bar.Finish()
		}
		res, err = analyze.RunSource(ctx, src, pos[0], opt)
	}
	if errors.Is(err, video.ErrNoRate) {
		return cli.Usagef("%s is a folder of frames, which has no frame rate of its own: give --fps F (CASME II and SAMM: 200, SMIC HS: 100) or write F in %s",
			pos[0], filepath.Join(pos[0], video.RateFile))
	}
	var conflict *video.RateConflictError
	if errors.As(err, &conflict) {
		return cli.Usagef("--fps %v: %s: %s %.4g fps, and its own rate is used; leave --fps out", st.FPS, conflict.Path, conflict.What, conflict.Own)
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
		if opt.Interval != nil {
			what = cli.Plural(len(res.Events), "interval") + " described"
		}
		fmt.Fprintf(env.Stdout, "%s (%d with a face), %s, %.1f frames/s; outputs in %s%s\n",
			cli.Plural(res.Frames, "frame"), res.Tracked, what, res.FramesPerSecond, st.Out, status)
		if *profiling {
			// The process's CPU time over the command, models' loading
			// and outputs' writing included.
			sum := profile.Summary{Frames: res.Frames, Wall: time.Since(start), ProcessCPU: profile.ProcessCPU() - cpu0}
			if err := opt.Profile.Write(env.Stdout, sum); err != nil {
				return err
			}
		}
	}
	if errors.Is(err, analyze.ErrNoFace) && st.Face != "full" {
		// Auto mode misses some faces cut by two edges of a tight crop
		// (docs/measured.md: faces filling 120–130% of the frame); a user who knows
		// the data are crops can say so.
		err = fmt.Errorf("%w; if the input is a face crop, --face full takes the whole frame as the face", err)
	}
	return err
}

func runView(ctx context.Context, env *cli.Env, args []string) error {
	fs := cli.NewFlagSet("view")
	addr := fs.String("addr", "127.0.0.1:8390", "`HOST:PORT` where to listen (default 127.0.0.1:8390; port 0 picks a free one)")
	pos, err := cli.Parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return cli.Usagef("want one RUN folder, got %d arguments", len(pos))
	}
	return viewer.Serve(ctx, pos[0], *addr, func(a net.Addr) {
		fmt.Fprintf(env.Stdout, "viewer of %s at http://%s/ (Ctrl-C to stop)\n", pos[0], a)
	})
}
