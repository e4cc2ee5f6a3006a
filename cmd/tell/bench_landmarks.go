package main

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/tell-project/tell/atomicfile"
	"github.com/tell-project/tell/eval"
	"github.com/tell-project/tell/face"
	"github.com/tell-project/tell/internal/cli"
	"github.com/tell-project/tell/raster"
	"github.com/tell-project/tell/video"
)

// landmarksBenchmark is `tell bench landmarks IMAGE [--box x,y,w,h]`, the
// counterpart of the bench folder's dlib_landmarks.cpp: same output lines,
// tell_landmark_us= instead of dlib_landmark_us=.
func landmarksBenchmark() cli.Command {
	return cli.Command{
		Name:    "landmarks",
		Summary: "68-point landmarks on one face box (vs dlib's C++ shape predictor)",
		Run:     runLandmarksBenchmark,
	}
}

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
		if box, err = parseBox(*boxFlag); err != nil {
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
		if err := writePGM(*grayOut, gray); err != nil {
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

// parseBox parses "x,y,w,h".
func parseBox(s string) (face.Rect, error) {
	f := strings.Split(s, ",")
	if len(f) != 4 {
		return face.Rect{}, fmt.Errorf("want x,y,w,h, got %q", s)
	}
	var v [4]int
	for i, p := range f {
		n, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil {
			return face.Rect{}, fmt.Errorf("%q: %w", s, err)
		}
		v[i] = n
	}
	if v[2] < 1 || v[3] < 1 {
		return face.Rect{}, fmt.Errorf("%q: width and height must be positive", s)
	}
	return face.Rect{X: v[0], Y: v[1], W: v[2], H: v[3]}, nil
}

// writePGM writes g as an 8-bit binary PGM, atomically.
func writePGM(path string, g *raster.Gray) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "P5\n%d %d\n255\n", g.W, g.H)
	b.Write(g.Image().Pix)
	return atomicfile.WriteFile(path, b.Bytes())
}
