package main

import (
	"context"
	"fmt"
	"math"

	"github.com/tell-project/tell/atomicfile"
	"github.com/tell-project/tell/eval"
	"github.com/tell-project/tell/face"
	"github.com/tell-project/tell/internal/cli"
	"github.com/tell-project/tell/raster"
	"github.com/tell-project/tell/video"
)

// runLandmarksBenchmark is `tell bench landmarks IMAGE [--box x,y,w,h]`, the
// counterpart of the bench folder's dlib_landmarks.cpp: same output lines,
// tell_landmark_us= instead of dlib_landmark_us=.
func runLandmarksBenchmark(ctx context.Context, env *cli.Env, args []string) error {
	fs := cli.NewFlagSet("bench landmarks")
	boxFlag := fs.String("box", "", "face box x,y,w,h in pixels (default: the face.Finder's box, face crops included)")
	grayOut := fs.String("gray", "", "also write the grey image the landmarks run on as a binary PGM (to compare decoders with dlib's)")
	model := fs.String("landmarks", "", "dlib shape predictor .dat (default: $TELL_MODELS, then "+face.DefaultModelPath+")")
	n := fs.Int("n", 2000, "timed runs")
	pos, err := cli.Parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return cli.Usagef("want one IMAGE argument, got %d", len(pos))
	}
	if *n < 1 {
		return cli.Usagef("--n must be at least 1")
	}
	var box face.Rect
	if *boxFlag != "" {
		if box, err = face.ParseRect(*boxFlag); err != nil {
			return cli.Usagef("--box: %v", err)
		}
	}
	path, err := face.ResolveModelPath(*model)
	if err != nil {
		return err
	}
	pred, err := face.LoadPredictor(path)
	if err != nil {
		return err
	}
	img, err := video.ReadImage(pos[0])
	if err != nil {
		return err
	}
	gray := raster.FromImage(img) // dlib's grey conversion

	if *boxFlag == "" {
		det, err := face.NewDetector()
		if err != nil {
			return err
		}
		found, ok := face.NewFinder(det, pred, face.FindAuto).Find(gray)
		if !ok {
			return fmt.Errorf("no face found in %s; give --box", pos[0])
		}
		box = found.Box
	}
	if *grayOut != "" {
		if err := atomicfile.Write(*grayOut, gray.WritePGM); err != nil {
			return err
		}
	}
	w := env.Stdout
	fmt.Fprintf(w, "box %d %d %d %d\n", box.X, box.Y, box.W, box.H)
	s, us, cpu, err := eval.LandmarksCPU(ctx, pred, gray, box, *n)
	if err != nil {
		return err
	}
	for i, p := range s {
		fmt.Fprintf(w, "%d %d %d\n", i, int(math.Floor(p.X+0.5)), int(math.Floor(p.Y+0.5)))
	}
	fmt.Fprintf(w, "tell_landmark_us=%.1f\n", us)
	fmt.Fprintf(w, "tell_landmark_cpu_us=%.1f\n", cpu)
	return nil
}
